//! The predefined AWS baselines (section 2 of the semantics reference), usable by name.
//!
//! Every patch they approve has the compliance level UNSPECIFIED, and each one is the
//! default for its operating system until the scenario registers another.

use super::def::{ApprovalDelay, BaselineDef, ComplianceLevel, FilterKey, RejectedAction, RuleDef};
use crate::catalog::Os;

fn rule(filters: &[(FilterKey, &[&str])], days: u32, enable_non_security: bool) -> RuleDef {
    RuleDef {
        filters: filters.iter().map(|(k, v)| (*k, v.iter().map(|s| s.to_string()).collect())).collect(),
        delay: ApprovalDelay::AfterDays(days),
        compliance_level: ComplianceLevel::Unspecified,
        enable_non_security,
    }
}

fn def(name: &str, os: Os, rules: Vec<RuleDef>) -> BaselineDef {
    BaselineDef {
        name: name.to_string(),
        os,
        description: format!("Predefined AWS baseline for {os}"),
        global_filters: vec![],
        rules,
        approved_patches: vec![],
        approved_patches_compliance_level: ComplianceLevel::Unspecified,
        approved_patches_enable_non_security: false,
        rejected_patches: vec![],
        rejected_patches_action: RejectedAction::AllowAsDependency,
        available_security_updates_non_compliant: false,
    }
}

/// The name of the predefined default baseline of an operating system.
pub fn default_name(os: Os) -> &'static str {
    match os {
        Os::Windows => "AWS-DefaultPatchBaseline",
        Os::AmazonLinux => "AWS-AmazonLinuxDefaultPatchBaseline",
        Os::AmazonLinux2 => "AWS-AmazonLinux2DefaultPatchBaseline",
        Os::AmazonLinux2022 => "AWS-AmazonLinux2022DefaultPatchBaseline",
        Os::AmazonLinux2023 => "AWS-AmazonLinux2023DefaultPatchBaseline",
        Os::Ubuntu => "AWS-UbuntuDefaultPatchBaseline",
        Os::Debian => "AWS-DebianDefaultPatchBaseline",
        Os::Raspbian => "AWS-DefaultRaspbianPatchBaseline",
        Os::RedhatEnterpriseLinux => "AWS-RedHatDefaultPatchBaseline",
        Os::Centos => "AWS-CentOSDefaultPatchBaseline",
        Os::OracleLinux => "AWS-OracleLinuxDefaultPatchBaseline",
        Os::RockyLinux => "AWS-RockyLinuxDefaultPatchBaseline",
        Os::AlmaLinux => "AWS-AlmaLinuxDefaultPatchBaseline",
        Os::Suse => "AWS-SuseDefaultPatchBaseline",
        Os::MacOs => "AWS-MacOSDefaultPatchBaseline",
    }
}

/// The predefined baseline called `name`, if there is one.
pub fn by_name(name: &str) -> Option<BaselineDef> {
    use FilterKey::*;
    let windows_os = || {
        vec![rule(
            &[(Classification, &["CriticalUpdates", "SecurityUpdates"]), (MsrcSeverity, &["Critical", "Important"])],
            7,
            false,
        )]
    };
    let security_and_bugfix = |severities: &[&str]| {
        vec![
            rule(&[(Classification, &["Security"]), (Severity, severities)], 7, false),
            rule(&[(Classification, &["Bugfix"])], 7, false),
        ]
    };
    let apt = || vec![rule(&[(Priority, &["Required", "Important", "Standard", "Optional", "Extra"])], 0, false)];
    let found = match name {
        "AWS-DefaultPatchBaseline" | "AWS-WindowsPredefinedPatchBaseline-OS" => def(name, Os::Windows, windows_os()),
        "AWS-WindowsPredefinedPatchBaseline-OS-Applications" => {
            // Section 2: the OS rule keeps its classifications and severities, and a second
            // rule approves every Microsoft application update (PATCH_SET=APPLICATION).
            let mut rules = windows_os();
            rules.push(rule(&[(Classification, &["*"]), (PatchSet, &["APPLICATION"])], 7, false));
            def(name, Os::Windows, rules)
        }
        "AWS-AmazonLinuxDefaultPatchBaseline" => {
            def(name, Os::AmazonLinux, security_and_bugfix(&["Critical", "Important"]))
        }
        "AWS-AmazonLinux2DefaultPatchBaseline" => {
            def(name, Os::AmazonLinux2, security_and_bugfix(&["Critical", "Important"]))
        }
        "AWS-AmazonLinux2022DefaultPatchBaseline" => {
            def(name, Os::AmazonLinux2022, security_and_bugfix(&["Critical", "Important"]))
        }
        "AWS-AmazonLinux2023DefaultPatchBaseline" => {
            def(name, Os::AmazonLinux2023, security_and_bugfix(&["Critical", "Important"]))
        }
        "AWS-RedHatDefaultPatchBaseline" => {
            def(name, Os::RedhatEnterpriseLinux, security_and_bugfix(&["Critical", "Important"]))
        }
        "AWS-RockyLinuxDefaultPatchBaseline" => {
            def(name, Os::RockyLinux, security_and_bugfix(&["Critical", "Important"]))
        }
        "AWS-AlmaLinuxDefaultPatchBaseline" => {
            def(name, Os::AlmaLinux, security_and_bugfix(&["Critical", "Important"]))
        }
        "AWS-OracleLinuxDefaultPatchBaseline" => {
            def(name, Os::OracleLinux, security_and_bugfix(&["Important", "Moderate"]))
        }
        "AWS-CentOSDefaultPatchBaseline" => def(name, Os::Centos, vec![rule(&[(Classification, &["*"])], 7, true)]),
        "AWS-SuseDefaultPatchBaseline" => def(
            name,
            Os::Suse,
            vec![rule(&[(Classification, &["Security"]), (Severity, &["Critical", "Important"])], 7, false)],
        ),
        "AWS-UbuntuDefaultPatchBaseline" => def(name, Os::Ubuntu, apt()),
        "AWS-DebianDefaultPatchBaseline" => def(name, Os::Debian, apt()),
        "AWS-DefaultRaspbianPatchBaseline" => def(name, Os::Raspbian, apt()),
        // EnableNonSecurity is a Linux field; on macOS every classification is a source.
        "AWS-MacOSDefaultPatchBaseline" => def(name, Os::MacOs, vec![rule(&[(Classification, &["*"])], 0, false)]),
        _ => return None,
    };
    Some(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operating_system_has_a_predefined_default_of_its_own_os() {
        for os in crate::catalog::os_list() {
            let baseline = by_name(default_name(os)).expect("default exists");
            assert_eq!(baseline.os, os);
            assert!(baseline.rules.iter().all(|r| r.compliance_level == ComplianceLevel::Unspecified));
        }
        assert!(by_name("AWS-NoSuchBaseline").is_none());
    }
}
