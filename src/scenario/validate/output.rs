//! `[output]`, and the warnings: configurations that are legal but rarely meant. Warnings
//! carry a location like errors, are printed by `validate` and `run` and listed in
//! `summary.json`, and never change the exit code.

use std::collections::{BTreeMap, BTreeSet};

use super::Checker;
use crate::catalog::CatalogDef;
use crate::fleet::{AsgDef, GroupDef, NO_PATCH_GROUP, ProfileDef, instance_id, patch_group_of};
use crate::scenario::OutputDef;
use crate::scenario::schema::OutputSettings;
use crate::window::{AssociationDef, Target, WindowDef};

/// Instances `instance_patches.jsonl` may list: it grows as instances times patches (a few
/// hundred bytes a patch), so 100,000 instances of a few hundred patches is already GBs.
pub const MAX_INSTANCE_PATCHES_INSTANCES: u64 = 100_000;

pub(super) fn output(c: &mut Checker, spec: &OutputSettings, groups: &[GroupDef]) -> OutputDef {
    if spec.instance_patches.is_empty() {
        return OutputDef { invocations: spec.invocations, instance_patches: None };
    }
    let everything = spec.instance_patches.iter().any(|g| g == "*");
    let group_of = |g: &GroupDef| patch_group_of(&g.tags).unwrap_or(NO_PATCH_GROUP).to_string();
    let known: BTreeSet<String> = groups.iter().map(group_of).collect();
    for (index, name) in spec.instance_patches.iter().enumerate() {
        if name != "*" && !known.contains(name) {
            let names: Vec<&str> = known.iter().map(String::as_str).collect();
            c.error(
                &format!("output.instance_patches[{index}]"),
                format!("no instance group is in patch group `{name}`; known: {}, or `*`", names.join(", ")),
            );
        }
    }
    let listed: u64 = groups
        .iter()
        .filter(|g| everything || spec.instance_patches.contains(&group_of(g)))
        .map(|g| g.count as u64)
        .sum();
    if listed > MAX_INSTANCE_PATCHES_INSTANCES {
        c.error(
            "output.instance_patches",
            format!(
                "{listed} instances is more than {MAX_INSTANCE_PATCHES_INSTANCES}: the file grows as instances \
                 times patches; choose smaller patch groups"
            ),
        );
    }
    let chosen = if everything { Vec::new() } else { spec.instance_patches.clone() };
    OutputDef { invocations: spec.invocations, instance_patches: Some(chosen) }
}

/// What the warnings look at.
pub(super) struct Built<'a> {
    pub catalogs: &'a [CatalogDef],
    pub profiles: &'a [ProfileDef],
    pub groups: &'a [GroupDef],
    pub patch_groups: &'a BTreeMap<String, Vec<usize>>,
}

pub(super) fn warnings(
    c: &mut Checker,
    built: &Built<'_>,
    windows: &[WindowDef],
    associations: &[AssociationDef],
    asgs: &[AsgDef],
) {
    unregistered_patch_groups(c, built, asgs);
    profiles_no_patch_applies_to(c, built);
    let populated: Vec<bool> =
        (0..built.groups.len()).map(|g| built.groups[g].count > 0 || asgs.iter().any(|a| a.group == g)).collect();
    let mut empty_targets = |path: String, targets: &[Target]| {
        if !targets_match_any(targets, built.groups, &populated) {
            c.warn(&path, "these targets match no instance of the fleet: nothing will run");
        }
    };
    for (w, window) in windows.iter().enumerate() {
        empty_targets(format!("maintenance_window[{w}].targets"), &window.targets);
        for (t, task) in window.tasks.iter().enumerate() {
            if let Some(targets) = &task.targets {
                empty_targets(format!("maintenance_window[{w}].task[{t}].targets"), targets);
            }
        }
    }
    for (a, association) in associations.iter().enumerate() {
        empty_targets(format!("association[{a}].targets"), &association.targets);
    }
}

/// A `Patch Group` tag naming no `[[patch_group]]`: AWS then uses the OS default baseline,
/// which is legal but rarely meant.
fn unregistered_patch_groups(c: &mut Checker, built: &Built<'_>, asgs: &[AsgDef]) {
    for (index, group) in built.groups.iter().enumerate() {
        let Some(name) = patch_group_of(&group.tags) else { continue };
        if !built.patch_groups.contains_key(name) {
            // An Auto Scaling group's instances form a group of their own.
            let path = match asgs.iter().position(|a| a.group == index) {
                Some(asg) => format!("auto_scaling_group[{asg}].tags"),
                None => format!("instance_group[{index}].tags"),
            };
            c.warn(
                &path,
                format!("patch group `{name}` has no [[patch_group]]: its instances use the default baselines"),
            );
        }
    }
}

/// A profile that no patch of its catalog can ever apply to: no core packages, no share of
/// the generator's pool, and no named package that an explicit patch or a stream updates.
fn profiles_no_patch_applies_to(c: &mut Checker, built: &Built<'_>) {
    for (index, profile) in built.profiles.iter().enumerate() {
        let catalog = &built.catalogs[profile.catalog];
        let streams = catalog.generator.as_ref().map_or(&[][..], |g| &g.streams[..]);
        let pool_streams = streams.iter().any(|s| s.package.is_none());
        let from_pool = pool_streams && (catalog.core_packages > 0 || profile.package_share > 0.0);
        let named = profile.packages.iter().any(|name| {
            catalog.patches.iter().any(|p| &p.package == name)
                || streams.iter().any(|s| s.package.as_ref() == Some(name))
        });
        if !from_pool && !named {
            c.warn(
                &format!("profile[{index}]"),
                "no patch of its catalog can apply to this profile: its instances are always compliant",
            );
        }
    }
}

/// Whether any instance of a populated group matches any of `targets`. Instance ids are
/// derived from the index, so `InstanceIds` targets are checked against every index.
fn targets_match_any(targets: &[Target], groups: &[GroupDef], populated: &[bool]) -> bool {
    let mut first = 0u32;
    for (index, group) in groups.iter().enumerate() {
        let range = first..first + group.count;
        first += group.count;
        if !populated[index] {
            continue;
        }
        for target in targets {
            let matched = match target {
                Target::InstanceIds(ids) => range.clone().any(|i| ids.contains(&instance_id(i))),
                _ => target.matches(&group.tags, String::new),
            };
            if matched {
                return true;
            }
        }
    }
    false
}
