//! Compiling a baseline against its operating system's catalog.
//!
//! Approval is a property of (baseline, patch), not of an instance: every pair is compiled
//! once into an approval instant (or never) and a compliance level. The run turns each
//! instant into an event that sets the patch's bit in [`CompiledBaseline::approved`], so a
//! scan never evaluates rules; it reads bitsets.
//!
//! Evaluation order (section 1.5 of the semantics reference): rules approve; the approved
//! list adds; the rejected list removes, so a patch on both lists is rejected.
//!
//! Rules AWS documents:
//! - ApproveAfterDays counts whole UTC calendar days (API reference, PatchRule): with 7,
//!   a patch whose approval date falls any time on the UTC day seven days back is approved,
//!   so a patch released 2025-11-09T18:00Z is approved at 2025-11-16T00:00Z. Approval never
//!   precedes the release itself: with 0 days it happens at the release instant.
//! - ApproveUntilDate approves patches whose approval date falls on or before that UTC day
//!   (API reference, PatchRule), when they are released.
//! - The approval date is the later of the release and the last update wherever the catalog
//!   carries an update date (Amazon Linux's Updated Date, Windows' revised updates:
//!   patch-manager-release-dates and patch-manager-predefined-and-custom-patch-baselines).
//! - Windows: a rule without a PATCH_SET filter matches operating-system updates only
//!   (PATCH_SET defaults to OS; the create-patch-baseline example approves Office through
//!   `PATCH_SET=APPLICATION`).
//!
//! Decisions on points AWS leaves open:
//! - A patch approved by several rules takes the highest of their compliance levels, and the
//!   earliest of their approval instants.
//! - A patch on the approved list is approved when released, with the list's level.
//! - GlobalFilters without PATCH_SET keep both patch sets: the OS default is a property of
//!   a rule, and applying it to the global filters would make every APPLICATION rule dead.

use super::def::{ApprovalDelay, BaselineDef, ComplianceLevel, FilterKey, RejectedAction};
use std::sync::Arc;

use crate::bitset::BitSet;
use crate::catalog::{Catalog, Family, Os, Patch};
use crate::time::{SimDuration, SimTime};

/// The compiled approval of one patch under one baseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Approval {
    /// When the patch becomes approved; `None` if never.
    pub at: Option<SimTime>,
    pub level: ComplianceLevel,
    /// What decided it, for `baseline explain`.
    pub source: ApprovalSource,
}

/// What decided a patch's approval.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApprovalSource {
    /// Approval rule number `n` (0-based; the earliest-approving rule when several match).
    Rule(u8),
    /// The ApprovedPatches list.
    ApprovedList,
    /// The RejectedPatches list (it wins over everything).
    RejectedList,
    /// Dropped by GlobalFilters and not on the approved list.
    GlobalFilters,
    /// No rule matched (or the only matches required a security source it lacks).
    NoRule,
}

impl ApprovalSource {
    pub fn describe(self) -> String {
        match self {
            ApprovalSource::Rule(n) => format!("rule {}", n + 1),
            ApprovalSource::ApprovedList => "approved list".into(),
            ApprovalSource::RejectedList => "rejected list".into(),
            ApprovalSource::GlobalFilters => "global filters".into(),
            ApprovalSource::NoRule => "no rule".into(),
        }
    }
}

/// A baseline compiled against a catalog.
#[derive(Clone, Debug)]
pub struct CompiledBaseline {
    pub name: String,
    pub os: Os,
    /// Per patch of the catalog, by index.
    pub approvals: Vec<Approval>,
    /// Patches on the rejected list.
    pub rejected: BitSet,
    pub rejected_action: RejectedAction,
    /// Windows: AVAILABLE_SECURITY_UPDATE items are non-compliant.
    pub available_security_non_compliant: bool,
    /// Patches approved as of the simulation clock; set by approval events through
    /// [`CompiledBaseline::approve`]. Shared: an operation's snapshot holds a clone of the
    /// `Arc`, and an approval while a snapshot is held copies the set once (copy on write),
    /// so snapshots cost nothing per invocation.
    pub approved: Arc<BitSet>,
    /// Patches whose compliance level is CRITICAL (for CriticalNonCompliantCount).
    pub critical: BitSet,
    /// Per compliance level (indexed like [`super::LEVELS`]), the patches approved with it:
    /// OverallSeverity is found word by word instead of patch by patch.
    pub by_level: Vec<BitSet>,
}

/// The instant ApproveAfterDays and ApproveUntilDate count from (section 1.3): the later
/// of the release and the last update when the catalog carries an update date (Amazon
/// Linux's notice Updated Date, a revised Windows update); for a repository without dates,
/// the package build time, or nothing at all (then the delay is zero); otherwise the release.
pub fn approval_base(patch: &Patch) -> Option<SimTime> {
    if !patch.dated {
        return patch.build_time;
    }
    Some(patch.updated.map_or(patch.released, |updated| updated.max(patch.released)))
}

