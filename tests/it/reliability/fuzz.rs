//! Structure-aware fuzzing with proptest: scenario text built from the schema's sections
//! with extreme values in every numeric slot, mutations of the shipped scenarios, and
//! schedule expressions from the cron/rate/at grammar.
//!
//! Properties: loading never panics; a scenario that validates has an estimate, and if the
//! estimate is small it runs to a stop reason without panicking; a schedule that parses
//! yields strictly increasing fire instants.
//!
//! `cargo test` runs a bounded number of cases (a few seconds in debug). For a long run:
//! `PATCHFLEET_FUZZ_CASES=100000 PATCHFLEET_FUZZ_RUN_WORK=20000000 cargo test --release
//! --test it reliability::fuzz` (README.md, "Fuzzing").

use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use patchfleet::scenario::{self, DEFAULT_SCENARIO};
use patchfleet::schedule::{ScheduleExpr, WindowSchedule};

fn cases(default: u32) -> u32 {
    std::env::var("PATCHFLEET_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Scenarios whose estimated work is at most this many units are also run.
fn run_work() -> u64 {
    std::env::var("PATCHFLEET_FUZZ_RUN_WORK").ok().and_then(|v| v.parse().ok()).unwrap_or(200_000)
}

fn runner(default_cases: u32) -> TestRunner {
    TestRunner::new(Config { cases: cases(default_cases), failure_persistence: None, ..Config::default() })
}

/// A float as TOML writes it, ordinary or extreme.
fn float() -> impl Strategy<Value = String> {
    prop_oneof![
        12 => (0.0f64..1.0).prop_map(|v| format!("{v:.4}")),
        1 => prop::sample::select(vec![
            "0.0", "-1.0", "1.0", "1e308", "-1e308", "1e-300", "nan", "inf", "-inf", "2147483648.0", "1e15",
            "500000.0", "500001.0", "0.001", "0.0009", "1e9", "1.1e9",
        ])
        .prop_map(String::from),
    ]
}

/// An integer as TOML writes it, ordinary or at and beyond the edges of the types.
fn integer() -> impl Strategy<Value = String> {
    prop_oneof![
        12 => (1u32..50).prop_map(|v| v.to_string()),
        1 => prop::sample::select(vec![
            "0", "-1", "1", "65535", "65536", "1000000", "1000001", "16000000", "16000001", "4294967295",
            "4294967296", "2147483648", "9223372036854775807",
        ])
        .prop_map(String::from),
    ]
}

fn duration() -> impl Strategy<Value = String> {
    prop_oneof![
        12 => (1u32..48).prop_map(|h| format!("\"{h}h\"")),
        1 => prop::sample::select(vec![
            "\"0s\"", "\"1s\"", "\"30m\"", "\"1d\"", "\"7d\"", "\"3660d\"", "\"3661d\"", "\"99999999999999d\"",
            "\"\"", "\"1x\"", "\"-1d\"", "\"1h1h\"", "\"106751991167300d\"",
        ])
        .prop_map(String::from),
    ]
}

fn instant() -> impl Strategy<Value = String> {
    prop_oneof![
        12 => (0i64..60).prop_map(|d| format!("2026-{:02}-{:02}T00:00:00Z", 1 + d / 28, 1 + d % 28)),
        1 => prop::sample::select(vec![
            "1970-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "\"2026-02-30\"",
            "\"not a date\"", "2026-01-05T00:00:00",
        ])
        .prop_map(String::from),
    ]
}

/// A cron field: numbers, ranges, steps, lists and the special characters.
fn cron_field() -> impl Strategy<Value = String> {
    let atom = prop_oneof![
        3 => (0u32..70).prop_map(|n| n.to_string()),
        1 => prop::sample::select(vec![
            "*", "?", "L", "W", "LW", "15W", "2#3", "6L", "MON", "FRI", "JAN", "DEC", "MON-FRI", "SUN-SAT", "L-3",
            "", "99999999999", "-1", "1-", "#", "/",
        ])
        .prop_map(String::from),
    ];
    (atom, prop::option::of(0u32..100), prop::option::of(0u32..70)).prop_map(|(a, step, list)| {
        let mut field = a;
        if let Some(step) = step {
            field.push_str(&format!("/{step}"));
        }
        if let Some(other) = list {
            field.push_str(&format!(",{other}"));
        }
        field
    })
}

/// A cron expression AWS accepts the shape of: fields in range, and `?` in exactly one of
/// day-of-month and day-of-week; values and lists drawn around the edges.
fn shaped_cron() -> impl Strategy<Value = String> {
    let minute = prop_oneof![(0u32..60).prop_map(|m| m.to_string()), Just("0/15".to_string()), Just("*".to_string())];
    let hour = prop_oneof![(0u32..24).prop_map(|h| h.to_string()), Just("22-2".to_string()), Just("*/6".to_string())];
    let day = prop_oneof![
        (1u32..32).prop_map(|d| format!("{d} * ?")),
        Just("L * ?".to_string()),
        Just("15W 2 ?".to_string()),
        prop::sample::select(vec!["MON", "TUE#2", "6L", "SAT-SUN", "THU#3", "1,3,5", "FRI-MON"])
            .prop_map(|w| format!("? * {w}")),
        (1u32..13).prop_map(|m| format!("29 {m} ?")),
    ];
    let year =
        prop_oneof![Just("*".to_string()), (1970u32..2200).prop_map(|y| y.to_string()), Just("2026-2027".to_string())];
    (minute, hour, day, year).prop_map(|(m, h, d, y)| format!("cron({m} {h} {d} {y})"))
}

/// `cron(...)`, `rate(...)` or `at(...)`, mostly well-formed.
fn schedule_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => shaped_cron(),
        2 => prop::collection::vec(cron_field(), 6).prop_map(|fields| format!("cron({})", fields.join(" "))),
        1 => prop::collection::vec(cron_field(), 0..9).prop_map(|fields| format!("cron({})", fields.join(" "))),
        2 => (
            prop_oneof![(0u64..100).boxed(), Just(u64::MAX).boxed(), Just(1u64 << 40).boxed()],
            prop::sample::select(vec!["minute", "minutes", "hour", "hours", "day", "days", "week", "second", ""]),
        )
            .prop_map(|(n, unit)| format!("rate({n} {unit})")),
        1 => instant().prop_map(|i| format!("at({})", i.trim_matches('"').trim_end_matches('Z'))),
        1 => "\\PC{0,30}",
    ]
}

