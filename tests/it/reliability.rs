//! No input crashes the binary, no scenario exhausts the machine, no run leaves debris.
//!
//! - The regression corpus `tests/data/bad/`: each `NAME.expect` gives a command line, the
//!   exit code and the messages it must print; every file of the corpus is used by one.
//! - The resource estimate against measured runs (peak RSS, results size, events, work).
//! - `--force` killed at each step of the replacement leaves the old or the new results, and
//!   the next run removes what the killed one left.
//! - `fuzz`: structure-aware generators of scenario text and schedule expressions.

mod fuzz;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use patchfleet::scenario::estimate::estimate;

use crate::support::{data, deterministic_files, patchfleet, text};

/// One `.expect` file: `args:` (one line, split on spaces; `{file}` is the corpus file of
/// the same name with `.toml`, `{data}` is `tests/data`, `{out}` a fresh directory), `exit:`
/// and any number of `stderr:` lines that must each appear in the error output.
struct Expectation {
    args: Vec<String>,
    exit: i32,
    stderr: Vec<String>,
}

fn read_expectation(path: &Path, out: &Path) -> Expectation {
    let text = std::fs::read_to_string(path).unwrap();
    let file = path.with_extension("toml");
    let data = data("");
    let data = data.to_str().unwrap().trim_end_matches('/');
    let mut expectation = Expectation { args: Vec::new(), exit: -1, stderr: Vec::new() };
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let (key, value) = line.split_once(": ").unwrap_or_else(|| panic!("{}: bad line `{line}`", path.display()));
        match key {
            "args" => {
                expectation.args = value
                    .split(' ')
                    .map(|a| {
                        a.replace("{file}", file.to_str().unwrap())
                            .replace("{data}", data)
                            .replace("{out}", out.to_str().unwrap())
                    })
                    .collect()
            }
            "exit" => expectation.exit = value.parse().unwrap(),
            "stderr" => expectation.stderr.push(value.to_string()),
            _ => panic!("{}: unknown key `{key}`", path.display()),
        }
    }
    assert!(!expectation.args.is_empty() && expectation.exit >= 0, "{}: args and exit are required", path.display());
    expectation
}

#[test]
fn every_input_of_the_regression_corpus_gives_its_located_error() {
    let corpus = data("bad");
    let mut used: BTreeSet<PathBuf> = BTreeSet::new();
    let mut expectations: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "expect"))
        .collect();
    expectations.sort();
    assert!(expectations.len() >= 10, "the corpus holds every input issue 13 lists");
    for path in &expectations {
        let out = tempfile::tempdir().unwrap();
        let expectation = read_expectation(path, out.path());
        for arg in &expectation.args {
            if arg.starts_with(corpus.to_str().unwrap()) {
                used.insert(PathBuf::from(arg));
            }
        }
        let output = patchfleet().args(&expectation.args).output().unwrap();
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(expectation.exit), "{}: {stderr}", path.display());
        assert!(!stderr.contains("panicked"), "{}: {stderr}", path.display());
        for wanted in &expectation.stderr {
            assert!(stderr.contains(wanted.as_str()), "{}: expected `{wanted}` in:\n{stderr}", path.display());
        }
        // Nothing was run, so nothing was written.
        assert!(!out.path().join("r").exists(), "{}", path.display());
    }
    for entry in std::fs::read_dir(&corpus).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            assert!(used.contains(&path), "{} is in the corpus but no .expect runs it", path.display());
        }
    }
}

/// Peak RSS in MiB, from `perf.json`.
fn peak_rss_mib(dir: &Path) -> f64 {
    let perf: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("perf.json")).unwrap()).unwrap();
    perf["peak_rss_mib"].as_f64().expect("Linux reports VmHWM")
}

fn directory_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().metadata().unwrap().len()).sum()
}

/// Asserts `estimate / measured` lies within `[1 / factor, factor]`.
fn within(what: &str, estimate: f64, measured: f64, factor: f64) {
    let ratio = estimate / measured;
    eprintln!("{what}: estimated {estimate:.0}, measured {measured:.0}, ratio {ratio:.2}");
    assert!(
        (1.0 / factor..=factor).contains(&ratio),
        "{what}: estimated {estimate}, measured {measured} (ratio {ratio:.2}, allowed factor {factor})"
    );
}

