//! `patchfleet experiment --shard` and `experiment merge`: shards chosen by flag or by a
//! job scheduler's environment merge into exactly the unsharded directory; shards that do
//! not make one experiment are refused and nothing is written.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::{data, patchfleet, run, text};

const EXPERIMENT: &str = r#"seeds = [1, 2, 3]
reference = "three"
metrics = ["windows.friday-install.run.max", "compliance.prod.end"]

[[variant]]
name = "three"

[[variant]]
name = "five"
overrides = { "maintenance_window.friday-install.task.install.max_concurrency" = "5" }
"#;

/// The experiment file (on the ten-instance scenario) in `dir`, named `name`.
fn write_experiment(dir: &Path, name: &str, extra: &str) -> PathBuf {
    let path = dir.join(name);
    let base = format!("base = \"{}\"\n", data("ten-instances.toml").display());
    std::fs::write(&path, format!("{base}{extra}{EXPERIMENT}")).unwrap();
    path
}

/// Every file under `dir` but the runs' `perf.json` (wall times), by path relative to it.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else if path.file_name().is_some_and(|n| n != "perf.json") {
                let name = path.strip_prefix(root).unwrap().display().to_string();
                out.push((name, std::fs::read(&path).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn shard(file: &Path, out: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = patchfleet();
    command.args(["experiment", file.to_str().unwrap(), "--out", out.to_str().unwrap(), "--keep-runs"]);
    command.args(args).envs(env.iter().copied());
    command.output().unwrap()
}

fn merge(out: &Path, shards: &[&Path]) -> Output {
    let mut args = vec!["experiment", "merge", "--out", out.to_str().unwrap()];
    args.extend(shards.iter().map(|s| s.to_str().unwrap()));
    run(&args)
}

fn assert_ok(output: &Output) {
    assert!(output.status.success(), "{}{}", text(&output.stdout), text(&output.stderr));
}

fn assert_refused(output: &Output, message: &str) {
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(message), "expected `{message}` in: {stderr}");
}

/// Three shards, chosen by `--shard`, by a Slurm array task counted from 1 and by a
/// Kubernetes Indexed Job's index, with different job counts.
fn three_shards(temp: &Path, file: &Path) -> [PathBuf; 3] {
    let dirs = [temp.join("s0"), temp.join("s1"), temp.join("s2")];
    assert_ok(&shard(file, &dirs[0], &["--shard", "0/3", "--jobs", "2"], &[]));
    let slurm = [("SLURM_ARRAY_TASK_ID", "2"), ("SLURM_ARRAY_TASK_COUNT", "3"), ("SLURM_ARRAY_TASK_MIN", "1")];
    assert_ok(&shard(file, &dirs[1], &["--jobs", "1"], &slurm));
    assert_ok(&shard(file, &dirs[2], &["--shard-count", "3"], &[("JOB_COMPLETION_INDEX", "2")]));
    dirs
}

#[test]
fn shards_from_flag_slurm_and_kubernetes_merge_into_the_unsharded_directory_byte_for_byte() {
    let temp = tempfile::tempdir().unwrap();
    let file = write_experiment(temp.path(), "conc.toml", "");
    let whole = temp.path().join("whole");
    let unsharded = run(&["experiment", file.to_str().unwrap(), "--out", whole.to_str().unwrap(), "--keep-runs"]);
    assert_ok(&unsharded);
    let dirs = three_shards(temp.path(), &file);
    // Six runs dealt round-robin: shard 1 holds runs 1 and 4 (three seed 2, five seed 2).
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dirs[1].join("shard.json")).unwrap()).unwrap();
    assert_eq!((info["shard"].as_u64(), info["shards"].as_u64()), (Some(1), Some(3)));
    assert_eq!(info["runs"], serde_json::json!([1, 4]));
    let merged = temp.path().join("merged");
    let output = merge(&merged, &[&dirs[2], &dirs[0], &dirs[1]]);
    assert_ok(&output);
    let whole_tree = tree(&whole);
    assert!(whole_tree.iter().any(|(name, _)| name == "runs/1-five/seed-3/summary.json"));
    assert!(whole_tree.iter().any(|(name, _)| name == "comparison.json"));
    let merged_tree = tree(&merged);
    let names = |t: &[(String, Vec<u8>)]| t.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&merged_tree), names(&whole_tree));
    for ((name, merged), (_, whole)) in merged_tree.iter().zip(&whole_tree) {
        assert!(merged == whole, "{name} differs between the merged and the unsharded directory");
    }
    let table = |o: &Output| text(&o.stdout).rsplit_once("experiment: ").unwrap().0.to_string();
    assert_eq!(table(&output), table(&unsharded));
}

