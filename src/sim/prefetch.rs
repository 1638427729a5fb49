//! The state an invocation's next event touches, asked for ahead of it (see
//! `engine::prefetch`). At a million instances the fleet's state is many times the cache,
//! and the invocations finishing within one second belong to instances scattered over a
//! window's batch: each would otherwise wait on memory for its in-flight entry, its patch
//! sets, its report and its plan's patch lists in turn. Each hop of that chain is asked for
//! one event before it is needed: three events ahead, what the instance number alone
//! locates; two ahead, what those lines point to (the in-flight entry, the installed set);
//! one ahead, the plan's patch lists the entry points to.
//!
//! Passes that walk instances in order (a window's targets, a cohort scan, a sample) ask
//! the same way for the instances a fixed distance ahead: their patch-set headers, then the
//! sets themselves; a sample only for the instances whose counts it will have to bring up
//! to date. A window's dispatch also asks for the small per-instance arrays that starting
//! and planning an invocation read ([`DispatchState`]): each is one more line per target,
//! and on the 1,000,000-instance year these hints took the run from 60.5 to 58 s.

use super::{Event, Sim};
use crate::bitset::BitSet;
use crate::compliance::InstanceReport;
use crate::engine::{prefetch, prefetch_slice};
use crate::fleet::Instances;

/// Fleets from this many instances get the hints. Each instance holds about 500 bytes of
/// state (peak RSS over instances at 1,000,000: 468 to 560 B over the measurements in
/// results/baselines/), so from here the fleet is about 45 to 55 MiB, past the 32 MiB
/// last-level cache of the machine we measure on. Below it
/// the state stays in cache and the hints only cost instructions: on the default
/// scenario's 20,000 instances, 12.9% more under callgrind.
pub(super) const MIN_INSTANCES: usize = 100_000;

/// How far ahead an in-order pass asks for an instance's patch-set header; half as far,
/// for the set.
pub(super) const AHEAD: usize = 16;

/// A pass over `targets` in order is at `position`: asks for what it reads later, the
/// installed sets and the reports (`reports[i - base]` is instance `i`'s).
#[inline]
pub(super) fn prefetch_targets(
    installed: &[BitSet],
    reports: &[Option<InstanceReport>],
    base: usize,
    targets: &[u32],
    position: usize,
) {
    if let Some(&far) = targets.get(position + AHEAD) {
        prefetch(&installed[far as usize]);
        if let Some(report) = reports.get(far as usize - base) {
            prefetch(report);
        }
    }
    if let Some(&near) = targets.get(position + AHEAD / 2) {
        prefetch_slice(installed[near as usize].words());
    }
}

/// What a window's dispatch reads per instance besides its patch sets and report, each in
/// an array of its own: the package-manager lock, the generation, reachability, the
/// operation count, group and mix, the pending-reboot list and the in-flight slot.
pub(super) struct DispatchState<'a> {
    pub instances: &'a Instances,
    pub generation: &'a [u32],
    pub unreachable_until: &'a [crate::time::SimTime],
    pub inflight: &'a super::inflight::Inflight,
}

/// A window's pass over `targets` is at `position`: asks for the patch sets and reports
/// ahead ([`prefetch_targets`]) and the [`DispatchState`] of the target `AHEAD` on. Kept out
/// of line: inlined, it grew the dispatch loop that small fleets (which get no hints) run
/// too, and cost the default scenario 1.6% more instructions under callgrind.
#[inline(never)]
pub(super) fn prefetch_dispatch(state: &DispatchState<'_>, targets: &[u32], position: usize) {
    let instances = state.instances;
    prefetch_targets(&instances.installed, &instances.report, 0, targets, position);
    let Some(&far) = targets.get(position + AHEAD) else { return };
    let index = far as usize;
    if index >= instances.len() || index >= state.generation.len() || index >= state.unreachable_until.len() {
        return;
    }
    prefetch(&instances.busy[index]);
    prefetch(&instances.operations[index]);
    prefetch(&instances.group[index]);
    prefetch(&instances.mix[index]);
    prefetch(&instances.pending_reboot[index]);
    prefetch(&state.generation[index]);
    prefetch(&state.unreachable_until[index]);
    state.inflight.prefetch_slot(index);
}

/// Asks for instance `index`'s installed set: its header, or (`words`) the words it
/// points to.
#[inline]
pub(super) fn prefetch_installed(world: &Instances, index: usize, words: bool) {
    if let Some(set) = world.installed.get(index) {
        if words { prefetch_slice(set.words()) } else { prefetch(set) }
    }
}

impl Sim<'_> {
    pub(super) fn prefetch_event(&self, event: &Event, ahead: usize) {
        let instance = match *event {
            Event::InvocationDone { instance, .. } | Event::Delivery { instance, .. } => instance as usize,
            _ => return,
        };
        let instances = &self.world.instances;
        if instance >= instances.len() {
            return;
        }
        match ahead {
            3 => {
                self.inflight.prefetch_slot(instance);
                prefetch(&instances.installed[instance]);
                prefetch(&instances.report[instance]);
                prefetch(&instances.pending_reboot[instance]);
                prefetch(&instances.failed[instance]);
                prefetch(&instances.busy[instance]);
                prefetch(&instances.group[instance]);
                self.truth_cache.prefetch(instance);
                self.scan_cache.prefetch(instance);
            }
            2 => {
                self.inflight.prefetch_entry(instance);
                prefetch_slice(instances.installed[instance].words());
            }
            _ => {
                if let Some(plan) = self.inflight.get(instance as u32).and_then(|i| i.plan.as_ref()) {
                    prefetch_slice(&plan.newly_installed);
                    prefetch_slice(&plan.failed);
                }
                prefetch_slice(&instances.pending_reboot[instance]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Sim;

    /// The hints change nothing: a run with them and one without agree on every sample and
    /// every instance's report and patches.
    #[test]
    fn a_run_with_hints_is_the_run_without() {
        let mut text = crate::scenario::DEFAULT_SCENARIO.replace("horizon = \"30d\"", "horizon = \"10d\"");
        for count in [7000, 1500, 2500, 4000, 2000] {
            text = text.replace(&format!("count = {count}\n"), &format!("count = {}\n", count / 10));
        }
        let scenario = crate::scenario::load("default (small)", &text).unwrap();
        let run = |hints: bool| {
            let (mut sim, mut scheduler) = Sim::new(&scenario, 1).unwrap();
            sim.prefetch = hints;
            sim.run(&mut scheduler, |_, _| {});
            sim
        };
        let (with, without) = (run(true), run(false));
        assert!(with.prefetch && !without.prefetch);
        assert_eq!(with.samples, without.samples);
        assert_eq!(with.world.instances.report, without.world.instances.report);
        assert_eq!(with.world.instances.installed, without.world.instances.installed);
        assert!(with.world.instances.report.iter().filter(|r| r.is_some()).count() > 1_000);
    }
}
