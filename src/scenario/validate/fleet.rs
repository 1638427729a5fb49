//! `[[profile]]`, `[[instance_group]]`, `[[image]]` and `[[auto_scaling_group]]`: the
//! instances and where they come from.

use std::collections::BTreeMap;

use super::baseline::Baselines;
use super::network::location_index;
use super::window::schedule;
use super::{Checker, unique};
use crate::baseline::BaselineDef;
use crate::catalog::{CatalogDef, Os};
use crate::fleet::{AsgDef, Faults, GroupDef, ImageDef, ProfileDef, ScheduledActionDef, TerminationPolicy};
use crate::network::NetworkDef;
use crate::scenario::load::FailedSections;
use crate::scenario::schema::{AutoScalingGroupSpec, ImageSpec, InstanceGroupSpec, ProfileSpec};
use crate::time::{SimDuration, SimTime};

pub(super) fn profiles(
    c: &mut Checker,
    specs: &[ProfileSpec],
    catalog_oses: &BTreeMap<Os, usize>,
    failed: &FailedSections,
) -> Vec<ProfileDef> {
    unique(c, "profile", specs.iter().map(|p| p.name.as_str()));
    let mut profiles = Vec::new();
    for (index, spec) in specs.iter().enumerate() {
        let path = format!("profile[{index}]");
        c.probability(&format!("{path}.package_share"), spec.package_share);
        if !(1..=crate::fleet::MAX_MIXES).contains(&spec.mixes) {
            c.error(&format!("{path}.mixes"), format!("must be 1 to {}", crate::fleet::MAX_MIXES));
        }
        let Some(os) = c.parse(&format!("{path}.os"), Os::parse(&spec.os)) else { continue };
        let Some(&catalog) = catalog_oses.get(&os) else {
            if !failed.contains("catalog") {
                c.error(&format!("{path}.os"), format!("no [[catalog]] for {os}"));
            }
            continue;
        };
        profiles.push(ProfileDef {
            name: spec.name.clone(),
            catalog,
            package_share: spec.package_share,
            packages: spec.packages.clone(),
            mixes: spec.mixes.clamp(1, crate::fleet::MAX_MIXES),
        });
    }
    profiles
}

/// The instance groups; `period` is the simulated `[start, end)`.
pub(super) fn instance_groups(
    c: &mut Checker,
    specs: &[InstanceGroupSpec],
    profiles: &[ProfileDef],
    network: &NetworkDef,
    failed: &FailedSections,
    period: (SimTime, SimTime),
) -> Vec<GroupDef> {
    unique(c, "instance_group", specs.iter().map(|g| g.name.as_str()));
    let mut groups = Vec::new();
    let mut total_instances: u64 = 0;
    for (index, spec) in specs.iter().enumerate() {
        let path = format!("instance_group[{index}]");
        total_instances += spec.count as u64;
        c.probability(&format!("{path}.install_failure_probability"), spec.install_failure_probability);
        let profile = profiles.iter().position(|p| p.name == spec.profile);
        if profile.is_none() && !failed.contains("profile") && !failed.contains("catalog") {
            c.error(&format!("{path}.profile"), format!("unknown profile `{}`", spec.profile));
        }
        if let Some(profile) = profile {
            groups.push(instance_group(c, &path, spec, profile, network, period));
        }
    }
    if total_instances > crate::limits::MAX_INSTANCES {
        c.error(
            "instance_group",
            format!("{total_instances} instances; a run holds at most {}", crate::limits::MAX_INSTANCES),
        );
    }
    groups
}

fn instance_group(
    c: &mut Checker,
    path: &str,
    spec: &InstanceGroupSpec,
    profile: usize,
    network: &NetworkDef,
    (start, end): (SimTime, SimTime),
) -> GroupDef {
    let mut outages: Vec<(SimTime, SimTime)> = Vec::new();
    for (o, outage) in spec.outage.iter().enumerate() {
        if outage.duration.0.0 <= 0 {
            c.error(&format!("{path}.outage[{o}].duration"), "an outage lasts longer than zero");
        }
        outages.push((outage.start.0, outage.start.0 + outage.duration.0));
    }
    outages.sort();
    let location = location_index(c, path, spec.location.as_deref(), network);
    let faults = faults(c, path, spec);
    let launch_at = spec.launch_at.map_or(start, |i| i.0);
    if spec.launch_at.is_some() && (launch_at < start || launch_at >= end) {
        c.error(&format!("{path}.launch_at"), "a launch must fall within the simulated period");
    }
    if let Some(terminate) = spec.terminate_at
        && terminate.0 <= launch_at
    {
        c.error(&format!("{path}.terminate_at"), "instances are terminated after they are launched");
    }
    GroupDef {
        location,
        faults,
        launch_at,
        terminate_at: spec.terminate_at.map(|i| i.0),
        name: spec.name.clone(),
        count: spec.count,
        profile,
        tags: spec.tags.clone(),
        initial_lag: spec.initial_lag.0,
        initial_lag_spread: spec.initial_lag_spread.0,
        install_failure_probability: spec.install_failure_probability,
        outages,
    }
}

