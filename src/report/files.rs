//! Writing the files of a results directory.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::summary::summarize;
use crate::compliance::METRICS;
use crate::fleet::instance_id;
use crate::run::RunResult;
use crate::scenario::Scenario;

/// A baseline id in AWS's shape (`pb-` and 17 hex digits), derived from its name.
pub fn baseline_id(name: &str) -> String {
    let digest = Sha256::digest(name.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("pb-{}", &hex[..17])
}

fn csv_error(error: csv::Error) -> io::Error {
    io::Error::other(error)
}

pub fn write_files(dir: &Path, scenario: &Scenario, result: &RunResult) -> io::Result<()> {
    let summary = summarize(scenario, result);
    let mut out = BufWriter::new(File::create(dir.join("summary.json"))?);
    serde_json::to_writer_pretty(&mut out, &summary)?;
    out.write_all(b"\n")?;
    out.flush()?;

    write_compliance(dir, result)?;
    write_windows(dir, result)?;
    write_repositories(dir, result)?;
    write_asgs(dir, result)?;
    write_patches(dir, scenario, result)?;
    write_exposure(dir, result)?;
    super::states::write_instance_states(dir, scenario, result)?;
    write_instance_patches(dir, result)?;
    super::table::write_perf(dir, scenario, result)?;
    Ok(())
}

fn write_compliance(dir: &Path, result: &RunResult) -> io::Result<()> {
    let mut writer = csv::Writer::from_path(dir.join("compliance.csv")).map_err(csv_error)?;
    writer.write_record(["time", "patch_group", "metric", "value"]).map_err(csv_error)?;
    for (time, counters) in &result.samples {
        let time = time.to_rfc3339();
        for (group, counter) in result.world.report_groups.iter().zip(counters) {
            for (metric, value) in METRICS.iter().zip(counter.values()) {
                writer.write_record([time.as_str(), group, metric, &value.to_string()]).map_err(csv_error)?;
            }
        }
    }
    writer.flush()
}

/// The columns of `windows.csv`, `associations.csv` and `remediations.csv`, for files
/// without rows: the fields of [`crate::sim::ExecutionRecord`] in order (a test checks).
pub const EXECUTION_COLUMNS: [&str; 23] = [
    "window",
    "execution",
    "scheduled_start",
    "start",
    "end",
    "status",
    "status_details",
    "targets",
    "succeeded",
    "failed",
    "delivery_timed_out",
    "undeliverable",
    "timed_out",
    "cancelled",
    "skipped",
    "failed_install",
    "failed_download_cut",
    "failed_reboot",
    "failed_busy",
    "delivery_agent_down",
    "delivery_agent_unreachable",
    "hours",
    "utilisation",
];

fn write_executions(path: &Path, records: &[crate::sim::ExecutionRecord]) -> io::Result<()> {
    let mut writer = csv::Writer::from_path(path).map_err(csv_error)?;
    if records.is_empty() {
        writer.write_record(EXECUTION_COLUMNS).map_err(csv_error)?;
    }
    for record in records {
        writer.serialize(record).map_err(csv_error)?;
    }
    writer.flush()
}

fn write_windows(dir: &Path, result: &RunResult) -> io::Result<()> {
    write_executions(&dir.join("windows.csv"), &result.window_records)?;
    write_executions(&dir.join("associations.csv"), &result.association_records)?;
    write_executions(&dir.join("remediations.csv"), &result.remediation_records)?;
    let Some(invocations) = &result.invocations else { return Ok(()) };
    let mut writer = csv::Writer::from_path(dir.join("invocations.csv")).map_err(csv_error)?;
    if invocations.is_empty() {
        let columns =
            ["owner", "execution", "task", "instance_id", "dispatched", "end", "status", "status_details", "cause"];
        writer.write_record(columns).map_err(csv_error)?;
    }
    for record in invocations {
        writer.serialize(record).map_err(csv_error)?;
    }
    writer.flush()
}

fn write_repositories(dir: &Path, result: &RunResult) -> io::Result<()> {
    let mut writer = csv::Writer::from_path(dir.join("repository.csv")).map_err(csv_error)?;
    if result.repository_samples.is_empty() {
        writer
            .write_record([
                "time",
                "repository",
                "active_downloads",
                "queued_downloads",
                "throughput_mbps",
                "delivered_gb",
            ])
            .map_err(csv_error)?;
    }
    for sample in &result.repository_samples {
        writer.serialize(sample).map_err(csv_error)?;
    }
    writer.flush()
}

fn write_asgs(dir: &Path, result: &RunResult) -> io::Result<()> {
    let mut writer = csv::Writer::from_path(dir.join("asg.csv")).map_err(csv_error)?;
    if result.asg_samples.is_empty() {
        writer
            .write_record([
                "time",
                "auto_scaling_group",
                "min",
                "max",
                "desired",
                "running",
                "launched_total",
                "terminated_total",
                "newest_image_version",
                "running_on_newest_image",
            ])
            .map_err(csv_error)?;
    }
    for sample in &result.asg_samples {
        writer.serialize(sample).map_err(csv_error)?;
    }
    writer.flush()
}

fn write_patches(dir: &Path, scenario: &Scenario, result: &RunResult) -> io::Result<()> {
    let world = &result.world;
    let mut writer = csv::Writer::from_path(dir.join("patches.csv")).map_err(csv_error)?;
    writer
        .write_record([
            "operating_system",
            "patch_id",
            "package",
            "product",
            "classification",
            "severity",
            "security",
            "reboot_required",
            "released",
            "approvals",
            "applicable_instances",
            "initially_installed",
            "installed_at_end",
            "share_at_start_pct",
            "hours_to_50pct",
            "hours_to_90pct",
            "hours_to_100pct",
        ])
        .map_err(csv_error)?;
    for (c, catalog) in world.catalogs.iter().enumerate() {
        let baselines: Vec<usize> = (0..world.baselines.len()).filter(|&b| world.baseline_catalog[b] == c).collect();
        for (p, patch) in catalog.patches.iter().enumerate() {
            let approvals: Vec<String> = baselines
                .iter()
                .map(|&b| {
                    let approval = world.baselines[b].approvals[p];
                    let at = approval.at.map_or("never".to_string(), |t| t.to_rfc3339());
                    format!("{}={at}", scenario.baselines[b].name)
                })
                .collect();
            let progress = &result.progress[c][p];
            // Hours from the release to the level; empty if never reached, or if the level
            // was already reached when the run started (that is not time since release).
            let hours_to = |slot: usize| {
                progress.reached[slot]
                    .filter(|t| *t > scenario.start)
                    .map(|t| format!("{:.2}", t.since(patch.released).as_hours_f64().max(0.0)))
                    .unwrap_or_default()
            };
            let applicable = world.applicable_instances[c][p];
            let at_start = if applicable == 0 {
                String::new()
            } else {
                format!("{:.1}", world.initially_installed[c][p] as f64 * 100.0 / applicable as f64)
            };
            let severity = patch.properties.severity.clone().or(patch.properties.priority.clone()).unwrap_or_default();
            writer
                .write_record([
                    catalog.os.as_str(),
                    &patch.id,
                    &catalog.package_names[patch.package as usize],
                    &catalog.products[patch.product as usize],
                    patch.properties.classification.as_deref().unwrap_or(""),
                    &severity,
                    if patch.security { "true" } else { "false" },
                    if patch.reboot_required { "true" } else { "false" },
                    &patch.released.to_rfc3339(),
                    &approvals.join(";"),
                    &world.applicable_instances[c][p].to_string(),
                    &world.initially_installed[c][p].to_string(),
                    &progress.installed.to_string(),
                    &at_start,
                    &hours_to(0),
                    &hours_to(1),
                    &hours_to(2),
                ])
                .map_err(csv_error)?;
        }
    }
    writer.flush()
}

/// `exposure.csv`: the exposure distribution of each patch group at every percentile (and
/// 99.9), in seconds, for the report's chart.
fn write_exposure(dir: &Path, result: &RunResult) -> io::Result<()> {
    let mut writer = csv::Writer::from_path(dir.join("exposure.csv")).map_err(csv_error)?;
    writer.write_record(["patch_group", "quantile", "seconds"]).map_err(csv_error)?;
    let quantiles: Vec<f64> = (0..=100).map(|p| p as f64 / 100.0).chain([0.999]).collect();
    for (group, histogram) in result.world.report_groups.iter().zip(&result.exposure) {
        if histogram.is_empty() {
            continue;
        }
        let mut rows: Vec<(f64, u64)> = quantiles.iter().map(|&q| (q, histogram.value_at_quantile(q))).collect();
        rows.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (q, seconds) in rows {
            writer.write_record([group.as_str(), &format!("{q}"), &seconds.to_string()]).map_err(csv_error)?;
        }
    }
    writer.flush()
}

/// One patch of one instance, with DescribeInstancePatches' names (PatchComplianceData).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PatchRow<'a> {
    title: String,
    #[serde(rename = "KBId")]
    kb_id: &'a str,
    classification: &'a str,
    severity: &'a str,
    state: &'static str,
    installed_time: String,
    #[serde(rename = "CVEIds", skip_serializing_if = "Option::is_none")]
    cve_ids: Option<String>,
}

