//! The patching model driven by the engine: one closed [`Event`] enum, dispatched in one
//! `match` in [`Sim::handle`]. Handlers change the world and schedule further events.
//!
//! Cohorts: a scan association's tick is one event, whatever the number of targets. Its
//! targets are evaluated in parallel in fixed-size chunks and the reports are applied in
//! instance order, so results do not depend on the number of threads.

mod agent;
mod asg;
mod delivery;
pub mod downloads;
mod inflight;
mod prefetch;
mod records;
mod rescan;
mod scan_memo;
mod spread;
mod truth;
mod windows;
pub mod world;

use hdrhistogram::Histogram;

use crate::compliance::{GroupCounters, InstanceReport};
use crate::engine::{Model, RunLimits, RunOutcome, Scheduler, run};
use crate::metrics::{CoreMetrics, now_ns};
use crate::scenario::Scenario;
use crate::time::{SimDuration, SimTime};
use crate::window::Target;

pub use agent::PendingOperation;
pub use asg::{AsgSample, AsgState};
pub use downloads::{DownloadLog, DownloadRequest};
pub use records::{ExecutionRecord, InvocationRecord};
pub use rescan::ScanCache;
pub use spread::{GroupSpread, PatchSpread, SPREAD_LEVELS};
pub use truth::TruthCache;
pub use windows::{Execution, Executions, Owner};
pub use world::World;

/// Everything that happens in a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A patch is published in its catalog's repository.
    Release { catalog: u16, patch: u32 },
    /// A patch becomes approved under a baseline.
    Approve { baseline: u16, patch: u32 },
    /// A scan association fires: its targets are scanned as one cohort.
    AssociationTick { association: u16 },
    /// A maintenance window's schedule fires: an execution starts.
    WindowTick { window: u16 },
    /// An invocation finished on an instance. `generation` tells a stale event (of an
    /// invocation cancelled at a cutoff) from the current one.
    InvocationDone { execution: u32, task: u16, instance: u32, generation: u32 },
    /// A command waiting for an unreachable agent: the agent is back, or the deadline came.
    Delivery { execution: u32, task: u16, instance: u32, generation: u32 },
    /// The cutoff of an execution that has CANCEL_TASK tasks.
    Cutoff { execution: u32 },
    /// An instance group is launched: its instances join the fleet.
    Launch { group: u16 },
    /// An instance group is terminated: its instances leave the fleet.
    Terminate { group: u16 },
    /// A repository's next download completion (stale if `version` is not current).
    Repository { repository: u16, version: u64 },
    /// A location's link to a repository goes down: downloads across it fail.
    LinkCut { location: u16, destination: u16 },
    /// An Auto Scaling group brings its running count to its desired capacity.
    AsgReconcile { asg: u16 },
    /// A scheduled scaling action fires.
    AsgAction { asg: u16, action: u16 },
    /// An Auto Scaling instance's lifetime ends.
    InstanceExpire { instance: u32 },
    /// A golden-image pipeline baked a new version.
    ImageBaked { image: u16 },
    /// The next batch of an instance refresh.
    RefreshStep { asg: u16 },
    /// An alarm evaluates its metric at the end of a period.
    AlarmEvaluate { alarm: u16 },
    /// An alarm's action runs its remediation.
    Remediate { alarm: u16 },
    /// Compliance counters are sampled.
    Sample,
}

/// How far a patch has spread over the instances it applies to.
#[derive(Clone, Copy, Debug, Default)]
pub struct PatchProgress {
    pub installed: u32,
    /// When 50%, 90% and 100% of applicable instances first had it.
    pub reached: [Option<SimTime>; 3],
}

pub const PROGRESS_THRESHOLDS: [u32; 3] = [50, 90, 100];

/// An alarm's state and what it did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AlarmState {
    /// Consecutive periods above the threshold.
    pub breaches: u32,
    /// In ALARM (its action ran on entering it).
    pub in_alarm: bool,
    /// Times it went from OK to ALARM.
    pub fired: u64,
    /// Remediations run, and instances they targeted.
    pub remediations: u64,
    pub remediated_instances: u64,
    /// Patches its remediations installed: exposures they closed.
    pub patches_installed: u64,
}

/// A repository's load at one sample; the rows of `repository.csv`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RepositorySample {
    pub time: String,
    pub repository: String,
    pub active_downloads: u32,
    pub queued_downloads: u32,
    /// Mean throughput since the previous sample.
    pub throughput_mbps: f64,
    pub delivered_gb: f64,
}

