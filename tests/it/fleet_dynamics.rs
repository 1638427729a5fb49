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
    assert_eq!((window(&clear).succeeded, window(&clear).undeliverable), (5, 0));
    // With az-a cut from the SSM endpoint 14:00-16:00, nothing is delivered before the
    // 15:10 deadline.
    let cut = run_text(&scenario_text(5, 1_000.0, 100, "10", PARTITION_SSM, ""));
    assert_eq!((window(&cut).succeeded, window(&cut).undeliverable), (0, 5));
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
    assert!(row.undeliverable >= 10, "{row:?}");
    assert_eq!(row.succeeded + row.undeliverable, 20);

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
