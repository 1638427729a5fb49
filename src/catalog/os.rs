//! Operating systems, as the AWS `OperatingSystem` enum names them, and their families.

use std::fmt;

/// An AWS `OperatingSystem` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Os {
    Windows,
    AmazonLinux,
    AmazonLinux2,
    AmazonLinux2022,
    AmazonLinux2023,
    Ubuntu,
    Debian,
    Raspbian,
    RedhatEnterpriseLinux,
    Centos,
    OracleLinux,
    RockyLinux,
    AlmaLinux,
    Suse,
    MacOs,
}

/// Operating systems that share package tooling and therefore baseline semantics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// Amazon Linux, RHEL, CentOS, Oracle, Rocky, Alma: yum/dnf with updateinfo notices.
    Yum,
    /// Ubuntu, Debian, Raspbian: APT, no reliable release dates.
    Apt,
    Suse,
    Windows,
    MacOs,
}

pub const ALL: [Os; 15] = [
    Os::Windows,
    Os::AmazonLinux,
    Os::AmazonLinux2,
    Os::AmazonLinux2022,
    Os::AmazonLinux2023,
    Os::Ubuntu,
    Os::Debian,
    Os::Raspbian,
    Os::RedhatEnterpriseLinux,
    Os::Centos,
    Os::OracleLinux,
    Os::RockyLinux,
    Os::AlmaLinux,
    Os::Suse,
    Os::MacOs,
];

impl Os {
    pub fn as_str(self) -> &'static str {
        match self {
            Os::Windows => "WINDOWS",
            Os::AmazonLinux => "AMAZON_LINUX",
            Os::AmazonLinux2 => "AMAZON_LINUX_2",
            Os::AmazonLinux2022 => "AMAZON_LINUX_2022",
            Os::AmazonLinux2023 => "AMAZON_LINUX_2023",
            Os::Ubuntu => "UBUNTU",
            Os::Debian => "DEBIAN",
            Os::Raspbian => "RASPBIAN",
            Os::RedhatEnterpriseLinux => "REDHAT_ENTERPRISE_LINUX",
            Os::Centos => "CENTOS",
            Os::OracleLinux => "ORACLE_LINUX",
            Os::RockyLinux => "ROCKY_LINUX",
            Os::AlmaLinux => "ALMA_LINUX",
            Os::Suse => "SUSE",
            Os::MacOs => "MACOS",
        }
    }

    pub fn parse(text: &str) -> Result<Os, String> {
        ALL.iter().copied().find(|os| os.as_str() == text).ok_or_else(|| {
            let names: Vec<&str> = ALL.iter().map(|os| os.as_str()).collect();
            format!("unknown operating system `{text}`; expected one of: {}", names.join(", "))
        })
    }

    pub fn family(self) -> Family {
        match self {
            Os::Windows => Family::Windows,
            Os::Ubuntu | Os::Debian | Os::Raspbian => Family::Apt,
            Os::Suse => Family::Suse,
            Os::MacOs => Family::MacOs,
            _ => Family::Yum,
        }
    }
}

impl fmt::Display for Os {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Valid CLASSIFICATION values per family (section 1.2 of the semantics reference).
pub fn classifications(family: Family) -> &'static [&'static str] {
    match family {
        Family::Windows => &[
            "CriticalUpdates",
            "DefinitionUpdates",
            "Drivers",
            "FeaturePacks",
            "SecurityUpdates",
            "ServicePacks",
            "Tools",
            "UpdateRollups",
            "Updates",
            "Upgrades",
        ],
        Family::Yum => &["Security", "Bugfix", "Enhancement", "Recommended", "Newpackage"],
        Family::Suse => &["Security", "Recommended", "Optional", "Feature", "Document", "Yast"],
        Family::MacOs => &["softwareupdate", "installer", "brew", "brew cask"],
        Family::Apt => &[],
    }
}

/// Valid vendor severities per OS: SEVERITY (yum, SUSE) or MSRC_SEVERITY (Windows).
pub fn severities(os: Os) -> &'static [&'static str] {
    match os.family() {
        Family::Windows => &["Critical", "Important", "Moderate", "Low", "Unspecified"],
        Family::Yum if matches!(os, Os::AmazonLinux2022 | Os::AmazonLinux2023) => {
            &["Critical", "Important", "Medium", "Moderate", "Low", "None"]
        }
        Family::Yum => &["Critical", "Important", "Medium", "Low"],
        Family::Suse => &["Critical", "Important", "Moderate", "Low"],
        Family::Apt | Family::MacOs => &[],
    }
}

/// Debian and Ubuntu PRIORITY values.
pub const APT_PRIORITIES: [&str; 5] = ["Required", "Important", "Standard", "Optional", "Extra"];

/// Whether a patch with these properties is a security update, as the vendor says: the
/// `SecurityNonCompliantCount` of InstancePatchState counts these.
pub fn is_security(family: Family, classification: Option<&str>, repository: Option<&str>) -> bool {
    match family {
        Family::Windows => classification == Some("SecurityUpdates"),
        Family::Apt => repository.is_some_and(|r| r.ends_with("-security")),
        _ => classification == Some("Security"),
    }
}
