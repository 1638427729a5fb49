//! Patch baselines in AWS's own JSON: import from `aws ssm get-patch-baseline` output, a
//! CreatePatchBaseline request or CloudFormation, and export as a CreatePatchBaseline request.
//!
//! Import produces the scenario-file form ([`BaselineSpec`]) rather than a validated
//! [`BaselineDef`], so an imported baseline goes through exactly the same validation as one
//! written in TOML. This module only checks the document's *shape*: which fields exist, their
//! JSON types, and a few things patchfleet cannot simulate (`Sources`, `DefaultBaseline`).
//! Value ranges and enum membership are left to the validator; enum values are upper-cased
//! on the way in, because hand-edited exports and some CLI output vary the case.
//!
//! The document is walked as a [`serde_json::Value`] instead of derived structs so that every
//! error names its JSON path (`ApprovalRules.PatchRules[1].ApproveAfterDays: ...`) and so that
//! CloudFormation's habit of writing numbers and booleans as strings can be accepted.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::{Map, Value, json};

// `ApprovalDelay` must be re-exported from `crate::baseline` (mod.rs) for this line.
use crate::baseline::{ApprovalDelay, BaselineDef, FilterKey, RejectedAction, RuleDef};
use crate::catalog::{Family, Os};
use crate::scenario::schema::{BaselineSpec, RuleSpec};

/// A baseline read from an AWS JSON document.
#[derive(Clone, Debug)]
pub struct ImportedBaseline {
    /// Scenario-file form, so the normal validator checks it. `import` is `None`.
    pub spec: BaselineSpec,
    /// `PatchGroups` listed in the document, if any, in document order.
    pub patch_groups: Vec<String>,
}

const PATCH_BASELINE_TYPE: &str = "AWS::SSM::PatchBaseline";

/// Every field of a GetPatchBaseline response, a CreatePatchBaseline request and the
/// Properties of an `AWS::SSM::PatchBaseline` resource.
const BASELINE_FIELDS: &[&str] = &[
    "BaselineId",
    "Name",
    "OperatingSystem",
    "Description",
    "GlobalFilters",
    "ApprovalRules",
    "ApprovedPatches",
    "ApprovedPatchesComplianceLevel",
    "ApprovedPatchesEnableNonSecurity",
    "RejectedPatches",
    "RejectedPatchesAction",
    "AvailableSecurityUpdatesComplianceStatus",
    "Sources",
    "PatchGroups",
    "CreatedDate",
    "ModifiedDate",
    "ClientToken",
    "Tags",
    "DefaultBaseline",
];

/// The attributes of a CloudFormation resource.
const RESOURCE_FIELDS: &[&str] = &[
    "Type",
    "Properties",
    "DependsOn",
    "Condition",
    "Metadata",
    "DeletionPolicy",
    "UpdateReplacePolicy",
    "UpdatePolicy",
    "CreationPolicy",
];

/// The top-level sections of a CloudFormation template.
const TEMPLATE_FIELDS: &[&str] = &[
    "AWSTemplateFormatVersion",
    "Description",
    "Metadata",
    "Parameters",
    "Rules",
    "Mappings",
    "Conditions",
    "Transform",
    "Resources",
    "Outputs",
];

const RULE_GROUP_FIELDS: &[&str] = &["PatchRules"];
const RULE_FIELDS: &[&str] =
    &["PatchFilterGroup", "ComplianceLevel", "ApproveAfterDays", "ApproveUntilDate", "EnableNonSecurity"];
const FILTER_GROUP_FIELDS: &[&str] = &["PatchFilters"];
const FILTER_FIELDS: &[&str] = &["Key", "Values"];

