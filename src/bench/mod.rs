//! The benchmark gate of the core: `cargo bench --bench gate` (`benches/gate.rs` calls
//! [`gate_main`]).
//!
//! It runs the fixed [`suite::SUITE`], counts the instructions of each measured body under
//! callgrind ([`callgrind`]), times the same bodies on the wall clock for people, writes
//! both as Bencher Metric Format JSON ([`format`]), and compares the instruction counts with
//! the committed baseline ([`compare`]), each within its own tolerance.
//!
//! Exit codes: 0 every measure within its tolerance (or the baseline saved); 1 a measurement
//! failed (valgrind missing or crashed, a body failed); 2 bad input (arguments, a baseline or
//! BMF file of another format or version, or malformed); 3 a measure regressed beyond its
//! tolerance.
//!
//! Measurement code stays here and in `benches/`; the bodies call the library's public API.

pub mod callgrind;
pub mod compare;
pub mod fixtures;
pub mod format;
mod machine;
pub mod suite;
mod table;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::Parser;

use compare::{Verdict, compare, regression_lines, unmeasured};
use format::{BASELINE_FORMAT, BASELINE_VERSION, Baseline, Bmf, INSTRUCTIONS, LATENCY, Metric};
use suite::{Measure, SUITE};

/// The baseline the gate compares with unless told otherwise.
pub const DEFAULT_BASELINE: &str = "results/baselines/bench.json";
/// Where a run's BMF JSON goes unless told otherwise; callgrind's files go beside it.
pub const DEFAULT_OUT: &str = "results/bench/bench.json";

/// Exit code of a regression beyond the tolerance.
pub const EXIT_REGRESSION: u8 = 3;

/// The gate's command line (after `cargo bench --bench gate --`).
#[derive(Parser, Debug)]
#[command(name = "gate", about = "patchfleet's benchmark gate: callgrind instruction counts against a baseline")]
pub struct GateArgs {
    /// The baseline to compare with, or to rewrite with --save-baseline.
    #[arg(long, default_value = DEFAULT_BASELINE)]
    pub baseline: PathBuf,
    /// Where this run's measures are written as BMF JSON.
    #[arg(long, default_value = DEFAULT_OUT)]
    pub out: PathBuf,
    /// Rewrite the baseline with this run's measures instead of comparing.
    #[arg(long)]
    pub save_baseline: bool,
    /// Only the callgrind instruction counts (the CI subset): no wall times, no smoke run.
    #[arg(long)]
    pub instructions_only: bool,
    /// Only the benchmarks whose name contains this text.
    #[arg(long)]
    pub filter: Option<String>,
    /// Compare the measures of this BMF file (an earlier run's output) instead of measuring.
    #[arg(long, value_name = "BMF_JSON", conflicts_with_all = ["save_baseline", "instructions_only", "jobs", "out"])]
    pub compare: Option<PathBuf>,
    /// Callgrind processes run at once (default: one per core). Counts do not depend on it.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// List the suite's benchmarks and what each measures.
    #[arg(long)]
    pub list: bool,
    /// Internal: run one measure's body for callgrind (the gate runs itself this way).
    #[arg(long, hide = true, value_name = "BENCHMARK")]
    pub child: Option<String>,
    /// `cargo bench` passes `--bench` to every benchmark binary; it selects nothing here.
    #[arg(long, hide = true)]
    pub bench: bool,
}

/// A failure with its exit code.
#[derive(Debug)]
struct Failure {
    code: u8,
    message: String,
}

fn input(message: impl Into<String>) -> Failure {
    Failure { code: 2, message: message.into() }
}

fn failed(message: impl Into<String>) -> Failure {
    Failure { code: 1, message: message.into() }
}

/// The gate's entry point: parses `args` (the program name first) and returns the exit
/// code. The table goes to stdout, progress and verdicts to stderr.
pub fn gate_main(args: impl IntoIterator<Item = OsString>) -> u8 {
    let args = match GateArgs::try_parse_from(args) {
        Ok(args) => args,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() { 2 } else { 0 };
        }
    };
    match gate(&args) {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("bench gate: {}", failure.message);
            failure.code
        }
    }
}

