//! AWS behaviours pinned through whole runs: one snapshot per operation, FailedCount of the
//! last patching operation, superseded Windows updates, Run Command statuses and causes,
//! and fleets whose instances differ the way real servers do.

use patchfleet::compliance::Operation;
use patchfleet::run::{RunResult, run};
use patchfleet::scenario::{Scenario, load};
use patchfleet::time::SimDuration;

fn scenario(text: &str) -> Scenario {
    load("test.toml", text).unwrap_or_else(|d| panic!("{d}"))
}

fn run_text(text: &str) -> (Scenario, RunResult) {
    let scenario = scenario(text);
    let result = run(&scenario, scenario.seed, |_, _| {}).expect("runs");
    (scenario, result)
}

/// `count` Amazon Linux 2023 instances with openssl (released before the start) and a
/// kernel patch released at `kernel_released`, both approved at release; a window on
/// 03-02 at 02:00 installs one instance at a time, ten minutes each.
fn fleet(count: u32, kernel_released: &str, group_extra: &str, more: &str) -> String {
    format!(
        r#"
[scenario]
name = "fidelity"
start = 2026-03-02T00:00:00Z
horizon = "3d"
seed = 3
sample_interval = "1d"

[agent]
install_overhead = "10m"

[[catalog]]
os = "AMAZON_LINUX_2023"
products = ["AmazonLinux2023"]
packages = 0
[[catalog.patch]]
id = "ALAS-A"
package = "openssl"
classification = "Security"
severity = "Critical"
released = 2026-02-20T00:00:00Z
download_mb = 0.0
install_duration = "0s"
[[catalog.patch]]
id = "ALAS-B"
package = "kernel"
classification = "Security"
severity = "Critical"
released = {kernel_released}
download_mb = 0.0
install_duration = "0s"

[[profile]]
name = "p"
os = "AMAZON_LINUX_2023"
packages = ["openssl", "kernel"]

[[instance_group]]
name = "g"
count = {count}
profile = "p"
tags = {{ "Patch Group" = "prod" }}
initial_lag = "30d"
{group_extra}

[[baseline]]
name = "approve-all"
os = "AMAZON_LINUX_2023"
[[baseline.rule]]
filters = {{ CLASSIFICATION = ["Security"] }}
approve_after_days = 0
compliance_level = "CRITICAL"

[[patch_group]]
name = "prod"
baselines = ["approve-all"]

[[maintenance_window]]
name = "install"
schedule = "at(2026-03-02T02:00:00)"
duration_hours = 4
cutoff_hours = 1
targets = ["tag:Patch Group=prod"]
[[maintenance_window.task]]
name = "t"
operation = "Install"
reboot_option = "NoReboot"
max_concurrency = "1"
max_errors = "100%"
{more}
"#
    )
}

/// AWS-RunPatchBaseline, SnapshotId (patch-manager-aws-runpatchbaseline): inside a window
/// every node of one execution uses the snapshot derived from the execution, so a patch
/// approved while the execution runs is not installed by its later invocations.
#[test]
fn a_patch_approved_during_an_execution_is_not_installed_by_its_later_invocations() {
    // Six instances one after another from 02:00, ten minutes each, until 03:00; the kernel
    // patch is released (and approved) at 02:30.
    let text = fleet(6, "2026-03-02T02:30:00Z", "", "");
    let mut scenario = scenario(&text);
    scenario.horizon = SimDuration::hours(4);
    let result = run(&scenario, 3, |_, _| {}).unwrap();
    let row = &result.window_records[0];
    assert_eq!((row.succeeded, row.end.as_str()), (6, "2026-03-02T03:00:00Z"));
    let kernel = result.world.catalogs[0].patch_index("ALAS-B").unwrap() as usize;
    let openssl = result.world.catalogs[0].patch_index("ALAS-A").unwrap() as usize;
    for instance in 0..6 {
        let installed = &result.world.instances.installed[instance];
        assert!(installed.contains(openssl), "instance {instance} installed what the snapshot approved");
        assert!(!installed.contains(kernel), "instance {instance} installed a patch approved after the snapshot");
    }
    // Every report of the execution names the same snapshot, and reports what it saw:
    // nothing missing against the snapshot, though the kernel is approved by then.
    let snapshots: Vec<u32> = result.world.instances.report.iter().map(|r| r.unwrap().snapshot).collect();
    assert!(snapshots.windows(2).all(|w| w[0] == w[1]), "{snapshots:?}");
    assert!(result.world.instances.report.iter().all(|r| r.unwrap().counts.missing == 0));
    // Without the snapshot's protection, i.e. released before the window, it is installed.
    let (_, before) = run_text(&fleet(6, "2026-03-01T12:00:00Z", "", ""));
    assert!((0..6).all(|i| before.world.instances.installed[i].contains(kernel)));
}

