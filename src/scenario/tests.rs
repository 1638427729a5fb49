//! Loading and validation: the default scenario is valid, and bad input is reported with
//! its file, line, column and key path, every problem at once.

use super::*;

const MINIMAL: &str = r#"
[scenario]
name = "tiny"
start = 2026-01-05T00:00:00Z
horizon = "7d"
seed = 3

[[catalog]]
os = "AMAZON_LINUX_2023"
products = ["AmazonLinux2023"]
packages = 10

[[profile]]
name = "web"
os = "AMAZON_LINUX_2023"
package_share = 0.5

[[instance_group]]
name = "web"
count = 10
profile = "web"
tags = { "Patch Group" = "prod" }

[[baseline]]
name = "prod-baseline"
os = "AMAZON_LINUX_2023"
[[baseline.rule]]
filters = { CLASSIFICATION = ["Security"] }
approve_after_days = 7
compliance_level = "HIGH"

[[patch_group]]
name = "prod"
baselines = ["prod-baseline"]

[[maintenance_window]]
name = "weekly"
schedule = "cron(0 2 ? * SUN *)"
duration_hours = 3
cutoff_hours = 1
targets = ["tag:Patch Group=prod"]
[[maintenance_window.task]]
name = "install"
operation = "Install"
max_concurrency = "10%"
max_errors = "1"
"#;

fn errors(text: &str) -> Vec<Diagnostic> {
    match load("bad.toml", text) {
        Ok(_) => panic!("expected the scenario to be rejected"),
        Err(diagnostics) => diagnostics.0,
    }
}

/// Replaces the first occurrence of `from` in the minimal scenario.
fn minimal_with(from: &str, to: &str) -> String {
    assert!(MINIMAL.contains(from), "fixture lacks {from:?}");
    MINIMAL.replacen(from, to, 1)
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).expect("needle is in the text") + 1
}

#[test]
fn the_embedded_default_scenario_is_valid() {
    let scenario = load(DEFAULT_SCENARIO_NAME, DEFAULT_SCENARIO).unwrap_or_else(|d| panic!("{d}"));
    let instances: u64 = scenario.groups.iter().map(|g| g.count as u64).sum();
    assert_eq!(instances, 20_000);
    assert_eq!(scenario.horizon, SimDuration::days(30));
    assert_eq!(scenario.catalogs.len(), 3);
    assert_eq!(scenario.patch_groups.len(), 4);
}

#[test]
fn a_minimal_scenario_loads_with_defaults_filled_in() {
    let scenario = load("tiny.toml", MINIMAL).unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(scenario.sample_interval, SimDuration::hours(6));
    assert_eq!(scenario.windows[0].tasks[0].reboot_option, crate::compliance::RebootOption::RebootIfNeeded);
    assert_eq!(scenario.effective.agent.download_mbps, 200.0);
    // The AL2023 default comes from the predefined AWS baseline.
    let default = scenario.default_baselines[&Os::AmazonLinux2023];
    assert_eq!(scenario.baselines[default].name, "AWS-AmazonLinux2023DefaultPatchBaseline");
    assert_eq!(scenario.hash.len(), 64);
}

#[test]
fn malformed_toml_is_reported_with_its_line() {
    let text = minimal_with("horizon = \"7d\"", "horizon = \"7d");
    let found = errors(&text);
    assert_eq!(found[0].line, line_of(&text, "horizon = \"7d"));
    assert_eq!(found[0].file, "bad.toml");
}

#[test]
fn an_unknown_key_names_its_path_and_position() {
    let text = minimal_with("count = 10", "cuont = 10");
    let found = errors(&text);
    let error = found.iter().find(|d| d.message.contains("cuont")).expect("an error names the key");
    assert_eq!(error.key_path, "instance_group[0].cuont");
    assert_eq!(error.line, line_of(&text, "cuont"));
    assert_eq!(error.column, 1);
}

#[test]
fn a_wrong_type_and_a_negative_count_are_errors() {
    let found = errors(&minimal_with("count = 10", "count = -5"));
    assert!(found.iter().any(|d| d.key_path == "instance_group[0].count"), "{found:?}");
    let found = errors(&minimal_with("seed = 3", "seed = \"three\""));
    assert!(found.iter().any(|d| d.key_path == "scenario.seed"), "{found:?}");
}