/// 00:00:00 UTC of the day `t` falls on.
fn utc_midnight(t: SimTime) -> SimTime {
    SimTime(t.0.div_euclid(SimDuration::DAY.0) * SimDuration::DAY.0)
}

/// Whether a patch comes from a source a rule (or list) accepts without EnableNonSecurity:
/// the `-security` pocket on Debian and Ubuntu, an updateinfo notice on yum and SUSE.
fn from_security_source(patch: &Patch, os: Os) -> bool {
    match os.family() {
        Family::Apt => patch.security,
        Family::Yum | Family::Suse => patch.properties.classification.is_some(),
        Family::Windows | Family::MacOs => true,
    }
}

/// When a rule approves a patch it matches, or `None` if its ApproveUntilDate excludes it.
fn rule_instant(delay: ApprovalDelay, patch: &Patch) -> Option<SimTime> {
    let base = approval_base(patch);
    match (delay, base) {
        // Whole UTC days: the start of the day `days` after the approval date's day, and
        // never before the release.
        (ApprovalDelay::AfterDays(days), Some(base)) => {
            Some((utc_midnight(base) + SimDuration::days(days as i64)).max(patch.released))
        }
        // No date to count from: the delay is zero.
        (ApprovalDelay::AfterDays(_), None) => Some(patch.released),
        (ApprovalDelay::UntilDate(day), Some(base)) => (base < day + SimDuration::DAY).then_some(patch.released),
        (ApprovalDelay::UntilDate(_), None) => Some(patch.released),
    }
}

/// The approval of one patch, in the order of section 1.5: global filters keep it, rules
/// approve it, the approved list adds it, the rejected list removes it.
pub fn approval_of(def: &BaselineDef, catalog: &Catalog, patch: &Patch) -> Approval {
    let package = &catalog.package_names[patch.package as usize];
    let product = &catalog.products[patch.product as usize];
    let family = def.os.family();
    if def.rejected_patches.iter().any(|e| entry_matches(e, patch, package, family)) {
        return Approval { at: None, level: ComplianceLevel::Unspecified, source: ApprovalSource::RejectedList };
    }
    let listed = def.approved_patches.iter().any(|e| entry_matches(e, patch, package, family))
        && (def.approved_patches_enable_non_security || from_security_source(patch, def.os));
    if listed {
        return Approval {
            at: Some(patch.released),
            level: def.approved_patches_compliance_level,
            source: ApprovalSource::ApprovedList,
        };
    }
    if !def.global_filters.iter().all(|(key, values)| filter_matches(*key, values, patch, product, def.os)) {
        return Approval { at: None, level: ComplianceLevel::Unspecified, source: ApprovalSource::GlobalFilters };
    }
    let mut best: Option<(SimTime, u8)> = None;
    let mut level = ComplianceLevel::Unspecified;
    for (index, rule) in def.rules.iter().enumerate() {
        let source_ok = rule.enable_non_security || from_security_source(patch, def.os);
        if !source_ok
            || !rule_patch_set_matches(rule, patch, family)
            || !rule.filters.iter().all(|(key, values)| filter_matches(*key, values, patch, product, def.os))
        {
            continue;
        }
        let Some(when) = rule_instant(rule.delay, patch) else { continue };
        if best.is_none_or(|(t, _)| when < t) {
            best = Some((when, index as u8));
        }
        level = level.max(rule.compliance_level);
    }
    match best {
        Some((at, rule)) => Approval { at: Some(at), level, source: ApprovalSource::Rule(rule) },
        None => Approval { at: None, level: ComplianceLevel::Unspecified, source: ApprovalSource::NoRule },
    }
}

impl CompiledBaseline {
    /// The patch becomes approved from now on. Snapshots taken before keep their set.
    pub fn approve(&mut self, patch: usize) {
        Arc::make_mut(&mut self.approved).insert(patch);
    }
}

/// The approved sets of every baseline at one instant: what the operations of one
/// maintenance-window execution, association run or remediation see (AWS-RunPatchBaseline's
/// `SnapshotId`: all nodes of one operation patch against the same approved set). Taking
/// one clones an `Arc` per baseline; nothing is copied unless an approval comes while it is
/// held, and then once per baseline, not per invocation.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// Numbers the snapshots of a run in the order they were taken.
    pub id: u32,
    approved: Vec<Arc<BitSet>>,
}

impl Snapshot {
    pub fn take(id: u32, baselines: &[CompiledBaseline]) -> Snapshot {
        Snapshot { id, approved: baselines.iter().map(|b| Arc::clone(&b.approved)).collect() }
    }

    /// The approved set of baseline `index` in this snapshot.
    pub fn approved(&self, index: u16) -> &BitSet {
        &self.approved[index as usize]
    }

