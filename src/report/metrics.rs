//! The one registry of metric names: [`metrics`] flattens a [`Summary`] into
//! `name -> value with unit`. `summary.json` carries the result under `metrics`, and
//! anything that names a metric (thresholds, comparisons) looks it up here, so nothing can
//! name a figure the summary does not compute.
//!
//! Names (README.md, "Metric names", lists them with their units):
//! - `compliance.<group>.<figure>` as reported, `compliance.<group>.true.<figure>` as the
//!   truth; figures `time_weighted_share`, `time_above_target`, `end`, `min` (shares) and
//!   `time_to_<level>pct.{p50,p90,max}` (seconds), `time_to_<level>pct.not_reached`
//!   (count); plus `compliance.<group>.instances` and, truth only,
//!   `compliance.<group>.exposure.{p50,p90,p95,p99,max}` (seconds),
//!   `compliance.<group>.exposure.pairs` and `compliance.<group>.open_pairs_at_end`.
//! - `windows.<window>.{executions,overran,targets_skipped}`, `windows.<window>.status.<STATUS>`,
//!   `windows.<window>.invocations.<outcome>` and `windows.<window>.causes.<cause>`
//!   (counts), `windows.<window>.run.{p50,max}`
//!   (seconds).
//! - `repository.<name>.download_latency.{p50,p90,p99,max}` (seconds),
//!   `repository.<name>.{downloads,peak_active_downloads,peak_queued_downloads}` (counts),
//!   `repository.<name>.peak_throughput` (Mbit/s).

use std::collections::BTreeMap;

use serde::Serialize;

use super::figures::ComplianceFigures;
use super::summary::Summary;

/// What a metric's value counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// A duration in seconds.
    Seconds,
    /// A share from 0 to 1.
    Share,
    Count,
    /// Megabits per second.
    Mbps,
}

/// One metric: its value (`None` when the run gives none, such as a quantile that falls
/// among patches that never reached a level) and its unit.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Metric {
    pub value: Option<f64>,
    pub unit: Unit,
}

struct Registry(BTreeMap<String, Metric>);

impl Registry {
    fn put(&mut self, name: String, value: Option<f64>, unit: Unit) {
        self.0.insert(name, Metric { value, unit });
    }
    fn seconds(&mut self, name: String, value: Option<u64>) {
        self.put(name, value.map(|v| v as f64), Unit::Seconds);
    }
    fn count(&mut self, name: String, value: u64) {
        self.put(name, Some(value as f64), Unit::Count);
    }
    fn share(&mut self, name: String, value: f64) {
        self.put(name, Some(value), Unit::Share);
    }

    fn compliance(&mut self, prefix: &str, figures: &ComplianceFigures) {
        self.share(format!("{prefix}.time_weighted_share"), figures.time_weighted_share);
        self.share(format!("{prefix}.time_above_target"), figures.time_above_target);
        self.share(format!("{prefix}.end"), figures.end);
        self.share(format!("{prefix}.min"), figures.min);
        for level in &figures.time_to {
            let name = format!("{prefix}.time_to_{}", level.level);
            self.seconds(format!("{name}.p50"), level.p50_seconds);
            self.seconds(format!("{name}.p90"), level.p90_seconds);
            self.seconds(format!("{name}.max"), level.max_seconds);
            self.count(format!("{name}.not_reached"), level.not_reached);
        }
    }
}

/// Every figure of `summary` by name.
pub fn metrics(summary: &Summary) -> BTreeMap<String, Metric> {
    let mut r = Registry(BTreeMap::new());
    for group in &summary.patch_groups {
        let prefix = format!("compliance.{}", group.patch_group);
        r.count(format!("{prefix}.instances"), group.instances);
        r.compliance(&prefix, &group.reported);
        r.compliance(&format!("{prefix}.true"), &group.truth);
        let e = &group.exposure;
        for (name, value) in
            [("p50", e.p50_seconds), ("p90", e.p90_seconds), ("p95", e.p95_seconds), ("p99", e.p99_seconds)]
        {
            r.seconds(format!("{prefix}.exposure.{name}"), value);
        }
        r.seconds(format!("{prefix}.exposure.max"), e.max_seconds);
        r.count(format!("{prefix}.exposure.pairs"), e.pairs);
        r.count(format!("{prefix}.open_pairs_at_end"), e.open_at_end);
    }
    for window in &summary.windows {
        let prefix = format!("windows.{}", window.window);
        r.count(format!("{prefix}.executions"), window.executions);
        r.count(format!("{prefix}.overran"), window.overran);
        r.count(format!("{prefix}.targets_skipped"), window.targets_skipped);
        r.seconds(format!("{prefix}.run.p50"), window.run_seconds_p50);
        r.seconds(format!("{prefix}.run.max"), window.run_seconds_max);
        for (status, n) in &window.status {
            r.count(format!("{prefix}.status.{status}"), *n);
        }
        for (cause, n) in &window.causes {
            r.count(format!("{prefix}.causes.{cause}"), *n);
        }
        for (outcome, n) in &window.invocations {
            r.count(format!("{prefix}.invocations.{outcome}"), *n);
        }
    }
    for repo in &summary.repositories {
        let prefix = format!("repository.{}", repo.repository);
        let latency = [
            ("p50", repo.latency_seconds_p50),
            ("p90", repo.latency_seconds_p90),
            ("p99", repo.latency_seconds_p99),
            ("max", repo.latency_seconds_max),
        ];
        for (name, value) in latency {
            r.seconds(format!("{prefix}.download_latency.{name}"), value);
        }
        r.count(format!("{prefix}.downloads"), repo.downloads);
        r.count(format!("{prefix}.peak_active_downloads"), repo.peak_active_downloads as u64);
        r.count(format!("{prefix}.peak_queued_downloads"), repo.peak_queued_downloads as u64);
        r.put(format!("{prefix}.peak_throughput"), Some(repo.peak_throughput_mbps), Unit::Mbps);
    }
    r.0
}
