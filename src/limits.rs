//! Every bound on user input and on a run's resources, in one place, with its reason.
//!
//! The validator checks each numeric input against these (`scenario/validate/`), the
//! resource estimate (`scenario/estimate.rs`) sums what a scenario asks for and compares it
//! with them, and the few places that could still grow at run time (the catalog generator,
//! Auto Scaling launches, cohort work) stop at the same figures. README.md, "Limits",
//! lists them for users; keep both in step.
//!
//! Two kinds of figure live here. *Hard limits* follow from what the simulator can hold
//! (index widths, memory per item) and cannot be raised. *Budgets* are defaults a run may
//! raise from the command line (`--max-memory`, `--max-work`, `--max-output`).

/// Instances a run may ever hold, Auto Scaling launches included. Instance indices are
/// `u32` and every instance keeps about 200 bytes after termination (its id stays stable),
/// so 16 million instances are about 3 GiB before any patch state: the most a run on a
/// workstation can hold.
pub const MAX_INSTANCES: u64 = 16_000_000;

/// Capacity (`min`, `max`, `desired`) of one Auto Scaling group.
pub const MAX_ASG_CAPACITY: u32 = 1_000_000;

/// Elements of a section whose index travels in events as a `u16` (instance groups with the
/// Auto Scaling groups' own, baselines, windows, associations, alarms, images, locations,
/// repositories, scheduled actions).
pub const MAX_INDEXED_ELEMENTS: usize = u16::MAX as usize;

/// Patches one catalog may hold. Patch indices are `u32`, but every instance keeps a bitset
/// over its catalog and every baseline an approval per patch: a million patches are 125 KB
/// per instance, already more than any real repository publishes in ten years (Ubuntu's
/// archive carries about 60,000 packages).
pub const MAX_PATCHES_PER_CATALOG: u64 = 1_000_000;

/// The expected number of generated patches of one catalog (the means of its streams over
/// the backlog and the horizon) may be at most this: half of
/// [`MAX_PATCHES_PER_CATALOG`], so that a Poisson draw, whose standard deviation is the
/// square root of its mean, never reaches the hard limit.
pub const MAX_EXPECTED_PATCHES: f64 = 500_000.0;

/// Packages of one catalog's repository: each has a name kept for the run (about 30
/// bytes), and the largest real repositories have under 100,000.
pub const MAX_PACKAGES: u32 = 1_000_000;

/// Download size of one patch, in MB (1 TB). Sizes are summed in `f64` megabits by the
/// repository model; with this bound no sum over a run's downloads can become infinite.
pub const MAX_DOWNLOAD_MB: f64 = 1_000_000.0;

/// Bandwidths (repository and agent), in Mbit/s: from 1 kbit/s to 1 Pbit/s. The lower
/// bound keeps the longest download (the largest patch at the smallest share of the
/// smallest bandwidth) within about 250 million years, so completion instants stay
/// ordinary integers.
pub const MIN_BANDWIDTH_MBPS: f64 = 0.001;
pub const MAX_BANDWIDTH_MBPS: f64 = 1e9;

/// Concurrent connections of one repository.
pub const MAX_CONNECTIONS: u32 = 1_000_000;

/// Instances in one chunk of a parallel pass over a cohort or the fleet (cohort scans and
/// samples). Fixed, so that the split of work never depends on the number of threads.
pub const COHORT_CHUNK: usize = 2_048;

/// Bytes the run's memo of cohort-scan evaluations may hold (`sim/scan_memo.rs`): 16 MiB,
/// tens of thousands of distinct patch states of catalogs of a few thousand patches. Past
/// it, new states are evaluated and not kept, as if there were no memo.
pub const SCAN_MEMO_BYTES: usize = 16 << 20;

/// The same for the memo one cohort chunk fills during a pass before the run's takes its
/// entries: 64 KiB, so the 489 chunks of a million-instance cohort hold at most 31 MiB.
pub const CHUNK_MEMO_BYTES: usize = 64 << 10;

/// Any duration in a scenario (100 years): sums of instants and durations then stay far
/// from the ends of `i64` seconds and within the calendar of the time-zone database.
pub const MAX_DURATION_DAYS: i64 = 36_600;

/// Targets in one list, and values in one target (AWS's own limits for Targets and
/// Target.Values). They also keep target resolution linear in the fleet: an instance is
/// compared with at most this many ids.
pub const MAX_TARGETS: usize = 5;
pub const MAX_TARGET_VALUES: usize = 50;

/// Versions of one image a pipeline bakes from the first bake to the end of the run (an
/// hourly pipeline over ten years is 87,600): each is kept with its bake instant, and each
/// version instances launch from caches its patch set.
pub const MAX_IMAGE_VERSIONS: f64 = 100_000.0;

/// The simulated period.
pub const MAX_HORIZON_DAYS: i64 = 3_660;

/// Samples over the horizon (rows of `compliance.csv` per patch group and metric).
pub const MAX_SAMPLES: i64 = 100_000;

/// Mean patches per week of one Poisson stream, and mean patches per batch of a scheduled
/// stream: no single value may ask for more than a catalog can hold on average.
pub const MAX_STREAM_RATE: f64 = MAX_EXPECTED_PATCHES;

/// A scenario file is read whole; 64 MiB is thousands of times the largest shipped one.
pub const MAX_SCENARIO_BYTES: u64 = 64 << 20;

/// `--threads`: rayon starts every thread at once, and more threads than cohort chunks only
/// add start-up and idle spinning (10,000 threads took 109 s on ten instances).
pub const MAX_THREADS: usize = 256;

/// `schedule --count`: instants printed by one call.
pub const MAX_SCHEDULE_COUNT: usize = 100_000;

/// Default budget for the estimated peak memory of a run (`--max-memory` raises it).
pub const DEFAULT_MAX_MEMORY_BYTES: u64 = 4 << 30;

/// Default budget for the estimated work of a run, in work units: one per event plus one per
/// instance an event visits (a cohort scan's targets, a sample's fleet, a target
/// resolution). At the measured tens of millions of units per second this is a run of
/// minutes (`--max-work` raises it). The same figure stops the run if the estimate was low.
pub const DEFAULT_MAX_WORK: u64 = 10_000_000_000;

/// Default budget for the estimated size of the results directory (`--max-output`).
pub const DEFAULT_MAX_OUTPUT_BYTES: u64 = 4 << 30;