#[test]
fn every_problem_is_reported_at_once_in_document_order() {
    let text = minimal_with("horizon = \"7d\"", "horizon = \"0s\"")
        .replacen("cutoff_hours = 1", "cutoff_hours = 3", 1)
        .replacen("baselines = [\"prod-baseline\"]", "baselines = [\"no-such-baseline\"]", 1)
        .replacen("schedule = \"cron(0 2 ? * SUN *)\"", "schedule = \"cron(0 2 * * SUN *)\"", 1)
        .replacen("max_concurrency = \"10%\"", "max_concurrency = \"0\"", 1)
        .replacen("package_share = 0.5", "package_share = 1.5", 1);
    let found = errors(&text);
    let paths: Vec<&str> = found.iter().map(|d| d.key_path.as_str()).collect();
    assert_eq!(
        paths,
        vec![
            "scenario.horizon",
            "profile[0].package_share",
            "patch_group[0].baselines[0]",
            "maintenance_window[0].schedule",
            "maintenance_window[0].cutoff_hours",
            "maintenance_window[0].task[0].max_concurrency",
        ]
    );
    assert!(found.windows(2).all(|w| w[0].line <= w[1].line));
    assert!(found[0].message.contains("longer than zero"));
    assert!(found[4].message.contains("shorter than the duration"));
}

#[test]
fn unknown_references_are_errors() {
    let found = errors(&minimal_with("profile = \"web\"", "profile = \"api\""));
    assert_eq!(found.len(), 1);
    assert!(found[0].message.contains("unknown profile `api`"));
    let found = errors(&format!("{MINIMAL}\n[[patch_group]]\nname = \"prod\"\nbaselines = []\n"));
    assert!(found.iter().any(|d| d.message.contains("used twice")), "{found:?}");
}

#[test]
fn a_second_baseline_for_the_same_os_in_a_group_is_rejected_like_aws() {
    // R5: AlreadyExistsException.
    let text = minimal_with(
        "baselines = [\"prod-baseline\"]",
        "baselines = [\"prod-baseline\", \"AWS-AmazonLinux2023DefaultPatchBaseline\"]",
    );
    let found = errors(&text);
    assert_eq!(found.len(), 1);
    assert!(found[0].message.contains("AlreadyExistsException"));
    assert_eq!(found[0].key_path, "patch_group[0].baselines[1]");
}

#[test]
fn window_limits_follow_aws() {
    for (from, to, path) in [
        ("duration_hours = 3", "duration_hours = 25", "maintenance_window[0].duration_hours"),
        ("cutoff_hours = 1", "cutoff_hours = 24", "maintenance_window[0].cutoff_hours"),
        ("max_concurrency = \"10%\"", "max_concurrency = \"101%\"", "maintenance_window[0].task[0].max_concurrency"),
        ("targets = [\"tag:Patch Group=prod\"]", "targets = [\"tag:Patch Group\"]", "maintenance_window[0].targets[0]"),
        ("operation = \"Install\"", "operation = \"Patch\"", "maintenance_window[0].task[0].operation"),
    ] {
        let found = errors(&minimal_with(from, to));
        assert!(found.iter().any(|d| d.key_path == path), "{to}: {found:?}");
    }
}

#[test]
fn baseline_limits_follow_aws() {
    for (from, to, needle) in [
        ("approve_after_days = 7", "approve_after_days = 361", "0 to 360"),
        ("CLASSIFICATION = [\"Security\"]", "PRIORITY = [\"Required\"]", "not valid for AMAZON_LINUX_2023"),
        ("compliance_level = \"HIGH\"", "compliance_level = \"URGENT\"", "unknown compliance level"),
        ("name = \"prod-baseline\"\nos", "name = \"AWS-Mine\"\nos", "reserved"),
    ] {
        let found = errors(&minimal_with(from, to));
        assert!(found.iter().any(|d| d.message.contains(needle)), "{to}: {found:?}");
    }
}

#[test]
fn unknown_sections_and_a_missing_scenario_section_are_errors() {
    let found = errors(&format!("{MINIMAL}\n[fleet]\nsize = 3\n"));
    assert!(found.iter().any(|d| d.message.contains("unknown section `fleet`")));
    let without = MINIMAL.replacen("[scenario]", "[agent]", 1);
    let found = errors(&without);
    assert!(!found.is_empty());
}

#[test]
fn diagnostics_print_as_file_line_column_path_message() {
    let diagnostic = Diagnostic {
        file: "a.toml".into(),
        line: 3,
        column: 7,
        key_path: "scenario.horizon".into(),
        message: "the horizon must be longer than zero".into(),
    };
    assert_eq!(diagnostic.to_string(), "a.toml:3:7: scenario.horizon: the horizon must be longer than zero");
}

