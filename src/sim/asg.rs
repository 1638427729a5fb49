//! Auto Scaling groups: desired capacity from the group's settings, scheduled actions and a
//! diurnal demand pattern; instance lifetimes; termination policies; launches from a
//! machine image carrying the patch level of its bake; golden-image pipelines; and instance
//! refresh as the immutable alternative to patching in place.
//!
//! Decisions:
//! - Capacity changes take effect at once: a launch or termination happens at the instant
//!   the desired capacity changes (no launch latency), so the running count equals the
//!   desired capacity after every change, and both stay within [min, max].
//! - A launched instance's installed patches are exactly its image's: everything
//!   applicable released by the image's first bake, plus, for a pipeline's later versions,
//!   everything applicable its baseline approved by that version's bake.
//! - Instance refresh (when the image gets a new version) replaces instances of older
//!   versions in batches of `running - ceil(MinHealthyPercentage x desired)` (at least 1),
//!   oldest first: each batch is terminated and replaced at once, and the next batch waits
//!   for the warm-up.

use super::{Event, Sim};
use crate::bitset::BitSet;
use crate::engine::Scheduler;
use crate::fleet::TerminationPolicy;
use crate::rng::Purpose;
use crate::time::{SimDuration, SimTime};

/// One running member of an Auto Scaling group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Member {
    pub instance: u32,
    pub launched_at: SimTime,
    pub image_version: u32,
}

/// The live state of an Auto Scaling group.
#[derive(Clone, Debug, Default)]
pub struct AsgState {
    pub min: u32,
    pub max: u32,
    /// The desired capacity set by the group or its last scheduled action, before demand.
    pub base_desired: u32,
    /// The desired capacity in force.
    pub desired: u32,
    /// Running members by instance index, which is launch order: the first is the oldest.
    pub members: std::collections::BTreeMap<u32, Member>,
    pub launched: u64,
    pub terminated: u64,
    pub refreshing: bool,
}

/// One row of `asg.csv`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct AsgSample {
    pub time: String,
    pub auto_scaling_group: String,
    pub min: u32,
    pub max: u32,
    pub desired: u32,
    pub running: u32,
    pub launched_total: u64,
    pub terminated_total: u64,
    pub newest_image_version: u32,
    pub running_on_newest_image: u32,
}