/// The estimate is within a factor of 3 of what runs measure: peak RSS and results size of
/// the binary, events and work of the library's run.
#[test]
fn the_estimate_is_within_a_factor_of_three_of_measured_runs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for file in ["scenarios/asg-churn.toml", "scenarios/mirror-stampede.toml", "tests/data/ten-instances.toml"] {
        let path = root.join(file);
        let scenario = patchfleet::scenario::load(file, &std::fs::read_to_string(&path).unwrap()).unwrap();
        let e = estimate(&scenario);
        let result = patchfleet::run::run(&scenario, scenario.seed, |_, _| {}).unwrap();
        within(&format!("{file} events"), e.events as f64, result.outcome.events_processed as f64, 3.0);
        within(&format!("{file} work"), e.work as f64, result.outcome.work as f64, 3.0);
        let out = tempfile::tempdir().unwrap();
        let dir = out.path().join("r");
        let run =
            patchfleet().args(["run", path.to_str().unwrap(), "--out", dir.to_str().unwrap(), "-q"]).output().unwrap();
        assert!(run.status.success(), "{}", text(&run.stderr));
        within(&format!("{file} memory"), e.memory_bytes as f64, peak_rss_mib(&dir) * 1024.0 * 1024.0, 3.0);
        within(&format!("{file} output"), e.output_bytes as f64, directory_bytes(&dir) as f64, 3.0);
    }
}

fn run_into(dir: &Path, seed: &str, abort_at: Option<&str>) -> std::process::Output {
    let mut command = patchfleet();
    command.args(["run", data("ten-instances.toml").to_str().unwrap(), "--seed", seed, "--force", "-q", "--out"]);
    command.arg(dir);
    if let Some(step) = abort_at {
        command.env("PATCHFLEET_TEST_ABORT_AT", step);
    }
    command.output().unwrap()
}

fn leftovers(parent: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    names.sort();
    names
}

/// A run with `--force` killed at each step of the replacement leaves the complete old or
/// the complete new results under the final name; the next run says what it removed.
#[test]
fn a_forced_replacement_killed_at_any_step_leaves_old_or_new_results() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("res");
    let reference = parent.path().join("reference");
    // Two complete result sets that differ: seed 1 (old) and seed 2 (new).
    assert!(run_into(&reference, "2", None).status.success());
    let new = deterministic_files(&reference);
    std::fs::remove_dir_all(&reference).unwrap();
    for (step, replaced) in [("staged", false), ("exchanged", true), ("removing", true)] {
        assert!(run_into(&dir, "1", None).status.success());
        let old = deterministic_files(&dir);
        assert_ne!(old, new);
        let killed = run_into(&dir, "2", Some(step));
        assert!(!killed.status.success(), "the hook aborts at `{step}`");
        let now = deterministic_files(&dir);
        assert_eq!(now == new, replaced, "after a kill at `{step}`");
        assert!(now == old || now == new, "after a kill at `{step}` the results are complete");
        assert!(!leftovers(parent.path()).is_empty(), "a kill at `{step}` leaves its staging directory");
        // The next run removes what the killed one left, and says so.
        let next = run_into(&dir, "2", None);
        assert!(next.status.success(), "{}", text(&next.stderr));
        let stderr = text(&next.stderr);
        assert!(stderr.contains("left by a process that no longer exists"), "{stderr}");
        assert!(stderr.contains(".res.partial-"), "{stderr}");
        assert_eq!(leftovers(parent.path()), Vec::<String>::new());
        assert_eq!(deterministic_files(&dir), new);
    }
}

