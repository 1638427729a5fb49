//! The core's own throughput and latency, for the performance report.
//!
//! This is the one module that reads the wall clock. Nothing it measures feeds back into the
//! simulation: results stay byte-identical, and `perf.json` is written apart from them.

use hdrhistogram::Histogram;

/// Wall-clock nanoseconds since an arbitrary origin.
#[allow(clippy::disallowed_methods)]
pub fn now_ns() -> u64 {
    use std::sync::OnceLock;
    static ORIGIN: OnceLock<std::time::Instant> = OnceLock::new();
    let origin = *ORIGIN.get_or_init(std::time::Instant::now);
    std::time::Instant::now().duration_since(origin).as_nanos() as u64
}

/// A latency histogram in nanoseconds, 1 ns to 60 s at 3 significant figures.
pub fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("static bounds are valid")
}

/// Counters and histograms of one run.
#[derive(Clone)]
pub struct CoreMetrics {
    /// Rule evaluations (one per Scan or Install evaluated on an instance).
    pub evaluations: u64,
    pub evaluation_ns: Histogram<u64>,
    /// Wall time spent in the run loop.
    pub run_ns: u64,
    /// Wall time building the world (catalog generation, baseline compilation, fleet).
    pub build_ns: u64,
}

impl Default for CoreMetrics {
    fn default() -> Self {
        CoreMetrics { evaluations: 0, evaluation_ns: latency_histogram(), run_ns: 0, build_ns: 0 }
    }
}

impl CoreMetrics {
    pub fn record_evaluation(&mut self, nanoseconds: u64) {
        self.evaluations += 1;
        self.evaluation_ns.saturating_record(nanoseconds.max(1));
    }

    /// Merges another collector (histograms add exactly).
    pub fn merge(&mut self, other: &CoreMetrics) {
        self.evaluations += other.evaluations;
        self.evaluation_ns.add(&other.evaluation_ns).expect("same bounds");
    }
}
