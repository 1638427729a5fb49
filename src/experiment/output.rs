//! The experiment directory: the file as run, `runs.csv`, `comparison.csv`,
//! `comparison.json`, optionally `runs/`; and the table printed to stdout.

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::Path;

use serde::Serialize;

use super::define::Experiment;
use super::execute::{RunMetrics, execute};
use super::stats::{CONFIDENCE, Estimate, estimate, paired};
use crate::report::metrics::Unit;
use crate::report::{WriteError, Written, write_staged};

/// The version of the experiment directory's files; changes when a column or key does.
pub const EXPERIMENT_FORMAT: u32 = 1;

/// One variant and metric.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub variant: String,
    pub metric: String,
    pub unit: Unit,
    #[serde(flatten)]
    pub estimate: Estimate,
    /// `variant - reference` over the seeds both have a value for; absent for the
    /// reference itself and without a reference.
    pub vs_reference: Option<Difference>,
}

/// A paired difference and whether its interval excludes zero.
#[derive(Clone, Debug, Serialize)]
pub struct Difference {
    #[serde(flatten)]
    pub estimate: Estimate,
    pub excludes_zero: Option<bool>,
}

/// Everything `comparison.json` holds.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    pub experiment_format: u32,
    pub experiment: String,
    pub description: String,
    pub file: String,
    pub base: String,
    pub version: &'static str,
    pub confidence: f64,
    pub seeds: Vec<u64>,
    pub variants: Vec<String>,
    pub reference: Option<String>,
    pub rows: Vec<Row>,
    /// Each `[[threshold]]` with its statistic's value and whether it passed.
    pub thresholds: Vec<super::thresholds::ExperimentThresholdResult>,
}

/// Means, intervals and paired differences from the runs (in run order).
pub fn compare(experiment: &Experiment, runs: &[RunMetrics]) -> Comparison {
    let seeds = experiment.seeds.len();
    let column = |variant: usize, metric: usize| -> Vec<Option<f64>> {
        runs[variant * seeds..(variant + 1) * seeds].iter().map(|r| r.values[metric]).collect()
    };
    let mut rows = Vec::new();
    for (v, variant) in experiment.variants.iter().enumerate() {
        for (m, (metric, unit)) in experiment.metrics.iter().enumerate() {
            let values = column(v, m);
            let vs_reference = experiment.reference.filter(|r| *r != v).map(|r| {
                let estimate = paired(&values, &column(r, m));
                Difference { excludes_zero: estimate.excludes_zero(), estimate }
            });
            let estimate = estimate(&values);
            rows.push(Row {
                variant: variant.name.clone(),
                metric: metric.clone(),
                unit: *unit,
                estimate,
                vs_reference,
            });
        }
    }
    let mut comparison = Comparison {
        experiment_format: EXPERIMENT_FORMAT,
        experiment: experiment.name.clone(),
        description: experiment.description.clone(),
        file: experiment.file.clone(),
        base: experiment.base.name.clone(),
        version: crate::VERSION,
        confidence: CONFIDENCE,
        seeds: experiment.seeds.clone(),
        variants: experiment.variants.iter().map(|v| v.name.clone()).collect(),
        reference: experiment.reference.map(|r| experiment.variants[r].name.clone()),
        rows,
        thresholds: Vec::new(),
    };
    comparison.thresholds = super::thresholds::evaluate(&experiment.thresholds, &comparison);
    comparison
}

