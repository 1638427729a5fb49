//! Fleet dynamics: partitions, repository capacity and instance faults have their effect,
//! and the run stays deterministic with them on. Each fault test also runs without the
//! fault, so it would fail if the fault were inert.

use patchfleet::run::{RunResult, run};
use patchfleet::scenario::load;
use patchfleet::sim::ExecutionRecord;

/// `count` instances in `az-a`, each missing one approved 40 MB patch (install 1 minute, no
/// overhead, no reboot time), a repository of `bandwidth` Mbit/s and `connections`, and one
/// window at 15:00 on 2025-03-03 installing with `concurrency`.
fn scenario_text(
    count: u32,
    bandwidth: f64,
    connections: u32,
    concurrency: &str,
    extra: &str,
    group_extra: &str,
) -> String {
    format!(
        r#"
[scenario]
name = "dynamics"
start = 2025-03-03T00:00:00Z
horizon = "1d"
seed = 11
sample_interval = "15m"

[agent]
install_overhead = "0s"
reboot_duration = "0s"
download_mbps = 100.0

[[location]]
name = "az-a"

[[location]]
name = "az-b"

[[repository]]
name = "mirror"
serves = ["AMAZON_LINUX_2023"]
bandwidth_mbps = {bandwidth}
max_connections = {connections}

[[catalog]]
os = "AMAZON_LINUX_2023"
products = ["AmazonLinux2023"]
packages = 0
[[catalog.patch]]
id = "ALAS-1"
package = "openssl"
classification = "Security"
severity = "Critical"
released = 2025-02-01T00:00:00Z
download_mb = 40.0
install_duration = "1m"

[[profile]]
name = "p"
os = "AMAZON_LINUX_2023"
packages = ["openssl"]

[[instance_group]]
name = "a"
count = {count}
profile = "p"
tags = {{ Group = "a" }}
initial_lag = "60d"
location = "az-a"
{group_extra}

[default_baselines]
AMAZON_LINUX_2023 = "AWS-AmazonLinux2023DefaultPatchBaseline"

[[maintenance_window]]
name = "install"
schedule = "at(2025-03-03T15:00:00)"
duration_hours = 4
cutoff_hours = 1
targets = ["tag:Group=a"]
[[maintenance_window.task]]
name = "install"
operation = "Install"
reboot_option = "NoReboot"
max_concurrency = "{concurrency}"
max_errors = "100%"
timeout_seconds = 600
{extra}
"#
    )
}

fn run_text(text: &str) -> RunResult {
    let scenario = load("dynamics.toml", text).unwrap_or_else(|d| panic!("{d}\n{text}"));
    run(&scenario, scenario.seed, |_, _| {}).expect("runs")
}

fn window(result: &RunResult) -> &ExecutionRecord {
    result.window_records.iter().find(|r| r.window == "install").unwrap()
}

const PARTITION_SSM: &str =
    "[[partition]]\nstart = 2025-03-03T14:00:00Z\nduration = \"2h\"\nlocations = [\"az-a\"]\ndestinations = [\"ssm\"]";

#[test]
fn during_a_partition_no_command_reaches_the_cut_off_instances() {
    // Without the partition, all five install.
    let clear = run_text(&scenario_text(5, 1_000.0, 100, "10", "", ""));
    assert_eq!((window(&clear).succeeded, window(&clear).delivery_timed_out), (5, 0));
    // With az-a cut from the SSM endpoint 14:00-16:00, nothing is delivered before the
    // 15:10 deadline.
    let cut = run_text(&scenario_text(5, 1_000.0, 100, "10", PARTITION_SSM, ""));
    assert_eq!((window(&cut).succeeded, window(&cut).delivery_timed_out), (0, 5));
    assert_eq!(window(&cut).delivery_agent_unreachable, 5, "the partition is the cause");
    assert!(cut.world.instances.report.iter().all(Option::is_none));
    // ConnectionLost appears after three missed pings (15 minutes) and goes with the cut.
    let lost = |time: &str| cut.samples.iter().find(|(t, _)| t.to_rfc3339() == time).unwrap().1[0].connection_lost;
    assert_eq!((lost("2025-03-03T14:00:00Z"), lost("2025-03-03T14:15:00Z"), lost("2025-03-03T16:00:00Z")), (0, 5, 0));
}

