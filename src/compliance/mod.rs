//! Compliance as AWS reports it: per-patch states, the instance summary of
//! DescribeInstancePatchStates, and fleet roll-ups per patch group.
//!
//! An instance's compliance data is a snapshot written by its last Scan or Install: it
//! changes only when an operation reports, and every report replaces the previous one
//! whichever baseline produced it. Roll-ups are therefore kept incrementally: replacing a
//! report subtracts the old one from its group's counters and adds the new one.

mod report;
mod words;

pub use report::{
    Evaluation, EvaluationInput, InstanceReport, Operation, PatchCounts, PatchState, RebootOption, evaluate,
    patch_state,
};

use serde::Serialize;

/// Counters of one patch group at one instant; the rows of `compliance.csv`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct GroupCounters {
    pub instances: u64,
    pub compliant: u64,
    pub non_compliant: u64,
    /// Instances that have not reported yet (no Scan or Install has completed).
    pub unreported: u64,
    /// Sum of MissingCount over the group's instances.
    pub missing_patches: u64,
    /// Sum of FailedCount.
    pub failed_patches: u64,
    /// Sum of InstalledPendingRebootCount.
    pub pending_reboot_patches: u64,
    /// Instances with CriticalNonCompliantCount > 0.
    pub critical_non_compliant: u64,
    /// Filled at each sample, not by reports: instances whose agent has been unreachable
    /// longer than the ConnectionLost threshold.
    pub connection_lost: u64,
    /// The truth now, whatever was last reported: instances missing no approved applicable
    /// patch and waiting for no reboot ...
    pub true_compliant: u64,
    /// ... the others ...
    pub true_non_compliant: u64,
    /// ... and the approved applicable patches missing, or installed but not yet effective.
    pub true_missing_patches: u64,
}

/// The metric names of `compliance.csv`, in the order rows are written.
pub const METRICS: [&str; 12] = [
    "instances",
    "compliant",
    "non_compliant",
    "unreported",
    "missing_patches",
    "failed_patches",
    "pending_reboot_patches",
    "critical_non_compliant",
    "connection_lost",
    "true_compliant",
    "true_non_compliant",
    "true_missing_patches",
];

impl GroupCounters {
    pub fn values(&self) -> [u64; 12] {
        [
            self.instances,
            self.compliant,
            self.non_compliant,
            self.unreported,
            self.missing_patches,
            self.failed_patches,
            self.pending_reboot_patches,
            self.critical_non_compliant,
            self.connection_lost,
            self.true_compliant,
            self.true_non_compliant,
            self.true_missing_patches,
        ]
    }

    /// Adds (`sign = 1`) or removes (`sign = -1`) one instance's report.
    pub fn apply(&mut self, report: Option<&InstanceReport>, sign: i64) {
        let add = |field: &mut u64, amount: u64| {
            *field = (*field as i64 + sign * amount as i64) as u64;
        };
        match report {
            None => add(&mut self.unreported, 1),
            Some(report) => {
                if report.is_compliant() {
                    add(&mut self.compliant, 1);
                } else {
                    add(&mut self.non_compliant, 1);
                }
                add(&mut self.missing_patches, report.counts.missing as u64);
                add(&mut self.failed_patches, report.counts.failed as u64);
                add(&mut self.pending_reboot_patches, report.counts.installed_pending_reboot as u64);
                if report.critical_non_compliant > 0 {
                    add(&mut self.critical_non_compliant, 1);
                }
            }
        }
    }

    /// Adds the counts that `apply` changed in another counter that started at zero (the
    /// change of several reports). Both wrap, so the result is that of applying the same
    /// steps here, in any order.
    pub fn absorb(&mut self, change: &GroupCounters) {
        self.compliant = self.compliant.wrapping_add(change.compliant);
        self.non_compliant = self.non_compliant.wrapping_add(change.non_compliant);
        self.unreported = self.unreported.wrapping_add(change.unreported);
        self.missing_patches = self.missing_patches.wrapping_add(change.missing_patches);
        self.failed_patches = self.failed_patches.wrapping_add(change.failed_patches);
        self.pending_reboot_patches = self.pending_reboot_patches.wrapping_add(change.pending_reboot_patches);
        self.critical_non_compliant = self.critical_non_compliant.wrapping_add(change.critical_non_compliant);
    }

    /// The share of instances that are compliant, in `[0, 1]`; unreported instances count
    /// as not compliant.
    pub fn compliant_share(&self) -> f64 {
        if self.instances == 0 { 0.0 } else { self.compliant as f64 / self.instances as f64 }
    }
}