/// The fallback procedure (two renames) killed between them: the next run puts the old
/// results back under their name before anything else.
#[test]
fn a_retired_directory_of_a_dead_process_is_put_back() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("res");
    assert!(run_into(&dir, "1", None).status.success());
    let old = deterministic_files(&dir);
    // What a kill between the two renames leaves: the old results under the retired name
    // of a process that is gone (pid above any pid_max), and no `res`.
    std::fs::rename(&dir, parent.path().join(".res.replaced-1073741824")).unwrap();
    let check = patchfleet()
        .args(["run", data("ten-instances.toml").to_str().unwrap(), "-q", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    // Without --force the restored results are kept and the run refuses to replace them.
    assert_eq!(check.status.code(), Some(2));
    let stderr = text(&check.stderr);
    assert!(stderr.contains("restored"), "{stderr}");
    assert!(stderr.contains("already exists and is not empty"), "{stderr}");
    assert_eq!(deterministic_files(&dir), old);
    assert_eq!(leftovers(parent.path()), Vec::<String>::new());
}

/// `patchfleet validate ... | head -1`: a closed stdout ends the output quietly instead of
/// panicking in `println!`.
#[test]
fn a_closed_stdout_is_not_a_panic() {
    let mut child = patchfleet()
        .args(["validate", data("ten-instances.toml").to_str().unwrap()])
        .args(std::iter::repeat_n(data("ten-instances.toml"), 200))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = text(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(output.status.code(), Some(0), "{stderr}");
}

/// The work budget also holds at run time: a run stops at `work_limit` once its events and
/// the instances they visited reach it.
#[test]
fn the_work_budget_stops_a_run_that_goes_beyond_it() {
    let text = std::fs::read_to_string(data("ten-instances.toml")).unwrap();
    let scenario = patchfleet::scenario::load("ten-instances.toml", &text).unwrap();
    let full = patchfleet::run::run(&scenario, 7, |_, _| {}).unwrap();
    assert_eq!(full.outcome.stop_reason.as_str(), "horizon");
    let limited = patchfleet::run::run_within(&scenario, 7, 100, |_, _| {}).unwrap();
    assert_eq!(limited.outcome.stop_reason.as_str(), "work_limit");
    // It stops at the first event boundary at or past the budget; the heaviest event, a
    // scan tick, costs 1 + 10 (resolving over the fleet) + 10 (its targets) units.
    assert!((100..=120).contains(&limited.outcome.work), "{}", limited.outcome.work);
    assert!(limited.outcome.events_processed < full.outcome.events_processed);
}

/// A cohort event is charged in proportion to its targets: one scan tick over 100,000
/// instances is 200,001 units of work (the event, resolving its targets over the fleet, and
/// scanning each), so a budget of 250,000 stops the run right after it, though only two
/// events have run.
#[test]
fn one_huge_cohort_event_counts_its_targets_against_the_work_budget() {
    let text = std::fs::read_to_string(data("ten-instances.toml")).unwrap();
    let huge = text.replace("count = 10\n", "count = 100000\n");
    assert_ne!(huge, text);
    let scenario = patchfleet::scenario::load("huge-cohort.toml", &huge).unwrap();
    let limited = patchfleet::run::run_within(&scenario, 7, 250_000, |_, _| {}).unwrap();
    assert_eq!(limited.outcome.stop_reason.as_str(), "work_limit");
    // At the start: the first sample (1 + 100,000 instances counted), then the scan tick
    // (1 + 100,000 resolved + 100,000 scanned); the budget is checked between events.
    assert_eq!(limited.outcome.events_processed, 2);
    assert_eq!(limited.outcome.work, 300_002);
    assert_eq!(limited.outcome.stopped_at, scenario.start);
}

/// `run` refuses a scenario over a budget, naming what drives it with its place, and runs it
/// once the flag raises the budget.
#[test]
fn a_budget_flag_refuses_a_run_and_a_larger_one_lets_it_through() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("r");
    let scenario = data("ten-instances.toml");
    let refused = patchfleet()
        .args(["run", scenario.to_str().unwrap(), "-q", "--max-output", "1K", "--out", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let stderr = text(&refused.stderr);
    assert!(
        stderr.contains("estimated output 144.0 KiB is over the budget of 1.0 KiB (raise it with --max-output)"),
        "{stderr}"
    );
    assert!(stderr.contains("ten-instances.toml:4:1: scenario: summary.json and report.html"), "{stderr}");
    assert!(!dir.exists());
    let accepted = patchfleet()
        .args(["run", scenario.to_str().unwrap(), "-q", "--max-output", "1MiB", "--max-work", "1e4", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(accepted.status.success(), "{}", text(&accepted.stderr));
    assert!(dir.join("summary.json").exists());
    let bad = patchfleet().args(["run", "--max-memory", "8XB"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("unknown unit `XB`"), "{}", text(&bad.stderr));
}