/// The model.
pub struct Sim<'s> {
    pub scenario: &'s Scenario,
    pub seed: u64,
    pub world: World,
    pub end: SimTime,
    /// Current counters per reporting group.
    pub counters: Vec<GroupCounters>,
    /// Snapshots of the counters: (instant, per reporting group).
    pub samples: Vec<(SimTime, Vec<GroupCounters>)>,
    /// Exposure (release to effective installation) per reporting group, in seconds.
    pub exposure: Vec<Histogram<u64>>,
    /// Pairs still exposed at the end, per reporting group (counted into `exposure` at
    /// the horizon by [`Sim::finish`]).
    pub exposed_at_end: Vec<u64>,
    pub progress: Vec<Vec<PatchProgress>>,
    /// Per patch group, how far each patch has spread (time-to-X% metrics).
    pub spread: GroupSpread,
    pub executions: Executions,
    /// The invocation occupying each instance, if any.
    pub inflight: inflight::Inflight,
    /// Per instance, a counter of invocations started, to recognise stale events.
    pub generation: Vec<u32>,
    /// Links between locations and destinations, down intervals precomputed.
    pub links: crate::network::Links,
    /// Per instance: unreachable (crashed agent, failed reboot) until this instant, and since.
    pub unreachable_until: Vec<SimTime>,
    pub unreachable_since: Vec<SimTime>,
    /// The repository (index into `repositories`) serving each catalog, if any.
    pub repository_of_catalog: Vec<Option<usize>>,
    pub repositories: Vec<crate::network::repository::Repository>,
    /// Per repository: download latency in seconds, from the request (when the download
    /// should have started) to its end, so queueing is included (no coordinated omission).
    pub download_latency: Vec<Histogram<u64>>,
    /// Per repository: the most downloads active and queued at once.
    pub repository_peaks: Vec<(u32, u32)>,
    /// Repository load at each sample.
    pub repository_samples: Vec<RepositorySample>,
    pub asgs: Vec<AsgState>,
    /// Per Auto Scaling group: the hourly demand re-evaluation already scheduled.
    pub asg_hourly: Vec<SimTime>,
    pub asg_samples: Vec<AsgSample>,
    /// Per image: bake instant of each version.
    pub image_bakes: Vec<Vec<SimTime>>,
    pub alarms: Vec<AlarmState>,
    /// Patch sets of (image, version, profile, mix) already computed.
    pub image_cache: Vec<((usize, u32, usize, u16), crate::bitset::BitSet)>,
    pub metrics: CoreMetrics,
    /// The truth a sample counts, kept between samples (see [`TruthCache`]).
    pub truth_cache: TruthCache,
    /// Under which inputs each instance's report was scanned (see [`ScanCache`]).
    pub scan_cache: ScanCache,
    /// Evaluations that cohort scans share across instances of one patch state.
    scan_memo: scan_memo::ScanMemo,
    /// Buffers an Install's planning reuses.
    pub plan_scratch: agent::PlanScratch,
    /// The fleet is large enough for prefetch hints to pay (see `prefetch.rs`).
    pub prefetch: bool,
    /// Every repository download, when recording is on (`run::run_recording_downloads`).
    pub download_log: Option<DownloadLog>,
}

use crate::limits::COHORT_CHUNK;

pub fn exposure_histogram() -> Histogram<u64> {
    // One second to twenty years, three significant figures.
    Histogram::new_with_bounds(1, 20 * 366 * 86_400, 3).expect("static bounds are valid")
}

