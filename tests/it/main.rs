//! The integration tests: one crate, modules named after behaviours.
//!
//! - `aws_shapes`: the AWS-shaped files pass botocore's response validation.
//! - `deploy`: the Kubernetes Indexed Job example's pods, run locally, merge exactly.
//! - `determinism`: same scenario and seed give byte-identical results on any thread count.
//! - `experiment`: `patchfleet experiment` and `compare`: paired differences, located errors.
//! - `fidelity`: snapshots, FailedCount, supersedence, command statuses, package mixes.
//! - `fleet_dynamics`: partitions, repository capacity, instance faults.
//! - `hand_calculated`: a ten-instance scenario whose results are worked out by hand.
//! - `baselines`: export, import from AWS JSON and CloudFormation, explain.
//! - `bench_gate`: the benchmark gate's verdicts against tightened, loose and foreign baselines.
//! - `cli`: the binary end to end: run, validate, scenario show, schedule, exit codes.
//! - `thresholds`: bounds on named metrics, exit code 99, abort_on_fail.
//! - `windows`: maintenance windows and associations (W1 to W6, rate control, targets).
//! - `load`: `patchfleet load` against an in-process HTTP server with a bandwidth limit.
//! - `report`: summary.json's metrics, `patchfleet report`, report.html in headless Chromium.
//! - `patch_manager`: AWS semantics through whole runs (resolution, reboots, overwrites).
//! - `reliability`: the bad-input corpus, the resource estimate, recovery, fuzzing.
//! - `scenario_claims`: what the comments of `scenarios/*.toml` say their runs show.

mod aws_shapes;
mod baselines;
mod bench_gate;
mod cli;
mod deploy;
mod determinism;
mod experiment;
mod experiment_shards;
mod fidelity;
mod fleet_dynamics;
mod hand_calculated;
mod load;
mod patch_manager;
mod reliability;
mod report;
mod scenario_claims;
mod support;
mod thresholds;
mod windows;
