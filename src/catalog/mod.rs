//! Package repositories: patches per operating system, the release process that publishes
//! them, and supersedence.
//!
//! A catalog is built once, before the run, from explicit patches and from the generator's
//! draws; patches are stored in release order, so a patch's index is stable for a given
//! scenario and seed. Releases during the run are events that set the patch's bit in
//! [`Catalog::released`]; nothing about a patch is decided later.

mod generate;
mod os;

pub use generate::{BatchSize, GeneratorDef, ReleaseProcess, StreamDef, build};

pub use os::{ALL as OS_ALL, APT_PRIORITIES, Family, Os, classifications, is_security, severities};

/// Every operating system, in the order of the AWS enum.
pub fn os_list() -> impl Iterator<Item = Os> {
    OS_ALL.iter().copied()
}

use std::collections::HashMap;

use crate::time::{SimDuration, SimTime};

/// A validated explicit patch, before it is placed in a catalog.
#[derive(Clone, Debug)]
pub struct PatchDef {
    pub id: String,
    pub package: String,
    pub product: Option<String>,
    pub properties: PatchProperties,
    pub released: SimTime,
    pub dates: PatchDates,
    pub cves: Vec<String>,
    pub reboot_required: bool,
    pub download_mb: f64,
    pub install_duration: SimDuration,
    pub supersedes: Vec<String>,
}

/// The dates approval delays count from, when they differ from the release (section 1.3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PatchDates {
    /// Amazon Linux: the notice's Updated Date.
    pub updated: Option<SimTime>,
    /// The package build time, used when the repository has no dates.
    pub build_time: Option<SimTime>,
    /// False when the repository gives no release date.
    pub undated: bool,
}

/// The vendor metadata approval rules filter on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PatchProperties {
    pub classification: Option<String>,
    pub severity: Option<String>,
    pub priority: Option<String>,
    pub section: Option<String>,
    pub repository: Option<String>,
    /// Windows PRODUCT_FAMILY (`Windows`, `Office`, `SQL Server`, ...); `Windows` if unset.
    pub product_family: Option<String>,
}

/// A validated catalog definition.
#[derive(Clone, Debug)]
pub struct CatalogDef {
    pub os: Os,
    pub products: Vec<String>,
    pub packages: u32,
    pub core_packages: u32,
    pub patches: Vec<PatchDef>,
    pub generator: Option<GeneratorDef>,
}

/// One patch in a built catalog.
#[derive(Clone, Debug)]
pub struct Patch {
    pub id: String,
    pub package: u32,
    pub product: u16,
    pub properties: PatchProperties,
    /// The vendor calls it a security update (classification, or the `-security` pocket).
    pub security: bool,
    pub released: SimTime,
    /// Amazon Linux Updated Date, if the notice was revised.
    pub updated: Option<SimTime>,
    pub build_time: Option<SimTime>,
    /// The repository gives a release date (false: approval counts from the build time).
    pub dated: bool,
    pub cves: Vec<String>,
    pub reboot_required: bool,
    pub download_mb: f64,
    pub install_duration: SimDuration,
    /// Older patches this one replaces, directly.
    pub supersedes: Vec<u32>,
    /// The newer patch that replaces this one, if any.
    pub superseded_by: Option<u32>,
}

/// The patches of one operating system, in release order.
#[derive(Clone, Debug)]
pub struct Catalog {
    pub os: Os,
    pub products: Vec<String>,
    /// Package names; index = package id. The first `core_packages` are on every image.
    pub package_names: Vec<String>,
    pub core_packages: u32,
    /// Packages `pkg-0 .. pkg-{anonymous_packages - 1}` are the generator's pool.
    pub anonymous_packages: u32,
    pub patches: Vec<Patch>,
    by_id: HashMap<String, u32>,
}

impl Catalog {
    pub fn len(&self) -> usize {
        self.patches.len()
    }
    pub fn is_empty(&self) -> bool {
        self.patches.is_empty()
    }
    /// Looks a patch up by id (lookups only; never iterated).
    pub fn patch_index(&self, id: &str) -> Option<u32> {
        self.by_id.get(id).copied()
    }
    pub fn package_index(&self, name: &str) -> Option<u32> {
        self.package_names.iter().position(|n| n == name).map(|i| i as u32)
    }
    /// The patches superseded by `patch`, transitively.
    pub fn superseded_chain(&self, patch: u32) -> Vec<u32> {
        let mut out = Vec::new();
        let mut stack: Vec<u32> = self.patches[patch as usize].supersedes.clone();
        while let Some(next) = stack.pop() {
            if !out.contains(&next) {
                out.push(next);
                stack.extend(self.patches[next as usize].supersedes.iter().copied());
            }
        }
        out.sort_unstable();
        out
    }
}

/// Name of the n-th anonymous package.
pub fn anonymous_package_name(index: u32) -> String {
    format!("pkg-{index}")
}