impl<'s> Sim<'s> {
    pub fn new(scenario: &'s Scenario, seed: u64) -> Result<(Sim<'s>, Scheduler<Event>), String> {
        let build_start = now_ns();
        let world = World::build(scenario, seed)?;
        let groups = world.report_groups.len();
        let mut counters = vec![GroupCounters::default(); groups];
        for (index, group) in world.groups.iter().enumerate() {
            if scenario.groups[index].launch_at > scenario.start {
                continue;
            }
            let counter = &mut counters[group.report_group as usize];
            counter.instances += group.members.len() as u64;
            counter.unreported += group.members.len() as u64;
        }
        let progress = world
            .catalogs
            .iter()
            .enumerate()
            .map(|(c, catalog)| {
                (0..catalog.len())
                    .map(|p| {
                        let mut progress =
                            PatchProgress { installed: world.initially_installed[c][p], reached: [None; 3] };
                        check_thresholds(&mut progress, world.applicable_instances[c][p], scenario.start);
                        progress
                    })
                    .collect()
            })
            .collect();
        let instances = world.instances.len();
        let spread = GroupSpread::build(&world, scenario.start, scenario.end());
        let mut sim = Sim {
            scenario,
            seed,
            end: scenario.end(),
            counters,
            samples: Vec::new(),
            exposure: (0..groups).map(|_| exposure_histogram()).collect(),
            exposed_at_end: vec![0; groups],
            progress,
            spread,
            executions: Executions {
                current_window: vec![None; scenario.windows.len()],
                current_association: vec![None; scenario.associations.len()],
                invocation_log: scenario.output.invocations.then(Vec::new),
                ..Executions::default()
            },
            inflight: inflight::Inflight::new(instances),
            generation: vec![0; instances],
            links: crate::network::Links::build(&scenario.network, seed, scenario.start, scenario.end()),
            unreachable_until: vec![scenario.start; instances],
            unreachable_since: vec![scenario.start; instances],
            repository_of_catalog: scenario.catalogs.iter().map(|c| scenario.network.repository_for(c.os)).collect(),
            repositories: scenario
                .network
                .repositories
                .iter()
                .map(|r| crate::network::repository::Repository::new(r.bandwidth_mbps, r.max_connections))
                .collect(),
            download_latency: scenario.network.repositories.iter().map(|_| exposure_histogram()).collect(),
            repository_peaks: vec![(0, 0); scenario.network.repositories.len()],
            repository_samples: Vec::new(),
            asgs: Vec::new(),
            asg_hourly: vec![scenario.start; scenario.auto_scaling_groups.len()],
            asg_samples: Vec::new(),
            image_bakes: Vec::new(),
            alarms: vec![AlarmState::default(); scenario.alarms.len()],
            image_cache: Vec::new(),
            metrics: CoreMetrics::default(),
            truth_cache: TruthCache::new(instances, world.baselines.len()),
            scan_cache: ScanCache::new(instances),
            scan_memo: scan_memo::ScanMemo::default(),
            plan_scratch: agent::PlanScratch::new(world.catalogs.iter().map(|c| c.len())),
            prefetch: instances >= prefetch::MIN_INSTANCES,
            download_log: None,
            world,
        };
        let mut scheduler = Scheduler::new(scenario.start);
        sim.image_bakes = (0..scenario.images.len()).map(|i| sim.image_versions(i)).collect();
        // Auto Scaling groups first: their launches at the start come before the first sample.
        sim.schedule_asgs(&mut scheduler);
        sim.schedule_initial(&mut scheduler);
        sim.metrics.build_ns = now_ns() - build_start;
        Ok((sim, scheduler))
    }

    fn schedule_initial(&mut self, scheduler: &mut Scheduler<Event>) {
        let start = self.scenario.start;
        // Samples at every interval from the start.
        let mut t = start;
        while t < self.end {
            scheduler.schedule(t, Event::Sample);
            t = t + self.scenario.sample_interval;
        }
        // Cuts of links to repositories: downloads across them fail.
        for (at, location, destination) in self.links.cuts() {
            if destination != crate::network::SSM && at > start && at < self.end {
                scheduler.schedule(at, Event::LinkCut { location: location as u16, destination: destination as u16 });
            }
        }
        for (index, alarm) in self.scenario.alarms.iter().enumerate() {
            scheduler.schedule(start + alarm.period, Event::AlarmEvaluate { alarm: index as u16 });
        }
        // Launches and terminations during the run.
        for (index, group) in self.scenario.groups.iter().enumerate() {
            if group.launch_at > start {
                scheduler.schedule(group.launch_at, Event::Launch { group: index as u16 });
            }
            if let Some(at) = group.terminate_at
                && at < self.end
            {
                scheduler.schedule(at, Event::Terminate { group: index as u16 });
            }
        }
        // Releases during the run (releases before the start are in the initial state).
        for (c, catalog) in self.world.catalogs.iter().enumerate() {
            for (p, patch) in catalog.patches.iter().enumerate() {
                if patch.released > start && patch.released < self.end {
                    scheduler.schedule(patch.released, Event::Release { catalog: c as u16, patch: p as u32 });
                }
            }
        }
        // Approvals that happen during the run.
        for (b, baseline) in self.world.baselines.iter().enumerate() {
            for (p, approval) in baseline.approvals.iter().enumerate() {
                if let Some(at) = approval.at
                    && at > start
                    && at < self.end
                {
                    scheduler.schedule(at, Event::Approve { baseline: b as u16, patch: p as u32 });
                }
            }
        }
        for (index, association) in self.scenario.associations.iter().enumerate() {
            // Without "wait until the first cron interval" an association also runs when it
            // is created: the start of the scenario.
            let first = if association.wait_for_first_interval {
                association.schedule.next_after(start.0 - 1).map(SimTime)
            } else {
                Some(start)
            };
            if let Some(at) = first
                && at < self.end
            {
                scheduler.schedule(at, Event::AssociationTick { association: index as u16 });
            }
        }
        for (index, window) in self.scenario.windows.iter().enumerate() {
            if !window.enabled {
                continue;
            }
            if let Some(at) = window.schedule.next_after(start.0 - 1)
                && at < self.end.0
            {
                scheduler.schedule(SimTime(at), Event::WindowTick { window: index as u16 });
            }
        }
    }