/// Parses `text` as one of:
///  1. what `aws ssm get-patch-baseline` prints (the GetPatchBaseline response);
///  2. a CreatePatchBaseline request (what [`create_patch_baseline_request`] produces);
///  3. a CloudFormation `AWS::SSM::PatchBaseline` resource, or just its `Properties` object;
///  4. a CloudFormation template whose `Resources` hold exactly one `AWS::SSM::PatchBaseline`.
///
/// Absent fields take the API defaults (`OperatingSystem` WINDOWS, compliance levels
/// UNSPECIFIED, `RejectedPatchesAction` ALLOW_AS_DEPENDENCY, booleans false,
/// `AvailableSecurityUpdatesComplianceStatus` COMPLIANT); `null` counts as absent. Numbers and
/// booleans may be written as JSON strings (`"7"`, `"true"`), as CloudFormation allows.
/// Every error names the JSON path of the offending value.
///
/// The document may be JSON or YAML (CloudFormation templates are mostly YAML; its short
/// forms such as `!Ref` read as the JSON forms of intrinsic functions). Text that starts
/// with `{` is read as JSON, anything else as YAML.
pub fn parse_baseline_document(text: &str) -> Result<ImportedBaseline, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err("the file is empty: expected a JSON or YAML patch baseline".into());
    }
    let document: Value = if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?
    } else {
        super::aws_yaml::parse(text)?
    };
    let Value::Object(root) = &document else {
        return Err(at(&Path::root(), format!("the document is {}, expected a JSON object", kind(&document))));
    };
    if root.contains_key("Resources") {
        template(root)
    } else if root.contains_key("Type") || root.contains_key("Properties") {
        resource(root, &Path::root())
    } else {
        baseline(root, &Path::root())
    }
}

/// The JSON that `aws ssm create-patch-baseline --cli-input-json` accepts for `def`.
///
/// Windows-only fields (`AvailableSecurityUpdatesComplianceStatus`) are written only for
/// WINDOWS and Linux-only fields (`ApprovedPatchesEnableNonSecurity`, a rule's
/// `EnableNonSecurity`) only for Linux, neither Windows nor macOS. A rule on Debian/Ubuntu/Raspbian without a
/// delay has neither `ApproveAfterDays` nor `ApproveUntilDate`, because AWS supports neither
/// there. Object keys come out in serde_json's map order; filters and lists keep the order of
/// `def`.
pub fn create_patch_baseline_request(def: &BaselineDef) -> Value {
    let windows = def.os.family() == Family::Windows;
    let mut out = Map::new();
    out.insert("Name".into(), json!(def.name));
    out.insert("OperatingSystem".into(), json!(def.os.as_str()));
    if !def.description.is_empty() {
        out.insert("Description".into(), json!(def.description));
    }
    if !def.global_filters.is_empty() {
        out.insert("GlobalFilters".into(), filter_group_json(&def.global_filters));
    }
    let rules: Vec<Value> = def.rules.iter().map(|rule| rule_json(rule, def.os)).collect();
    out.insert("ApprovalRules".into(), json!({ "PatchRules": rules }));
    out.insert("ApprovedPatches".into(), json!(def.approved_patches));
    out.insert("ApprovedPatchesComplianceLevel".into(), json!(def.approved_patches_compliance_level.as_str()));
    if is_linux(def.os) {
        out.insert("ApprovedPatchesEnableNonSecurity".into(), json!(def.approved_patches_enable_non_security));
    }
    out.insert("RejectedPatches".into(), json!(def.rejected_patches));
    out.insert("RejectedPatchesAction".into(), json!(rejected_action_str(def.rejected_patches_action)));
    if windows {
        let status = if def.available_security_updates_non_compliant { "NON_COMPLIANT" } else { "COMPLIANT" };
        out.insert("AvailableSecurityUpdatesComplianceStatus".into(), json!(status));
    }
    Value::Object(out)
}

// ---------------------------------------------------------------------------------------------
// Export helpers

fn filter_group_json(filters: &[(FilterKey, Vec<String>)]) -> Value {
    let filters: Vec<Value> =
        filters.iter().map(|(key, values)| json!({ "Key": key.as_str(), "Values": values })).collect();
    json!({ "PatchFilters": filters })
}

