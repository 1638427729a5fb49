//! Experiments: variants of one scenario, each run with the same seeds, compared with
//! confidence intervals (README.md, "Experiments").
//!
//! [`load`] reads an experiment file, applies each variant's overrides to the base
//! scenario's text and validates every variant as a whole scenario before anything runs;
//! [`execute`] runs every (variant, seed) pair on a pool of threads; [`compare`] turns the
//! per-run metrics into means, intervals and paired differences; [`output`] writes the
//! experiment directory. [`shard`] splits the runs among processes (a Slurm job array, a
//! Kubernetes Indexed Job) and [`merge`] puts their shard directories back together into
//! exactly the directory one process writes. This module sits above `run.rs`: nothing below it knows
//! experiments exist.

mod define;
mod execute;
mod file;
mod merge;
mod output;
mod overrides;
mod report;
mod results_compare;
pub mod shard;
pub mod stats;
pub mod thresholds;

pub use define::{Base, Experiment, MAX_RUNS, Variant, load, rebuild};
pub use execute::{CURVE_STEPS, Curve, FLEET, RunMetrics, execute};
pub use merge::{MergeError, SHARD_FORMAT, ShardInfo, merge, write_shard};
pub use output::{
    Comparison, Difference, OutputError, Row, compare, comparison_csv, comparison_table, runs_csv, write_outputs,
};
pub use results_compare::compare_dirs;