    /// Runs to the horizon, the event limit or the default work budget.
    pub fn run(&mut self, scheduler: &mut Scheduler<Event>, observe: impl FnMut(SimTime, u64)) -> RunOutcome {
        self.run_with(scheduler, crate::limits::DEFAULT_MAX_WORK, observe)
    }

    /// Runs to the horizon, the event limit or `max_work` units of work (events plus the
    /// instances they visit).
    pub fn run_with(
        &mut self,
        scheduler: &mut Scheduler<Event>,
        max_work: u64,
        observe: impl FnMut(SimTime, u64),
    ) -> RunOutcome {
        let limits = RunLimits { horizon: self.end, max_events: self.scenario.max_events, max_work };
        let run_start = now_ns();
        let outcome = run(self, scheduler, limits, 4_096, observe);
        self.metrics.run_ns = now_ns() - run_start;
        self.finish(outcome.stopped_at);
        outcome
    }

    /// Closes the run at `at`: a last sample, and the pairs still exposed counted at `at`.
    fn finish(&mut self, at: SimTime) {
        if self.samples.last().is_none_or(|(t, _)| *t != at) {
            let counters = self.snapshot(at);
            self.samples.push((at, counters));
        }
        let instances = &self.world.instances;
        for group in &self.world.groups {
            let catalog = &self.world.catalogs[group.catalog];
            let ever = &self.world.approved_before_end[group.baseline as usize];
            let histogram = &mut self.exposure[group.report_group as usize];
            let open = &mut self.exposed_at_end[group.report_group as usize];
            for &instance in &group.members {
                if !instances.running[instance as usize] {
                    // Gone (or never launched): it leaves the exposure statistics.
                    continue;
                }
                let installed = &instances.installed[instance as usize];
                let applicable = self.world.applicable(instance);
                crate::bitset::for_each_and_and_not(ever, applicable, installed, |w, word| {
                    for patch in crate::bitset::bits_of(w, word) {
                        let released = catalog.patches[patch].released;
                        if released < at {
                            histogram.saturating_record(at.since(released).0 as u64);
                            *open += 1;
                        }
                    }
                });
                for &patch in &instances.pending_reboot[instance as usize] {
                    let p = &catalog.patches[patch as usize];
                    if p.reboot_required && ever.contains(patch as usize) {
                        histogram.saturating_record(at.since(p.released).0.max(0) as u64);
                        *open += 1;
                    }
                }
            }
        }
    }

    /// Instances matched by any of `targets`, in instance order. Resolved when called, so
    /// each execution sees the fleet as it is then.
    pub fn resolve_targets(&self, targets: &[Target]) -> Vec<u32> {
        let mut out = Vec::new();
        let running = &self.world.instances.running;
        for (index, group) in self.world.groups.iter().enumerate() {
            let tags = &self.scenario.groups[index].tags;
            let no_id = || String::new();
            if targets.iter().any(|t| t.by_tags() && t.matches(tags, no_id)) {
                out.extend(group.members.iter().copied().filter(|&i| running[i as usize]));
                continue;
            }
            // Instance-id targets are checked instance by instance.
            for t in targets.iter().filter(|t| !t.by_tags()) {
                for &instance in &group.members {
                    if running[instance as usize]
                        && t.matches(tags, || crate::fleet::instance_id(instance))
                        && !out.contains(&instance)
                    {
                        out.push(instance);
                    }
                }
            }
        }
        // Groups' members come in index order, so the list is usually sorted already.
        if !out.is_sorted_by(|a, b| a < b) {
            out.sort_unstable();
            out.dedup();
        }
        out
    }