fn rule_json(rule: &RuleDef, os: Os) -> Value {
    let mut out = Map::new();
    out.insert("PatchFilterGroup".into(), filter_group_json(&rule.filters));
    out.insert("ComplianceLevel".into(), json!(rule.compliance_level.as_str()));
    match rule.delay {
        // Debian and Ubuntu have no release dates; AWS rejects both delay fields there.
        ApprovalDelay::AfterDays(0) if os.family() == Family::Apt => {}
        ApprovalDelay::AfterDays(days) => {
            out.insert("ApproveAfterDays".into(), json!(days));
        }
        ApprovalDelay::UntilDate(day) => {
            out.insert("ApproveUntilDate".into(), json!(utc_date(day.0)));
        }
    }
    if is_linux(os) {
        out.insert("EnableNonSecurity".into(), json!(rule.enable_non_security));
    }
    Value::Object(out)
}

fn is_linux(os: Os) -> bool {
    !matches!(os.family(), Family::Windows | Family::MacOs)
}

fn rejected_action_str(action: RejectedAction) -> &'static str {
    match action {
        RejectedAction::AllowAsDependency => "ALLOW_AS_DEPENDENCY",
        RejectedAction::Block => "BLOCK",
    }
}

/// `YYYY-MM-DD` of the UTC day containing `secs` (Unix seconds).
fn utc_date(secs: i64) -> String {
    let ts = jiff::Timestamp::from_second(secs).unwrap_or(if secs < 0 {
        jiff::Timestamp::MIN
    } else {
        jiff::Timestamp::MAX
    });
    ts.strftime("%Y-%m-%d").to_string()
}

// ---------------------------------------------------------------------------------------------
// Import: document shapes

fn template(root: &Map<String, Value>) -> Result<ImportedBaseline, String> {
    let path = Path::root();
    check_fields(root, &path, TEMPLATE_FIELDS, "a CloudFormation template")?;
    let resources_path = path.key("Resources");
    let resources = object(&root["Resources"], &resources_path)?;
    let mut baselines = Vec::new();
    let mut other_types = BTreeSet::new();
    for (logical_id, resource) in resources {
        match resource.get("Type").and_then(Value::as_str) {
            Some(PATCH_BASELINE_TYPE) => baselines.push(logical_id),
            Some(other) => {
                other_types.insert(other);
            }
            None => {}
        }
    }
    match baselines.as_slice() {
        [] => {
            let found = if other_types.is_empty() {
                String::new()
            } else {
                format!(" (it has {})", other_types.into_iter().collect::<Vec<_>>().join(", "))
            };
            Err(at(&path, format!("the CloudFormation template has no {PATCH_BASELINE_TYPE} resource{found}")))
        }
        [logical_id] => {
            let resource_path = resources_path.key(logical_id);
            resource(object(&resources[logical_id.as_str()], &resource_path)?, &resource_path)
        }
        several => Err(at(
            &resources_path,
            format!(
                "the template has {} {PATCH_BASELINE_TYPE} resources ({}); an import takes a file with exactly one",
                several.len(),
                several.iter().map(|id| id.as_str()).collect::<Vec<_>>().join(", ")
            ),
        )),
    }
}

fn resource(map: &Map<String, Value>, path: &Path) -> Result<ImportedBaseline, String> {
    check_fields(map, path, RESOURCE_FIELDS, "a CloudFormation resource")?;
    let type_path = path.key("Type");
    let Some(kind) = field(map, "Type") else {
        return Err(at(path, format!("Type is missing; expected a {PATCH_BASELINE_TYPE} resource")));
    };
    let kind = string(kind, &type_path)?;
    if kind != PATCH_BASELINE_TYPE {
        return Err(at(&type_path, format!("the resource is an {kind}, not an {PATCH_BASELINE_TYPE}")));
    }
    let properties_path = path.key("Properties");
    let Some(properties) = field(map, "Properties") else {
        return Err(at(path, "Properties is missing; an AWS::SSM::PatchBaseline needs at least Name"));
    };
    baseline(object(properties, &properties_path)?, &properties_path)
}

