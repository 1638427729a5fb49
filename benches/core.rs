//! Benchmarks of patchfleet's core: the pending-event set under the classic hold model
//! beside a bare `BinaryHeap`, rule evaluation (one Scan) against catalogs of 2,000 and
//! 10,000 patches, baseline compilation, next-fire computation of schedules, and the whole
//! default scenario. The fixtures are `patchfleet::bench::fixtures`, shared with the gate.
//!
//! `cargo bench --bench core` measures (criterion, wall clock; use it locally; the CI gate
//! is `cargo bench --bench gate`, instruction counts). `cargo test` runs every body once in
//! test mode, so the benchmarks cannot rot.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

use patchfleet::baseline::compile;
use patchfleet::bench::fixtures::{BareHeapHold, HoldModel, NextFire, ScanFixture, fixture_baseline, next_fire_cases};
use patchfleet::compliance::evaluate;

/// The hold model: pop the earliest event, push one at its time plus an exponential
/// increment (mean 1,000 s), keeping the queue size constant; and the same loop on a bare
/// `std::collections::BinaryHeap`, one after the other in the same run, each reported as
/// time per hold and holds per second (criterion's throughput line).
fn hold_model(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine_hold");
    group.throughput(Throughput::Elements(1));
    for size in [1_000usize, 1_000_000] {
        let mut model = HoldModel::new(size);
        group.bench_function(format!("pending_{size}"), |b| b.iter(|| model.hold()));
        let mut bare = BareHeapHold::new(size);
        group.bench_function(format!("binary_heap_{size}"), |b| b.iter(|| bare.hold()));
    }
    group.finish();
}

fn scan_evaluation(c: &mut Criterion) {
    let mut group = c.benchmark_group("scan_evaluation");
    for (patches, full) in [(2_000usize, false), (2_000, true), (10_000, false), (10_000, true)] {
        let fixture = ScanFixture::new(patches, full);
        // The generator draws about `patches` patches; the name keeps the requested size.
        let kind = if full { "full_baseline" } else { "simple_baseline" };
        group.bench_function(format!("catalog_{patches}_{kind}"), |b| {
            b.iter(|| black_box(evaluate(black_box(&fixture.input()))))
        });
    }
    group.finish();
}

/// Compiling a baseline against a catalog: once per baseline per run, so it matters only
/// for scenarios with many baselines and large catalogs.
fn baseline_compile(c: &mut Criterion) {
    let mut group = c.benchmark_group("baseline_compile");
    for full in [false, true] {
        let fixture = ScanFixture::new(2_000, full);
        let kind = if full { "full_baseline" } else { "simple_baseline" };
        let def = fixture_baseline(full);
        group.bench_function(format!("catalog_2000_{kind}"), |b| {
            b.iter(|| black_box(compile(black_box(&def), &fixture.catalog)))
        });
    }
    group.finish();
}

fn next_fire(c: &mut Criterion) {
    let mut group = c.benchmark_group("schedule_next_fire");
    for (name, schedule) in next_fire_cases() {
        let mut walk = NextFire::new(schedule);
        group.bench_function(name, |b| b.iter(|| walk.step()));
    }
    group.finish();
}

/// What the core's latency histogram costs per rule evaluation: as the simulation does it
/// (`CoreMetrics`, one evaluation in `EVALUATION_SAMPLE` timed by count), and as it would
/// cost timing every one (two clock reads and a record). With the evaluations and run time
/// of a run's `perf.json`, these give the histogram's share of the run.
fn evaluation_timing(c: &mut Criterion) {
    use patchfleet::metrics::{CoreMetrics, latency_histogram, now_ns};
    let mut group = c.benchmark_group("evaluation_timing");
    let mut metrics = CoreMetrics::default();
    group.bench_function("sampled_per_evaluation", |b| {
        b.iter(|| {
            let started = metrics.start_evaluation();
            metrics.end_evaluation(black_box(started));
        })
    });
    let mut histogram = latency_histogram();
    group.bench_function("every_evaluation", |b| {
        b.iter(|| {
            let started = now_ns();
            histogram.saturating_record((now_ns() - black_box(started)).max(1));
        })
    });
    group.finish();
}

fn default_scenario(c: &mut Criterion) {
    let scenario = patchfleet::scenario::load_default();
    let mut group = c.benchmark_group("pipeline");
    group.sample_size(10);
    group.bench_function("default_scenario_20k_instances_30_days", |b| {
        b.iter_batched(
            || (),
            |()| black_box(patchfleet::run::run(&scenario, scenario.seed, |_, _| {}).expect("runs")),
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(
    benches,
    hold_model,
    scan_evaluation,
    baseline_compile,
    next_fire,
    evaluation_timing,
    default_scenario
);
criterion_main!(benches);