    /// Replaces an instance's report and keeps the group counters in step.
    pub fn set_report(&mut self, instance: u32, report: InstanceReport) {
        self.scan_cache.forget(instance);
        let group = self.world.instances.group[instance as usize] as usize;
        let report_group = self.world.groups[group].report_group as usize;
        let slot = &mut self.world.instances.report[instance as usize];
        let counters = &mut self.counters[report_group];
        counters.apply(slot.as_ref(), -1);
        counters.apply(Some(&report), 1);
        *slot = Some(report);
    }

    /// An alarm looks at its metric (as reported) at the end of a period: OK to ALARM after
    /// `evaluation_periods` breaches in a row, which schedules its remediation; back to OK
    /// when the metric is at or below the threshold.
    fn alarm_evaluate(&mut self, now: SimTime, alarm: u16, scheduler: &mut Scheduler<Event>) {
        let def = &self.scenario.alarms[alarm as usize];
        let value = self
            .world
            .report_groups
            .iter()
            .position(|g| *g == def.patch_group)
            .map_or(0, |group| self.counters[group].values()[def.metric]);
        let state = &mut self.alarms[alarm as usize];
        if value > def.threshold {
            state.breaches += 1;
        } else {
            state.breaches = 0;
            state.in_alarm = false;
        }
        if !state.in_alarm && state.breaches >= def.evaluation_periods {
            state.in_alarm = true;
            state.fired += 1;
            scheduler.schedule(now + def.delay, Event::Remediate { alarm });
        }
        scheduler.schedule(now + def.period, Event::AlarmEvaluate { alarm });
    }

    /// Snapshots the counters, with the truth and ConnectionLost counted now.
    fn sample(&mut self, now: SimTime) {
        let previous = self.samples.last().map(|(t, _)| *t);
        for (index, repository) in self.repositories.iter_mut().enumerate() {
            let delivered = repository.delivered_megabits();
            let before: f64 = self
                .repository_samples
                .iter()
                .rev()
                .find(|r| r.repository == self.scenario.network.repositories[index].name)
                .map_or(0.0, |r| r.delivered_gb * 8_000.0);
            let seconds = previous.map_or(0, |p| now.since(p).0).max(1) as f64;
            self.repository_samples.push(RepositorySample {
                time: now.to_rfc3339(),
                repository: self.scenario.network.repositories[index].name.clone(),
                active_downloads: repository.active(),
                queued_downloads: repository.queued(),
                // `+ 0.0` turns a rounded -0.0 into 0.0.
                throughput_mbps: ((delivered - before) / seconds * 1_000.0).round() / 1_000.0 + 0.0,
                delivered_gb: (delivered / 8_000.0 * 1e6).round() / 1e6,
            });
        }
        let counters = self.snapshot(now);
        self.samples.push((now, counters));
    }

    /// The counters now, with the truth and ConnectionLost filled in.
    fn snapshot(&mut self, now: SimTime) -> Vec<GroupCounters> {
        let mut counters = self.counters.clone();
        for (group, truth) in counters.iter_mut().zip(self.truth(now)) {
            (group.true_compliant, group.true_non_compliant, group.true_missing_patches, group.connection_lost) = truth;
        }
        counters
    }

    /// Whether a command can reach the instance's agent at `t`: the group is not in an
    /// outage, its location's link to the SSM endpoint is up, and the agent itself is up.
    pub(crate) fn reachable(&self, instance: u32, t: SimTime) -> bool {
        self.group_reachable(self.world.instances.group[instance as usize] as usize, t)
            && self.unreachable_until[instance as usize] <= t
    }

    /// Whether the network lets commands reach a group's agents at `t`: no outage of the
    /// group, and its location's link to the SSM endpoint up.
    pub(crate) fn group_reachable(&self, group: usize, t: SimTime) -> bool {
        let def = &self.scenario.groups[group];
        def.online(t) && self.links.up(def.location, crate::network::SSM, t)
    }

