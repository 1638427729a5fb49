//! The small fleet of issue 12 (`benches/scenarios/small-fleet.toml`: 12,000 instances, 30
//! days, 60 daily scan associations, four Install windows), timed as a whole process: each
//! iteration spawns the `patchfleet` binary cargo built for this bench (`run SCENARIO -q
//! --force --out DIR`), so start-up, parsing, the simulation and writing the results
//! directory (report.html included) all count, as they do for a user.
//!
//! `cargo bench --bench small_fleet` measures it (criterion, wall clock).
//! `benches/simpy/compare.sh` times the same process beside the SimPy model of the same
//! scenario and prints the ratio.

use std::path::Path;
use std::process::Command;

use criterion::{Criterion, criterion_group, criterion_main};

fn small_fleet(c: &mut Criterion) {
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/scenarios/small-fleet.toml");
    let out = tempfile::tempdir().expect("a temporary directory");
    let results = out.path().join("small-fleet");
    let mut group = c.benchmark_group("small_fleet");
    group.sample_size(10);
    group.bench_function("patchfleet_run_process", |b| {
        b.iter(|| {
            let status = Command::new(env!("CARGO_BIN_EXE_patchfleet"))
                .arg("run")
                .arg(&scenario)
                .args(["-q", "--force", "--out"])
                .arg(&results)
                .status()
                .expect("patchfleet starts");
            assert!(status.success(), "patchfleet run failed: {status}");
        })
    });
    group.finish();
}

criterion_group!(benches, small_fleet);
criterion_main!(benches);
