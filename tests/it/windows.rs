//! Maintenance windows as AWS runs them: W1 to W6 of section 11.2, rate control, the
//! account's cap on concurrent executions, targets, associations, and invocation accounting.
//!
//! The fixture: instances of Amazon Linux 2023 in groups `a` and `b`, each missing one
//! approved patch whose install takes `install` (no overhead, no download, no reboot time),
//! so an Install invocation lasts exactly that long. Windows are added per test.

use patchfleet::run::{RunResult, run};
use patchfleet::scenario::load;
use patchfleet::sim::ExecutionRecord;

struct Fleet {
    a: u32,
    b: u32,
    install: &'static str,
    fail_a: f64,
    /// Appended to group a's table, and to group b's.
    extra_a: &'static str,
    extra_b: &'static str,
    /// More `[[instance_group]]` tables.
    more_groups: &'static str,
}

fn fleet(a: u32, b: u32, install: &'static str) -> Fleet {
    Fleet { a, b, install, fail_a: 0.0, extra_a: "", extra_b: "", more_groups: "" }
}

fn scenario_text(fleet: &Fleet, windows: &str) -> String {
    format!(
        r#"
[scenario]
name = "windows"
start = 2025-03-03T00:00:00Z
horizon = "2d"
seed = 5

[agent]
scan_duration = "1m"
install_overhead = "0s"
reboot_duration = "0s"
download_mbps = 100.0

[account]
max_concurrent_executions = 2

[[resource_group]]
name = "group-b"
tags = {{ Group = ["b"] }}

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
download_mb = 0.0
install_duration = "{install}"

[[profile]]
name = "p"
os = "AMAZON_LINUX_2023"
packages = ["openssl"]

[[instance_group]]
name = "a"
count = {a}
profile = "p"
tags = {{ Group = "a" }}
initial_lag = "60d"
install_failure_probability = {fail_a}
{extra_a}

[[instance_group]]
name = "b"
count = {b}
profile = "p"
tags = {{ Group = "b" }}
initial_lag = "60d"
{extra_b}
{more_groups}

[default_baselines]
AMAZON_LINUX_2023 = "AWS-AmazonLinux2023DefaultPatchBaseline"
{windows}
"#,
        a = fleet.a,
        b = fleet.b,
        install = fleet.install,
        fail_a = fleet.fail_a,
        extra_a = fleet.extra_a,
        extra_b = fleet.extra_b,
        more_groups = fleet.more_groups,
    )
}

fn run_fleet(fleet: &Fleet, windows: &str) -> RunResult {
    let text = scenario_text(fleet, windows);
    let scenario = load("windows.toml", &text).unwrap_or_else(|d| panic!("{d}\n{text}"));
    run(&scenario, scenario.seed, |_, _| {}).expect("runs")
}

/// A window at 15:00 on 2025-03-03 for `duration` hours with `cutoff`, and its tasks.
fn window(name: &str, schedule: &str, duration: u32, cutoff: u32, targets: &str, tasks: &str) -> String {
    format!(
        "\n[[maintenance_window]]\nname = \"mw-{name}\"\nschedule = \"{schedule}\"\nduration_hours = {duration}\ncutoff_hours = {cutoff}\ntargets = [{targets}]\n{tasks}"
    )
}

fn task(name: &str, priority: u32, operation: &str, concurrency: &str, errors: &str, extra: &str) -> String {
    format!(
        "[[maintenance_window.task]]\nname = \"{name}\"\npriority = {priority}\noperation = \"{operation}\"\nreboot_option = \"NoReboot\"\nmax_concurrency = \"{concurrency}\"\nmax_errors = \"{errors}\"\n{extra}\n"
    )
}

fn rows<'r>(result: &'r RunResult, window: &str) -> Vec<&'r ExecutionRecord> {
    result.window_records.iter().filter(|r| r.window == format!("mw-{window}")).collect()
}

fn accounted(row: &ExecutionRecord) -> u64 {
    row.succeeded
        + row.failed
        + row.delivery_timed_out
        + row.timed_out
        + row.undeliverable
        + row.cancelled
        + row.skipped
}

const AT_15: &str = "at(2025-03-03T15:00:00)";
const ALL_A: &str = "\"tag:Group=a\"";