fn gate(args: &GateArgs) -> Result<u8, Failure> {
    if let Some(name) = &args.child {
        let measure = suite::find(name).ok_or_else(|| input(format!("--child: no benchmark `{name}`")))?;
        callgrind::run_child(measure).map_err(failed)?;
        return Ok(0);
    }
    if args.list {
        print!("{}", table::list(SUITE));
        return Ok(0);
    }
    if args.save_baseline && args.filter.is_some() {
        return Err(input("--save-baseline measures the whole suite; drop --filter"));
    }
    let baseline =
        if args.save_baseline { None } else { Some(format::read_baseline(&args.baseline).map_err(|e| input(e.0))?) };
    let current = match &args.compare {
        Some(path) => filtered(format::read_bmf(path).map_err(|e| input(e.0))?, args)?,
        None => {
            let current = measure(&select(args)?, args)?;
            format::write_json(&args.out, &current).map_err(failed)?;
            eprintln!("bench gate: measures written to {}", args.out.display());
            current
        }
    };
    match baseline {
        None => save(args, &current),
        Some(baseline) => Ok(verdict(args, &current, &baseline)),
    }
}

/// `--compare`: the file's benchmarks that match the filter.
fn filtered(mut bmf: Bmf, args: &GateArgs) -> Result<Bmf, Failure> {
    if let Some(filter) = &args.filter {
        bmf.retain(|name, _| name.contains(filter.as_str()));
        if bmf.is_empty() {
            return Err(input(format!("no benchmark of the --compare file matches --filter `{filter}`")));
        }
    }
    Ok(bmf)
}

/// The measures this run takes: the filter's, and only counted ones with
/// `--instructions-only`.
fn select(args: &GateArgs) -> Result<Vec<&'static Measure>, Failure> {
    let selected: Vec<&Measure> = SUITE
        .iter()
        .filter(|m| args.filter.as_ref().is_none_or(|f| m.name.contains(f.as_str())))
        .filter(|m| m.counted || !args.instructions_only)
        .collect();
    if selected.is_empty() {
        return Err(input(format!(
            "no benchmark matches --filter `{}`{}; `--list` shows them",
            args.filter.as_deref().unwrap_or(""),
            if args.instructions_only { " among the instruction-counted ones" } else { "" }
        )));
    }
    Ok(selected)
}

/// Instruction counts first (callgrind processes in parallel), then wall times one
/// measure at a time, so the wall clock is not shared with them.
fn measure(selected: &[&'static Measure], args: &GateArgs) -> Result<Bmf, Failure> {
    let mut bmf = Bmf::new();
    let counted: Vec<&Measure> = selected.iter().copied().filter(|m| m.counted).collect();
    if !counted.is_empty() {
        let version = callgrind::valgrind_version().map_err(failed)?;
        eprintln!("bench gate: counting instructions with {version}");
        let dir = args.out.parent().unwrap_or(Path::new(".")).join("callgrind");
        std::fs::create_dir_all(&dir).map_err(|e| failed(format!("{}: cannot create: {e}", dir.display())))?;
        let exe = std::env::current_exe().map_err(|e| failed(format!("cannot find the gate's own binary: {e}")))?;
        let jobs = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        for (measure, total) in counted.iter().zip(count_all(&exe, &counted, &dir, jobs.max(1))?) {
            let per_op = total as f64 / measure.ops as f64;
            bmf.entry(measure.name.to_string()).or_default().insert(INSTRUCTIONS.into(), Metric::exact(per_op));
        }
    }
    if !args.instructions_only {
        for measure in selected {
            eprintln!("bench gate: wall time of {}", measure.name);
            let metric = wall_time(measure).map_err(|e| failed(format!("{}: {e}", measure.name)))?;
            bmf.entry(measure.name.to_string()).or_default().insert(LATENCY.into(), metric);
        }
    }
    Ok(bmf)
}

/// Counts every measure under callgrind, `jobs` processes at a time; results in order.
fn count_all(exe: &Path, measures: &[&Measure], dir: &Path, jobs: usize) -> Result<Vec<u64>, Failure> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<u64, String>>>> = Mutex::new(vec![None; measures.len()]);
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(measures.len()) {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(measure) = measures.get(index) else { break };
                    let started = crate::metrics::now_ns();
                    let result = callgrind::count(exe, measure, dir);
                    let seconds = (crate::metrics::now_ns() - started) as f64 / 1e9;
                    eprintln!("bench gate: callgrind {} ({seconds:.1} s)", measure.name);
                    results.lock().expect("no worker panics while holding the lock")[index] = Some(result);
                }
            });
        }
    });
    let results = results.into_inner().expect("no worker panics while holding the lock");
    results.into_iter().map(|r| r.expect("every measure was counted").map_err(failed)).collect()
}