#[test]
fn no_download_crosses_a_cut_to_the_repository() {
    // 10 Mbit/s for five 40 MB downloads at once: 160 s each under sharing... the cut at
    // 15:01 comes first, so every install fails and nothing is installed.
    let partition = "[[partition]]\nstart = 2025-03-03T15:01:00Z\nduration = \"1h\"\nlocations = [\"az-a\"]\ndestinations = [\"mirror\"]";
    let clear = run_text(&scenario_text(5, 10.0, 100, "10", "", ""));
    assert_eq!(window(&clear).succeeded, 5);
    let cut = run_text(&scenario_text(5, 10.0, 100, "10", partition, ""));
    assert_eq!((window(&cut).succeeded, window(&cut).failed), (0, 5));
    for report in cut.world.instances.report.iter().flatten() {
        assert_eq!((report.counts.failed, report.counts.installed_pending_reboot), (1, 0));
    }
    // A download requested while the link is down fails at once too.
    let before = "[[partition]]\nstart = 2025-03-03T14:00:00Z\nduration = \"2h\"\nlocations = [\"az-a\"]\ndestinations = [\"mirror\"]";
    let cut = run_text(&scenario_text(5, 10.0, 100, "10", before, ""));
    assert_eq!((window(&cut).failed, window(&cut).end.as_str()), (5, "2025-03-03T15:00:00Z"));
}

#[test]
fn a_stampede_shares_the_repository_and_never_exceeds_its_caps() {
    // 40 instances, all at once, 40 MB each on 80 Mbit/s with 10 connections: 10 at a time
    // at 8 Mbit/s, 40 s per download, four rounds: the last download ends at 15:02:40 and
    // its install a minute later. Latency from request: 40, 80, 120 and 160 s.
    let result = run_text(&scenario_text(40, 80.0, 10, "40", "", ""));
    let row = window(&result);
    assert_eq!(row.succeeded, 40);
    assert_eq!(row.end, "2025-03-03T15:03:40Z");
    assert_eq!(result.repository_peaks[0], (10, 30));
    let latency = &result.download_latency[0];
    assert_eq!((latency.len(), latency.min(), latency.max()), (40, 40, 160));
    for sample in &result.repository_samples {
        assert!(sample.active_downloads <= 10 && sample.throughput_mbps <= 80.0 + 1e-6, "{sample:?}");
    }
    // Without contention (one at a time) each download takes 40 MB / 80 Mbit/s = 4 s.
    let calm = run_text(&scenario_text(3, 80.0, 10, "1", "", ""));
    assert_eq!(calm.download_latency[0].max(), 4);
}

#[test]
fn agent_crashes_delay_delivery_and_failed_reboots_take_instances_down() {
    // Every command finds the agent crashed; restarts take a mean of one hour, longer than
    // the 10-minute delivery timeout, so most commands time out.
    let crash = "agent_crash_probability = 1.0\nagent_restart = \"1h\"";
    let result = run_text(&scenario_text(20, 1_000.0, 100, "20", "", crash));
    let row = window(&result);
    assert!(row.delivery_timed_out >= 10, "{row:?}");
    assert_eq!(row.succeeded + row.delivery_timed_out, 20);
    assert_eq!(row.delivery_agent_down, row.delivery_timed_out, "the crashed agents are the cause");

    // Failed reboots: the install fails, the instance is unreachable for four hours.
    let reboot = r#"reboot_failure_probability = 1.0
reboot_recovery = "4h""#;
    let text = scenario_text(3, 1_000.0, 100, "3", "", reboot)
        .replace("reboot_option = \"NoReboot\"", "reboot_option = \"RebootIfNeeded\"");
    let result = run_text(&text);
    assert_eq!(window(&result).failed, 3);
    let lost = |time: &str| result.samples.iter().find(|(t, _)| t.to_rfc3339() == time).unwrap().1[0].connection_lost;
    assert_eq!((lost("2025-03-03T15:30:00Z"), lost("2025-03-03T19:30:00Z")), (3, 0));
    // Without the fault, the same reboots succeed.
    let text = scenario_text(3, 1_000.0, 100, "3", "", "")
        .replace("reboot_option = \"NoReboot\"", "reboot_option = \"RebootIfNeeded\"");
    assert_eq!(window(&run_text(&text)).succeeded, 3);
}

#[test]
fn random_link_failures_are_deterministic_and_reduce_what_gets_done() {
    let flaky = |text: String| {
        text.replace(
            "[[location]]\nname = \"az-a\"",
            "[[location]]\nname = \"az-a\"\nlink_mtbf = \"2h\"\nlink_mttr = \"1h\"",
        )
    };
    // Two at a time for 200 instances keeps the window busy for about 1h40m, long enough
    // for links failing every 2 hours on average to get in the way.
    let text = flaky(scenario_text(200, 1_000.0, 50, "2", "", ""));
    let first = run_text(&text);
    let second = run_text(&text);
    assert_eq!(format!("{:?}", first.window_records), format!("{:?}", second.window_records));
    assert_eq!(format!("{:?}", first.samples), format!("{:?}", second.samples));
    let clear = run_text(&scenario_text(200, 1_000.0, 50, "2", "", ""));
    assert!(window(&first).succeeded < window(&clear).succeeded, "{:?}", window(&first));
    assert!(first.link_downtime.iter().any(|(_, _, down)| down.0 > 0));
}

