//! What a run of a scenario will cost, from the validated [`Scenario`] alone: instances over
//! time (Auto Scaling launches included), patches, samples, invocations and cohort
//! evaluations, and from them the work, the peak memory and the size of the results.
//!
//! The figures are expectations, not bounds: a Poisson stream may release a few more
//! patches than its mean, an Install may fail and be retried. They are meant to be within a
//! small factor of what a run measures (`tests/it/reliability.rs` checks a factor of 3 on
//! shipped scenarios) and to say, before minutes of simulation, *which* part of the
//! scenario drives them. The unit sizes below were measured on the shipped scenarios.
//!
//! The validator calls [`hard_limits`] on every scenario it builds, so a scenario that asks
//! for more than the simulator can hold never validates; `patchfleet run` compares
//! [`Estimate`] with its budgets (`crate::limits`).

use std::fmt;

use super::Scenario;
use crate::compliance::Operation;
use crate::limits;
use crate::schedule::WindowSchedule;
use crate::time::{SimDuration, SimTime};
use crate::window::Target;

/// Bytes an instance keeps whatever its catalog: group, reports, flags, timers and the
/// vectors' headers (about 200), with the slack of vectors that grow by doubling.
const INSTANCE_BYTES: f64 = 360.0;
/// Bytes per patch of a catalog: the patch with its strings, its id in the lookup table,
/// its progress thresholds and its pending `Release` event.
const PATCH_BYTES: f64 = 400.0;
/// Bytes per (baseline, patch) pair: the compiled approval and its pending `Approve` event.
const APPROVAL_BYTES: f64 = 80.0;
/// Bytes per sample per reporting group: the counters kept for `compliance.csv`.
const SAMPLE_BYTES: f64 = 160.0;
/// Bytes per execution record and per pending invocation.
const EXECUTION_BYTES: f64 = 200.0;
const INVOCATION_BYTES: f64 = 80.0;
/// Bytes per down interval of a link.
const LINK_INTERVAL_BYTES: f64 = 16.0;
/// The process before any scenario: binary, allocator, thread stacks.
const BASE_BYTES: f64 = 16.0 * 1024.0 * 1024.0;
/// Output: one line of `instance_patch_states.jsonl`, one row of `compliance.csv`, of
/// `patches.csv` and of the execution files.
const INSTANCE_LINE_BYTES: f64 = 620.0;
const COMPLIANCE_ROW_BYTES: f64 = 48.0;
const PATCH_ROW_BYTES: f64 = 160.0;
const EXECUTION_ROW_BYTES: f64 = 160.0;
/// `summary.json` and `report.html`: a fixed part (page, styles, axes), and a part per
/// patch group and per window; the report downsamples its series, so samples do not count.
const REPORT_BASE_BYTES: f64 = 100.0 * 1024.0;
const REPORT_GROUP_BYTES: f64 = 8.0 * 1024.0;
const REPORT_WINDOW_BYTES: f64 = 2.0 * 1024.0;
/// A row of `invocations.csv`, and a patch of `instance_patches.jsonl`.
const INVOCATION_ROW_BYTES: f64 = 130.0;
const INSTANCE_PATCH_BYTES: f64 = 170.0;
/// Work units of one invocation: its events (delivery, completion, download) and the
/// evaluation of its instance.
const INVOCATION_WORK: f64 = 4.0;
/// Fires of a schedule counted one by one before the rest is extrapolated.
const COUNTED_FIRES: usize = 20_000;

/// One part of the scenario and how much of a figure it accounts for.
#[derive(Clone, Debug, PartialEq)]
pub struct Driver {
    /// The key path in the scenario file, e.g. `association[0]`.
    pub path: String,
    /// What it does, e.g. `Scan of 100000 targets at 175680 ticks`.
    pub what: String,
    pub amount: f64,
}

/// The estimate of one run.
#[derive(Clone, Debug, Default)]
pub struct Estimate {
    /// Instances at the start, at most at once, and ever (launches included).
    pub instances_initial: u64,
    pub instances_peak: u64,
    pub instances_ever: u64,
    /// Patches over every catalog, generated ones at their expected count.
    pub patches: u64,
    pub samples: u64,
    pub invocations: u64,
    pub cohort_evaluations: u64,
    pub events: u64,
    /// Work units: one per event and one per instance an event visits.
    pub work: u64,
    pub memory_bytes: u64,
    pub output_bytes: u64,
    pub work_drivers: Vec<Driver>,
    pub memory_drivers: Vec<Driver>,
    pub output_drivers: Vec<Driver>,
}

