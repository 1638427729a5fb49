//! `patchfleet experiment` and `patchfleet compare`: variants, paired differences,
//! located errors, and output that does not depend on the number of jobs.

use std::path::{Path, PathBuf};

use crate::support::{data, run, text};

/// The ten-instance scenario's window with MaxConcurrency 3 and 5. Worked out in
/// hand_calculated.rs: with 3 at a time the first Friday's execution takes four batches of
/// 7 minutes, 28 min = 1680 s; with 5, two batches, 840 s. Later executions are shorter,
/// so `run.max` is 1680 s against 840 s for every seed, a paired difference of -840 s.
fn experiment_text(extra: &str) -> String {
    format!(
        "base = \"{}\"\nseeds = [1, 2, 3]\nreference = \"three\"\nmetrics = [\"windows.friday-install.run.max\", \
         \"compliance.prod.end\"]\n{extra}\n[[variant]]\nname = \"three\"\n\n[[variant]]\nname = \"five\"\n\
         overrides = {{ \"maintenance_window.friday-install.task.install.max_concurrency\" = \"5\" }}\n",
        data("ten-instances.toml").display()
    )
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn experiment(file: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["experiment", file.to_str().unwrap(), "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    run(&args)
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect();
    files.sort();
    files
}

#[test]
fn output_is_byte_identical_with_one_or_two_jobs_and_the_paired_difference_is_the_hand_calculated_one() {
    let temp = tempfile::tempdir().unwrap();
    let file = write(temp.path(), "conc.toml", &experiment_text(""));
    let (one, two) = (temp.path().join("one"), temp.path().join("two"));
    let first = experiment(&file, &one, &["--jobs", "1"]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let second = experiment(&file, &two, &["--jobs", "2"]);
    assert!(second.status.success(), "{}", text(&second.stderr));
    assert_eq!(files(&one), files(&two));
    // The tables are the same; only the closing line names the two directories.
    let table = |o: &std::process::Output| text(&o.stdout).rsplit_once("experiment: ").unwrap().0.to_string();
    assert_eq!(table(&first), table(&second));
    let names: Vec<String> = files(&one).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["comparison.csv", "comparison.json", "conc.toml", "report.html", "runs.csv"]);

    let runs = std::fs::read_to_string(one.join("runs.csv")).unwrap();
    let lines: Vec<&str> = runs.lines().collect();
    assert_eq!(lines[0], "variant,seed,metric,value");
    assert_eq!(lines[1], "three,1,windows.friday-install.run.max,1680");
    assert_eq!(lines[7], "five,1,windows.friday-install.run.max,840");
    assert_eq!(lines.len(), 1 + 2 * 3 * 2);

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(one.join("comparison.json")).unwrap()).unwrap();
    let rows = json["rows"].as_array().unwrap();
    let row = |variant: &str, metric: &str| {
        rows.iter().find(|r| r["variant"] == variant && r["metric"] == metric).unwrap().clone()
    };
    let reference = row("three", "windows.friday-install.run.max");
    assert_eq!((reference["n"].as_u64(), reference["mean"].as_f64()), (Some(3), Some(1680.0)));
    assert_eq!((reference["sd"].as_f64(), reference["ci_low"].as_f64()), (Some(0.0), Some(1680.0)));
    assert!(reference["vs_reference"].is_null());
    let five = row("five", "windows.friday-install.run.max");
    let diff = &five["vs_reference"];
    assert_eq!((diff["n"].as_u64(), diff["mean"].as_f64()), (Some(3), Some(-840.0)));
    assert_eq!((diff["ci_low"].as_f64(), diff["ci_high"].as_f64()), (Some(-840.0), Some(-840.0)));
    assert_eq!(diff["excludes_zero"], true);
    // Both end fully compliant: no difference, and the interval says so.
    let end = row("five", "compliance.prod.end");
    assert_eq!((end["mean"].as_f64(), end["vs_reference"]["excludes_zero"].as_bool()), (Some(1.0), Some(false)));

    let csv = std::fs::read_to_string(one.join("comparison.csv")).unwrap();
    assert!(
        csv.contains("\nfive,windows.friday-install.run.max,seconds,3,0,840,0,840,840,3,-840,-840,-840,true\n"),
        "{csv}"
    );
    let stdout = text(&first.stdout);
    assert!(stdout.contains("three (ref)"), "{stdout}");
    assert!(stdout.contains("-840s [-840s, -840s] differs"), "{stdout}");
}

#[test]
fn an_override_of_a_path_that_does_not_exist_is_a_located_error() {
    let temp = tempfile::tempdir().unwrap();
    let bad = experiment_text("").replace("friday-install.task.install", "friday-install.task.instal");
    let file = write(temp.path(), "bad.toml", &bad);
    let output = experiment(&file, &temp.path().join("out"), &[]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    let line = bad.lines().position(|l| l.contains("task.instal.")).unwrap() + 1;
    let expected = format!(
        "{}:{line}:15: variant[1].name: override: `maintenance_window.friday-install.task.instal.max_concurrency` does not exist",
        file.display()
    );
    assert!(stderr.contains(&expected), "{stderr}");
    assert!(stderr.contains("no element named `instal` (names: install)"), "{stderr}");
    assert!(!temp.path().join("out").exists());
}

#[test]
fn a_wrongly_typed_override_is_reported_at_the_override() {
    let temp = tempfile::tempdir().unwrap();
    let bad = experiment_text("").replace("= \"5\" }", "= \"lots\" }");
    let file = write(temp.path(), "bad.toml", &bad);
    let output = experiment(&file, &temp.path().join("out"), &[]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    let line = bad.lines().position(|l| l.contains("lots")).unwrap() + 1;
    let prefix = format!("{}:{line}:", file.display());
    assert!(stderr.contains(&prefix) && stderr.contains("variant `five`"), "{stderr}");
}

#[test]
fn an_unknown_metric_name_is_a_located_error() {
    let temp = tempfile::tempdir().unwrap();
    let bad = experiment_text("").replace("compliance.prod.end", "compliance.prod.ending");
    let file = write(temp.path(), "bad.toml", &bad);
    let output = experiment(&file, &temp.path().join("out"), &[]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    let column = bad.lines().nth(3).unwrap().find("\"compliance.prod.ending").unwrap() + 1;
    let expected = format!("{}:4:{column}: metrics[1]: no metric named `compliance.prod.ending`", file.display());
    assert!(stderr.contains(&expected), "{stderr}");
}

#[test]
fn malformed_files_unknown_keys_empty_sweeps_and_too_many_runs_are_refused() {
    let temp = tempfile::tempdir().unwrap();
    let cases = [
        (experiment_text("colour = 1"), "unknown field `colour`"),
        (experiment_text("[[sweep]]\nparameters = { \"scenario.seed\" = [] }"), "a sweep of zero points"),
        (experiment_text("").replace("reference = \"three\"", "reference = \"four\""), "no variant named `four`"),
        (experiment_text("").replace("seeds = [1, 2, 3]", "replications = 6000"), "pass --yes"),
        (experiment_text("").replace("seeds = [1, 2, 3]", "seeds = [1, 1]"), "seed 1 is listed twice"),
    ];
    for (i, (body, message)) in cases.iter().enumerate() {
        let file = write(temp.path(), &format!("case{i}.toml"), body);
        let output = experiment(&file, &temp.path().join("out"), &[]);
        assert_eq!(output.status.code(), Some(2), "case {i}");
        let stderr = text(&output.stderr);
        assert!(stderr.contains(message), "case {i}: {stderr}");
        assert!(stderr.starts_with(&format!("{}:", file.display())), "case {i}: {stderr}");
    }
}

#[test]
fn a_sweep_makes_one_variant_per_point_named_after_its_values() {
    let temp = tempfile::tempdir().unwrap();
    let body = format!(
        "base = \"{}\"\nreplications = 1\nmetrics = [\"windows.friday-install.run.max\"]\n\n[[sweep]]\nparameters = \
         {{ \"maintenance_window.friday-install.task.install.max_concurrency\" = [\"2\", \"10\"] }}\n",
        data("ten-instances.toml").display()
    );
    let file = write(temp.path(), "sweep.toml", &body);
    let out = temp.path().join("out");
    let output = experiment(&file, &out, &[]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let runs = std::fs::read_to_string(out.join("runs.csv")).unwrap();
    // 2 at a time: five batches of 7 minutes; 10 at a time: one batch.
    assert!(runs.contains("max_concurrency=2,1,windows.friday-install.run.max,2100\n"), "{runs}");
    assert!(runs.contains("max_concurrency=10,1,windows.friday-install.run.max,420\n"), "{runs}");
    // A directory in the way is refused, and left as it was.
    let again = experiment(&file, &out, &[]);
    assert_eq!(again.status.code(), Some(2));
    assert!(text(&again.stderr).contains("already exists and is not empty"));
    assert_eq!(std::fs::read_to_string(out.join("runs.csv")).unwrap(), runs);
}

#[test]
fn keep_runs_writes_each_runs_results_directory() {
    let temp = tempfile::tempdir().unwrap();
    let file = write(temp.path(), "conc.toml", &experiment_text("").replace("seeds = [1, 2, 3]", "seeds = [4]"));
    let out = temp.path().join("out");
    let output = experiment(&file, &out, &["--keep-runs"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    for dir in ["runs/0-three/seed-4", "runs/1-five/seed-4"] {
        let summary = std::fs::read_to_string(out.join(dir).join("summary.json")).unwrap();
        assert!(summary.contains("\"seed\": 4"), "{dir}: {summary}");
    }
}

#[test]
fn the_shipped_experiments_validate() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/experiments");
    let mut names: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, ["approve-after-days.toml", "concurrency.toml", "reboot.toml"]);
    for name in names {
        let experiment = patchfleet::experiment::load(&dir.join(&name), false).unwrap_or_else(|e| panic!("{e}"));
        assert!(experiment.variants.len() >= 2 && experiment.reference.is_some(), "{name}");
        assert!(experiment.runs() <= 16, "{name} should run in seconds");
    }
}

fn run_dir(temp: &Path, name: &str, scenario: &Path, seed: &str) -> PathBuf {
    let dir = temp.join(name);
    let output = run(&["run", "--quiet", scenario.to_str().unwrap(), "--seed", seed, "--out", dir.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    dir
}

#[test]
fn compare_shows_two_runs_side_by_side_and_refuses_different_scenarios() {
    let temp = tempfile::tempdir().unwrap();
    let scenario = data("ten-instances.toml");
    let a = run_dir(temp.path(), "a", &scenario, "1");
    let b = run_dir(temp.path(), "b", &scenario, "2");
    let output = run(&["compare", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let line = stdout.lines().find(|l| l.trim_start().starts_with("windows.friday-install.run.max ")).unwrap();
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(fields[1..], ["1680", "1680", "+0", "seconds"]);
    assert!(stdout.contains("metrics differ"), "{stdout}");

    let changed = temp.path().join("changed.toml");
    let original = std::fs::read_to_string(&scenario).unwrap();
    std::fs::write(&changed, original.replace("max_concurrency = \"3\"", "max_concurrency = \"5\"")).unwrap();
    let c = run_dir(temp.path(), "c", &changed, "1");
    let refused = run(&["compare", a.to_str().unwrap(), c.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(text(&refused.stderr).contains("not comparable"), "{}", text(&refused.stderr));
    let missing = run(&["compare", a.to_str().unwrap(), temp.path().join("nothing").to_str().unwrap()]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("summary.json"), "{}", text(&missing.stderr));
}

/// `[[threshold]]` in an experiment bounds a statistic of one variant's metric: the paired
/// difference of `five` is -840 s (hand-calculated above), so `diff_ci_high <= -600` passes
/// and `diff_mean <= -900` fails, with exit code 99 after the outputs are written.
#[test]
fn experiment_thresholds_bound_a_variants_statistics_and_exit_99_when_one_fails() {
    let temp = tempfile::tempdir().unwrap();
    let thresholds = "[[threshold]]\nvariant = \"five\"\nmetric = \"windows.friday-install.run.max\"\n\
                      statistic = \"diff_ci_high\"\nmax = -600\n\n[[threshold]]\nvariant = \"five\"\n\
                      metric = \"windows.friday-install.run.max\"\nstatistic = \"diff_mean\"\nmax = -900\n\n\
                      [[threshold]]\nvariant = \"three\"\nmetric = \"windows.friday-install.run.max\"\nmax = \"30m\"\n";
    let file = write(temp.path(), "t.toml", &experiment_text(thresholds));
    let out = temp.path().join("out");
    let output = experiment(&file, &out, &[]);
    assert_eq!(output.status.code(), Some(99), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("✓ five windows.friday-install.run.max (diff_ci_high)"), "{stdout}");
    assert!(stdout.contains("✗ five windows.friday-install.run.max (diff_mean)"), "{stdout}");
    assert!(stdout.contains("✓ three windows.friday-install.run.max (mean)"), "{stdout}");
    assert!(stdout.contains("1 of 3 thresholds failed: exit code 99"), "{stdout}");
    let comparison: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("comparison.json")).unwrap()).unwrap();
    let passed: Vec<bool> = comparison["thresholds"].as_array().unwrap().iter().map(|t| t["passed"] == true).collect();
    assert_eq!(passed, [true, false, true]);
}

#[test]
fn experiment_thresholds_on_unknown_variants_metrics_or_statistics_are_located_errors() {
    let temp = tempfile::tempdir().unwrap();
    let bad =
        "[[threshold]]\nvariant = \"seven\"\nmetric = \"compliance.prod.min\"\nstatistic = \"median\"\nmax = \"3d\"\n";
    let file = write(temp.path(), "bad.toml", &experiment_text(bad));
    let output = experiment(&file, &temp.path().join("out"), &[]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("threshold[0].variant: no variant named `seven`"), "{stderr}");
    assert!(
        stderr.contains("threshold[0].metric: `compliance.prod.min` is not one of the experiment's `metrics`"),
        "{stderr}"
    );
    assert!(stderr.contains("threshold[0].statistic: unknown statistic `median`"), "{stderr}");
    assert!(!temp.path().join("out").exists());
}
