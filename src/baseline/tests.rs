//! Approval: the cases A1 to A11 of section 11.3 of the semantics reference, and the
//! evaluation order of section 1.5.

use super::*;
use crate::baseline::def::{ApprovalDelay, RuleDef};
use crate::catalog::{CatalogDef, PatchDates, PatchDef, PatchProperties, build};

const DAY: i64 = 86_400;

/// Seconds since the epoch of an RFC 3339 instant, computed by the schedule module's parser
/// (tested on its own against python's zoneinfo).
fn at(text: &str) -> SimTime {
    SimTime(crate::schedule::parse_instant(text).unwrap())
}

fn patch(id: &str, package: &str, classification: &str, severity: &str, released: SimTime) -> PatchDef {
    PatchDef {
        id: id.into(),
        package: package.into(),
        product: None,
        properties: PatchProperties {
            classification: Some(classification.into()),
            severity: Some(severity.into()),
            ..Default::default()
        },
        released,
        dates: PatchDates::default(),
        cves: vec![],
        reboot_required: false,
        download_mb: 1.0,
        install_duration: SimDuration(10),
        supersedes: vec![],
    }
}

fn catalog_of(os: Os, patches: Vec<PatchDef>) -> Catalog {
    let def =
        CatalogDef { os, products: vec!["Product".into()], packages: 0, core_packages: 0, patches, generator: None };
    build(&def, 0, 1, SimTime(0), at("2030-01-01T00:00:00Z")).unwrap()
}

fn catalog(patches: Vec<PatchDef>) -> Catalog {
    catalog_of(Os::AmazonLinux2023, patches)
}

fn rule(filters: &[(FilterKey, &[&str])], days: u32, level: ComplianceLevel) -> RuleDef {
    RuleDef {
        filters: filters.iter().map(|(k, v)| (*k, v.iter().map(|s| s.to_string()).collect())).collect(),
        delay: ApprovalDelay::AfterDays(days),
        compliance_level: level,
        enable_non_security: false,
    }
}

fn baseline_of(os: Os, rules: Vec<RuleDef>, approved: &[&str], rejected: &[&str]) -> BaselineDef {
    BaselineDef {
        name: "b".into(),
        os,
        description: String::new(),
        global_filters: vec![],
        rules,
        approved_patches: approved.iter().map(|s| s.to_string()).collect(),
        approved_patches_compliance_level: ComplianceLevel::Medium,
        approved_patches_enable_non_security: false,
        rejected_patches: rejected.iter().map(|s| s.to_string()).collect(),
        rejected_patches_action: RejectedAction::AllowAsDependency,
        available_security_updates_non_compliant: false,
    }
}

fn baseline(rules: Vec<RuleDef>, approved: &[&str], rejected: &[&str]) -> BaselineDef {
    baseline_of(Os::AmazonLinux2023, rules, approved, rejected)
}

fn security_rule(days: u32) -> RuleDef {
    rule(&[(FilterKey::Classification, &["Security"])], days, ComplianceLevel::High)
}

/// API reference, PatchRule (ApproveAfterDays): the delay counts whole UTC days; with 7,
/// patches released any time on the UTC day seven days back are approved.
#[test]
fn a1_a2_approve_after_days_counts_whole_utc_days() {
    let cat = catalog(vec![patch("P", "openssl", "Security", "Critical", at("2025-11-09T18:00:00Z"))]);
    let compiled = compile(&baseline(vec![security_rule(7)], &[], &[]), &cat);
    let approved_at = compiled.approvals[0].at.unwrap();
    assert_eq!(approved_at, at("2025-11-16T00:00:00Z"));
    // A1: the last second of 11-15, not yet approved; A2: midnight of 11-16, approved.
    assert!(at("2025-11-15T23:59:59Z") < approved_at);
    assert!(at("2025-11-16T00:00:00Z") >= approved_at);
}

/// API reference, PatchRule: approval counts from the day, but never precedes the release.
#[test]
fn a2_prime_zero_days_never_approves_before_the_release() {
    let cat = catalog(vec![patch("P", "openssl", "Security", "Critical", at("2025-11-09T18:00:00Z"))]);
    let compiled = compile(&baseline(vec![security_rule(0)], &[], &[]), &cat);
    let approved_at = compiled.approvals[0].at.unwrap();
    assert!(at("2025-11-09T17:59:00Z") < approved_at, "not before the release");
    assert_eq!(approved_at, at("2025-11-09T18:00:00Z"));
}

