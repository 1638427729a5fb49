//! `[[patch_group]]`, the patch groups imported baselines list, and `[default_baselines]`:
//! which baseline applies to which instances.

use std::collections::BTreeMap;

use super::baseline::Baselines;
use super::{Checker, unique};
use crate::baseline::predefined;
use crate::catalog::Os;
use crate::scenario::schema::PatchGroupSpec;

/// Patch group name to baseline indices, one per operating system. `imported` lists, per
/// imported baseline, the patch groups its document registers it for.
pub(super) fn patch_groups(
    c: &mut Checker,
    specs: &[PatchGroupSpec],
    imported: &[(usize, Vec<String>)],
    baselines: &mut Baselines,
) -> BTreeMap<String, Vec<usize>> {
    unique(c, "patch_group", specs.iter().map(|g| g.name.as_str()));
    let mut patch_groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (index, spec) in specs.iter().enumerate() {
        let path = format!("patch_group[{index}]");
        let name_ok = (1..=256).contains(&spec.name.chars().count())
            && spec.name.chars().all(|ch| ch.is_alphanumeric() || ch == ' ' || "_.:/=+-@".contains(ch));
        if !name_ok {
            c.error(
                &format!("{path}.name"),
                format!("patch group name `{}` must be 1 to 256 letters, digits, spaces or `_.:/=+-@`", spec.name),
            );
        }
        let resolved = group_baselines(c, &path, spec, baselines);
        patch_groups.insert(spec.name.clone(), resolved);
    }
    if baselines.complete {
        register_imported(c, imported, &baselines.defs, &mut patch_groups);
    }
    patch_groups
}

/// The baselines a `[[patch_group]]` names, at most one per operating system.
fn group_baselines(c: &mut Checker, path: &str, spec: &PatchGroupSpec, baselines: &mut Baselines) -> Vec<usize> {
    let mut resolved: Vec<usize> = Vec::new();
    for (b, name) in spec.baselines.iter().enumerate() {
        let bpath = format!("{path}.baselines[{b}]");
        let Some(found) = baselines.find(c, &bpath, name) else { continue };
        let os = baselines.defs[found].os;
        if let Some(&other) = resolved.iter().find(|&&i| baselines.defs[i].os == os) {
            c.error(
                &bpath,
                format!(
                    "patch group `{}` already has a baseline for {os} (`{}`); AWS rejects a second one (AlreadyExistsException)",
                    spec.name, baselines.defs[other].name
                ),
            );
            continue;
        }
        resolved.push(found);
    }
    resolved
}

/// PatchGroups listed in imported documents register their baseline for those groups,
/// as RegisterPatchBaselineForPatchGroup would, under the same one-per-OS rule.
fn register_imported(
    c: &mut Checker,
    imported: &[(usize, Vec<String>)],
    baselines: &[crate::baseline::BaselineDef],
    patch_groups: &mut BTreeMap<String, Vec<usize>>,
) {
    for (index, groups) in imported {
        for group in groups {
            let registered = patch_groups.entry(group.clone()).or_default();
            let os = baselines[*index].os;
            if let Some(&other) = registered.iter().find(|&&i| baselines[i].os == os) {
                if other != *index {
                    c.error(
                        &format!("baseline[{index}].import"),
                        format!(
                            "the imported baseline lists patch group `{group}`, which already has a baseline for {os} (`{}`); AWS rejects a second one (AlreadyExistsException)",
                            baselines[other].name
                        ),
                    );
                }
                continue;
            }
            registered.push(*index);
        }
    }
}

/// Default baselines: registered ones, then the predefined default for every other OS that
/// has a catalog.
pub(super) fn default_baselines(
    c: &mut Checker,
    registered: &BTreeMap<String, String>,
    catalog_oses: &BTreeMap<Os, usize>,
    baselines: &mut Baselines,
) -> BTreeMap<Os, usize> {
    let mut default_baselines: BTreeMap<Os, usize> = BTreeMap::new();
    for (key, name) in registered {
        let path = format!("default_baselines.{key}");
        let Some(os) = c.parse(&path, Os::parse(key)) else { continue };
        let Some(found) = baselines.find(c, &path, name) else { continue };
        if baselines.defs[found].os != os {
            c.error(&path, format!("baseline `{name}` is for {}, not {os}", baselines.defs[found].os));
            continue;
        }
        default_baselines.insert(os, found);
    }
    for &os in catalog_oses.keys() {
        if let std::collections::btree_map::Entry::Vacant(slot) = default_baselines.entry(os) {
            let def = predefined::by_name(predefined::default_name(os)).expect("every OS has a predefined default");
            let existing = baselines.defs.iter().position(|b| b.name == def.name);
            let index = existing.unwrap_or_else(|| {
                baselines.defs.push(def);
                baselines.defs.len() - 1
            });
            slot.insert(index);
        }
    }
    default_baselines
}
