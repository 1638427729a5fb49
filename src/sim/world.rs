//! Building the world from a validated scenario: catalogs, profiles' applicable sets,
//! compiled baselines, and the fleet's initial state.

use std::collections::BTreeMap;

use crate::baseline::{CompiledBaseline, compile};
use crate::bitset::BitSet;
use crate::catalog::{self, Catalog};
use crate::fleet::{Instances, NO_PATCH_GROUP, patch_group_of};
use crate::rng::{Purpose, Stream};
use crate::scenario::Scenario;
use crate::time::SimTime;

/// A profile built against its catalog.
pub struct Profile {
    pub catalog: usize,
    /// Per package mix: the patches whose package the mix carries. Instances share them:
    /// an instance's applicable set is its mix's.
    pub mixes: Vec<BitSet>,
}

/// An instance group built: its instance range and the baseline that applies to it.
pub struct Group {
    /// Every instance that ever belonged to the group, in launch order (contiguous for
    /// groups defined with a count; appended to for Auto Scaling groups).
    pub members: Vec<u32>,
    pub catalog: usize,
    pub profile: usize,
    pub baseline: u16,
    /// Index into [`World::report_groups`].
    pub report_group: u16,
}

/// Everything the run mutates, plus the compiled, read-only parts it reads.
pub struct World {
    pub catalogs: Vec<Catalog>,
    /// Per catalog: patches that are security updates.
    pub security: Vec<BitSet>,
    /// Per catalog: patches that need a reboot to take effect. A sample asks this of every
    /// patch pending a reboot on every instance; a bitset answers from a few cache lines
    /// where the catalog's patch records are spread over hundreds of kilobytes.
    pub reboot_required: Vec<BitSet>,
    /// Per catalog: patches released as of the simulation clock; set by release events.
    pub released: Vec<BitSet>,
    pub profiles: Vec<Profile>,
    pub groups: Vec<Group>,
    pub baselines: Vec<CompiledBaseline>,
    /// Catalog index of each baseline.
    pub baseline_catalog: Vec<usize>,
    /// Per baseline: patches approved at some instant before the end of the run.
    pub approved_before_end: Vec<BitSet>,
    /// Names of the reporting groups: patch group tag values, and `(none)` for instances
    /// without a patch group tag; sorted.
    pub report_groups: Vec<String>,
    pub instances: Instances,
    /// Per catalog and patch: number of instances the patch applies to.
    pub applicable_instances: Vec<Vec<u32>>,
    /// Per catalog and patch: number of instances that had it when the run started.
    pub initially_installed: Vec<Vec<u32>>,
    /// Instances whose patches `instance_patches.jsonl` lists, with what it needs.
    pub listed: BTreeMap<u32, Listed>,
}

/// What `instance_patches.jsonl` needs beyond an instance's report: when its patches were
/// installed.
#[derive(Clone, Debug, Default)]
pub struct Listed {
    /// Patches present at the start or at launch count as installed at this instant: the
    /// instance's patch level (or its launch).
    pub since: SimTime,
    /// Patches installed during the run, with the end of the operation that installed them.
    pub installed_at: Vec<(u32, SimTime)>,
}

