//! The replay plan: one window execution's downloads, as a run recorded them, turned into
//! HTTP objects on a mirror at instants relative to the first request.

use std::collections::BTreeMap;
use std::path::Path;

use crate::run::RunResult;
use crate::scenario::Scenario;
use crate::sim::DownloadRequest;

/// Object paths on the mirror when no template is given: a synthetic object per patch and
/// size, which `patchfleet load seed` writes.
pub const DEFAULT_TEMPLATE: &str = "{patch}-{bytes}.bin";

/// One object to GET.
#[derive(Clone, Debug, PartialEq)]
pub struct Object {
    /// The patch id (or any label, in hand-built plans).
    pub patch: String,
    /// Path below the target URL, without a leading slash.
    pub path: String,
    /// Bytes the mirror is expected to send (the patch's size over the size scale).
    pub bytes: u64,
}

/// One download of the plan: the objects an instance fetches, one after another, over one
/// connection.
#[derive(Clone, Debug, PartialEq)]
pub struct Download {
    /// Model seconds after the plan's first request.
    pub at: f64,
    /// Instance index; at most one download per instance runs at a time.
    pub instance: u32,
    pub objects: Vec<Object>,
    /// The simulation's latency for this download in model seconds, request to completion,
    /// queueing included; `None` if the model never completed it.
    pub predicted: Option<f64>,
}

/// Everything a replay needs besides the target.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub scenario: String,
    pub window: String,
    pub execution: u32,
    pub repository: String,
    /// The repository's connection cap in the scenario.
    pub max_connections: u32,
    /// Downloads in request order.
    pub downloads: Vec<Download>,
    /// Downloads of the execution before `--max-requests` cut the plan.
    pub downloads_in_execution: usize,
}

/// How to choose and shape the plan.
#[derive(Clone, Debug)]
pub struct PlanOptions {
    pub window: String,
    pub execution: Option<u32>,
    pub repository: Option<String>,
    /// Object path template: `{patch}`, `{package}` and `{bytes}` are replaced.
    pub template: String,
    /// Patch id to object path, instead of the template (see [`read_mapping`]).
    pub mapping: Option<BTreeMap<String, String>>,
    /// Objects are the patch's size divided by this.
    pub size_scale: f64,
    pub max_downloads: usize,
}

