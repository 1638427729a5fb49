//! The binary end to end: the default scenario, validation errors and exit codes, the
//! results-directory rules, `scenario show` and `schedule`.

use crate::support::{data, patchfleet, run, text};

#[test]
fn the_default_scenario_runs_and_writes_every_result_file() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("default");
    let output = run(&["run", "--quiet", "--out", dir.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    for needle in [
        "PATCH GROUP",
        "prod-web",
        "prod-db",
        "staging",
        "batch",
        "TIME TO",
        "EXPOSURE",
        "WINDOWS",
        "PERFORMANCE",
        "p99.9",
    ] {
        assert!(stdout.contains(needle), "summary lacks {needle}:\n{stdout}");
    }
    for file in [
        "summary.json",
        "compliance.csv",
        "windows.csv",
        "associations.csv",
        "patches.csv",
        "instance_patch_states.jsonl",
        "exposure.csv",
        "report.html",
        "perf.json",
    ] {
        assert!(dir.join(file).is_file(), "{file} missing");
    }
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["instances"], 20_000);
    assert_eq!(summary["stop_reason"], "horizon");
    assert_eq!(summary["scenario_file"], "scenarios/default.toml");
    let perf: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("perf.json")).unwrap()).unwrap();
    // Every Install evaluates the report it leaves, and a daily scan each distinct patch
    // state among the instances whose baseline approved something since their last report:
    // 199,681 over this month. Without sharing one evaluation per state (sim/scan_memo.rs)
    // it was 485,974, and 580,315 without reusing the reports under baselines that approved
    // nothing either.
    let evaluations = perf["evaluations"].as_u64().unwrap();
    assert!((150_000..260_000).contains(&evaluations), "{evaluations} evaluations");
    assert!(perf["evaluation_latency_ns"]["p50"].as_u64().unwrap() > 0);
}

#[test]
fn a_non_empty_results_directory_is_kept_without_force_and_replaced_with_it() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("out");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("keep.txt"), "mine").unwrap();
    let scenario = data("ten-instances.toml");
    let args = ["run", "--quiet", scenario.to_str().unwrap(), "--out", dir.to_str().unwrap()];
    let output = run(&args);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("--force"));
    assert_eq!(std::fs::read_to_string(dir.join("keep.txt")).unwrap(), "mine");

    let mut forced = args.to_vec();
    forced.push("--force");
    let output = run(&forced);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(!dir.join("keep.txt").exists());
    assert!(dir.join("summary.json").is_file());
    // No staging directory is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(temp.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
}

