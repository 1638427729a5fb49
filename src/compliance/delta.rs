//! A report brought up to date with patches its baseline approved after it was evaluated,
//! patch by patch instead of a new pass over every word.
//!
//! A Scan's counts are sums over patches of what each patch adds, plus a maximum for the
//! severity. When nothing on the instance changed and its baseline only approved more
//! patches, the new report differs from the old one by what each newly approved patch adds
//! now minus what it added before (approved and not approved are the only difference). An
//! approval never lowers the severity: a patch that was not approved raised it by nothing.
//! [`contribution`] mirrors [`super::evaluate`] for one patch, formula by formula (the word
//! pass, then the FAILED, pending-reboot and AVAILABLE_SECURITY_UPDATE adjustments); a
//! proptest holds its sum over a catalog equal to the full evaluation.

use super::report::{EvaluationInput, InstanceReport};
use crate::baseline::{ComplianceLevel, RejectedAction};

/// What one patch adds to a report, in signed units so two can be subtracted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Contribution {
    installed: i64,
    installed_other: i64,
    installed_pending_reboot: i64,
    installed_rejected: i64,
    missing: i64,
    failed: i64,
    not_applicable: i64,
    available_security_update: i64,
    critical_nc: i64,
    security_nc: i64,
    /// Non-compliant items, and those of them that are CRITICAL or security updates.
    total_nc: i64,
    flagged_nc: i64,
    /// The level this patch raises the severity to, if it raises it.
    level: Option<ComplianceLevel>,
}

/// What patch `p` adds to the evaluation of `input`, with its approval taken as `approved`
/// whatever `input.approved` says.
fn contribution(input: &EvaluationInput<'_>, p: usize, approved: bool) -> Contribution {
    let baseline = input.baseline;
    let block = baseline.rejected_action == RejectedAction::Block;
    let applicable = input.applicable.contains(p);
    let installed = input.installed.contains(p);
    let present = installed && applicable;
    let (critical, security, rejected) =
        (baseline.critical.contains(p), input.security.contains(p), baseline.rejected.contains(p));
    let missing = approved && applicable && !present;
    let rejected_present = block && present && rejected;
    let non_compliant = missing || rejected_present;
    let one = |b: bool| i64::from(b);
    let mut c = Contribution {
        installed: one(present && approved),
        installed_other: one(present && !approved && !rejected_present),
        installed_rejected: one(rejected_present),
        missing: one(missing),
        not_applicable: one(approved && !applicable),
        critical_nc: one(missing && critical),
        security_nc: one(non_compliant && security),
        total_nc: one(non_compliant),
        flagged_nc: one(non_compliant && (critical || security)),
        level: missing.then(|| baseline.approvals[p].level),
        ..Contribution::default()
    };
    if missing && input.failed.contains(&(p as u32)) {
        c.missing -= 1;
        c.failed += 1;
    }
    if present && input.pending_reboot.contains(&(p as u32)) && !(!approved && block && rejected) {
        if approved {
            c.installed -= 1;
            c.level = Some(baseline.approvals[p].level);
            c.critical_nc += one(critical);
        } else {
            c.installed_other -= 1;
        }
        c.installed_pending_reboot += 1;
        c.total_nc += 1;
        c.security_nc += one(security);
        c.flagged_nc += one(security || critical);
    }
    if let Some(released) = input.released {
        let available = released.contains(p) && security && applicable && !installed && !approved && !rejected;
        c.available_security_update += one(available);
        if available && baseline.available_security_non_compliant {
            c.total_nc += 1;
            c.security_nc += 1;
            c.flagged_nc += 1;
        }
    }
    c
}

