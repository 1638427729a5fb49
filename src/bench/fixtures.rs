//! The inputs of the benchmarks, shared by the gate (`patchfleet bench`) and the criterion
//! benchmarks (`benches/core.rs`), so that both measure the same thing.
//!
//! Everything here is built from fixed seeds: the same fixture on every run and machine.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::baseline::{
    ApprovalDelay, BaselineDef, CompiledBaseline, ComplianceLevel, FilterKey, RejectedAction, RuleDef, compile,
};
use crate::bitset::BitSet;
use crate::catalog::{self, Catalog, CatalogDef, GeneratorDef, Os, PatchProperties, ReleaseProcess, StreamDef};
use crate::compliance::EvaluationInput;
use crate::engine::{PendingSet, RadixQueue};
use crate::rng::{Purpose, Stream};
use crate::scenario::{self, DEFAULT_SCENARIO, Scenario};
use crate::schedule::{ScheduleExpr, WindowSchedule};
use crate::time::{SimDuration, SimTime};

/// Mean of the hold model's exponential increment, in seconds.
const HOLD_MEAN_SECS: f64 = 1_000.0;

/// The classic hold model on the engine's pending-event set: pop the earliest event, push
/// one at its time plus an exponential increment, so the queue keeps its size.
pub struct HoldModel {
    queue: RadixQueue<u32>,
    rng: Stream,
}

impl HoldModel {
    /// A queue of `size` events at exponential times.
    pub fn new(size: usize) -> HoldModel {
        let mut rng = Stream::new(1, size as u64, Purpose::OperationTiming);
        let mut queue = RadixQueue::default();
        for seq in 0..size as u32 {
            queue.push(SimTime(rng.exponential(HOLD_MEAN_SECS) as i64), seq);
        }
        HoldModel { queue, rng }
    }

    /// One hold: a pop and a push.
    pub fn hold(&mut self) {
        let (time, event) = self.queue.pop().expect("the hold model never empties its queue");
        let next = time + SimDuration(self.rng.exponential(HOLD_MEAN_SECS) as i64 + 1);
        self.queue.push(next, std::hint::black_box(event));
    }
}

/// The same hold model on a bare `std::collections::BinaryHeap` of `(time, seq, event)`
/// tuples, with the same random draws: the yardstick for the pending-event set.
pub struct BareHeapHold {
    heap: BinaryHeap<Reverse<(i64, u64, u32)>>,
    rng: Stream,
    seq: u64,
}

impl BareHeapHold {
    pub fn new(size: usize) -> BareHeapHold {
        let mut rng = Stream::new(1, size as u64, Purpose::OperationTiming);
        let mut heap = BinaryHeap::with_capacity(size);
        for seq in 0..size as u64 {
            heap.push(Reverse((rng.exponential(HOLD_MEAN_SECS) as i64, seq, seq as u32)));
        }
        BareHeapHold { heap, rng, seq: size as u64 }
    }

    pub fn hold(&mut self) {
        let Reverse((time, _, event)) = self.heap.pop().expect("the hold model never empties its queue");
        let next = time + self.rng.exponential(HOLD_MEAN_SECS) as i64 + 1;
        self.heap.push(Reverse((next, self.seq, std::hint::black_box(event))));
        self.seq += 1;
    }
}

/// The instant the benchmark catalogs end at.
pub const BENCH_START: SimTime = SimTime(1_790_000_000);