fn faults(c: &mut Checker, path: &str, spec: &InstanceGroupSpec) -> Faults {
    for (key, value) in [
        ("agent_crash_probability", spec.agent_crash_probability),
        ("slow_reboot_probability", spec.slow_reboot_probability),
        ("reboot_failure_probability", spec.reboot_failure_probability),
    ] {
        c.probability(&format!("{path}.{key}"), value);
    }
    Faults {
        agent_crash_probability: spec.agent_crash_probability,
        agent_restart: spec.agent_restart.0,
        slow_reboot_probability: spec.slow_reboot_probability,
        slow_reboot_extra: spec.slow_reboot_extra.0,
        reboot_failure_probability: spec.reboot_failure_probability,
        reboot_recovery: spec.reboot_recovery.0,
    }
}

/// Images, and the pipelines that rebake them with a baseline.
pub(super) fn images(c: &mut Checker, specs: &[ImageSpec], baselines: &mut Baselines, start: SimTime) -> Vec<ImageDef> {
    unique(c, "image", specs.iter().map(|i| i.name.as_str()));
    let mut images = Vec::new();
    for (index, spec) in specs.iter().enumerate() {
        let path = format!("image[{index}]");
        if let Some(every) = spec.rebake_every
            && every.0.0 <= 0
        {
            c.error(&format!("{path}.rebake_every"), "a pipeline bakes at intervals longer than zero");
        }
        if spec.baked.0 > start && spec.rebake_every.is_none() {
            c.error(
                &format!("{path}.baked"),
                "an image baked after the scenario start needs a pipeline (rebake_every) to bake it",
            );
        }
        if spec.baseline.is_some() != spec.rebake_every.is_some() {
            c.error(&path, "a pipeline needs both rebake_every and baseline");
        }
        let baseline = spec.baseline.as_ref().and_then(|name| baselines.find(c, &format!("{path}.baseline"), name));
        images.push(ImageDef {
            name: spec.name.clone(),
            baked: spec.baked.0,
            rebake_every: spec.rebake_every.map(|d| d.0),
            baseline,
        });
    }
    images
}

/// What Auto Scaling groups refer to, validated before them.
pub(super) struct AsgRefs<'a> {
    pub(super) profiles: &'a [ProfileDef],
    pub(super) catalogs: &'a [CatalogDef],
    /// One per `[[image]]`, in file order.
    pub(super) images: &'a [ImageDef],
    pub(super) baselines: &'a [BaselineDef],
    pub(super) network: &'a NetworkDef,
    pub(super) start: SimTime,
}

/// Auto Scaling groups. Each one's instances belong to an instance group of its own,
/// appended to `groups` with no instances at the start.
pub(super) fn auto_scaling_groups(
    c: &mut Checker,
    specs: &[AutoScalingGroupSpec],
    refs: &AsgRefs,
    groups: &mut Vec<GroupDef>,
) -> Vec<AsgDef> {
    unique(c, "auto_scaling_group", specs.iter().map(|a| a.name.as_str()));
    let mut auto_scaling_groups = Vec::new();
    for (index, spec) in specs.iter().enumerate() {
        if let Some(asg) = auto_scaling_group(c, &format!("auto_scaling_group[{index}]"), spec, refs, groups) {
            auto_scaling_groups.push(asg);
        }
    }
    auto_scaling_groups
}

