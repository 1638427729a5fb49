//! One instance's compliance report, computed word by word over bitsets (`words/`).

use super::words;

use crate::baseline::{CompiledBaseline, ComplianceLevel, LEVELS, RejectedAction};
use crate::bitset::BitSet;
use crate::time::SimTime;

/// The `Operation` of AWS-RunPatchBaseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    Scan,
    Install,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Scan => "Scan",
            Operation::Install => "Install",
        }
    }
    pub fn parse(text: &str) -> Result<Operation, String> {
        match text {
            "Scan" => Ok(Operation::Scan),
            "Install" => Ok(Operation::Install),
            _ => Err(format!("unknown operation `{text}`; expected `Scan` or `Install`")),
        }
    }
}

/// The `RebootOption` of AWS-RunPatchBaseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RebootOption {
    RebootIfNeeded,
    NoReboot,
}

impl RebootOption {
    pub fn as_str(self) -> &'static str {
        match self {
            RebootOption::RebootIfNeeded => "RebootIfNeeded",
            RebootOption::NoReboot => "NoReboot",
        }
    }
    pub fn parse(text: &str) -> Result<RebootOption, String> {
        match text {
            "RebootIfNeeded" => Ok(RebootOption::RebootIfNeeded),
            "NoReboot" => Ok(RebootOption::NoReboot),
            _ => Err(format!("unknown reboot option `{text}`; expected `RebootIfNeeded` or `NoReboot`")),
        }
    }
}

/// The per-state counts of InstancePatchState.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PatchCounts {
    pub installed: u32,
    pub installed_other: u32,
    pub installed_pending_reboot: u32,
    pub installed_rejected: u32,
    pub missing: u32,
    pub failed: u32,
    pub not_applicable: u32,
    /// Windows: security updates released and applicable but not approved (yet).
    pub available_security_update: u32,
}

/// What an instance last reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InstanceReport {
    pub operation: Operation,
    pub reboot_option: RebootOption,
    pub start: SimTime,
    pub end: SimTime,
    /// Index of the baseline that produced the report.
    pub baseline: u16,
    /// Number of the snapshot the operation evaluated against (see `baseline::Snapshot`).
    pub snapshot: u32,
    pub counts: PatchCounts,
    pub critical_non_compliant: u32,
    pub security_non_compliant: u32,
    pub other_non_compliant: u32,
    /// Highest compliance level among non-compliant items; UNSPECIFIED when compliant.
    pub overall_severity: ComplianceLevel,
    pub last_no_reboot_install: Option<SimTime>,
    /// The baseline's AvailableSecurityUpdatesComplianceStatus is NON_COMPLIANT.
    pub available_security_non_compliant: bool,
}

impl InstanceReport {
    /// COMPLIANT unless some item is non-compliant (MISSING, FAILED, INSTALLED_REJECTED or
    /// INSTALLED_PENDING_REBOOT).
    pub fn is_compliant(&self) -> bool {
        let c = &self.counts;
        c.missing == 0
            && c.failed == 0
            && c.installed_rejected == 0
            && c.installed_pending_reboot == 0
            && !(self.available_security_non_compliant && c.available_security_update > 0)
    }
}

/// The inputs of one evaluation: an instance's patch state and its baseline.
pub struct EvaluationInput<'a> {
    pub baseline: &'a CompiledBaseline,
    /// The approved set the operation sees: the snapshot of its execution (all nodes of one
    /// maintenance-window execution see the same set), or the baseline's current one.
    pub approved: &'a BitSet,
    /// Patches of the catalog that are security updates.
    pub security: &'a BitSet,
    /// Patches whose package the instance has (from its profile).
    pub applicable: &'a BitSet,
    pub installed: &'a BitSet,
    /// Patches whose last install failed (sparse).
    pub failed: &'a [u32],
    /// Patches installed by a NoReboot Install and not yet followed by a reboot (sparse).
    pub pending_reboot: &'a [u32],
    /// Windows only: patches released so far, for AVAILABLE_SECURITY_UPDATE.
    pub released: Option<&'a BitSet>,
}

/// What an evaluation gives: the counts, the critical, security and other non-compliant
/// counts, and the highest compliance level among non-compliant items.
pub type Evaluation = (PatchCounts, [u32; 3], ComplianceLevel);

/// Counts and severities of a report: the work every Scan does.
///
/// A patch is reported only where it applies: a present patch that no longer applies (a
/// Windows update superseded by a later one, which leaves the catalog) is NOT_APPLICABLE if
/// approved and nothing otherwise, never INSTALLED as well, so installing a cumulative
/// update counts once in InstalledCount (patch-manager-compliance-states: NOT_APPLICABLE
/// covers superseded updates).
pub fn evaluate(input: &EvaluationInput<'_>) -> Evaluation {
    evaluate_with(input, words::sums)
}