/// The minimal scenario with one more baseline appended (not referenced by any group).
fn with_baseline(baseline: &str) -> String {
    format!("{MINIMAL}\n{baseline}\n")
}

#[test]
fn baseline_definitions_are_checked_against_aws_rules() {
    let cases: [(&str, &str); 9] = [
        (
            "[[baseline]]\nname = \"ubuntu-delay\"\nos = \"UBUNTU\"\n[[baseline.rule]]\nfilters = { PRIORITY = [\"Required\"] }\napprove_after_days = 7",
            "supports neither ApproveAfterDays nor ApproveUntilDate",
        ),
        (
            "[[baseline]]\nname = \"both\"\nos = \"AMAZON_LINUX_2\"\n[[baseline.rule]]\napprove_after_days = 7\napprove_until_date = \"2025-01-01\"",
            "not both",
        ),
        (
            "[[baseline]]\nname = \"neither\"\nos = \"AMAZON_LINUX_2\"\n[[baseline.rule]]\ncompliance_level = \"LOW\"",
            "requires one",
        ),
        (
            "[[baseline]]\nname = \"bad-date\"\nos = \"AMAZON_LINUX_2\"\n[[baseline.rule]]\napprove_until_date = \"07/07/2023\"",
            "YYYY-MM-DD",
        ),
        (
            "[[baseline]]\nname = \"five-filters\"\nos = \"WINDOWS\"\n[[baseline.rule]]\napprove_after_days = 1\nfilters = { PRODUCT = [\"*\"], PRODUCT_FAMILY = [\"*\"], CLASSIFICATION = [\"*\"], MSRC_SEVERITY = [\"*\"], PATCH_SET = [\"OS\"] }",
            "at most 4",
        ),
        ("[[baseline]]\nname = \"win-entry\"\nos = \"WINDOWS\"\napproved_patches = [\"openssl\"]", "KB ids"),
        (
            "[[baseline]]\nname = \"yum-reject-cve\"\nos = \"AMAZON_LINUX_2\"\nrejected_patches = [\"CVE-2024-1234\"]",
            "not CVE",
        ),
        ("[[baseline]]\nname = \"two-stars\"\nos = \"AMAZON_LINUX_2\"\napproved_patches = [\"a*b*\"]", "at most one"),
        (
            "[[baseline]]\nname = \"avail\"\nos = \"AMAZON_LINUX_2\"\navailable_security_updates_compliance_status = \"NON_COMPLIANT\"",
            "Windows only",
        ),
    ];
    for (baseline, needle) in cases {
        let found = errors(&with_baseline(baseline));
        assert!(found.iter().any(|d| d.message.contains(needle)), "{baseline}\n→ {found:?}");
        assert!(found.iter().all(|d| d.key_path.starts_with("baseline[1]")), "{found:?}");
    }
    let rules: String = (0..11).map(|_| "[[baseline.rule]]\napprove_after_days = 1\n").collect();
    let found = errors(&with_baseline(&format!("[[baseline]]\nname = \"eleven\"\nos = \"AMAZON_LINUX_2\"\n{rules}")));
    assert!(found.iter().any(|d| d.message.contains("at most 10")), "{found:?}");
}

#[test]
fn valid_entry_formats_per_family_are_accepted() {
    let text = with_baseline(
        "[[baseline]]\nname = \"win-ok\"\nos = \"WINDOWS\"\napproved_patches = [\"KB5044281\", \"MS10-048\"]\n\
         [[baseline]]\nname = \"apt-ok\"\nos = \"UBUNTU\"\nrejected_patches = [\"ExamplePkg33\", \"libc6\"]\n\
         [[baseline]]\nname = \"yum-ok\"\nos = \"AMAZON_LINUX_2\"\napproved_patches = [\"CVE-2018-1234567\", \"RHSA-2017:0864\", \"1234567\", \"example-pkg-*.x86_64\"]\nrejected_patches = [\"example-pkg-*\"]",
    );
    if let Err(d) = load("ok.toml", &text) {
        panic!("{d}");
    }
}