fn baseline(map: &Map<String, Value>, path: &Path) -> Result<ImportedBaseline, String> {
    check_fields(
        map,
        path,
        BASELINE_FIELDS,
        "a GetPatchBaseline response, CreatePatchBaseline request or AWS::SSM::PatchBaseline",
    )?;
    let Some(name) = field(map, "Name") else {
        return Err(at(path, "Name is missing"));
    };
    let name = string(name, &path.key("Name"))?;

    // Read-only and bookkeeping fields: checked for type, otherwise ignored.
    for key in ["BaselineId", "ClientToken"] {
        if let Some(value) = field(map, key) {
            string(value, &path.key(key))?;
        }
    }
    for key in ["CreatedDate", "ModifiedDate"] {
        if let Some(value) = field(map, key) {
            timestamp(value, &path.key(key))?;
        }
    }
    if let Some(tags) = field(map, "Tags") {
        array(tags, &path.key("Tags"))?;
    }

    if let Some(sources) = field(map, "Sources") {
        let sources_path = path.key("Sources");
        if !array(sources, &sources_path)?.is_empty() {
            return Err(at(&sources_path, "Sources (alternative patch repositories) are not supported by patchfleet"));
        }
    }
    if let Some(default) = field(map, "DefaultBaseline") {
        let default_path = path.key("DefaultBaseline");
        if boolean(default, &default_path)? {
            return Err(at(
                &default_path,
                "registering the default baseline is not part of an import; remove DefaultBaseline and \
                 name the baseline in the scenario's [default_baselines] section",
            ));
        }
    }

    let os = optional(map, path, "OperatingSystem", enum_text)?.unwrap_or_else(|| "WINDOWS".into());
    let description = optional(map, path, "Description", string)?.unwrap_or_default();
    let global_filters = optional(map, path, "GlobalFilters", filter_group)?.unwrap_or_default();
    let rule = optional(map, path, "ApprovalRules", rule_group)?.unwrap_or_default();
    let approved_patches = optional(map, path, "ApprovedPatches", string_list)?.unwrap_or_default();
    let approved_patches_compliance_level =
        optional(map, path, "ApprovedPatchesComplianceLevel", enum_text)?.unwrap_or_else(|| "UNSPECIFIED".into());
    let approved_patches_enable_non_security =
        optional(map, path, "ApprovedPatchesEnableNonSecurity", boolean)?.unwrap_or(false);
    let rejected_patches = optional(map, path, "RejectedPatches", string_list)?.unwrap_or_default();
    let rejected_patches_action =
        optional(map, path, "RejectedPatchesAction", enum_text)?.unwrap_or_else(|| "ALLOW_AS_DEPENDENCY".into());
    let available_security_updates_compliance_status =
        optional(map, path, "AvailableSecurityUpdatesComplianceStatus", enum_text)?
            .unwrap_or_else(|| "COMPLIANT".into());
    let patch_groups = optional(map, path, "PatchGroups", string_list)?.unwrap_or_default();

    Ok(ImportedBaseline {
        spec: BaselineSpec {
            name,
            os,
            import: None,
            description,
            global_filters,
            rule,
            approved_patches,
            approved_patches_compliance_level,
            approved_patches_enable_non_security,
            rejected_patches,
            rejected_patches_action,
            available_security_updates_compliance_status,
        },
        patch_groups,
    })
}

/// `ApprovalRules`: `{"PatchRules": [Rule, ...]}`.
fn rule_group(value: &Value, path: &Path) -> Result<Vec<RuleSpec>, String> {
    let map = object(value, path)?;
    check_fields(map, path, RULE_GROUP_FIELDS, "a rule group")?;
    let Some(rules) = field(map, "PatchRules") else { return Ok(Vec::new()) };
    let rules_path = path.key("PatchRules");
    array(rules, &rules_path)?
        .iter()
        .enumerate()
        .map(|(index, rule)| patch_rule(rule, &rules_path.index(index)))
        .collect()
}

