//! The fixed suite of the benchmark gate: what each measure runs, how many operations one
//! measured body performs, and how far its instruction count may move before the gate fails.
//!
//! Every body goes through the library's public API (`engine`, `compliance`, `schedule`,
//! `scenario`, `run`), so the suite survives refactoring behind those entry points.

use std::hint::black_box;

use super::fixtures::{
    BareHeapHold, HoldModel, NextFire, SMOKE_FLEET_FACTOR, ScanFixture, next_fire_cases, scaled_default_scenario,
};
use crate::compliance::evaluate;
use crate::engine::StopReason;
use crate::scenario::Scenario;

/// One measured body: performs the measure's operations once.
pub type Body = Box<dyn FnMut() -> Result<(), String>>;

/// One measure of the suite.
pub struct Measure {
    /// The name in the BMF JSON and in the baseline, `group/case`.
    pub name: &'static str,
    /// What is measured, for people (`--list`, the README).
    pub about: &'static str,
    /// What one operation is; every figure is per operation.
    pub op: &'static str,
    /// Operations in one measured body.
    pub ops: u64,
    /// Counted under callgrind (the gate); otherwise wall time only.
    pub counted: bool,
    /// How far the instruction count may rise, in percent, before the gate fails.
    pub tolerance_percent: f64,
    /// Wall-time samples (each one body) after one warm-up body.
    pub wall_samples: u32,
    prepare: fn(u64) -> Result<Body, String>,
}

impl Measure {
    /// Builds the fixture (unmeasured) and returns the body to measure.
    pub fn prepare(&self) -> Result<Body, String> {
        (self.prepare)(self.ops)
    }
}

/// Tolerance of the micro-benchmarks. Their counts repeat exactly from run to run on one
/// build (no spread at all over five runs, README "Benchmark gate"); 1% leaves room for
/// toolchain and libc drift while still catching two extra instructions per operation in
/// the cheapest body (`rate(7 days)`, about 150 per fire).
const MICRO_TOLERANCE: f64 = 1.0;
/// Tolerance of the hold loops (the pending set and the bare heap beside it). Their count
/// repeats exactly on one build, but moves between builds when unrelated code changes how
/// the crate is split into codegen units: on 2026-12-01 both loops rose by 14 instructions
/// per hold (+3.4% at 10^3, +2.2% at 10^6) between two commits that did not touch the
/// engine. 5% keeps that out of the verdict and still catches a queue that does one more
/// sift step per hold; the ratio of the pending set to the bare heap, printed under the
/// table, moved by under 0.1%.
const HOLD_TOLERANCE: f64 = 5.0;
/// Tolerance of the whole default scenario, which also counts hash-map probing (seeded per
/// process) and allocator work: its spread over five runs was under 0.01%, a hundredth of
/// this.
const PIPELINE_TOLERANCE: f64 = 1.0;

const fn micro(
    name: &'static str,
    about: &'static str,
    op: &'static str,
    ops: u64,
    prepare: fn(u64) -> Result<Body, String>,
) -> Measure {
    Measure { name, about, op, ops, counted: true, tolerance_percent: MICRO_TOLERANCE, wall_samples: 5, prepare }
}

const fn hold(name: &'static str, about: &'static str, prepare: fn(u64) -> Result<Body, String>) -> Measure {
    Measure { tolerance_percent: HOLD_TOLERANCE, ..micro(name, about, "hold", 100_000, prepare) }
}