/// One line of `instance_patches.jsonl`: an instance and its patches, as
/// DescribeInstancePatches returns them for it.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct InstancePatches<'a> {
    instance_id: String,
    patches: Vec<PatchRow<'a>>,
}

/// `instance_patches.jsonl`, for the instances the scenario's `[output]` lists: each patch
/// in the state of the instance's last report, judged against that report's baseline and
/// snapshot. Linux lists no NOT_APPLICABLE rows (it reports only their count), Windows
/// does. Patches present before the run, or on the image an instance launched from, carry
/// the instance's patch level (or launch) as InstalledTime; patches installed during the
/// run carry the end of the operation that installed them; others carry 1970-01-01.
fn write_instance_patches(dir: &Path, result: &RunResult) -> io::Result<()> {
    let world = &result.world;
    if world.listed.is_empty() {
        return Ok(());
    }
    let mut out = BufWriter::new(File::create(dir.join("instance_patches.jsonl"))?);
    for (&instance, listed) in &world.listed {
        let index = instance as usize;
        let Some(report) = world.instances.report[index].as_ref().filter(|_| world.instances.running[index]) else {
            continue;
        };
        let line = InstancePatches {
            instance_id: instance_id(instance),
            patches: patch_rows(result, instance, report, listed),
        };
        serde_json::to_writer(&mut out, &line)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}

fn patch_rows<'r>(
    result: &'r RunResult,
    instance: u32,
    report: &crate::compliance::InstanceReport,
    listed: &crate::sim::world::Listed,
) -> Vec<PatchRow<'r>> {
    use crate::compliance::{Operation, PatchState};
    let world = &result.world;
    let index = instance as usize;
    let group = &world.groups[world.instances.group[index] as usize];
    let catalog = &world.catalogs[group.catalog];
    let baseline = &world.baselines[report.baseline as usize];
    let taken = result.snapshot_taken[report.snapshot as usize];
    let mut approved = crate::bitset::BitSet::new(catalog.len());
    let mut released = crate::bitset::BitSet::new(catalog.len());
    for (p, patch) in catalog.patches.iter().enumerate() {
        if baseline.approvals[p].at.is_some_and(|t| t <= taken) {
            approved.insert(p);
        }
        if patch.released <= report.start {
            released.insert(p);
        }
    }
    let windows = catalog.os == crate::catalog::Os::Windows;
    let failed: &[u32] = if report.operation == Operation::Install { &world.instances.failed[index] } else { &[] };
    let input = crate::compliance::EvaluationInput {
        baseline,
        approved: &approved,
        security: &world.security[group.catalog],
        applicable: world.applicable(instance),
        installed: &world.instances.installed[index],
        failed,
        pending_reboot: &world.instances.pending_reboot[index],
        released: windows.then_some(&released),
    };
    let mut rows = Vec::new();
    for (p, patch) in catalog.patches.iter().enumerate() {
        let Some(state) = crate::compliance::patch_state(&input, p) else { continue };
        if state == PatchState::NotApplicable && !windows {
            continue;
        }
        let package = catalog.package_names[patch.package as usize].as_str();
        let present = matches!(
            state,
            PatchState::Installed
                | PatchState::InstalledOther
                | PatchState::InstalledPendingReboot
                | PatchState::InstalledRejected
        );
        let installed_time = if present {
            let during = listed.installed_at.iter().rev().find(|(q, _)| *q as usize == p).map(|(_, t)| *t);
            during.unwrap_or(listed.since).to_rfc3339()
        } else {
            crate::time::SimTime(0).to_rfc3339()
        };
        // INSTALLED_OTHER and NOT_APPLICABLE rows carry no classification or severity.
        let bare = matches!(state, PatchState::InstalledOther | PatchState::NotApplicable);
        let property = |value: &'r Option<String>| if bare { "" } else { value.as_deref().unwrap_or("") };
        let severity = patch.properties.severity.as_ref().or(patch.properties.priority.as_ref());
        let cves = matches!(state, PatchState::Missing | PatchState::Failed) && !patch.cves.is_empty();
        rows.push(PatchRow {
            title: if windows {
                format!("{} ({})", patch.id, catalog.products[patch.product as usize])
            } else {
                format!("{package}:{}", patch.id)
            },
            kb_id: if windows { &patch.id } else { package },
            classification: property(&patch.properties.classification),
            severity: if bare { "" } else { severity.map_or("", String::as_str) },
            state: state.as_str(),
            installed_time,
            cve_ids: cves.then(|| patch.cves.join(",")),
        });
    }
    rows
}
