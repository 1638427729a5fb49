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
    let mut by_level: Vec<BitSet> = crate::baseline::LEVELS.iter().map(|_| BitSet::new(n)).collect();
    let approvals = levels
        .iter()
        .enumerate()
        .map(|(i, level)| {
            if let Some(level) = level {
                approved.insert(i);
                by_level[*level as usize].insert(i);
                if *level == ComplianceLevel::Critical {
                    critical.insert(i);
                }
            }
            Approval {
                at: level.map(|_| SimTime(0)),
                level: level.unwrap_or_default(),
                source: crate::baseline::ApprovalSource::NoRule,
            }
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
        available_security_non_compliant: false,
        approved: approved.into(),
        critical,
        by_level,
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
        snapshot: 0,
        counts,
        critical_non_compliant: 0,
        security_non_compliant: 0,
        other_non_compliant: 0,
        overall_severity: ComplianceLevel::Unspecified,
        last_no_reboot_install: None,
        available_security_non_compliant: false,
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
        approved: &b.approved,
        security: &security,
        applicable: &applicable,
        installed: &installed,
        failed: &[],
        pending_reboot: &[],
        released: None,
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
        approved: &b.approved,
        security: &security,
        applicable: &applicable,
        installed: &installed,
        failed: &[],
        pending_reboot: &[],
        released: None,
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
        approved: &b.approved,
        security: &security,
        applicable: &applicable,
        installed: &installed,
        failed: &[],
        pending_reboot: &[],
        released: None,
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
        approved: &b.approved,
        security: &security,
        applicable: &applicable,
        installed: &installed,
        failed: &[],
        pending_reboot: &[],
        released: None,
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
        approved: &b.approved,
        security: &security,
        applicable: &applicable,
        installed: &installed,
        failed: &[2],
        pending_reboot: &[1],
        released: None,
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
            approved: &b.approved,
            security: &security,
            applicable: &applicable,
            installed: &installed,
            failed: &[],
            pending_reboot: &[],
            released: None,
        };
        let (counts, _, _) = evaluate(&input);
        assert_eq!((counts.installed_rejected, counts.installed_other), (rejected_count, other_count), "{action:?}");
    }
}

/// The state of one patch on one instance, decided the slow, obvious way (section 4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Installed,
    InstalledOther,
    InstalledPendingReboot,
    InstalledRejected,
    Missing,
    Failed,
    NotApplicable,
    Nothing,
}

#[derive(Debug)]
struct Case {
    levels: Vec<Option<ComplianceLevel>>,
    rejected: Vec<bool>,
    block: bool,
    applicable: Vec<bool>,
    installed: Vec<bool>,
    security: Vec<bool>,
    failed: Vec<u32>,
    pending: Vec<u32>,
}

fn slow_state(case: &Case, p: usize) -> State {
    let approved = case.levels[p].is_some();
    // A present patch that no longer applies (a superseded Windows update) is reported
    // only as NOT_APPLICABLE, if approved.
    if case.installed[p] && case.applicable[p] {
        if case.block && case.rejected[p] {
            State::InstalledRejected
        } else if case.pending.contains(&(p as u32)) {
            State::InstalledPendingReboot
        } else if approved {
            State::Installed
        } else {
            State::InstalledOther
        }
    } else if approved && case.applicable[p] {
        if case.failed.contains(&(p as u32)) { State::Failed } else { State::Missing }
    } else if approved {
        State::NotApplicable
    } else {
        State::Nothing
    }
}

fn slow_evaluate(case: &Case) -> (PatchCounts, [u32; 3], ComplianceLevel) {
    let mut counts = PatchCounts::default();
    let mut flags = [0u32; 3];
    let mut severity = ComplianceLevel::Unspecified;
    for p in 0..case.levels.len() {
        let state = slow_state(case, p);
        match state {
            State::Installed => counts.installed += 1,
            State::InstalledOther => counts.installed_other += 1,
            State::InstalledPendingReboot => counts.installed_pending_reboot += 1,
            State::InstalledRejected => counts.installed_rejected += 1,
            State::Missing => counts.missing += 1,
            State::Failed => counts.failed += 1,
            State::NotApplicable => counts.not_applicable += 1,
            State::Nothing => {}
        }
        let non_compliant =
            matches!(state, State::Missing | State::Failed | State::InstalledRejected | State::InstalledPendingReboot);
        if !non_compliant {
            continue;
        }
        let level = if state == State::InstalledRejected { None } else { case.levels[p] };
        let critical = level == Some(ComplianceLevel::Critical);
        if critical {
            flags[0] += 1;
        }
        if case.security[p] {
            flags[1] += 1;
        }
        if !critical && !case.security[p] {
            flags[2] += 1;
        }
        severity = severity.max(level.unwrap_or_default());
    }
    (counts, flags, severity)
}

