//! Thresholds on a run's outcomes (`[[threshold]]`): a bound on one named metric, the
//! figures of `summary.json`'s `metrics`. Validated with the scenario; checked against the
//! metric registry (`report::thresholds`) before the run, so a name that does not exist or
//! a bound in the wrong unit is a located error; evaluated after the run; and, with
//! `abort_on_fail`, watched at every sample so the run stops once the bound can no longer
//! hold. A failed threshold makes the CLI exit with code 99 (decided in `main.rs` only).

use crate::time::SimDuration;

/// A bound as written, in the unit the text gives it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Bound {
    /// A plain number: in the metric's own unit (seconds, a 0-1 share, a count, Mbit/s).
    Number(f64),
    /// A duration such as `3d`: only for metrics in seconds.
    Duration(SimDuration),
    /// A percentage such as `95%`: only for shares.
    Percent(f64),
}

impl Bound {
    /// A bound written as text: a percentage such as `95%`, or a duration such as `3d`.
    pub fn parse(text: &str) -> Result<Bound, String> {
        match text.strip_suffix('%') {
            Some(percent) => match percent.trim().parse::<f64>() {
                Ok(p) if (0.0..=100.0).contains(&p) => Ok(Bound::Percent(p)),
                _ => Err(format!("`{text}` is not a percentage from 0% to 100%")),
            },
            None => crate::time::parse_duration(text)
                .map(Bound::Duration)
                .map_err(|e| format!("`{text}` is neither a number, a duration (`3d`, `90m`) nor a percentage: {e}")),
        }
    }

    /// A bound written as a number, in the metric's own unit.
    pub fn number(n: f64) -> Result<Bound, String> {
        if n.is_finite() { Ok(Bound::Number(n)) } else { Err(format!("{n} is not a finite number")) }
    }

    /// The bound in the metric's unit.
    pub fn value(self) -> f64 {
        match self {
            Bound::Number(n) => n,
            Bound::Duration(d) => d.0 as f64,
            Bound::Percent(p) => p / 100.0,
        }
    }
}

impl std::fmt::Display for Bound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Bound::Number(n) => write!(f, "{n}"),
            Bound::Duration(d) => write!(f, "{d}"),
            Bound::Percent(p) => write!(f, "{p}%"),
        }
    }
}

/// A window figure that can only grow during a run, so a `max` on it can be given up on
/// as soon as the finished executions exceed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WindowFigure {
    Executions,
    TargetsSkipped,
    Status(String),
    Outcome(String),
    Cause(String),
}

/// A validated threshold.
#[derive(Clone, Debug, PartialEq)]
pub struct ThresholdDef {
    /// Where it is written (`threshold[2]`), for messages.
    pub path: String,
    pub metric: String,
    pub min: Option<Bound>,
    pub max: Option<Bound>,
    /// With `abort_on_fail`: the window and figure to watch at every sample.
    pub watch: Option<(usize, WindowFigure)>,
}

impl ThresholdDef {
    /// Whether `value` lies within the bounds. A metric without a value (a quantile over
    /// patches that never reached a level, a latency of a repository nothing crossed)
    /// passes no bound.
    pub fn passes(&self, value: Option<f64>) -> bool {
        let Some(value) = value else { return self.min.is_none() && self.max.is_none() };
        self.min.is_none_or(|min| value >= min.value()) && self.max.is_none_or(|max| value <= max.value())
    }
}
