//! What a baseline records about where it was measured: the commit and the machine.

use std::process::Command;

use super::callgrind::valgrind_version;
use super::format::Machine;

/// The commit measured, `git rev-parse --short=12 HEAD`, with `-dirty` when tracked files
/// outside `results/baselines/` have changes; or why git could not tell.
pub fn commit() -> String {
    let head = match git(&["rev-parse", "--short=12", "HEAD"]) {
        Ok(head) => head,
        Err(why) => return format!("unknown ({why})"),
    };
    match git(&["status", "--porcelain", "--untracked-files=no", "--", ".", ":!results/baselines"]) {
        Ok(changes) if changes.is_empty() => head,
        Ok(_) => format!("{head}-dirty"),
        Err(why) => format!("{head} (status unknown: {why})"),
    }
}

fn git(args: &[&str]) -> Result<String, String> {
    let output = Command::new("git").args(args).output().map_err(|e| format!("cannot run git: {e}"))?;
    if !output.status.success() {
        return Err(format!("git {} failed: {}", args.join(" "), String::from_utf8_lossy(&output.stderr).trim()));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// The CPU model, core count, OS and valgrind of this machine.
pub fn describe() -> Machine {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, model)| model.trim().to_string())
        })
        .unwrap_or_else(|| format!("{} (model not readable)", std::env::consts::ARCH));
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").map(|k| k.trim().to_string());
    let os = match kernel {
        Ok(kernel) => format!("{} {kernel}", std::env::consts::OS),
        Err(_) => std::env::consts::OS.to_string(),
    };
    Machine {
        cpu,
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        os,
        valgrind: valgrind_version().unwrap_or_else(|why| format!("none ({why})")),
    }
}