/// The suite, in the order it runs and reports.
pub const SUITE: &[Measure] = &[
    hold("engine_hold/pending_1000", "engine pending-event set, hold model, 10^3 pending", pending_1k),
    hold("engine_hold/binary_heap_1000", "bare std BinaryHeap, same hold loop, 10^3", heap_1k),
    hold("engine_hold/pending_1000000", "engine pending-event set, hold model, 10^6 pending", pending_1m),
    hold("engine_hold/binary_heap_1000000", "bare std BinaryHeap, same hold loop, 10^6", heap_1m),
    micro("scan_evaluation/catalog_2000", "compliance::evaluate, one Scan, ~2,000 patches", "scan", 20_000, scan_2k),
    micro("scan_evaluation/catalog_10000", "compliance::evaluate, one Scan, ~10,000 patches", "scan", 20_000, scan_10k),
    micro("schedule_next_fire/weekly_utc", "next fire of cron(0 3 ? * TUE *), UTC", "fire", 10_000, fire_weekly),
    micro(
        "schedule_next_fire/third_thursday_offset_la",
        "next fire of cron(30 23 ? * THU#3 *), offset 2 days, America/Los_Angeles",
        "fire",
        10_000,
        fire_third_thursday,
    ),
    micro(
        "schedule_next_fire/every_15_min",
        "next fire of cron(0/15 * * * ? *), Europe/Berlin",
        "fire",
        10_000,
        fire_15,
    ),
    micro("schedule_next_fire/rate_7_days", "next fire of rate(7 days)", "fire", 10_000, fire_rate),
    Measure {
        name: "pipeline/default_scenario",
        about: "run::run of the embedded default scenario (20,000 instances, 30 days), one thread under callgrind",
        op: "run",
        ops: 1,
        counted: true,
        tolerance_percent: PIPELINE_TOLERANCE,
        wall_samples: 5,
        prepare: default_scenario,
    },
    Measure {
        name: "pipeline/smoke_1m_instances",
        about: "run::run of the default scenario with every group x50 (1,000,000 instances, 30 days); wall time only",
        op: "run",
        ops: 1,
        counted: false,
        tolerance_percent: 0.0,
        wall_samples: 1,
        prepare: smoke_1m,
    },
];

/// The measure named `name`.
pub fn find(name: &str) -> Option<&'static Measure> {
    SUITE.iter().find(|measure| measure.name == name)
}

fn repeat(ops: u64, mut step: impl FnMut() + 'static) -> Body {
    Box::new(move || {
        for _ in 0..ops {
            step();
        }
        Ok(())
    })
}

fn pending_1k(ops: u64) -> Result<Body, String> {
    let mut model = HoldModel::new(1_000);
    Ok(repeat(ops, move || model.hold()))
}

fn heap_1k(ops: u64) -> Result<Body, String> {
    let mut model = BareHeapHold::new(1_000);
    Ok(repeat(ops, move || model.hold()))
}

fn pending_1m(ops: u64) -> Result<Body, String> {
    let mut model = HoldModel::new(1_000_000);
    Ok(repeat(ops, move || model.hold()))
}

fn heap_1m(ops: u64) -> Result<Body, String> {
    let mut model = BareHeapHold::new(1_000_000);
    Ok(repeat(ops, move || model.hold()))
}

fn scan(patches: usize, ops: u64) -> Result<Body, String> {
    let fixture = ScanFixture::new(patches, false);
    Ok(repeat(ops, move || {
        black_box(evaluate(black_box(&fixture.input())));
    }))
}

fn scan_2k(ops: u64) -> Result<Body, String> {
    scan(2_000, ops)
}

fn scan_10k(ops: u64) -> Result<Body, String> {
    scan(10_000, ops)
}

fn next_fire(name: &str, ops: u64) -> Result<Body, String> {
    let (_, schedule) = next_fire_cases()
        .into_iter()
        .find(|(case, _)| *case == name)
        .ok_or_else(|| format!("no next-fire fixture `{name}`"))?;
    let mut walk = NextFire::new(schedule);
    Ok(repeat(ops, move || walk.step()))
}

fn fire_weekly(ops: u64) -> Result<Body, String> {
    next_fire("weekly_utc", ops)
}

fn fire_third_thursday(ops: u64) -> Result<Body, String> {
    next_fire("third_thursday_offset_la", ops)
}

fn fire_15(ops: u64) -> Result<Body, String> {
    next_fire("every_15_min", ops)
}

fn fire_rate(ops: u64) -> Result<Body, String> {
    next_fire("rate_7_days", ops)
}

/// Runs `scenario` `ops` times; each run must cover its horizon.
fn whole_runs(scenario: Scenario, ops: u64) -> Body {
    Box::new(move || {
        for _ in 0..ops {
            let result = crate::run::run(&scenario, scenario.seed, |_, _| {})?;
            if result.outcome.stop_reason != StopReason::Horizon {
                return Err(format!(
                    "{} stopped by {:?} after {} events, before its horizon",
                    scenario.source_name, result.outcome.stop_reason, result.outcome.events_processed
                ));
            }
            black_box(&result);
        }
        Ok(())
    })
}

fn default_scenario(ops: u64) -> Result<Body, String> {
    Ok(whole_runs(crate::scenario::load_default(), ops))
}

fn smoke_1m(ops: u64) -> Result<Body, String> {
    Ok(whole_runs(scaled_default_scenario(SMOKE_FLEET_FACTOR)?, ops))
}