impl World {
    pub fn build(scenario: &Scenario, seed: u64) -> Result<World, String> {
        let start = scenario.start;
        let end = scenario.end();
        let mut catalogs = Vec::with_capacity(scenario.catalogs.len());
        for (index, def) in scenario.catalogs.iter().enumerate() {
            catalogs.push(catalog::build(def, index, seed, start, end)?);
        }
        let patches_where = |keep: fn(&crate::catalog::Patch) -> bool| -> Vec<BitSet> {
            catalogs
                .iter()
                .map(|catalog| {
                    let mut set = BitSet::new(catalog.len());
                    for (index, patch) in catalog.patches.iter().enumerate() {
                        if keep(patch) {
                            set.insert(index);
                        }
                    }
                    set
                })
                .collect()
        };
        let security = patches_where(|patch| patch.security);
        let reboot_required = patches_where(|patch| patch.reboot_required);
        let released: Vec<BitSet> = catalogs
            .iter()
            .map(|catalog| {
                let mut set = BitSet::new(catalog.len());
                for (index, patch) in catalog.patches.iter().enumerate() {
                    if patch.released <= start {
                        set.insert(index);
                    }
                }
                set
            })
            .collect();
        let mut profiles: Vec<Profile> = scenario
            .profiles
            .iter()
            .enumerate()
            .map(|(index, def)| {
                let catalog = &catalogs[def.catalog];
                let mixes = (0..def.mixes).map(|mix| mix_applicable(def, catalog, seed, index, mix)).collect();
                Profile { catalog: def.catalog, mixes }
            })
            .collect();

        // Windows: a superseded update leaves the catalog (section 1.3). Updates superseded
        // before the start are gone from every profile; later ones leave at the release of
        // their successor (`Sim::release`).
        for profile in &mut profiles {
            let catalog = &catalogs[profile.catalog];
            if catalog.os.family() != crate::catalog::Family::Windows {
                continue;
            }
            for patch in catalog.patches.iter().filter(|p| p.released <= start) {
                for &older in &patch.supersedes {
                    profile.mixes.iter_mut().for_each(|mix| mix.remove(older as usize));
                }
            }
        }
        let baseline_catalog: Vec<usize> =
            scenario.baselines.iter().map(|b| scenario.catalog_of(b.os).unwrap_or(usize::MAX)).collect();
        // Baselines for an OS without a catalog have nothing to approve; compile them
        // against an empty catalog of their OS.
        let empty_catalogs: Vec<Catalog> = scenario
            .baselines
            .iter()
            .map(|b| {
                let def = catalog::CatalogDef {
                    os: b.os,
                    products: vec![String::new()],
                    packages: 0,
                    core_packages: 0,
                    patches: vec![],
                    generator: None,
                };
                catalog::build(&def, usize::MAX, seed, start, end).expect("an empty catalog builds")
            })
            .collect();
        let mut baselines = Vec::with_capacity(scenario.baselines.len());
        let mut approved_before_end = Vec::with_capacity(scenario.baselines.len());
        for (index, def) in scenario.baselines.iter().enumerate() {
            let catalog = catalogs.get(baseline_catalog[index]).unwrap_or(&empty_catalogs[index]);
            let mut compiled = compile(def, catalog);
            let mut ever = BitSet::new(catalog.len());
            let mut approved = BitSet::new(catalog.len());
            for (patch, approval) in compiled.approvals.iter().enumerate() {
                if let Some(at) = approval.at {
                    if at < end {
                        ever.insert(patch);
                    }
                    if at <= start {
                        approved.insert(patch);
                    }
                }
            }
            compiled.approved = std::sync::Arc::new(approved);
            baselines.push(compiled);
            approved_before_end.push(ever);
        }

        let mut report_groups: Vec<String> =
            scenario.groups.iter().map(|g| patch_group_of(&g.tags).unwrap_or(NO_PATCH_GROUP).to_string()).collect();
        report_groups.sort();
        report_groups.dedup();

        let total: usize = scenario.groups.iter().map(|g| g.count as usize).sum();
        let mut instances = Instances {
            group: Vec::with_capacity(total),
            mix: Vec::with_capacity(total),
            installed: Vec::with_capacity(total),
            failed: Vec::with_capacity(total),
            pending_reboot: Vec::with_capacity(total),
            report: Vec::with_capacity(total),
            operations: Vec::with_capacity(total),
            busy: Vec::with_capacity(total),
            running: Vec::with_capacity(total),
        };
        let mut groups = Vec::with_capacity(scenario.groups.len());
        let mut listed = BTreeMap::new();
        // Per group: (mix, installed prefix length) of each instance.
        let mut prefix_lengths: Vec<Vec<(u16, u32)>> = vec![Vec::new(); scenario.groups.len()];
        for (group_index, def) in scenario.groups.iter().enumerate() {
            let profile = &profiles[def.profile];
            let catalog = &catalogs[profile.catalog];
            let os = catalog.os;
            let patch_group = patch_group_of(&def.tags);
            let baseline = scenario.resolve_baseline(patch_group, os) as u16;
            let report_group = report_groups
                .binary_search_by(|g| g.as_str().cmp(patch_group.unwrap_or(NO_PATCH_GROUP)))
                .expect("every group's name is listed") as u16;
            let first = instances.len() as u32;
            let listed_group = scenario.output.lists_patches_of(patch_group.unwrap_or(NO_PATCH_GROUP));
            for _ in 0..def.count {
                let instance = instances.len() as u64;
                let mut rng = Stream::new(seed, instance, Purpose::InitialPatchLevel);
                let spread = def.initial_lag_spread.0;
                let extra = if spread > 0 { rng.range_inclusive(0, spread - 1) } else { 0 };
                // The patch level counts back from the launch, as from an image's bake date.
                let cutoff = SimTime(def.launch_at.0 - def.initial_lag.0 - extra);
                // Patches are in release order: those released by the cutoff are a prefix.
                let released_by_cutoff = catalog.patches.partition_point(|p| p.released <= cutoff);
                let mix = crate::fleet::mix_of(seed, instance as u32, profile.mixes.len() as u32);
                let mut installed = profile.mixes[mix as usize].clone();
                installed.clear_from(released_by_cutoff);
                prefix_lengths[group_index].push((mix, released_by_cutoff as u32));
                if listed_group {
                    listed.insert(instance as u32, Listed { since: cutoff, installed_at: Vec::new() });
                }
                instances.push(group_index as u16, mix, installed, def.launch_at <= start);
            }
            groups.push(Group {
                members: (first..first + def.count).collect(),
                catalog: profile.catalog,
                profile: def.profile,
                baseline,
                report_group,
            });
        }
        // Per patch: instances it applies to, and instances that had it at the start. An
        // instance had patch p iff p is applicable to its mix and p lies in its installed
        // prefix, so a count of prefix lengths per (group, mix) gives every patch's count in
        // one pass.
        let mut applicable_instances: Vec<Vec<u32>> = catalogs.iter().map(|c| vec![0; c.len()]).collect();
        let mut initially_installed: Vec<Vec<u32>> = catalogs.iter().map(|c| vec![0; c.len()]).collect();
        for (group, lengths) in groups.iter().zip(&prefix_lengths) {
            let n = catalogs[group.catalog].len();
            for (mix, applicable) in profiles[group.profile].mixes.iter().enumerate() {
                let mut at_least = vec![0u32; n + 1];
                let mut members = 0u32;
                for &(_, length) in lengths.iter().filter(|(m, _)| *m as usize == mix) {
                    at_least[length as usize] += 1;
                    members += 1;
                }
                if members == 0 {
                    continue;
                }
                for index in (0..n).rev() {
                    at_least[index] += at_least[index + 1];
                }
                for patch in applicable.iter() {
                    applicable_instances[group.catalog][patch] += members;
                    initially_installed[group.catalog][patch] += at_least[patch + 1];
                }
            }
        }
        Ok(World {
            listed,
            applicable_instances,
            initially_installed,
            catalogs,
            security,
            reboot_required,
            released,
            profiles,
            groups,
            baselines,
            baseline_catalog,
            approved_before_end,
            report_groups,
            instances,
        })
    }
}

