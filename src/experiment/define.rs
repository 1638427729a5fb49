//! From the experiment file to validated variants, seeds and metrics.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use toml::Spanned;

use super::file::{ExperimentFile, Place, SweepEntry, parse};
use crate::report::metrics::Unit;
use crate::scenario::{self, DEFAULT_SCENARIO, DEFAULT_SCENARIO_NAME, Diagnostic, Diagnostics, Scenario};

/// More runs than this need `--yes`.
pub const MAX_RUNS: u64 = 10_000;
/// More runs than this are refused even with `--yes` (the plan alone would fill memory).
const HARD_MAX_RUNS: u64 = 10_000_000;

/// One validated variant.
#[derive(Clone, Debug)]
pub struct Variant {
    pub name: String,
    /// (path, value as TOML) in the order applied.
    pub overrides: Vec<(String, String)>,
    pub scenario: Scenario,
}

/// A validated experiment, ready to run.
#[derive(Clone, Debug)]
pub struct Experiment {
    pub name: String,
    pub description: String,
    /// The experiment file as named by the user, and its text as run.
    pub file: String,
    pub text: String,
    /// The base scenario: its name in messages, and its text as read.
    pub base: Base,
    pub variants: Vec<Variant>,
    pub seeds: Vec<u64>,
    pub metrics: Vec<(String, Unit)>,
    /// Index of the reference variant.
    pub reference: Option<usize>,
    pub thresholds: Vec<super::thresholds::ExperimentThreshold>,
}

impl Experiment {
    /// Runs in all: every variant with every seed. Run `i` is variant `i / seeds`, seed
    /// `i % seeds`.
    pub fn runs(&self) -> usize {
        self.variants.len() * self.seeds.len()
    }
}

/// A variant as planned: name, where it was defined, overrides with their locations.
struct Planned {
    name: String,
    name_path: String,
    name_offset: usize,
    overrides: Vec<(Spanned<String>, Spanned<toml::Value>)>,
}

/// Reads `path` and its base scenario and validates everything. The error is every
/// problem found, each `file:line:column: key: message`, ready to print.
pub fn load(path: &Path, yes: bool) -> Result<Experiment, String> {
    let file = path.display().to_string();
    let text = scenario::read_text(path).map_err(|e| e.located(&file))?;
    let place = Place { file: &file, text: &text };
    let parsed = parse(&place).map_err(|d| d.to_string())?;
    let (base_name, base_text) = read_base(path, &parsed, &place)?;
    build(&place, &parsed, Base { name: base_name, text: base_text }, yes)
}

/// The base scenario an experiment was planned on: its name in messages, and its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Base {
    pub name: String,
    pub text: String,
}

/// The experiment `file` (its name and text as run) on the base scenario as it was read
/// then, validated again: how a merge rebuilds the plan its shards ran, with no file read.
pub fn rebuild(file: &str, text: &str, base: Base) -> Result<Experiment, String> {
    let place = Place { file, text };
    let parsed = parse(&place).map_err(|d| d.to_string())?;
    build(&place, &parsed, base, true)
}

fn build(place: &Place<'_>, parsed: &ExperimentFile, base: Base, yes: bool) -> Result<Experiment, String> {
    let mut problems = Vec::new();
    let seeds = seeds(parsed, place, &mut problems);
    let planned = plan(parsed, place, &mut problems);
    let runs = (planned.len() as u64).saturating_mul(seeds.len() as u64);
    if planned.is_empty() {
        problems.push(place.at(0, "", "no variants: add a [[variant]] or a [[sweep]]"));
    } else if runs > HARD_MAX_RUNS || (runs > MAX_RUNS && !yes) {
        let advice = if runs > HARD_MAX_RUNS { "reduce the sweep or the seeds" } else { "pass --yes to run them" };
        let message = format!(
            "{runs} runs ({} variants x {} seeds) is more than {MAX_RUNS}; {advice}",
            planned.len(),
            seeds.len()
        );
        problems.push(place.at(0, "", message));
    }
    finish(&problems)?;
    let variants = build_variants(&planned, &base.name, &base.text, place, &mut problems);
    finish(&problems)?;
    let metrics = check_metrics(parsed, &variants, place, &mut problems)?;
    let reference = parsed.reference.as_ref().and_then(|reference| {
        let found = variants.iter().position(|v| &v.name == reference.get_ref());
        if found.is_none() {
            let names: Vec<&str> = variants.iter().map(|v| v.name.as_str()).collect();
            let message = format!("no variant named `{}` (variants: {})", reference.get_ref(), names.join(", "));
            problems.push(place.at(reference.span().start, "reference", message));
        }
        found
    });
    let names: Vec<String> = variants.iter().map(|v| v.name.clone()).collect();
    let thresholds = super::thresholds::check(parsed, &names, &metrics, reference.is_some(), place, &mut problems);
    finish(&problems)?;
    let name = parsed.name.as_ref().map(|n| n.get_ref().clone()).unwrap_or_else(|| {
        Path::new(place.file).file_stem().map_or_else(|| "experiment".to_string(), |s| s.to_string_lossy().into_owned())
    });
    Ok(Experiment {
        name,
        description: parsed.description.clone(),
        file: place.file.to_string(),
        text: place.text.to_string(),
        base,
        variants,
        seeds,
        metrics,
        reference,
        thresholds,
    })
}