/// Budgets a run is held to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    pub memory_bytes: u64,
    pub work: u64,
    pub output_bytes: u64,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            memory_bytes: limits::DEFAULT_MAX_MEMORY_BYTES,
            work: limits::DEFAULT_MAX_WORK,
            output_bytes: limits::DEFAULT_MAX_OUTPUT_BYTES,
        }
    }
}

/// A budget the estimate exceeds: which, by how much, and what drives it.
#[derive(Clone, Debug)]
pub struct OverBudget {
    /// `memory`, `work` or `output`, and the flag that raises it.
    pub resource: &'static str,
    pub flag: &'static str,
    pub estimate: u64,
    pub budget: u64,
    /// The largest drivers, largest first.
    pub drivers: Vec<Driver>,
}

/// Counts of the things a run creates, before they are turned into bytes and work.
#[derive(Default)]
struct Counts {
    /// Per instance group (Auto Scaling groups' included): instances at the peak.
    group_peak: Vec<f64>,
    /// Per catalog: patches, and patches released within the run.
    patches: Vec<f64>,
    released_in_run: Vec<f64>,
    launches: Vec<Driver>,
    generated: Vec<(usize, Driver)>,
}

/// Estimates a run of `scenario`.
pub fn estimate(scenario: &Scenario) -> Estimate {
    let counts = counts(scenario);
    let mut e = Estimate {
        instances_initial: scenario.groups.iter().map(|g| g.count as u64).sum(),
        instances_peak: counts.group_peak.iter().sum::<f64>() as u64,
        patches: counts.patches.iter().sum::<f64>() as u64,
        samples: sample_count(scenario),
        ..Estimate::default()
    };
    e.instances_ever = e.instances_initial + counts.launches.iter().map(|d| d.amount).sum::<f64>() as u64;
    let work = work(scenario, &counts, &mut e);
    e.work = total(&work);
    e.work_drivers = ranked(work);
    let memory = memory(scenario, &counts, &e);
    e.memory_bytes = total(&memory);
    e.memory_drivers = ranked(memory);
    let output = output(scenario, &counts, &e);
    e.output_bytes = total(&output);
    e.output_drivers = ranked(output);
    e
}

/// Problems a scenario has against the hard limits of `crate::limits`, each at a key path.
pub fn hard_limits(scenario: &Scenario) -> Vec<(String, String)> {
    let counts = counts(scenario);
    let mut problems = Vec::new();
    for (catalog, patches) in counts.patches.iter().enumerate() {
        let generated: f64 = counts.generated.iter().filter(|(c, _)| *c == catalog).map(|(_, d)| d.amount).sum();
        if generated > limits::MAX_EXPECTED_PATCHES {
            let (_, top) = counts
                .generated
                .iter()
                .filter(|(c, _)| *c == catalog)
                .max_by(|a, b| a.1.amount.total_cmp(&b.1.amount))
                .expect("a catalog with generated patches has a stream");
            problems.push((
                top.path.clone(),
                format!(
                    "about {} patches expected in this catalog over the backlog and the horizon \
                     ({}); a catalog may expect at most {} (limits::MAX_EXPECTED_PATCHES)",
                    fmt_count(*patches),
                    top.what,
                    fmt_count(limits::MAX_EXPECTED_PATCHES)
                ),
            ));
        }
    }
    for (index, image) in scenario.images.iter().enumerate() {
        let versions = image_versions(scenario, image);
        if versions > limits::MAX_IMAGE_VERSIONS {
            problems.push((
                format!("image[{index}].rebake_every"),
                format!(
                    "about {} versions from the first bake to the end of the run; an image has at most {} \
                     (limits::MAX_IMAGE_VERSIONS)",
                    fmt_count(versions),
                    fmt_count(limits::MAX_IMAGE_VERSIONS)
                ),
            ));
        }
    }
    let initial: f64 = scenario.groups.iter().map(|g| g.count as f64).sum();
    let launched: f64 = counts.launches.iter().map(|d| d.amount).sum();
    if initial + launched > limits::MAX_INSTANCES as f64 {
        let top = counts.launches.iter().max_by(|a, b| a.amount.total_cmp(&b.amount));
        let path = top.map_or("instance_group".to_string(), |d| d.path.clone());
        let why =
            top.map_or(String::new(), |d| if d.what.is_empty() { String::new() } else { format!(", {}", d.what) });
        problems.push((
            path,
            format!(
                "about {} instances over the run: {} at the start, {} launched{why}; a run holds at most {} \
                 (limits::MAX_INSTANCES)",
                fmt_count(initial + launched),
                fmt_count(initial),
                fmt_count(launched),
                fmt_count(limits::MAX_INSTANCES as f64)
            ),
        ));
    }
    problems
}

