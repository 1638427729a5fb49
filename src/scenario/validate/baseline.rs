//! `[[baseline]]`: custom baselines, written out or imported from a file, with their rules,
//! filters and patch lists; and the list that predefined baselines join when named.

use std::collections::{BTreeMap, BTreeSet};

use super::Checker;
use super::catalog::is_cve;
use crate::baseline::{ApprovalDelay, BaselineDef, ComplianceLevel, FilterKey, RejectedAction, RuleDef, predefined};
use crate::catalog::{Family, Os};
use crate::scenario::load::FailedSections;
use crate::scenario::schema::{BaselineSpec, RuleSpec};
use crate::time::SimTime;

/// The scenario's baselines while validation collects them: the file's own first, then
/// predefined ones, appended the first time something names them.
pub(super) struct Baselines {
    pub(super) defs: Vec<BaselineDef>,
    /// Every `[[baseline]]` validated, so a name that matches none of them is an error
    /// worth reporting (and imported patch groups can be registered).
    pub(super) complete: bool,
}

impl Baselines {
    /// The index of the baseline called `name`; reported at `path` when there is none.
    pub(super) fn find(&mut self, c: &mut Checker, path: &str, name: &str) -> Option<usize> {
        if let Some(index) = self.defs.iter().position(|b| b.name == name) {
            return Some(index);
        }
        if let Some(def) = predefined::by_name(name) {
            self.defs.push(def);
            return Some(self.defs.len() - 1);
        }
        if self.complete {
            c.error(
                path,
                format!("unknown baseline `{name}`: neither a [[baseline]] of this file nor a predefined AWS baseline"),
            );
        }
        None
    }
}

/// The file's baselines, imported ones read and validated like the others; and, for each
/// imported one (by index in the list), the patch groups its document names.
pub(super) fn baselines(
    c: &mut Checker,
    file_specs: &[BaselineSpec],
    failed: &FailedSections,
    source_name: &str,
) -> (Baselines, Vec<(usize, Vec<String>)>) {
    // (index in the file, the baseline in scenario form)
    let mut specs: Vec<(usize, BaselineSpec)> = Vec::new();
    let mut imported_groups: Vec<(usize, Vec<String>)> = Vec::new();
    for (index, spec) in file_specs.iter().enumerate() {
        match &spec.import {
            None => specs.push((index, spec.clone())),
            Some(import) => {
                if let Some((merged, groups)) =
                    import_baseline(c, &format!("baseline[{index}]"), spec, import, source_name)
                {
                    imported_groups.push((specs.len(), groups));
                    specs.push((index, merged));
                }
            }
        }
    }
    let mut seen_names = BTreeSet::new();
    for (index, spec) in &specs {
        if !seen_names.insert(spec.name.as_str()) {
            c.error(
                &format!("baseline[{index}].name"),
                format!("the name `{}` is used twice in [[baseline]]", spec.name),
            );
        }
    }
    let mut defs: Vec<BaselineDef> = Vec::new();
    for (index, spec) in &specs {
        if let Some(def) = validate_baseline(c, &format!("baseline[{index}]"), spec) {
            defs.push(def);
        }
    }
    let complete = !failed.contains("baseline") && defs.len() == file_specs.len();
    (Baselines { defs, complete }, imported_groups)
}

/// Reads a baseline from a JSON file named by `import`, relative to the scenario file.
/// Returns the baseline in scenario form (renamed if `name` is set) and the patch groups the
/// document lists.
fn import_baseline(
    c: &mut Checker,
    path: &str,
    spec: &BaselineSpec,
    import: &str,
    source_name: &str,
) -> Option<(BaselineSpec, Vec<String>)> {
    let ipath = format!("{path}.import");
    let untouched = spec.os.is_empty()
        && spec.description.is_empty()
        && spec.global_filters.is_empty()
        && spec.rule.is_empty()
        && spec.approved_patches.is_empty()
        && spec.rejected_patches.is_empty()
        && spec.approved_patches_compliance_level == "UNSPECIFIED"
        && !spec.approved_patches_enable_non_security
        && spec.rejected_patches_action == "ALLOW_AS_DEPENDENCY"
        && spec.available_security_updates_compliance_status == "COMPLIANT";
    if !untouched {
        c.error(path, "with `import`, the baseline comes from the file; only `name` may be set beside it");
    }
    let base = std::path::Path::new(source_name).parent().unwrap_or(std::path::Path::new(""));
    let file = base.join(import);
    let text = match crate::scenario::read_text(&file) {
        Ok(text) => text,
        Err(error) => {
            c.error(&ipath, error.located(&file.display().to_string()));
            return None;
        }
    };
    match crate::baseline::aws_json::parse_baseline_document(&text) {
        Ok(imported) => {
            let mut merged = imported.spec;
            if !spec.name.is_empty() {
                merged.name = spec.name.clone();
            }
            Some((merged, imported.patch_groups))
        }
        Err(message) => {
            c.error(&ipath, format!("{}: {message}", file.display()));
            None
        }
    }
}

