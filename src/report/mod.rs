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
mod states;
mod summary;
mod table;
pub mod thresholds;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

pub use figures::{View, round6};
pub use files::{baseline_id, write_files};
pub use html::{ReportError, STYLE, charts, escape, write_report};
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

/// What writing the results did besides writing them.
#[derive(Debug, Default)]
pub struct Written {
    /// Staging and retired directories of processes that no longer exist, removed first.
    pub removed_stale: Vec<PathBuf>,
    /// A directory of an earlier run put back under the final name (see [`recover`]).
    pub restored: Option<PathBuf>,
}

/// Writes the results directory `dir` for a finished run.
///
/// The procedure, so that a process killed at any instant leaves either the old or the new
/// results under `dir` (README.md, "Results directory"):
/// 1. Remove leftovers of dead processes in `dir`'s parent ([`recover`]).
/// 2. Write every file into the staging directory `.NAME.partial-PID` beside `dir`.
/// 3. If `dir` does not exist, rename the staging directory to `dir` (atomic).
/// 4. With `force` and an existing `dir`, exchange the two names in one `renameat2`
///    (`RENAME_EXCHANGE`, Linux): `dir` holds the new results, the staging name the old.
///    Where the exchange is not supported, `dir` is first renamed to `.NAME.replaced-PID`
///    and the staging directory to `dir`; a kill between the two leaves the old results
///    under the retired name, and step 1 of the next run puts them back.
/// 5. Remove the old results. A kill here leaves a staging directory that step 1 removes.
pub fn write_results(dir: &Path, force: bool, scenario: &Scenario, result: &RunResult) -> Result<Written, WriteError> {
    write_staged(dir, force, |staging| {
        write_files(staging, scenario, result)?;
        // From the files just written, as `patchfleet report DIR` does.
        write_report(staging).map_err(|error| io::Error::other(error.to_string()))
    })
}

/// The procedure of [`write_results`] for any directory: `fill` writes every file into the
/// staging directory it is given, which then replaces `dir` as described there.
pub fn write_staged(
    dir: &Path,
    force: bool,
    fill: impl FnOnce(&Path) -> io::Result<()>,
) -> Result<Written, WriteError> {
    let (parent, leaf) = split(dir);
    fs::create_dir_all(&parent).map_err(io_error(&parent))?;
    let mut written = recover(dir).map_err(io_error(&parent))?;
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
    let staging = parent.join(format!(".{leaf}.partial-{}", std::process::id()));
    if staging.exists() {
        fs::remove_dir_all(&staging).map_err(io_error(&staging))?;
    }
    fs::create_dir(&staging).map_err(io_error(&staging))?;
    if let Err(source) = fill(&staging) {
        let _ = fs::remove_dir_all(&staging);
        return Err(WriteError::Io { path: dir.to_path_buf(), source });
    }
    test_hook::step("staged");
    if let Err(source) = replace(&staging, dir, &parent, &leaf) {
        let _ = fs::remove_dir_all(&staging);
        return Err(WriteError::Io { path: dir.to_path_buf(), source });
    }
    written.removed_stale.retain(|p| p != &staging);
    Ok(written)
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> WriteError {
    let path = path.to_path_buf();
    move |source| WriteError::Io { path, source }
}

/// The parent directory (`.` for a bare name) and the last component of `dir`.
fn split(dir: &Path) -> (PathBuf, String) {
    let parent = match dir.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let leaf = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "results".into());
    (parent, leaf)
}

/// Steps 3 to 5 of [`write_results`]: puts the complete `staging` directory under `dir`.
fn replace(staging: &Path, dir: &Path, parent: &Path, leaf: &str) -> io::Result<()> {
    if !dir.exists() {
        return fs::rename(staging, dir);
    }
    match exchange(staging, dir) {
        Ok(()) => {
            test_hook::step("exchanged");
            // The staging name now holds the old results.
            remove_old(staging)
        }
        Err(error) if exchange_unsupported(&error) => {
            let retired = parent.join(format!(".{leaf}.replaced-{}", std::process::id()));
            fs::rename(dir, &retired)?;
            test_hook::step("retired");
            if let Err(error) = fs::rename(staging, dir) {
                let _ = fs::rename(&retired, dir);
                return Err(error);
            }
            remove_old(&retired)
        }
        Err(error) => Err(error),
    }
}

fn remove_old(path: &Path) -> io::Result<()> {
    if path.is_dir() {
        // One file first, so that the test hook can stop a removal half done.
        if let Some(Ok(entry)) = fs::read_dir(path)?.next() {
            let _ = fs::remove_file(entry.path());
        }
        test_hook::step("removing");
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    }
}

