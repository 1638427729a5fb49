//! The headline figures of a run, shared by `summary.json` and the summary table.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::run::RunResult;
use crate::scenario::Scenario;
use crate::time::{SimDuration, SimTime};

/// `summary.json`.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub scenario: String,
    pub description: String,
    pub scenario_file: String,
    pub scenario_hash: String,
    pub seed: u64,
    pub version: &'static str,
    pub start: String,
    pub horizon: String,
    pub end: String,
    pub stop_reason: &'static str,
    pub stopped_at: String,
    pub events_processed: u64,
    pub instances: u64,
    pub patches_per_catalog: BTreeMap<String, usize>,
    pub patch_groups: Vec<GroupSummary>,
    pub window_executions: BTreeMap<String, BTreeMap<String, u64>>,
    /// Per window: mean share of its duration used, and targets that never started.
    pub windows: Vec<WindowSummary>,
    pub baselines: Vec<BaselineSummary>,
    pub repositories: Vec<RepositorySummary>,
    pub alarms: Vec<AlarmSummary>,
    /// Per location and destination: hours the link was down.
    pub link_downtime_hours: Vec<LinkDowntime>,
    /// The scenario's warnings (`file:line:column: key: message`): legal, rarely meant.
    pub warnings: Vec<String>,
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
    /// Compliant share (0 to 1) at day 7, day 14 and at the end; `null` when the run is
    /// shorter.
    pub compliant_share_day_7: Option<f64>,
    pub compliant_share_day_14: Option<f64>,
    pub compliant_share_end: f64,
    /// Hours from release to effective installation over (instance, approved applicable
    /// patch) pairs; pairs still open at the end count at the horizon, so with
    /// `exposed_at_end > 0` these are lower bounds.
    pub exposure_hours_p50: Option<f64>,
    pub exposure_hours_p95: Option<f64>,
    pub exposure_pairs: u64,
    pub exposed_at_end: u64,
    /// The final roll-up, shaped like DescribePatchGroupState.
    pub state: PatchGroupState,
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
    pub executions: u64,
    /// Mean over finished executions of (end - start) / duration; above 1 when work ran
    /// past the window's end.
    pub mean_utilisation: Option<f64>,
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

fn share_at(result: &RunResult, group: usize, at: SimTime) -> Option<f64> {
    result.samples.iter().find(|(t, _)| *t == at).map(|(_, counters)| counters[group].compliant_share())
}

fn hours(seconds: u64) -> f64 {
    // Rounded to 0.01 h so that the JSON stays short and stable.
    (seconds as f64 / 36.0).round() / 100.0
}

pub fn summarize(scenario: &Scenario, result: &RunResult) -> Summary {
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
    let last = result.samples.last().map(|(_, c)| c.clone()).unwrap_or_default();
    let patch_groups = world
        .report_groups
        .iter()
        .enumerate()
        .map(|(index, name)| {
            let histogram = &result.exposure[index];
            let pairs = histogram.len();
            GroupSummary {
                patch_group: name.clone(),
                instances: last.get(index).map_or(0, |c| c.instances),
                compliant_share_day_7: share_at(result, index, scenario.start + SimDuration::days(7)),
                compliant_share_day_14: share_at(result, index, scenario.start + SimDuration::days(14)),
                compliant_share_end: last.get(index).map_or(0.0, |c| c.compliant_share()),
                exposure_hours_p50: (pairs > 0).then(|| hours(histogram.value_at_quantile(0.5))),
                exposure_hours_p95: (pairs > 0).then(|| hours(histogram.value_at_quantile(0.95))),
                exposure_pairs: pairs,
                exposed_at_end: result.exposed_at_end[index],
                state: states[index].clone(),
            }
        })
        .collect();
    let mut window_executions: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for window in &scenario.windows {
        window_executions.insert(window.name.clone(), BTreeMap::new());
    }
    for record in &result.window_records {
        *window_executions.entry(record.window.clone()).or_default().entry(record.status.to_string()).or_default() += 1;
    }
    let windows = scenario
        .windows
        .iter()
        .map(|window| {
            let rows: Vec<_> = result.window_records.iter().filter(|r| r.window == window.name).collect();
            let finished: Vec<f64> = rows.iter().filter(|r| !r.end.is_empty()).map(|r| r.utilisation).collect();
            WindowSummary {
                window: window.name.clone(),
                executions: rows.len() as u64,
                mean_utilisation: (!finished.is_empty())
                    .then(|| (finished.iter().sum::<f64>() / finished.len() as f64 * 1_000.0).round() / 1_000.0),
                targets_skipped: rows.iter().map(|r| r.skipped).sum(),
                targets_cancelled_after_max_errors: rows.iter().map(|r| r.cancelled).sum(),
                targets_undeliverable: rows.iter().map(|r| r.undeliverable).sum(),
            }
        })
        .collect();
    let repositories = scenario
        .network
        .repositories
        .iter()
        .enumerate()
        .map(|(index, def)| {
            let histogram = &result.download_latency[index];
            let quantile = |q: f64| (!histogram.is_empty()).then(|| histogram.value_at_quantile(q));
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
            }
        })
        .collect();
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
    let alarms = scenario
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
        .collect();
    Summary {
        alarms,
        repositories,
        link_downtime_hours,
        windows,
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
        stop_reason: result.outcome.stop_reason.as_str(),
        stopped_at: result.outcome.stopped_at.to_rfc3339(),
        events_processed: result.outcome.events_processed,
        instances: world.instances.running.iter().filter(|r| **r).count() as u64,
        patches_per_catalog: world.catalogs.iter().map(|c| (c.os.to_string(), c.len())).collect(),
        patch_groups,
        window_executions,
        baselines: scenario
            .baselines
            .iter()
            .map(|b| BaselineSummary {
                name: b.name.clone(),
                baseline_id: super::baseline_id(&b.name),
                operating_system: b.os.to_string(),
            })
            .collect(),
    }
}