impl Sim<'_> {
    /// The bake instant of each version of an image up to the end of the run.
    pub(crate) fn image_versions(&self, image: usize) -> Vec<SimTime> {
        let def = &self.scenario.images[image];
        let mut versions = vec![def.baked];
        if let Some(every) = def.rebake_every {
            let mut at = def.baked + every;
            while at < self.end && every.0 > 0 {
                versions.push(at);
                at = at + every;
            }
        }
        versions
    }

    /// The newest version of an image baked by `now`.
    fn image_version_at(&self, image: usize, now: SimTime) -> u32 {
        let versions = &self.image_bakes[image];
        versions.iter().rposition(|b| *b <= now).unwrap_or(0) as u32
    }

    /// The patches on an instance launched from `version` of `image` with mix `mix` of
    /// profile `profile`, computed once per (image, version, profile, mix).
    fn image_patches(&mut self, image: usize, version: u32, (profile, mix): (usize, u16)) -> BitSet {
        let key = (image, version, profile, mix);
        if let Some((_, set)) = self.image_cache.iter().find(|(k, _)| *k == key) {
            return set.clone();
        }
        let set = self.compute_image_patches(image, version, profile, mix);
        self.image_cache.push((key, set.clone()));
        set
    }

    fn compute_image_patches(&self, image: usize, version: u32, profile: usize, mix: u16) -> BitSet {
        let def = &self.scenario.images[image];
        let built = &self.world.profiles[profile];
        let applicable = &built.mixes[mix as usize];
        let catalog = &self.world.catalogs[built.catalog];
        let bake = self.image_bakes[image][version as usize];
        let mut installed = applicable.clone();
        let baseline = def.baseline.filter(|_| version > 0).map(|b| &self.world.baselines[b]);
        for patch in applicable.iter() {
            let on_base = catalog.patches[patch].released <= def.baked;
            let approved = baseline.is_some_and(|b| b.approvals[patch].at.is_some_and(|t| t <= bake));
            if !(on_base || approved) {
                installed.remove(patch);
            }
        }
        installed
    }

    pub(crate) fn schedule_asgs(&mut self, scheduler: &mut Scheduler<Event>) {
        let start = self.scenario.start;
        for (index, def) in self.scenario.auto_scaling_groups.iter().enumerate() {
            let state = AsgState { min: def.min, max: def.max, base_desired: def.desired, ..AsgState::default() };
            self.asgs.push(state);
            scheduler.schedule(start, Event::AsgReconcile { asg: index as u16 });
            for (action, scheduled) in def.scheduled_actions.iter().enumerate() {
                if let Some(at) = scheduled.schedule.next_after(start.0 - 1) {
                    scheduler.schedule(SimTime(at), Event::AsgAction { asg: index as u16, action: action as u16 });
                }
            }
        }
        for image in 0..self.scenario.images.len() {
            for bake in self.image_bakes[image].clone().into_iter().skip(1) {
                if bake > start {
                    scheduler.schedule(bake, Event::ImageBaked { image: image as u16 });
                }
            }
        }
    }

    /// The desired capacity now: the base, shaped by the diurnal demand, within bounds.
    fn desired_now(&self, asg: usize, now: SimTime) -> u32 {
        let def = &self.scenario.auto_scaling_groups[asg];
        let state = &self.asgs[asg];
        let hour = now.0.rem_euclid(86_400) as f64 / 3_600.0;
        let phase = std::f64::consts::TAU * (hour - def.demand_peak_hour as f64) / 24.0;
        let shaped = (state.base_desired as f64 * (1.0 + def.demand_amplitude * phase.cos())).round() as u32;
        shaped.clamp(state.min, state.max)
    }

    pub(crate) fn asg_reconcile(&mut self, now: SimTime, asg: usize, scheduler: &mut Scheduler<Event>) {
        let desired = self.desired_now(asg, now);
        self.asgs[asg].desired = desired;
        let running = self.asgs[asg].members.len() as u32;
        if running < desired {
            let launched: Vec<u32> = (running..desired).map_while(|_| self.asg_launch(now, asg, scheduler)).collect();
            let group = self.scenario.auto_scaling_groups[asg].group;
            self.apply_to_new_instances(now, group, &launched, scheduler);
        } else if running > desired {
            for _ in desired..running {
                let victim = self.termination_victim(asg);
                self.asg_terminate(now, asg, victim, scheduler);
            }
        }
        debug_assert!(scheduler.stopping() || self.asgs[asg].members.len() as u32 == self.asgs[asg].desired);
        let def = &self.scenario.auto_scaling_groups[asg];
        if def.demand_amplitude > 0.0 {
            // The demand pattern is re-evaluated every hour.
            let next = SimTime((now.0.div_euclid(3_600) + 1) * 3_600);
            if self.asg_hourly[asg] < next {
                self.asg_hourly[asg] = next;
                scheduler.schedule(next, Event::AsgReconcile { asg: asg as u16 });
            }
        }
    }

    /// The instance the termination policy picks.
    fn termination_victim(&self, asg: usize) -> u32 {
        let members = &self.asgs[asg].members;
        let policy = self.scenario.auto_scaling_groups[asg].termination_policy;
        let chosen = match policy {
            TerminationPolicy::OldestInstance => members.keys().next().copied(),
            TerminationPolicy::NewestInstance => members.keys().next_back().copied(),
            TerminationPolicy::OldestLaunchTemplate => {
                members.values().min_by_key(|m| (m.image_version, m.launched_at, m.instance)).map(|m| m.instance)
            }
        };
        chosen.expect("a group above its desired capacity has members")
    }

    pub(crate) fn asg_action(&mut self, now: SimTime, asg: usize, action: usize, scheduler: &mut Scheduler<Event>) {
        let scheduled = &self.scenario.auto_scaling_groups[asg].scheduled_actions[action];
        let state = &mut self.asgs[asg];
        state.min = scheduled.min.unwrap_or(state.min);
        state.max = scheduled.max.unwrap_or(state.max);
        state.base_desired = scheduled.desired.clamp(state.min, state.max);
        if let Some(next) = scheduled.schedule.next_after(now.0) {
            scheduler.schedule(SimTime(next), Event::AsgAction { asg: asg as u16, action: action as u16 });
        }
        self.asg_reconcile(now, asg, scheduler);
    }

    /// Launches one instance; the caller applies associations to the batch it launched.
    /// At the instance cap (`limits::MAX_INSTANCES`, launches included) nothing is launched
    /// and the run stops with `capacity_limit`.
    fn asg_launch(&mut self, now: SimTime, asg: usize, scheduler: &mut Scheduler<Event>) -> Option<u32> {
        if self.world.instances.len() as u64 >= crate::limits::MAX_INSTANCES {
            scheduler.stop(crate::engine::StopReason::CapacityLimit);
            return None;
        }
        let def = &self.scenario.auto_scaling_groups[asg];
        let (group, image, lifetime) = (def.group, def.image, def.lifetime);
        let version = self.image_version_at(image, now);
        let profile = self.world.groups[group].profile;
        let mix =
            crate::fleet::mix_of(self.seed, self.world.instances.len() as u32, self.scenario.profiles[profile].mixes);
        let installed = self.image_patches(image, version, (profile, mix));
        let instance = self.push_instance(group, mix, installed, now);
        self.asgs[asg].members.insert(instance, Member { instance, launched_at: now, image_version: version });
        self.asgs[asg].launched += 1;
        if let Some(mean) = lifetime {
            // The instance's own draw, keyed by its index: independent of every other
            // instance and of the order of launches.
            let unit = crate::rng::keyed_unit(self.seed, instance as u64, Purpose::InstanceLifetime);
            let life = (-(mean.0 as f64) * (1.0 - unit).ln()).ceil().max(1.0) as i64;
            scheduler.schedule(now + SimDuration(life), Event::InstanceExpire { instance });
        }
        Some(instance)
    }

    fn asg_terminate(&mut self, now: SimTime, asg: usize, instance: u32, scheduler: &mut Scheduler<Event>) {
        if self.asgs[asg].members.remove(&instance).is_none() {
            return;
        }
        self.asgs[asg].terminated += 1;
        self.terminate_instance(now, instance, scheduler);
    }

    /// An instance's lifetime ended: it is terminated and the group replaces it.
    pub(crate) fn instance_expire(&mut self, now: SimTime, instance: u32, scheduler: &mut Scheduler<Event>) {
        let group = self.world.instances.group[instance as usize] as usize;
        let Some(asg) = self.scenario.auto_scaling_groups.iter().position(|a| a.group == group) else { return };
        if !self.asgs[asg].members.contains_key(&instance) {
            return;
        }
        self.asg_terminate(now, asg, instance, scheduler);
        self.asg_reconcile(now, asg, scheduler);
    }

    /// A pipeline baked a new version: groups that refresh start replacing old instances.
    pub(crate) fn image_baked(&mut self, now: SimTime, image: usize, scheduler: &mut Scheduler<Event>) {
        for asg in 0..self.asgs.len() {
            let def = &self.scenario.auto_scaling_groups[asg];
            if def.image == image && def.refresh.is_some() && !self.asgs[asg].refreshing {
                self.asgs[asg].refreshing = true;
                self.refresh_step(now, asg, scheduler);
            }
        }
    }

    /// One batch of an instance refresh.
    pub(crate) fn refresh_step(&mut self, now: SimTime, asg: usize, scheduler: &mut Scheduler<Event>) {
        let def = &self.scenario.auto_scaling_groups[asg];
        let Some((min_healthy, warmup)) = def.refresh else { return };
        let newest = self.image_version_at(def.image, now);
        let state = &self.asgs[asg];
        // Members iterate oldest first.
        let old: Vec<u32> = state.members.values().filter(|m| m.image_version < newest).map(|m| m.instance).collect();
        if old.is_empty() {
            self.asgs[asg].refreshing = false;
            return;
        }
        let healthy_floor = (min_healthy as u64 * state.desired as u64).div_ceil(100) as usize;
        let batch = state.members.len().saturating_sub(healthy_floor).max(1).min(old.len());
        let mut launched = Vec::with_capacity(batch);
        for &instance in &old[..batch] {
            self.asg_terminate(now, asg, instance, scheduler);
            launched.extend(self.asg_launch(now, asg, scheduler));
        }
        let group = self.scenario.auto_scaling_groups[asg].group;
        self.apply_to_new_instances(now, group, &launched, scheduler);
        scheduler.schedule(now + warmup, Event::RefreshStep { asg: asg as u16 });
    }

    pub(crate) fn sample_asgs(&mut self, now: SimTime) {
        for (index, state) in self.asgs.iter().enumerate() {
            let def = &self.scenario.auto_scaling_groups[index];
            let newest = self.image_version_at(def.image, now);
            self.asg_samples.push(AsgSample {
                time: now.to_rfc3339(),
                auto_scaling_group: def.name.clone(),
                min: state.min,
                max: state.max,
                desired: state.desired,
                running: state.members.len() as u32,
                launched_total: state.launched,
                terminated_total: state.terminated,
                newest_image_version: newest,
                running_on_newest_image: state.members.values().filter(|m| m.image_version == newest).count() as u32,
            });
        }
    }
}