fn validate_baseline(c: &mut Checker, path: &str, spec: &BaselineSpec) -> Option<BaselineDef> {
    c.aws_name(&format!("{path}.name"), &spec.name, "baseline");
    if spec.name.starts_with("AWS-") {
        c.error(&format!("{path}.name"), "names starting with `AWS-` are reserved for predefined baselines");
    }
    if spec.description.chars().count() > 1024 {
        c.error(&format!("{path}.description"), "a description has at most 1024 characters");
    }
    let os = c.parse(&format!("{path}.os"), Os::parse(&spec.os))?;
    let linux = !matches!(os.family(), Family::Windows | Family::MacOs);
    let global_filters = filter_group(c, &format!("{path}.global_filters"), os, &spec.global_filters);
    if spec.rule.len() > 10 {
        c.error(&format!("{path}.rule"), format!("{} approval rules; a baseline has at most 10", spec.rule.len()));
    }
    let mut rules = Vec::new();
    for (index, rule) in spec.rule.iter().enumerate() {
        rules.push(validate_rule(c, &format!("{path}.rule[{index}]"), os, rule));
    }
    patch_lists(c, path, os, spec);
    if spec.approved_patches_enable_non_security && !linux {
        c.error(
            &format!("{path}.approved_patches_enable_non_security"),
            format!("ApprovedPatchesEnableNonSecurity applies to Linux only, not {os}"),
        );
    }
    let level = c
        .parse(
            &format!("{path}.approved_patches_compliance_level"),
            ComplianceLevel::parse(&spec.approved_patches_compliance_level),
        )
        .unwrap_or_default();
    let action = rejected_action(c, path, &spec.rejected_patches_action);
    let available_non_compliant =
        available_security_non_compliant(c, path, os, &spec.available_security_updates_compliance_status);
    Some(BaselineDef {
        name: spec.name.clone(),
        os,
        description: spec.description.clone(),
        global_filters,
        rules,
        approved_patches: spec.approved_patches.clone(),
        approved_patches_compliance_level: level,
        approved_patches_enable_non_security: spec.approved_patches_enable_non_security,
        rejected_patches: spec.rejected_patches.clone(),
        rejected_patches_action: action,
        available_security_updates_non_compliant: available_non_compliant,
    })
}

fn validate_rule(c: &mut Checker, rpath: &str, os: Os, rule: &RuleSpec) -> RuleDef {
    let linux = !matches!(os.family(), Family::Windows | Family::MacOs);
    let filters = filter_group(c, &format!("{rpath}.filters"), os, &rule.filters);
    let delay = approval_delay(c, rpath, os, rule);
    if rule.enable_non_security && !linux {
        c.error(&format!("{rpath}.enable_non_security"), format!("EnableNonSecurity applies to Linux only, not {os}"));
    }
    let level = c
        .parse(&format!("{rpath}.compliance_level"), ComplianceLevel::parse(&rule.compliance_level))
        .unwrap_or_default();
    RuleDef { filters, delay, compliance_level: level, enable_non_security: rule.enable_non_security }
}

/// ApproveAfterDays or ApproveUntilDate; neither exists on Debian and Ubuntu.
fn approval_delay(c: &mut Checker, rpath: &str, os: Os, rule: &RuleSpec) -> ApprovalDelay {
    let family = os.family();
    match (rule.approve_after_days, &rule.approve_until_date) {
        (Some(_), Some(_)) => {
            c.error(rpath, "give approve_after_days or approve_until_date, not both");
            ApprovalDelay::AfterDays(0)
        }
        (Some(_), None) | (None, Some(_)) if family == Family::Apt => {
            let key = if rule.approve_after_days.is_some() { "approve_after_days" } else { "approve_until_date" };
            c.error(
                &format!("{rpath}.{key}"),
                format!("{os} has no reliable release dates, so AWS supports neither ApproveAfterDays nor ApproveUntilDate there"),
            );
            ApprovalDelay::AfterDays(0)
        }
        (Some(days), None) if days > 360 => {
            c.error(&format!("{rpath}.approve_after_days"), format!("{days} days; ApproveAfterDays is 0 to 360"));
            ApprovalDelay::AfterDays(0)
        }
        (Some(days), None) => ApprovalDelay::AfterDays(days),
        (None, Some(text)) => match until_date(text) {
            Ok(day) => ApprovalDelay::UntilDate(day),
            Err(message) => {
                c.error(&format!("{rpath}.approve_until_date"), message);
                ApprovalDelay::AfterDays(0)
            }
        },
        (None, None) if family == Family::Apt => ApprovalDelay::AfterDays(0),
        (None, None) => {
            c.error(rpath, "a rule needs approve_after_days or approve_until_date (AWS requires one)");
            ApprovalDelay::AfterDays(0)
        }
    }
}

