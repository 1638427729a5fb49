//! The truth a sample counts: per reporting group, the instances that truly miss approved
//! applicable patches (or wait for a reboot they need), whatever they reported, and the
//! ConnectionLost agents.
//!
//! A sample visits every running instance, four times a day in the shipped scenarios, while
//! what an instance truly misses changes only in three ways: its own patches change (an
//! operation is applied), its baseline approves a patch, or a Windows release supersedes
//! updates out of the mixes. [`TruthCache`] keeps each instance's two counts (approved
//! patches missing, patches waiting for a reboot they need) and how many of its baseline's
//! approvals they include. An applied operation forgets its instance's counts; an approval
//! is logged per baseline, and the next sample adds it to each cached count with one bit
//! test of the mix and one of the installed set instead of a pass over both; a superseding
//! release starts a new epoch, in which every count is recomputed. The figures are those of
//! recomputing every count at every sample; only the work differs.

use rayon::prelude::*;

use super::{COHORT_CHUNK, Sim};
use crate::time::SimTime;

/// One instance's counts, valid in `epoch` (0: unknown).
#[derive(Clone, Copy, Default)]
struct Counted {
    epoch: u32,
    /// Approvals of the instance's baseline (a prefix of its log) that `missing` includes.
    seen: u32,
    /// Approved applicable patches not installed.
    missing: u32,
    /// Patches installed and waiting for a reboot they need.
    pending: u32,
}

/// Per instance, the patches it truly misses, with what the count includes.
pub struct TruthCache {
    /// The current epoch; never 0, which marks counts as unknown.
    epoch: u32,
    counted: Vec<Counted>,
    /// Per baseline, the patches it approved during the run, in order.
    approvals: Vec<Vec<u32>>,
}

impl TruthCache {
    pub fn new(instances: usize, baselines: usize) -> TruthCache {
        TruthCache { epoch: 1, counted: vec![Counted::default(); instances], approvals: vec![Vec::new(); baselines] }
    }

    /// A baseline approved a patch it had not approved before.
    pub fn approved(&mut self, baseline: u16, patch: u32) {
        self.approvals[baseline as usize].push(patch);
    }

    /// Patches `baseline` approved during the run so far.
    pub fn approvals(&self, baseline: u16) -> u32 {
        self.approvals[baseline as usize].len() as u32
    }

    /// Per baseline, the patches it approved during the run so far.
    pub fn log_lengths(&self) -> Vec<u32> {
        self.approvals.iter().map(|log| log.len() as u32).collect()
    }

    /// The mixes changed: every count is stale.
    pub fn new_epoch(&mut self) {
        self.epoch = self.epoch.checked_add(1).unwrap_or_else(|| {
            // After four billion epochs, start again with every count unknown.
            self.counted.iter_mut().for_each(|slot| *slot = Counted::default());
            1
        });
    }

    /// The instance's own patch state changed: its counts are stale.
    pub fn forget(&mut self, instance: u32) {
        self.counted[instance as usize].epoch = 0;
    }

    /// A new instance, its counts unknown.
    pub fn push(&mut self) {
        self.counted.push(Counted::default());
    }
}

