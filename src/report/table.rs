//! The summary table printed at the end of `patchfleet run`, and `perf.json`.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

use super::figures::View;
use super::sparkline::sparkline;
use super::summary::Summary;
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
    /// Rule evaluations: one per instance per Scan or Install evaluated (a cohort scan that
    /// reuses an unchanged report, `sim/rescan.rs`, or the evaluation of an instance in the
    /// same state, `sim/scan_memo.rs`, evaluates nothing).
    pub evaluations: u64,
    pub evaluations_per_second: f64,
    pub evaluation_latency_ns: Latency,
    /// What one latency value is (`metrics::EVALUATION_TIMED`).
    pub evaluation_latency_measures: &'static str,
    /// The latency histogram holds one evaluation in this many (by count, deterministic).
    pub evaluation_latency_sampled_every: u64,
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
        evaluation_latency_measures: crate::metrics::EVALUATION_TIMED,
        evaluation_latency_sampled_every: crate::metrics::EVALUATION_SAMPLE,
        peak_rss_mib: peak_rss_mib(),
    }
}

pub fn write_perf(dir: &Path, scenario: &Scenario, result: &RunResult) -> io::Result<()> {
    let mut file = std::fs::File::create(dir.join("perf.json"))?;
    serde_json::to_writer_pretty(&mut file, &perf(scenario, result))?;
    file.write_all(b"\n")
}

fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

/// A duration in seconds as minutes, hours or days; `-` when absent.
fn duration(seconds: Option<u64>) -> String {
    match seconds {
        None => "-".to_string(),
        Some(s) if s >= 2 * 86_400 => format!("{:.1}d", s as f64 / 86_400.0),
        Some(s) if s >= 3_600 => format!("{:.1}h", s as f64 / 3_600.0),
        Some(s) => format!("{}m", s.div_ceil(60)),
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

/// The text printed to stdout at the end of a run, from its summary.
pub fn summary_table(scenario: &Scenario, result: &RunResult, summary: &Summary) -> String {
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
    let width = summary.patch_groups.iter().map(|g| g.patch_group.chars().count()).max().unwrap_or(0).max(11);
    let width = summary.windows.iter().map(|w| w.window.chars().count()).fold(width, usize::max);
    compliance_block(&mut out, summary, result, width);
    time_to_block(&mut out, summary, width);
    exposure_block(&mut out, summary, width);
    windows_block(&mut out, summary, width);
    thresholds_block(&mut out, summary);
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
                "  {:<width$}  {:>9} downloads  p50 {}  p90 {}  p99 {}  max {}  peak {} active, {} queued, {:.0} Mbit/s",
                r.repository,
                thousands(r.downloads),
                seconds(r.latency_seconds_p50),
                seconds(r.latency_seconds_p90),
                seconds(r.latency_seconds_p99),
                seconds(r.latency_seconds_max),
                r.peak_active_downloads,
                r.peak_queued_downloads,
                r.peak_throughput_mbps,
            );
        }
        let _ = writeln!(out, "  Latency from request to end of download; peaks: most downloads active and queued at");
        let _ = writeln!(out, "  once, and the highest mean throughput over one sample interval.");
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
        "  evaluation latency   p50 {}  p99 {}  p99.9 {}  max {}  (1 in {} timed)",
        nanos(latency.p50),
        nanos(latency.p99),
        nanos(latency.p999),
        nanos(latency.max),
        perf.evaluation_latency_sampled_every
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

fn compliance_block(out: &mut String, summary: &Summary, result: &RunResult, width: usize) {
    let target = format!("≥{:.0}%", summary.compliance_target * 100.0);
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<width$}  {:<8}  {:>9}  {:>7}  {:>7}  {:>7}  {:>7}  OVER THE RUN",
        "PATCH GROUP", "VIEW", "INSTANCES", "MEAN", target, "END", "MIN"
    );
    for (index, group) in summary.patch_groups.iter().enumerate() {
        for (view, figures) in [(View::Reported, &group.reported), (View::True, &group.truth)] {
            let series: Vec<f64> = result.samples.iter().map(|(_, c)| view.share(&c[index])).collect();
            let (name, instances, label) = match view {
                View::Reported => (group.patch_group.as_str(), thousands(group.instances), "reported"),
                View::True => ("", String::new(), "true"),
            };
            let _ = writeln!(
                out,
                "{name:<width$}  {label:<8}  {instances:>9}  {:>7}  {:>7}  {:>7}  {:>7}  {}",
                percent(figures.time_weighted_share),
                percent(figures.time_above_target),
                percent(figures.end),
                percent(figures.min),
                sparkline(&series, 32),
            );
        }
    }
    let _ = writeln!(out, "  reported: as Patch Manager shows it (unreported instances count as non-compliant);");
    let _ = writeln!(out, "  true: no approved applicable patch missing and no reboot pending, whatever was reported.");
    let _ = writeln!(out, "  MEAN: compliant share averaged over time. {target}: share of time at or above the target");
    let _ = writeln!(out, "  (scenario compliance_target). END: at the end. MIN: lowest sample (reported: once every");
    let _ = writeln!(out, "  instance has reported). OVER THE RUN: compliant share from start to end, ▁ 0% to █ 100%.");
}