impl Estimate {
    /// The budgets this estimate exceeds.
    pub fn over(&self, budget: &Budget) -> Vec<OverBudget> {
        let mut out = Vec::new();
        let checks = [
            ("memory", "--max-memory", self.memory_bytes, budget.memory_bytes, &self.memory_drivers),
            ("work", "--max-work", self.work, budget.work, &self.work_drivers),
            ("output", "--max-output", self.output_bytes, budget.output_bytes, &self.output_drivers),
        ];
        for (resource, flag, estimate, limit, drivers) in checks {
            if estimate > limit {
                let drivers = drivers.iter().take(3).cloned().collect();
                out.push(OverBudget { resource, flag, estimate, budget: limit, drivers });
            }
        }
        out
    }
}

impl fmt::Display for Estimate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "  instances: {} at the start, {} at most at once, {} over the run",
            self.instances_initial, self.instances_peak, self.instances_ever
        )?;
        writeln!(
            f,
            "  patches: {}; samples: {}; invocations: {}; cohort evaluations: {}",
            self.patches, self.samples, self.invocations, self.cohort_evaluations
        )?;
        writeln!(f, "  events: {}; work: {} units", self.events, self.work)?;
        write!(f, "  peak memory: {}; results: {}", fmt_bytes(self.memory_bytes), fmt_bytes(self.output_bytes))
    }
}

impl fmt::Display for OverBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (estimate, budget) = if self.resource == "work" {
            (format!("{} units", self.estimate), format!("{} units", self.budget))
        } else {
            (fmt_bytes(self.estimate), fmt_bytes(self.budget))
        };
        write!(f, "estimated {} {estimate} is over the budget of {budget} (raise it with {})", self.resource, self.flag)
    }
}

/// Bytes with a binary unit, e.g. `4.7 GiB`.
pub fn fmt_bytes(bytes: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} B") } else { format!("{value:.1} {}", units[unit]) }
}

fn fmt_count(value: f64) -> String {
    format!("{:.0}", value.min(1e30))
}

fn total(drivers: &[Driver]) -> u64 {
    // Saturating by design: a sum of finite figures, converted with `as` (which saturates).
    drivers.iter().map(|d| d.amount).sum::<f64>().min(u64::MAX as f64) as u64
}

/// Drivers with a positive amount, largest first (ties in file order).
fn ranked(mut drivers: Vec<Driver>) -> Vec<Driver> {
    drivers.retain(|d| d.amount > 0.0);
    drivers.sort_by(|a, b| b.amount.total_cmp(&a.amount));
    drivers
}

fn driver(path: impl Into<String>, what: impl Into<String>, amount: f64) -> Driver {
    Driver { path: path.into(), what: what.into(), amount }
}

/// Fires of `schedule` in `[from, until)`: counted one by one up to [`COUNTED_FIRES`], the
/// rest extrapolated from the time those covered.
pub(crate) fn fires(schedule: &WindowSchedule, from: SimTime, until: SimTime) -> f64 {
    let mut count = 0usize;
    let mut after = from.0.saturating_sub(1);
    while let Some(fire) = schedule.next_after(after) {
        if fire >= until.0 {
            return count as f64;
        }
        count += 1;
        after = fire;
        if count == COUNTED_FIRES {
            let covered = (fire as f64 - from.0 as f64).max(1.0);
            return count as f64 * (until.0 as f64 - from.0 as f64) / covered;
        }
    }
    count as f64
}

fn sample_count(scenario: &Scenario) -> u64 {
    let interval = scenario.sample_interval.0.max(1);
    // Every interval from the start, days 7 and 14, and the last sample at the stop.
    (scenario.horizon.0.max(0) as u64).div_ceil(interval as u64) + 3
}

fn weeks(duration: SimDuration) -> f64 {
    duration.0 as f64 / SimDuration::days(7).0 as f64
}

