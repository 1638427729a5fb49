//! The headline figures of a run, shared by `summary.json` and the summary table.

use std::collections::BTreeMap;

use serde::Serialize;

use super::figures::{ComplianceFigures, View, compliance_figures, time_to_levels};
use super::metrics::{Metric, metrics};
use crate::run::RunResult;
use crate::scenario::Scenario;
use crate::window::ExecutionStatus;

/// The version of the results directory's format: `patchfleet report DIR` reads only
/// directories of this format. Raise it whenever a file's shape changes.
pub const RESULTS_FORMAT: u32 = 2;

/// `summary.json`.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub results_format: u32,
    pub scenario: String,
    pub description: String,
    pub scenario_file: String,
    pub scenario_hash: String,
    pub seed: u64,
    pub version: &'static str,
    pub start: String,
    pub horizon: String,
    pub end: String,
    pub sample_interval: String,
    /// `[scenario] compliance_target`: the share `time_above_target` measures against.
    pub compliance_target: f64,
    pub stop_reason: &'static str,
    pub stopped_at: String,
    pub events_processed: u64,
    pub instances: u64,
    pub patches_per_catalog: BTreeMap<String, usize>,
    pub patch_groups: Vec<GroupSummary>,
    pub windows: Vec<WindowSummary>,
    pub baselines: Vec<BaselineSummary>,
    pub repositories: Vec<RepositorySummary>,
    pub alarms: Vec<AlarmSummary>,
    /// Per location and destination: hours the link was down.
    pub link_downtime_hours: Vec<LinkDowntime>,
    /// The scenario's warnings (`file:line:column: key: message`): legal, rarely meant.
    pub warnings: Vec<String>,
    /// Every figure above by its metric name (see `metrics.rs`), the one registry that
    /// thresholds and comparisons read.
    pub metrics: BTreeMap<String, Metric>,
}

/// A repository's load over the run. Latency runs from when a download was requested
/// (when it should have started) to its end, so waiting for a connection counts.
#[derive(Clone, Debug, Serialize)]
pub struct RepositorySummary {
    pub repository: String,
    pub bandwidth_mbps: f64,
    pub max_connections: u32,
    pub downloads: u64,
    pub latency_seconds_p50: Option<u64>,
    pub latency_seconds_p90: Option<u64>,
    pub latency_seconds_p99: Option<u64>,
    pub latency_seconds_max: Option<u64>,
    pub peak_active_downloads: u32,
    pub peak_queued_downloads: u32,
    /// The highest mean throughput over one sample interval.
    pub peak_throughput_mbps: f64,
}

/// What an alarm did over the run.
#[derive(Clone, Debug, Serialize)]
pub struct AlarmSummary {
    pub alarm: String,
    pub patch_group: String,
    pub metric: String,
    pub threshold: u64,
    /// Transitions from OK to ALARM.
    pub fired: u64,
    pub remediations: u64,
    pub remediated_instances: u64,
    /// Patches its remediations installed: (instance, patch) exposures they closed.
    pub patches_installed: u64,
    /// Invocations of its remediations that succeeded and failed.
    pub succeeded: u64,
    pub failed: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct LinkDowntime {
    pub location: String,
    pub destination: String,
    pub hours: f64,
}

/// Headline figures of one patch group (or `(none)` for untagged instances).
#[derive(Clone, Debug, Serialize)]
pub struct GroupSummary {
    pub patch_group: String,
    pub instances: u64,
    /// Compliance as Patch Manager reports it (the last Scan or Install of each instance;
    /// unreported instances count as non-compliant).
    pub reported: ComplianceFigures,
    /// The truth whatever was reported: no approved applicable patch missing and no reboot
    /// pending.
    #[serde(rename = "true")]
    pub truth: ComplianceFigures,
    pub exposure: ExposureSummary,
    /// The final roll-up, shaped like DescribePatchGroupState.
    pub state: PatchGroupState,
}

/// Seconds from release to effective installation over (instance, approved applicable
/// patch) pairs; pairs still open at the end count at the end, so with `open_at_end > 0`
/// these are lower bounds. Only the truth has an exposure.
#[derive(Clone, Debug, Serialize)]
pub struct ExposureSummary {
    pub pairs: u64,
    pub open_at_end: u64,
    pub p50_seconds: Option<u64>,
    pub p90_seconds: Option<u64>,
    pub p95_seconds: Option<u64>,
    pub p99_seconds: Option<u64>,
    pub max_seconds: Option<u64>,
}

/// DescribePatchGroupState's fields.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PatchGroupState {
    pub instances: u64,
    pub instances_with_installed_patches: u64,
    pub instances_with_installed_other_patches: u64,
    pub instances_with_installed_pending_reboot_patches: u64,
    pub instances_with_installed_rejected_patches: u64,
    pub instances_with_missing_patches: u64,
    pub instances_with_failed_patches: u64,
    pub instances_with_not_applicable_patches: u64,
    pub instances_with_unreported_not_applicable_patches: u64,
    pub instances_with_critical_non_compliant_patches: u64,
    pub instances_with_security_non_compliant_patches: u64,
    pub instances_with_other_non_compliant_patches: u64,
    pub instances_with_available_security_updates: u64,
}