    /// The instances of `targets` whose agents a command can reach at `t`, in order; the
    /// groups' outages and links are asked once per group.
    pub(crate) fn reachable_of(&self, mut targets: Vec<u32>, t: SimTime) -> Vec<u32> {
        let group_up: Vec<bool> = (0..self.scenario.groups.len()).map(|group| self.group_reachable(group, t)).collect();
        let instances = &self.world.instances;
        targets.retain(|&i| group_up[instances.group[i as usize] as usize] && self.unreachable_until[i as usize] <= t);
        targets
    }

    /// The first instant at or after `t` when the agent can be reached, if there is one.
    pub(crate) fn reachable_again(&self, instance: u32, t: SimTime) -> Option<SimTime> {
        let group = &self.scenario.groups[self.world.instances.group[instance as usize] as usize];
        let mut at = t;
        // Each round moves past one obstacle; they are finitely many, and the bound keeps
        // the loop finite whatever the input.
        for _ in 0..1_024 {
            if self.reachable(instance, at) {
                return Some(at);
            }
            let next = [
                group.back_online(at),
                self.links.back(group.location, crate::network::SSM, at),
                Some(self.unreachable_until[instance as usize]).filter(|u| *u > at),
            ]
            .into_iter()
            .flatten()
            .max()?;
            at = next;
        }
        None
    }

    /// Whether the agent turns out to have crashed when a command arrives; if so it is
    /// unreachable for an exponential restart time.
    pub(crate) fn agent_crashed(&mut self, instance: u32, generation: u32, now: SimTime) -> bool {
        let faults = self.scenario.groups[self.world.instances.group[instance as usize] as usize].faults;
        if faults.agent_crash_probability <= 0.0 {
            return false;
        }
        let entity = ((instance as u64) << 32) ^ ((generation as u64) << 8) ^ (now.0 as u64).rotate_left(40);
        let mut rng = crate::rng::Stream::new(self.seed, entity, crate::rng::Purpose::InstanceFaults);
        if !rng.chance(faults.agent_crash_probability) {
            return false;
        }
        let restart = rng.exponential(faults.agent_restart.0 as f64).ceil().max(1.0) as i64;
        self.unreachable_since[instance as usize] = now;
        self.unreachable_until[instance as usize] = now + SimDuration(restart);
        self.truth_cache.touch(instance);
        true
    }

    /// Instances join the fleet. Associations that do not wait for their first interval
    /// apply to them at once (State Manager does this for new matching instances); windows
    /// see them at their next execution.
    fn launch(&mut self, now: SimTime, group: usize, scheduler: &mut Scheduler<Event>) {
        let built = &self.world.groups[group];
        let (launched, report_group) = (built.members.clone(), built.report_group as usize);
        for &instance in &launched {
            self.world.instances.running[instance as usize] = true;
            self.truth_cache.touch(instance);
        }
        self.counters[report_group].instances += launched.len() as u64;
        self.counters[report_group].unreported += launched.len() as u64;
        self.apply_to_new_instances(now, group, &launched, scheduler);
    }

    /// Associations that do not wait for their first interval apply to new instances at
    /// once (State Manager does this for new matching instances).
    pub(crate) fn apply_to_new_instances(
        &mut self,
        now: SimTime,
        group: usize,
        launched: &[u32],
        scheduler: &mut Scheduler<Event>,
    ) {
        // New instances are matched one by one against the targets: resolving the targets
        // over the whole fleet at every launch would cost a fleet scan per launch.
        let tags = &self.scenario.groups[group].tags;
        for (index, association) in self.scenario.associations.iter().enumerate() {
            if association.wait_for_first_interval {
                continue;
            }
            let matching: Vec<u32> = launched
                .iter()
                .copied()
                .filter(|&i| association.targets.iter().any(|t| t.matches(tags, || crate::fleet::instance_id(i))))
                .collect();
            if matching.is_empty() {
                continue;
            }
            if association.rate_control.is_none() && association.operation == crate::compliance::Operation::Scan {
                let reachable = self.reachable_of(matching, now);
                scheduler.charge(reachable.len() as u64);
                self.scan_cohort(now, &reachable, &association.baselines);
            } else {
                self.execution_over(Owner::Association(index as u16), now, matching, scheduler);
            }
        }
    }