/// InstancePatchState.FailedCount (API reference): patches that failed in the last
/// patching operation. A Scan after a failed Install reports them MISSING.
#[test]
fn a_scan_after_a_failed_install_reports_missing_not_failed() {
    let scan = r#"
[[association]]
name = "scan"
schedule = "at(2026-03-03T05:00:00)"
wait_for_first_interval = true
targets = ["*"]
"#;
    let text = fleet(1, "2026-02-21T00:00:00Z", "install_failure_probability = 1.0", scan);
    let mut after_install = scenario(&text);
    after_install.horizon = SimDuration::days(1);
    let install = run(&after_install, 3, |_, _| {}).unwrap().world.instances.report[0].unwrap();
    assert_eq!((install.operation, install.counts.failed, install.counts.missing), (Operation::Install, 2, 0));
    let (_, result) = run_text(&text);
    let last = result.world.instances.report[0].unwrap();
    assert_eq!(last.operation, Operation::Scan);
    assert_eq!((last.counts.failed, last.counts.missing), (0, 2));
    assert_ne!(last.snapshot, install.snapshot, "each operation has its own snapshot");
}

/// patch-manager-compliance-states: NOT_APPLICABLE covers superseded updates. A present
/// superseded update is NOT_APPLICABLE and not INSTALLED as well, so installing the
/// cumulative update counts once in InstalledCount.
#[test]
fn a_superseded_windows_update_is_not_applicable_and_the_cumulative_one_counts_once() {
    let text = r#"
[scenario]
name = "win"
start = 2026-11-20T00:00:00Z
horizon = "2d"
seed = 1
sample_interval = "1d"

[[catalog]]
os = "WINDOWS"
products = ["WindowsServer2022"]
packages = 0
[[catalog.patch]]
id = "KB-OCT"
package = "windows-cu"
classification = "SecurityUpdates"
severity = "Critical"
released = 2026-10-13T18:00:00Z
[[catalog.patch]]
id = "KB-NOV"
package = "windows-cu"
classification = "SecurityUpdates"
severity = "Critical"
released = 2026-11-10T18:00:00Z
supersedes = ["KB-OCT"]

[[profile]]
name = "w"
os = "WINDOWS"
packages = ["windows-cu"]

[[instance_group]]
name = "g"
count = 1
profile = "w"
initial_lag = "20d"

[[baseline]]
name = "win"
os = "WINDOWS"
[[baseline.rule]]
filters = { CLASSIFICATION = ["SecurityUpdates"] }
approve_after_days = 0
compliance_level = "CRITICAL"

[default_baselines]
WINDOWS = "win"

[[maintenance_window]]
name = "install"
schedule = "at(2026-11-20T02:00:00)"
duration_hours = 2
cutoff_hours = 1
targets = ["*"]
[[maintenance_window.task]]
name = "t"
operation = "Install"
reboot_option = "RebootIfNeeded"
max_concurrency = "1"
max_errors = "0"
"#;
    let (_, result) = run_text(text);
    let last = result.world.instances.report[0].unwrap();
    assert_eq!(last.operation, Operation::Install);
    assert_eq!(last.counts.installed, 1, "the cumulative update once");
    assert_eq!(last.counts.not_applicable, 1, "the October update it superseded");
    assert_eq!((last.counts.missing, last.counts.installed_other), (0, 0));
    assert!(last.is_compliant());
}