/// An ordinary value of `ordinary` most of the time, else one of the edge cases.
fn or_edge(
    ordinary: impl Strategy<Value = String> + 'static,
    edge: impl Strategy<Value = String> + 'static,
) -> BoxedStrategy<String> {
    prop_oneof![12 => ordinary, 1 => edge].boxed()
}

/// A schedule for a scenario: mostly one that parses, sometimes a generated one.
fn scenario_schedule() -> BoxedStrategy<String> {
    let good = prop::sample::select(vec!["cron(0 3 ? * SUN *)", "rate(1 day)", "rate(6 hours)", "cron(30 1 * * ? *)"]);
    or_edge(good.prop_map(String::from), schedule_text())
}

/// One generated scenario, section by section.
fn scenario_text() -> impl Strategy<Value = String> {
    let head = (duration(), duration(), integer(), float()).prop_map(|(horizon, interval, max_events, mbps)| {
        format!(
            "[scenario]\nname = \"fuzz\"\nstart = 2026-01-05T00:00:00Z\nhorizon = {horizon}\nseed = 3\n\
                 sample_interval = {interval}\nmax_events = {max_events}\n\n[agent]\ndownload_mbps = {mbps}\n\n"
        )
    });
    let catalog = (
        or_edge((10u32..200).prop_map(|v| v.to_string()), integer()),
        or_edge((0u32..10).prop_map(|v| v.to_string()), integer()),
        or_edge((0.0f64..20.0).prop_map(|v| format!("{v:.2}")), float()),
        or_edge((0.0f64..20.0).prop_map(|v| format!("{v:.2}")), float()),
        scenario_schedule(),
        or_edge((0.0f64..50.0).prop_map(|v| format!("{v:.1}")), float()),
        duration(),
        any::<bool>(),
    )
        .prop_map(|(packages, core, per_week, per_release, schedule, mb, backlog, batches)| {
            let process = if batches {
                format!("schedule = \"{schedule}\"\nper_release = {per_release}")
            } else {
                format!("per_week = {per_week}")
            };
            format!(
                "[[catalog]]\nos = \"AMAZON_LINUX_2023\"\nproducts = [\"AmazonLinux2023\"]\npackages = {packages}\n\
                 core_packages = {core}\n\n[[catalog.patch]]\nid = \"P-1\"\npackage = \"openssl\"\n\
                 classification = \"Security\"\nseverity = \"Critical\"\nreleased = 2026-01-06T00:00:00Z\n\
                 download_mb = {mb}\n\n[catalog.generator]\nid_prefix = \"G-\"\nbacklog = {backlog}\n\
                 [[catalog.generator.stream]]\nclassification = \"Security\"\n{process}\n\n"
            )
        });
    let fleet = (
        float(),
        integer(),
        float(),
        or_edge((1.0f64..1000.0).prop_map(|v| format!("{v:.1}")), float()),
        integer(),
    )
        .prop_map(|(share, count, failure, bandwidth, connections)| {
            format!(
                "[[repository]]\nname = \"mirror\"\nserves = [\"AMAZON_LINUX_2023\"]\nbandwidth_mbps = {bandwidth}\n\
                 max_connections = {connections}\n\n[[profile]]\nname = \"web\"\nos = \"AMAZON_LINUX_2023\"\n\
                 package_share = {share}\npackages = [\"openssl\"]\n\n[[instance_group]]\nname = \"web\"\n\
                 count = {count}\nprofile = \"web\"\ntags = {{ \"Patch Group\" = \"prod\" }}\n\
                 install_failure_probability = {failure}\n\n"
            )
        });
    let capacity = or_edge(
        (0u32..20, 0u32..20, 0u32..20).prop_map(|(a, b, c)| {
            let mut v = [a, b, c];
            v.sort();
            format!("min = {}\nmax = {}\ndesired = {}", v[0], v[2], v[1])
        }),
        (integer(), integer(), integer()).prop_map(|(a, b, c)| format!("min = {a}\nmax = {b}\ndesired = {c}")),
    );
    let rebake = or_edge((1u32..30).prop_map(|d| format!("\"{d}d\"")), duration());
    let asg = prop::option::of((capacity, duration(), float(), rebake));
    let asg = asg.prop_map(|spec| match spec {
        None => String::new(),
        Some((capacity, lifetime, amplitude, rebake)) => format!(
            "[[image]]\nname = \"golden\"\nbaked = 2026-01-01T00:00:00Z\nrebake_every = {rebake}\n\
             baseline = \"AWS-AmazonLinux2023DefaultPatchBaseline\"\n\n[[auto_scaling_group]]\nname = \"asg\"\n\
             profile = \"web\"\nimage = \"golden\"\n{capacity}\n\
             lifetime = {lifetime}\ndemand_amplitude = {amplitude}\nrefresh_min_healthy_percentage = 50\n\n"
        ),
    });
    let operations = (
        scenario_schedule(),
        scenario_schedule(),
        or_edge((2u32..25).prop_map(|v| v.to_string()), integer()),
        or_edge((30u32..7200).prop_map(|v| v.to_string()), integer()),
        duration(),
        integer(),
    )
        .prop_map(|(window, association, duration_hours, timeout, period, threshold)| {
            format!(
                "[[maintenance_window]]\nname = \"mw-fuzz\"\nschedule = \"{window}\"\nduration_hours = {duration_hours}\n\
                 cutoff_hours = 1\ntargets = [\"*\"]\n[[maintenance_window.task]]\nname = \"install\"\n\
                 operation = \"Install\"\nmax_concurrency = \"50%\"\nmax_errors = \"10%\"\n\
                 timeout_seconds = {timeout}\n\n[[association]]\nname = \"scan\"\nschedule = \"{association}\"\n\
                 targets = [\"*\"]\n\n[[alarm]]\nname = \"a\"\npatch_group = \"prod\"\nmetric = \"non_compliant\"\n\
                 threshold = {threshold}\nperiod = {period}\nevaluation_periods = 1\n\
                 remediation = {{ max_concurrency = \"10\", max_errors = \"0\" }}\n"
            )
        });
    (head, catalog, fleet, asg, operations).prop_map(|(a, b, c, d, e)| format!("{a}{b}{c}{d}{e}"))
}

