//! `patchfleet load`: replays the downloads one window execution made in a simulation as real
//! HTTP traffic against a repository mirror, measures the mirror as wrk2 would, and puts the
//! simulation's prediction beside the measurement; calibrates the model's `[[repository]]`
//! from a mirror; seeds a directory of synthetic objects a mirror can serve.
//!
//! This is the only asynchronous code of the crate (tokio, hyper). It reads the download
//! schedule a run recorded ([`crate::run::run_recording_downloads`]) and nothing else of the
//! simulation. It reads the wall clock, as a load test must; nothing it measures feeds the
//! simulation back except through a scenario file the user edits.
//!
//! Safety: traffic goes only to the one target URL, resolved once; a replay is bounded by a
//! number of downloads and a duration; Ctrl-C stops it and what was measured is written.

pub mod calibrate;
pub mod client;
pub mod files;
pub mod measure;
pub mod plan;
pub mod replay;
pub mod report;
pub mod seed;

pub use calibrate::{CalibrateOptions, Calibration};
pub use client::Target;
pub use measure::{Summary, summarise};
pub use plan::{Download, Object, Plan, PlanOptions};
pub use replay::{Replay, ReplayOptions, Sample, Stop};

/// Runs a replay to its end (or its stop) on a runtime of its own; see [`replay::replay`].
pub fn run_replay(
    target: &Target,
    downloads: &[Download],
    options: &ReplayOptions,
    progress: impl FnMut(u64, u64, &Sample),
) -> Result<Replay, String> {
    Ok(runtime()?.block_on(replay::replay(target, downloads, options, progress)))
}

/// Calibrates against `target` on a runtime of its own; see [`calibrate::calibrate`].
pub fn run_calibration(target: &Target, options: &CalibrateOptions) -> Result<Calibration, String> {
    runtime()?.block_on(calibrate::calibrate(target, options))
}

/// A runtime for one load test: worker threads for the client's tasks.
fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the load-test runtime: {e}"))
}

#[cfg(test)]
mod tests;
