//! Running every (variant, seed) pair on a dedicated pool of threads.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use super::define::Experiment;

/// The compared metrics of one run, in the experiment's metric order.
#[derive(Clone, Debug, PartialEq)]
pub struct RunMetrics {
    pub variant: usize,
    pub seed: u64,
    pub values: Vec<Option<f64>>,
}

/// Runs every run of `experiment` on `jobs` threads. `done` is told, after each run, how
/// many are done and which one just finished; it cannot influence the results, which come
/// back in run order whatever order the runs finish in. With `keep_runs`, each run's
/// results directory is written under it as `<variant index>-<variant name>/seed-<seed>`.
pub fn execute(
    experiment: &Experiment,
    jobs: usize,
    keep_runs: Option<&Path>,
    done: impl Fn(usize, &str) + Sync,
) -> Result<Vec<RunMetrics>, String> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| format!("cannot start {jobs} threads: {e}"))?;
    let finished = AtomicUsize::new(0);
    let seeds = experiment.seeds.len();
    pool.install(|| {
        (0..experiment.runs())
            .into_par_iter()
            .map(|index| {
                let (variant, seed) = (index / seeds, experiment.seeds[index % seeds]);
                let metrics = one_run(experiment, variant, seed, keep_runs)?;
                let label = format!("{} seed {seed}", experiment.variants[variant].name);
                done(finished.fetch_add(1, Ordering::Relaxed) + 1, &label);
                Ok(metrics)
            })
            .collect()
    })
}

/// A directory name for a variant: its index, then its name with anything but letters,
/// digits, `-`, `_` and `.` replaced by `_`.
pub(crate) fn variant_dir(index: usize, name: &str) -> String {
    let safe: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect();
    format!("{index}-{safe}")
}

fn one_run(experiment: &Experiment, variant: usize, seed: u64, keep_runs: Option<&Path>) -> Result<RunMetrics, String> {
    let v = &experiment.variants[variant];
    let result = crate::run::run(&v.scenario, seed, |_, _| {})
        .map_err(|message| format!("variant `{}` seed {seed}: {message}", v.name))?;
    let summary = crate::report::summarize(&v.scenario, &result);
    let values = experiment.metrics.iter().map(|(name, _)| summary.metrics.get(name).and_then(|m| m.value)).collect();
    if let Some(root) = keep_runs {
        let dir = root.join(variant_dir(variant, &v.name)).join(format!("seed-{seed}"));
        crate::report::write_results(&dir, false, &v.scenario, &result).map_err(|e| e.to_string())?;
    }
    Ok(RunMetrics { variant, seed, values })
}
