//! Determinism: the same scenario, seed and version give byte-identical results directories
//! (perf.json aside), whatever the number of threads; another seed gives different ones.

use crate::support::{deterministic_files, run, text};

fn run_default(dir: &std::path::Path, extra: &[&str]) {
    let dir = dir.to_str().unwrap();
    let mut args = vec!["run", "--quiet", "--out", dir];
    args.extend_from_slice(extra);
    let output = run(&args);
    assert!(output.status.success(), "run failed: {}", text(&output.stderr));
}

#[test]
fn same_seed_gives_byte_identical_results_on_one_two_and_eight_threads() {
    let temp = tempfile::tempdir().unwrap();
    let one = temp.path().join("one");
    let two = temp.path().join("two");
    let again = temp.path().join("again");
    let eight = temp.path().join("eight");
    run_default(&one, &["--threads", "1"]);
    run_default(&two, &["--threads", "2"]);
    run_default(&again, &["--threads", "2"]);
    run_default(&eight, &["--threads", "8"]);
    let expected = deterministic_files(&one);
    let names: Vec<&str> = expected.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "asg.csv",
            "associations.csv",
            "compliance.csv",
            "exposure.csv",
            "instance_patch_states.jsonl",
            "patches.csv",
            "remediations.csv",
            "report.html",
            "repository.csv",
            "summary.json",
            "windows.csv"
        ]
    );
    for other in [&two, &again, &eight] {
        let found = deterministic_files(other);
        for ((name, bytes), (other_name, other_bytes)) in expected.iter().zip(&found) {
            assert_eq!(name, other_name);
            assert!(bytes == other_bytes, "{name} differs between runs of the same seed");
        }
    }
}

#[test]
fn another_seed_gives_different_results() {
    let temp = tempfile::tempdir().unwrap();
    let first = temp.path().join("first");
    let second = temp.path().join("second");
    run_default(&first, &["--seed", "1"]);
    run_default(&second, &["--seed", "2"]);
    let a = deterministic_files(&first);
    let b = deterministic_files(&second);
    for name in ["compliance.csv", "patches.csv", "windows.csv"] {
        let left = &a.iter().find(|(n, _)| n == name).unwrap().1;
        let right = &b.iter().find(|(n, _)| n == name).unwrap().1;
        assert!(left != right, "{name} is the same under seeds 1 and 2");
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&a.iter().find(|(n, _)| n == "summary.json").unwrap().1).unwrap();
    assert_eq!(summary["seed"], 1);
}

#[test]
fn churn_and_partitions_give_identical_results_on_one_two_and_eight_threads() {
    // asg-churn.toml: an Auto Scaling tier with demand, lifetimes and actions, and random
    // link failures in both zones.
    let scenario = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/asg-churn.toml");
    let temp = tempfile::tempdir().unwrap();
    let one = temp.path().join("one");
    let two = temp.path().join("two");
    let eight = temp.path().join("eight");
    for (dir, threads) in [(&one, "1"), (&two, "2"), (&eight, "8")] {
        let output =
            run(&["run", scenario.to_str().unwrap(), "--quiet", "--threads", threads, "--out", dir.to_str().unwrap()]);
        assert!(output.status.success(), "{}", text(&output.stderr));
    }
    let a = deterministic_files(&one);
    for (other, threads) in [(&two, 2), (&eight, 8)] {
        let b = deterministic_files(other);
        assert_eq!(a.len(), b.len());
        for ((name, left), (_, right)) in a.iter().zip(&b) {
            assert!(left == right, "{name} differs between 1 and {threads} threads");
        }
    }
    let asg = String::from_utf8_lossy(&a.iter().find(|(n, _)| n == "asg.csv").unwrap().1).into_owned();
    assert!(asg.lines().count() > 100, "the run sampled its Auto Scaling group");
}
