//! The fleet: image/role profiles, instance groups, and per-instance patch state stored as
//! a struct of arrays indexed by instance id.

use std::collections::BTreeMap;

use crate::bitset::BitSet;
use crate::compliance::InstanceReport;
use crate::time::{SimDuration, SimTime};

/// A validated image/role profile.
#[derive(Clone, Debug)]
pub struct ProfileDef {
    pub name: String,
    /// Index of the catalog of the profile's operating system.
    pub catalog: usize,
    pub package_share: f64,
    pub packages: Vec<String>,
    /// Number of package mixes (1 to [`MAX_MIXES`]).
    pub mixes: u32,
}

/// Package mixes per profile unless the scenario says otherwise: enough that instances of
/// a profile differ the way real servers do, few enough that their applicable sets are
/// shared (a mix's bitset serves every instance that carries it).
pub const DEFAULT_MIXES: u32 = 16;
pub const MAX_MIXES: u32 = 1_024;

/// The mix an instance carries: its own keyed draw, independent of every other instance.
pub fn mix_of(seed: u64, instance: u32, mixes: u32) -> u16 {
    let unit = crate::rng::keyed_unit(seed, instance as u64, crate::rng::Purpose::PackageMix);
    ((unit * mixes as f64) as u32).min(mixes - 1) as u16
}

/// A validated instance group.
#[derive(Clone, Debug)]
pub struct GroupDef {
    pub name: String,
    pub count: u32,
    pub profile: usize,
    pub tags: BTreeMap<String, String>,
    pub initial_lag: SimDuration,
    pub initial_lag_spread: SimDuration,
    pub install_failure_probability: f64,
    /// Periods `[start, end)` when the group's agents cannot be reached, sorted.
    pub outages: Vec<(SimTime, SimTime)>,
    /// When the instances join the fleet (at or after the start) ...
    pub launch_at: SimTime,
    /// ... and when they leave it, if they do.
    pub terminate_at: Option<SimTime>,
    /// Index of the `[[location]]` the instances run in; `None`: always connected.
    pub location: Option<usize>,
    pub faults: Faults,
}

/// Instance faults, with the probabilities and durations the scenario sets.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Faults {
    pub agent_crash_probability: f64,
    pub agent_restart: SimDuration,
    pub slow_reboot_probability: f64,
    pub slow_reboot_extra: SimDuration,
    pub reboot_failure_probability: f64,
    pub reboot_recovery: SimDuration,
}

impl GroupDef {
    /// Whether the agents are reachable at `at`.
    pub fn online(&self, at: SimTime) -> bool {
        !self.outages.iter().any(|(start, end)| *start <= at && at < *end)
    }

    /// When the agents are reachable again, if they are not at `at`.
    pub fn back_online(&self, at: SimTime) -> Option<SimTime> {
        let mut back = None;
        let mut t = at;
        // Outages are sorted; adjacent or overlapping ones chain.
        for (start, end) in &self.outages {
            if *start <= t && t < *end {
                t = *end;
                back = Some(*end);
            }
        }
        back
    }
}

/// The reporting group of instances without a `Patch Group` (or `PatchGroup`) tag.
pub const NO_PATCH_GROUP: &str = "(none)";

/// The patch group of a set of tags.
///
/// Decision (AWS does not document it): when both `Patch Group` and `PatchGroup` are
/// present, `Patch Group` wins, as the original and still documented-first key.
pub fn patch_group_of(tags: &BTreeMap<String, String>) -> Option<&str> {
    tags.get("Patch Group").or_else(|| tags.get("PatchGroup")).map(String::as_str)
}

/// An EC2-style instance id (`i-` and 17 hex digits), derived from the index alone so that
/// it is stable across runs and seeds.
pub fn instance_id(index: u32) -> String {
    // SplitMix64 is a bijection, so distinct indices give distinct ids.
    format!("i-0{:016x}", crate::rng::splitmix64(index as u64))
}

