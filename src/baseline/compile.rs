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
//! Decisions on points AWS leaves open:
//! - ApproveAfterDays counts exact 24-hour periods from the release instant: a patch
//!   released 2025-11-09T18:00Z with 7 days is approved at 2025-11-16T18:00Z, not at the
//!   start of that UTC day (the API reference's reading, not CloudFormation's).
//! - A patch approved by several rules takes the highest of their compliance levels, and the
//!   earliest of their approval instants.
//! - A patch on the approved list is approved when released, with the list's level.

use super::def::{BaselineDef, ComplianceLevel, FilterKey, RejectedAction};
use crate::bitset::BitSet;
use crate::catalog::{Catalog, Os, Patch};
use crate::time::{SimDuration, SimTime};

/// The compiled approval of one patch under one baseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Approval {
    /// When the patch becomes approved; `None` if never.
    pub at: Option<SimTime>,
    pub level: ComplianceLevel,
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
    /// Patches approved as of the simulation clock; set by approval events.
    pub approved: BitSet,
    /// Patches whose compliance level is CRITICAL (for CriticalNonCompliantCount).
    pub critical: BitSet,
    /// Per compliance level (indexed like [`super::LEVELS`]), the patches approved with it:
    /// OverallSeverity is found word by word instead of patch by patch.
    pub by_level: Vec<BitSet>,
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
        let package = &catalog.package_names[patch.package as usize];
        let product = &catalog.products[patch.product as usize];
        let approval = if def.rejected_patches.iter().any(|e| entry_matches(e, &patch.id, package)) {
            rejected.insert(index);
            Approval { at: None, level: ComplianceLevel::Unspecified }
        } else if def.approved_patches.iter().any(|e| entry_matches(e, &patch.id, package)) {
            Approval { at: Some(patch.released), level: def.approved_patches_compliance_level }
        } else {
            let mut at: Option<SimTime> = None;
            let mut level = ComplianceLevel::Unspecified;
            for rule in &def.rules {
                let source_ok =
                    rule.enable_non_security || def.os.family() != crate::catalog::Family::Apt || patch.security;
                if source_ok
                    && rule.filters.iter().all(|(key, values)| filter_matches(*key, values, patch, product, def.os))
                {
                    let when = patch.released + SimDuration::days(rule.approve_after_days as i64);
                    at = Some(at.map_or(when, |t| t.min(when)));
                    level = level.max(rule.compliance_level);
                }
            }
            Approval { at, level }
        };
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
        approved: BitSet::new(n),
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

/// Whether an ApprovedPatches/RejectedPatches entry names this patch: its id exactly, or its
/// package name, where the entry may hold one `*` standing for any run of characters.
pub fn entry_matches(entry: &str, patch_id: &str, package: &str) -> bool {
    if entry == patch_id || entry == package {
        return true;
    }
    match entry.split_once('*') {
        Some((prefix, suffix)) => {
            package.len() >= prefix.len() + suffix.len() && package.starts_with(prefix) && package.ends_with(suffix)
        }
        None => false,
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
