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

/// One evaluation in this many is timed. Two clock reads and a record cost about 60 ns on
/// the project machine (`cargo bench --bench core -- evaluation_timing`), more than most
/// Scans: timing every one would add about 48 ms of CPU to the default scenario's 0.18 s run
/// (770,000 evaluations). A deterministic one-in-32 sample (by evaluation count, never by
/// time) keeps the distribution and costs about 4 ns per evaluation, 3 ms or under 2% of
/// that run (`results/baselines/core.md`).
pub const EVALUATION_SAMPLE: u64 = 32;

/// What one value of the evaluation latency histogram is, as `perf.json` says it.
pub const EVALUATION_TIMED: &str = "wall time to evaluate one instance: its Scan report, or its Install plan \
     (patches to install, failure draws, download, the report it will send); one evaluation in \
     evaluation_latency_sampled_every is timed, chosen by count";

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
    /// Counts one evaluation, and returns the clock when it is one of the sampled ones; hand
    /// the result to [`CoreMetrics::end_evaluation`].
    pub fn start_evaluation(&mut self) -> Option<u64> {
        count_and_sample(&mut self.evaluations)
    }

    pub fn end_evaluation(&mut self, started: Option<u64>) {
        if let Some(ns) = elapsed(started) {
            self.evaluation_ns.saturating_record(ns);
        }
    }

    /// Adds what a chunk's [`EvaluationTimer`] counted and timed.
    pub fn absorb(&mut self, timer: &EvaluationTimer) {
        self.evaluations += timer.evaluations;
        for &ns in &timer.samples {
            self.evaluation_ns.saturating_record(ns);
        }
    }
}

/// The evaluation counter and timed samples of one parallel chunk, merged into the run's
/// [`CoreMetrics`] with [`CoreMetrics::absorb`]. A chunk keeps its few samples in a vector:
/// a histogram of its own (about 200 KB to allocate, clear and add) cost more than the
/// scans of the chunk it timed.
#[derive(Default)]
pub struct EvaluationTimer {
    pub evaluations: u64,
    samples: Vec<u64>,
}

impl EvaluationTimer {
    /// As [`CoreMetrics::start_evaluation`], one in [`EVALUATION_SAMPLE`] by count.
    pub fn start(&mut self) -> Option<u64> {
        count_and_sample(&mut self.evaluations)
    }

    pub fn end(&mut self, started: Option<u64>) {
        if let Some(ns) = elapsed(started) {
            self.samples.push(ns);
        }
    }
}

/// Counts one evaluation in `evaluations`; the clock now if it is one of the one in
/// [`EVALUATION_SAMPLE`] that are timed.
#[inline]
fn count_and_sample(evaluations: &mut u64) -> Option<u64> {
    *evaluations += 1;
    (*evaluations % EVALUATION_SAMPLE == 1).then(now_ns)
}

/// Nanoseconds since a sampled start (at least 1), if it was sampled.
#[inline]
fn elapsed(started: Option<u64>) -> Option<u64> {
    started.map(|started| (now_ns() - started).max(1))
}