#[test]
fn missing_duplicated_and_foreign_shards_are_refused_and_nothing_is_written() {
    let temp = tempfile::tempdir().unwrap();
    let file = write_experiment(temp.path(), "conc.toml", "");
    let dirs = three_shards(temp.path(), &file);
    let out = temp.path().join("merged");
    assert_refused(&merge(&out, &[&dirs[0], &dirs[2]]), "missing shard 1/3 of experiment `conc` (given: 0/3, 2/3)");
    assert_refused(&merge(&out, &[&dirs[0], &dirs[1], &dirs[1], &dirs[2]]), "are both shard 1/3");
    // The same experiment split in two is not a fourth shard of the split in three.
    let halves = temp.path().join("half");
    assert_ok(&shard(&file, &halves, &["--shard", "1/2"], &[]));
    assert_refused(&merge(&out, &[&dirs[0], &dirs[1], &dirs[2], &halves]), "3 shards against 2");
    // Another experiment file (one more seed) under the same name.
    let other_dir = temp.path().join("other");
    std::fs::create_dir(&other_dir).unwrap();
    let other = write_experiment(&other_dir, "conc.toml", "description = \"changed\"\n");
    let foreign = temp.path().join("foreign");
    assert_ok(&shard(&other, &foreign, &["--shard", "1/3"], &[]));
    assert_refused(&merge(&out, &[&dirs[0], &foreign, &dirs[2]]), "are shards of different experiments");
    // A shard of another version.
    let info_path = dirs[2].join("shard.json");
    let info = std::fs::read_to_string(&info_path).unwrap();
    std::fs::write(&info_path, info.replace(&format!("\"{}\"", env!("CARGO_PKG_VERSION")), "\"0.0.1\"")).unwrap();
    assert_refused(&merge(&out, &[&dirs[0], &dirs[1], &dirs[2]]), "patchfleet 0.1.0 against 0.0.1");
    std::fs::write(&info_path, info).unwrap();
    // A damaged run line, and a directory that is no shard at all.
    let runs_path = dirs[1].join("runs.jsonl");
    let runs = std::fs::read_to_string(&runs_path).unwrap();
    std::fs::write(&runs_path, runs.replacen("\"values\"", "\"valeurs\"", 1)).unwrap();
    assert_refused(&merge(&out, &[&dirs[0], &dirs[1], &dirs[2]]), "runs.jsonl: line 1: not a run");
    // A run appended twice is more runs than the shard lists.
    let first_line = runs.lines().next().unwrap();
    std::fs::write(&runs_path, format!("{runs}{first_line}\n")).unwrap();
    assert_refused(&merge(&out, &[&dirs[0], &dirs[1], &dirs[2]]), "more runs than the 2 shard.json lists");
    std::fs::write(&runs_path, runs).unwrap();
    assert_refused(
        &merge(&out, &[&dirs[0], &dirs[1], temp.path()]),
        "is not a complete shard directory: missing shard.json",
    );
    assert!(!out.exists(), "a refused merge wrote {}", out.display());
    // With every shard, it merges; an existing directory is kept unless --force.
    assert_ok(&merge(&out, &[&dirs[0], &dirs[1], &dirs[2]]));
    assert_refused(&merge(&out, &[&dirs[0], &dirs[1], &dirs[2]]), "already exists and is not empty; pass --force");
}

#[test]
fn a_shard_out_of_range_or_without_its_count_is_refused_before_running() {
    let temp = tempfile::tempdir().unwrap();
    let file = write_experiment(temp.path(), "conc.toml", "");
    let out = temp.path().join("shard");
    assert_refused(&shard(&file, &out, &["--shard", "3/3"], &[]), "shard index 3 is out of range for 3 shards");
    assert_refused(&shard(&file, &out, &["--shard", "one/3"], &[]), "the index `one` is not a whole number");
    assert_refused(
        &shard(&file, &out, &[], &[("JOB_COMPLETION_INDEX", "1")]),
        "give the job's completions as --shard-count N",
    );
    assert_refused(&shard(&file, &out, &["--shard-count", "3"], &[]), "needs a shard index");
    let gaps = [("SLURM_ARRAY_TASK_ID", "4"), ("SLURM_ARRAY_TASK_COUNT", "3"), ("SLURM_ARRAY_TASK_MIN", "0")];
    assert_refused(&shard(&file, &out, &[], &gaps), "the array must be contiguous");
    assert!(!out.exists());
}
