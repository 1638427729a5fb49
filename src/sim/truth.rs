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
//!
//! Most chunks of 2,048 instances do not change at all between two samples: a window
//! installs on a few of them, and the baselines of the rest approved nothing. So each chunk
//! keeps its last sums ([`ChunkSums`]) with what they depend on beyond its instances' own
//! state: the epoch, its baselines' approvals, and whether any of its agents was cut off.
//! Any change to one of its instances that a sample counts (an operation applied, a launch,
//! a termination, an agent crash) marks the chunk, and a marked or outdated chunk is
//! visited again.

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

/// The sums of one chunk of instances at its last visit, per reporting group, and what
/// besides its instances' state they depend on.
#[derive(Clone, Default)]
struct ChunkSums {
    /// Cleared when an instance of the chunk changes in a way a sample counts.
    valid: bool,
    epoch: u32,
    /// The distinct groups and baselines of its running instances.
    groups: Vec<u16>,
    baselines: Vec<u16>,
    /// The approvals of those baselines (their log lengths, summed) that the sums include.
    approvals: u64,
    /// Some agent of the chunk was cut off: its ConnectionLost count depends on the instant.
    cut_off: bool,
    sums: Vec<(u64, u64, u64, u64)>,
}

/// Per instance, the patches it truly misses, with what the count includes.
pub struct TruthCache {
    /// The current epoch; never 0, which marks counts as unknown.
    epoch: u32,
    counted: Vec<Counted>,
    /// Per chunk of `COHORT_CHUNK` instances, its last sums.
    chunks: Vec<ChunkSums>,
    /// Per baseline, the patches it approved during the run, in order.
    approvals: Vec<Vec<u32>>,
    /// Tests: every sample counts every instance from nothing.
    #[cfg(test)]
    recount: bool,
}

impl TruthCache {
    pub fn new(instances: usize, baselines: usize) -> TruthCache {
        TruthCache {
            epoch: 1,
            counted: vec![Counted::default(); instances],
            chunks: vec![ChunkSums::default(); instances.div_ceil(COHORT_CHUNK)],
            approvals: vec![Vec::new(); baselines],
            #[cfg(test)]
            recount: false,
        }
    }

    /// A baseline approved a patch it had not approved before.
    pub fn approved(&mut self, baseline: u16, patch: u32) {
        self.approvals[baseline as usize].push(patch);
    }

    /// Patches `baseline` approved during the run so far.
    pub fn approvals(&self, baseline: u16) -> u32 {
        self.approvals[baseline as usize].len() as u32
    }

    /// Patches every baseline approved during the run so far, together.
    pub fn total_approvals(&self) -> u64 {
        self.approvals.iter().map(|log| log.len() as u64).sum()
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
            self.chunks.iter_mut().for_each(|chunk| chunk.valid = false);
            1
        });
    }

    /// The instance's own patch state changed: its counts are stale.
    pub fn forget(&mut self, instance: u32) {
        self.counted[instance as usize].epoch = 0;
        self.touch(instance);
    }

    /// Prefetch hint (see `engine::prefetch`): the instance's counts, which applying an
    /// operation forgets.
    #[inline]
    pub fn prefetch(&self, instance: usize) {
        if let Some(slot) = self.counted.get(instance) {
            crate::engine::prefetch(slot);
        }
    }

    /// The instance started or stopped running, or its agent was cut off: its chunk's sums
    /// are stale.
    pub fn touch(&mut self, instance: u32) {
        self.chunks[instance as usize / COHORT_CHUNK].valid = false;
    }

    /// A new instance, its counts unknown.
    pub fn push(&mut self) {
        self.counted.push(Counted::default());
        let chunk = (self.counted.len() - 1) / COHORT_CHUNK;
        if chunk == self.chunks.len() {
            self.chunks.push(ChunkSums::default());
        }
        self.chunks[chunk].valid = false;
    }

    /// The approvals of `baselines` so far, summed: logs only grow, so an equal sum means
    /// that none of them approved anything.
    fn approvals_of(&self, baselines: &[u16]) -> u64 {
        baselines.iter().map(|&b| self.approvals[b as usize].len() as u64).sum()
    }
}