/// How many cases were loaded, validated and run.
#[derive(Default)]
struct Tally {
    loaded: AtomicU64,
    valid: AtomicU64,
    ran: AtomicU64,
}

impl Tally {
    fn report(&self, what: &str) -> (u64, u64, u64) {
        let counts = (self.loaded.load(Relaxed), self.valid.load(Relaxed), self.ran.load(Relaxed));
        eprintln!("{what}: {} inputs, {} valid, {} run", counts.0, counts.1, counts.2);
        counts
    }
}

/// Loads `text`; if it validates and is small enough, runs it. Panics propagate to proptest.
fn load_and_maybe_run(text: &str, tally: &Tally) -> Result<(), TestCaseError> {
    tally.loaded.fetch_add(1, Relaxed);
    let Ok(scenario) = scenario::load("fuzz.toml", text) else { return Ok(()) };
    tally.valid.fetch_add(1, Relaxed);
    let estimate = scenario::estimate::estimate(&scenario);
    if estimate.work <= run_work() && estimate.memory_bytes <= 256 << 20 && estimate.instances_ever <= 100_000 {
        let result = patchfleet::run::run(&scenario, scenario.seed, |_, _| {}).map_err(TestCaseError::fail)?;
        prop_assert!(result.outcome.work >= result.outcome.events_processed);
        tally.ran.fetch_add(1, Relaxed);
    }
    Ok(())
}

