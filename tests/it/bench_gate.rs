//! The benchmark gate's decisions (`cargo bench --bench gate`): a measure that rose beyond
//! its tolerance fails with exit 3 and is named with its change; a loose baseline passes; a
//! baseline of another format or version is an input error (exit 2). The counts compared
//! here are written by the tests, so no valgrind is needed; CI runs the real measurement.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use patchfleet::bench::compare::{Verdict, compare, regression_lines};
use patchfleet::bench::format::{Baseline, Bmf, INSTRUCTIONS, LATENCY, Metric, read_baseline, write_json};
use patchfleet::bench::suite::SUITE;
use patchfleet::bench::{EXIT_REGRESSION, gate_main};

fn committed_baseline_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("results/baselines/bench.json")
}

fn committed() -> Baseline {
    read_baseline(&committed_baseline_path()).expect("the committed baseline reads")
}

/// A BMF document with these instruction counts (and a wall time, which is never gated).
fn bmf(counts: &[(&str, f64)]) -> Bmf {
    counts
        .iter()
        .map(|(name, count)| {
            let measures = BTreeMap::from([
                (INSTRUCTIONS.to_string(), Metric::exact(*count)),
                (LATENCY.to_string(), Metric::exact(1.0)),
            ]);
            (name.to_string(), measures)
        })
        .collect()
}

/// Runs the gate's comparison of `current` against `baseline`, both written to `dir`.
fn gate(dir: &Path, current: &Bmf, baseline: &impl serde::Serialize) -> u8 {
    gate_with(dir, current, baseline, &[])
}

fn gate_with(dir: &Path, current: &Bmf, baseline: &impl serde::Serialize, extra: &[&str]) -> u8 {
    let current_path = dir.join("current.json");
    let baseline_path = dir.join("baseline.json");
    write_json(&current_path, current).unwrap();
    write_json(&baseline_path, baseline).unwrap();
    let args = ["gate", "--compare", current_path.to_str().unwrap(), "--baseline", baseline_path.to_str().unwrap()];
    gate_main(args.iter().chain(extra).map(OsString::from))
}

#[test]
fn the_committed_baseline_gates_every_instruction_counted_measure() {
    let baseline = committed();
    let counted: Vec<&str> = SUITE.iter().filter(|m| m.counted).map(|m| m.name).collect();
    let gated: Vec<&str> = baseline.tolerance_percent.keys().map(String::as_str).collect();
    let mut expected = counted.clone();
    expected.sort();
    assert_eq!(gated, expected);
    assert!(!baseline.commit.starts_with("unknown"), "commit: {}", baseline.commit);
    assert!(baseline.machine.valgrind.starts_with("valgrind-"), "{}", baseline.machine.valgrind);
    // The smoke run is measured on the wall clock only.
    assert!(baseline.measures["pipeline/smoke_1m_instances"].contains_key(LATENCY));
    assert!(!baseline.measures["pipeline/smoke_1m_instances"].contains_key(INSTRUCTIONS));
}

#[test]
fn a_run_equal_to_the_committed_baseline_passes_and_a_tightened_baseline_fails() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = committed();
    // The run measured exactly what the baseline holds: within every tolerance.
    assert_eq!(gate(dir.path(), &baseline.measures, &baseline), 0);

    // The same run against a baseline whose Scan at 10,000 patches was 5% cheaper.
    let mut tightened = baseline.clone();
    let scan = tightened.measures.get_mut("scan_evaluation/catalog_10000").unwrap();
    let measured = scan[INSTRUCTIONS].value;
    scan.get_mut(INSTRUCTIONS).unwrap().value = measured / 1.05;
    assert_eq!(gate(dir.path(), &baseline.measures, &tightened), EXIT_REGRESSION);
    let lines = regression_lines(&compare(&baseline.measures, &tightened));
    assert_eq!(lines.lines().count(), 1, "{lines}");
    assert!(lines.contains("scan_evaluation/catalog_10000") && lines.contains("+5.00%"), "{lines}");
}

fn handmade_baseline(tolerance: f64) -> Baseline {
    let mut baseline = committed();
    baseline.measures = bmf(&[("engine_hold/pending_1000", 400.0), ("scan_evaluation/catalog_2000", 2_000.0)]);
    baseline.tolerance_percent = BTreeMap::from([
        ("engine_hold/pending_1000".into(), tolerance),
        ("scan_evaluation/catalog_2000".into(), tolerance),
    ]);
    baseline
}

#[test]
fn a_rise_beyond_the_tolerance_fails_and_names_the_measure_and_its_change() {
    let dir = tempfile::tempdir().unwrap();
    // 408 against 400 is +2%; the Scan is unchanged.
    let current = bmf(&[("engine_hold/pending_1000", 408.0), ("scan_evaluation/catalog_2000", 2_000.0)]);
    assert_eq!(gate(dir.path(), &current, &handmade_baseline(1.0)), EXIT_REGRESSION);
    let changes = compare(&current, &handmade_baseline(1.0));
    assert_eq!(changes[0].verdict, Verdict::Regressed);
    assert_eq!(changes[1].verdict, Verdict::Within);
    let lines = regression_lines(&changes);
    assert_eq!(
        lines.trim(),
        "regression: engine_hold/pending_1000: 408.0 instructions per operation against 400.0 in the \
         baseline (+2.00%, tolerance 1.00%)"
    );
    // The same rise passes a loose baseline, and is not compared when filtered out.
    assert_eq!(gate(dir.path(), &current, &handmade_baseline(5.0)), 0);
    assert_eq!(gate_with(dir.path(), &current, &handmade_baseline(1.0), &["--filter", "scan_"]), 0);
    assert_eq!(gate_with(dir.path(), &current, &handmade_baseline(1.0), &["--filter", "nothing"]), 2);
}