impl Sim<'_> {
    /// Per reporting group: (truly compliant, truly non-compliant, patches truly missing,
    /// ConnectionLost instances), over running instances. Evaluated in fixed chunks of
    /// instance indices in parallel; integer sums make the merge order irrelevant. A chunk
    /// whose sums are still those of now is not visited; in the others, an instance's
    /// counts are brought up to date from [`TruthCache`] where they are known.
    pub(super) fn truth(&mut self, now: SimTime) -> Vec<(u64, u64, u64, u64)> {
        // Outages and links are per group: ask them once per group, not once per instance.
        let group_lost_since: Vec<Option<SimTime>> =
            (0..self.scenario.groups.len()).map(|group| self.group_unreachable_since(group, now)).collect();
        #[cfg(test)]
        if self.truth_cache.recount {
            self.truth_cache.counted.iter_mut().for_each(|slot| *slot = Counted::default());
            self.truth_cache.chunks.iter_mut().for_each(|chunk| chunk.valid = false);
        }
        // Out of `self` while the pass reads the rest of it; put back below.
        let mut cache = std::mem::take(&mut self.truth_cache.counted);
        let mut chunks = std::mem::take(&mut self.truth_cache.chunks);
        let sim: &Sim = self;
        cache.par_chunks_mut(COHORT_CHUNK).zip(chunks.par_iter_mut()).enumerate().for_each(
            |(chunk, (cached, sums))| {
                if !sim.chunk_is_current(sums, &group_lost_since) {
                    sim.count_chunk(chunk * COHORT_CHUNK, cached, sums, &group_lost_since, now);
                }
            },
        );
        self.truth_cache.counted = cache;
        let mut total = vec![(0u64, 0u64, 0u64, 0u64); self.world.report_groups.len()];
        for chunk in &chunks {
            for (t, p) in total.iter_mut().zip(&chunk.sums) {
                *t = (t.0 + p.0, t.1 + p.1, t.2 + p.2, t.3 + p.3);
            }
        }
        self.truth_cache.chunks = chunks;
        total
    }

    /// Whether a chunk's sums are those a visit now would give: nothing of its instances
    /// changed, same epoch, no approval by its baselines, and no agent of it cut off then
    /// or now.
    fn chunk_is_current(&self, sums: &ChunkSums, group_lost_since: &[Option<SimTime>]) -> bool {
        sums.valid
            && sums.epoch == self.truth_cache.epoch
            && !sums.cut_off
            && sums.groups.iter().all(|&g| group_lost_since[g as usize].is_none())
            && sums.approvals == self.truth_cache.approvals_of(&sums.baselines)
    }

    /// Visits one chunk's running instances (the first is `first`) and stores its sums.
    fn count_chunk(
        &self,
        first: usize,
        cached: &mut [Counted],
        chunk: &mut ChunkSums,
        group_lost_since: &[Option<SimTime>],
        now: SimTime,
    ) {
        let (epoch, lost_after) = (self.truth_cache.epoch, self.scenario.agent.connection_lost_after);
        chunk.sums.clear();
        chunk.sums.resize(self.world.report_groups.len(), (0, 0, 0, 0));
        chunk.groups.clear();
        chunk.baselines.clear();
        chunk.cut_off = false;
        for offset in 0..cached.len() {
            let index = first + offset;
            if self.prefetch {
                self.prefetch_stale(cached, first, offset, epoch);
            }
            if !self.world.instances.running[index] {
                continue;
            }
            let slot = &mut cached[offset];
            self.bring_up_to_date(index, slot, epoch);
            let missing = u64::from(slot.missing) + u64::from(slot.pending);
            let group = self.world.instances.group[index];
            if chunk.groups.last() != Some(&group) {
                chunk.groups.push(group);
            }
            let sum = &mut chunk.sums[self.world.groups[group as usize].report_group as usize];
            if missing == 0 {
                sum.0 += 1;
            } else {
                sum.1 += 1;
            }
            sum.2 += missing;
            let mut since = group_lost_since[group as usize];
            if self.unreachable_until[index] > now {
                let own = self.unreachable_since[index];
                since = Some(since.map_or(own, |s| s.min(own)));
            }
            chunk.cut_off |= since.is_some();
            if since.is_some_and(|s| now.since(s) >= lost_after) {
                sum.3 += 1;
            }
        }
        // Groups come in runs; a chunk of groups of one instance each still costs one sort.
        chunk.groups.sort_unstable();
        chunk.groups.dedup();
        chunk.baselines.extend(chunk.groups.iter().map(|&g| self.world.groups[g as usize].baseline));
        chunk.baselines.sort_unstable();
        chunk.baselines.dedup();
        chunk.approvals = self.truth_cache.approvals_of(&chunk.baselines);
        chunk.epoch = epoch;
        chunk.valid = true;
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

#[cfg(test)]
mod tests {
    use crate::sim::Sim;

    /// Every sample of a run against the same run whose samples count every instance from
    /// nothing.
    fn samples_match_a_recount(name: &str, text: &str) {
        let scenario = crate::scenario::load(name, text).unwrap();
        let run = |recount: bool| {
            let (mut sim, mut scheduler) = Sim::new(&scenario, 3).unwrap();
            sim.truth_cache.recount = recount;
            sim.run(&mut scheduler, |_, _| {});
            sim.samples
        };
        let (cached, recounted) = (run(false), run(true));
        assert!(cached.len() > 20, "{name}: {} samples", cached.len());
        for ((at, counters), (_, expected)) in cached.iter().zip(&recounted) {
            assert_eq!(counters, expected, "{name} at {}", at.to_rfc3339());
        }
        assert_eq!(cached.len(), recounted.len());
    }

    /// az-partition with faults: crashes and failed reboots cut agents off one at a time,
    /// and a group launched and terminated during the run changes what runs.
    fn partition_with_faults() -> String {
        let partition = include_str!("../../scenarios/az-partition.toml")
            .replace(
                "location = \"use1-az2\"\n",
                "location = \"use1-az2\"\nagent_crash_probability = 0.3\nagent_restart = \"6h\"\nreboot_failure_probability = 0.05\n",
            )
            .replace(
                "location = \"dc-frankfurt\"\n",
                "location = \"dc-frankfurt\"\nlaunch_at = 2026-11-11T05:00:00Z\nterminate_at = 2026-11-19T05:00:00Z\n",
            );
        assert!(partition.contains("agent_crash_probability") && partition.contains("terminate_at"));
        partition
    }

    #[test]
    fn sums_kept_per_chunk_are_a_recount_at_every_sample() {
        samples_match_a_recount("az-partition (faults)", &partition_with_faults());
        samples_match_a_recount("asg-churn", include_str!("../../scenarios/asg-churn.toml"));
    }

    /// A crash between two samples, with nothing else changing in its chunk, is counted
    /// as ConnectionLost by the second.
    #[test]
    fn an_agent_cut_off_alone_is_counted() {
        let scenario = crate::scenario::load("az-partition (faults)", &partition_with_faults()).unwrap();
        let (mut sim, mut scheduler) = Sim::new(&scenario, 3).unwrap();
        sim.run(&mut scheduler, |_, _| {});
        let (now, lost_after) = (sim.end, scenario.agent.connection_lost_after);
        let before = sim.truth(now);
        let later = now + lost_after;
        let crash_prone = scenario.groups.iter().position(|g| g.faults.agent_crash_probability > 0.0).unwrap();
        let members: Vec<u32> = (0..sim.world.instances.len() as u32)
            .filter(|&i| sim.world.instances.group[i as usize] as usize == crash_prone)
            .collect();
        let instance = members
            .into_iter()
            .find(|&i| {
                sim.world.instances.running[i as usize]
                    && sim.unreachable_until[i as usize] <= now
                    && (1..64).any(|generation| sim.agent_crashed(i, generation, now))
                    && sim.unreachable_until[i as usize] > later
            })
            .expect("some agent crashes for longer than the ConnectionLost delay");
        let cached = sim.truth(later);
        sim.truth_cache.recount = true;
        assert_eq!(cached, sim.truth(later), "after instance {instance} crashed");
        let lost = |sums: &[(u64, u64, u64, u64)]| sums.iter().map(|s| s.3).sum::<u64>();
        assert!(lost(&cached) > lost(&before), "{before:?} then {cached:?}");
    }
}