fn time_to_block(out: &mut String, summary: &Summary, width: usize) {
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<width$}  {:<8}  {:>7}  {:>18}  {:>18}  {:>18}  {:>18}",
        "TIME TO", "VIEW", "PATCHES", "50%: p50 p90 max", "90%: p50 p90 max", "95%: p50 p90 max", "100%: p50 p90 max"
    );
    for group in &summary.patch_groups {
        for (label, figures) in [("reported", &group.reported), ("true", &group.truth)] {
            let name = if label == "reported" { group.patch_group.as_str() } else { "" };
            let patches = figures.time_to.first().map_or(0, |t| t.patches);
            let cells: Vec<String> = figures
                .time_to
                .iter()
                .map(|t| {
                    let cell =
                        |v: Option<u64>| if t.patches > 0 && v.is_none() { "n/r".to_string() } else { duration(v) };
                    format!("{} {} {}", cell(t.p50_seconds), cell(t.p90_seconds), cell(t.max_seconds))
                })
                .collect();
            let _ = write!(out, "{name:<width$}  {label:<8}  {:>7}", thousands(patches));
            for cell in cells {
                let _ = write!(out, "  {cell:>18}");
            }
            let _ = writeln!(out);
        }
    }
    let _ = writeln!(out, "  Time from each patch's release until that share of the group's applicable instances had");
    let _ = writeln!(
        out,
        "  it (reported: installed, pending reboot included; true: in effect), p50, p90 and max over the"
    );
    let _ = writeln!(out, "  patches released in the run and approved for the group. n/r: not reached; patches that");
    let _ = writeln!(out, "  never reach a level count as slowest, so a quantile among them is n/r.");
}

fn exposure_block(out: &mut String, summary: &Summary, width: usize) {
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<width$}  {:>10}  {:>7}  {:>7}  {:>7}  {:>7}  {:>7}  {:>12}",
        "EXPOSURE", "PAIRS", "p50", "p90", "p95", "p99", "max", "OPEN AT END"
    );
    for group in &summary.patch_groups {
        let e = &group.exposure;
        let _ = writeln!(
            out,
            "{:<width$}  {:>10}  {:>7}  {:>7}  {:>7}  {:>7}  {:>7}  {:>12}",
            group.patch_group,
            thousands(e.pairs),
            duration(e.p50_seconds),
            duration(e.p90_seconds),
            duration(e.p95_seconds),
            duration(e.p99_seconds),
            duration(e.max_seconds),
            thousands(e.open_at_end),
        );
    }
    let _ = writeln!(out, "  Release to effective install over (instance, approved applicable patch) pairs; pairs");
    let _ = writeln!(out, "  still open count at the end (OPEN AT END), so with open pairs these are lower bounds.");
}