/// Builds the plan from a run made with [`crate::run::run_recording_downloads`]. Errors name
/// what is missing: the window, the execution, its downloads, the repository.
pub fn build(scenario: &Scenario, result: &RunResult, options: &PlanOptions) -> Result<Plan, String> {
    let log = result.downloads.as_ref().ok_or("the run did not record its downloads")?;
    let execution = choose_execution(scenario, result, log, options)?;
    let requests: Vec<&DownloadRequest> = log.requests.iter().filter(|d| d.execution == execution).collect();
    let repository = choose_repository(scenario, &requests, options, execution)?;
    let requests: Vec<&DownloadRequest> =
        requests.into_iter().filter(|d| d.repository as usize == repository).collect();
    let first = requests.iter().map(|d| d.requested_at).min().expect("the repository has requests");
    let downloads = requests
        .iter()
        .take(options.max_downloads)
        .map(|request| {
            Ok(Download {
                at: request.requested_at.since(first).0 as f64,
                instance: request.instance,
                objects: objects(result, request, options)?,
                predicted: request.finished_at.map(|f| f.since(request.requested_at).0 as f64),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let repo = &scenario.network.repositories[repository];
    Ok(Plan {
        scenario: scenario.name.clone(),
        window: options.window.clone(),
        execution,
        repository: repo.name.clone(),
        max_connections: repo.max_connections,
        downloads,
        downloads_in_execution: requests.len(),
    })
}

/// The execution asked for, or the window's first that downloaded anything.
fn choose_execution(
    scenario: &Scenario,
    result: &RunResult,
    log: &crate::sim::DownloadLog,
    options: &PlanOptions,
) -> Result<u32, String> {
    if !scenario.windows.iter().any(|w| w.name == options.window) {
        let names: Vec<&str> = scenario.windows.iter().map(|w| w.name.as_str()).collect();
        return Err(format!(
            "scenario `{}` has no maintenance window `{}` (windows: {})",
            scenario.name,
            options.window,
            list(&names)
        ));
    }
    let executions: Vec<u32> =
        result.window_records.iter().filter(|r| r.window == options.window).map(|r| r.execution).collect();
    match options.execution {
        Some(e) if executions.contains(&e) => Ok(e),
        Some(e) => {
            let ids: Vec<String> = executions.iter().map(|e| e.to_string()).collect();
            Err(format!(
                "window `{}` has no execution {e} in this run (its executions: {})",
                options.window,
                list(&ids)
            ))
        }
        None => executions.iter().copied().find(|&e| log.requests.iter().any(|d| d.execution == e)).ok_or_else(|| {
            format!("no execution of window `{}` downloaded anything through a repository", options.window)
        }),
    }
}

/// The objects of one download: its patches, named by the mapping or the template.
fn objects(result: &RunResult, request: &DownloadRequest, options: &PlanOptions) -> Result<Vec<Object>, String> {
    let catalog = &result.world.catalogs[request.catalog as usize];
    request
        .patches
        .iter()
        .map(|&p| {
            let patch = &catalog.patches[p as usize];
            let package = &catalog.package_names[patch.package as usize];
            let bytes = object_bytes(patch.download_mb, options.size_scale);
            let path = match &options.mapping {
                None => object_path(&options.template, &patch.id, package, bytes)?,
                Some(mapping) => mapping
                    .get(&patch.id)
                    .cloned()
                    .ok_or_else(|| format!("patch `{}` has no line in the mapping file", patch.id))?,
            };
            Ok(Object { patch: patch.id.clone(), path, bytes })
        })
        .collect()
}

fn choose_repository(
    scenario: &Scenario,
    requests: &[&DownloadRequest],
    options: &PlanOptions,
    execution: u32,
) -> Result<usize, String> {
    let mut used: Vec<usize> = requests.iter().map(|d| d.repository as usize).collect();
    used.sort_unstable();
    used.dedup();
    let names: Vec<&str> = used.iter().map(|&r| scenario.network.repositories[r].name.as_str()).collect();
    match &options.repository {
        Some(name) => used.iter().copied().find(|&r| &scenario.network.repositories[r].name == name).ok_or_else(|| {
            format!(
                "execution {execution} of `{}` downloaded nothing from `{name}` (it used: {})",
                options.window,
                list(&names)
            )
        }),
        None if used.len() == 1 => Ok(used[0]),
        None if used.is_empty() => {
            Err(format!("execution {execution} of window `{}` downloaded nothing through a repository", options.window))
        }
        None => Err(format!(
            "execution {execution} of `{}` downloaded from several repositories ({}): choose one with --repository",
            options.window,
            list(&names)
        )),
    }
}

/// The object size for a patch of `megabytes` (10^6 bytes) scaled down by `size_scale`; at
/// least one byte, so every request transfers something.
pub fn object_bytes(megabytes: f64, size_scale: f64) -> u64 {
    ((megabytes * 1e6 / size_scale).round() as u64).max(1)
}

/// Fills a path template. The result must stay below the target: no empty, `.` or `..`
/// segment, no leading slash.
pub fn object_path(template: &str, patch: &str, package: &str, bytes: u64) -> Result<String, String> {
    let path = template.replace("{patch}", patch).replace("{package}", package).replace("{bytes}", &bytes.to_string());
    let path = path.trim_start_matches('/').to_string();
    if path.is_empty() || path.split('/').any(|s| s.is_empty() || s == "." || s == "..") {
        return Err(format!(
            "object path `{path}` (from template `{template}`) must be a relative path without empty, `.` or `..` segments"
        ));
    }
    if path.chars().any(|c| c.is_control() || c == ' ' || c == '?' || c == '#' || c == '%') {
        return Err(format!(
            "object path `{path}` (from template `{template}`) has a character that needs escaping in a URL"
        ));
    }
    Ok(path)
}

/// Reads a mapping file: CSV with a `patch,path` header, one patch id and its object path
/// below the target per line. Errors name the file and line.
pub fn read_mapping(file: &Path) -> Result<BTreeMap<String, String>, String> {
    let name = file.display();
    let mut reader = csv::Reader::from_path(file).map_err(|e| format!("{name}: cannot read the mapping file: {e}"))?;
    let headers = reader.headers().map_err(|e| format!("{name}: {e}"))?.clone();
    if headers.iter().collect::<Vec<_>>() != ["patch", "path"] {
        return Err(format!("{name}:1: the header must be `patch,path`"));
    }
    let mut mapping = BTreeMap::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = record.map_err(|e| format!("{name}:{line}: {e}"))?;
        let (patch, path) = (record[0].trim(), record[1].trim());
        if patch.is_empty() {
            return Err(format!("{name}:{line}: empty patch id"));
        }
        let path = object_path(path, patch, "", 0).map_err(|e| format!("{name}:{line}: {e}"))?;
        if mapping.insert(patch.to_string(), path).is_some() {
            return Err(format!("{name}:{line}: patch `{patch}` is mapped twice"));
        }
    }
    Ok(mapping)
}

fn list(items: &[impl AsRef<str>]) -> String {
    if items.is_empty() {
        return "none".to_string();
    }
    items.iter().map(|s| s.as_ref()).collect::<Vec<_>>().join(", ")
}
