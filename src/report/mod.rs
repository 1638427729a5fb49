//! The results directory and the summary table: pure functions of a finished run.
//!
//! Files (see README.md, "Results"):
//! `summary.json`, `compliance.csv`, `windows.csv`, `patches.csv`,
//! `instance_patch_states.jsonl`, `exposure.csv`, `report.html` (all deterministic), and
//! `perf.json` (wall-clock figures, kept apart because they differ from run to run).
//! `report.html` is generated from the other files (`html/`), so `patchfleet report DIR`
//! remakes it for an existing directory.
//!
//! The directory is written to a temporary sibling and renamed into place, so it is either
//! complete or absent; an existing directory is replaced only with `force`, and only once
//! the new one is complete.

mod figures;
mod files;
mod html;
pub mod metrics;
mod sparkline;
mod summary;
mod table;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

pub use files::{baseline_id, write_files};
pub use html::{ReportError, write_report};
pub use summary::{RESULTS_FORMAT, Summary, summarize};
pub use table::summary_table;

use crate::run::RunResult;
use crate::scenario::Scenario;

/// Why the results could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The directory exists, is not empty, and `force` was not given. Nothing was written.
    #[error("{0} already exists and is not empty; pass --force to replace it")]
    NotEmpty(PathBuf),
    /// The directory or its parent could not be created or written.
    #[error("cannot write results to {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

/// Writes the results directory `dir` for a finished run.
pub fn write_results(dir: &Path, force: bool, scenario: &Scenario, result: &RunResult) -> Result<(), WriteError> {
    let io_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| WriteError::Io { path, source }
    };
    let existing_non_empty = match fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => fs::read_dir(dir).map_err(io_error(dir))?.next().is_some(),
        Ok(_) => {
            let source =
                io::Error::new(io::ErrorKind::AlreadyExists, "a file of that name exists; it is not a directory");
            return Err(WriteError::Io { path: dir.to_path_buf(), source });
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => false,
        Err(error) => return Err(WriteError::Io { path: dir.to_path_buf(), source: error }),
    };
    if existing_non_empty && !force {
        return Err(WriteError::NotEmpty(dir.to_path_buf()));
    }
    let parent = match dir.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(io_error(&parent))?;
    let leaf = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "results".into());
    let staging = parent.join(format!(".{leaf}.partial-{}", std::process::id()));
    if staging.exists() {
        fs::remove_dir_all(&staging).map_err(io_error(&staging))?;
    }
    fs::create_dir(&staging).map_err(io_error(&staging))?;
    if let Err(source) = write_files(&staging, scenario, result) {
        let _ = fs::remove_dir_all(&staging);
        return Err(WriteError::Io { path: dir.to_path_buf(), source });
    }
    // From the files just written, as `patchfleet report DIR` does.
    if let Err(error) = write_report(&staging) {
        let _ = fs::remove_dir_all(&staging);
        return Err(WriteError::Io { path: dir.to_path_buf(), source: io::Error::other(error.to_string()) });
    }
    if dir.exists() {
        // Replace only now that the new results are complete.
        let retired = parent.join(format!(".{leaf}.replaced-{}", std::process::id()));
        if let Err(source) = fs::rename(dir, &retired) {
            let _ = fs::remove_dir_all(&staging);
            return Err(WriteError::Io { path: dir.to_path_buf(), source });
        }
        if let Err(source) = fs::rename(&staging, dir) {
            let _ = fs::rename(&retired, dir);
            let _ = fs::remove_dir_all(&staging);
            return Err(WriteError::Io { path: dir.to_path_buf(), source });
        }
        let _ = if retired.is_dir() { fs::remove_dir_all(&retired) } else { fs::remove_file(&retired) };
    } else if let Err(source) = fs::rename(&staging, dir) {
        let _ = fs::remove_dir_all(&staging);
        return Err(WriteError::Io { path: dir.to_path_buf(), source });
    }
    Ok(())
}