    /// The id AWS would show: a GUID, derived from the snapshot's number and the scenario's
    /// seed alone so it is stable across runs.
    pub fn guid(id: u32, seed: u64) -> String {
        let high = crate::rng::splitmix64(seed ^ ((id as u64) << 1));
        let low = crate::rng::splitmix64(high ^ id as u64);
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            high >> 32,
            (high >> 16) & 0xFFFF,
            high & 0xFFF,
            0x8000 | (low >> 48) & 0x3FFF,
            low & 0xFFFF_FFFF_FFFF
        )
    }
}

/// Windows: a rule without a PATCH_SET filter matches operating-system updates only.
fn rule_patch_set_matches(rule: &super::def::RuleDef, patch: &Patch, family: Family) -> bool {
    family != Family::Windows
        || rule.filters.iter().any(|(key, _)| *key == FilterKey::PatchSet)
        || patch_set(patch) == "OS"
}

/// Compiles `def` against `catalog`.
pub fn compile(def: &BaselineDef, catalog: &Catalog) -> CompiledBaseline {
    debug_assert_eq!(def.os, catalog.os);
    let n = catalog.len();
    let mut approvals = Vec::with_capacity(n);
    let mut rejected = BitSet::new(n);
    let mut critical = BitSet::new(n);
    let mut by_level: Vec<BitSet> = super::LEVELS.iter().map(|_| BitSet::new(n)).collect();
    for (index, patch) in catalog.patches.iter().enumerate() {
        let approval = approval_of(def, catalog, patch);
        if approval.source == ApprovalSource::RejectedList {
            rejected.insert(index);
        }
        if approval.at.is_some() {
            by_level[approval.level as usize].insert(index);
            if approval.level == ComplianceLevel::Critical {
                critical.insert(index);
            }
        }
        approvals.push(approval);
    }
    CompiledBaseline {
        name: def.name.clone(),
        os: def.os,
        approvals,
        rejected,
        rejected_action: def.rejected_patches_action,
        available_security_non_compliant: def.available_security_updates_non_compliant,
        approved: Arc::new(BitSet::new(n)),
        critical,
        by_level,
    }
}

/// Whether a filter's values match a patch. `*` matches everything; on Amazon Linux
/// 2022/2023 the SEVERITY value `Medium` also matches `Moderate`.
pub fn filter_matches(key: FilterKey, values: &[String], patch: &Patch, product: &str, os: Os) -> bool {
    let property: Option<&str> = match key {
        FilterKey::Product => Some(product),
        FilterKey::Classification => patch.properties.classification.as_deref(),
        FilterKey::Severity | FilterKey::MsrcSeverity => patch.properties.severity.as_deref(),
        FilterKey::Priority => patch.properties.priority.as_deref(),
        FilterKey::Section => patch.properties.section.as_deref(),
        FilterKey::PatchId => Some(patch.id.as_str()),
        FilterKey::ProductFamily => Some(patch.properties.product_family.as_deref().unwrap_or("Windows")),
        FilterKey::PatchSet => Some(patch_set(patch)),
    };
    values.iter().any(|value| {
        if value == "*" {
            return true;
        }
        let Some(property) = property else { return false };
        if property == value {
            return true;
        }
        key == FilterKey::Severity
            && matches!(os, Os::AmazonLinux2022 | Os::AmazonLinux2023)
            && value == "Medium"
            && property == "Moderate"
    })
}

/// PATCH_SET of a Windows patch: `OS` for the Windows product family, `APPLICATION` for
/// the rest (Office, SQL Server, ...).
pub fn patch_set(patch: &Patch) -> &'static str {
    match patch.properties.product_family.as_deref() {
        None | Some("Windows") => "OS",
        Some(_) => "APPLICATION",
    }
}

/// Whether an ApprovedPatches/RejectedPatches entry names this patch (section 1.4).
///
/// Windows entries are KB or bulletin ids, matched against the patch id. APT entries are
/// bare package names. yum, SUSE and macOS entries match the patch id (an advisory id),
/// one of its CVE ids, or the package name, where one `*` stands for any run of characters.
/// patchfleet does not model package versions, so a full name-version-release.arch entry
/// matches only through a `*`.
pub fn entry_matches(entry: &str, patch: &Patch, package: &str, family: Family) -> bool {
    match family {
        Family::Windows => entry == patch.id,
        Family::Apt => entry == package,
        _ => {
            if entry == patch.id || entry == package || patch.cves.iter().any(|c| c == entry) {
                return true;
            }
            match entry.split_once('*') {
                Some((prefix, suffix)) => {
                    package.len() >= prefix.len() + suffix.len()
                        && package.starts_with(prefix)
                        && package.ends_with(suffix)
                }
                None => false,
            }
        }
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