    /// Adds a running instance to `group` with these patches installed; returns its index.
    pub(crate) fn push_instance(
        &mut self,
        group: usize,
        mix: u16,
        installed: crate::bitset::BitSet,
        now: SimTime,
    ) -> u32 {
        let instance = self.world.instances.push(group as u16, mix, installed, true);
        self.inflight.push_instance();
        self.truth_cache.push();
        self.scan_cache.push();
        self.generation.push(0);
        self.unreachable_until.push(now);
        self.unreachable_since.push(now);
        let built = &mut self.world.groups[group];
        built.members.push(instance);
        let report_group = built.report_group as usize;
        if self.scenario.output.lists_patches_of(&self.world.report_groups[report_group]) {
            self.world.listed.insert(instance, world::Listed { since: now, installed_at: Vec::new() });
        }
        self.counters[report_group].instances += 1;
        self.counters[report_group].unreported += 1;
        instance
    }

    /// One instance leaves the fleet.
    pub(crate) fn terminate_instance(&mut self, now: SimTime, instance: u32, scheduler: &mut Scheduler<Event>) {
        let index = instance as usize;
        if !self.world.instances.running[index] {
            return;
        }
        self.world.instances.running[index] = false;
        self.truth_cache.touch(instance);
        let report_group = self.world.groups[self.world.instances.group[index] as usize].report_group as usize;
        let counters = &mut self.counters[report_group];
        counters.apply(self.world.instances.report[index].as_ref(), -1);
        counters.instances -= 1;
        self.terminate_invocation(now, instance, scheduler);
        // Nothing reads a terminated instance's patch state again: give its memory back.
        let instances = &mut self.world.instances;
        instances.installed[index] = crate::bitset::BitSet::default();
        instances.failed[index] = Vec::new();
        instances.pending_reboot[index] = Vec::new();
    }

    /// Instances leave the fleet: their reports leave the counters, and a command running
    /// or waiting on them ends undeliverable.
    fn terminate(&mut self, now: SimTime, group: usize, scheduler: &mut Scheduler<Event>) {
        let members = self.world.groups[group].members.clone();
        for instance in members {
            self.terminate_instance(now, instance, scheduler);
        }
    }

    /// A patch is published. On Windows, the updates it supersedes leave the catalog: they
    /// are no longer applicable anywhere (they show as NOT_APPLICABLE if approved).
    fn release(&mut self, catalog: usize, patch: usize) {
        self.world.released[catalog].insert(patch);
        let windows = self.world.catalogs[catalog].os.family() == crate::catalog::Family::Windows;
        if !windows {
            return;
        }
        self.scan_cache.new_epoch();
        let superseded = self.world.catalogs[catalog].patches[patch].supersedes.clone();
        if !superseded.is_empty() {
            self.truth_cache.new_epoch();
        }
        for profile in self.world.profiles.iter_mut().filter(|p| p.catalog == catalog) {
            for mix in &mut profile.mixes {
                superseded.iter().for_each(|&older| mix.remove(older as usize));
            }
        }
    }

    /// The baseline the instances of `group` are evaluated against: the operation's own
    /// baseline for their operating system if it carries one (a patch policy), else their
    /// patch group's.
    pub(crate) fn group_baseline(&self, group: u16, overrides: &[usize]) -> u16 {
        let group = &self.world.groups[group as usize];
        let os = self.world.catalogs[group.catalog].os;
        overrides.iter().find(|&&b| self.scenario.baselines[b].os == os).map_or(group.baseline, |&b| b as u16)
    }
}

fn check_thresholds(progress: &mut PatchProgress, applicable: u32, now: SimTime) {
    if applicable == 0 {
        return;
    }
    for (slot, percent) in progress.reached.iter_mut().zip(PROGRESS_THRESHOLDS) {
        if slot.is_none() && progress.installed as u64 * 100 >= percent as u64 * applicable as u64 {
            *slot = Some(now);
        }
    }
}

