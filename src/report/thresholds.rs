//! Thresholds against the metric registry: checked before a run (the metric must exist
//! and the bound fit its unit), evaluated after it (`summary.json`'s `thresholds`, the
//! THRESHOLDS block of the table).

use std::collections::BTreeMap;

use serde::Serialize;

use super::metrics::{Metric, Unit};
use crate::scenario::{Diagnostic, Scenario};
use crate::threshold::{Bound, ThresholdDef};

/// The names and units of every metric a run of `scenario` reports. They depend on the
/// scenario's patch groups, windows and repositories, not on its instance counts or
/// horizon, so they come from the real summary of a copy with no instances and a
/// one-second horizon: the same code path as a full run, at the cost of building catalogs.
pub fn metric_names(scenario: &Scenario) -> Result<BTreeMap<String, Unit>, String> {
    let mut blank = scenario.clone();
    blank.horizon = crate::time::SimDuration(1);
    blank.thresholds.clear();
    blank.output = crate::scenario::OutputDef::default();
    for group in &mut blank.groups {
        group.count = 0;
    }
    for asg in &mut blank.auto_scaling_groups {
        (asg.min, asg.max, asg.desired) = (0, 0, 0);
        asg.scheduled_actions.clear();
    }
    let result = crate::run::run(&blank, blank.seed, |_, _| {})?;
    let summary = super::summarize(&blank, &result);
    Ok(summary.metrics.into_iter().map(|(name, metric)| (name, metric.unit)).collect())
}

/// Every threshold whose metric does not exist, or whose bound is in a unit the metric
/// does not have, located in `text` (the scenario's source).
pub fn check(scenario: &Scenario, text: &str) -> Result<Vec<Diagnostic>, String> {
    if scenario.thresholds.is_empty() {
        return Ok(Vec::new());
    }
    let names = metric_names(scenario)?;
    let mut problems = Vec::new();
    let mut problem = |path: String, message: String| {
        let (line, column) = crate::scenario::locate(text, &path).unwrap_or((1, 1));
        let file = scenario.source_name.clone();
        problems.push(Diagnostic { file, line, column, key_path: path, message });
    };
    for threshold in &scenario.thresholds {
        let Some(unit) = names.get(&threshold.metric) else {
            problem(format!("{}.metric", threshold.path), unknown(&threshold.metric, &names));
            continue;
        };
        for (which, bound) in [("min", threshold.min), ("max", threshold.max)] {
            if let Some(bound) = bound
                && let Err(message) = fits(bound, *unit)
            {
                problem(format!("{}.{which}", threshold.path), format!("{}: {message}", threshold.metric));
            }
        }
    }
    Ok(problems)
}

/// A message for a metric that does not exist, naming the closest ones.
fn unknown(name: &str, names: &BTreeMap<String, Unit>) -> String {
    let prefix = name.rsplit_once('.').map_or(name, |(head, _)| head);
    let near: Vec<&str> = names.keys().filter(|n| n.starts_with(prefix)).take(8).map(String::as_str).collect();
    if near.is_empty() {
        format!("no metric `{name}`; summary.json's `metrics` lists every name (README: \"Metric names\")")
    } else {
        format!("no metric `{name}`; did you mean one of: {}", near.join(", "))
    }
}

/// Whether a bound is in a unit the metric has (a duration for seconds, a percentage or a
/// 0-1 number for shares, a number for the rest).
pub fn fits(bound: Bound, unit: Unit) -> Result<(), String> {
    match (bound, unit) {
        (Bound::Number(n), Unit::Share) if !(0.0..=1.0).contains(&n) => {
            Err(format!("a share lies in [0, 1] (or write a percentage such as 95%), not {n}"))
        }
        (Bound::Number(_), _) | (Bound::Duration(_), Unit::Seconds) | (Bound::Percent(_), Unit::Share) => Ok(()),
        (Bound::Duration(d), _) => Err(format!("the metric is in {}, not a duration like {d}", unit_name(unit))),
        (Bound::Percent(p), _) => Err(format!("the metric is in {}, not a share like {p}%", unit_name(unit))),
    }
}

fn unit_name(unit: Unit) -> &'static str {
    match unit {
        Unit::Seconds => "seconds",
        Unit::Share => "a share",
        Unit::Count => "a count",
        Unit::Mbps => "Mbit/s",
    }
}

/// One threshold after the run: `summary.json`'s `thresholds`.
#[derive(Clone, Debug, Serialize)]
pub struct ThresholdResult {
    pub metric: String,
    pub min: Option<String>,
    pub max: Option<String>,
    /// The metric's value in its unit; `None` when the run gave it none (which passes no
    /// bound).
    pub value: Option<f64>,
    pub unit: Unit,
    pub passed: bool,
}

/// Evaluates every threshold of `scenario` against `metrics`. A metric missing from the
/// registry (checked before the run, so only possible for a run that stopped early) fails.
pub fn evaluate(thresholds: &[ThresholdDef], metrics: &BTreeMap<String, Metric>) -> Vec<ThresholdResult> {
    thresholds
        .iter()
        .map(|t| {
            let metric = metrics.get(&t.metric);
            let value = metric.and_then(|m| m.value);
            ThresholdResult {
                metric: t.metric.clone(),
                min: t.min.map(|b| b.to_string()),
                max: t.max.map(|b| b.to_string()),
                value,
                unit: metric.map_or(Unit::Count, |m| m.unit),
                passed: metric.is_some() && t.passes(value),
            }
        })
        .collect()
}
