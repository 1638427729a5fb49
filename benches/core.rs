//! Benchmarks of patchfleet's core: the pending-event set under the classic hold model,
//! rule evaluation (one Scan) against catalogs of 2,000 and 10,000 patches, next-fire
//! computation of schedules, and the whole default scenario.
//!
//! `cargo bench` measures (criterion, wall clock; use it locally, not as a CI gate).
//! `cargo test` runs every body once in test mode, so the benchmarks cannot rot.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

use patchfleet::baseline::{ApprovalDelay, BaselineDef, ComplianceLevel, FilterKey, RejectedAction, RuleDef, compile};
use patchfleet::bitset::BitSet;
use patchfleet::catalog::{self, CatalogDef, GeneratorDef, Os, PatchProperties, ReleaseProcess, StreamDef};
use patchfleet::compliance::{EvaluationInput, evaluate};
use patchfleet::engine::{BinaryHeapQueue, PendingSet};
use patchfleet::rng::{Purpose, Stream};
use patchfleet::schedule::{ScheduleExpr, WindowSchedule};
use patchfleet::time::{SimDuration, SimTime};

/// The hold model: pop the earliest event, push one at its time plus an exponential
/// increment (mean 1,000 s), keeping the queue size constant.
fn hold_model(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine_hold");
    for size in [1_000usize, 1_000_000] {
        let mut rng = Stream::new(1, size as u64, Purpose::OperationTiming);
        let mut queue: BinaryHeapQueue<u32> = BinaryHeapQueue::default();
        let mut seq = 0u64;
        for _ in 0..size {
            queue.push(SimTime(rng.exponential(1_000.0) as i64), seq, seq as u32);
            seq += 1;
        }
        group.bench_function(format!("pending_{size}"), |b| {
            b.iter(|| {
                let (time, _, event) = queue.pop().expect("the queue holds events");
                let next = time + SimDuration(rng.exponential(1_000.0) as i64 + 1);
                queue.push(next, seq, black_box(event));
                seq += 1;
            })
        });
    }
    group.finish();
}

/// The instant the benchmark catalogs end at.
const BENCH_START: SimTime = SimTime(1_790_000_000);

/// The baseline of the scan fixture (see [`scan_fixture`]).
fn fixture_baseline(full: bool) -> BaselineDef {
    let start = BENCH_START;
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
            delay: ApprovalDelay::UntilDate(start),
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

/// A catalog of about `patches` patches from a generator, and a baseline over it: `full`
/// uses every filter kind of its OS, global filters, 50 approved and 50 rejected entries
/// and BLOCK; otherwise three plain rules.
fn scan_fixture(
    patches: usize,
    full: bool,
) -> (catalog::Catalog, patchfleet::baseline::CompiledBaseline, BitSet, BitSet, BitSet) {
    let start = BENCH_START;
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
    let catalog = catalog::build(&def, 0, 42, start, start).expect("builds");
    let baseline = fixture_baseline(full);
    let mut compiled = compile(&baseline, &catalog);
    for (index, approval) in compiled.approvals.clone().iter().enumerate() {
        if approval.at.is_some_and(|t| t <= start) {
            compiled.approve(index);
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
    (catalog, compiled, security, applicable, installed)
}

fn scan_evaluation(c: &mut Criterion) {
    let mut group = c.benchmark_group("scan_evaluation");
    for (patches, full) in [(2_000usize, false), (2_000, true), (10_000, false), (10_000, true)] {
        let (_, baseline, security, applicable, installed) = scan_fixture(patches, full);
        let failed = [3u32, 17];
        let pending: Vec<u32> = installed.iter().take(2).map(|p| p as u32).collect();
        // The generator draws about `patches` patches; the name keeps the requested size.
        let kind = if full { "full_baseline" } else { "simple_baseline" };
        group.bench_function(format!("catalog_{patches}_{kind}"), |b| {
            b.iter(|| {
                let input = EvaluationInput {
                    baseline: &baseline,
                    approved: &baseline.approved,
                    security: &security,
                    applicable: &applicable,
                    installed: &installed,
                    failed: &failed,
                    pending_reboot: &pending,
                    released: None,
                };
                black_box(evaluate(black_box(&input)))
            })
        });
    }
    group.finish();
}

/// Compiling a baseline against a catalog: once per baseline per run, so it matters only
/// for scenarios with many baselines and large catalogs.
fn baseline_compile(c: &mut Criterion) {
    let mut group = c.benchmark_group("baseline_compile");
    for full in [false, true] {
        let (catalog, ..) = scan_fixture(2_000, full);
        let kind = if full { "full_baseline" } else { "simple_baseline" };
        let def = fixture_baseline(full);
        group.bench_function(format!("catalog_2000_{kind}"), |b| {
            b.iter(|| black_box(compile(black_box(&def), &catalog)))
        });
    }
    group.finish();
}

fn next_fire(c: &mut Criterion) {
    let mut group = c.benchmark_group("schedule_next_fire");
    let created = 1_740_787_200; // 2025-03-01T00:00:00Z
    for (name, expr, zone, offset) in [
        ("weekly_utc", "cron(0 3 ? * TUE *)", "UTC", None),
        ("third_thursday_offset_la", "cron(30 23 ? * THU#3 *)", "America/Los_Angeles", Some(2)),
        ("every_15_min", "cron(0/15 * * * ? *)", "Europe/Berlin", None),
        ("rate_7_days", "rate(7 days)", "UTC", None),
    ] {
        let schedule =
            WindowSchedule::new(ScheduleExpr::parse(expr).unwrap(), zone, offset, None, None, created).unwrap();
        let mut after = created;
        group.bench_function(name, |b| {
            b.iter(|| {
                after = schedule.next_after(black_box(after)).unwrap_or(created);
            })
        });
    }
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

criterion_group!(benches, hold_model, scan_evaluation, baseline_compile, next_fire, default_scenario);
criterion_main!(benches);