/// Wall time per operation: one warm-up body (unless the measure takes a single sample),
/// then its samples; the median, with the fastest and slowest sample as bounds.
fn wall_time(measure: &Measure) -> Result<Metric, String> {
    let mut body = measure.prepare()?;
    if measure.wall_samples > 1 {
        body()?;
    }
    let mut samples = Vec::new();
    for _ in 0..measure.wall_samples.max(1) {
        let started = crate::metrics::now_ns();
        body()?;
        samples.push((crate::metrics::now_ns() - started) as f64 / measure.ops as f64);
    }
    samples.sort_by(f64::total_cmp);
    let median = samples[samples.len() / 2];
    if samples.len() == 1 {
        return Ok(Metric::exact(median));
    }
    Ok(Metric { value: median, lower_value: samples.first().copied(), upper_value: samples.last().copied() })
}

/// Prints the comparison and returns the exit code.
fn verdict(args: &GateArgs, current: &Bmf, baseline: &Baseline) -> u8 {
    let changes = compare(current, baseline);
    print!("{}", table::results(current, &changes));
    print!("{}", table::heap_ratios(current));
    println!(
        "baseline: {} (commit {}, {} cores, {})",
        args.baseline.display(),
        baseline.commit,
        baseline.machine.cores,
        baseline.machine.cpu
    );
    let missing = unmeasured(current, baseline);
    if args.filter.is_none() && args.compare.is_none() && !missing.is_empty() {
        eprintln!("bench gate: not measured, though in the baseline: {}", missing.join(", "));
    }
    let regressions = regression_lines(&changes);
    if !regressions.is_empty() {
        eprint!("{regressions}");
        eprintln!(
            "bench gate: FAILED; if the change is intended, re-save the baseline \
             (cargo bench --bench gate -- --save-baseline) and say why in the commit"
        );
        return EXIT_REGRESSION;
    }
    let gated = changes.iter().filter(|c| c.baseline.is_some()).count();
    eprintln!("bench gate: ok, {gated} instruction counts within their tolerance");
    if changes.iter().any(|c| c.verdict == Verdict::Improved) {
        eprintln!("bench gate: some counts fell beyond their tolerance; re-save the baseline to keep the gain");
    }
    0
}

/// Writes the baseline from this run: its measures, the suite's tolerances, commit and machine.
fn save(args: &GateArgs, current: &Bmf) -> Result<u8, Failure> {
    let tolerance_percent: BTreeMap<String, f64> = SUITE
        .iter()
        .filter(|m| current.get(m.name).is_some_and(|c| c.contains_key(INSTRUCTIONS)))
        .map(|m| (m.name.to_string(), m.tolerance_percent))
        .collect();
    let baseline = Baseline {
        format: BASELINE_FORMAT.into(),
        version: BASELINE_VERSION,
        commit: machine::commit(),
        machine: machine::describe(),
        tolerance_percent,
        measures: current.clone(),
    };
    print!("{}", table::results(current, &compare(current, &baseline)));
    print!("{}", table::heap_ratios(current));
    format::write_json(&args.baseline, &baseline).map_err(failed)?;
    eprintln!("bench gate: baseline saved to {} (commit {})", args.baseline.display(), baseline.commit);
    Ok(0)
}