#[test]
fn w1_no_task_starts_after_the_cutoff_and_started_work_runs_past_the_end() {
    // Two instances, one at a time, 1h59m each: the second starts at 16:59 and runs until
    // 18:58, past the 18:00 end. The p1 scan would start at 18:58, after the 17:00 cutoff.
    let tasks = task("install", 0, "Install", "1", "0", "") + &task("scan", 1, "Scan", "1", "0", "");
    let result = run_fleet(&fleet(2, 0, "1h59m"), &window("w1", AT_15, 3, 1, ALL_A, &tasks));
    let row = rows(&result, "w1")[0];
    assert_eq!(row.end, "2025-03-03T18:58:00Z");
    assert_eq!((row.targets, row.succeeded, row.skipped), (4, 2, 2), "the p1 task never started");
    assert_eq!(row.status, "TIMED_OUT");
    assert_eq!(accounted(row), row.targets);
    assert!((row.utilisation - 3.967 / 3.0).abs() < 0.001, "{}", row.utilisation);
    // Both installs completed, including the one running past the end.
    let report = result.world.instances.report[1].unwrap();
    assert_eq!(report.counts.installed_pending_reboot, 1);
}

#[test]
fn w2_cancel_task_cancels_running_invocations_at_the_cutoff() {
    let tasks = task("install", 0, "Install", "1", "0", "cutoff_behavior = \"CANCEL_TASK\"");
    let result = run_fleet(&fleet(3, 0, "1h59m"), &window("w2", AT_15, 3, 1, ALL_A, &tasks));
    let row = rows(&result, "w2")[0];
    // The first install ends 16:59; the second, started 16:59, is cancelled at 17:00; the
    // third never starts.
    assert_eq!((row.succeeded, row.timed_out, row.skipped), (1, 1, 1));
    assert_eq!(row.status, "TIMED_OUT");
    assert_eq!(row.end, "2025-03-03T17:00:00Z");
    assert_eq!(accounted(row), row.targets);
    // The cancelled install never took effect.
    assert!(result.world.instances.report[1].is_none());
    assert!(result.world.instances.report[0].is_some());
}

#[test]
fn w3_a_priority_level_starts_when_every_task_before_it_is_final_whatever_its_outcome() {
    // A (p0) fails on group a after 10 minutes; B (p0) succeeds on group b after 10
    // minutes too, started together; C (p1) scans both afterwards.
    let mut f = fleet(1, 1, "10m");
    f.fail_a = 1.0;
    let tasks = task("A", 0, "Install", "1", "0", "targets = [\"tag:Group=a\"]")
        + &task("B", 0, "Install", "1", "0", "targets = [\"tag:Group=b\"]")
        + &task("C", 1, "Scan", "2", "0", "");
    let result = run_fleet(&f, &window("w3", AT_15, 3, 1, "\"tag-key=Group\"", &tasks));
    let row = rows(&result, "w3")[0];
    assert_eq!(row.status, "FAILED");
    assert_eq!((row.targets, row.succeeded, row.failed), (4, 3, 1));
    // C scanned both instances at 15:10, when A and B were both final.
    for instance in 0..2 {
        let report = result.world.instances.report[instance].unwrap();
        assert_eq!(report.operation, patchfleet::compliance::Operation::Scan);
        assert_eq!(report.start.to_rfc3339(), "2025-03-03T15:10:00Z");
    }
}

#[test]
fn w4_a_tick_during_a_running_execution_is_skipped_overlapping() {
    // Every 30 minutes from 15:00, with 45-minute installs on one instance.
    let schedule = "rate(30 minutes)";
    let tasks = task("install", 0, "Install", "1", "0", "");
    let text_window = window("w4", schedule, 1, 0, ALL_A, &tasks).replace(
        "cutoff_hours = 0",
        "cutoff_hours = 0\nstart_date = 2025-03-03T15:00:00Z\nend_date = 2025-03-03T16:30:00Z",
    );
    let result = run_fleet(&fleet(1, 0, "45m"), &text_window);
    let statuses: Vec<(&str, &str)> =
        rows(&result, "w4").iter().map(|r| (r.scheduled_start.as_str(), r.status)).collect();
    assert_eq!(
        statuses,
        [
            ("2025-03-03T15:00:00Z", "SUCCESS"),
            ("2025-03-03T15:30:00Z", "SKIPPED_OVERLAPPING"),
            ("2025-03-03T16:00:00Z", "SUCCESS"),
            ("2025-03-03T16:30:00Z", "SUCCESS"),
        ]
    );
}

