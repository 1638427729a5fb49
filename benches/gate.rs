//! The benchmark gate: `cargo bench --bench gate [-- OPTIONS]`.
//!
//! Counts the instructions of the fixed suite under callgrind, times it on the wall clock,
//! writes Bencher Metric Format JSON and compares with `results/baselines/bench.json`; see
//! `patchfleet::bench` and README.md ("Benchmark gate") for the options and exit codes.

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(patchfleet::bench::gate_main(std::env::args_os()))
}
