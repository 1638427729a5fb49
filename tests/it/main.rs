//! The integration tests: one crate, modules named after behaviours.
//!
//! - `determinism`: same scenario and seed give byte-identical results on any thread count.
//! - `hand_calculated`: a ten-instance scenario whose results are worked out by hand.
//! - `cli`: the binary end to end: run, validate, scenario show, schedule, exit codes.

mod cli;
mod determinism;
mod hand_calculated;
mod support;
