//! The summary table printed at the end of `patchfleet run`, and `perf.json`.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

use super::summary::summarize;
use crate::run::RunResult;
use crate::scenario::Scenario;

/// `perf.json`: the core's own throughput and latency. Wall-clock figures, so they differ
/// between runs; kept out of the deterministic files.
#[derive(Clone, Debug, Serialize)]
pub struct Perf {
    pub version: &'static str,
    pub scenario: String,
    pub seed: u64,
    pub threads: usize,
    pub instances: u64,
    pub events_processed: u64,
    pub build_seconds: f64,
    pub run_seconds: f64,
    pub events_per_second: f64,
    /// Rule evaluations: one per instance per Scan or Install.
    pub evaluations: u64,
    pub evaluations_per_second: f64,
    pub evaluation_latency_ns: Latency,
    /// Peak resident memory of the process (Linux `VmHWM`), if known.
    pub peak_rss_mib: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Latency {
    pub p50: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
    pub mean: f64,
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some((kib / 1024.0 * 10.0).round() / 10.0)
}

pub fn perf(scenario: &Scenario, result: &RunResult) -> Perf {
    let metrics = &result.metrics;
    let run_seconds = metrics.run_ns as f64 / 1e9;
    let per_second = |n: u64| if run_seconds > 0.0 { (n as f64 / run_seconds).round() } else { 0.0 };
    let histogram = &metrics.evaluation_ns;
    Perf {
        version: crate::VERSION,
        scenario: scenario.name.clone(),
        seed: result.seed,
        threads: rayon::current_num_threads(),
        instances: result.world.instances.len() as u64,
        events_processed: result.outcome.events_processed,
        build_seconds: metrics.build_ns as f64 / 1e9,
        run_seconds,
        events_per_second: per_second(result.outcome.events_processed),
        evaluations: metrics.evaluations,
        evaluations_per_second: per_second(metrics.evaluations),
        evaluation_latency_ns: Latency {
            p50: histogram.value_at_quantile(0.5),
            p99: histogram.value_at_quantile(0.99),
            p999: histogram.value_at_quantile(0.999),
            max: histogram.max(),
            mean: (histogram.mean() * 10.0).round() / 10.0,
        },
        peak_rss_mib: peak_rss_mib(),
    }
}

pub fn write_perf(dir: &Path, scenario: &Scenario, result: &RunResult) -> io::Result<()> {
    let mut file = std::fs::File::create(dir.join("perf.json"))?;
    serde_json::to_writer_pretty(&mut file, &perf(scenario, result))?;
    file.write_all(b"\n")
}

fn percent(share: Option<f64>) -> String {
    share.map_or("-".to_string(), |s| format!("{:.1}%", s * 100.0))
}

fn hours(value: Option<f64>) -> String {
    match value {
        None => "-".to_string(),
        Some(h) if h >= 48.0 => format!("{:.1}d", h / 24.0),
        Some(h) => format!("{h:.1}h"),
    }
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (index, ch) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn nanos(ns: u64) -> String {
    if ns >= 1_000_000 {
        format!("{:.2}ms", ns as f64 / 1e6)
    } else if ns >= 1_000 {
        format!("{:.2}µs", ns as f64 / 1e3)
    } else {
        format!("{ns}ns")
    }
}

/// The text printed to stdout at the end of a run.
pub fn summary_table(scenario: &Scenario, result: &RunResult) -> String {
    let summary = summarize(scenario, result);
    let perf = perf(scenario, result);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "patchfleet {} · {} ({}) · seed {} · {} + {} · stopped: {}",
        summary.version,
        summary.scenario,
        summary.scenario_file,
        summary.seed,
        summary.start,
        summary.horizon,
        summary.stop_reason
    );
    let _ = writeln!(out);
    let width = summary.patch_groups.iter().map(|g| g.patch_group.chars().count()).max().unwrap_or(0).max(11);
    let _ = writeln!(
        out,
        "{:<width$}  {:>9}  {:>8}  {:>8}  {:>8}  {:>9}  {:>9}  {:>12}",
        "PATCH GROUP", "INSTANCES", "DAY 7", "DAY 14", "END", "EXPO p50", "EXPO p95", "OPEN AT END"
    );
    for group in &summary.patch_groups {
        let _ = writeln!(
            out,
            "{:<width$}  {:>9}  {:>8}  {:>8}  {:>8}  {:>9}  {:>9}  {:>12}",
            group.patch_group,
            thousands(group.instances),
            percent(group.compliant_share_day_7),
            percent(group.compliant_share_day_14),
            percent(Some(group.compliant_share_end)),
            hours(group.exposure_hours_p50),
            hours(group.exposure_hours_p95),
            thousands(group.exposed_at_end),
        );
    }
    let _ = writeln!(out, "  DAY 7/14/END: compliant share as reported. EXPO: release to effective install over");
    let _ = writeln!(out, "  approved applicable patches; open pairs count at the horizon (lower bounds).");
    let _ = writeln!(out);
    let _ = writeln!(out, "WINDOW EXECUTIONS");
    let width = summary.window_executions.keys().map(|w| w.chars().count()).max().unwrap_or(0).max(width);
    for (window, statuses) in &summary.window_executions {
        let total: u64 = statuses.values().sum();
        let parts: Vec<String> = statuses.iter().map(|(s, n)| format!("{n} {s}")).collect();
        let detail = if parts.is_empty() { "none".to_string() } else { parts.join(", ") };
        let usage = summary
            .windows
            .iter()
            .find(|w| &w.window == window)
            .map(|w| {
                let used = w.mean_utilisation.map_or("-".to_string(), |u| format!("{:.0}%", u * 100.0));
                format!("  used {used}, skipped {}", thousands(w.targets_skipped))
            })
            .unwrap_or_default();
        let _ = writeln!(out, "  {window:<width$}  {total:>4} executions: {detail}{usage}");
    }
    if !summary.alarms.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "ALARMS AND REMEDIATIONS");
        for a in &summary.alarms {
            let _ = writeln!(
                out,
                "  {:<width$}  {} > {} in {}: fired {}, {} remediations over {} instances ({} succeeded, {} failed)",
                a.alarm,
                a.metric,
                a.threshold,
                a.patch_group,
                a.fired,
                a.remediations,
                a.remediated_instances,
                a.succeeded,
                a.failed
            );
        }
    }
    if !summary.repositories.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "REPOSITORIES (download latency from request, queueing included)");
        for r in &summary.repositories {
            let seconds = |v: Option<u64>| v.map_or("-".to_string(), |s| format!("{s}s"));
            let _ = writeln!(
                out,
                "  {:<width$}  {:>9} downloads  p50 {}  p90 {}  p99 {}  max {}  peak {} active, {} queued",
                r.repository,
                thousands(r.downloads),
                seconds(r.latency_seconds_p50),
                seconds(r.latency_seconds_p90),
                seconds(r.latency_seconds_p99),
                seconds(r.latency_seconds_max),
                r.peak_active_downloads,
                r.peak_queued_downloads,
            );
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "PERFORMANCE (wall clock, {} threads; not part of the deterministic results)", perf.threads);
    let _ = writeln!(
        out,
        "  events processed     {:>14}   {:>12} events/s",
        thousands(perf.events_processed),
        thousands(perf.events_per_second as u64)
    );
    let _ = writeln!(
        out,
        "  rule evaluations     {:>14}   {:>12} evaluations/s",
        thousands(perf.evaluations),
        thousands(perf.evaluations_per_second as u64)
    );
    let latency = &perf.evaluation_latency_ns;
    let _ = writeln!(
        out,
        "  evaluation latency   p50 {}  p99 {}  p99.9 {}  max {}",
        nanos(latency.p50),
        nanos(latency.p99),
        nanos(latency.p999),
        nanos(latency.max)
    );
    let _ = writeln!(
        out,
        "  build {:.2}s  run {:.2}s{}",
        perf.build_seconds,
        perf.run_seconds,
        perf.peak_rss_mib.map_or(String::new(), |m| format!("  peak RSS {m} MiB"))
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_in_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