fn counts(scenario: &Scenario) -> Counts {
    let mut counts = Counts::default();
    catalog_counts(scenario, &mut counts);
    counts.group_peak = scenario.groups.iter().map(|g| g.count as f64).collect();
    for (index, asg) in scenario.auto_scaling_groups.iter().enumerate() {
        let path = format!("auto_scaling_group[{index}]");
        let peak = asg_peak(asg);
        if let Some(slot) = counts.group_peak.get_mut(asg.group) {
            *slot = peak;
        }
        let (launches, what) = asg_launches(scenario, asg, peak);
        let at = if asg.lifetime.is_some() { format!("{path}.lifetime") } else { path };
        counts.launches.push(driver(at, what, launches));
    }
    counts
}

/// Patches per catalog: explicit ones, and each stream's expected count.
fn catalog_counts(scenario: &Scenario, counts: &mut Counts) {
    let (start, end) = (scenario.start, scenario.end());
    for (c, catalog) in scenario.catalogs.iter().enumerate() {
        let mut patches = catalog.patches.len() as f64;
        let mut in_run = catalog.patches.iter().filter(|p| p.released > start && p.released < end).count() as f64;
        if let Some(generator) = &catalog.generator {
            let from = start - generator.backlog;
            for (s, stream) in generator.streams.iter().enumerate() {
                let path = format!("catalog[{c}].generator.stream[{s}]");
                let (expected, during, what, key) = match &stream.process {
                    crate::catalog::ReleaseProcess::Poisson { per_week } => {
                        let all = per_week * (end.0 as f64 - from.0 as f64) / SimDuration::days(7).0 as f64;
                        let during = per_week * weeks(scenario.horizon);
                        (all, during, format!("{per_week} a week"), "per_week")
                    }
                    crate::catalog::ReleaseProcess::Batches { schedule, per_release } => {
                        let batches = fires(schedule, from, end);
                        let during = fires(schedule, start, end) * per_release.mean();
                        (
                            batches * per_release.mean(),
                            during,
                            format!("{per_release} a batch at {batches:.0} batches"),
                            "per_release",
                        )
                    }
                };
                patches += expected;
                in_run += during;
                counts.generated.push((c, driver(format!("{path}.{key}"), what, expected)));
            }
        }
        counts.patches.push(patches);
        counts.released_in_run.push(in_run);
    }
}

/// The most instances an Auto Scaling group holds at once.
fn asg_peak(asg: &crate::fleet::AsgDef) -> f64 {
    let shaped = asg.desired as f64 * (1.0 + asg.demand_amplitude);
    let scheduled = asg.scheduled_actions.iter().map(|a| a.desired as f64).fold(0.0, f64::max);
    let max = asg.scheduled_actions.iter().filter_map(|a| a.max).fold(asg.max, u32::max) as f64;
    shaped.max(scheduled).min(max)
}

/// Launches of an Auto Scaling group over the run, and what causes them.
fn asg_launches(scenario: &Scenario, asg: &crate::fleet::AsgDef, peak: f64) -> (f64, String) {
    let (start, end) = (scenario.start, scenario.end());
    let days = scenario.horizon.0 as f64 / 86_400.0;
    let mut launches = asg.desired as f64;
    let mut what = Vec::new();
    if let Some(lifetime) = asg.lifetime {
        let replaced = peak * scenario.horizon.0 as f64 / lifetime.0.max(1) as f64;
        launches += replaced;
        what.push(format!("{replaced:.0} replacements of instances living {lifetime} on average"));
    }
    if asg.demand_amplitude > 0.0 {
        launches += 2.0 * asg.demand_amplitude * asg.desired as f64 * days;
    }
    for action in &asg.scheduled_actions {
        let swing = (action.desired as f64 - asg.desired as f64).abs();
        launches += swing * fires(&action.schedule, start, end);
    }
    if asg.refresh.is_some()
        && let Some(image) = scenario.images.get(asg.image)
        && let Some(every) = image.rebake_every
    {
        let bakes = scenario.horizon.0 as f64 / every.0.max(1) as f64;
        launches += peak * bakes;
        what.push(format!("instance refresh at {bakes:.0} bakes"));
    }
    (launches, what.join(", "))
}

/// Versions an image pipeline bakes from its first bake to the end of the run.
fn image_versions(scenario: &Scenario, image: &crate::fleet::ImageDef) -> f64 {
    let every = image.rebake_every.map_or(f64::INFINITY, |d| d.0.max(1) as f64);
    1.0 + ((scenario.end().0 as f64 - image.baked.0 as f64) / every).max(0.0).floor()
}