#[test]
fn w5_percentages_round_up_and_dispatch_stops_at_error_max_errors_plus_one() {
    // 10% of 25 targets is 3 at a time: nine 10-minute batches end at 16:30.
    let tasks = task("install", 0, "Install", "10%", "0", "");
    let result = run_fleet(&fleet(25, 0, "10m"), &window("c", AT_15, 3, 1, ALL_A, &tasks));
    assert_eq!(rows(&result, "c")[0].end, "2025-03-03T16:30:00Z");

    for (errors, failed) in [("10%", 6), ("0", 1), ("3", 4)] {
        let mut f = fleet(50, 0, "1m");
        f.fail_a = 1.0;
        let tasks = task("install", 0, "Install", "1", errors, "");
        let result = run_fleet(&f, &window("e", AT_15, 3, 1, ALL_A, &tasks));
        let row = rows(&result, "e")[0];
        assert_eq!((row.failed, row.cancelled), (failed, 50 - failed), "MaxErrors {errors}");
        assert_eq!(row.status, "FAILED");
    }
}

#[test]
fn w6_a_command_waits_for_an_unreachable_agent_only_until_its_delivery_timeout() {
    // TimeoutSeconds 600 from dispatch at 15:00: the deadline is 15:10. The agent of group
    // a is back at 15:05 (in time), group b's at 15:40 (too late under the API's reading),
    // group c's never.
    let mut f = fleet(1, 1, "1m");
    f.extra_a = "[[instance_group.outage]]\nstart = 2025-03-03T14:00:00Z\nduration = \"1h5m\"";
    f.extra_b = "[[instance_group.outage]]\nstart = 2025-03-03T14:00:00Z\nduration = \"1h40m\"";
    f.more_groups = "[[instance_group]]\nname = \"c\"\ncount = 1\nprofile = \"p\"\ntags = { Group = \"c\" }\n\
                     initial_lag = \"60d\"\n[[instance_group.outage]]\nstart = 2025-03-03T00:00:00Z\nduration = \"2d\"";
    let tasks = task("install", 0, "Install", "10", "0", "timeout_seconds = 600");
    let result = run_fleet(&f, &window("w6", AT_15, 3, 1, "\"tag-key=Group\"", &tasks));
    let row = rows(&result, "w6")[0];
    assert_eq!((row.targets, row.succeeded, row.delivery_timed_out), (3, 1, 2), "{row:?}");
    assert_eq!(row.failed, 0, "delivery timeouts are not errors, even with MaxErrors 0");
    assert_eq!(row.delivery_agent_unreachable, 2, "the group outages kept them from the agent");
    // monitor-commands: Delivery Timed Out when MaxErrors (0) or more invocations ended so;
    // the window reports the task, and so the execution, TIMED_OUT.
    assert_eq!(row.status, "TIMED_OUT");
    assert_eq!(row.status_details, "One or more tasks in the orchestration timed out.");
    assert_eq!(row.end, "2025-03-03T15:10:00Z");
    let report = result.world.instances.report[0].unwrap();
    assert_eq!(report.start.to_rfc3339(), "2025-03-03T15:05:00Z", "delivered when the agent came back");
    assert!(result.world.instances.report[1].is_none() && result.world.instances.report[2].is_none());
}

#[test]
fn the_account_cap_makes_later_executions_wait_and_an_expired_one_times_out() {
    // A cap of two. `first` and `second` run 2-hour installs from 15:00; `third` waits and
    // starts when `first` ends at 17:00. `fourth` (cutoff 16:00:03) only gets a slot at
    // 17:00:01, after its cutoff, so none of its tasks starts.
    let id = |i| format!("\"InstanceIds={}\"", patchfleet::fleet::instance_id(i));
    let tasks = task("install", 0, "Install", "10", "0", "");
    let windows = window("first", AT_15, 3, 1, &id(0), &tasks)
        + &window("second", "at(2025-03-03T15:00:01)", 3, 1, &id(1), &tasks)
        + &window("third", "at(2025-03-03T15:00:02)", 3, 1, &id(2), &tasks)
        + &window("fourth", "at(2025-03-03T15:00:03)", 2, 1, "\"tag:Group=b\"", &tasks);
    let result = run_fleet(&fleet(3, 1, "2h"), &windows);
    let [first, second, third, fourth] = ["first", "second", "third", "fourth"].map(|w| rows(&result, w)[0]);
    assert_eq!((first.end.as_str(), second.end.as_str()), ("2025-03-03T17:00:00Z", "2025-03-03T17:00:01Z"));
    assert_eq!(third.start, "2025-03-03T17:00:00Z", "waited for a slot");
    assert_eq!((third.status, third.succeeded), ("SUCCESS", 1));
    assert_eq!(
        (fourth.scheduled_start.as_str(), fourth.start.as_str()),
        ("2025-03-03T15:00:03Z", "2025-03-03T17:00:01Z")
    );
    assert_eq!((fourth.status, fourth.skipped, fourth.targets), ("TIMED_OUT", 1, 1));
}