#[test]
fn window_and_association_settings_are_checked() {
    for (from, to, needle) in [
        ("duration_hours = 3", "duration_hours = 3\ntimezone = \"Mars/Olympus\"", "time zone"),
        ("schedule = \"cron(0 2 ? * SUN *)\"", "schedule = \"rate(7 days)\"\noffset_days = 2", "cron"),
        ("schedule = \"cron(0 2 ? * SUN *)\"", "schedule = \"cron(0 2 ? * SUN *)\"\noffset_days = 7", "1 to 6"),
        ("max_errors = \"1\"", "max_errors = \"1\"\ncutoff_behavior = \"STOP\"", "CANCEL_TASK"),
        ("max_errors = \"1\"", "max_errors = \"1\"\ntimeout_seconds = 10", "30 to 2592000"),
        ("targets = [\"tag:Patch Group=prod\"]", "targets = [\"resource-groups:Name=nope\"]", "unknown resource group"),
        ("targets = [\"tag:Patch Group=prod\"]", "targets = [\"InstanceIds=i-zz\"]", "not an instance id"),
    ] {
        let found = errors(&minimal_with(from, to));
        assert!(found.iter().any(|d| d.message.contains(needle)), "{to}: {found:?}");
        assert!(found.iter().all(|d| d.key_path.starts_with("maintenance_window[0]")), "{to}: {found:?}");
    }
    let association = "[[association]]\nname = \"scan\"\nschedule = \"cron(0 1 * * ? *)\"\ntargets = [\"*\"]\n";
    let found = errors(&format!("{MINIMAL}\n{association}max_concurrency = \"10%\"\n"));
    assert!(found.iter().any(|d| d.message.contains("both max_concurrency and max_errors")), "{found:?}");
    let found = errors(&format!("{MINIMAL}\n{association}operation = \"Reboot\"\n"));
    assert!(found.iter().any(|d| d.key_path == "association[0].operation"), "{found:?}");
    let found = errors(&format!("{MINIMAL}\n[account]\nmax_concurrent_executions = 0\n"));
    assert!(found.iter().any(|d| d.key_path == "account.max_concurrent_executions"), "{found:?}");
}

#[test]
fn network_and_fault_settings_are_checked() {
    let network = "[[location]]\nname = \"az-a\"\n\n[[repository]]\nname = \"mirror\"\nserves = [\"AMAZON_LINUX_2023\"]\nbandwidth_mbps = 100.0\nmax_connections = 10\n";
    let ok = format!("{MINIMAL}\n{network}");
    load("ok.toml", &ok).unwrap_or_else(|d| panic!("{d}"));
    for (extra, needle) in [
        (
            "[[partition]]\nstart = 2026-01-06T00:00:00Z\nduration = \"1h\"\nlocations = [\"az-z\"]\ndestinations = [\"ssm\"]",
            "unknown location `az-z`",
        ),
        (
            "[[partition]]\nstart = 2026-01-06T00:00:00Z\nduration = \"1h\"\nlocations = [\"az-a\"]\ndestinations = [\"cdn\"]",
            "unknown destination `cdn`",
        ),
        ("[[location]]\nname = \"vpn\"\nlink_mtbf = \"1d\"", "both link_mtbf and link_mttr"),
        (
            "[[repository]]\nname = \"slow\"\nserves = [\"UBUNTU\"]\nbandwidth_mbps = 0.0\nmax_connections = 1",
            "0 is not a bandwidth in Mbit/s",
        ),
        (
            "[[repository]]\nname = \"dup\"\nserves = [\"AMAZON_LINUX_2023\"]\nbandwidth_mbps = 1.0\nmax_connections = 1",
            "served by another repository",
        ),
    ] {
        let found = errors(&format!("{ok}\n{extra}\n"));
        assert!(found.iter().any(|d| d.message.contains(needle)), "{extra}: {found:?}");
    }
    for (from, to, path) in [
        ("count = 10", "count = 10\nagent_crash_probability = 1.5", "instance_group[0].agent_crash_probability"),
        ("count = 10", "count = 10\nreboot_failure_probability = -0.1", "instance_group[0].reboot_failure_probability"),
        ("count = 10", "count = 10\nlocation = \"nowhere\"", "instance_group[0].location"),
        ("count = 10", "count = 10\nlaunch_at = 2020-01-01T00:00:00Z", "instance_group[0].launch_at"),
    ] {
        let found = errors(&minimal_with(from, to));
        assert!(found.iter().any(|d| d.key_path == path), "{to}: {found:?}");
    }
}