fn finish(problems: &[Diagnostic]) -> Result<(), String> {
    if problems.is_empty() {
        return Ok(());
    }
    let mut sorted = problems.to_vec();
    sorted.sort_by_key(|d| (d.line, d.column));
    Err(Diagnostics(sorted).to_string())
}

/// The base scenario's name and text: the file named by `base`, relative to the
/// experiment file, or the embedded default.
fn read_base(path: &Path, parsed: &ExperimentFile, place: &Place<'_>) -> Result<(String, String), String> {
    let Some(base) = &parsed.base else {
        return Ok((DEFAULT_SCENARIO_NAME.to_string(), DEFAULT_SCENARIO.to_string()));
    };
    let resolved = path.parent().unwrap_or(Path::new("")).join(base.get_ref());
    let name = resolved.display().to_string();
    let text = scenario::read_text(&resolved).map_err(|e| {
        place.at(base.span().start, "base", format!("cannot read the base scenario: {}", e.located(&name))).to_string()
    })?;
    Ok((name, text))
}

fn seeds(parsed: &ExperimentFile, place: &Place<'_>, problems: &mut Vec<Diagnostic>) -> Vec<u64> {
    match (&parsed.replications, &parsed.seeds) {
        (Some(_), Some(seeds)) => {
            problems.push(place.at(seeds.span().start, "seeds", "give `replications` or `seeds`, not both"));
            Vec::new()
        }
        (None, None) => {
            problems.push(place.at(0, "", "missing `replications = N` (seeds 1 to N) or `seeds = [...]`"));
            Vec::new()
        }
        (Some(n), None) if *n.get_ref() == 0 || *n.get_ref() > HARD_MAX_RUNS => {
            problems.push(place.at(n.span().start, "replications", format!("give 1 to {HARD_MAX_RUNS} replications")));
            Vec::new()
        }
        (Some(n), None) => (1..=*n.get_ref()).collect(),
        (None, Some(seeds)) => {
            let mut seen = BTreeSet::new();
            if seeds.get_ref().is_empty() {
                problems.push(place.at(seeds.span().start, "seeds", "the list of seeds is empty"));
            }
            for seed in seeds.get_ref() {
                if !seen.insert(*seed) {
                    problems.push(place.at(seeds.span().start, "seeds", format!("seed {seed} is listed twice")));
                }
            }
            seeds.get_ref().clone()
        }
    }
}

/// Every variant, explicit ones first, then each sweep's points; names unique.
fn plan(parsed: &ExperimentFile, place: &Place<'_>, problems: &mut Vec<Diagnostic>) -> Vec<Planned> {
    let mut planned = Vec::new();
    for (i, entry) in parsed.variant.iter().enumerate() {
        let overrides = entry.overrides.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let (name, name_offset) = (entry.name.get_ref().clone(), entry.name.span().start);
        planned.push(Planned { name, name_path: format!("variant[{i}].name"), name_offset, overrides });
    }
    for (i, sweep) in parsed.sweep.iter().enumerate() {
        sweep_points(i, sweep, place, problems, &mut planned);
    }
    let mut seen = BTreeMap::new();
    for variant in &planned {
        if let Some(first) = seen.insert(variant.name.clone(), variant.name_path.clone()) {
            let message = format!("variant name `{}` is already used by {first}", variant.name);
            problems.push(place.at(variant.name_offset, &variant.name_path, message));
        }
    }
    planned
}

/// How a value reads in a variant name: strings bare, everything else as TOML.
fn shown(value: &toml::Value) -> String {
    value.as_str().map_or_else(|| value.to_string(), str::to_string)
}

