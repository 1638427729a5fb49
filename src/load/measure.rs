//! What a replay measured, summarised as wrk2 does: latency from the scheduled start in an
//! HdrHistogram (full percentile spectrum), time to first byte, throughput, errors by kind,
//! and beside it what the simulation predicted for the same downloads.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::Serialize;

use super::client::FetchError;
use super::plan::Plan;
use super::replay::Replay;

/// Percentiles printed and written (the full spectrum goes to load.json as well).
pub const PERCENTILES: [f64; 6] = [50.0, 75.0, 90.0, 99.0, 99.9, 100.0];

/// Latency figures in seconds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Distribution {
    pub count: u64,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
    /// (percentile, seconds) at the percentiles of [`PERCENTILES`].
    pub percentiles: Vec<(f64, f64)>,
}

/// Errors by kind; status errors by code.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Errors {
    pub connect: u64,
    pub timeout: u64,
    pub status: BTreeMap<u16, u64>,
    pub body: u64,
}

impl Errors {
    pub fn total(&self) -> u64 {
        self.connect + self.timeout + self.body + self.status.values().sum::<u64>()
    }
}

/// load.json.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub target: String,
    pub scenario: String,
    pub window: String,
    pub execution: u32,
    pub repository: String,
    pub max_connections: u32,
    pub speedup: f64,
    pub size_scale: f64,
    pub stop: &'static str,
    pub elapsed_s: f64,
    /// Downloads of the execution, those in the plan, dispatched, finished and their fate.
    pub downloads_in_execution: usize,
    pub planned: usize,
    pub dispatched: usize,
    pub succeeded: u64,
    pub failed: u64,
    pub unfinished: usize,
    pub errors: Errors,
    pub bytes: u64,
    pub throughput_mbps: f64,
    pub peak_mbps: f64,
    /// Real seconds, from the scheduled start, successful downloads.
    pub latency_s: Option<Distribution>,
    /// The same in model seconds (real seconds times the speedup).
    pub latency_model_s: Option<Distribution>,
    /// What the simulation predicted for the downloads measured above, in model seconds.
    pub predicted_s: Option<Distribution>,
    /// Real seconds from getting a connection to the first response head.
    pub time_to_first_byte_s: Option<Distribution>,
    /// Real seconds a download was started after its scheduled instant.
    pub dispatch_lag_s: Option<Distribution>,
    /// (percentile, model seconds) over the whole spectrum, measured and predicted.
    pub spectrum_model_s: Vec<(f64, f64)>,
    pub spectrum_predicted_s: Vec<(f64, f64)>,
}

/// Summarises a replay of `plan`.
pub fn summarise(plan: &Plan, replay: &Replay, target: &str, speedup: f64, size_scale: f64) -> Summary {
    let mut errors = Errors::default();
    let done: Vec<_> = replay.outcomes.iter().flatten().collect();
    for outcome in &done {
        match &outcome.error {
            None => {}
            Some(FetchError::Connect(_)) => errors.connect += 1,
            Some(FetchError::Timeout) => errors.timeout += 1,
            Some(FetchError::Body(_)) => errors.body += 1,
            Some(FetchError::Status(code)) => *errors.status.entry(*code).or_default() += 1,
        }
    }
    let ok: Vec<_> = done.iter().filter(|o| o.error.is_none()).collect();
    let latency = histogram(ok.iter().filter_map(|o| o.latency()));
    let model = histogram(ok.iter().filter_map(|o| o.latency()).map(|s| s * speedup));
    let predicted = histogram(ok.iter().filter_map(|o| plan.downloads[o.index].predicted));
    let ttfb = histogram(done.iter().filter_map(|o| Some(o.first_byte? - o.connected?)));
    let lag = histogram(done.iter().map(|o| o.dispatched - o.scheduled));
    let peak_mbps = replay.samples.iter().map(|s| s.mbps).fold(0.0, f64::max);
    Summary {
        target: target.to_string(),
        scenario: plan.scenario.clone(),
        window: plan.window.clone(),
        execution: plan.execution,
        repository: plan.repository.clone(),
        max_connections: plan.max_connections,
        speedup,
        size_scale,
        stop: replay.stop.as_str(),
        elapsed_s: replay.elapsed,
        downloads_in_execution: plan.downloads_in_execution,
        planned: plan.downloads.len(),
        dispatched: done.len() + replay.unfinished,
        succeeded: ok.len() as u64,
        failed: errors.total(),
        unfinished: replay.unfinished,
        bytes: replay.bytes,
        throughput_mbps: replay.bytes as f64 * 8.0 / 1e6 / replay.elapsed.max(1e-9),
        peak_mbps,
        errors,
        latency_s: latency.as_ref().map(distribution),
        latency_model_s: model.as_ref().map(distribution),
        predicted_s: predicted.as_ref().map(distribution),
        time_to_first_byte_s: ttfb.as_ref().map(distribution),
        dispatch_lag_s: lag.as_ref().map(distribution),
        spectrum_model_s: model.as_ref().map(spectrum).unwrap_or_default(),
        spectrum_predicted_s: predicted.as_ref().map(spectrum).unwrap_or_default(),
    }
}