/// How a maintenance window was used over the run.
#[derive(Clone, Debug, Serialize)]
pub struct WindowSummary {
    pub window: String,
    pub duration_seconds: i64,
    pub executions: u64,
    /// Executions by status (SUCCESS, FAILED, TIMED_OUT, ...; IN_PROGRESS or PENDING when
    /// the run stopped first).
    pub status: BTreeMap<String, u64>,
    /// Invocations by outcome, summed over executions (the outcome columns of windows.csv).
    pub invocations: BTreeMap<String, u64>,
    /// Failed and Delivery Timed Out invocations by cause, summed over executions.
    pub causes: BTreeMap<String, u64>,
    /// Over finished executions: time from start to end, and how many ran past the
    /// window's duration.
    pub run_seconds_p50: Option<u64>,
    pub run_seconds_max: Option<u64>,
    pub overran: u64,
    /// Targets never started: their level could not start before the cutoff, or a
    /// CANCEL_TASK cutoff came first.
    pub targets_skipped: u64,
    pub targets_cancelled_after_max_errors: u64,
    pub targets_undeliverable: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct BaselineSummary {
    pub name: String,
    pub baseline_id: String,
    pub operating_system: String,
}

fn group_states(result: &RunResult) -> Vec<PatchGroupState> {
    let world = &result.world;
    let mut states: Vec<PatchGroupState> = vec![PatchGroupState::default(); world.report_groups.len()];
    for (instance, report) in world.instances.report.iter().enumerate() {
        if !world.instances.running[instance] {
            continue;
        }
        let group = &world.groups[world.instances.group[instance] as usize];
        let state = &mut states[group.report_group as usize];
        state.instances += 1;
        let Some(report) = report else { continue };
        let c = &report.counts;
        let add = |field: &mut u64, count: u32| *field += (count > 0) as u64;
        add(&mut state.instances_with_installed_patches, c.installed);
        add(&mut state.instances_with_installed_other_patches, c.installed_other);
        add(&mut state.instances_with_installed_pending_reboot_patches, c.installed_pending_reboot);
        add(&mut state.instances_with_installed_rejected_patches, c.installed_rejected);
        add(&mut state.instances_with_missing_patches, c.missing);
        add(&mut state.instances_with_failed_patches, c.failed);
        add(&mut state.instances_with_not_applicable_patches, c.not_applicable);
        add(&mut state.instances_with_critical_non_compliant_patches, report.critical_non_compliant);
        add(&mut state.instances_with_security_non_compliant_patches, report.security_non_compliant);
        add(&mut state.instances_with_other_non_compliant_patches, report.other_non_compliant);
        add(&mut state.instances_with_available_security_updates, c.available_security_update);
    }
    states
}

fn exposure(result: &RunResult, group: usize) -> ExposureSummary {
    let histogram = &result.exposure[group];
    let quantile = |q: f64| (!histogram.is_empty()).then(|| histogram.value_at_quantile(q));
    ExposureSummary {
        pairs: histogram.len(),
        open_at_end: result.exposed_at_end[group],
        p50_seconds: quantile(0.5),
        p90_seconds: quantile(0.9),
        p95_seconds: quantile(0.95),
        p99_seconds: quantile(0.99),
        max_seconds: (!histogram.is_empty()).then(|| histogram.max()),
    }
}

fn patch_groups(scenario: &Scenario, result: &RunResult) -> Vec<GroupSummary> {
    let world = &result.world;
    let states = group_states(result);
    let last = result.samples.last().map(|(_, c)| c.clone()).unwrap_or_default();
    let released = |catalog: usize, patch: usize| world.catalogs[catalog].patches[patch].released;
    let target = scenario.compliance_target();
    world
        .report_groups
        .iter()
        .enumerate()
        .map(|(index, name)| {
            let spreads: Vec<&[crate::sim::PatchSpread]> =
                result.spread.groups[index].iter().map(|v| v.as_slice()).collect();
            let view = |view: View| {
                let time_to = time_to_levels(&spreads, &released, view);
                compliance_figures(&result.samples, index, view, target, time_to)
            };
            GroupSummary {
                patch_group: name.clone(),
                instances: last.get(index).map_or(0, |c| c.instances),
                reported: view(View::Reported),
                truth: view(View::True),
                exposure: exposure(result, index),
                state: states[index].clone(),
            }
        })
        .collect()
}

/// Seconds from `start` to `end`, both RFC 3339 as the execution records hold them.
fn run_seconds(start: &str, end: &str) -> Option<u64> {
    let parse = |text: &str| text.parse::<jiff::Timestamp>().ok().map(|t| t.as_second());
    Some((parse(end)? - parse(start)?).max(0) as u64)
}

/// The nearest-rank quantile of sorted values.
fn nearest_rank(sorted: &[u64], q: f64) -> Option<u64> {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len().max(1));
    sorted.get(rank - 1).copied()
}

