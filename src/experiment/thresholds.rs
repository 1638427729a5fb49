//! `[[threshold]]` in an experiment file: a bound on a statistic of one variant's metric:
//! its mean or an end of its 95% interval, or the same of its paired difference from the
//! reference. Checked when the experiment is loaded (the variant, the metric among
//! `metrics`, the statistic, the bound's unit); evaluated on the comparison. A failed one
//! makes `patchfleet experiment` exit 99, as a run's thresholds do.

use serde::Serialize;

use super::file::{ExperimentFile, Place};
use super::output::Comparison;
use crate::report::metrics::Unit;
use crate::scenario::Diagnostic;
use crate::scenario::schema::BoundSpec;
use crate::threshold::Bound;

/// The statistics a threshold can bound.
pub const STATISTICS: [&str; 6] = ["mean", "ci_low", "ci_high", "diff_mean", "diff_ci_low", "diff_ci_high"];

/// A validated experiment threshold.
#[derive(Clone, Debug, PartialEq)]
pub struct ExperimentThreshold {
    pub variant: String,
    pub metric: String,
    pub statistic: &'static str,
    pub min: Option<Bound>,
    pub max: Option<Bound>,
}

/// One threshold after the experiment, as `comparison.json` records it.
#[derive(Clone, Debug, Serialize)]
pub struct ExperimentThresholdResult {
    pub variant: String,
    pub metric: String,
    pub statistic: &'static str,
    pub min: Option<String>,
    pub max: Option<String>,
    /// The statistic; `None` when the runs give none (too few values), which passes no bound.
    pub value: Option<f64>,
    pub passed: bool,
}

/// Checks the file's thresholds against the experiment's variants, metrics and reference.
pub(crate) fn check(
    parsed: &ExperimentFile,
    variants: &[String],
    metrics: &[(String, Unit)],
    has_reference: bool,
    place: &Place<'_>,
    problems: &mut Vec<Diagnostic>,
) -> Vec<ExperimentThreshold> {
    let mut out = Vec::new();
    for (index, entry) in parsed.threshold.iter().enumerate() {
        let path = format!("threshold[{index}]");
        let mut problem = |offset: usize, key: &str, message: String| {
            problems.push(place.at(offset, &format!("{path}.{key}"), message));
        };
        if !variants.iter().any(|v| v == entry.variant.get_ref()) {
            let message = format!("no variant named `{}` (variants: {})", entry.variant.get_ref(), variants.join(", "));
            problem(entry.variant.span().start, "variant", message);
        }
        let unit = metrics.iter().find(|(m, _)| m == entry.metric.get_ref()).map(|(_, u)| *u);
        if unit.is_none() {
            let message = format!("`{}` is not one of the experiment's `metrics`", entry.metric.get_ref());
            problem(entry.metric.span().start, "metric", message);
        }
        let statistic = match &entry.statistic {
            None => Some("mean"),
            Some(s) => {
                let found = STATISTICS.iter().copied().find(|x| x == s.get_ref());
                if found.is_none() {
                    let message = format!("unknown statistic `{}`; one of: {}", s.get_ref(), STATISTICS.join(", "));
                    problem(s.span().start, "statistic", message);
                }
                if found.is_some_and(|x| x.starts_with("diff_")) && !has_reference {
                    problem(s.span().start, "statistic", "a paired difference needs a `reference` variant".into());
                }
                found
            }
        };
        let mut bound = |key: &str, spec: &Option<toml::Spanned<BoundSpec>>| -> Option<Bound> {
            let spec = spec.as_ref()?;
            let parsed = match spec.get_ref() {
                BoundSpec::Number(n) => Bound::number(*n),
                BoundSpec::Text(text) => Bound::parse(text),
            };
            let checked =
                parsed.and_then(|b| unit.map_or(Ok(()), |u| crate::report::thresholds::fits(b, u)).map(|_| b));
            checked.map_err(|message| problem(spec.span().start, key, message)).ok()
        };
        let (min, max) = (bound("min", &entry.min), bound("max", &entry.max));
        if entry.min.is_none() && entry.max.is_none() {
            problems.push(place.at(entry.variant.span().start, &path, "give `min`, `max` or both"));
        }
        if let Some(statistic) = statistic {
            let (variant, metric) = (entry.variant.get_ref().clone(), entry.metric.get_ref().clone());
            out.push(ExperimentThreshold { variant, metric, statistic, min, max });
        }
    }
    out
}

/// Evaluates every threshold on the comparison.
pub fn evaluate(thresholds: &[ExperimentThreshold], comparison: &Comparison) -> Vec<ExperimentThresholdResult> {
    thresholds
        .iter()
        .map(|t| {
            let row = comparison.rows.iter().find(|r| r.variant == t.variant && r.metric == t.metric);
            let value = row.and_then(|row| {
                let diff = row.vs_reference.as_ref().map(|d| &d.estimate);
                match t.statistic {
                    "mean" => row.estimate.mean,
                    "ci_low" => row.estimate.ci_low,
                    "ci_high" => row.estimate.ci_high,
                    "diff_mean" => diff.and_then(|d| d.mean),
                    "diff_ci_low" => diff.and_then(|d| d.ci_low),
                    _ => diff.and_then(|d| d.ci_high),
                }
            });
            let passed = value
                .is_some_and(|v| t.min.is_none_or(|min| v >= min.value()) && t.max.is_none_or(|max| v <= max.value()));
            ExperimentThresholdResult {
                variant: t.variant.clone(),
                metric: t.metric.clone(),
                statistic: t.statistic,
                min: t.min.map(|b| b.to_string()),
                max: t.max.map(|b| b.to_string()),
                value,
                passed,
            }
        })
        .collect()
}

/// The THRESHOLDS block of the experiment's table.
pub fn block(results: &[ExperimentThresholdResult]) -> String {
    if results.is_empty() {
        return String::new();
    }
    let mut out = String::from("\nTHRESHOLDS\n");
    for r in results {
        let bound = match (&r.min, &r.max) {
            (Some(min), Some(max)) => format!("{min} ≤ x ≤ {max}"),
            (Some(min), None) => format!("≥ {min}"),
            (None, Some(max)) => format!("≤ {max}"),
            (None, None) => String::new(),
        };
        let value = r.value.map_or("no value".to_string(), |v| format!("{v:.4}"));
        let mark = if r.passed { "✓" } else { "✗" };
        out.push_str(&format!("  {mark} {} {} ({})  {bound}  {value}\n", r.variant, r.metric, r.statistic));
    }
    let failed = results.iter().filter(|r| !r.passed).count();
    let tail = if failed > 0 { ": exit code 99" } else { "" };
    out.push_str(&format!("  {failed} of {} thresholds failed{tail}\n", results.len()));
    out
}
