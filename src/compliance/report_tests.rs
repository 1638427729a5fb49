//! The compliance derivation cases of section 11.4 (P1 to P4, P12), on bitsets.

use super::*;
use crate::baseline::{Approval, CompiledBaseline};
use crate::catalog::Os;

/// A baseline over `n` patches where `approved[i]` gives patch i's level if approved.
fn baseline(levels: &[Option<ComplianceLevel>], rejected: &[usize], action: RejectedAction) -> CompiledBaseline {
    let n = levels.len();
    let mut approved = BitSet::new(n);
    let mut critical = BitSet::new(n);
    let mut rejected_set = BitSet::new(n);
    let approvals = levels
        .iter()
        .enumerate()
        .map(|(i, level)| {
            if let Some(level) = level {
                approved.insert(i);
                if *level == ComplianceLevel::Critical {
                    critical.insert(i);
                }
            }
            Approval { at: level.map(|_| SimTime(0)), level: level.unwrap_or_default() }
        })
        .collect();
    for &r in rejected {
        rejected_set.insert(r);
    }
    CompiledBaseline {
        name: "b".into(),
        os: Os::AmazonLinux2,
        approvals,
        rejected: rejected_set,
        rejected_action: action,
        approved,
        critical,
    }
}

fn set(n: usize, members: impl IntoIterator<Item = usize>) -> BitSet {
    let mut s = BitSet::new(n);
    members.into_iter().for_each(|m| s.insert(m));
    s
}

fn is_compliant(counts: PatchCounts) -> bool {
    InstanceReport {
        operation: Operation::Scan,
        reboot_option: RebootOption::NoReboot,
        start: SimTime(0),
        end: SimTime(0),
        baseline: 0,
        counts,
        critical_non_compliant: 0,
        security_non_compliant: 0,
        other_non_compliant: 0,
        overall_severity: ComplianceLevel::Unspecified,
        last_no_reboot_install: None,
    }
    .is_compliant()
}

#[test]
fn p1_installed_other_and_not_applicable_are_compliant() {
    // 10 approved+installed, 3 installed but not approved, 40 approved but not applicable.
    let n = 53;
    let levels: Vec<_> =
        (0..n).map(|i| if (10..13).contains(&i) { None } else { Some(ComplianceLevel::High) }).collect();
    let b = baseline(&levels, &[], RejectedAction::AllowAsDependency);
    let applicable = set(n, 0..13);
    let installed = set(n, 0..13);
    let security = BitSet::new(n);
    let input = EvaluationInput {
        baseline: &b,
        security: &security,
        applicable: &applicable,
        installed: &installed,
        failed: &[],
        pending_reboot: &[],
    };
    let (counts, flags, severity) = evaluate(&input);
    assert_eq!((counts.installed, counts.installed_other, counts.not_applicable, counts.missing), (10, 3, 40, 0));
    assert!(is_compliant(counts));
    assert_eq!(flags, [0, 0, 0]);
    assert_eq!(severity, ComplianceLevel::Unspecified);
}

#[test]
fn p2_one_missing_high_patch_makes_the_instance_non_compliant_high() {
    let n = 3;
    let b = baseline(
        &[Some(ComplianceLevel::Low), Some(ComplianceLevel::High), None],
        &[],
        RejectedAction::AllowAsDependency,
    );
    let applicable = set(n, 0..3);
    let installed = set(n, [0]);
    let security = BitSet::new(n);
    let input = EvaluationInput {
        baseline: &b,
        security: &security,
        applicable: &applicable,
        installed: &installed,
        failed: &[],
        pending_reboot: &[],
    };
    let (counts, flags, severity) = evaluate(&input);
    assert_eq!(counts.missing, 1);
    assert!(!is_compliant(counts));
    assert_eq!(severity, ComplianceLevel::High);
    assert_eq!(flags, [0, 0, 1]);
}

#[test]
fn p3_critical_security_and_low_bugfix_split_into_critical_security_and_other() {
    let n = 2;
    let b = baseline(
        &[Some(ComplianceLevel::Critical), Some(ComplianceLevel::Low)],
        &[],
        RejectedAction::AllowAsDependency,
    );
    let applicable = set(n, 0..2);
    let installed = BitSet::new(n);
    let security = set(n, [0]);
    let input = EvaluationInput {
        baseline: &b,
        security: &security,
        applicable: &applicable,
        installed: &installed,
        failed: &[],
        pending_reboot: &[],
    };
    let (counts, flags, severity) = evaluate(&input);
    assert_eq!(counts.missing, 2);
    assert_eq!(flags, [1, 1, 1]);
    assert_eq!(severity, ComplianceLevel::Critical);
}

#[test]
fn p4_predefined_baseline_levels_are_unspecified() {
    let n = 2;
    let b = baseline(
        &[Some(ComplianceLevel::Unspecified), Some(ComplianceLevel::Unspecified)],
        &[],
        RejectedAction::AllowAsDependency,
    );
    let applicable = set(n, 0..2);
    let installed = BitSet::new(n);
    let security = BitSet::new(n);
    let input = EvaluationInput {
        baseline: &b,
        security: &security,
        applicable: &applicable,
        installed: &installed,
        failed: &[],
        pending_reboot: &[],
    };
    let (counts, _, severity) = evaluate(&input);
    assert_eq!(counts.missing, 2);
    assert!(!is_compliant(counts));
    assert_eq!(severity, ComplianceLevel::Unspecified);
}

#[test]
fn failed_and_pending_reboot_patches_move_out_of_missing_and_installed() {
    let n = 4;
    let b = baseline(&[Some(ComplianceLevel::Medium); 4], &[], RejectedAction::AllowAsDependency);
    let applicable = set(n, 0..4);
    let installed = set(n, [0, 1]);
    let security = BitSet::new(n);
    let input = EvaluationInput {
        baseline: &b,
        security: &security,
        applicable: &applicable,
        installed: &installed,
        failed: &[2],
        pending_reboot: &[1],
    };
    let (counts, flags, _) = evaluate(&input);
    assert_eq!((counts.installed, counts.installed_pending_reboot, counts.failed, counts.missing), (1, 1, 1, 1));
    assert_eq!(flags[2], 3);
}

#[test]
fn rejected_installed_patches_depend_on_the_rejected_action() {
    let n = 2;
    let applicable = set(n, 0..2);
    let installed = set(n, [0]);
    let security = BitSet::new(n);
    for (action, rejected_count, other_count) in
        [(RejectedAction::Block, 1, 0), (RejectedAction::AllowAsDependency, 0, 1)]
    {
        let b = baseline(&[None, Some(ComplianceLevel::Low)], &[0], action);
        let input = EvaluationInput {
            baseline: &b,
            security: &security,
            applicable: &applicable,
            installed: &installed,
            failed: &[],
            pending_reboot: &[],
        };
        let (counts, _, _) = evaluate(&input);
        assert_eq!((counts.installed_rejected, counts.installed_other), (rejected_count, other_count), "{action:?}");
    }
}