/// Invocation outcomes in the order they are read: done, then the ways of not being done.
const OUTCOME_ORDER: [&str; 7] =
    ["succeeded", "failed", "delivery_timed_out", "timed_out", "undeliverable", "cancelled", "skipped"];

/// k6's THRESHOLDS block: one line per threshold, ✓ or ✗, the bound and the value.
fn thresholds_block(out: &mut String, summary: &Summary) {
    if summary.thresholds.is_empty() {
        return;
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "THRESHOLDS");
    let width = summary.thresholds.iter().map(|t| t.metric.chars().count()).max().unwrap_or(0);
    for t in &summary.thresholds {
        let bound = match (&t.min, &t.max) {
            (Some(min), Some(max)) => format!("{min} ≤ x ≤ {max}"),
            (Some(min), None) => format!("≥ {min}"),
            (None, Some(max)) => format!("≤ {max}"),
            (None, None) => String::new(),
        };
        let value = match t.value {
            None => "no value".to_string(),
            Some(v) => match t.unit {
                super::metrics::Unit::Seconds => duration(Some(v.max(0.0) as u64)),
                super::metrics::Unit::Share => format!("{:.1}%", v * 100.0),
                super::metrics::Unit::Count => thousands(v as u64),
                super::metrics::Unit::Mbps => format!("{v:.1} Mbit/s"),
            },
        };
        let mark = if t.passed { "✓" } else { "✗" };
        let _ = writeln!(out, "  {mark} {:<width$}  {bound:<18} {value}", t.metric);
    }
    let failed = summary.thresholds.iter().filter(|t| !t.passed).count();
    let _ = writeln!(
        out,
        "  {failed} of {} thresholds failed{}",
        summary.thresholds.len(),
        if failed > 0 { ": exit code 99" } else { "" }
    );
}

fn windows_block(out: &mut String, summary: &Summary, width: usize) {
    let _ = writeln!(out);
    let _ = writeln!(out, "WINDOWS");
    for w in &summary.windows {
        let statuses: Vec<String> = w.status.iter().filter(|(_, n)| **n > 0).map(|(s, n)| format!("{n} {s}")).collect();
        let statuses = if statuses.is_empty() { "none".to_string() } else { statuses.join(", ") };
        let order = |o: &str| OUTCOME_ORDER.iter().position(|x| *x == o).unwrap_or(OUTCOME_ORDER.len());
        let mut outcomes: Vec<(&String, &u64)> = w.invocations.iter().collect();
        outcomes.sort_by_key(|(o, _)| order(o));
        let outcomes: Vec<String> = outcomes.iter().map(|(o, n)| format!("{} {o}", thousands(**n))).collect();
        let _ = writeln!(out, "  {:<width$}  {} executions: {statuses}", w.window, w.executions);
        let _ = writeln!(out, "  {:<width$}  invocations: {}", "", outcomes.join(", "));
        let causes: Vec<String> =
            w.causes.iter().filter(|(_, n)| **n > 0).map(|(c, n)| format!("{} {c}", thousands(*n))).collect();
        if !causes.is_empty() {
            let _ = writeln!(out, "  {:<width$}  failed or timed out by cause: {}", "", causes.join(", "));
        }
        let _ = writeln!(
            out,
            "  {:<width$}  ran p50 {}, max {} of {}; {} overran; {} targets skipped at the cutoff",
            "",
            duration(w.run_seconds_p50),
            duration(w.run_seconds_max),
            duration(Some(w.duration_seconds.max(0) as u64)),
            w.overran,
            thousands(w.targets_skipped)
        );
    }
    let _ = writeln!(out, "  Executions by status; invocations by outcome over all executions, and why they failed or");
    let _ = writeln!(out, "  timed out; ran: start to end of finished executions against the window's duration;");
    let _ = writeln!(out, "  overran: ran past it.");
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
