//! Experiments: variants of one scenario, each run with the same seeds, compared with
//! confidence intervals (README.md, "Experiments").
//!
//! [`load`] reads an experiment file, applies each variant's overrides to the base
//! scenario's text and validates every variant as a whole scenario before anything runs;
//! [`execute`] runs every (variant, seed) pair on a pool of threads; [`compare`] turns the
//! per-run metrics into means, intervals and paired differences; [`output`] writes the
//! experiment directory. This module sits above `run.rs`: nothing below it knows
//! experiments exist.

mod define;
mod execute;
mod file;
mod output;
mod overrides;
mod results_compare;
pub mod stats;
pub mod thresholds;

pub use define::{Experiment, MAX_RUNS, Variant, load};
pub use execute::{RunMetrics, execute};
pub use output::{
    Comparison, Difference, OutputError, Row, compare, comparison_csv, comparison_table, runs_csv, write_outputs,
};
pub use results_compare::compare_dirs;