impl Model for Sim<'_> {
    type Event = Event;

    fn prefetch(&self, event: &Event, ahead: usize) {
        self.prefetch_event(event, ahead);
    }

    fn wants_prefetch(&self) -> bool {
        self.prefetch
    }

    fn handle(&mut self, now: SimTime, event: Event, scheduler: &mut Scheduler<Event>) {
        match event {
            Event::Release { catalog, patch } => self.release(catalog as usize, patch as usize),
            Event::Approve { baseline, patch } => {
                let compiled = &mut self.world.baselines[baseline as usize];
                if !compiled.approved.contains(patch as usize) {
                    compiled.approve(patch as usize);
                    self.truth_cache.approved(baseline, patch);
                }
            }
            Event::AssociationTick { association } => {
                let def = &self.scenario.associations[association as usize];
                // Resolving the targets visits the fleet; a cohort scan, each target too.
                scheduler.charge(self.world.instances.len() as u64);
                if def.rate_control.is_none() && def.operation == crate::compliance::Operation::Scan {
                    // Every target at once: one cohort, one event. Agents that cannot be
                    // reached are not scanned this time.
                    let targets = self.reachable_of(self.resolve_targets(&def.targets), now);
                    scheduler.charge(targets.len() as u64);
                    self.scan_cohort(now, &targets, &def.baselines);
                } else {
                    self.association_execution(now, association, scheduler);
                }
                // The next tick is scheduled even beyond the horizon: the engine stops there,
                // and a run that covers its horizon says so.
                if let Some(next) = def.schedule.next_after(now.0) {
                    scheduler.schedule(SimTime(next), Event::AssociationTick { association });
                }
            }
            Event::WindowTick { window } => {
                // An execution resolves its targets over the fleet.
                scheduler.charge(self.world.instances.len() as u64);
                self.window_tick(now, window, scheduler);
                let def = &self.scenario.windows[window as usize];
                if let Some(next) = def.schedule.next_after(now.0) {
                    scheduler.schedule(SimTime(next), Event::WindowTick { window });
                }
            }
            Event::InvocationDone { execution, task, instance, generation } => {
                self.invocation_done(now, execution, task, instance, generation, scheduler);
            }
            Event::Delivery { execution, task, instance, generation } => {
                self.delivery(now, execution, task, instance, generation, scheduler);
            }
            Event::Cutoff { execution } => self.cutoff(now, execution, scheduler),
            Event::Launch { group } => self.launch(now, group as usize, scheduler),
            Event::Terminate { group } => self.terminate(now, group as usize, scheduler),
            Event::Sample => {
                // A sample counts the truth over the fleet.
                scheduler.charge(self.world.instances.len() as u64);
                // Bring every repository's fluid model up to now, so the sample sees what
                // was delivered until this instant.
                for r in 0..self.repositories.len() {
                    let version = self.repositories[r].version();
                    self.repository_tick(now, r, version, false, scheduler);
                }
                self.sample_asgs(now);
                self.sample(now);
                if self.threshold_given_up() {
                    scheduler.stop(crate::engine::StopReason::ThresholdFailed);
                }
            }
            Event::AlarmEvaluate { alarm } => self.alarm_evaluate(now, alarm, scheduler),
            Event::Remediate { alarm } => {
                let def = &self.scenario.alarms[alarm as usize];
                let group = self.world.report_groups.iter().position(|g| *g == def.patch_group);
                scheduler.charge(self.world.instances.len() as u64);
                let targets: Vec<u32> = (0..self.world.instances.len() as u32)
                    .filter(|&i| {
                        let index = i as usize;
                        let instances = &self.world.instances;
                        instances.running[index]
                            && Some(self.world.groups[instances.group[index] as usize].report_group as usize) == group
                            && instances.report[index].is_some_and(|r| !r.is_compliant())
                    })
                    .collect();
                let state = &mut self.alarms[alarm as usize];
                state.remediations += 1;
                state.remediated_instances += targets.len() as u64;
                self.execution_over(Owner::Alarm(alarm), now, targets, scheduler);
            }
            Event::AsgReconcile { asg } => self.asg_reconcile(now, asg as usize, scheduler),
            Event::AsgAction { asg, action } => self.asg_action(now, asg as usize, action as usize, scheduler),
            Event::InstanceExpire { instance } => self.instance_expire(now, instance, scheduler),
            Event::ImageBaked { image } => self.image_baked(now, image as usize, scheduler),
            Event::RefreshStep { asg } => self.refresh_step(now, asg as usize, scheduler),
            Event::Repository { repository, version } => {
                self.repository_tick(now, repository as usize, version, true, scheduler)
            }
            Event::LinkCut { location, destination } => {
                self.link_cut(now, location as usize, destination as usize, scheduler)
            }
        }
    }
}
