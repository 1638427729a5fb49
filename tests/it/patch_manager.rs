//! Patch Manager semantics through whole runs: baseline resolution (R1 to R4), NoReboot and
//! pending reboots (P5), failed installs (P9), last-writer-wins reports (P11), and Windows
//! supersedence with AVAILABLE_SECURITY_UPDATE.

use patchfleet::catalog::Os;
use patchfleet::compliance::{InstanceReport, Operation};
use patchfleet::run::{RunResult, run};
use patchfleet::scenario::{Scenario, load};

fn scenario(text: &str) -> Scenario {
    load("test.toml", text).unwrap_or_else(|d| panic!("{d}"))
}

fn run_text(text: &str) -> (Scenario, RunResult) {
    let scenario = scenario(text);
    let result = run(&scenario, scenario.seed, |_, _| {}).expect("runs");
    (scenario, result)
}

fn report(result: &RunResult, instance: usize) -> InstanceReport {
    result.world.instances.report[instance].expect("the instance reported")
}

/// One Amazon Linux 2023 instance, two approved patches, and room for windows.
fn one_instance(windows: &str, association: &str, extra: &str) -> String {
    format!(
        r#"
[scenario]
name = "one"
start = 2026-03-02T00:00:00Z
horizon = "6d"
seed = 1
sample_interval = "1d"

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
[[catalog.patch]]
id = "ALAS-B"
package = "kernel"
classification = "Security"
severity = "Important"
released = 2026-02-21T00:00:00Z
reboot_required = true

[[profile]]
name = "p"
os = "AMAZON_LINUX_2023"
packages = ["openssl", "kernel"]

[[instance_group]]
name = "g"
count = 1
profile = "p"
tags = {{ "Patch Group" = "prod" }}
initial_lag = "30d"
{extra}

[[baseline]]
name = "approve-all"
os = "AMAZON_LINUX_2023"
[[baseline.rule]]
filters = {{ CLASSIFICATION = ["Security"] }}
approve_after_days = 0
compliance_level = "HIGH"

[[baseline]]
name = "approve-nothing"
os = "AMAZON_LINUX_2023"
[[baseline.rule]]
filters = {{ CLASSIFICATION = ["Bugfix"] }}
approve_after_days = 0

[[patch_group]]
name = "prod"
baselines = ["approve-all"]
{windows}
{association}
"#
    )
}

fn window(name: &str, day: u32, operation: &str, reboot: &str) -> String {
    format!(
        r#"
[[maintenance_window]]
name = "{name}"
schedule = "at(2026-03-{day:02}T02:00:00)"
duration_hours = 2
cutoff_hours = 1
targets = ["tag:Patch Group=prod"]
[[maintenance_window.task]]
name = "t"
operation = "{operation}"
reboot_option = "{reboot}"
max_concurrency = "1"
max_errors = "0"
"#
    )
}

#[test]
fn r1_to_r4_resolve_the_group_baseline_for_the_os_else_the_default() {
    let text = one_instance("", "", "")
        + r#"
[[catalog]]
os = "WINDOWS"
products = ["WindowsServer2022"]
packages = 1

[[baseline]]
name = "win-dev"
os = "WINDOWS"
[[baseline.rule]]
filters = { CLASSIFICATION = ["SecurityUpdates"] }
approve_after_days = 7

[[baseline]]
name = "win-default"
os = "WINDOWS"
[[baseline.rule]]
filters = { CLASSIFICATION = ["SecurityUpdates"] }
approve_after_days = 14

[[patch_group]]
name = "DEV"
baselines = ["win-dev"]

[default_baselines]
WINDOWS = "win-default"
"#;
    let scenario = scenario(&text);
    let name = |index: usize| scenario.baselines[index].name.as_str();
    // R1: Windows in DEV, which has a Windows baseline.
    assert_eq!(name(scenario.resolve_baseline(Some("DEV"), Os::Windows)), "win-dev");
    // R2: no tag: the registered Windows default.
    assert_eq!(name(scenario.resolve_baseline(None, Os::Windows)), "win-default");
    // R3: a group with nothing registered: the default.
    assert_eq!(name(scenario.resolve_baseline(Some("QA"), Os::Windows)), "win-default");
    // R4: AL2023 in DEV, which only has a Windows baseline: the AL2023 default, here the
    // predefined AWS one.
    assert_eq!(
        name(scenario.resolve_baseline(Some("DEV"), Os::AmazonLinux2023)),
        "AWS-AmazonLinux2023DefaultPatchBaseline"
    );
}