/// Microsecond resolution, one microsecond to a year, three significant figures.
fn histogram(seconds: impl Iterator<Item = f64>) -> Option<Histogram<u64>> {
    let mut h = Histogram::<u64>::new_with_bounds(1, 366 * 86_400 * 1_000_000, 3).expect("static bounds are valid");
    for s in seconds {
        h.saturating_record((s.max(0.0) * 1e6).round() as u64);
    }
    (!h.is_empty()).then_some(h)
}

fn seconds(micros: u64) -> f64 {
    micros as f64 / 1e6
}

fn distribution(h: &Histogram<u64>) -> Distribution {
    Distribution {
        count: h.len(),
        mean: h.mean() / 1e6,
        p50: seconds(h.value_at_quantile(0.5)),
        p90: seconds(h.value_at_quantile(0.9)),
        p99: seconds(h.value_at_quantile(0.99)),
        max: seconds(h.max()),
        percentiles: PERCENTILES.iter().map(|&p| (p, seconds(h.value_at_quantile(p / 100.0)))).collect(),
    }
}

/// The percentile spectrum as wrk2 prints it: values at quantiles halving the distance to
/// 100% (five steps per halving), up to the maximum.
fn spectrum(h: &Histogram<u64>) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = h
        .iter_quantiles(5)
        .map(|v| (v.quantile_iterated_to() * 100.0, seconds(h.highest_equivalent(v.value_iterated_to()))))
        .collect();
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

/// The wrk2-style text report.
pub fn text(summary: &Summary) -> String {
    let mut out = String::new();
    let s = summary;
    out += &format!(
        "patchfleet load: {} downloads of window `{}` execution {} ({}, repository `{}`) against {}\n",
        s.planned, s.window, s.execution, s.scenario, s.repository, s.target
    );
    out += &format!(
        "  speedup {} (objects / {}), {} connections at most, stopped: {} after {:.1}s\n",
        s.speedup, s.size_scale, s.max_connections, s.stop, s.elapsed_s
    );
    out += "  Latency from the scheduled start\n    percentile       real      model  predicted\n";
    if let (Some(real), Some(model)) = (&s.latency_s, &s.latency_model_s) {
        for (i, &(p, r)) in real.percentiles.iter().enumerate() {
            let predicted = s.predicted_s.as_ref().map_or("-".to_string(), |d| duration(d.percentiles[i].1));
            out += &format!(
                "    {p:>9.3}%  {:>9}  {:>9}  {:>9}\n",
                duration(r),
                duration(model.percentiles[i].1),
                predicted
            );
        }
    } else {
        out += "    (no download succeeded)\n";
    }
    out += &format!(
        "  Downloads: {} dispatched, {} succeeded, {} failed, {} unfinished at the stop\n",
        s.dispatched, s.succeeded, s.failed, s.unfinished
    );
    let status: Vec<String> = s.errors.status.iter().map(|(c, n)| format!("{c} x{n}")).collect();
    out += &format!(
        "  Errors: connect {}, timeout {}, status {}{}, body {}\n",
        s.errors.connect,
        s.errors.timeout,
        s.errors.status.values().sum::<u64>(),
        if status.is_empty() { String::new() } else { format!(" ({})", status.join(", ")) },
        s.errors.body
    );
    out += &format!(
        "  Throughput: {:.1} Mbit/s mean, {:.1} Mbit/s peak, {:.1} MB in all\n",
        s.throughput_mbps,
        s.peak_mbps,
        s.bytes as f64 / 1e6
    );
    if let Some(t) = &s.time_to_first_byte_s {
        out += &format!(
            "  Time to first byte: p50 {}, p99 {}, max {}\n",
            duration(t.p50),
            duration(t.p99),
            duration(t.max)
        );
    }
    if let Some(l) = &s.dispatch_lag_s {
        out += &format!("  Schedule kept: dispatch lag p99 {}, max {}\n", duration(l.p99), duration(l.max));
    }
    out
}

/// Seconds in a readable unit: 850ms, 12.3s, 24m05s, 1h16m.
pub fn duration(s: f64) -> String {
    if s < 1.0 {
        format!("{:.0}ms", s * 1000.0)
    } else if s < 60.0 {
        format!("{s:.2}s")
    } else if s < 3600.0 {
        format!("{}m{:02}s", (s / 60.0) as u64, (s % 60.0) as u64)
    } else {
        format!("{}h{:02}m", (s / 3600.0) as u64, ((s % 3600.0) / 60.0) as u64)
    }
}