fn sweep_points(
    i: usize,
    sweep: &SweepEntry,
    place: &Place<'_>,
    problems: &mut Vec<Diagnostic>,
    out: &mut Vec<Planned>,
) {
    let parameters: Vec<_> = sweep.parameters.get_ref().iter().collect();
    let path = format!("sweep[{i}].parameters");
    if parameters.is_empty() {
        problems.push(place.at(sweep.parameters.span().start, &path, "a sweep of zero points: name at least one path"));
        return;
    }
    let mut points: u64 = 1;
    for (key, values) in &parameters {
        if values.get_ref().is_empty() {
            let message = format!("`{}`: a sweep of zero points: list at least one value", key.get_ref());
            problems.push(place.at(values.span().start, &path, message));
            return;
        }
        points = points.saturating_mul(values.get_ref().len() as u64);
    }
    if points > HARD_MAX_RUNS {
        problems.push(place.at(
            sweep.parameters.span().start,
            &path,
            format!("{points} points is more than {HARD_MAX_RUNS}"),
        ));
        return;
    }
    let leaves: Vec<&str> = parameters.iter().map(|(k, _)| k.get_ref().rsplit('.').next().unwrap_or("")).collect();
    let distinct = leaves.iter().collect::<BTreeSet<_>>().len() == leaves.len();
    for point in 0..points {
        let mut rest = point;
        let mut chosen = Vec::new();
        // The first path varies slowest.
        for (key, values) in parameters.iter().rev() {
            let len = values.get_ref().len() as u64;
            chosen.push(((*key).clone(), Spanned::new(values.span(), values.get_ref()[(rest % len) as usize].clone())));
            rest /= len;
        }
        chosen.reverse();
        let label = |(k, (key, value)): (usize, &(Spanned<String>, Spanned<toml::Value>))| {
            let label = if distinct { leaves[k] } else { key.get_ref().as_str() };
            format!("{label}={}", shown(value.get_ref()))
        };
        let name = chosen.iter().enumerate().map(label).collect::<Vec<_>>().join(",");
        let name_offset = sweep.parameters.span().start;
        out.push(Planned { name, name_path: path.clone(), name_offset, overrides: chosen });
    }
}

fn build_variants(
    planned: &[Planned],
    base_name: &str,
    base_text: &str,
    place: &Place<'_>,
    problems: &mut Vec<Diagnostic>,
) -> Vec<Variant> {
    let base: toml_edit::DocumentMut = match base_text.parse() {
        Ok(doc) => doc,
        Err(_) => {
            // The base does not parse: the scenario loader says where.
            let diagnostics = scenario::load(base_name, base_text).err().map(|d| d.0).unwrap_or_default();
            problems.extend(diagnostics);
            return Vec::new();
        }
    };
    let mut variants = Vec::new();
    for variant in planned {
        let mut doc = base.clone();
        let mut resolved = Vec::new();
        let mut applied = Vec::new();
        for (key, value) in &variant.overrides {
            let at = format!("{}: override", variant.name_path);
            match super::overrides::apply(&mut doc, key.get_ref(), value.get_ref()) {
                Ok(path) => {
                    resolved.push((path, value.span().start));
                    applied.push((key.get_ref().clone(), value.get_ref().to_string()));
                }
                Err(message) => problems.push(place.at(key.span().start, &at, message)),
            }
        }
        if resolved.len() < variant.overrides.len() {
            continue;
        }
        let source = format!("{base_name} (variant `{}`)", variant.name);
        match scenario::load(&source, &doc.to_string()) {
            Ok(scenario) => variants.push(Variant { name: variant.name.clone(), overrides: applied, scenario }),
            Err(diagnostics) => {
                for d in diagnostics.0 {
                    let hit = resolved
                        .iter()
                        .find(|(path, _)| d.key_path == *path || d.key_path.starts_with(&format!("{path}.")));
                    match hit {
                        Some((path, offset)) => {
                            let message = format!("variant `{}`: {path}: {}", variant.name, d.message);
                            problems.push(place.at(*offset, &variant.name_path, message));
                        }
                        None => problems.push(d),
                    }
                }
            }
        }
    }
    variants
}

/// The metrics to compare, each checked against the registry of every variant.
fn check_metrics(
    parsed: &ExperimentFile,
    variants: &[Variant],
    place: &Place<'_>,
    problems: &mut Vec<Diagnostic>,
) -> Result<Vec<(String, Unit)>, String> {
    let mut registries = Vec::new();
    for variant in variants {
        let names = crate::report::thresholds::metric_names(&variant.scenario)
            .map_err(|message| format!("{}: variant `{}`: {message}", place.file, variant.name))?;
        registries.push(names);
    }
    if parsed.metrics.get_ref().is_empty() {
        problems.push(place.at(parsed.metrics.span().start, "metrics", "name at least one metric"));
    }
    let mut metrics = Vec::new();
    for (i, metric) in parsed.metrics.get_ref().iter().enumerate() {
        let name = metric.get_ref();
        let lacking = variants.iter().zip(&registries).find(|(_, names)| !names.contains_key(name));
        if let Some((variant, names)) = lacking {
            let prefix = name.rsplit_once('.').map_or("", |(p, _)| p);
            let near: Vec<&str> = names.keys().filter(|k| k.starts_with(prefix)).take(6).map(String::as_str).collect();
            let hint = if near.is_empty() { String::new() } else { format!("; similar: {}", near.join(", ")) };
            let message =
                format!("no metric named `{name}` in variant `{}` (README.md, \"Metric names\"){hint}", variant.name);
            problems.push(place.at(metric.span().start, &format!("metrics[{i}]"), message));
        } else if metrics.iter().any(|(m, _)| m == name) {
            problems.push(place.at(metric.span().start, &format!("metrics[{i}]"), format!("`{name}` is listed twice")));
        } else if let Some(unit) = registries.first().and_then(|r| r.get(name)) {
            metrics.push((name.clone(), *unit));
        }
    }
    Ok(metrics)
}