/// Instances a target list reaches at the peak: whole groups by tags, listed ids by count.
fn targets_of(scenario: &Scenario, counts: &Counts, targets: &[Target]) -> f64 {
    let mut reached = 0.0;
    let mut listed = 0usize;
    for (g, group) in scenario.groups.iter().enumerate() {
        let by_tags = targets.iter().any(|t| t.by_tags() && t.matches(&group.tags, String::new));
        if by_tags {
            reached += counts.group_peak.get(g).copied().unwrap_or(0.0);
        }
    }
    for target in targets {
        if let Target::InstanceIds(ids) = target {
            listed += ids.len();
        }
    }
    (reached + listed as f64).min(counts.group_peak.iter().sum())
}

/// Work as it is summed: its drivers, and the events, invocations and cohort evaluations.
struct WorkSum {
    drivers: Vec<Driver>,
    events: f64,
    invocations: f64,
    cohort: f64,
    /// Instances a pass over the fleet visits.
    fleet: f64,
}

impl WorkSum {
    fn add(&mut self, path: impl Into<String>, what: String, work: f64, events: f64) {
        self.drivers.push(driver(path, what, work));
        self.events += events;
    }
}

fn work(scenario: &Scenario, counts: &Counts, e: &mut Estimate) -> Vec<Driver> {
    // Passes over the fleet visit every instance created so far, terminated ones too: on
    // average the peak plus half of those launched beyond it.
    let peak: f64 = counts.group_peak.iter().sum();
    let fleet = peak + (e.instances_ever as f64 - peak).max(0.0) / 2.0;
    let mut sum = WorkSum { drivers: Vec::new(), events: 0.0, invocations: 0.0, cohort: 0.0, fleet };
    let samples = e.samples as f64;
    sum.add(
        "scenario.sample_interval",
        format!("{samples} samples over {fleet:.0} instances"),
        samples * (1.0 + fleet),
        samples,
    );
    operation_work(scenario, counts, &mut sum);
    background_work(scenario, counts, &mut sum);
    e.invocations = sum.invocations as u64;
    e.cohort_evaluations = sum.cohort as u64;
    // An invocation is one event, two with a download from a repository.
    let per_invocation = if scenario.network.repositories.is_empty() { 1.0 } else { 2.0 };
    e.events = (sum.events + sum.invocations * per_invocation) as u64;
    sum.drivers
}

/// Associations and windows: a tick resolves targets over the fleet, then scans them as a
/// cohort or dispatches an invocation to each.
fn operation_work(scenario: &Scenario, counts: &Counts, sum: &mut WorkSum) {
    let (start, end) = (scenario.start, scenario.end());
    let fleet = sum.fleet;
    for (index, association) in scenario.associations.iter().enumerate() {
        let at_creation = if association.wait_for_first_interval { 0.0 } else { 1.0 };
        let ticks = fires(&association.schedule, start, end) + at_creation;
        let targets = targets_of(scenario, counts, &association.targets);
        let cohort_scan = association.rate_control.is_none() && association.operation == Operation::Scan;
        let per_tick = if cohort_scan { targets } else { targets * INVOCATION_WORK };
        if cohort_scan {
            sum.cohort += ticks * targets;
        } else {
            sum.invocations += ticks * targets;
        }
        let what = format!("{} of {targets:.0} targets at {ticks:.0} ticks", association.operation.as_str());
        sum.add(format!("association[{index}]"), what, ticks * (1.0 + fleet + per_tick), ticks);
    }
    for (index, window) in scenario.windows.iter().enumerate().filter(|(_, w)| w.enabled) {
        let ticks = fires(&window.schedule, start, end);
        let mut per_tick = 0.0;
        for task in &window.tasks {
            let targets = targets_of(scenario, counts, task.targets.as_deref().unwrap_or(&window.targets));
            per_tick += fleet + targets * INVOCATION_WORK;
            sum.invocations += ticks * targets;
        }
        let what = format!("{} tasks at {ticks:.0} executions", window.tasks.len());
        sum.add(format!("maintenance_window[{index}]"), what, ticks * (1.0 + per_tick), ticks);
    }
}