/// The baseline of the scan fixture: three plain rules, or with `full` every filter kind of
/// its OS, global filters, 50 approved and 50 rejected entries and BLOCK.
pub fn fixture_baseline(full: bool) -> BaselineDef {
    let rule = |severity: &str, days: u32, level: ComplianceLevel| RuleDef {
        filters: vec![
            (FilterKey::Classification, vec!["Security".into()]),
            (FilterKey::Severity, vec![severity.into()]),
        ],
        delay: ApprovalDelay::AfterDays(days),
        compliance_level: level,
        enable_non_security: false,
    };
    let mut baseline = BaselineDef {
        name: "bench".into(),
        os: Os::AmazonLinux2023,
        description: String::new(),
        global_filters: vec![],
        rules: vec![
            rule("Critical", 0, ComplianceLevel::Critical),
            rule("Important", 7, ComplianceLevel::High),
            rule("Medium", 14, ComplianceLevel::Medium),
        ],
        approved_patches: vec![],
        approved_patches_compliance_level: ComplianceLevel::Unspecified,
        approved_patches_enable_non_security: false,
        rejected_patches: vec![],
        rejected_patches_action: RejectedAction::AllowAsDependency,
        available_security_updates_non_compliant: false,
    };
    if full {
        baseline.global_filters = vec![
            (FilterKey::Product, vec!["AmazonLinux2023".into()]),
            (FilterKey::Classification, vec!["Security".into(), "Bugfix".into()]),
        ];
        for rule in &mut baseline.rules {
            rule.filters.push((FilterKey::Product, vec!["*".into()]));
        }
        baseline.rules.push(RuleDef {
            filters: vec![(FilterKey::Classification, vec!["Bugfix".into()])],
            delay: ApprovalDelay::UntilDate(BENCH_START),
            compliance_level: ComplianceLevel::Low,
            enable_non_security: true,
        });
        baseline.approved_patches = (0..50).map(|i| format!("pkg-{}", i * 7)).collect();
        baseline.rejected_patches =
            (0..49).map(|i| format!("pkg-{}", i * 11 + 3)).chain(["lib*-devel".to_string()]).collect();
        baseline.rejected_patches_action = RejectedAction::Block;
    }
    baseline
}

/// One instance's Scan: a catalog of about `patches` patches from a generator (a year of
/// releases), a compiled baseline over it, and an instance a few weeks behind.
pub struct ScanFixture {
    pub catalog: Catalog,
    pub baseline: CompiledBaseline,
    pub security: BitSet,
    pub applicable: BitSet,
    pub installed: BitSet,
    pub failed: Vec<u32>,
    pub pending_reboot: Vec<u32>,
}

impl ScanFixture {
    pub fn new(patches: usize, full: bool) -> ScanFixture {
        let catalog = fixture_catalog(patches);
        let mut baseline = compile(&fixture_baseline(full), &catalog);
        for (index, approval) in baseline.approvals.clone().iter().enumerate() {
            if approval.at.is_some_and(|t| t <= BENCH_START) {
                baseline.approve(index);
            }
        }
        let mut rng = Stream::new(42, 0, Purpose::ProfilePackages);
        let mut applicable = BitSet::new(catalog.len());
        let mut installed = BitSet::new(catalog.len());
        let mut security = BitSet::new(catalog.len());
        for (index, patch) in catalog.patches.iter().enumerate() {
            if patch.security {
                security.insert(index);
            }
            if patch.package < 200 || rng.chance(0.2) {
                applicable.insert(index);
                // An instance a few weeks behind: 90% of what applies is installed.
                if rng.chance(0.9) {
                    installed.insert(index);
                }
            }
        }
        let pending_reboot = installed.iter().take(2).map(|p| p as u32).collect();
        ScanFixture { catalog, baseline, security, applicable, installed, failed: vec![3, 17], pending_reboot }
    }

    /// The evaluation input of one Scan, for `compliance::evaluate`.
    pub fn input(&self) -> EvaluationInput<'_> {
        EvaluationInput {
            baseline: &self.baseline,
            approved: &self.baseline.approved,
            security: &self.security,
            applicable: &self.applicable,
            installed: &self.installed,
            failed: &self.failed,
            pending_reboot: &self.pending_reboot,
            released: None,
        }
    }
}