fn patch_rule(value: &Value, path: &Path) -> Result<RuleSpec, String> {
    let map = object(value, path)?;
    check_fields(map, path, RULE_FIELDS, "a patch rule")?;
    Ok(RuleSpec {
        filters: optional(map, path, "PatchFilterGroup", filter_group)?.unwrap_or_default(),
        approve_after_days: optional(map, path, "ApproveAfterDays", days)?,
        approve_until_date: optional(map, path, "ApproveUntilDate", string)?,
        compliance_level: optional(map, path, "ComplianceLevel", enum_text)?.unwrap_or_else(|| "UNSPECIFIED".into()),
        enable_non_security: optional(map, path, "EnableNonSecurity", boolean)?.unwrap_or(false),
    })
}

/// A `PatchFilterGroup`: `{"PatchFilters": [{"Key": ..., "Values": [...]}, ...]}`, as a map
/// from the upper-cased key to its values. A key may appear once per group.
fn filter_group(value: &Value, path: &Path) -> Result<BTreeMap<String, Vec<String>>, String> {
    let map = object(value, path)?;
    check_fields(map, path, FILTER_GROUP_FIELDS, "a patch filter group")?;
    let mut out = BTreeMap::new();
    let Some(filters) = field(map, "PatchFilters") else { return Ok(out) };
    let filters_path = path.key("PatchFilters");
    for (index, filter) in array(filters, &filters_path)?.iter().enumerate() {
        let filter_path = filters_path.index(index);
        let filter = object(filter, &filter_path)?;
        check_fields(filter, &filter_path, FILTER_FIELDS, "a patch filter")?;
        let key_path = filter_path.key("Key");
        let Some(key) = field(filter, "Key") else { return Err(at(&filter_path, "Key is missing")) };
        let key = enum_text(key, &key_path)?;
        let Some(values) = field(filter, "Values") else { return Err(at(&filter_path, "Values is missing")) };
        let values = string_list(values, &filter_path.key("Values"))?;
        if out.contains_key(&key) {
            return Err(at(&key_path, format!("duplicate filter key {key}")));
        }
        out.insert(key, values);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Import: values

/// `map[key]`, with `null` treated as absent.
fn field<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.get(key).filter(|value| !value.is_null())
}

/// Reads an optional field with `read`, passing the field's path.
fn optional<T>(
    map: &Map<String, Value>,
    path: &Path,
    key: &str,
    read: impl Fn(&Value, &Path) -> Result<T, String>,
) -> Result<Option<T>, String> {
    field(map, key).map(|value| read(value, &path.key(key))).transpose()
}

/// Rejects fields outside `allowed`, naming all of them.
fn check_fields(map: &Map<String, Value>, path: &Path, allowed: &[&str], what: &str) -> Result<(), String> {
    let unknown: Vec<String> =
        map.keys().filter(|key| !allowed.contains(&key.as_str())).map(|key| format!("`{key}`")).collect();
    match unknown.as_slice() {
        [] => Ok(()),
        [one] => Err(at(path, format!("unknown field {one}; {what} has {}", allowed.join(", ")))),
        several => Err(at(path, format!("unknown fields {}; {what} has {}", several.join(", "), allowed.join(", ")))),
    }
}

fn object<'a>(value: &'a Value, path: &Path) -> Result<&'a Map<String, Value>, String> {
    value.as_object().ok_or_else(|| type_error(path, "an object", value))
}

fn array<'a>(value: &'a Value, path: &Path) -> Result<&'a Vec<Value>, String> {
    value.as_array().ok_or_else(|| type_error(path, "a list", value))
}

fn string(value: &Value, path: &Path) -> Result<String, String> {
    value.as_str().map(str::to_owned).ok_or_else(|| type_error(path, "a string", value))
}

/// An enum value (`OperatingSystem`, `ComplianceLevel`, filter `Key`, ...), upper-cased.
/// Whether it names a real value is the validator's business.
fn enum_text(value: &Value, path: &Path) -> Result<String, String> {
    Ok(string(value, path)?.trim().to_ascii_uppercase())
}