/// An Auto Scaling group of Amazon Linux instances launched from `image`, with patches
/// released every day from 2025-01-01, a 7-day baseline, and a daily scan.
fn asg_text(asg: &str, image: &str, horizon: &str) -> String {
    format!(
        r#"
[scenario]
name = "asg"
start = 2025-03-03T00:00:00Z
horizon = "{horizon}"
seed = 21
sample_interval = "1h"

[[catalog]]
os = "AMAZON_LINUX_2023"
products = ["AmazonLinux2023"]
packages = 50
core_packages = 50
[catalog.generator]
backlog = "61d"
id_prefix = "ALAS-"
[[catalog.generator.stream]]
classification = "Security"
severity = "Important"
schedule = "cron(0 12 * * ? *)"
per_release = 1.0

[[profile]]
name = "p"
os = "AMAZON_LINUX_2023"

[[baseline]]
name = "seven-days"
os = "AMAZON_LINUX_2023"
[[baseline.rule]]
filters = {{ CLASSIFICATION = ["Security"] }}
approve_after_days = 7
compliance_level = "HIGH"

[default_baselines]
AMAZON_LINUX_2023 = "seven-days"

{image}

[[auto_scaling_group]]
name = "web"
profile = "p"
image = "golden"
tags = {{ Role = "web" }}
{asg}

[[association]]
name = "scan"
schedule = "cron(0 1 * * ? *)"
targets = ["*"]
"#
    )
}

const PLAIN_IMAGE: &str = "[[image]]\nname = \"golden\"\nbaked = 2025-02-01T00:00:00Z";

#[test]
fn an_auto_scaling_group_stays_within_its_bounds_through_demand_lifetimes_and_actions() {
    let asg = "min = 10\nmax = 40\ndesired = 20\nlifetime = \"12h\"\ndemand_amplitude = 0.5\ndemand_peak_hour = 15\n\
               [[auto_scaling_group.scheduled_action]]\nschedule = \"cron(0 8 ? * MON-FRI *)\"\ndesired = 30\n\
               [[auto_scaling_group.scheduled_action]]\nschedule = \"cron(0 20 ? * * *)\"\ndesired = 12";
    let result = run_text(&asg_text(asg, PLAIN_IMAGE, "5d"));
    assert!(!result.asg_samples.is_empty());
    for sample in &result.asg_samples {
        assert!((sample.min..=sample.max).contains(&sample.running), "{sample:?}");
        assert_eq!(sample.running, sample.desired, "{sample:?}");
    }
    let desired: std::collections::BTreeSet<u32> = result.asg_samples.iter().map(|s| s.desired).collect();
    assert!(desired.len() > 5, "demand and actions move the capacity: {desired:?}");
    let last = result.asg_samples.last().unwrap();
    assert!(last.terminated_total > 0 && last.launched_total > last.running as u64, "{last:?}");
    // Terminated instances have left the counts: the fleet is the group's running members.
    let fleet = result.samples.last().unwrap().1[0].instances;
    assert_eq!(fleet, last.running as u64);
}

#[test]
fn a_launched_instance_carries_exactly_its_images_patch_level() {
    // A plain image baked 2025-02-01: every patch released by then, nothing after.
    let result = run_text(&asg_text("min = 3\nmax = 3\ndesired = 3", PLAIN_IMAGE, "1d"));
    let catalog = &result.world.catalogs[0];
    let baked = patchfleet::time::SimTime(patchfleet::schedule::parse_instant("2025-02-01T00:00:00Z").unwrap());
    for instance in 0..3 {
        let installed = &result.world.instances.installed[instance];
        for (p, patch) in catalog.patches.iter().enumerate() {
            assert_eq!(installed.contains(p), patch.released <= baked, "{}", patch.id);
        }
    }
}