impl Sim<'_> {
    /// Per reporting group: (truly compliant, truly non-compliant, patches truly missing,
    /// ConnectionLost instances), over running instances. Evaluated in fixed chunks of
    /// instance indices in parallel; integer sums make the merge order irrelevant. An
    /// instance's counts are brought up to date from [`TruthCache`] where they are known.
    pub(super) fn truth(&mut self, now: SimTime) -> Vec<(u64, u64, u64, u64)> {
        let lost_after = self.scenario.agent.connection_lost_after;
        // Outages and links are per group: ask them once per group, not once per instance.
        let group_lost_since: Vec<Option<SimTime>> =
            (0..self.scenario.groups.len()).map(|group| self.group_unreachable_since(group, now)).collect();
        let epoch = self.truth_cache.epoch;
        // Out of `self` while the pass reads the rest of it; put back below.
        let mut cache = std::mem::take(&mut self.truth_cache.counted);
        let sim: &Sim = self;
        let partials: Vec<Vec<(u64, u64, u64, u64)>> = cache
            .par_chunks_mut(COHORT_CHUNK)
            .enumerate()
            .map(|(chunk, cached)| {
                let first = chunk * COHORT_CHUNK;
                let mut sums = vec![(0u64, 0u64, 0u64, 0u64); sim.world.report_groups.len()];
                for offset in 0..cached.len() {
                    let index = first + offset;
                    if sim.prefetch {
                        sim.prefetch_stale(cached, first, offset, epoch);
                    }
                    if !sim.world.instances.running[index] {
                        continue;
                    }
                    let slot = &mut cached[offset];
                    sim.bring_up_to_date(index, slot, epoch);
                    let missing = u64::from(slot.missing) + u64::from(slot.pending);
                    let group = sim.world.instances.group[index] as usize;
                    let sum = &mut sums[sim.world.groups[group].report_group as usize];
                    if missing == 0 {
                        sum.0 += 1;
                    } else {
                        sum.1 += 1;
                    }
                    sum.2 += missing;
                    let mut since = group_lost_since[group];
                    if sim.unreachable_until[index] > now {
                        let own = sim.unreachable_since[index];
                        since = Some(since.map_or(own, |s| s.min(own)));
                    }
                    if since.is_some_and(|s| now.since(s) >= lost_after) {
                        sum.3 += 1;
                    }
                }
                sums
            })
            .collect();
        self.truth_cache.counted = cache;
        let mut total = vec![(0u64, 0u64, 0u64, 0u64); self.world.report_groups.len()];
        for partial in partials {
            for (t, p) in total.iter_mut().zip(partial) {
                *t = (t.0 + p.0, t.1 + p.1, t.2 + p.2, t.3 + p.3);
            }
        }
        total
    }

    /// Prefetch hints for a sample at `offset` of the chunk starting at instance `first`:
    /// the installed sets of the instances ahead whose counts are stale, the only ones the
    /// sample reads them for.
    fn prefetch_stale(&self, cached: &[Counted], first: usize, offset: usize, epoch: u32) {
        use super::prefetch::{AHEAD, prefetch_installed};
        let instances = &self.world.instances;
        let stale = |at: usize| cached.get(at).is_some_and(|slot| !self.is_current(first + at, slot, epoch));
        if stale(offset + AHEAD) {
            prefetch_installed(instances, first + offset + AHEAD, false);
        }
        if stale(offset + AHEAD / 2) {
            prefetch_installed(instances, first + offset + AHEAD / 2, true);
        }
    }

    /// Whether instance `index`'s counts are those of now: counted in this epoch and with
    /// every approval of its baseline so far.
    fn is_current(&self, index: usize, slot: &Counted, epoch: u32) -> bool {
        let group = &self.world.groups[self.world.instances.group[index] as usize];
        slot.epoch == epoch && slot.seen == self.truth_cache.approvals(group.baseline)
    }

    /// Makes an instance's counts those of now: recounted when unknown or of an earlier
    /// epoch, else extended by its baseline's approvals since they were counted.
    fn bring_up_to_date(&self, index: usize, slot: &mut Counted, epoch: u32) {
        if self.is_current(index, slot, epoch) {
            // Nothing approved since and the patches unchanged: most visits end here.
            return;
        }
        let instances = &self.world.instances;
        let group = &self.world.groups[instances.group[index] as usize];
        let log = &self.truth_cache.approvals[group.baseline as usize];
        let applicable = self.world.applicable(index as u32);
        let installed = &instances.installed[index];
        if slot.epoch != epoch {
            let reboot_required = &self.world.reboot_required[group.catalog];
            let mut missing = 0u32;
            let approved = &self.world.baselines[group.baseline as usize].approved;
            crate::bitset::for_each_and_and_not(approved, applicable, installed, |_, word| {
                missing += word.count_ones()
            });
            let pending = instances.pending_reboot[index].iter().filter(|&&p| reboot_required.contains(p as usize));
            *slot = Counted { epoch, seen: log.len() as u32, missing, pending: pending.count() as u32 };
            return;
        }
        for &patch in &log[slot.seen as usize..] {
            let patch = patch as usize;
            if applicable.contains(patch) && !installed.contains(patch) {
                slot.missing += 1;
            }
        }
        slot.seen = log.len() as u32;
    }

    /// Since when a group's agents have been cut off at `now` by an outage of the group or
    /// its location's link to the SSM endpoint, if they are.
    fn group_unreachable_since(&self, group: usize, now: SimTime) -> Option<SimTime> {
        let def = &self.scenario.groups[group];
        let outage = if def.online(now) {
            None
        } else {
            def.outages.iter().find(|(from, to)| *from <= now && now < *to).map(|(from, _)| *from)
        };
        let link = self.links.down_since(def.location, crate::network::SSM, now);
        match (outage, link) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}
