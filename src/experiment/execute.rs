//! Running every (variant, seed) pair on a dedicated pool of threads.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::define::Experiment;
use crate::compliance::GroupCounters;
use crate::report::{View, round6};
use crate::run::RunResult;
use crate::scenario::Scenario;
use crate::time::SimTime;

/// Compliance curves are sampled at this many equal steps of the run, plus the start.
pub const CURVE_STEPS: usize = 120;
/// The curve's name when no compared metric names a patch group: the whole fleet.
pub const FLEET: &str = "fleet";

/// The compared metrics of one run, in the experiment's metric order, and its compliance
/// curves for the report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunMetrics {
    /// The run's index: variant `run / seeds`, seed `run % seeds`.
    pub run: usize,
    pub variant: usize,
    pub seed: u64,
    pub values: Vec<Option<f64>>,
    pub curves: Vec<Curve>,
}

/// One patch group's reported compliant share at `CURVE_STEPS + 1` equal steps from the
/// scenario's start to its end (a step before the first sample reads the first sample).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Curve {
    pub group: String,
    pub shares: Vec<f64>,
}

/// Runs the runs `runs` (indices, in order) of `experiment` on `jobs` threads. `done` is
/// told, after each run, how many are done and which one just finished; it cannot influence
/// the results, which come back in the order of `runs` whatever order they finish in. With `keep_runs`, each run's
/// results directory is written under it as `<variant index>-<variant name>/seed-<seed>`.
pub fn execute(
    experiment: &Experiment,
    runs: &[usize],
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
        runs.par_iter()
            .map(|&index| {
                let (variant, seed) = (index / seeds, experiment.seeds[index % seeds]);
                let metrics = one_run(experiment, index, seed, keep_runs)?;
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

fn one_run(experiment: &Experiment, run: usize, seed: u64, keep_runs: Option<&Path>) -> Result<RunMetrics, String> {
    let variant = run / experiment.seeds.len();
    let v = &experiment.variants[variant];
    let result = crate::run::run(&v.scenario, seed, |_, _| {})
        .map_err(|message| format!("variant `{}` seed {seed}: {message}", v.name))?;
    let summary = crate::report::summarize(&v.scenario, &result);
    let values = experiment.metrics.iter().map(|(name, _)| summary.metrics.get(name).and_then(|m| m.value)).collect();
    if let Some(root) = keep_runs {
        let dir = root.join(variant_dir(variant, &v.name)).join(format!("seed-{seed}"));
        crate::report::write_results(&dir, false, &v.scenario, &result).map_err(|e| e.to_string())?;
    }
    let curves = curves(experiment, &v.scenario, &result);
    Ok(RunMetrics { run, variant, seed, values, curves })
}

/// The patch groups a compared metric names (`compliance.<group>.…`), in the order the
/// metrics first name them; the whole fleet when none does.
fn curve_groups(experiment: &Experiment, groups: &[String]) -> Vec<Option<usize>> {
    let mut chosen = Vec::new();
    for (metric, _) in &experiment.metrics {
        let named = groups.iter().position(|g| metric.starts_with(&format!("compliance.{g}.")));
        if let Some(group) = named.filter(|g| !chosen.contains(&Some(*g))) {
            chosen.push(Some(group));
        }
    }
    if chosen.is_empty() {
        chosen.push(None);
    }
    chosen
}

fn curves(experiment: &Experiment, scenario: &Scenario, result: &RunResult) -> Vec<Curve> {
    let groups = &result.world.report_groups;
    let (start, end) = (scenario.start.0, scenario.end().0);
    let instants: Vec<SimTime> =
        (0..=CURVE_STEPS).map(|k| SimTime(start + (end - start) * k as i64 / CURVE_STEPS as i64)).collect();
    curve_groups(experiment, groups)
        .into_iter()
        .map(|group| {
            let share = |counters: &[GroupCounters]| match group {
                Some(g) => counters.get(g).map_or(0.0, |c| View::Reported.share(c)),
                None => {
                    let mut fleet = GroupCounters::default();
                    for c in counters {
                        fleet.instances += c.instances;
                        fleet.compliant += c.compliant;
                    }
                    View::Reported.share(&fleet)
                }
            };
            let mut next = 0;
            let shares = instants
                .iter()
                .map(|&t| {
                    while next + 1 < result.samples.len() && result.samples[next + 1].0 <= t {
                        next += 1;
                    }
                    result.samples.get(next).map_or(0.0, |(_, c)| round6(share(c)))
                })
                .collect();
            Curve { group: group.map_or_else(|| FLEET.to_string(), |g| groups[g].clone()), shares }
        })
        .collect()
}