#[test]
fn generated_scenarios_never_panic_and_small_ones_run() {
    let mut runner = runner(160);
    let tally = Tally::default();
    runner.run(&scenario_text(), |text| load_and_maybe_run(&text, &tally)).unwrap();
    let (loaded, valid, ran) = tally.report("generated scenarios");
    // The generator reaches past validation, and into runs, not only into errors.
    assert!(loaded >= 160 && valid > 0 && ran > 0, "{loaded} {valid} {ran}");
}

/// A mutation of a shipped scenario: a numeric literal replaced by an extreme, a line
/// dropped or doubled, or a byte replaced.
fn mutate(base: &str, choice: usize, position: usize, replacement: &str) -> String {
    let lines: Vec<&str> = base.lines().collect();
    let line = position % lines.len();
    let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    match choice % 4 {
        0 => {
            if let Some((key, _)) = lines[line].split_once(" = ") {
                out[line] = format!("{key} = {replacement}");
            }
        }
        1 => {
            out.remove(line);
        }
        2 => out.insert(line, lines[line].to_string()),
        _ => {
            let mut bytes = out[line].clone().into_bytes();
            if !bytes.is_empty() {
                let at = position % bytes.len();
                bytes[at] = replacement.as_bytes().first().copied().unwrap_or(b'x');
            }
            out[line] = String::from_utf8_lossy(&bytes).into_owned();
        }
    }
    out.join("\n")
}

#[test]
fn mutated_shipped_scenarios_never_panic() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut bases = vec![DEFAULT_SCENARIO.to_string()];
    for name in ["asg-churn.toml", "mirror-stampede.toml", "az-partition.toml"] {
        bases.push(std::fs::read_to_string(root.join(name)).unwrap());
    }
    let replacement = prop_oneof![float(), integer(), duration(), schedule_text().prop_map(|s| format!("\"{s}\""))];
    let strategy = (0..bases.len(), 0usize..4, any::<usize>(), replacement, 1usize..4);
    let mut runner = runner(256);
    let tally = Tally::default();
    runner
        .run(&strategy, |(base, choice, position, replacement, rounds)| {
            let mut text = bases[base].clone();
            for round in 0..rounds {
                text = mutate(&text, choice + round, position.wrapping_mul(round + 1), &replacement);
            }
            load_and_maybe_run(&text, &tally)
        })
        .unwrap();
    let (loaded, valid, _) = tally.report("mutated scenarios");
    assert!(loaded >= 256 && valid > 0 && valid < loaded, "{loaded} {valid}");
}

#[test]
fn schedules_never_panic_and_fire_in_increasing_order() {
    let mut runner = runner(2048);
    let parsed = AtomicU64::new(0);
    let strategy = (
        schedule_text(),
        prop::sample::select(vec!["UTC", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Nowhere/City"]),
        prop::option::of(0u8..9),
        -100_000_000_000i64..100_000_000_000,
    );
    runner
        .run(&strategy, |(text, zone, offset, after)| {
            let Ok(expr) = ScheduleExpr::parse(&text) else { return Ok(()) };
            let Ok(schedule) = WindowSchedule::new(expr, zone, offset, None, None, 1_767_571_200) else {
                return Ok(());
            };
            parsed.fetch_add(1, Relaxed);
            let mut last = after;
            for _ in 0..8 {
                let Some(next) = schedule.next_after(last) else { break };
                prop_assert!(next > last, "{text}: {next} after {last}");
                last = next;
            }
            Ok(())
        })
        .unwrap();
    eprintln!("schedules: {} inputs, {} parsed", cases(2048), parsed.load(Relaxed));
    assert!(parsed.load(Relaxed) > 0, "some generated schedules are valid");
}