#[test]
fn p5_no_reboot_leaves_patches_pending_until_a_reboot_and_a_later_operation() {
    let windows = window("noreboot", 2, "Install", "NoReboot")
        + &window("reboot", 4, "Install", "RebootIfNeeded")
        + &window("scan", 5, "Scan", "RebootIfNeeded");
    let text = one_instance(&windows, "", "");
    let scenario = scenario(&text);
    // Run only until 03-04 00:00: the NoReboot install (03-02) has reported, the reboot
    // window (03-04 02:00) has not run.
    let mut short = scenario.clone();
    short.horizon = patchfleet::time::SimDuration::days(2);
    let result = run(&short, 1, |_, _| {}).unwrap();
    let after_no_reboot = report(&result, 0);
    assert_eq!(after_no_reboot.operation, Operation::Install);
    assert_eq!(after_no_reboot.counts.installed_pending_reboot, 2);
    assert_eq!(after_no_reboot.counts.installed, 0);
    assert!(!after_no_reboot.is_compliant());
    assert_eq!(after_no_reboot.last_no_reboot_install, Some(after_no_reboot.start));
    // The whole run: the reboot window reboots (patches were pending), the scan reports.
    let result = run(&scenario, 1, |_, _| {}).unwrap();
    let last = report(&result, 0);
    assert_eq!(last.operation, Operation::Scan);
    assert_eq!((last.counts.installed, last.counts.installed_pending_reboot), (2, 0));
    assert!(last.is_compliant());
    // The reboot window's own execution took overhead plus the reboot.
    let reboot_row = result.window_records.iter().find(|r| r.window == "reboot").unwrap();
    assert_eq!(reboot_row.end, "2026-03-04T02:04:00Z");
}

#[test]
fn p9_an_install_whose_packages_fail_reports_failed_and_never_missing() {
    let windows = window("install", 2, "Install", "RebootIfNeeded");
    let text = one_instance(&windows, "", "install_failure_probability = 1.0");
    let (_, result) = run_text(&text);
    let last = report(&result, 0);
    assert_eq!(last.operation, Operation::Install);
    assert_eq!((last.counts.failed, last.counts.missing), (2, 0));
    assert!(!last.is_compliant());
    let row = &result.window_records[0];
    assert_eq!((row.status, row.failed, row.succeeded), ("FAILED", 1, 0));
}

#[test]
fn p11_the_last_operation_replaces_the_report_whichever_baseline_produced_it() {
    // 03-02: a window Scan with the group's baseline finds both patches missing. 03-03: a
    // patch policy's Scan with a baseline that approves nothing reports nothing missing.
    let windows = window("scan", 2, "Scan", "RebootIfNeeded");
    let association = r#"
[[association]]
name = "policy-scan"
schedule = "at(2026-03-03T05:00:00)"
targets = ["*"]
baselines = ["approve-nothing"]
"#;
    let text = one_instance(&windows, association, "");
    let scenario = scenario(&text);
    let mut day_two = scenario.clone();
    day_two.horizon = patchfleet::time::SimDuration::days(1);
    let first = report(&run(&day_two, 1, |_, _| {}).unwrap(), 0);
    assert_eq!(scenario.baselines[first.baseline as usize].name, "approve-all");
    assert_eq!(first.counts.missing, 2);
    let (_, result) = run_text(&text);
    let last = report(&result, 0);
    assert_eq!(scenario.baselines[last.baseline as usize].name, "approve-nothing");
    assert_eq!(last.counts.missing, 0);
    assert!(last.is_compliant());
}

/// A Windows instance: the October update was installed by hand long ago, and the November
/// update, released on the 10th, supersedes it and needs 7 days of approval.
fn windows_supersedence(status: &str) -> String {
    format!(
        r#"
[scenario]
name = "win"
start = 2026-11-09T00:00:00Z
horizon = "4d"
seed = 1
sample_interval = "1d"

[[catalog]]
os = "WINDOWS"
products = ["WindowsServer2022"]
packages = 0
[[catalog.patch]]
id = "KB5044281"
package = "windows-cu"
classification = "SecurityUpdates"
severity = "Critical"
released = 2026-10-13T18:00:00Z
[[catalog.patch]]
id = "KB5046616"
package = "windows-cu"
classification = "SecurityUpdates"
severity = "Critical"
released = 2026-11-10T18:00:00Z
supersedes = ["KB5044281"]

[[profile]]
name = "w"
os = "WINDOWS"
packages = ["windows-cu"]

[[instance_group]]
name = "g"
count = 1
profile = "w"
initial_lag = "60d"

[[baseline]]
name = "win-7d"
os = "WINDOWS"
available_security_updates_compliance_status = "{status}"
[[baseline.rule]]
filters = {{ CLASSIFICATION = ["SecurityUpdates"] }}
approve_after_days = 7
compliance_level = "CRITICAL"

[default_baselines]
WINDOWS = "win-7d"

[[association]]
name = "scan"
schedule = "cron(0 1 * * ? *)"
targets = ["*"]
"#
    )
}