/// Brings `report`, evaluated against `input`'s approved set without `newly_approved`, up
/// to date with them: the report a full evaluation of `input` gives. `input.approved` holds
/// the new set; every other input is the one the report was evaluated with.
pub fn add_approvals(report: &mut InstanceReport, input: &EvaluationInput<'_>, newly_approved: &[u32]) {
    let mut d = Contribution::default();
    let mut severity = report.overall_severity;
    for &patch in newly_approved {
        let p = patch as usize;
        let (before, after) = (contribution(input, p, false), contribution(input, p, true));
        d.installed += after.installed - before.installed;
        d.installed_other += after.installed_other - before.installed_other;
        d.installed_pending_reboot += after.installed_pending_reboot - before.installed_pending_reboot;
        d.installed_rejected += after.installed_rejected - before.installed_rejected;
        d.missing += after.missing - before.missing;
        d.failed += after.failed - before.failed;
        d.not_applicable += after.not_applicable - before.not_applicable;
        d.available_security_update += after.available_security_update - before.available_security_update;
        d.critical_nc += after.critical_nc - before.critical_nc;
        d.security_nc += after.security_nc - before.security_nc;
        d.total_nc += after.total_nc - before.total_nc;
        d.flagged_nc += after.flagged_nc - before.flagged_nc;
        if let Some(level) = after.level {
            severity = severity.max(level);
        }
    }
    let add = |count: &mut u32, delta: i64| *count = (i64::from(*count) + delta) as u32;
    let counts = &mut report.counts;
    add(&mut counts.installed, d.installed);
    add(&mut counts.installed_other, d.installed_other);
    add(&mut counts.installed_pending_reboot, d.installed_pending_reboot);
    add(&mut counts.installed_rejected, d.installed_rejected);
    add(&mut counts.missing, d.missing);
    add(&mut counts.failed, d.failed);
    add(&mut counts.not_applicable, d.not_applicable);
    add(&mut counts.available_security_update, d.available_security_update);
    add(&mut report.critical_non_compliant, d.critical_nc);
    add(&mut report.security_non_compliant, d.security_nc);
    add(&mut report.other_non_compliant, d.total_nc - d.flagged_nc);
    report.overall_severity = severity;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::{Approval, ApprovalSource, CompiledBaseline, LEVELS};
    use crate::bitset::BitSet;
    use crate::catalog::Os;
    use crate::compliance::{Operation, RebootOption, evaluate};
    use crate::time::SimTime;

    /// One random catalog, baseline and instance; every set drawn independently, so that
    /// combinations the simulator rarely makes (a pending-reboot patch not approved yet
    /// but CRITICAL by its rule, a rejected one pending) are covered too.
    #[derive(Debug, Clone)]
    struct Case {
        /// Per patch: the level its rule gives, if a rule ever approves it.
        levels: Vec<Option<usize>>,
        approved_now: Vec<bool>,
        rejected: Vec<bool>,
        block: bool,
        asu_non_compliant: bool,
        windows: bool,
        applicable: Vec<bool>,
        installed: Vec<bool>,
        security: Vec<bool>,
        released: Vec<bool>,
        failed: Vec<u32>,
        pending: Vec<u32>,
    }

    fn bits(flags: &[bool]) -> BitSet {
        let mut set = BitSet::new(flags.len());
        flags.iter().enumerate().filter(|(_, f)| **f).for_each(|(i, _)| set.insert(i));
        set
    }

    fn compiled(case: &Case, approved: &[bool]) -> CompiledBaseline {
        let n = case.levels.len();
        let mut critical = BitSet::new(n);
        let mut by_level: Vec<BitSet> = LEVELS.iter().map(|_| BitSet::new(n)).collect();
        let approvals = (0..n)
            .map(|p| {
                let level = case.levels[p].map(|l| LEVELS[l]);
                if let Some(l) = case.levels[p] {
                    by_level[l].insert(p);
                    if LEVELS[l] == ComplianceLevel::Critical {
                        critical.insert(p);
                    }
                }
                Approval {
                    at: level.map(|_| SimTime(0)),
                    level: level.unwrap_or_default(),
                    source: ApprovalSource::NoRule,
                }
            })
            .collect();
        CompiledBaseline {
            name: "b".into(),
            os: if case.windows { Os::Windows } else { Os::AmazonLinux2023 },
            approvals,
            rejected: bits(&case.rejected),
            rejected_action: if case.block { RejectedAction::Block } else { RejectedAction::AllowAsDependency },
            available_security_non_compliant: case.asu_non_compliant,
            approved: bits(approved).into(),
            critical,
            by_level,
        }
    }

    fn report_of(input: &EvaluationInput<'_>) -> InstanceReport {
        let (counts, [critical, security, other], severity) = evaluate(input);
        InstanceReport {
            operation: Operation::Scan,
            reboot_option: RebootOption::RebootIfNeeded,
            start: SimTime(0),
            end: SimTime(90),
            baseline: 0,
            snapshot: 0,
            counts,
            critical_non_compliant: critical,
            security_non_compliant: security,
            other_non_compliant: other,
            overall_severity: severity,
            last_no_reboot_install: None,
            available_security_non_compliant: input.baseline.available_security_non_compliant,
        }
    }

    fn case_strategy() -> impl proptest::strategy::Strategy<Value = Case> {
        use proptest::collection::vec;
        use proptest::prelude::*;
        (1usize..400).prop_flat_map(|n| {
            let level = prop_oneof![Just(None), (0..LEVELS.len()).prop_map(Some)];
            let flags = move || vec(any::<bool>(), n);
            (
                (vec(level, n), flags(), flags(), any::<bool>(), any::<bool>(), any::<bool>()),
                (flags(), flags(), flags(), flags(), vec(0u32..n as u32, 0..8), vec(0u32..n as u32, 0..8)),
            )
                .prop_map(|((levels, approved_now, rejected, block, asu, windows), rest)| {
                    let (applicable, installed, security, released, mut failed, mut pending) = rest;
                    failed.sort_unstable();
                    failed.dedup();
                    pending.sort_unstable();
                    pending.dedup();
                    Case {
                        levels,
                        approved_now,
                        rejected,
                        block,
                        asu_non_compliant: asu,
                        windows,
                        applicable,
                        installed,
                        security,
                        released,
                        failed,
                        pending,
                    }
                })
        })
    }

    proptest::proptest! {
        /// A report evaluated before some approvals, brought up to date with them, is the
        /// report a full evaluation after them gives.
        #[test]
        fn approvals_added_to_a_report_give_the_full_evaluation(case in case_strategy()) {
            let n = case.levels.len();
            // Approved before: those approved now and ever approvable; then every patch a
            // rule approves and a third of the rest (a list can approve without a rule).
            let before: Vec<bool> = (0..n).map(|p| case.approved_now[p] && case.levels[p].is_some()).collect();
            let after: Vec<bool> = (0..n).map(|p| before[p] || case.levels[p].is_some() || p % 3 == 0).collect();
            let newly: Vec<u32> = (0..n as u32).filter(|&p| after[p as usize] && !before[p as usize]).collect();
            let (old, new) = (compiled(&case, &before), compiled(&case, &after));
            let (applicable, installed, security, released) =
                (bits(&case.applicable), bits(&case.installed), bits(&case.security), bits(&case.released));
            let (old_input, new_input) = [&old, &new].map(|baseline| EvaluationInput {
                baseline,
                approved: &baseline.approved,
                security: &security,
                applicable: &applicable,
                installed: &installed,
                failed: &case.failed,
                pending_reboot: &case.pending,
                released: case.windows.then_some(&released),
            }).into();
            let mut report = report_of(&old_input);
            add_approvals(&mut report, &new_input, &newly);
            proptest::prop_assert_eq!(report, report_of(&new_input));
        }
    }
}