const STATUSES: [ExecutionStatus; 6] = [
    ExecutionStatus::Success,
    ExecutionStatus::Failed,
    ExecutionStatus::TimedOut,
    ExecutionStatus::SkippedOverlapping,
    ExecutionStatus::Pending,
    ExecutionStatus::InProgress,
];

fn windows(scenario: &Scenario, result: &RunResult) -> Vec<WindowSummary> {
    scenario
        .windows
        .iter()
        .map(|window| {
            let rows: Vec<_> = result.window_records.iter().filter(|r| r.window == window.name).collect();
            let finished: Vec<_> = rows.iter().filter(|r| !r.end.is_empty() && !r.start.is_empty()).collect();
            let mut seconds: Vec<u64> = finished.iter().filter_map(|r| run_seconds(&r.start, &r.end)).collect();
            seconds.sort_unstable();
            // Every status is present, at zero when it never happened, so that its metric exists.
            let mut status: BTreeMap<String, u64> = STATUSES.iter().map(|s| (s.as_str().to_string(), 0)).collect();
            for row in &rows {
                *status.entry(row.status.to_string()).or_default() += 1;
            }
            let sum = |f: fn(&crate::sim::ExecutionRecord) -> u64| rows.iter().map(|r| f(r)).sum::<u64>();
            let invocations = BTreeMap::from([
                ("succeeded".to_string(), sum(|r| r.succeeded)),
                ("failed".to_string(), sum(|r| r.failed)),
                ("delivery_timed_out".to_string(), sum(|r| r.delivery_timed_out)),
                ("timed_out".to_string(), sum(|r| r.timed_out)),
                ("undeliverable".to_string(), sum(|r| r.undeliverable)),
                ("cancelled".to_string(), sum(|r| r.cancelled)),
                ("skipped".to_string(), sum(|r| r.skipped)),
            ]);
            let causes = BTreeMap::from([
                ("install_failure".to_string(), sum(|r| r.failed_install)),
                ("download_cut".to_string(), sum(|r| r.failed_download_cut)),
                ("reboot_failure".to_string(), sum(|r| r.failed_reboot)),
                ("instance_busy".to_string(), sum(|r| r.failed_busy)),
                ("agent_down".to_string(), sum(|r| r.delivery_agent_down)),
                ("agent_unreachable".to_string(), sum(|r| r.delivery_agent_unreachable)),
            ]);
            let duration = window.duration.0.max(0) as u64;
            WindowSummary {
                window: window.name.clone(),
                duration_seconds: window.duration.0,
                executions: rows.len() as u64,
                status,
                invocations,
                causes,
                run_seconds_p50: nearest_rank(&seconds, 0.5),
                run_seconds_max: seconds.last().copied(),
                overran: seconds.iter().filter(|&&s| s > duration).count() as u64,
                targets_skipped: sum(|r| r.skipped),
                targets_cancelled_after_max_errors: sum(|r| r.cancelled),
                targets_undeliverable: sum(|r| r.undeliverable),
            }
        })
        .collect()
}