/// ApprovedPatches and RejectedPatches: at most 50 entries each, in the OS's formats.
fn patch_lists(c: &mut Checker, path: &str, os: Os, spec: &BaselineSpec) {
    for (key, list, rejected) in
        [("approved_patches", &spec.approved_patches, false), ("rejected_patches", &spec.rejected_patches, true)]
    {
        if list.len() > 50 {
            c.error(&format!("{path}.{key}"), format!("{} entries; AWS allows at most 50", list.len()));
        }
        for (index, entry) in list.iter().enumerate() {
            if let Err(message) = entry_format(os, entry, rejected) {
                c.error(&format!("{path}.{key}[{index}]"), message);
            }
        }
    }
}

fn rejected_action(c: &mut Checker, path: &str, text: &str) -> RejectedAction {
    match text {
        "ALLOW_AS_DEPENDENCY" => RejectedAction::AllowAsDependency,
        "BLOCK" => RejectedAction::Block,
        other => {
            c.error(
                &format!("{path}.rejected_patches_action"),
                format!("`{other}`; expected ALLOW_AS_DEPENDENCY or BLOCK"),
            );
            RejectedAction::AllowAsDependency
        }
    }
}

/// AvailableSecurityUpdatesComplianceStatus: whether it is NON_COMPLIANT (Windows only).
fn available_security_non_compliant(c: &mut Checker, path: &str, os: Os, text: &str) -> bool {
    match text {
        "COMPLIANT" => false,
        "NON_COMPLIANT" if os.family() == Family::Windows => true,
        "NON_COMPLIANT" => {
            c.error(
                &format!("{path}.available_security_updates_compliance_status"),
                format!("AvailableSecurityUpdatesComplianceStatus applies to Windows only, not {os}"),
            );
            false
        }
        other => {
            c.error(
                &format!("{path}.available_security_updates_compliance_status"),
                format!("`{other}`; expected COMPLIANT or NON_COMPLIANT"),
            );
            false
        }
    }
}

fn filter_group(
    c: &mut Checker,
    path: &str,
    os: Os,
    group: &BTreeMap<String, Vec<String>>,
) -> Vec<(FilterKey, Vec<String>)> {
    if group.len() > 4 {
        c.error(path, format!("{} filters; a filter group has at most 4", group.len()));
    }
    let mut filters = Vec::new();
    for (key, values) in group {
        let fpath = format!("{path}.{key}");
        let Some(filter_key) = c.parse(&fpath, FilterKey::parse(key, os)) else { continue };
        if values.is_empty() || values.len() > 20 {
            c.error(&fpath, "a filter takes 1 to 20 values");
        }
        if values.iter().any(|v| v.is_empty() || v.len() > 64) {
            c.error(&fpath, "filter values have 1 to 64 characters");
        }
        if filter_key == FilterKey::PatchSet && values.iter().any(|v| !matches!(v.as_str(), "OS" | "APPLICATION" | "*"))
        {
            c.error(&fpath, "PATCH_SET values are OS and APPLICATION");
        }
        filters.push((filter_key, values.clone()));
    }
    filters
}

/// Checks an ApprovedPatches or RejectedPatches entry against the formats of section 1.4.
fn entry_format(os: Os, entry: &str, rejected: bool) -> Result<(), String> {
    if entry.is_empty() || entry.len() > 100 {
        return Err(format!("`{entry}` must have 1 to 100 characters"));
    }
    let stars = entry.matches('*').count();
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    match os.family() {
        Family::Windows => {
            let kb = entry.strip_prefix("KB").is_some_and(digits);
            let bulletin = entry
                .strip_prefix("MS")
                .and_then(|rest| rest.split_once('-'))
                .is_some_and(|(year, number)| year.len() == 2 && digits(year) && number.len() == 3 && digits(number));
            if !(kb || bulletin) {
                return Err(format!("`{entry}`: Windows entries are KB ids (KB5044281) or bulletin ids (MS10-048)"));
            }
        }
        Family::Apt => {
            let ok = entry.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
            if !ok {
                return Err(format!(
                    "`{entry}`: Debian and Ubuntu entries are bare package names, without version, architecture or wildcard"
                ));
            }
        }
        Family::MacOs if stars > 0 => return Err(format!("`{entry}`: macOS entries take no wildcard")),
        _ if stars > 1 => return Err(format!("`{entry}` has {stars} `*`; at most one is allowed")),
        Family::Yum if rejected && (digits(entry) || is_cve(entry)) => {
            return Err(format!(
                "`{entry}`: rejected entries on yum systems are package names (one `*` allowed), not CVE or Bugzilla ids"
            ));
        }
        _ => {}
    }
    Ok(())
}

/// `YYYY-MM-DD` as 00:00 UTC of that day.
fn until_date(text: &str) -> Result<SimTime, String> {
    let shape = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
    if !shape {
        return Err(format!("`{text}` is not a date written YYYY-MM-DD"));
    }
    crate::schedule::parse_instant(text).map(SimTime).map_err(|e| format!("`{text}`: {e}"))
}