fn string_list(value: &Value, path: &Path) -> Result<Vec<String>, String> {
    let Some(items) = value.as_array() else { return Err(type_error(path, "a list of strings", value)) };
    items.iter().enumerate().map(|(index, item)| string(item, &path.index(index))).collect()
}

/// `true`/`false`, also as the strings CloudFormation allows (any case).
fn boolean(value: &Value, path: &Path) -> Result<bool, String> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(type_error(path, "true or false", value)),
    }
}

/// A whole, non-negative number of days: `7`, `7.0` or, as CloudFormation allows, `"7"`.
/// The 0..=360 range is the validator's business.
fn days(value: &Value, path: &Path) -> Result<u32, String> {
    let parsed = match value {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()).or_else(|| {
            n.as_f64().filter(|f| f.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(f)).map(|f| f as u32)
        }),
        Value::String(s) => s.trim().parse::<u32>().ok(),
        _ => None,
    };
    parsed.ok_or_else(|| type_error(path, "a whole number of days", value))
}

/// `CreatedDate`/`ModifiedDate`: epoch seconds (AWS CLI v1, `1550244180.465`) or ISO-8601
/// text (CLI v2, `2019-02-15T15:23:00.465000+00:00`). Only checked, never used.
fn timestamp(value: &Value, path: &Path) -> Result<(), String> {
    match value {
        Value::Number(_) => Ok(()),
        Value::String(s) => {
            let s = s.trim();
            if s.parse::<jiff::Timestamp>().is_ok() || s.parse::<jiff::civil::DateTime>().is_ok() {
                Ok(())
            } else {
                Err(at(
                    path,
                    format!("expected an ISO-8601 timestamp such as 2019-02-15T15:23:00Z, found {}", describe(value)),
                ))
            }
        }
        _ => Err(type_error(path, "a timestamp (epoch seconds or ISO-8601 text)", value)),
    }
}

/// "expected X, found Y", or a pointed message for an unevaluated CloudFormation function.
fn type_error(path: &Path, expected: &str, found: &Value) -> String {
    if let Some(function) = intrinsic_function(found) {
        return at(
            path,
            format!(
                "the CloudFormation function `{function}` cannot be evaluated by patchfleet; write the value itself"
            ),
        );
    }
    at(path, format!("expected {expected}, found {}", describe(found)))
}

/// `{"Ref": ...}` or `{"Fn::Xxx": ...}`: CloudFormation intrinsic functions.
fn intrinsic_function(value: &Value) -> Option<&str> {
    let map = value.as_object()?;
    let (name, _) = map.iter().next().filter(|_| map.len() == 1)?;
    (name == "Ref" || name == "Condition" || name.starts_with("Fn::")).then_some(name.as_str())
}

/// A JSON value as an error message shows it: scalars as JSON (strings quoted, long ones cut),
/// containers by kind.
fn describe(value: &Value) -> String {
    const MAX_CHARS: usize = 60;
    match value {
        Value::Array(_) | Value::Object(_) => kind(value).to_string(),
        _ => {
            let text = value.to_string();
            if text.chars().count() > MAX_CHARS {
                format!("{}...", text.chars().take(MAX_CHARS).collect::<String>())
            } else {
                text
            }
        }
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A JSON path such as `ApprovalRules.PatchRules[1].ApproveAfterDays`; empty at the root.
#[derive(Clone, Debug, Default)]
struct Path(String);

impl Path {
    fn root() -> Path {
        Path(String::new())
    }
    fn key(&self, key: &str) -> Path {
        if self.0.is_empty() { Path(key.to_owned()) } else { Path(format!("{}.{key}", self.0)) }
    }
    fn index(&self, index: usize) -> Path {
        Path(format!("{}[{index}]", self.0))
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An error at `path`. At the document root the document as a whole is wrong, so the message
/// says that it is not a patch baseline.
fn at(path: &Path, message: impl fmt::Display) -> String {
    if path.0.is_empty() {
        format!("the document is not a patch baseline: {message}")
    } else {
        format!("{path}: {message}")
    }
}

#[cfg(test)]
#[path = "aws_json_tests.rs"]
mod tests;