/// Per-instance state, one entry per instance in every vector.
#[derive(Default)]
pub struct Instances {
    /// Instance group of each instance; instances of a group are contiguous.
    pub group: Vec<u16>,
    /// The package mix of its profile that each instance carries.
    pub mix: Vec<u16>,
    /// Patches present on the instance, whoever installed them.
    pub installed: Vec<BitSet>,
    /// Patches whose last install attempt failed.
    pub failed: Vec<Vec<u32>>,
    /// Patches installed by a NoReboot Install and not followed by a reboot yet.
    pub pending_reboot: Vec<Vec<u32>>,
    /// The last Scan or Install report, if any.
    pub report: Vec<Option<InstanceReport>>,
    /// Number of operations started on the instance; keys its random streams.
    pub operations: Vec<u32>,
    /// An Install or Scan invocation is running on the instance.
    pub busy: Vec<bool>,
    /// Launched and not terminated: part of the fleet now.
    pub running: Vec<bool>,
}

impl Instances {
    /// Adds an instance of `group` with these patches installed, nothing failed or pending,
    /// and no report yet; returns its index.
    pub fn push(&mut self, group: u16, mix: u16, installed: BitSet, running: bool) -> u32 {
        let instance = self.len() as u32;
        self.group.push(group);
        self.mix.push(mix);
        self.installed.push(installed);
        self.failed.push(Vec::new());
        self.pending_reboot.push(Vec::new());
        self.report.push(None);
        self.operations.push(0);
        self.busy.push(false);
        self.running.push(running);
        instance
    }

    pub fn len(&self) -> usize {
        self.group.len()
    }
    pub fn is_empty(&self) -> bool {
        self.group.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_group_key_with_a_space_wins_over_the_metadata_form() {
        let mut tags = BTreeMap::new();
        tags.insert("PatchGroup".to_string(), "b".to_string());
        assert_eq!(patch_group_of(&tags), Some("b"));
        tags.insert("Patch Group".to_string(), "a".to_string());
        assert_eq!(patch_group_of(&tags), Some("a"));
        tags.clear();
        tags.insert("patch group".to_string(), "c".to_string());
        assert_eq!(patch_group_of(&tags), None, "tag keys are case-sensitive");
    }

    #[test]
    fn instance_ids_look_like_ec2_ids_and_are_distinct() {
        let ids: std::collections::BTreeSet<String> = (0..10_000).map(instance_id).collect();
        assert_eq!(ids.len(), 10_000);
        let id = instance_id(0);
        assert_eq!(id.len(), 19);
        assert!(id.starts_with("i-0") && id[2..].bytes().all(|b| b.is_ascii_hexdigit()));
    }
}

/// A validated machine image.
#[derive(Clone, Debug)]
pub struct ImageDef {
    pub name: String,
    pub baked: SimTime,
    /// A golden-image pipeline: a new version this often after `baked`.
    pub rebake_every: Option<SimDuration>,
    /// The pipeline's baseline (index into the scenario's baselines).
    pub baseline: Option<usize>,
}

/// Which instances an Auto Scaling group terminates first when it scales in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TerminationPolicy {
    OldestInstance,
    NewestInstance,
    /// The oldest image version first, then the oldest instance.
    OldestLaunchTemplate,
}

impl TerminationPolicy {
    pub fn parse(text: &str) -> Result<TerminationPolicy, String> {
        match text {
            "OldestInstance" => Ok(TerminationPolicy::OldestInstance),
            "NewestInstance" => Ok(TerminationPolicy::NewestInstance),
            "OldestLaunchTemplate" => Ok(TerminationPolicy::OldestLaunchTemplate),
            _ => Err(format!(
                "unknown termination policy `{text}`; expected OldestInstance, NewestInstance or OldestLaunchTemplate"
            )),
        }
    }
}

/// A scheduled scaling action.
#[derive(Clone, Debug)]
pub struct ScheduledActionDef {
    pub schedule: crate::schedule::WindowSchedule,
    pub desired: u32,
    pub min: Option<u32>,
    pub max: Option<u32>,
}

/// A validated Auto Scaling group. Its instances belong to scenario group `group`.
#[derive(Clone, Debug)]
pub struct AsgDef {
    pub name: String,
    pub group: usize,
    pub image: usize,
    pub min: u32,
    pub max: u32,
    pub desired: u32,
    pub lifetime: Option<SimDuration>,
    pub demand_amplitude: f64,
    pub demand_peak_hour: u32,
    pub termination_policy: TerminationPolicy,
    pub scheduled_actions: Vec<ScheduledActionDef>,
    /// Instance refresh: (MinHealthyPercentage, warm-up).
    pub refresh: Option<(u32, SimDuration)>,
}