/// A year of Amazon Linux releases, about `patches` of them, in four streams.
fn fixture_catalog(patches: usize) -> Catalog {
    let weeks = 52.0;
    let stream = |classification: &str, severity: &str, share: f64| StreamDef {
        properties: PatchProperties {
            classification: Some(classification.into()),
            severity: Some(severity.into()),
            ..Default::default()
        },
        package: None,
        process: ReleaseProcess::Poisson { per_week: patches as f64 * share / weeks },
        reboot_share: 0.1,
        download_mb: (1.0, 10.0),
        install_duration: (SimDuration(10), SimDuration(60)),
        supersede_previous: true,
    };
    let def = CatalogDef {
        os: Os::AmazonLinux2023,
        products: vec!["AmazonLinux2023".into()],
        packages: 5_000,
        core_packages: 200,
        patches: vec![],
        generator: Some(GeneratorDef {
            backlog: SimDuration::days(364),
            id_prefix: "ALAS-".into(),
            streams: vec![
                stream("Security", "Critical", 0.05),
                stream("Security", "Important", 0.35),
                stream("Security", "Medium", 0.45),
                stream("Bugfix", "None", 0.15),
            ],
        }),
    };
    catalog::build(&def, 0, 42, BENCH_START, BENCH_START).expect("the fixture catalog is valid")
}

/// The instant next-fire computation starts from: 2025-03-01T00:00:00Z.
pub const SCHEDULE_CREATED: i64 = 1_740_787_200;

/// The schedules of the next-fire benchmark, by name: a weekly cron in UTC, a Patch
/// Tuesday style `#3` with an offset in a zone with DST, a 15-minute cron, and a rate.
pub fn next_fire_cases() -> Vec<(&'static str, WindowSchedule)> {
    [
        ("weekly_utc", "cron(0 3 ? * TUE *)", "UTC", None),
        ("third_thursday_offset_la", "cron(30 23 ? * THU#3 *)", "America/Los_Angeles", Some(2)),
        ("every_15_min", "cron(0/15 * * * ? *)", "Europe/Berlin", None),
        ("rate_7_days", "rate(7 days)", "UTC", None),
    ]
    .into_iter()
    .map(|(name, expr, zone, offset)| {
        let expr = ScheduleExpr::parse(expr).expect("the fixture schedules parse");
        let schedule = WindowSchedule::new(expr, zone, offset, None, None, SCHEDULE_CREATED)
            .expect("the fixture schedules are valid");
        (name, schedule)
    })
    .collect()
}

/// Walks a schedule forward one fire at a time, wrapping to its creation when it ends.
pub struct NextFire {
    schedule: WindowSchedule,
    after: i64,
}

impl NextFire {
    pub fn new(schedule: WindowSchedule) -> NextFire {
        NextFire { schedule, after: SCHEDULE_CREATED }
    }

    /// One next-fire computation.
    pub fn step(&mut self) {
        self.after = self.schedule.next_after(std::hint::black_box(self.after)).unwrap_or(SCHEDULE_CREATED);
    }
}

/// How many times the default fleet the smoke run simulates: 20,000 x 50 = 1,000,000.
pub const SMOKE_FLEET_FACTOR: u32 = 50;

/// The embedded default scenario with every instance group `factor` times larger, read
/// through the scenario file format (so it follows whatever the default scenario becomes).
pub fn scaled_default_scenario(factor: u32) -> Result<Scenario, String> {
    let mut file: toml::Table = DEFAULT_SCENARIO.parse().map_err(|e| format!("default scenario: {e}"))?;
    let groups = file
        .get_mut("instance_group")
        .and_then(|v| v.as_array_mut())
        .ok_or("default scenario: no [[instance_group]] array")?;
    for group in groups {
        let count = group.get_mut("count").ok_or("default scenario: an instance group without `count`")?;
        let scaled = count.as_integer().ok_or("default scenario: `count` is not an integer")? * i64::from(factor);
        *count = toml::Value::Integer(scaled);
    }
    let text = toml::to_string(&file).map_err(|e| format!("default scenario: {e}"))?;
    scenario::load("default scenario (scaled)", &text).map_err(|diagnostics| diagnostics.to_string())
}
