//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `patchfleet` binary built for these tests, with a clean environment for output and
/// outside any job array (so the suite runs whole even as a task of one).
pub fn patchfleet() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_patchfleet"));
    command.env("CI", "1").env("NO_COLOR", "1");
    for shard_variable in
        ["SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN", "JOB_COMPLETION_INDEX"]
    {
        command.env_remove(shard_variable);
    }
    command
}

pub fn run(args: &[&str]) -> Output {
    patchfleet().args(args).output().expect("the binary starts")
}

pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Every file of a results directory except `perf.json`, by name.
pub fn deterministic_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("results directory exists")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| path.file_name().is_some_and(|n| n != "perf.json"))
        .map(|path| (path.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&path).unwrap()))
        .collect();
    files.sort();
    files
}