#[test]
fn instance_ids_resource_groups_and_several_targets_in_sequence() {
    // Target 1 is one instance of group a by id, target 2 the resource group of group b.
    // Concurrency 10 would run all at once; in sequence, b's start after a's finishes.
    let first_id = patchfleet::fleet::instance_id(1);
    let targets = format!("\"InstanceIds={first_id}\", \"resource-groups:Name=group-b\"");
    let tasks = task("install", 0, "Install", "10", "0", "");
    let result = run_fleet(&fleet(3, 2, "30m"), &window("seq", AT_15, 3, 1, &targets, &tasks));
    let row = rows(&result, "seq")[0];
    assert_eq!((row.targets, row.succeeded), (3, 3));
    assert_eq!(row.end, "2025-03-03T16:00:00Z");
    let starts: Vec<Option<String>> =
        result.world.instances.report.iter().map(|r| r.map(|r| r.start.to_rfc3339())).collect();
    assert_eq!(
        starts,
        [
            None,
            Some("2025-03-03T15:00:00Z".into()),
            None,
            Some("2025-03-03T15:30:00Z".into()),
            Some("2025-03-03T15:30:00Z".into())
        ]
    );
}

#[test]
fn associations_run_with_rate_control_and_aws_wait_defaults() {
    // An Install association (waits for its first interval by default) with rate control,
    // and a Scan association (runs at creation by default).
    let associations = r#"
[[association]]
name = "install-policy"
schedule = "cron(0 3 * * ? *)"
operation = "Install"
reboot_option = "NoReboot"
targets = ["*"]
max_concurrency = "2"
max_errors = "0"

[[association]]
name = "scan-policy"
schedule = "cron(0 12 * * ? *)"
targets = ["tag:Group=b"]
"#;
    let result = run_fleet(&fleet(4, 1, "15m"), associations);
    let installs: Vec<&ExecutionRecord> =
        result.association_records.iter().filter(|r| r.window == "install-policy").collect();
    assert_eq!(installs[0].scheduled_start, "2025-03-03T03:00:00Z", "Install waits for the first interval");
    // Two at a time, 15 minutes each: 5 targets in three rounds.
    assert_eq!(installs[0].end, "2025-03-03T03:45:00Z");
    assert_eq!((installs[0].targets, installs[0].succeeded), (5, 5));
    // The Scan association ran at the start: group b reported before 03:00.
    let scanned_at_start = result.world.instances.report[4].is_some();
    assert!(scanned_at_start);
    assert!(
        result.association_records.iter().all(|r| r.window != "scan-policy"),
        "a Scan without rate control is a cohort"
    );
}

#[test]
fn every_invocation_ends_in_exactly_one_final_status() {
    // A mix: failures, a cutoff that cancels, unreachable agents, two priority levels.
    let mut f = fleet(30, 30, "20m");
    f.fail_a = 0.3;
    f.extra_a = "[[instance_group.outage]]\nstart = 2025-03-03T14:00:00Z\nduration = \"90m\"";
    let tasks = task("install", 0, "Install", "20%", "25%", "cutoff_behavior = \"CANCEL_TASK\"")
        + &task("scan", 1, "Scan", "50%", "0", "");
    let windows = window("mixed", "cron(0 15 ? * * *)", 2, 1, "\"tag-key=Group\"", &tasks);
    let result = run_fleet(&f, &windows);
    assert!(!result.window_records.is_empty());
    for row in &result.window_records {
        assert_eq!(accounted(row), row.targets, "{row:?}");
    }
    let totals: u64 =
        result.window_records.iter().map(|r| r.timed_out + r.delivery_timed_out + r.undeliverable + r.cancelled).sum();
    assert!(totals > 0, "the mix exercised the unusual endings");
}

