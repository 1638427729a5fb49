//! Whether an experiment's runs scale across cores: a 16-run experiment of the default
//! scenario (`scenarios/experiments/concurrency.toml` with 8 replications: 2 variants x 8
//! seeds) run with `--jobs 1` (16 sequential runs) and with one job per core, in one
//! process, alternating, best of `ROUNDS` each. Prints both wall times and their ratio; the
//! target on 2 cores is a ratio of at most 0.6.
//!
//! `cargo bench --bench experiment` (a release build; about a minute on 2 cores). Wall
//! clock, so run it on an otherwise idle machine: the load average before and after is
//! printed beside the figures.

use std::path::Path;
use std::time::Duration;

use patchfleet::experiment::{self, Experiment};
use patchfleet::metrics::now_ns;

const ROUNDS: usize = 2;

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map_or_else(|_| "unknown".into(), |l| l.split(' ').take(3).collect::<Vec<_>>().join(" "))
}

fn plan() -> Experiment {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text =
        std::fs::read_to_string(root.join("scenarios/experiments/concurrency.toml")).expect("the shipped experiment");
    let text = text.replace("replications = 4", "replications = 8");
    assert!(text.contains("replications = 8"), "concurrency.toml no longer has `replications = 4`");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("scaling.toml");
    std::fs::write(&file, text).expect("written");
    let experiment = experiment::load(&file, false).expect("the experiment validates");
    assert_eq!(experiment.runs(), 16);
    experiment
}

fn time(experiment: &Experiment, jobs: usize) -> Duration {
    let all: Vec<usize> = (0..experiment.runs()).collect();
    let start = now_ns();
    let runs = experiment::execute(experiment, &all, jobs, None, |_, _| {}).expect("every run succeeds");
    let elapsed = Duration::from_nanos(now_ns() - start);
    assert_eq!(runs.len(), 16);
    elapsed
}

fn main() {
    // `cargo bench` passes `--bench`; anything else (a filter) is ignored.
    let experiment = plan();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("experiment scaling: 16 runs of the default scenario; {cores} cores; load average {}", load_average());
    let (mut sequential, mut parallel) = (Duration::MAX, Duration::MAX);
    for _ in 0..ROUNDS {
        sequential = sequential.min(time(&experiment, 1));
        parallel = parallel.min(time(&experiment, cores));
    }
    let ratio = parallel.as_secs_f64() / sequential.as_secs_f64();
    println!("  --jobs 1      {:>8.2} s  (16 sequential runs, best of {ROUNDS})", sequential.as_secs_f64());
    println!("  --jobs {cores:<6} {:>8.2} s  (best of {ROUNDS})", parallel.as_secs_f64());
    println!("  ratio         {ratio:>8.3}  (target on 2 cores: at most 0.6)");
    println!("  load average after: {}", load_average());
}