/// monitor-commands: a command with fewer failures than MaxErrors is Incomplete, not
/// Failed; the window task and execution report it SUCCESS (our reading, window::status).
/// With MaxErrors reached, the task and execution are FAILED with AWS's wording.
#[test]
fn a_few_failures_below_max_errors_are_incomplete_and_enough_of_them_fail_the_execution() {
    let with = |share: &str, max_errors: &str| {
        fleet(40, "2026-02-21T00:00:00Z", &format!("install_failure_probability = {share}"), "")
            .replace("max_errors = \"100%\"", &format!("max_errors = \"{max_errors}\""))
            .replace("max_concurrency = \"1\"", "max_concurrency = \"40\"")
    };
    let (_, few) = run_text(&with("0.05", "50%"));
    let row = &few.window_records[0];
    assert!(row.failed > 0 && row.failed < 20, "{row:?}");
    assert_eq!((row.status, row.status_details), ("SUCCESS", ""));
    assert_eq!(row.failed_install, row.failed, "every failure has its cause");
    let (_, many) = run_text(&with("1.0", "10%"));
    let row = &many.window_records[0];
    assert_eq!((row.status, row.status_details), ("FAILED", "One or more tasks in the orchestration failed."));
}

/// Instances of one profile draw their packages from its mixes: applicability varies
/// between them, and with one mix every instance is alike.
#[test]
fn instances_of_a_profile_carry_different_package_mixes() {
    let text = |mixes: u32| {
        format!(
            r#"
[scenario]
name = "mixes"
start = 2026-03-02T00:00:00Z
horizon = "1d"
seed = 9

[[catalog]]
os = "AMAZON_LINUX_2023"
products = ["AmazonLinux2023"]
packages = 400
core_packages = 20
[catalog.generator]
backlog = "60d"
id_prefix = "ALAS-"
[[catalog.generator.stream]]
classification = "Security"
severity = "Important"
per_week = 40.0

[[profile]]
name = "p"
os = "AMAZON_LINUX_2023"
package_share = 0.3
mixes = {mixes}

[[instance_group]]
name = "g"
count = 200
profile = "p"
initial_lag = "10d"
initial_lag_spread = "40d"
"#
        )
    };
    let applicable_counts = |mixes: u32| {
        let (_, result) = run_text(&text(mixes));
        let world = &result.world;
        let counts: std::collections::BTreeSet<u32> = (0..200).map(|i| world.applicable(i).count()).collect();
        let installed: std::collections::BTreeSet<u32> =
            (0..200).map(|i| world.instances.installed[i as usize].count()).collect();
        (counts.len(), installed.len())
    };
    let (distinct_applicable, distinct_installed) = applicable_counts(16);
    assert!(distinct_applicable > 8, "16 mixes give many applicable sets: {distinct_applicable}");
    assert!(distinct_installed > 50, "lag spread and mixes shape the start: {distinct_installed}");
    let (one_mix, _) = applicable_counts(1);
    assert_eq!(one_mix, 1);
}

/// patches.csv: a patch every instance already had when the run started reached its
/// levels before the run, so its hours-to-level columns stay empty rather than reading as
/// time since release; `share_at_start_pct` says how far it had spread.
#[test]
fn patches_already_installed_at_the_start_have_no_hours_to_level() {
    let temp = tempfile::tempdir().unwrap();
    let path = temp.path().join("s.toml");
    std::fs::write(
        &path,
        fleet(4, "2026-02-21T00:00:00Z", "", "").replace("initial_lag = \"30d\"", "initial_lag = \"1d\""),
    )
    .unwrap();
    let dir = temp.path().join("out");
    let output = crate::support::run(&["run", "--quiet", path.to_str().unwrap(), "--out", dir.to_str().unwrap()]);
    assert!(output.status.success(), "{}", crate::support::text(&output.stderr));
    let mut reader = csv::Reader::from_path(dir.join("patches.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    for row in reader.records().map(Result::unwrap) {
        assert_eq!(&row[column("share_at_start_pct")], "100.0", "{row:?}");
        for level in ["hours_to_50pct", "hours_to_90pct", "hours_to_100pct"] {
            assert_eq!(&row[column(level)], "", "{level} of {row:?}");
        }
    }
}