#[test]
fn a_pipeline_and_instance_refresh_replace_old_instances_with_patched_ones() {
    // The pipeline bakes weekly from 2025-02-24 with the 7-day baseline: the version of
    // 2025-03-03 (the start) already exists, the next comes 2025-03-10. The group refreshes
    // 25% at a time (min healthy 75%), one batch per 10-minute warm-up.
    let image =
        "[[image]]\nname = \"golden\"\nbaked = 2025-02-24T00:00:00Z\nrebake_every = \"7d\"\nbaseline = \"seven-days\"";
    let asg = "min = 8\nmax = 8\ndesired = 8\nrefresh_min_healthy_percentage = 75\nrefresh_warmup = \"10m\"";
    let result = run_text(&asg_text(asg, image, "8d"));
    let at = |time: &str| result.asg_samples.iter().find(|s| s.time == time).unwrap().clone();
    let before = at("2025-03-09T23:00:00Z");
    assert_eq!((before.newest_image_version, before.running_on_newest_image), (1, 8));
    // 00:00 on 03-10: version 2 is baked; batches of 2 at 00:00, 00:10, 00:20, 00:30.
    let during = at("2025-03-10T00:00:00Z");
    assert_eq!(during.running, 8);
    let after = at("2025-03-10T01:00:00Z");
    assert_eq!((after.newest_image_version, after.running_on_newest_image, after.running), (2, 8, 8));
    assert_eq!(after.launched_total, 16);
    // Refreshed instances carry what the baseline approved by 03-10: patches released by
    // 03-03 12:00 (approved 7 days later) and everything on the base image.
    let catalog = &result.world.catalogs[0];
    let newest = *result.world.groups[0].members.last().unwrap() as usize;
    let missing = catalog
        .patches
        .iter()
        .enumerate()
        .filter(|(p, patch)| {
            patch.released.to_rfc3339().as_str() <= "2025-03-02T12:00:00Z"
                && !result.world.instances.installed[newest].contains(*p)
        })
        .count();
    assert_eq!(missing, 0);
}

#[test]
fn churn_and_partitions_keep_runs_deterministic() {
    let asg = "min = 10\nmax = 60\ndesired = 30\nlifetime = \"6h\"\ndemand_amplitude = 0.4";
    let text = asg_text(asg, PLAIN_IMAGE, "4d")
        .replace("[[catalog]]", "[[location]]\nname = \"az-a\"\nlink_mtbf = \"8h\"\nlink_mttr = \"1h\"\n\n[[catalog]]")
        .replace("tags = { Role = \"web\" }", "tags = { Role = \"web\" }\nlocation = \"az-a\"");
    let first = run_text(&text);
    let second = run_text(&text);
    assert_eq!(format!("{:?}", first.asg_samples), format!("{:?}", second.asg_samples));
    assert_eq!(format!("{:?}", first.samples), format!("{:?}", second.samples));
    assert!(first.asg_samples.last().unwrap().terminated_total > 0);
}

#[test]
fn an_alarm_on_non_compliance_remediates_outside_any_window() {
    // No window at all: only the 01:00 daily scan. The alarm watches `non_compliant` of
    // patch group `web`: above 5 for three 15-minute periods in a row. The scan at 01:00
    // reports 20. The alarm's evaluation at 01:00 comes after the scan (it was scheduled
    // later, at 00:45, and same-instant events run in scheduling order), so it sees 20 at
    // 01:00, 01:15 and 01:30, fires at 01:30, and the Install starts 2 minutes later.
    let text = format!(
        r#"
[scenario]
name = "alarm"
start = 2025-03-03T00:00:00Z
horizon = "2d"
seed = 4

[[catalog]]
os = "AMAZON_LINUX_2023"
products = ["AmazonLinux2023"]
packages = 0
[[catalog.patch]]
id = "ALAS-1"
package = "openssl"
classification = "Security"
severity = "Critical"
released = 2025-02-01T00:00:00Z

[[profile]]
name = "p"
os = "AMAZON_LINUX_2023"
packages = ["openssl"]

[[instance_group]]
name = "web"
count = 20
profile = "p"
tags = {{ "Patch Group" = "web" }}
initial_lag = "60d"

[default_baselines]
AMAZON_LINUX_2023 = "AWS-AmazonLinux2023DefaultPatchBaseline"

[[association]]
name = "scan"
schedule = "cron(0 1 * * ? *)"
targets = ["*"]
wait_for_first_interval = true
{alarm}
"#,
        alarm = "[[alarm]]\nname = \"web-noncompliant\"\npatch_group = \"web\"\nmetric = \"non_compliant\"\nthreshold = 5\nperiod = \"15m\"\nevaluation_periods = 3\n[alarm.remediation]\nmax_concurrency = \"50%\"\nmax_errors = \"10%\""
    );
    let with_alarm = run_text(&text);
    let state = with_alarm.alarms[0];
    assert_eq!((state.fired, state.remediations, state.remediated_instances), (1, 1, 20));
    assert_eq!(state.patches_installed, 20, "one exposure closed per instance");
    let row = &with_alarm.remediation_records[0];
    assert_eq!((row.scheduled_start.as_str(), row.succeeded), ("2025-03-03T01:32:00Z", 20));
    // The next scan reports everyone compliant; the alarm went back to OK and stayed.
    let last = with_alarm.samples.last().unwrap().1[0];
    assert_eq!((last.compliant, last.true_compliant), (20, 20));
    assert!(!with_alarm.alarms[0].in_alarm);
    // Without the alarm, nothing installs the patch: all pairs stay open.
    let index = text.find("[[alarm]]").unwrap();
    let without = run_text(&text[..index]);
    assert_eq!(without.exposed_at_end[0], 20);
    assert_eq!(with_alarm.exposed_at_end[0], 0);
}
