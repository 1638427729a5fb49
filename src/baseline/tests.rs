use super::*;
use crate::baseline::def::RuleDef;
use crate::catalog::{CatalogDef, PatchDef, PatchProperties, build};

const DAY: i64 = 86_400;

fn patch(id: &str, package: &str, classification: &str, severity: &str, released: i64) -> PatchDef {
    PatchDef {
        id: id.into(),
        package: package.into(),
        product: None,
        properties: PatchProperties {
            classification: Some(classification.into()),
            severity: Some(severity.into()),
            ..Default::default()
        },
        released: SimTime(released),
        reboot_required: false,
        download_mb: 1.0,
        install_duration: SimDuration(10),
        supersedes: vec![],
    }
}

fn catalog(patches: Vec<PatchDef>) -> Catalog {
    let def = CatalogDef {
        os: Os::AmazonLinux2023,
        products: vec!["AmazonLinux2023".into()],
        packages: 0,
        core_packages: 0,
        patches,
        generator: None,
    };
    build(&def, 0, 1, SimTime(0), SimTime(1000 * DAY)).unwrap()
}

fn rule(filters: &[(FilterKey, &[&str])], days: u32, level: ComplianceLevel) -> RuleDef {
    RuleDef {
        filters: filters.iter().map(|(k, v)| (*k, v.iter().map(|s| s.to_string()).collect())).collect(),
        approve_after_days: days,
        compliance_level: level,
        enable_non_security: false,
    }
}

fn baseline(rules: Vec<RuleDef>, approved: &[&str], rejected: &[&str]) -> BaselineDef {
    BaselineDef {
        name: "b".into(),
        os: Os::AmazonLinux2023,
        rules,
        approved_patches: approved.iter().map(|s| s.to_string()).collect(),
        approved_patches_compliance_level: ComplianceLevel::Medium,
        rejected_patches: rejected.iter().map(|s| s.to_string()).collect(),
        rejected_patches_action: RejectedAction::AllowAsDependency,
    }
}

#[test]
fn approve_after_days_counts_exact_24_hour_periods_from_release() {
    // A1/A2: released 2025-11-09T18:00Z, 7 days: approved at 2025-11-16T18:00Z exactly.
    let released = 1_762_711_200; // 2025-11-09T18:00:00Z
    let cat = catalog(vec![patch("P", "openssl", "Security", "Critical", released)]);
    let compiled = compile(
        &baseline(vec![rule(&[(FilterKey::Classification, &["Security"])], 7, ComplianceLevel::High)], &[], &[]),
        &cat,
    );
    assert_eq!(compiled.approvals[0].at, Some(SimTime(1_763_316_000))); // 2025-11-16T18:00:00Z
    // A2': under the whole-day (CloudFormation) reading it would already be approved at
    // 2025-11-16T00:00:01Z; under ours it is not.
    assert!(compiled.approvals[0].at.unwrap() > SimTime(1_763_251_201));
}

#[test]
fn zero_days_approves_at_release() {
    let cat = catalog(vec![patch("P", "x", "Security", "Low", 5 * DAY)]);
    let compiled = compile(&baseline(vec![rule(&[], 0, ComplianceLevel::Low)], &[], &[]), &cat);
    assert_eq!(compiled.approvals[0].at, Some(SimTime(5 * DAY)));
}

#[test]
fn all_filters_must_match_and_any_value_of_a_filter_may() {
    let cat = catalog(vec![
        patch("A", "a", "Security", "Critical", 0),
        patch("B", "b", "Security", "Low", 0),
        patch("C", "c", "Bugfix", "Critical", 0),
    ]);
    let compiled = compile(
        &baseline(
            vec![rule(
                &[(FilterKey::Classification, &["Security"]), (FilterKey::Severity, &["Critical", "Important"])],
                0,
                ComplianceLevel::Critical,
            )],
            &[],
            &[],
        ),
        &cat,
    );
    let approved: Vec<bool> = compiled.approvals.iter().map(|a| a.at.is_some()).collect();
    assert_eq!(approved, vec![true, false, false]);
    assert!(compiled.critical.contains(0) && !compiled.critical.contains(1));
}

#[test]
fn two_matching_rules_give_the_earliest_instant_and_the_highest_level() {
    let cat = catalog(vec![patch("A", "a", "Security", "Critical", 0)]);
    let compiled = compile(
        &baseline(
            vec![
                rule(&[(FilterKey::Severity, &["Critical"])], 7, ComplianceLevel::Critical),
                rule(&[(FilterKey::Classification, &["*"])], 2, ComplianceLevel::Low),
            ],
            &[],
            &[],
        ),
        &cat,
    );
    assert_eq!(compiled.approvals[0], Approval { at: Some(SimTime(2 * DAY)), level: ComplianceLevel::Critical });
}

#[test]
fn a_patch_on_both_lists_is_rejected_and_the_approved_list_overrides_rules() {
    // A10 and the approved-list half of A11.
    let cat = catalog(vec![patch("A", "kernel", "Bugfix", "Low", DAY), patch("B", "nginx", "Bugfix", "Low", DAY)]);
    let compiled = compile(&baseline(vec![], &["kernel", "nginx"], &["kern*"]), &cat);
    assert_eq!(compiled.approvals[0].at, None);
    assert!(compiled.rejected.contains(0));
    assert_eq!(compiled.approvals[1], Approval { at: Some(SimTime(DAY)), level: ComplianceLevel::Medium });
}

#[test]
fn amazon_linux_2023_medium_also_matches_moderate() {
    let cat = catalog(vec![patch("A", "a", "Security", "Moderate", 0)]);
    let compiled = compile(
        &baseline(vec![rule(&[(FilterKey::Severity, &["Medium"])], 0, ComplianceLevel::Medium)], &[], &[]),
        &cat,
    );
    assert!(compiled.approvals[0].at.is_some());
}

#[test]
fn entries_match_ids_names_and_single_star_globs() {
    assert!(entry_matches("ALAS-1", "ALAS-1", "openssl"));
    assert!(entry_matches("openssl", "ALAS-1", "openssl"));
    assert!(entry_matches("open*", "ALAS-1", "openssl"));
    assert!(entry_matches("*ssl", "ALAS-1", "openssl"));
    assert!(entry_matches("o*l", "ALAS-1", "openssl"));
    assert!(!entry_matches("x*", "ALAS-1", "openssl"));
    assert!(!entry_matches("openssl-libs", "ALAS-1", "openssl"));
}