/// Everything else: alarms, launches, releases and approvals, bakes, scaling, link failures.
fn background_work(scenario: &Scenario, counts: &Counts, sum: &mut WorkSum) {
    let (start, end) = (scenario.start, scenario.end());
    for (index, alarm) in scenario.alarms.iter().enumerate() {
        let evaluations = scenario.horizon.0 as f64 / alarm.period.0.max(1) as f64;
        let remediations = evaluations / alarm.evaluation_periods.max(1) as f64;
        let what = format!("{evaluations:.0} evaluations, up to {remediations:.0} remediations");
        let work = evaluations + remediations * (1.0 + sum.fleet);
        sum.add(format!("alarm[{index}]"), what, work, evaluations + remediations);
    }
    for launch in &counts.launches {
        sum.add(
            launch.path.clone(),
            format!("{:.0} launches", launch.amount),
            2.0 * launch.amount,
            2.0 * launch.amount,
        );
    }
    for (c, in_run) in counts.released_in_run.iter().enumerate() {
        let baselines = scenario.baselines.iter().filter(|b| b.os == scenario.catalogs[c].os).count() as f64;
        let approvals = in_run * baselines;
        let what = format!("{in_run:.0} releases during the run, {approvals:.0} approvals");
        sum.add(format!("catalog[{c}]"), what, in_run + approvals, in_run + approvals);
    }
    for (index, image) in scenario.images.iter().enumerate() {
        let bakes = image_versions(scenario, image);
        sum.add(format!("image[{index}].rebake_every"), format!("{bakes:.0} bakes"), bakes, bakes);
    }
    for (index, asg) in scenario.auto_scaling_groups.iter().enumerate() {
        let actions: f64 = asg.scheduled_actions.iter().map(|a| fires(&a.schedule, start, end)).sum();
        let hourly = if asg.demand_amplitude > 0.0 { scenario.horizon.0 as f64 / 3_600.0 } else { 0.0 };
        let what = format!("{actions:.0} scheduled actions, {hourly:.0} hourly re-evaluations");
        sum.add(format!("auto_scaling_group[{index}]"), what, actions + hourly, actions + hourly);
    }
    let links = link_intervals(scenario);
    sum.add("location", format!("{links:.0} link failures"), links, links);
}

/// Down intervals of every link over the run (random failures and partitions).
fn link_intervals(scenario: &Scenario) -> f64 {
    let destinations = scenario.network.destinations() as f64;
    let mut intervals = scenario.network.partitions.len() as f64;
    for location in &scenario.network.locations {
        if let Some((mtbf, mttr)) = location.random_failures {
            let cycle = (mtbf.0.max(1) + mttr.0.max(0)) as f64;
            intervals += destinations * scenario.horizon.0 as f64 / cycle;
        }
    }
    intervals
}

fn bitset_bytes(bits: f64) -> f64 {
    (bits / 64.0).ceil() * 8.0
}