#[test]
fn auto_scaling_settings_are_checked() {
    let image = "[[image]]\nname = \"golden\"\nbaked = 2025-12-01T00:00:00Z\n";
    let asg = |body: &str| {
        format!(
            "{MINIMAL}\n{image}\n[[auto_scaling_group]]\nname = \"web-asg\"\nprofile = \"web\"\nimage = \"golden\"\n{body}\n"
        )
    };
    load("ok.toml", &asg("min = 1\nmax = 5\ndesired = 3")).unwrap_or_else(|d| panic!("{d}"));
    for (body, needle) in [
        ("min = 1\nmax = 5\ndesired = 9", "outside [min, max]"),
        ("min = 6\nmax = 5\ndesired = 5", "above max"),
        ("min = 1\nmax = 5\ndesired = 3\ntermination_policy = \"Random\"", "termination policy"),
        ("min = 1\nmax = 5\ndesired = 3\ndemand_amplitude = 1.5", "[0, 1)"),
        ("min = 1\nmax = 5\ndesired = 3\nlocation = \"moon\"", "unknown location"),
        (
            "min = 1\nmax = 5\ndesired = 3\n[[auto_scaling_group.scheduled_action]]\nschedule = \"cron(0 8 * * ? *)\"\ndesired = 7",
            "outside [1, 5]",
        ),
    ] {
        let found = errors(&asg(body));
        assert!(found.iter().any(|d| d.message.contains(needle)), "{body}: {found:?}");
    }
    // An image baked after the start without a pipeline to bake it.
    let late =
        asg("min = 1\nmax = 5\ndesired = 3").replace("baked = 2025-12-01T00:00:00Z", "baked = 2026-01-06T00:00:00Z");
    let found = errors(&late);
    assert!(found.iter().any(|d| d.key_path == "image[0].baked" && d.message.contains("pipeline")), "{found:?}");
}

#[test]
fn alarm_settings_are_checked() {
    let alarm = |body: &str| {
        format!(
            "{MINIMAL}\n[[alarm]]\nname = \"a\"\n{body}\n[alarm.remediation]\nmax_concurrency = \"10%\"\nmax_errors = \"0\"\n"
        )
    };
    load("ok.toml", &alarm("patch_group = \"prod\"\nmetric = \"non_compliant\"\nthreshold = 1\nperiod = \"5m\"\nevaluation_periods = 2"))
        .unwrap_or_else(|d| panic!("{d}"));
    for (body, needle) in [
        (
            "patch_group = \"qa\"\nmetric = \"non_compliant\"\nthreshold = 1\nperiod = \"5m\"\nevaluation_periods = 2",
            "no instances are in patch group `qa`",
        ),
        (
            "patch_group = \"prod\"\nmetric = \"cpu\"\nthreshold = 1\nperiod = \"5m\"\nevaluation_periods = 2",
            "not an alarm metric",
        ),
        (
            "patch_group = \"prod\"\nmetric = \"non_compliant\"\nthreshold = 1\nperiod = \"30s\"\nevaluation_periods = 2",
            "at least one minute",
        ),
        (
            "patch_group = \"prod\"\nmetric = \"non_compliant\"\nthreshold = 1\nperiod = \"5m\"\nevaluation_periods = 0",
            "at least one period",
        ),
    ] {
        let found = errors(&alarm(body));
        assert!(found.iter().any(|d| d.message.contains(needle)), "{body}: {found:?}");
    }
}

/// Loading never panics, whatever is done to a valid file: lines dropped, duplicated,
/// or with their values replaced by odd ones. Each result is either a scenario or a list
/// of located diagnostics.
#[test]
fn mangled_scenarios_are_errors_never_panics() {
    let lines: Vec<&str> = DEFAULT_SCENARIO.lines().collect();
    let odd_values = [
        "-1",
        "0",
        "1e309",
        "\"\"",
        "[]",
        "{}",
        "true",
        "\"999999999999999999999d\"",
        "18446744073709551616",
        "\"cron(\"",
    ];
    // A tiny deterministic generator (xorshift64) keeps the test reproducible.
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move |bound: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % bound as u64) as usize
    };
    for _ in 0..400 {
        let mut mangled: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        for _ in 0..3 {
            let at = next(mangled.len());
            match next(3) {
                0 => {
                    mangled.remove(at);
                }
                1 => {
                    let copy = mangled[at].clone();
                    mangled.insert(at, copy);
                }
                _ => {
                    if let Some((key, _)) = mangled[at].split_once(" = ") {
                        mangled[at] = format!("{key} = {}", odd_values[next(odd_values.len())]);
                    }
                }
            }
        }
        let text = mangled.join("\n");
        if let Err(diagnostics) = load("mangled.toml", &text) {
            assert!(!diagnostics.0.is_empty());
            assert!(diagnostics.0.iter().all(|d| d.line >= 1 && d.column >= 1 && !d.message.is_empty()));
        }
    }
}
