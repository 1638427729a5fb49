//! How far each patch has spread over one patch group's instances: the data behind the
//! time-to-50/90/95/100% metrics of the reports.
//!
//! Per (patch group, catalog, patch): the instances it applies to, how many have it
//! installed (as the installing operation reports it, pending reboot included) and how many
//! have it in effect (installed, and rebooted if it needs a reboot), and when each count
//! first reached each level. Only patches released during the run and approved for a member
//! of the group before the end are eligible; the others are never measured.

use super::World;
use crate::time::SimTime;

/// The levels measured, in percent of the applicable instances.
pub const SPREAD_LEVELS: [u32; 4] = [50, 90, 95, 100];

/// One patch within one patch group.
#[derive(Clone, Copy, Debug, Default)]
pub struct PatchSpread {
    pub applicable: u32,
    pub installed: u32,
    pub effective: u32,
    /// When `installed` first reached each of [`SPREAD_LEVELS`].
    pub installed_at: [Option<SimTime>; 4],
    /// When `effective` first reached each of [`SPREAD_LEVELS`].
    pub effective_at: [Option<SimTime>; 4],
}

/// Per patch group, per catalog, per patch; catalogs a group does not use are empty.
#[derive(Clone, Debug, Default)]
pub struct GroupSpread {
    pub groups: Vec<Vec<Vec<PatchSpread>>>,
}

impl GroupSpread {
    /// Counts applicable instances of eligible patches; the rest stay at zero applicable
    /// and are never measured.
    pub fn build(world: &World, start: SimTime, end: SimTime) -> GroupSpread {
        let catalogs = world.catalogs.len();
        let mut groups = vec![vec![Vec::new(); catalogs]; world.report_groups.len()];
        for group in &world.groups {
            let catalog = &world.catalogs[group.catalog];
            let ever = &world.approved_before_end[group.baseline as usize];
            let spread: &mut Vec<PatchSpread> = &mut groups[group.report_group as usize][group.catalog];
            if spread.is_empty() {
                spread.resize(catalog.len(), PatchSpread::default());
            }
            // Members per package mix: each mix's patches apply to its members.
            let mixes = &world.profiles[group.profile].mixes;
            let mut members = vec![0u32; mixes.len()];
            for &instance in &group.members {
                members[world.instances.mix[instance as usize] as usize] += 1;
            }
            for (mix, applicable) in mixes.iter().enumerate().filter(|(m, _)| members[*m] > 0) {
                for patch in applicable.iter() {
                    let released = catalog.patches[patch].released;
                    if ever.contains(patch) && released >= start && released < end {
                        spread[patch].applicable += members[mix];
                    }
                }
            }
        }
        GroupSpread { groups }
    }

    /// One more instance of `group` has `patch` installed.
    pub fn installed(&mut self, group: usize, catalog: usize, patch: usize, now: SimTime) {
        if let Some(spread) = self.groups[group][catalog].get_mut(patch) {
            spread.installed += 1;
            reach(spread.installed, spread.applicable, &mut spread.installed_at, now);
        }
    }

    /// One more instance of `group` has `patch` in effect.
    pub fn effective(&mut self, group: usize, catalog: usize, patch: usize, now: SimTime) {
        if let Some(spread) = self.groups[group][catalog].get_mut(patch) {
            spread.effective += 1;
            reach(spread.effective, spread.applicable, &mut spread.effective_at, now);
        }
    }
}

fn reach(count: u32, applicable: u32, at: &mut [Option<SimTime>; 4], now: SimTime) {
    if applicable == 0 {
        return;
    }
    for (slot, percent) in at.iter_mut().zip(SPREAD_LEVELS) {
        if slot.is_none() && count as u64 * 100 >= percent as u64 * applicable as u64 {
            *slot = Some(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_reached_in_order_and_once() {
        let mut at = [None; 4];
        reach(1, 20, &mut at, SimTime(10));
        assert_eq!(at, [None; 4]);
        reach(10, 20, &mut at, SimTime(20));
        assert_eq!(at, [Some(SimTime(20)), None, None, None]);
        reach(19, 20, &mut at, SimTime(30));
        assert_eq!(at, [Some(SimTime(20)), Some(SimTime(30)), Some(SimTime(30)), None]);
        reach(20, 20, &mut at, SimTime(40));
        reach(20, 20, &mut at, SimTime(50));
        assert_eq!(at, [Some(SimTime(20)), Some(SimTime(30)), Some(SimTime(30)), Some(SimTime(40))]);
    }

    #[test]
    fn a_patch_without_applicable_instances_never_reaches_a_level() {
        let mut at = [None; 4];
        reach(5, 0, &mut at, SimTime(10));
        assert_eq!(at, [None; 4]);
    }
}