#[test]
fn falls_and_measures_missing_from_the_baseline_pass() {
    let dir = tempfile::tempdir().unwrap();
    let current = bmf(&[
        ("engine_hold/pending_1000", 300.0),
        ("scan_evaluation/catalog_2000", 2_010.0),
        ("engine_hold/calendar_1000", 200.0),
    ]);
    assert_eq!(gate(dir.path(), &current, &handmade_baseline(1.0)), 0);
    let verdicts: Vec<(String, Verdict)> =
        compare(&current, &handmade_baseline(1.0)).into_iter().map(|c| (c.bench, c.verdict)).collect();
    assert_eq!(
        verdicts,
        [
            ("engine_hold/calendar_1000".to_string(), Verdict::New),
            ("engine_hold/pending_1000".to_string(), Verdict::Improved),
            ("scan_evaluation/catalog_2000".to_string(), Verdict::Within),
        ]
    );
}

/// The gate's exit code and `read_baseline`'s message for a baseline file of this text.
fn bad_baseline(text: &str) -> (u8, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("baseline.json");
    std::fs::write(&path, text).unwrap();
    let current = dir.path().join("current.json");
    write_json(&current, &bmf(&[("engine_hold/pending_1000", 400.0)])).unwrap();
    let code = gate_main(
        ["gate", "--compare", current.to_str().unwrap(), "--baseline", path.to_str().unwrap()].map(OsString::from),
    );
    let message = read_baseline(&path).expect_err("the baseline is refused").0;
    assert!(message.starts_with(&path.display().to_string()), "names the file: {message}");
    (code, message)
}

fn committed_text_with(field: &str, value: serde_json::Value) -> String {
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(committed_baseline_path()).unwrap()).unwrap();
    json[field] = value;
    json.to_string()
}

#[test]
fn a_baseline_of_another_format_or_version_is_an_input_error() {
    let (code, message) = bad_baseline(&committed_text_with("format", "gungraun-summary".into()));
    assert_eq!(code, 2);
    assert!(message.contains("format `gungraun-summary`, expected format `patchfleet-bench-baseline`"), "{message}");

    let (code, message) = bad_baseline(&committed_text_with("version", 2.into()));
    assert_eq!(code, 2);
    assert!(message.contains("baseline version 2; this patchfleet reads version 1"), "{message}");

    // A plain BMF document (a run's output) is not a baseline.
    let (code, message) = bad_baseline(r#"{"engine_hold/pending_1000": {"instructions": {"value": 400.0}}}"#);
    assert_eq!(code, 2);
    assert!(message.contains("no `format` field"), "{message}");
}

#[test]
fn a_malformed_baseline_is_an_input_error_with_its_place() {
    let (code, message) = bad_baseline("{\n  \"format\": \"patchfleet-bench-baseline\",\n  \"version\": 1,,\n}");
    assert_eq!(code, 2);
    assert!(message.contains("line 3 column"), "{message}");

    let mut without_tolerance: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(committed_baseline_path()).unwrap()).unwrap();
    without_tolerance["tolerance_percent"].as_object_mut().unwrap().remove("engine_hold/pending_1000");
    let (code, message) = bad_baseline(&without_tolerance.to_string());
    assert_eq!(code, 2);
    assert!(message.contains("tolerance_percent: no entry for `engine_hold/pending_1000`"), "{message}");

    let (code, message) = bad_baseline(&committed_text_with("tolerances", serde_json::json!({})));
    assert_eq!(code, 2);
    assert!(message.contains("unknown field `tolerances`"), "{message}");
}

#[test]
fn the_micro_benchmark_bodies_run() {
    // The whole-scenario bodies run in CI under the gate; these are quick enough here.
    for measure in SUITE.iter().filter(|m| !m.name.starts_with("pipeline/")) {
        let mut body = measure.prepare().unwrap_or_else(|e| panic!("{}: {e}", measure.name));
        body().unwrap_or_else(|e| panic!("{}: {e}", measure.name));
    }
}

#[test]
fn the_smoke_scenario_is_the_default_fleet_fifty_times_over() {
    let default = patchfleet::scenario::load_default();
    let smoke = patchfleet::bench::fixtures::scaled_default_scenario(50).unwrap();
    let counts = |s: &patchfleet::scenario::Scenario| s.groups.iter().map(|g| g.count).collect::<Vec<_>>();
    assert_eq!(counts(&smoke), counts(&default).iter().map(|c| c * 50).collect::<Vec<_>>());
    assert_eq!(smoke.groups.iter().map(|g| u64::from(g.count)).sum::<u64>(), 1_000_000);
    assert_eq!(smoke.horizon, default.horizon);
}