/// Whole UTC days also for a patch released in the last second of a day.
#[test]
fn a_patch_released_at_the_end_of_a_day_counts_that_day() {
    let cat = catalog(vec![patch("P", "openssl", "Security", "Critical", at("2025-11-09T23:59:59Z"))]);
    let compiled = compile(&baseline(vec![security_rule(1)], &[], &[]), &cat);
    assert_eq!(compiled.approvals[0].at, Some(at("2025-11-10T00:00:00Z")));
}

#[test]
fn a3_zero_days_approves_at_release() {
    let cat = catalog(vec![patch("P", "x", "Security", "Low", at("2025-05-01T00:00:00Z"))]);
    let compiled = compile(&baseline(vec![security_rule(0)], &[], &[]), &cat);
    assert_eq!(compiled.approvals[0].at, Some(at("2025-05-01T00:00:00Z")));
}

#[test]
fn a4_a5_approve_until_date_includes_the_whole_day_and_nothing_after() {
    let cat = catalog(vec![
        patch("A4", "x", "Security", "Low", at("2023-07-07T23:59:59Z")),
        patch("A5", "y", "Security", "Low", at("2023-07-08T00:00:00Z")),
    ]);
    let mut until = security_rule(0);
    until.delay = ApprovalDelay::UntilDate(at("2023-07-07T00:00:00Z"));
    let compiled = compile(&baseline(vec![until], &[], &[]), &cat);
    assert_eq!(compiled.approvals[0].at, Some(at("2023-07-07T23:59:59Z")));
    assert_eq!(compiled.approvals[1].at, None);
    assert_eq!(compiled.approvals[1].source, ApprovalSource::NoRule);
}

#[test]
fn a6_amazon_linux_counts_from_the_updated_date() {
    let mut p = patch("A6", "x", "Security", "Important", at("2025-07-01T00:00:00Z"));
    p.dates.updated = Some(at("2025-07-07T00:00:00Z"));
    let cat = catalog_of(Os::AmazonLinux2, vec![p]);
    let compiled = compile(&baseline_of(Os::AmazonLinux2, vec![security_rule(7)], &[], &[]), &cat);
    let approved_at = compiled.approvals[0].at.unwrap();
    assert!(at("2025-07-10T00:00:00Z") < approved_at, "not yet approved on 07-10");
    assert_eq!(approved_at, at("2025-07-14T00:00:00Z"));
}

#[test]
fn a7_a8_without_a_repository_date_the_build_time_counts_or_nothing_does() {
    let mut built = patch("A7", "x", "Security", "Important", at("2025-06-01T00:00:00Z"));
    built.dates = PatchDates { updated: None, build_time: Some(at("2025-06-01T00:00:00Z")), undated: true };
    let mut bare = patch("A8", "y", "Security", "Important", at("2025-06-01T00:00:00Z"));
    bare.dates = PatchDates { updated: None, build_time: None, undated: true };
    let cat = catalog_of(Os::RedhatEnterpriseLinux, vec![built, bare]);
    let compiled = compile(&baseline_of(Os::RedhatEnterpriseLinux, vec![security_rule(7)], &[], &[]), &cat);
    // A7: approved by 06-09 (from 06-08, the build time plus seven days).
    assert!(compiled.approvals[0].at.unwrap() <= at("2025-06-09T00:00:00Z"));
    assert_eq!(compiled.approvals[0].at, Some(at("2025-06-08T00:00:00Z")));
    // A8: no date at all, so the delay is zero.
    assert_eq!(compiled.approvals[1].at, Some(at("2025-06-01T00:00:00Z")));
}

#[test]
fn a10_a_patch_on_both_lists_is_rejected() {
    let cat = catalog(vec![patch("A", "kernel", "Bugfix", "Low", SimTime(DAY))]);
    let compiled = compile(&baseline(vec![], &["kernel"], &["kern*"]), &cat);
    assert_eq!(compiled.approvals[0].at, None);
    assert_eq!(compiled.approvals[0].source, ApprovalSource::RejectedList);
    assert!(compiled.rejected.contains(0));
}