#[test]
fn windows_supersedence_removes_the_old_update_and_shows_the_new_one_as_available() {
    let (scenario, result) = run_text(&windows_supersedence("COMPLIANT"));
    assert_eq!(scenario.baselines[0].name, "win-7d");
    // Last scan: 11-12 01:00. The October update left the catalog on 11-10 (approved, so
    // NOT_APPLICABLE); the November one is released but not approved until 11-17.
    let last = report(&result, 0);
    assert_eq!(
        last.start,
        patchfleet::time::SimTime(patchfleet::schedule::parse_instant("2026-11-12T01:00:00Z").unwrap())
    );
    assert_eq!(last.counts.missing, 0);
    assert_eq!(last.counts.not_applicable, 1);
    assert_eq!(last.counts.available_security_update, 1);
    assert!(last.is_compliant(), "COMPLIANT is the default status of available updates");
    // Before the release, the October update was simply missing.
    let samples = &result.samples;
    let before = samples.iter().find(|(t, _)| t.to_rfc3339() == "2026-11-10T00:00:00Z").unwrap();
    assert_eq!(before.1[0].missing_patches, 1);
}

#[test]
fn available_security_updates_are_non_compliant_when_the_baseline_says_so() {
    let (_, result) = run_text(&windows_supersedence("NON_COMPLIANT"));
    let last = report(&result, 0);
    assert_eq!(last.counts.available_security_update, 1);
    assert!(!last.is_compliant());
    assert_eq!(last.security_non_compliant, 1);
}

fn with_override(window_text: &str, list: &str) -> String {
    window_text.replace("max_errors = \"0\"\n", &format!("max_errors = \"0\"\ninstall_override_list = {list}\n"))
}

#[test]
fn p10_a_scan_ignores_the_install_override_list() {
    let windows = with_override(&window("scan", 2, "Scan", "RebootIfNeeded"), "[\"ALAS-A\"]");
    let (_, result) = run_text(&one_instance(&windows, "", ""));
    let last = report(&result, 0);
    assert_eq!(last.operation, Operation::Scan);
    assert_eq!(last.counts.missing, 2, "both approved patches are still reported missing");
    assert_eq!(last.counts.installed, 0);
}

#[test]
fn an_install_override_list_installs_exactly_the_listed_patches_approved_or_not() {
    // The group's baseline approves nothing here, and the list names only the kernel.
    let windows = with_override(&window("install", 2, "Install", "RebootIfNeeded"), "[\"kernel\"]");
    let text =
        one_instance(&windows, "", "").replace("baselines = [\"approve-all\"]", "baselines = [\"approve-nothing\"]");
    let (_, result) = run_text(&text);
    let last = report(&result, 0);
    assert_eq!(last.operation, Operation::Install);
    // Not approved, so INSTALLED_OTHER; openssl was not listed, so it stays absent.
    assert_eq!((last.counts.installed_other, last.counts.installed), (1, 0));
    let installed = &result.world.instances.installed[0];
    let kernel = result.world.catalogs[0].patch_index("ALAS-B").unwrap() as usize;
    let openssl = result.world.catalogs[0].patch_index("ALAS-A").unwrap() as usize;
    assert!(installed.contains(kernel) && !installed.contains(openssl));
}

#[test]
fn p12_patches_present_before_any_operation_are_installed_or_installed_other_never_pending() {
    // Patched through the day before the start: both patches were installed outside Patch
    // Manager. The baseline approves only the Critical one.
    let association = "[[association]]\nname = \"scan\"\nschedule = \"at(2026-03-02T05:00:00)\"\ntargets = [\"*\"]\n";
    let text = one_instance("", association, "").replace("initial_lag = \"30d\"", "initial_lag = \"1d\"").replace(
        "filters = { CLASSIFICATION = [\"Security\"] }\napprove_after_days = 0\ncompliance_level = \"HIGH\"",
        "filters = { SEVERITY = [\"Critical\"] }\napprove_after_days = 0\ncompliance_level = \"HIGH\"",
    );
    let (_, result) = run_text(&text);
    let last = report(&result, 0);
    assert_eq!(last.operation, Operation::Scan);
    assert_eq!((last.counts.installed, last.counts.installed_other, last.counts.installed_pending_reboot), (1, 1, 0));
    assert!(last.is_compliant());
}
