//! The gate's files: Bencher Metric Format (BMF) JSON for the measures of one run, and the
//! committed baseline, which wraps a BMF document with its format, version, commit, machine
//! and the tolerance of each measure.
//!
//! BMF: `{"<benchmark>": {"<measure>": {"value": v, "lower_value": l, "upper_value": u}}}`.
//! The gate writes two measures per benchmark, both per operation: `instructions` (callgrind
//! `Ir`) and `latency` (wall-clock nanoseconds: the median, with the fastest and slowest
//! sample as bounds).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The BMF measure of instruction counts.
pub const INSTRUCTIONS: &str = "instructions";
/// The BMF measure of wall-clock time, nanoseconds.
pub const LATENCY: &str = "latency";

/// The `format` field of a baseline file.
pub const BASELINE_FORMAT: &str = "patchfleet-bench-baseline";
/// The version of the baseline format this build reads and writes.
pub const BASELINE_VERSION: u64 = 1;

/// One BMF metric.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metric {
    pub value: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lower_value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upper_value: Option<f64>,
}

impl Metric {
    pub fn exact(value: f64) -> Metric {
        Metric { value, lower_value: None, upper_value: None }
    }
}

/// A BMF document: benchmark name to measure name to metric.
pub type Bmf = BTreeMap<String, BTreeMap<String, Metric>>;

/// The machine a baseline was measured on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub os: String,
    pub valgrind: String,
}

/// The committed baseline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub format: String,
    pub version: u64,
    /// The commit measured (`git rev-parse --short=12 HEAD`, `-dirty` when the tree had
    /// changes outside `results/baselines/`).
    pub commit: String,
    pub machine: Machine,
    /// How far each benchmark's instruction count may rise, in percent.
    pub tolerance_percent: BTreeMap<String, f64>,
    pub measures: Bmf,
}

/// A file the gate cannot use: bad input, exit code 2.
#[derive(Debug, PartialEq)]
pub struct FileError(pub String);

/// Reads a BMF document (the output of an earlier run, for `--compare`).
pub fn read_bmf(path: &Path) -> Result<Bmf, FileError> {
    let name = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| FileError(format!("{name}: cannot read: {e}")))?;
    let bmf: Bmf =
        serde_json::from_str(&text).map_err(|e| FileError(format!("{name}: not Bencher Metric Format JSON: {e}")))?;
    for (bench, measures) in &bmf {
        for (measure, metric) in measures {
            if !metric.value.is_finite() || metric.value < 0.0 {
                return Err(FileError(format!("{name}: {bench}.{measure}.value: {} is not a count", metric.value)));
            }
        }
    }
    Ok(bmf)
}

/// Reads and checks a baseline: its format and version first, then its shape, then that
/// every benchmark with an instruction count has a tolerance.
pub fn read_baseline(path: &Path) -> Result<Baseline, FileError> {
    let name = path.display();
    let text =
        std::fs::read_to_string(path).map_err(|e| FileError(format!("{name}: cannot read the baseline: {e}")))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| FileError(format!("{name}: not JSON: {e}")))?;
    let format = value.get("format").and_then(|f| f.as_str());
    if format != Some(BASELINE_FORMAT) {
        let found = format.map_or_else(|| "no `format` field".to_string(), |f| format!("format `{f}`"));
        return Err(FileError(format!(
            "{name}: not a patchfleet bench baseline ({found}, expected format `{BASELINE_FORMAT}`)"
        )));
    }
    let version = value.get("version").and_then(|v| v.as_u64());
    if version != Some(BASELINE_VERSION) {
        let found = version.map_or_else(|| "no numeric `version`".to_string(), |v| format!("version {v}"));
        return Err(FileError(format!(
            "{name}: baseline {found}; this patchfleet reads version {BASELINE_VERSION} \
             (re-measure it with `cargo bench --bench gate -- --save-baseline`)"
        )));
    }
    let baseline: Baseline = serde_json::from_str(&text).map_err(|e| FileError(format!("{name}: {e}")))?;
    check_baseline(&baseline).map_err(|e| FileError(format!("{name}: {e}")))?;
    Ok(baseline)
}

fn check_baseline(baseline: &Baseline) -> Result<(), String> {
    for (bench, measures) in &baseline.measures {
        for (measure, metric) in measures {
            if !metric.value.is_finite() || metric.value < 0.0 {
                return Err(format!("measures.{bench}.{measure}.value: {} is not a count", metric.value));
            }
        }
        if let Some(metric) = measures.get(INSTRUCTIONS) {
            if metric.value <= 0.0 {
                return Err(format!("measures.{bench}.{INSTRUCTIONS}.value: must be above 0"));
            }
            if !baseline.tolerance_percent.contains_key(bench) {
                return Err(format!("tolerance_percent: no entry for `{bench}`, which has an instruction count"));
            }
        }
    }
    for (bench, tolerance) in &baseline.tolerance_percent {
        if !tolerance.is_finite() || *tolerance < 0.0 {
            return Err(format!("tolerance_percent.{bench}: {tolerance} is not a percentage"));
        }
        if !baseline.measures.get(bench).is_some_and(|m| m.contains_key(INSTRUCTIONS)) {
            return Err(format!("tolerance_percent.{bench}: no instruction count for it in `measures`"));
        }
    }
    Ok(())
}

/// Writes `value` as pretty JSON with a final newline, creating the parent directory.
pub fn write_json(path: &Path, value: &impl Serialize) -> Result<(), String> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: cannot create: {e}", parent.display()))?;
    }
    let mut text = serde_json::to_string_pretty(value).map_err(|e| format!("{}: {e}", path.display()))?;
    text.push('\n');
    std::fs::write(path, text).map_err(|e| format!("{}: cannot write: {e}", path.display()))
}