/// The patches that apply to mix `mix` of profile `index`: core packages, the profile's
/// named packages, and each other package of the generator's pool with probability
/// `package_share`, from the mix's own stream (one draw per package, whatever the outcome,
/// so the choice of one package does not shift the next).
fn mix_applicable(def: &crate::fleet::ProfileDef, catalog: &Catalog, seed: u64, index: usize, mix: u32) -> BitSet {
    // Mix 0 keeps the profile's own key, so a profile of one mix draws as it always did.
    let entity = index as u64 | ((mix as u64) << 32);
    let mut rng = Stream::new(seed, entity, Purpose::ProfilePackages);
    let mut has_package = vec![false; catalog.package_names.len()];
    for (package, slot) in has_package.iter_mut().enumerate() {
        let anonymous = (package as u32) < catalog.anonymous_packages;
        let core = (package as u32) < catalog.core_packages;
        let drawn = anonymous && rng.chance(def.package_share);
        *slot = core || drawn || def.packages.contains(&catalog.package_names[package]);
    }
    let mut applicable = BitSet::new(catalog.len());
    for (patch_index, patch) in catalog.patches.iter().enumerate() {
        if has_package[patch.package as usize] {
            applicable.insert(patch_index);
        }
    }
    applicable
}

impl World {
    /// The patches that apply to an instance: those of its profile's mix.
    pub fn applicable(&self, instance: u32) -> &BitSet {
        let index = instance as usize;
        let group = &self.groups[self.instances.group[index] as usize];
        &self.profiles[group.profile].mixes[self.instances.mix[index] as usize]
    }
}