fn case_strategy() -> impl proptest::strategy::Strategy<Value = Case> {
    use proptest::prelude::*;
    // Large catalogs too, so that a vectorized pass runs its vector body (8 words at a
    // time with AVX-512), not only its scalar tail.
    prop_oneof![1usize..300, 300usize..1500].prop_flat_map(|n| {
        let level = prop_oneof![Just(None), (0usize..6).prop_map(|i| Some(crate::baseline::LEVELS[i]))];
        (
            proptest::collection::vec(level, n),
            proptest::collection::vec(any::<bool>(), n),
            any::<bool>(),
            proptest::collection::vec(any::<bool>(), n),
            proptest::collection::vec(any::<bool>(), n),
            proptest::collection::vec(any::<bool>(), n),
            proptest::collection::vec(0u32..n as u32, 0..6),
            proptest::collection::vec(0u32..n as u32, 0..6),
        )
            .prop_map(|(levels, rejected, block, applicable, installed, security, failed, pending)| {
                // A rejected patch is never approved. Installed need not be a subset of
                // applicable: superseded Windows updates stay present after they leave the
                // catalog.
                let levels = levels.iter().zip(&rejected).map(|(l, r)| if *r { None } else { *l }).collect();
                let mut failed = failed;
                failed.sort_unstable();
                failed.dedup();
                let mut pending: Vec<u32> = pending.into_iter().filter(|p| installed[*p as usize]).collect();
                pending.sort_unstable();
                pending.dedup();
                Case { levels, rejected, block, applicable, installed, security, failed, pending }
            })
    })
}

proptest::proptest! {
    /// The bitset evaluator agrees with the per-patch evaluator on random catalogs,
    /// baselines and instance states.
    #[test]
    fn the_bitset_evaluator_agrees_with_the_obvious_one(case in case_strategy()) {
        let n = case.levels.len();
        let rejected: Vec<usize> = (0..n).filter(|&p| case.rejected[p]).collect();
        let action = if case.block { RejectedAction::Block } else { RejectedAction::AllowAsDependency };
        let b = baseline(&case.levels, &rejected, action);
        let applicable = set(n, (0..n).filter(|&p| case.applicable[p]));
        let installed = set(n, (0..n).filter(|&p| case.installed[p]));
        let security = set(n, (0..n).filter(|&p| case.security[p]));
        let input = EvaluationInput {
            baseline: &b,
            approved: &b.approved,
            security: &security,
            applicable: &applicable,
            installed: &installed,
            failed: &case.failed,
            pending_reboot: &case.pending,
            released: None,
        };
        let expected = slow_evaluate(&case);
        proptest::prop_assert_eq!(evaluate(&input), expected);
        // The portable pass too, whichever pass this machine's CPU gives `evaluate`.
        proptest::prop_assert_eq!(evaluate_with(&input, super::words::sums_portable), expected);
        // And the AVX2 pass, which a CPU with AVX-512 VPOPCNTDQ would not pick.
        #[cfg(target_arch = "x86_64")]
        proptest::prop_assert_eq!(evaluate_with(&input, super::words::sums_avx2), expected);
        // The per-patch listing (DescribeInstancePatches) agrees state by state.
        for p in 0..n {
            let slow = match slow_state(&case, p) {
                State::Installed => Some(PatchState::Installed),
                State::InstalledOther => Some(PatchState::InstalledOther),
                State::InstalledPendingReboot => Some(PatchState::InstalledPendingReboot),
                State::InstalledRejected => Some(PatchState::InstalledRejected),
                State::Missing => Some(PatchState::Missing),
                State::Failed => Some(PatchState::Failed),
                State::NotApplicable => Some(PatchState::NotApplicable),
                State::Nothing => None,
            };
            proptest::prop_assert_eq!(patch_state(&input, p), slow, "patch {}", p);
        }
    }
}