#[test]
fn a11_the_approved_list_overrides_global_filters() {
    let cat = catalog(vec![
        patch("X", "pkg-x", "Security", "Critical", SimTime(DAY)),
        patch("Y", "pkg-y", "Security", "Critical", SimTime(DAY)),
    ]);
    let mut def = baseline(vec![security_rule(0)], &["pkg-x"], &[]);
    // The global filter keeps only Bugfix, so the rule sees neither patch.
    def.global_filters = vec![(FilterKey::Classification, vec!["Bugfix".into()])];
    let compiled = compile(&def, &cat);
    assert_eq!(compiled.approvals[0].source, ApprovalSource::ApprovedList);
    assert_eq!(compiled.approvals[0].at, Some(SimTime(DAY)));
    assert_eq!(compiled.approvals[1].source, ApprovalSource::GlobalFilters);
    assert_eq!(compiled.approvals[1].at, None);
}

#[test]
fn all_filters_must_match_and_any_value_of_a_filter_may() {
    let cat = catalog(vec![
        patch("A", "a", "Security", "Critical", SimTime(0)),
        patch("B", "b", "Security", "Low", SimTime(0)),
        patch("C", "c", "Bugfix", "Critical", SimTime(0)),
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
    let cat = catalog(vec![patch("A", "a", "Security", "Critical", SimTime(0))]);
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
    assert_eq!(compiled.approvals[0].at, Some(SimTime(2 * DAY)));
    assert_eq!(compiled.approvals[0].level, ComplianceLevel::Critical);
    assert_eq!(compiled.approvals[0].source, ApprovalSource::Rule(1));
}

#[test]
fn amazon_linux_2023_medium_also_matches_moderate() {
    let cat = catalog(vec![patch("A", "a", "Security", "Moderate", SimTime(0))]);
    let compiled = compile(
        &baseline(vec![rule(&[(FilterKey::Severity, &["Medium"])], 0, ComplianceLevel::Medium)], &[], &[]),
        &cat,
    );
    assert!(compiled.approvals[0].at.is_some());
}

#[test]
fn ubuntu_rules_approve_only_the_security_pocket_unless_non_security_is_enabled() {
    let pocket = |id: &str, repository: &str| {
        let mut p = patch(id, id, "x", "x", SimTime(0));
        p.properties = PatchProperties {
            priority: Some("Optional".into()),
            repository: Some(repository.into()),
            ..Default::default()
        };
        p
    };
    let cat = catalog_of(Os::Ubuntu, vec![pocket("sec", "jammy-security"), pocket("upd", "jammy-updates")]);
    let mut any_priority = rule(&[(FilterKey::Priority, &["*"])], 0, ComplianceLevel::High);
    let compiled = compile(&baseline_of(Os::Ubuntu, vec![any_priority.clone()], &[], &[]), &cat);
    assert_eq!(compiled.approvals.iter().map(|a| a.at.is_some()).collect::<Vec<_>>(), [true, false]);
    any_priority.enable_non_security = true;
    let compiled = compile(&baseline_of(Os::Ubuntu, vec![any_priority], &[], &[]), &cat);
    assert_eq!(compiled.approvals.iter().map(|a| a.at.is_some()).collect::<Vec<_>>(), [true, true]);
}

#[test]
fn windows_entries_are_kb_ids_and_filters_see_product_family_and_patch_set() {
    let mut office = patch("KB5002700", "office", "SecurityUpdates", "Important", SimTime(0));
    office.properties.product_family = Some("Office".into());
    let os_update = patch("KB5044281", "windows-cu", "SecurityUpdates", "Critical", SimTime(0));
    let cat = catalog_of(Os::Windows, vec![office, os_update]);
    let only_os = rule(&[(FilterKey::PatchSet, &["OS"])], 0, ComplianceLevel::High);
    let compiled = compile(&baseline_of(Os::Windows, vec![only_os], &[], &["KB5044281"]), &cat);
    assert_eq!(compiled.approvals[0].source, ApprovalSource::NoRule, "Office is an APPLICATION patch");
    assert_eq!(compiled.approvals[1].source, ApprovalSource::RejectedList);
    let family = rule(
        &[(FilterKey::PatchSet, &["APPLICATION"]), (FilterKey::ProductFamily, &["Office"])],
        0,
        ComplianceLevel::High,
    );
    let compiled = compile(&baseline_of(Os::Windows, vec![family], &[], &[]), &cat);
    assert!(compiled.approvals[0].at.is_some() && compiled.approvals[1].at.is_none());
}

/// patch-manager-predefined-and-custom-patch-baselines and the create-patch-baseline
/// example (`PATCH_SET=APPLICATION` with `PRODUCT=Office 2016`): a Windows rule without
/// PATCH_SET matches operating-system updates only.
#[test]
fn a_windows_rule_without_patch_set_matches_os_updates_only() {
    let mut office = patch("KB5002700", "office", "SecurityUpdates", "Critical", SimTime(0));
    office.properties.product_family = Some("Office".into());
    let os_update = patch("KB5044281", "windows-cu", "SecurityUpdates", "Critical", SimTime(0));
    let cat = catalog_of(Os::Windows, vec![office, os_update]);
    let everything = rule(&[(FilterKey::Classification, &["*"])], 0, ComplianceLevel::High);
    let compiled = compile(&baseline_of(Os::Windows, vec![everything], &[], &[]), &cat);
    assert_eq!(compiled.approvals[0].source, ApprovalSource::NoRule, "Office needs PATCH_SET=APPLICATION");
    assert!(compiled.approvals[1].at.is_some());
    let office_family = rule(&[(FilterKey::ProductFamily, &["Office"])], 0, ComplianceLevel::High);
    let compiled = compile(&baseline_of(Os::Windows, vec![office_family], &[], &[]), &cat);
    assert_eq!(compiled.approvals[0].source, ApprovalSource::NoRule, "PRODUCT_FAMILY alone keeps the OS set");
}

/// Section 2: AWS-DefaultPatchBaseline and -OS approve OS updates only; -OS-Applications
/// adds every Microsoft application update and keeps the OS rule's classifications and
/// severities.
#[test]
fn predefined_windows_baselines_split_os_and_application_updates() {
    let mut office_low = patch("KB1", "office", "Updates", "Low", SimTime(0));
    office_low.properties.product_family = Some("Office".into());
    let os_critical = patch("KB2", "windows-cu", "SecurityUpdates", "Critical", SimTime(0));
    let os_low = patch("KB3", "windows-drv", "Drivers", "Low", SimTime(0));
    let cat = catalog_of(Os::Windows, vec![office_low, os_critical, os_low]);
    let approved = |name: &str| {
        let def = crate::baseline::predefined::by_name(name).unwrap();
        compile(&def, &cat).approvals.iter().map(|a| a.at.is_some()).collect::<Vec<_>>()
    };
    assert_eq!(approved("AWS-DefaultPatchBaseline"), [false, true, false]);
    assert_eq!(approved("AWS-WindowsPredefinedPatchBaseline-OS"), [false, true, false]);
    assert_eq!(approved("AWS-WindowsPredefinedPatchBaseline-OS-Applications"), [true, true, false]);
}

/// Section 1.3: on Windows, the delay counts from the later of release and last update.
#[test]
fn windows_delays_count_from_the_last_update() {
    let mut revised = patch("KB4", "windows-cu", "SecurityUpdates", "Critical", at("2025-03-11T17:00:00Z"));
    revised.dates.updated = Some(at("2025-03-20T09:00:00Z"));
    let cat = catalog_of(Os::Windows, vec![revised]);
    let rule7 = rule(&[(FilterKey::Classification, &["SecurityUpdates"])], 7, ComplianceLevel::High);
    let compiled = compile(&baseline_of(Os::Windows, vec![rule7], &[], &[]), &cat);
    assert_eq!(compiled.approvals[0].at, Some(at("2025-03-27T00:00:00Z")));
    let mut until = rule(&[(FilterKey::Classification, &["SecurityUpdates"])], 0, ComplianceLevel::High);
    until.delay = ApprovalDelay::UntilDate(at("2025-03-15T00:00:00Z"));
    let compiled = compile(&baseline_of(Os::Windows, vec![until], &[], &[]), &cat);
    assert_eq!(compiled.approvals[0].at, None, "updated after the until-date");
}

#[test]
fn entries_match_ids_cves_names_and_single_star_globs_on_yum() {
    let mut p = patch("ALAS-1", "openssl", "Security", "Low", SimTime(0));
    p.cves = vec!["CVE-2024-12345".into()];
    let cat = catalog(vec![p]);
    let patch = &cat.patches[0];
    let yum = Family::Yum;
    for entry in ["ALAS-1", "openssl", "open*", "*ssl", "o*l", "CVE-2024-12345"] {
        assert!(entry_matches(entry, patch, "openssl", yum), "{entry}");
    }
    for entry in ["x*", "openssl-libs", "CVE-2024-1"] {
        assert!(!entry_matches(entry, patch, "openssl", yum), "{entry}");
    }
    assert!(entry_matches("openssl", patch, "openssl", Family::Apt));
    assert!(!entry_matches("open*", patch, "openssl", Family::Apt), "APT takes bare names");
}
