//! Instruction counts through valgrind's callgrind.
//!
//! The gate re-executes its own binary under
//! `valgrind --tool=callgrind --collect-atstart=no --toggle-collect=patchfleet_bench_measured`,
//! one process per measure. The child builds the measure's fixture with collection off and
//! calls the measured body through [`patchfleet_bench_measured`], so callgrind counts exactly
//! the instructions executed from that function's entry to its exit, callees included.
//! The child runs the body inside a one-thread rayon pool: parallel cohort evaluation then
//! runs inline on that one thread, and no other thread's spinning enters the count.

use std::path::Path;
use std::process::{Command, Stdio};

use super::suite::{Body, Measure};

/// The symbol callgrind toggles collection on.
pub const MEASURED_SYMBOL: &str = "patchfleet_bench_measured";

/// Calls the body; collection is on exactly while this function runs.
#[inline(never)]
#[unsafe(no_mangle)]
pub fn patchfleet_bench_measured(body: &mut Body) -> Result<(), String> {
    body()
}

/// The child's side: on the pool's one thread, prepare the measure, then run its body once
/// inside the toggle.
pub fn run_child(measure: &Measure) -> Result<(), String> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .map_err(|e| format!("cannot start the one-thread pool: {e}"))?;
    pool.install(|| {
        let mut body = measure.prepare()?;
        patchfleet_bench_measured(&mut body)
    })
}

/// The installed valgrind's version line, or why there is none.
pub fn valgrind_version() -> Result<String, String> {
    let output = Command::new("valgrind").arg("--version").output().map_err(|e| {
        format!(
            "cannot run valgrind ({e}); install it (Debian: apt-get install -y valgrind, \
             or run scripts/bench-gate.sh, which does)"
        )
    })?;
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// Counts the instructions of one measured body: runs `exe --child NAME` under callgrind,
/// writing its output into `dir`, and returns the total `Ir` collected.
pub fn count(exe: &Path, measure: &Measure, dir: &Path) -> Result<u64, String> {
    let out_file = dir.join(format!("{}.callgrind", measure.name.replace('/', "-")));
    let output = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg("--quiet")
        .arg("--collect-atstart=no")
        .arg(format!("--toggle-collect={MEASURED_SYMBOL}"))
        .arg(format!("--callgrind-out-file={}", out_file.display()))
        .arg(exe)
        .args(["--child", measure.name])
        .env("RAYON_NUM_THREADS", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .output()
        .map_err(|e| format!("{}: cannot start valgrind: {e}", measure.name))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!("{}: the callgrind run failed ({}):\n{}", measure.name, output.status, stderr.trim()));
    }
    let text = std::fs::read_to_string(&out_file)
        .map_err(|e| format!("{}: cannot read {}: {e}", measure.name, out_file.display()))?;
    let total = total_instructions(&text).map_err(|e| format!("{}: {}: {e}", measure.name, out_file.display()))?;
    if total == 0 {
        return Err(format!(
            "{}: callgrind collected no instructions: the symbol {MEASURED_SYMBOL} was not found in the binary",
            measure.name
        ));
    }
    Ok(total)
}

/// The `Ir` total of a callgrind output file: the first event of its `summary:` line
/// (or `totals:`, which callgrind writes too), as long as `Ir` is the first event.
pub fn total_instructions(text: &str) -> Result<u64, String> {
    let events = text.lines().find_map(|line| line.strip_prefix("events:")).ok_or("no `events:` line")?;
    if events.split_whitespace().next() != Some("Ir") {
        return Err(format!("the first event is not Ir: `events:{events}`"));
    }
    let total = text
        .lines()
        .find_map(|line| line.strip_prefix("summary:").or_else(|| line.strip_prefix("totals:")))
        .ok_or("no `summary:` or `totals:` line")?;
    let first = total.split_whitespace().next().ok_or("an empty `summary:` line")?;
    first.parse().map_err(|e| format!("`summary:{total}`: {e}"))
}

#[cfg(test)]
mod tests {
    use super::total_instructions;

    #[test]
    fn reads_the_ir_total_of_a_callgrind_file() {
        let text = "# callgrind format\nversion: 1\ncreator: callgrind-3.19.0\npositions: line\n\
                    events: Ir\nsummary: 48201733\n\nfl=(1) a.rs\nfn=(1) f\n3 12\ntotals: 48201733\n";
        assert_eq!(total_instructions(text), Ok(48_201_733));
    }

    #[test]
    fn refuses_a_file_whose_first_event_is_not_ir() {
        let text = "events: Dr Ir\nsummary: 5 7\n";
        assert!(total_instructions(text).unwrap_err().contains("not Ir"));
        assert!(total_instructions("events: Ir\n").unwrap_err().contains("summary"));
    }
}