#[test]
fn a_window_of_100000_targets_costs_one_event_per_invocation() {
    let tasks = task("install", 0, "Install", "10%", "100%", "");
    let result = run_fleet(&fleet(100_000, 0, "5m"), &window("big", AT_15, 4, 1, ALL_A, &tasks));
    let row = rows(&result, "big")[0];
    assert_eq!(row.succeeded, 100_000);
    // Events: one per invocation, the window tick, and the handful of scheduled others
    // (the tick beyond the horizon is never handled; samples every 6 hours).
    let overhead = result.outcome.events_processed - 100_000;
    assert!(overhead <= 20, "{overhead} events beyond the invocations");
}

#[test]
fn launched_instances_get_associations_at_once_and_windows_at_their_next_execution() {
    // Group b launches at 10:00 on day 1. A Scan association that does not wait for its
    // first interval scans it at launch; the daily 15:00 window includes it from day 1 on,
    // but the one-off 09:00 window before the launch does not.
    let mut f = fleet(1, 2, "10m");
    f.extra_b = "launch_at = 2025-03-03T10:00:00Z";
    let windows = window(
        "before",
        "at(2025-03-03T09:00:00)",
        2,
        1,
        "\"tag-key=Group\"",
        &task("t", 0, "Install", "5", "0", ""),
    ) + &window(
        "daily",
        "cron(0 15 * * ? *)",
        2,
        1,
        "\"tag-key=Group\"",
        &task("t", 0, "Install", "5", "0", ""),
    ) + "\n[[association]]\nname = \"scan-new\"\nschedule = \"cron(0 23 * * ? *)\"\ntargets = [\"tag:Group=b\"]\nwait_for_first_interval = false\n";
    let result = run_fleet(&f, &windows);
    assert_eq!(rows(&result, "before")[0].targets, 1, "group b did not exist yet");
    assert_eq!(rows(&result, "daily")[0].targets, 3);
    // The launch-time scan: an association that does not wait ran at the start (nothing
    // matched) and at the launch.
    let samples = &result.samples;
    let at = |time: &str| samples.iter().find(|(t, _)| t.to_rfc3339() == time).unwrap().1[0];
    let before = at("2025-03-03T06:00:00Z");
    let after = at("2025-03-03T12:00:00Z");
    assert_eq!((before.instances, after.instances), (1, 3));
    assert_eq!(after.unreported, 0, "scanned at launch, before the 15:00 window");
    // Launched instances carry the patch level of their launch: 60 days behind it.
    assert_eq!(after.missing_patches, 2);
}

#[test]
fn terminated_instances_leave_targets_counts_and_running_commands() {
    // Group b is terminated at 15:05, in the middle of a 10-minute install.
    let mut f = fleet(1, 2, "10m");
    f.extra_b = "terminate_at = 2025-03-03T15:05:00Z";
    let tasks = task("t", 0, "Install", "5", "0", "");
    let windows = window("first", AT_15, 2, 1, "\"tag-key=Group\"", &tasks)
        + &window("second", "at(2025-03-03T18:00:00)", 2, 1, "\"tag-key=Group\"", &tasks);
    let result = run_fleet(&f, &windows);
    let first = rows(&result, "first")[0];
    assert_eq!((first.targets, first.succeeded, first.undeliverable), (3, 1, 2));
    assert_eq!(first.end, "2025-03-03T15:10:00Z");
    assert_eq!(rows(&result, "second")[0].targets, 1);
    let last = result.samples.last().unwrap().1[0];
    assert_eq!(last.instances, 1);
    assert!(!result.world.instances.running[1] && !result.world.instances.running[2]);
}

#[test]
fn a_target_terminated_before_its_turn_is_undeliverable_and_never_runs() {
    // One at a time: group a's instance runs 15:00-15:10; group b's two instances are
    // terminated at 15:05, before their turn. They must not run.
    let mut f = fleet(1, 2, "10m");
    f.extra_b = "terminate_at = 2025-03-03T15:05:00Z";
    let tasks = task("t", 0, "Install", "1", "0", "");
    let result = run_fleet(&f, &window("seq", AT_15, 2, 1, "\"tag-key=Group\"", &tasks));
    let row = rows(&result, "seq")[0];
    assert_eq!((row.targets, row.succeeded, row.undeliverable), (3, 1, 2));
    assert!(result.world.instances.report[1].is_none() && result.world.instances.report[2].is_none());
}