/// [`evaluate`] with the word pass given, so tests can run each code path.
fn evaluate_with(input: &EvaluationInput<'_>, pass: fn(&words::Words<'_>, bool) -> words::Sums) -> Evaluation {
    let baseline = input.baseline;
    let block = baseline.rejected_action == RejectedAction::Block;
    let approved = input.approved.words();
    let security = input.security.words();
    let rejected = baseline.rejected.words();
    let sums = pass(
        &words::Words {
            approved,
            applicable: input.applicable.words(),
            installed: input.installed.words(),
            critical: baseline.critical.words(),
            security,
            rejected,
            by_level: &baseline.by_level,
        },
        block,
    );
    let mut counts = PatchCounts {
        installed: sums.installed as u32,
        installed_other: sums.installed_other as u32,
        installed_rejected: sums.installed_rejected as u32,
        missing: sums.missing as u32,
        not_applicable: sums.not_applicable as u32,
        ..PatchCounts::default()
    };
    let (mut critical_nc, mut security_nc) = (sums.critical_nc as u32, sums.security_nc as u32);
    let (mut total_nc, mut flagged_nc) = ((sums.missing + sums.installed_rejected) as u32, sums.flagged_nc as u32);
    let mut severity = LEVELS[sums.top_level];
    // Failed patches are still missing in the bitsets: move them to FAILED.
    for &patch in input.failed {
        let p = patch as usize;
        if input.approved.contains(p) && input.applicable.contains(p) && !input.installed.contains(p) {
            counts.missing -= 1;
            counts.failed += 1;
        }
    }
    // Pending-reboot patches are installed: move them out of INSTALLED/INSTALLED_OTHER.
    for &patch in input.pending_reboot {
        let p = patch as usize;
        if !input.installed.contains(p) || !input.applicable.contains(p) {
            continue;
        }
        if input.approved.contains(p) {
            counts.installed -= 1;
            severity = severity.max(baseline.approvals[p].level);
            if baseline.critical.contains(p) {
                critical_nc += 1;
            }
        } else if block && input.baseline.rejected.contains(p) {
            // Already counted as INSTALLED_REJECTED and non-compliant.
            continue;
        } else {
            counts.installed_other -= 1;
        }
        counts.installed_pending_reboot += 1;
        total_nc += 1;
        if input.security.contains(p) {
            security_nc += 1;
        }
        if input.security.contains(p) || baseline.critical.contains(p) {
            flagged_nc += 1;
        }
    }
    // AVAILABLE_SECURITY_UPDATE (Windows): released, applicable, security, not installed,
    // neither approved nor rejected. Non-compliant only if the baseline says so.
    if let Some(released) = input.released {
        let (released, applicable, installed) = (released.words(), input.applicable.words(), input.installed.words());
        for w in 0..approved.len() {
            let available = released[w] & security[w] & applicable[w] & !installed[w] & !approved[w] & !rejected[w];
            let count = available.count_ones();
            counts.available_security_update += count;
            if baseline.available_security_non_compliant {
                total_nc += count;
                security_nc += count;
                flagged_nc += count;
            }
        }
    }
    // Other = non-compliant items that are neither CRITICAL nor security updates (P3).
    let other_nc = total_nc - flagged_nc;
    (counts, [critical_nc, security_nc, other_nc], severity)
}

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;

/// A patch's state on an instance, as DescribeInstancePatches lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchState {
    Installed,
    InstalledOther,
    InstalledPendingReboot,
    InstalledRejected,
    Missing,
    NotApplicable,
    Failed,
    AvailableSecurityUpdate,
}

impl PatchState {
    pub fn as_str(self) -> &'static str {
        match self {
            PatchState::Installed => "INSTALLED",
            PatchState::InstalledOther => "INSTALLED_OTHER",
            PatchState::InstalledPendingReboot => "INSTALLED_PENDING_REBOOT",
            PatchState::InstalledRejected => "INSTALLED_REJECTED",
            PatchState::Missing => "MISSING",
            PatchState::NotApplicable => "NOT_APPLICABLE",
            PatchState::Failed => "FAILED",
            PatchState::AvailableSecurityUpdate => "AVAILABLE_SECURITY_UPDATE",
        }
    }
}

/// The state of one patch under the same rules as [`evaluate`], which counts what this
/// lists (a test checks that the two agree); `None` for a patch the instance does not
/// report at all (neither present, approved nor an available security update).
pub fn patch_state(input: &EvaluationInput<'_>, p: usize) -> Option<PatchState> {
    let baseline = input.baseline;
    let applicable = input.applicable.contains(p);
    let present = applicable && input.installed.contains(p);
    let approved = input.approved.contains(p);
    let rejected = baseline.rejected.contains(p);
    if present {
        let state = if baseline.rejected_action == RejectedAction::Block && rejected {
            PatchState::InstalledRejected
        } else if input.pending_reboot.contains(&(p as u32)) {
            PatchState::InstalledPendingReboot
        } else if approved {
            PatchState::Installed
        } else {
            PatchState::InstalledOther
        };
        return Some(state);
    }
    if approved && applicable {
        let failed = input.failed.contains(&(p as u32));
        return Some(if failed { PatchState::Failed } else { PatchState::Missing });
    }
    if approved {
        return Some(PatchState::NotApplicable);
    }
    let available = input.released.is_some_and(|r| r.contains(p)) && input.security.contains(p) && applicable;
    (available && !rejected).then_some(PatchState::AvailableSecurityUpdate)
}