/// Why an experiment produced no directory.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("{0}")]
    Run(String),
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// Runs the experiment and writes its directory `dir` (staged and renamed into place like a
/// results directory, so it is complete or absent). Returns the comparison.
pub fn write_outputs(
    dir: &Path,
    force: bool,
    experiment: &Experiment,
    jobs: usize,
    keep_runs: bool,
    done: impl Fn(usize, &str) + Sync,
) -> Result<(Comparison, Written), OutputError> {
    let mut outcome: Result<Comparison, String> = Err(String::new());
    let written = write_staged(dir, force, |staging| {
        let runs_dir = staging.join("runs");
        let all: Vec<usize> = (0..experiment.runs()).collect();
        let runs = match execute(experiment, &all, jobs, keep_runs.then_some(runs_dir.as_path()), &done) {
            Ok(runs) => runs,
            Err(message) => {
                outcome = Err(message);
                return Err(io::Error::other("a run failed"));
            }
        };
        let comparison = compare(experiment, &runs);
        write_files(staging, experiment, &runs, &comparison)?;
        outcome = Ok(comparison);
        Ok(())
    });
    match (written, outcome) {
        (Ok(written), Ok(comparison)) => Ok((comparison, written)),
        (_, Err(message)) if !message.is_empty() => Err(OutputError::Run(message)),
        (Err(error), _) => Err(OutputError::Write(error)),
        (Ok(_), Err(_)) => Err(OutputError::Run("the experiment wrote no comparison".to_string())),
    }
}

pub(crate) fn file_name_of(file: &str) -> String {
    Path::new(file).file_name().map_or_else(|| "experiment.toml".into(), |n| n.to_string_lossy().into_owned())
}

pub(crate) fn write_files(
    dir: &Path,
    experiment: &Experiment,
    runs: &[RunMetrics],
    comparison: &Comparison,
) -> io::Result<()> {
    fs::write(dir.join(file_name_of(&experiment.file)), &experiment.text)?;
    fs::write(dir.join("runs.csv"), runs_csv(experiment, runs))?;
    fs::write(dir.join("comparison.csv"), comparison_csv(comparison))?;
    let mut json = serde_json::to_string_pretty(comparison).map_err(io::Error::other)?;
    json.push('\n');
    fs::write(dir.join("comparison.json"), json)?;
    let page = super::report::page(experiment, runs, comparison).map_err(io::Error::other)?;
    fs::write(dir.join("report.html"), page)
}

fn num(value: Option<f64>) -> String {
    value.map_or_else(String::new, |v| v.to_string())
}

/// Long form: one row per variant, seed and metric; an empty value where the run gave none.
pub fn runs_csv(experiment: &Experiment, runs: &[RunMetrics]) -> String {
    let mut out = String::from("variant,seed,metric,value\n");
    for run in runs {
        for ((metric, _), value) in experiment.metrics.iter().zip(&run.values) {
            let variant = csv_field(&experiment.variants[run.variant].name);
            let _ = writeln!(out, "{variant},{},{},{}", run.seed, csv_field(metric), num(*value));
        }
    }
    out
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text.to_string() }
}

pub(crate) fn unit_name(unit: Unit) -> &'static str {
    match unit {
        Unit::Seconds => "seconds",
        Unit::Share => "share",
        Unit::Count => "count",
        Unit::Mbps => "mbps",
    }
}

/// One row per variant and metric.
pub fn comparison_csv(comparison: &Comparison) -> String {
    let mut out = String::from(
        "variant,metric,unit,n,missing,mean,sd,ci_low,ci_high,diff_n,diff_mean,diff_ci_low,diff_ci_high,excludes_zero\n",
    );
    for row in &comparison.rows {
        let e = &row.estimate;
        let _ = write!(
            out,
            "{},{},{},{},{},{},{},{},{}",
            csv_field(&row.variant),
            csv_field(&row.metric),
            unit_name(row.unit),
            e.n,
            e.missing,
            num(e.mean),
            num(e.sd),
            num(e.ci_low),
            num(e.ci_high)
        );
        match &row.vs_reference {
            Some(d) => {
                let excludes = d.excludes_zero.map_or(String::new(), |b| b.to_string());
                let e = &d.estimate;
                let _ = writeln!(out, ",{},{},{},{},{excludes}", e.n, num(e.mean), num(e.ci_low), num(e.ci_high));
            }
            None => out.push_str(",,,,,\n"),
        }
    }
    out
}

