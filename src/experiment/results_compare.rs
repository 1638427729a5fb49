//! `patchfleet compare DIR_A DIR_B`: two results directories of the same scenario, metric
//! by metric, from their `summary.json` `metrics`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Deserialize;

/// What is read of a `summary.json`.
#[derive(Deserialize)]
struct SummaryHead {
    results_format: u32,
    scenario: String,
    scenario_hash: String,
    seed: u64,
    metrics: BTreeMap<String, MetricValue>,
}

#[derive(Deserialize)]
struct MetricValue {
    value: Option<f64>,
    unit: String,
}

fn read(dir: &Path) -> Result<SummaryHead, String> {
    let path = dir.join("summary.json");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("{}: cannot read: {e}; is {} a results directory?", path.display(), dir.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}:{}:{}: {e}", path.display(), e.line(), e.column()))
}

/// Why two directories cannot be compared, or what they say side by side.
pub fn compare_dirs(a: &Path, b: &Path) -> Result<String, String> {
    let (left, right) = (read(a)?, read(b)?);
    let (an, bn) = (a.display(), b.display());
    if left.results_format != right.results_format {
        return Err(format!(
            "{an} has results format {} and {bn} format {}: not comparable",
            left.results_format, right.results_format
        ));
    }
    if left.scenario_hash != right.scenario_hash {
        return Err(format!(
            "{an} ran scenario `{}` (sha256 {}) and {bn} scenario `{}` (sha256 {}): not comparable; compare runs \
             of one scenario file (an experiment compares variants)",
            left.scenario,
            &left.scenario_hash[..left.scenario_hash.len().min(12)],
            right.scenario,
            &right.scenario_hash[..right.scenario_hash.len().min(12)]
        ));
    }
    let only = |x: &SummaryHead, y: &SummaryHead| -> Vec<String> {
        x.metrics.keys().filter(|k| !y.metrics.contains_key(*k)).cloned().collect()
    };
    let (only_a, only_b) = (only(&left, &right), only(&right, &left));
    if !only_a.is_empty() || !only_b.is_empty() {
        return Err(format!(
            "{an} and {bn} report different metrics (only in the first: {}; only in the second: {}): not comparable",
            list(&only_a),
            list(&only_b)
        ));
    }
    Ok(table(&left, &right, &an.to_string(), &bn.to_string()))
}

fn list(names: &[String]) -> String {
    if names.is_empty() { "none".to_string() } else { names.join(", ") }
}

fn table(left: &SummaryHead, right: &SummaryHead, an: &str, bn: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "patchfleet compare · scenario {} · A {an} (seed {}) · B {bn} (seed {})",
        left.scenario, left.seed, right.seed
    );
    let _ = writeln!(out);
    let width = left.metrics.keys().map(|k| k.chars().count()).max().unwrap_or(6).max(6);
    let _ = writeln!(out, "  {:<width$}  {:>14}  {:>14}  {:>14}", "METRIC", "A", "B", "B - A");
    let mut differing = 0;
    for (name, a) in &left.metrics {
        let b = &right.metrics[name];
        let diff = match (a.value, b.value) {
            (Some(x), Some(y)) => {
                if x != y {
                    differing += 1;
                }
                format!("{:+}", y - x)
            }
            (None, None) => String::new(),
            _ => {
                differing += 1;
                "-".to_string()
            }
        };
        let shown = |v: Option<f64>| v.map_or("-".to_string(), |v| v.to_string());
        let line = format!("  {name:<width$}  {:>14}  {:>14}  {diff:>14}  {}", shown(a.value), shown(b.value), a.unit);
        let _ = writeln!(out, "{}", line.trim_end());
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "  {differing} of {} metrics differ; `-`: the run gives no value", left.metrics.len());
    out
}