fn repositories(scenario: &Scenario, result: &RunResult) -> Vec<RepositorySummary> {
    scenario
        .network
        .repositories
        .iter()
        .enumerate()
        .map(|(index, def)| {
            let histogram = &result.download_latency[index];
            let quantile = |q: f64| (!histogram.is_empty()).then(|| histogram.value_at_quantile(q));
            let peak_throughput_mbps = result
                .repository_samples
                .iter()
                .filter(|s| s.repository == def.name)
                .map(|s| s.throughput_mbps)
                .fold(0.0, f64::max);
            RepositorySummary {
                repository: def.name.clone(),
                bandwidth_mbps: def.bandwidth_mbps,
                max_connections: def.max_connections,
                downloads: histogram.len(),
                latency_seconds_p50: quantile(0.5),
                latency_seconds_p90: quantile(0.9),
                latency_seconds_p99: quantile(0.99),
                latency_seconds_max: (!histogram.is_empty()).then(|| histogram.max()),
                peak_active_downloads: result.repository_peaks[index].0,
                peak_queued_downloads: result.repository_peaks[index].1,
                peak_throughput_mbps,
            }
        })
        .collect()
}

fn alarms(scenario: &Scenario, result: &RunResult) -> Vec<AlarmSummary> {
    scenario
        .alarms
        .iter()
        .zip(&result.alarms)
        .map(|(def, state)| {
            let rows = result.remediation_records.iter().filter(|r| r.window == def.name);
            let (succeeded, failed) = rows.fold((0, 0), |(s, f), r| (s + r.succeeded, f + r.failed));
            AlarmSummary {
                alarm: def.name.clone(),
                patch_group: def.patch_group.clone(),
                metric: crate::compliance::METRICS[def.metric].to_string(),
                threshold: def.threshold,
                fired: state.fired,
                remediations: state.remediations,
                remediated_instances: state.remediated_instances,
                patches_installed: state.patches_installed,
                succeeded,
                failed,
            }
        })
        .collect()
}

pub fn summarize(scenario: &Scenario, result: &RunResult) -> Summary {
    let world = &result.world;
    let link_downtime_hours = result
        .link_downtime
        .iter()
        .filter(|(_, _, down)| down.0 > 0)
        .map(|(location, destination, down)| LinkDowntime {
            location: location.clone(),
            destination: destination.clone(),
            hours: (down.as_hours_f64() * 1_000.0).round() / 1_000.0,
        })
        .collect();
    let mut summary = Summary {
        results_format: RESULTS_FORMAT,
        alarms: alarms(scenario, result),
        repositories: repositories(scenario, result),
        link_downtime_hours,
        windows: windows(scenario, result),
        scenario: scenario.name.clone(),
        description: scenario.description.clone(),
        scenario_file: scenario.source_name.clone(),
        scenario_hash: scenario.hash.clone(),
        warnings: scenario.warnings.iter().map(|w| w.to_string()).collect(),
        seed: result.seed,
        version: crate::VERSION,
        start: scenario.start.to_rfc3339(),
        horizon: scenario.horizon.to_string(),
        end: scenario.end().to_rfc3339(),
        sample_interval: scenario.sample_interval.to_string(),
        compliance_target: scenario.compliance_target(),
        stop_reason: result.outcome.stop_reason.as_str(),
        stopped_at: result.outcome.stopped_at.to_rfc3339(),
        events_processed: result.outcome.events_processed,
        instances: world.instances.running.iter().filter(|r| **r).count() as u64,
        patches_per_catalog: world.catalogs.iter().map(|c| (c.os.to_string(), c.len())).collect(),
        patch_groups: patch_groups(scenario, result),
        baselines: scenario
            .baselines
            .iter()
            .map(|b| BaselineSummary {
                name: b.name.clone(),
                baseline_id: super::baseline_id(&b.name),
                operating_system: b.os.to_string(),
            })
            .collect(),
        metrics: BTreeMap::new(),
    };
    summary.metrics = metrics(&summary);
    summary
}