/// Swaps the names `a` and `b` atomically.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c =
        |p: &Path| CString::new(p.as_os_str().as_bytes()).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e));
    let (a, b) = (c(a)?, c(b)?);
    // SAFETY: both paths are NUL-terminated strings that outlive the call; renameat2 reads
    // them and touches no other memory.
    let status =
        unsafe { libc::renameat2(libc::AT_FDCWD, a.as_ptr(), libc::AT_FDCWD, b.as_ptr(), libc::RENAME_EXCHANGE) };
    if status == 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> io::Result<()> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

/// Errors that mean "this system or file system cannot exchange names"; the two-rename
/// procedure is used instead.
fn exchange_unsupported(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::Unsupported
        || matches!(error.raw_os_error(), Some(code) if code == libc_einval() || code == libc_enosys())
}

#[cfg(target_os = "linux")]
fn libc_einval() -> i32 {
    libc::EINVAL
}
#[cfg(target_os = "linux")]
fn libc_enosys() -> i32 {
    libc::ENOSYS
}
#[cfg(not(target_os = "linux"))]
fn libc_einval() -> i32 {
    -1
}
#[cfg(not(target_os = "linux"))]
fn libc_enosys() -> i32 {
    -1
}

/// Step 1 of [`write_results`], also useful on its own: in `dir`'s parent, removes the
/// staging (`.NAME.partial-PID`) and retired (`.NAME.replaced-PID`) directories of processes
/// that no longer exist, after putting a retired directory back under its name if that name
/// is missing (a kill between the two renames of the fallback procedure).
pub fn recover(dir: &Path) -> io::Result<Written> {
    let (parent, _) = split(dir);
    let mut written = Written::default();
    let Ok(entries) = fs::read_dir(&parent) else { return Ok(written) };
    let mut leftovers: Vec<(PathBuf, String, bool)> = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some((leaf, retired, pid)) = leftover(&name)
            && pid != std::process::id()
            && !process_exists(pid)
        {
            leftovers.push((entry.path(), leaf.to_string(), retired));
        }
    }
    leftovers.sort();
    for (path, leaf, retired) in leftovers {
        let target = parent.join(&leaf);
        if retired && !target.exists() {
            fs::rename(&path, &target)?;
            written.restored = Some(target);
            continue;
        }
        if path.is_dir() {
            fs::remove_dir_all(&path)?
        } else {
            fs::remove_file(&path)?
        }
        written.removed_stale.push(path);
    }
    Ok(written)
}

/// `.NAME.partial-PID` or `.NAME.replaced-PID`: the name, whether it is retired, the pid.
fn leftover(file_name: &str) -> Option<(&str, bool, u32)> {
    let rest = file_name.strip_prefix('.')?;
    let (head, pid) = rest.rsplit_once('-')?;
    let pid: u32 = pid.parse().ok()?;
    if let Some(leaf) = head.strip_suffix(".partial") {
        return Some((leaf, false, pid)).filter(|(l, _, _)| !l.is_empty());
    }
    head.strip_suffix(".replaced").filter(|l| !l.is_empty()).map(|leaf| (leaf, true, pid))
}

/// Whether a process with this id exists (a zombie counts). Where that cannot be asked,
/// every process is taken to exist, so nothing is removed.
#[cfg(unix)]
fn process_exists(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else { return true };
    // SAFETY: signal 0 only checks that the process exists and may be signalled.
    let status = unsafe { libc::kill(pid, 0) };
    status == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

#[cfg(not(unix))]
fn process_exists(_: u32) -> bool {
    true
}

/// A hook for `tests/it/reliability.rs`: with `PATCHFLEET_TEST_ABORT_AT=STEP` in the
/// environment, the process kills itself (SIGKILL: no clean-up, no core file) when it
/// reaches that step of [`write_results`]. Nothing else reads the variable.
mod test_hook {
    pub(super) fn step(name: &str) {
        if std::env::var_os("PATCHFLEET_TEST_ABORT_AT").is_some_and(|v| v == name) {
            kill_self();
        }
    }

    #[cfg(unix)]
    fn kill_self() {
        // SAFETY: sends a signal to this very process; no memory is involved.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
    }

    #[cfg(not(unix))]
    fn kill_self() {
        std::process::abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leftover_names_give_the_results_name_and_the_process() {
        assert_eq!(leftover(".res.partial-123"), Some(("res", false, 123)));
        assert_eq!(leftover(".my-run.replaced-9"), Some(("my-run", true, 9)));
        assert_eq!(leftover(".res.partial-"), None);
        assert_eq!(leftover("res.partial-12"), None);
        assert_eq!(leftover("..partial-12"), None);
        assert_eq!(leftover(".res-12"), None);
    }

    #[test]
    fn this_process_exists_and_an_unused_pid_does_not() {
        assert!(process_exists(std::process::id()));
        // Above the kernel's pid_max (at most 2^22), no process can have this id.
        assert!(!process_exists(1 << 30));
    }
}