fn memory(scenario: &Scenario, counts: &Counts, e: &Estimate) -> Vec<Driver> {
    let mut drivers = vec![driver("", "the process itself", BASE_BYTES)];
    let catalog_of_group =
        |g: usize| scenario.groups.get(g).and_then(|group| scenario.profiles.get(group.profile)).map(|p| p.catalog);
    let initial_groups = scenario.groups.len() - scenario.auto_scaling_groups.len();
    for (g, peak) in counts.group_peak.iter().enumerate() {
        let patches = catalog_of_group(g).map_or(0.0, |c| counts.patches[c]);
        let bytes = peak * (INSTANCE_BYTES + bitset_bytes(patches));
        let path = if g < initial_groups {
            format!("instance_group[{g}].count")
        } else {
            format!("auto_scaling_group[{}]", g - initial_groups)
        };
        drivers.push(driver(path, format!("{peak:.0} instances over {patches:.0} patches"), bytes));
    }
    let churned = (e.instances_ever as f64 - e.instances_peak as f64).max(0.0);
    if churned > 0.0 {
        drivers.push(driver(
            "auto_scaling_group",
            format!("{churned:.0} terminated instances"),
            churned * INSTANCE_BYTES,
        ));
    }
    for (c, patches) in counts.patches.iter().enumerate() {
        let os = scenario.catalogs[c].os;
        let baselines = scenario.baselines.iter().filter(|b| b.os == os).count() as f64;
        let profiles = scenario.profiles.iter().filter(|p| p.catalog == c).count() as f64;
        let bytes =
            patches * (PATCH_BYTES + baselines * APPROVAL_BYTES) + (baselines + profiles) * bitset_bytes(*patches);
        drivers.push(driver(format!("catalog[{c}]"), format!("{patches:.0} patches, {baselines} baselines"), bytes));
    }
    let groups = scenario.groups.len() as f64 + 1.0;
    drivers.push(driver(
        "scenario.sample_interval",
        format!("{} samples", e.samples),
        e.samples as f64 * groups * SAMPLE_BYTES,
    ));
    let executions = executions(scenario);
    let invocations_at_once = e.instances_peak as f64;
    drivers.push(driver(
        "maintenance_window",
        format!("{executions:.0} executions"),
        executions * EXECUTION_BYTES + invocations_at_once * INVOCATION_BYTES,
    ));
    drivers.push(driver("location", "link failures", link_intervals(scenario) * LINK_INTERVAL_BYTES));
    if let Some(first) =
        scenario.associations.iter().position(|a| a.rate_control.is_none() && a.operation == Operation::Scan)
    {
        // The memo of cohort-scan evaluations at its budget, and each chunk's during a pass.
        let chunks = (e.instances_peak as f64 / limits::COHORT_CHUNK as f64).ceil();
        let bytes = limits::SCAN_MEMO_BYTES as f64 + chunks * limits::CHUNK_MEMO_BYTES as f64;
        drivers.push(driver(format!("association[{first}]"), "the memo of cohort-scan evaluations", bytes));
    }
    let launches: f64 = counts.launches.iter().map(|d| d.amount).sum();
    for (index, image) in scenario.images.iter().enumerate() {
        let versions = image_versions(scenario, image);
        // Every version is kept; each one instances launch from caches a patch set per profile.
        let cached = versions.min(launches) * scenario.profiles.len() as f64;
        let patches = counts.patches.iter().copied().fold(0.0, f64::max);
        let bytes = versions * 8.0 + cached * (INSTANCE_BYTES + bitset_bytes(patches));
        drivers.push(driver(format!("image[{index}].rebake_every"), format!("{versions:.0} versions"), bytes));
    }
    drivers
}

/// Executions recorded: window ticks and ticks of rate-controlled or Install associations.
fn executions(scenario: &Scenario) -> f64 {
    let (start, end) = (scenario.start, scenario.end());
    let windows: f64 = scenario.windows.iter().map(|w| fires(&w.schedule, start, end) * w.tasks.len() as f64).sum();
    let associations: f64 = scenario
        .associations
        .iter()
        .filter(|a| a.rate_control.is_some() || a.operation != Operation::Scan)
        .map(|a| fires(&a.schedule, start, end) + 1.0)
        .sum();
    windows + associations
}

fn output(scenario: &Scenario, counts: &Counts, e: &Estimate) -> Vec<Driver> {
    let groups = scenario.groups.len() as f64 + 1.0;
    let metrics = crate::compliance::METRICS.len() as f64;
    let mut drivers = vec![
        driver(
            "instance_group",
            format!("{} instances", e.instances_peak),
            e.instances_peak as f64 * INSTANCE_LINE_BYTES,
        ),
        driver(
            "scenario.sample_interval",
            format!("{} samples", e.samples),
            e.samples as f64 * groups * metrics * COMPLIANCE_ROW_BYTES,
        ),
        driver("maintenance_window", "executions", executions(scenario) * EXECUTION_ROW_BYTES),
    ];
    for (c, patches) in counts.patches.iter().enumerate() {
        drivers.push(driver(format!("catalog[{c}]"), format!("{patches:.0} patches"), patches * PATCH_ROW_BYTES));
    }
    let report = REPORT_BASE_BYTES + groups * REPORT_GROUP_BYTES + scenario.windows.len() as f64 * REPORT_WINDOW_BYTES;
    drivers.push(driver("scenario", "summary.json and report.html", report));
    if scenario.output.invocations {
        let bytes = e.invocations as f64 * INVOCATION_ROW_BYTES;
        drivers.push(driver("output.invocations", format!("{} invocations", e.invocations), bytes));
    }
    if scenario.output.instance_patches.is_some() {
        // At most every instance, each listing at most every patch of its catalog.
        let patches = counts.patches.iter().copied().fold(0.0, f64::max);
        let bytes = e.instances_peak as f64 * patches * INSTANCE_PATCH_BYTES;
        drivers.push(driver("output.instance_patches", format!("up to {patches:.0} patches an instance"), bytes));
    }
    drivers
}
