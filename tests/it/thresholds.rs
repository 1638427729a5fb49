//! `[[threshold]]`: bounds on named metrics, a THRESHOLDS block, exit code 99 when one
//! fails, located errors for unknown metrics and wrong units, and `abort_on_fail`.

use crate::support::{data, run, text};

/// The ten-instance scenario (tests/data/ten-instances.toml, worked out by hand in
/// hand_calculated.rs) with `extra` appended; returns the run's output and summary.json.
fn run_with(extra: &str) -> (std::process::Output, Option<serde_json::Value>) {
    let temp = tempfile::tempdir().unwrap();
    let path = temp.path().join("ten.toml");
    let mut scenario = std::fs::read_to_string(data("ten-instances.toml")).unwrap();
    scenario.push_str(extra);
    std::fs::write(&path, scenario).unwrap();
    let dir = temp.path().join("out");
    let output = run(&["run", path.to_str().unwrap(), "--out", dir.to_str().unwrap()]);
    let summary = std::fs::read_to_string(dir.join("summary.json")).ok().map(|t| serde_json::from_str(&t).unwrap());
    (output, summary)
}

#[test]
fn a_failed_threshold_exits_99_after_writing_results_and_shows_its_block() {
    // Both executions of friday-install succeed (hand calculation); the group's exposure
    // p50 is about 63.5 hours, so a 2-day bound fails and a 3-day one passes.
    let (output, summary) = run_with(
        r#"
[[threshold]]
metric = "windows.friday-install.status.SUCCESS"
min = 2
[[threshold]]
metric = "compliance.prod.exposure.p50"
max = "2d"
[[threshold]]
metric = "compliance.prod.exposure.p50"
max = "3d"
[[threshold]]
metric = "compliance.prod.end"
min = "95%"
"#,
    );
    assert_eq!(output.status.code(), Some(99), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let block = &stdout[stdout.find("THRESHOLDS").expect("a THRESHOLDS block")..];
    assert!(block.contains("✓ windows.friday-install.status.SUCCESS"), "{block}");
    assert!(block.contains("✗ compliance.prod.exposure.p50"), "{block}");
    assert!(block.contains("1 of 4 thresholds failed: exit code 99"), "{block}");
    assert!(text(&output.stderr).contains("1 of 4 thresholds failed"));
    let summary = summary.expect("results are written even when a threshold fails");
    let recorded = summary["thresholds"].as_array().unwrap();
    let passed: Vec<bool> = recorded.iter().map(|t| t["passed"].as_bool().unwrap()).collect();
    assert_eq!(passed, [true, false, true, true]);
    assert_eq!(recorded[1]["max"], "2d");
    let p50 = recorded[1]["value"].as_f64().unwrap();
    assert!((p50 / 3600.0 - 63.47).abs() < 0.1, "{p50}");
}

#[test]
fn thresholds_that_all_pass_exit_0() {
    let (output, _) = run_with("\n[[threshold]]\nmetric = \"windows.friday-install.status.FAILED\"\nmax = 0\n");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("0 of 1 thresholds failed"));
}

#[test]
fn an_unknown_metric_or_a_bound_in_the_wrong_unit_is_a_located_input_error() {
    let (output, summary) = run_with(
        "\n[[threshold]]\nmetric = \"windows.friday-install.status.FAILD\"\nmax = 0\n\
         [[threshold]]\nmetric = \"windows.friday-install.executions\"\nmax = \"3d\"\n\
         [[threshold]]\nmetric = \"compliance.prod.end\"\nmin = 95\n",
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(summary.is_none(), "nothing runs");
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(":97:10: threshold[0].metric: no metric `windows.friday-install.status.FAILD`"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean one of") && stderr.contains("status.FAILED"), "{stderr}");
    assert!(
        stderr.contains("threshold[1].max: windows.friday-install.executions: the metric is in a count"),
        "{stderr}"
    );
    assert!(stderr.contains("threshold[2].min: compliance.prod.end: a share lies in [0, 1]"), "{stderr}");
}

#[test]
fn abort_on_fail_stops_the_run_at_the_first_sample_the_threshold_cannot_pass() {
    // The first execution succeeds on 01-09 at 03:28; the next sample is 01-10 00:00.
    let watched =
        "\n[[threshold]]\nmetric = \"windows.friday-install.status.SUCCESS\"\nmax = 0\nabort_on_fail = true\n";
    let (output, summary) = run_with(watched);
    assert_eq!(output.status.code(), Some(99), "{}", text(&output.stderr));
    let summary = summary.unwrap();
    assert_eq!(summary["stop_reason"], "threshold_failed");
    assert_eq!(summary["stopped_at"], "2026-01-10T00:00:00Z");
    // Only growing window counts bounded by a max can be given up on early.
    let (output, _) = run_with("\n[[threshold]]\nmetric = \"compliance.prod.end\"\nmin = 0.5\nabort_on_fail = true\n");
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("threshold[0].abort_on_fail: abort_on_fail needs a `max`"));
}

/// The names checked before a run are exactly those a full run reports, on the default
/// scenario and on one with Auto Scaling groups and repositories.
#[test]
fn the_names_checked_before_a_run_are_the_names_a_run_reports() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let churn = std::fs::read_to_string(root.join("scenarios/mirror-stampede.toml")).unwrap();
    let scenarios =
        [patchfleet::scenario::load_default(), patchfleet::scenario::load("mirror-stampede.toml", &churn).unwrap()];
    for scenario in scenarios {
        let result = patchfleet::run::run(&scenario, scenario.seed, |_, _| {}).unwrap();
        let reported: Vec<String> = patchfleet::report::summarize(&scenario, &result).metrics.into_keys().collect();
        let checked: Vec<String> =
            patchfleet::report::thresholds::metric_names(&scenario).unwrap().into_keys().collect();
        assert_eq!(checked, reported, "{}", scenario.name);
    }
}
