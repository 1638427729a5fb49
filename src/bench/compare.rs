//! Comparing a run's instruction counts with the baseline, measure by measure.

use std::fmt::Write;

use super::format::{Baseline, Bmf, INSTRUCTIONS};

/// What happened to one benchmark's instruction count.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// Within the tolerance.
    Within,
    /// Rose beyond the tolerance: the gate fails.
    Regressed,
    /// Fell beyond the tolerance: passes; re-saving the baseline locks the gain in.
    Improved,
    /// Not in the baseline.
    New,
}

/// One benchmark's comparison.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub bench: String,
    pub current: f64,
    /// The baseline's count and tolerance (percent), when it has the benchmark.
    pub baseline: Option<(f64, f64)>,
    pub verdict: Verdict,
}

impl Change {
    /// The change against the baseline, in percent.
    pub fn percent(&self) -> Option<f64> {
        self.baseline.map(|(base, _)| (self.current - base) / base * 100.0)
    }
}

/// Compares every benchmark of `current` that has an instruction count.
pub fn compare(current: &Bmf, baseline: &Baseline) -> Vec<Change> {
    let mut changes = Vec::new();
    for (bench, measures) in current {
        let Some(metric) = measures.get(INSTRUCTIONS) else { continue };
        let base = baseline.measures.get(bench).and_then(|m| m.get(INSTRUCTIONS)).map(|m| m.value);
        let tolerance = baseline.tolerance_percent.get(bench).copied();
        let baseline = base.zip(tolerance);
        let verdict = match baseline {
            None => Verdict::New,
            Some((base, tolerance)) => {
                let percent = (metric.value - base) / base * 100.0;
                if percent > tolerance {
                    Verdict::Regressed
                } else if percent < -tolerance {
                    Verdict::Improved
                } else {
                    Verdict::Within
                }
            }
        };
        changes.push(Change { bench: bench.clone(), current: metric.value, baseline, verdict });
    }
    changes
}

/// Benchmarks the baseline gates that `current` did not measure.
pub fn unmeasured<'a>(current: &Bmf, baseline: &'a Baseline) -> Vec<&'a str> {
    baseline
        .tolerance_percent
        .keys()
        .filter(|bench| !current.get(*bench).is_some_and(|m| m.contains_key(INSTRUCTIONS)))
        .map(String::as_str)
        .collect()
}

/// One line per regression: which measure moved, from what to what, and by how much.
pub fn regression_lines(changes: &[Change]) -> String {
    let mut text = String::new();
    for change in changes.iter().filter(|c| c.verdict == Verdict::Regressed) {
        let (base, tolerance) = change.baseline.expect("a regression has a baseline");
        let _ = writeln!(
            text,
            "regression: {}: {:.1} instructions per operation against {:.1} in the baseline \
             ({:+.2}%, tolerance {:.2}%)",
            change.bench,
            change.current,
            base,
            (change.current - base) / base * 100.0,
            tolerance
        );
    }
    text
}
