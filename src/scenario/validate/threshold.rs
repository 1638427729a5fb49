//! `[[threshold]]`: the bounds parse, at least one is given, and `abort_on_fail` names a
//! window figure that can only grow. Whether the metric exists and the bound's unit fits
//! it is checked against the metric registry once the scenario is valid
//! (`report::thresholds::check`).

use super::Checker;
use crate::scenario::schema::{BoundSpec, ThresholdSpec};
use crate::threshold::{Bound, ThresholdDef, WindowFigure};
use crate::window::WindowDef;

pub(super) fn thresholds(c: &mut Checker, specs: &[ThresholdSpec], windows: &[WindowDef]) -> Vec<ThresholdDef> {
    let mut out = Vec::new();
    for (index, spec) in specs.iter().enumerate() {
        let path = format!("threshold[{index}]");
        if spec.metric.trim().is_empty() {
            c.error(&format!("{path}.metric"), "name a metric, e.g. `compliance.prod-web.time_to_95pct.p90`");
        }
        let min = spec.min.as_ref().and_then(|b| bound(c, &format!("{path}.min"), b));
        let max = spec.max.as_ref().and_then(|b| bound(c, &format!("{path}.max"), b));
        if spec.min.is_none() && spec.max.is_none() {
            c.error(&path, "give `min`, `max` or both");
        }
        if let (Some(low), Some(high)) = (min, max)
            && low.value() > high.value()
        {
            c.error(&format!("{path}.min"), format!("min {low} is above max {high}"));
        }
        let watch = if spec.abort_on_fail { watch(c, &path, spec, windows) } else { None };
        out.push(ThresholdDef { path, metric: spec.metric.clone(), min, max, watch });
    }
    out
}

fn bound(c: &mut Checker, path: &str, spec: &BoundSpec) -> Option<Bound> {
    let parsed = match spec {
        BoundSpec::Number(n) => Bound::number(*n),
        BoundSpec::Text(text) => Bound::parse(text),
    };
    c.parse(path, parsed)
}

/// The window figure an `abort_on_fail` threshold watches: `windows.<window>.<figure>` with
/// a figure that only grows, bounded by `max`.
fn watch(c: &mut Checker, path: &str, spec: &ThresholdSpec, windows: &[WindowDef]) -> Option<(usize, WindowFigure)> {
    let found = windows.iter().enumerate().find_map(|(index, window)| {
        let rest = spec.metric.strip_prefix(&format!("windows.{}.", window.name))?;
        let figure = match rest.split_once('.') {
            None if rest == "executions" => WindowFigure::Executions,
            None if rest == "targets_skipped" => WindowFigure::TargetsSkipped,
            Some(("status", status)) => WindowFigure::Status(status.to_string()),
            Some(("invocations", outcome)) => WindowFigure::Outcome(outcome.to_string()),
            Some(("causes", cause)) => WindowFigure::Cause(cause.to_string()),
            _ => return None,
        };
        Some((index, figure))
    });
    if found.is_none() || spec.max.is_none() || spec.min.is_some() {
        c.error(
            &format!("{path}.abort_on_fail"),
            "abort_on_fail needs a `max` (and no `min`) on a window count that only grows: \
             windows.<window>.executions, .targets_skipped, .status.<STATUS>, \
             .invocations.<outcome> or .causes.<cause>",
        );
    }
    found
}