fn auto_scaling_group(
    c: &mut Checker,
    path: &str,
    spec: &AutoScalingGroupSpec,
    refs: &AsgRefs,
    groups: &mut Vec<GroupDef>,
) -> Option<AsgDef> {
    asg_settings(c, path, spec);
    let policy = c.parse(&format!("{path}.termination_policy"), TerminationPolicy::parse(&spec.termination_policy));
    let profile = refs.profiles.iter().position(|p| p.name == spec.profile);
    if profile.is_none() {
        c.error(&format!("{path}.profile"), format!("unknown profile `{}`", spec.profile));
    }
    let image = refs.images.iter().position(|i| i.name == spec.image);
    if image.is_none() {
        c.error(&format!("{path}.image"), format!("unknown image `{}`", spec.image));
    }
    if let (Some(p), Some(i)) = (profile, image)
        && let Some(b) = refs.images[i].baseline
        && refs.baselines[b].os != refs.catalogs[refs.profiles[p].catalog].os
    {
        c.error(
            &format!("{path}.image"),
            format!(
                "image `{}` is baked with a {} baseline, not one for this group's OS",
                spec.image, refs.baselines[b].os
            ),
        );
    }
    let location = location_index(c, path, spec.location.as_deref(), refs.network);
    let actions = scheduled_actions(c, path, spec, refs.start);
    let (Some(profile), Some(image), Some(termination_policy)) = (profile, image, policy) else { return None };
    groups.push(GroupDef {
        name: spec.name.clone(),
        count: 0,
        profile,
        tags: spec.tags.clone(),
        initial_lag: SimDuration(0),
        initial_lag_spread: SimDuration(0),
        install_failure_probability: spec.install_failure_probability,
        outages: Vec::new(),
        launch_at: refs.start,
        terminate_at: None,
        location,
        faults: Faults::default(),
    });
    Some(AsgDef {
        name: spec.name.clone(),
        group: groups.len() - 1,
        image,
        min: spec.min,
        max: spec.max,
        desired: spec.desired,
        lifetime: spec.lifetime.map(|d| d.0),
        demand_amplitude: spec.demand_amplitude,
        demand_peak_hour: spec.demand_peak_hour,
        termination_policy,
        scheduled_actions: actions,
        refresh: spec.refresh_min_healthy_percentage.map(|pct| (pct, spec.refresh_warmup.0)),
    })
}

/// Capacity, lifetime, demand curve, failure probability and instance refresh.
fn asg_settings(c: &mut Checker, path: &str, spec: &AutoScalingGroupSpec) {
    if spec.min > spec.max {
        c.error(&format!("{path}.min"), format!("min {} is above max {}", spec.min, spec.max));
    }
    if !(spec.min..=spec.max).contains(&spec.desired) {
        c.error(
            &format!("{path}.desired"),
            format!("desired capacity {} is outside [min, max] = [{}, {}]", spec.desired, spec.min, spec.max),
        );
    }
    let cap = crate::limits::MAX_ASG_CAPACITY;
    if spec.max > cap {
        c.error(&format!("{path}.max"), format!("an Auto Scaling group holds at most {cap} instances"));
    }
    if let Some(lifetime) = spec.lifetime
        && lifetime.0.0 <= 0
    {
        c.error(&format!("{path}.lifetime"), "a lifetime is longer than zero");
    }
    if !(0.0..1.0).contains(&spec.demand_amplitude) {
        c.error(&format!("{path}.demand_amplitude"), "the demand amplitude lies in [0, 1)");
    }
    if spec.demand_peak_hour > 23 {
        c.error(&format!("{path}.demand_peak_hour"), "an hour of the day, 0 to 23");
    }
    c.probability(&format!("{path}.install_failure_probability"), spec.install_failure_probability);
    if let Some(pct) = spec.refresh_min_healthy_percentage
        && pct > 100
    {
        c.error(&format!("{path}.refresh_min_healthy_percentage"), "a percentage, 0 to 100");
    }
}

fn scheduled_actions(
    c: &mut Checker,
    path: &str,
    spec: &AutoScalingGroupSpec,
    start: SimTime,
) -> Vec<ScheduledActionDef> {
    let mut actions = Vec::new();
    for (a, action) in spec.scheduled_action.iter().enumerate() {
        let apath = format!("{path}.scheduled_action[{a}]");
        let (min, max) = (action.min.unwrap_or(spec.min), action.max.unwrap_or(spec.max));
        if action.max.is_some_and(|m| m > crate::limits::MAX_ASG_CAPACITY) {
            c.error(
                &format!("{apath}.max"),
                format!("an Auto Scaling group holds at most {} instances", crate::limits::MAX_ASG_CAPACITY),
            );
        }
        if !(min..=max).contains(&action.desired) {
            c.error(
                &format!("{apath}.desired"),
                format!("desired capacity {} is outside [{min}, {max}]", action.desired),
            );
        }
        if let Some(schedule) =
            schedule(c, &format!("{apath}.schedule"), &action.schedule, "UTC", None, None, None, start)
        {
            actions.push(ScheduledActionDef { schedule, desired: action.desired, min: action.min, max: action.max });
        }
    }
    actions
}