/// A value in its unit, for the table: shares in percent, seconds in s/h/d.
pub(crate) fn shown(unit: Unit, value: f64, signed: bool) -> String {
    let sign = if signed && value >= 0.0 { "+" } else { "" };
    match unit {
        Unit::Share => format!("{sign}{:.2}%", value * 100.0),
        Unit::Seconds if value.abs() >= 86_400.0 => format!("{sign}{:.2}d", value / 86_400.0),
        Unit::Seconds if value.abs() >= 3_600.0 => format!("{sign}{:.2}h", value / 3_600.0),
        Unit::Seconds => format!("{sign}{value:.0}s"),
        Unit::Count => format!("{sign}{value:.2}"),
        Unit::Mbps => format!("{sign}{value:.1}Mbit/s"),
    }
}

fn interval(unit: Unit, e: &Estimate, signed: bool) -> String {
    match (e.ci_low, e.ci_high) {
        (Some(low), Some(high)) => format!("[{}, {}]", shown(unit, low, signed), shown(unit, high, signed)),
        _ => "(needs 2 values)".to_string(),
    }
}

/// The text printed to stdout: per metric, each variant's mean and interval and its paired
/// difference from the reference.
pub fn comparison_table(comparison: &Comparison) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "patchfleet {} · experiment {} ({}) · base {} · {} variants x {} seeds",
        comparison.version,
        comparison.experiment,
        comparison.file,
        comparison.base,
        comparison.variants.len(),
        comparison.seeds.len()
    );
    if !comparison.description.is_empty() {
        let _ = writeln!(out, "{}", comparison.description);
    }
    let width = comparison.variants.iter().map(|v| v.chars().count() + 6).max().unwrap_or(0).max(8);
    let mut missing_noted = false;
    let mut metrics: Vec<&str> = Vec::new();
    for row in &comparison.rows {
        if !metrics.contains(&row.metric.as_str()) {
            metrics.push(&row.metric);
        }
    }
    for metric in metrics {
        let rows: Vec<&Row> = comparison.rows.iter().filter(|r| r.metric == metric).collect();
        let _ = writeln!(out);
        let _ =
            writeln!(out, "{} ({}; mean and 95% interval over seeds)", metric.to_uppercase(), unit_name(rows[0].unit));
        for row in rows {
            let e = &row.estimate;
            let is_reference = comparison.reference.as_deref() == Some(row.variant.as_str());
            let label = if is_reference { format!("{} (ref)", row.variant) } else { row.variant.clone() };
            let mean = e.mean.map_or("-".to_string(), |m| shown(row.unit, m, false));
            let _ =
                write!(out, "  {label:<width$}  n {:>3}  mean {mean:>10}  {:<24}", e.n, interval(row.unit, e, false));
            if let Some(d) = &row.vs_reference {
                let diff = d.estimate.mean.map_or("-".to_string(), |m| shown(row.unit, m, true));
                let verdict = match d.excludes_zero {
                    Some(true) => "differs",
                    Some(false) => "no clear difference",
                    None => "",
                };
                let _ = write!(out, "  vs ref {diff:>10} {} {verdict}", interval(row.unit, &d.estimate, true));
            }
            if e.missing > 0 {
                let _ = write!(out, "  ({} runs without a value, left out)", e.missing);
                missing_noted = true;
            }
            out.push('\n');
            trim_line_end(&mut out);
        }
    }
    if comparison.reference.is_some() {
        let _ = writeln!(out);
        let _ = writeln!(out, "  vs ref: the mean of variant - reference over seeds both ran (paired), with its 95%");
        let _ = writeln!(out, "  interval; \"differs\" when the interval excludes zero.");
    }
    if missing_noted {
        let _ = writeln!(out, "  A run without a value (a level never reached) is counted, not averaged.");
    }
    out.push_str(&super::thresholds::block(&comparison.thresholds));
    out
}

/// Removes spaces before the last newline of `out`.
fn trim_line_end(out: &mut String) {
    let body = out.trim_end_matches('\n').trim_end().len();
    out.truncate(body);
    out.push('\n');
}
