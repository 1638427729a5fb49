//! Baselines as the scenario defines them, validated: the input of compilation.

use std::fmt;

use crate::catalog::Os;

/// The `ComplianceLevel` of a rule or of the approved-patches list. Ordered from least to
/// most severe, so `max` picks the higher level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum ComplianceLevel {
    #[default]
    Unspecified,
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

pub const LEVELS: [ComplianceLevel; 6] = [
    ComplianceLevel::Unspecified,
    ComplianceLevel::Informational,
    ComplianceLevel::Low,
    ComplianceLevel::Medium,
    ComplianceLevel::High,
    ComplianceLevel::Critical,
];

impl ComplianceLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            ComplianceLevel::Unspecified => "UNSPECIFIED",
            ComplianceLevel::Informational => "INFORMATIONAL",
            ComplianceLevel::Low => "LOW",
            ComplianceLevel::Medium => "MEDIUM",
            ComplianceLevel::High => "HIGH",
            ComplianceLevel::Critical => "CRITICAL",
        }
    }
    pub fn parse(text: &str) -> Result<ComplianceLevel, String> {
        LEVELS.iter().copied().find(|level| level.as_str() == text).ok_or_else(|| {
            format!(
                "unknown compliance level `{text}`; expected one of: CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL, UNSPECIFIED"
            )
        })
    }
}

impl fmt::Display for ComplianceLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Patch filter keys that patchfleet evaluates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FilterKey {
    Product,
    Classification,
    Severity,
    MsrcSeverity,
    Priority,
    Section,
    PatchId,
    ProductFamily,
    PatchSet,
}

impl FilterKey {
    pub fn as_str(self) -> &'static str {
        match self {
            FilterKey::Product => "PRODUCT",
            FilterKey::Classification => "CLASSIFICATION",
            FilterKey::Severity => "SEVERITY",
            FilterKey::MsrcSeverity => "MSRC_SEVERITY",
            FilterKey::Priority => "PRIORITY",
            FilterKey::Section => "SECTION",
            FilterKey::PatchId => "PATCH_ID",
            FilterKey::ProductFamily => "PRODUCT_FAMILY",
            FilterKey::PatchSet => "PATCH_SET",
        }
    }

    /// The keys valid for an operating system (DescribePatchProperties, section 1.2).
    pub fn valid_for(os: Os) -> &'static [FilterKey] {
        use crate::catalog::Family;
        match os.family() {
            // DescribePatchProperties lists PRODUCT, PRODUCT_FAMILY, CLASSIFICATION and
            // MSRC_SEVERITY; PATCH_SET (OS or APPLICATION) and PATCH_ID are Windows keys too.
            Family::Windows => &[
                FilterKey::Product,
                FilterKey::ProductFamily,
                FilterKey::Classification,
                FilterKey::MsrcSeverity,
                FilterKey::PatchSet,
                FilterKey::PatchId,
            ],
            Family::Apt => &[FilterKey::Product, FilterKey::Priority, FilterKey::Section],
            Family::MacOs => &[FilterKey::Product, FilterKey::Classification],
            Family::Yum | Family::Suse => &[FilterKey::Product, FilterKey::Classification, FilterKey::Severity],
        }
    }

    pub fn parse(text: &str, os: Os) -> Result<FilterKey, String> {
        let valid = FilterKey::valid_for(os);
        let all = [
            FilterKey::Product,
            FilterKey::Classification,
            FilterKey::Severity,
            FilterKey::MsrcSeverity,
            FilterKey::Priority,
            FilterKey::Section,
            FilterKey::PatchId,
            FilterKey::ProductFamily,
            FilterKey::PatchSet,
        ];
        let names: Vec<&str> = valid.iter().map(|k| k.as_str()).collect();
        match all.iter().find(|key| key.as_str() == text) {
            Some(key) if valid.contains(key) => Ok(*key),
            Some(_) => Err(format!("filter key `{text}` is not valid for {os}; valid keys: {}", names.join(", "))),
            None => Err(format!("unknown filter key `{text}`; valid keys for {os}: {}", names.join(", "))),
        }
    }
}

/// What happens to patches on the rejected list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum RejectedAction {
    /// Installed only as a dependency; an installed rejected patch is INSTALLED_OTHER.
    #[default]
    AllowAsDependency,
    /// Never installed; one already present is INSTALLED_REJECTED and non-compliant.
    Block,
}

/// When a rule approves a patch it matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApprovalDelay {
    /// ApproveAfterDays: this many whole UTC days after the approval date's day.
    AfterDays(u32),
    /// ApproveUntilDate: patches whose approval date falls on or before this UTC day
    /// (the instant is 00:00 UTC of that day) are approved when released.
    UntilDate(crate::time::SimTime),
}

/// One approval rule.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleDef {
    /// All must match; a filter matches if the property equals any value (`*` matches all).
    pub filters: Vec<(FilterKey, Vec<String>)>,
    pub delay: ApprovalDelay,
    pub compliance_level: ComplianceLevel,
    /// On Debian and Ubuntu, without this only updates from a `-security` repository are
    /// approved (section 1.5, step 3).
    pub enable_non_security: bool,
}

/// A validated baseline: everything of CreatePatchBaseline that changes behaviour.
#[derive(Clone, Debug, PartialEq)]
pub struct BaselineDef {
    pub name: String,
    pub os: Os,
    pub description: String,
    pub global_filters: Vec<(FilterKey, Vec<String>)>,
    pub rules: Vec<RuleDef>,
    pub approved_patches: Vec<String>,
    pub approved_patches_compliance_level: ComplianceLevel,
    pub approved_patches_enable_non_security: bool,
    pub rejected_patches: Vec<String>,
    pub rejected_patches_action: RejectedAction,
    /// Windows: an available, unapproved security update makes the instance non-compliant.
    pub available_security_updates_non_compliant: bool,
}