#[test]
fn an_unwritable_output_location_is_an_input_error() {
    let temp = tempfile::tempdir().unwrap();
    // A regular file where the results' parent directory should be.
    let blocker = temp.path().join("file");
    std::fs::write(&blocker, "x").unwrap();
    let dir = blocker.join("results");
    let scenario = data("ten-instances.toml");
    let output = run(&["run", "--quiet", scenario.to_str().unwrap(), "--out", dir.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("cannot write results"), "{}", text(&output.stderr));
    assert_eq!(std::fs::read_to_string(&blocker).unwrap(), "x");
}

#[test]
fn validate_reports_every_problem_with_its_location_and_exits_2() {
    let temp = tempfile::tempdir().unwrap();
    let good = data("ten-instances.toml");
    let text_good = std::fs::read_to_string(&good).unwrap();
    let bad_text = text_good
        .replacen("horizon = \"14d\"", "horizon = \"0s\"", 1)
        .replacen("cutoff_hours = 1", "cutoff_hours = 2", 1)
        .replacen("count = 10", "count = -3", 1);
    let bad = temp.path().join("bad.toml");
    std::fs::write(&bad, &bad_text).unwrap();
    let output = run(&["validate", good.to_str().unwrap(), bad.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let stdout = text(&output.stdout);
    let stderr = text(&output.stderr);
    assert!(stdout.contains("ten-instances.toml: ok"), "{stdout}");
    let line = |needle: &str| bad_text.lines().position(|l| l.contains(needle)).unwrap() + 1;
    let bad_name = bad.display().to_string();
    for (needle, path) in [
        ("horizon = \"0s\"", "scenario.horizon"),
        ("count = -3", "instance_group[0].count"),
        ("cutoff_hours = 2", "maintenance_window[0].cutoff_hours"),
    ] {
        let prefix = format!("{bad_name}:{}:", line(needle));
        assert!(
            stderr.lines().any(|l| l.starts_with(&prefix) && l.contains(path)),
            "no {prefix} … {path} in:\n{stderr}"
        );
    }
    assert!(stderr.contains("1 of 2 scenario files are invalid"));
}

#[test]
fn a_missing_scenario_file_is_an_input_error_naming_the_file() {
    let output = run(&["run", "--quiet", "no/such/file.toml"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("no/such/file.toml"));
}

#[test]
fn scenario_show_prints_the_effective_scenario_with_defaults() {
    let output = run(&["scenario", "show", data("ten-instances.toml").to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let shown = text(&output.stdout);
    // Defaults the file does not spell out are filled in.
    assert!(shown.contains("max_events = 500000000"), "{shown}");
    assert!(shown.contains("rejected_patches_action = \"ALLOW_AS_DEPENDENCY\""));
    assert!(shown.contains("timezone = \"UTC\""));
    // The printed scenario is itself a valid scenario.
    let temp = tempfile::tempdir().unwrap();
    let path = temp.path().join("shown.toml");
    std::fs::write(&path, &shown).unwrap();
    let output = run(&["validate", path.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
}

#[test]
fn schedule_prints_fire_instants_and_rejects_bad_expressions() {
    // C1 of the semantics reference: the third Thursday.
    let output = run(&["schedule", "cron(0 2 ? * THU#3 *)", "--after", "2025-03-01T00:00:00Z", "--count", "3"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "2025-03-20T02:00:00Z\n2025-04-17T02:00:00Z\n2025-05-15T02:00:00Z\n");
    // C10: Wednesdays 09:00 Los Angeles across the DST change of 2025-03-09.
    let output = run(&[
        "schedule",
        "cron(0 9 ? * WED *)",
        "--after",
        "2025-03-01T00:00:00Z",
        "--count",
        "3",
        "--timezone",
        "America/Los_Angeles",
    ]);
    assert_eq!(text(&output.stdout), "2025-03-05T17:00:00Z\n2025-03-12T16:00:00Z\n2025-03-19T16:00:00Z\n");
    for bad in ["cron(0 10 * * * *)", "rate(5 hour)", "cron(* * ? * * *)"] {
        let output = run(&["schedule", bad, "--after", "2025-03-01"]);
        assert_eq!(output.status.code(), Some(2), "{bad}");
        assert!(text(&output.stderr).contains(bad), "{}", text(&output.stderr));
    }
}

#[test]
fn unknown_arguments_exit_2() {
    let output = patchfleet().args(["run", "--no-such-flag"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn the_scenario_in_the_readme_is_valid() {
    let readme = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let block =
        readme.split("```toml\n").nth(1).and_then(|rest| rest.split("```").next()).expect("README has a toml block");
    let temp = tempfile::tempdir().unwrap();
    let path = temp.path().join("readme.toml");
    std::fs::write(&path, block).unwrap();
    let output = run(&["validate", path.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
}

#[test]
fn schedule_handles_daylight_saving_gaps_and_repeats() {
    let fires = |expression: &str, after: &str, zone: &str| {
        let output = run(&["schedule", expression, "--after", after, "--count", "3", "--timezone", zone]);
        assert!(output.status.success(), "{}", text(&output.stderr));
        text(&output.stdout)
    };
    // 02:30 does not exist in Berlin on 2025-03-30: it fires when the clock jumps to 03:00
    // CEST (01:00Z). Expected instants from python's zoneinfo.
    assert_eq!(
        fires("cron(30 2 ? * SUN *)", "2025-03-29T00:00:00Z", "Europe/Berlin"),
        "2025-03-30T01:00:00Z\n2025-04-06T00:30:00Z\n2025-04-13T00:30:00Z\n"
    );
    // 02:30 happens twice in Berlin on 2025-10-26: it fires once, at the first (CEST).
    assert_eq!(
        fires("cron(30 2 ? * SUN *)", "2025-10-20T00:00:00Z", "Europe/Berlin"),
        "2025-10-26T00:30:00Z\n2025-11-02T01:30:00Z\n2025-11-09T01:30:00Z\n"
    );
    // 01:30 happens twice in New York on 2025-11-02: first occurrence, EDT.
    assert_eq!(
        fires("cron(30 1 ? * SUN *)", "2025-10-27T00:00:00Z", "America/New_York"),
        "2025-11-02T05:30:00Z\n2025-11-09T06:30:00Z\n2025-11-16T06:30:00Z\n"
    );
    // C5: an offset of two days after the third Tuesday.
    let output = run(&[
        "schedule",
        "cron(30 23 ? * TUE#3 *)",
        "--after",
        "2025-03-01T00:00:00Z",
        "--count",
        "3",
        "--offset",
        "2",
    ]);
    assert_eq!(text(&output.stdout), "2025-03-20T23:30:00Z\n2025-04-17T23:30:00Z\n2025-05-22T23:30:00Z\n");
    for (bad, args) in
        [("unknown zone", vec!["--timezone", "Mars/Olympus"]), ("offset with rate", vec!["--offset", "2"])]
    {
        let mut all = vec!["schedule", "rate(1 day)", "--after", "2025-03-01"];
        all.extend(args);
        let output = run(&all);
        assert_eq!(output.status.code(), Some(2), "{bad}");
    }
}

#[test]
fn every_scenario_in_the_repository_validates() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut paths: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| p.display().to_string())
        .collect();
    paths.sort();
    assert!(paths.len() >= 3, "{paths:?}");
    let mut args = vec!["validate"];
    args.extend(paths.iter().map(String::as_str));
    let output = run(&args);
    assert!(output.status.success(), "{}", text(&output.stderr));
}
