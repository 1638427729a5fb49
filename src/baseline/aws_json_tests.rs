use std::collections::BTreeMap;

use serde_json::json;

use super::*;
use crate::baseline::ComplianceLevel;
use crate::time::SimTime;

/// `aws ssm get-patch-baseline` output from the AWS CLI examples (ecosystem.md section 3.1).
const GET_PATCH_BASELINE: &str = r#"
{ "BaselineId": "pb-0123456789abcdef0", "Name": "WindowsPatching", "OperatingSystem": "WINDOWS",
  "GlobalFilters": { "PatchFilters": [] },
  "ApprovalRules": { "PatchRules": [ { "PatchFilterGroup": { "PatchFilters": [
        { "Key": "PRODUCT", "Values": ["WindowsServer2016"] } ] },
      "ComplianceLevel": "CRITICAL", "ApproveAfterDays": 0, "EnableNonSecurity": false } ] },
  "ApprovedPatches": [], "ApprovedPatchesComplianceLevel": "UNSPECIFIED", "ApprovedPatchesEnableNonSecurity": false,
  "RejectedPatches": [], "RejectedPatchesAction": "ALLOW_AS_DEPENDENCY", "PatchGroups": ["QA", "DEV"],
  "CreatedDate": 1550244180.465, "ModifiedDate": 1550244180.465,
  "Description": "Patches for Windows Servers", "Sources": [] }
"#;

/// The Properties of an `AWS::SSM::PatchBaseline`, with numbers and booleans as strings.
fn cfn_properties() -> Value {
    json!({
        "Name": "al2-prod",
        "OperatingSystem": "AMAZON_LINUX_2",
        "Description": "Production Amazon Linux 2",
        "PatchGroups": ["prod", "prod-web"],
        "GlobalFilters": { "PatchFilters": [ { "Key": "PRODUCT", "Values": ["AmazonLinux2"] } ] },
        "ApprovalRules": { "PatchRules": [
            { "PatchFilterGroup": { "PatchFilters": [
                  { "Key": "CLASSIFICATION", "Values": ["Security"] },
                  { "Key": "SEVERITY", "Values": ["Critical", "Important"] } ] },
              "ApproveAfterDays": "7", "ComplianceLevel": "CRITICAL", "EnableNonSecurity": "false" },
            { "PatchFilterGroup": { "PatchFilters": [ { "Key": "CLASSIFICATION", "Values": ["Bugfix"] } ] },
              "ApproveAfterDays": 14, "ComplianceLevel": "MEDIUM", "EnableNonSecurity": "true" }
        ] },
        "ApprovedPatchesEnableNonSecurity": "true",
        "RejectedPatches": ["kernel-debug-*"],
        "RejectedPatchesAction": "BLOCK",
        "Tags": [ { "Key": "team", "Value": "platform" } ]
    })
}

fn cfn_expected() -> BaselineSpec {
    let mut expected = spec("al2-prod", "AMAZON_LINUX_2");
    expected.description = "Production Amazon Linux 2".into();
    expected.global_filters = filters(&[("PRODUCT", &["AmazonLinux2"])]);
    expected.rule = vec![
        RuleSpec {
            approve_after_days: Some(7),
            ..rule(&[("CLASSIFICATION", &["Security"]), ("SEVERITY", &["Critical", "Important"])], "CRITICAL")
        },
        RuleSpec {
            approve_after_days: Some(14),
            enable_non_security: true,
            ..rule(&[("CLASSIFICATION", &["Bugfix"])], "MEDIUM")
        },
    ];
    expected.approved_patches_enable_non_security = true;
    expected.rejected_patches = vec!["kernel-debug-*".into()];
    expected.rejected_patches_action = "BLOCK".into();
    expected
}

/// A spec with the scenario file's defaults.
fn spec(name: &str, os: &str) -> BaselineSpec {
    BaselineSpec {
        name: name.into(),
        os: os.into(),
        import: None,
        description: String::new(),
        global_filters: BTreeMap::new(),
        rule: Vec::new(),
        approved_patches: Vec::new(),
        approved_patches_compliance_level: "UNSPECIFIED".into(),
        approved_patches_enable_non_security: false,
        rejected_patches: Vec::new(),
        rejected_patches_action: "ALLOW_AS_DEPENDENCY".into(),
        available_security_updates_compliance_status: "COMPLIANT".into(),
    }
}

fn rule(filter_list: &[(&str, &[&str])], level: &str) -> RuleSpec {
    RuleSpec {
        filters: filters(filter_list),
        approve_after_days: None,
        approve_until_date: None,
        compliance_level: level.into(),
        enable_non_security: false,
    }
}

fn filters(list: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
    list.iter().map(|(key, values)| (key.to_string(), values.iter().map(|v| v.to_string()).collect())).collect()
}

fn def_filters(list: &[(FilterKey, &[&str])]) -> Vec<(FilterKey, Vec<String>)> {
    list.iter().map(|(key, values)| (*key, values.iter().map(|v| v.to_string()).collect())).collect()
}

/// `BaselineSpec` has no `PartialEq` in the main crate; compare the serialised forms.
#[track_caller]
fn assert_spec(actual: &BaselineSpec, expected: &BaselineSpec) {
    assert_eq!(serde_json::to_value(actual).unwrap(), serde_json::to_value(expected).unwrap());
}

fn parse(document: &Value) -> Result<ImportedBaseline, String> {
    parse_baseline_document(&document.to_string())
}

#[track_caller]
fn parse_err(document: &Value) -> String {
    match parse(document) {
        Ok(imported) => panic!("expected an error, got {imported:?}"),
        Err(message) => message,
    }
}

/// The get-patch-baseline fixture with one top-level field replaced (or removed with `null`).
fn fixture_with(key: &str, value: Value) -> Value {
    let mut document: Value = serde_json::from_str(GET_PATCH_BASELINE).unwrap();
    let map = document.as_object_mut().unwrap();
    if value.is_null() {
        map.remove(key);
    } else {
        map.insert(key.into(), value);
    }
    document
}

fn windows_expected() -> BaselineSpec {
    let mut expected = spec("WindowsPatching", "WINDOWS");
    expected.description = "Patches for Windows Servers".into();
    expected.rule =
        vec![RuleSpec { approve_after_days: Some(0), ..rule(&[("PRODUCT", &["WindowsServer2016"])], "CRITICAL") }];
    expected
}

// ---------------------------------------------------------------------------------------------
// get-patch-baseline output

#[test]
fn get_patch_baseline_example_parses() {
    let imported = parse_baseline_document(GET_PATCH_BASELINE).unwrap();
    assert_spec(&imported.spec, &windows_expected());
    assert_eq!(imported.patch_groups, ["QA", "DEV"]);
    assert_eq!(imported.spec.import, None);
}

#[test]
fn epoch_and_iso_8601_timestamps_are_accepted() {
    for created in [
        json!(1550244180.465),
        json!(1550244180),
        json!("2019-02-15T15:23:00.465000+00:00"),
        json!("2019-02-15T15:23:00Z"),
        json!("2019-02-15T07:23:00-08:00"),
        json!("2019-02-15T15:23:00.465"),
    ] {
        let document = fixture_with("CreatedDate", created.clone());
        let imported = parse(&document).unwrap_or_else(|e| panic!("{created}: {e}"));
        assert_spec(&imported.spec, &windows_expected());
    }
    let document = fixture_with("ModifiedDate", json!("2019-02-15T15:23:00.465000+00:00"));
    assert!(parse(&document).is_ok());
}

#[test]
fn timestamps_of_other_types_are_rejected_with_their_path() {
    let message = parse_err(&fixture_with("CreatedDate", json!(true)));
    assert_eq!(message, "CreatedDate: expected a timestamp (epoch seconds or ISO-8601 text), found true");
    let message = parse_err(&fixture_with("ModifiedDate", json!("last tuesday")));
    assert!(message.starts_with("ModifiedDate: expected an ISO-8601 timestamp"), "{message}");
    assert!(message.contains("\"last tuesday\""), "{message}");
    let message = parse_err(&fixture_with("ModifiedDate", json!([1550244180])));
    assert!(message.starts_with("ModifiedDate: expected a timestamp"), "{message}");
}

#[test]
fn absent_fields_take_the_api_defaults() {
    let imported = parse(&json!({ "Name": "bare" })).unwrap();
    assert_spec(&imported.spec, &spec("bare", "WINDOWS"));
    assert!(imported.patch_groups.is_empty());
    // null counts as absent.
    let imported = parse(&json!({ "Name": "nulls", "OperatingSystem": null, "ApprovalRules": null })).unwrap();
    assert_spec(&imported.spec, &spec("nulls", "WINDOWS"));
    // A rule group without rules, a rule without a filter group.
    let imported = parse(&json!({
        "Name": "empty-rule", "OperatingSystem": "UBUNTU", "ApprovalRules": { "PatchRules": [ {} ] }
    }))
    .unwrap();
    let mut expected = spec("empty-rule", "UBUNTU");
    expected.rule = vec![rule(&[], "UNSPECIFIED")];
    assert_spec(&imported.spec, &expected);
}

#[test]
fn enum_values_and_filter_keys_are_upper_cased_but_filter_values_are_not() {
    let imported = parse(&json!({
        "Name": "mixed-case",
        "OperatingSystem": "amazon_linux_2023",
        "ApprovalRules": { "PatchRules": [ {
            "PatchFilterGroup": { "PatchFilters": [ { "Key": "classification", "Values": ["Security"] } ] },
            "ComplianceLevel": "high", "ApproveAfterDays": 3 } ] },
        "ApprovedPatchesComplianceLevel": "Medium",
        "RejectedPatchesAction": "block",
        "AvailableSecurityUpdatesComplianceStatus": " non_compliant "
    }))
    .unwrap();
    let mut expected = spec("mixed-case", "AMAZON_LINUX_2023");
    expected.rule =
        vec![RuleSpec { approve_after_days: Some(3), ..rule(&[("CLASSIFICATION", &["Security"])], "HIGH") }];
    expected.approved_patches_compliance_level = "MEDIUM".into();
    expected.rejected_patches_action = "BLOCK".into();
    expected.available_security_updates_compliance_status = "NON_COMPLIANT".into();
    assert_spec(&imported.spec, &expected);
}

#[test]
fn approve_until_date_is_kept_as_text() {
    let imported = parse(&json!({
        "Name": "frozen", "OperatingSystem": "REDHAT_ENTERPRISE_LINUX",
        "ApprovalRules": { "PatchRules": [ { "ApproveUntilDate": "2023-07-07", "ComplianceLevel": "LOW" } ] }
    }))
    .unwrap();
    assert_eq!(imported.spec.rule[0].approve_until_date.as_deref(), Some("2023-07-07"));
    assert_eq!(imported.spec.rule[0].approve_after_days, None);
}

#[test]
fn a_byte_order_mark_is_skipped() {
    let text = format!("\u{feff}{GET_PATCH_BASELINE}");
    assert!(parse_baseline_document(&text).is_ok());
}

// ---------------------------------------------------------------------------------------------
// CloudFormation

#[test]
fn cfn_resource_properties_and_template_parse_to_the_same_spec() {
    let properties = cfn_properties();
    let resource = json!({ "Type": "AWS::SSM::PatchBaseline", "Properties": properties.clone(),
                           "DeletionPolicy": "Retain" });
    let template = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "patching",
        "Parameters": { "Env": { "Type": "String" } },
        "Resources": {
            "Window": { "Type": "AWS::SSM::MaintenanceWindow", "Properties": { "Name": "w" } },
            "Baseline": resource.clone()
        },
        "Outputs": { "Id": { "Value": { "Ref": "Baseline" } } }
    });
    for document in [&properties, &resource, &template] {
        let imported = parse(document).unwrap_or_else(|e| panic!("{e}"));
        assert_spec(&imported.spec, &cfn_expected());
        assert_eq!(imported.patch_groups, ["prod", "prod-web"]);
    }
}

#[test]
fn cfn_numbers_and_booleans_may_be_numbers_or_strings() {
    for (days, flag) in [(json!("7"), json!("TRUE")), (json!(7), json!(true)), (json!(7.0), json!(" true "))] {
        let imported = parse(&json!({
            "Type": "AWS::SSM::PatchBaseline",
            "Properties": { "Name": "strings", "OperatingSystem": "CENTOS",
                "ApprovalRules": { "PatchRules": [ { "ApproveAfterDays": days, "EnableNonSecurity": flag } ] } }
        }))
        .unwrap();
        assert_eq!(imported.spec.rule[0].approve_after_days, Some(7));
        assert!(imported.spec.rule[0].enable_non_security);
    }
}

#[test]
fn cfn_template_needs_exactly_one_patch_baseline() {
    let resource = json!({ "Type": "AWS::SSM::PatchBaseline", "Properties": { "Name": "one" } });
    let two = json!({ "Resources": { "A": resource.clone(), "B": resource.clone() } });
    let message = parse_err(&two);
    assert_eq!(
        message,
        "Resources: the template has 2 AWS::SSM::PatchBaseline resources (A, B); an import takes a file with exactly one"
    );
    let none = json!({ "Resources": { "Box": { "Type": "AWS::EC2::Instance", "Properties": {} } } });
    let message = parse_err(&none);
    assert_eq!(
        message,
        "the document is not a patch baseline: the CloudFormation template has no AWS::SSM::PatchBaseline resource \
         (it has AWS::EC2::Instance)"
    );
    let message = parse_err(&json!({ "Resources": {} }));
    assert!(message.ends_with("has no AWS::SSM::PatchBaseline resource"), "{message}");
}

#[test]
fn cfn_errors_name_the_path_inside_the_template() {
    let template = json!({ "Resources": { "PB": { "Type": "AWS::SSM::PatchBaseline", "Properties": {
        "Name": "x", "ApprovalRules": { "PatchRules": [ { "ApproveAfterDays": "a week" } ] } } } } });
    assert_eq!(
        parse_err(&template),
        "Resources.PB.Properties.ApprovalRules.PatchRules[0].ApproveAfterDays: expected a whole number of days, \
         found \"a week\""
    );
    let missing = json!({ "Resources": { "PB": { "Type": "AWS::SSM::PatchBaseline" } } });
    assert!(parse_err(&missing).starts_with("Resources.PB: Properties is missing"));
    let nameless = json!({ "Type": "AWS::SSM::PatchBaseline", "Properties": { "OperatingSystem": "SUSE" } });
    assert_eq!(parse_err(&nameless), "Properties: Name is missing");
}

#[test]
fn cfn_resource_of_another_type_is_rejected() {
    let window = json!({ "Type": "AWS::SSM::MaintenanceWindow", "Properties": { "Name": "w" } });
    assert_eq!(
        parse_err(&window),
        "Type: the resource is an AWS::SSM::MaintenanceWindow, not an AWS::SSM::PatchBaseline"
    );
    let untyped = json!({ "Properties": { "Name": "w" } });
    assert!(parse_err(&untyped).contains("Type is missing"));
}

#[test]
fn cfn_intrinsic_functions_get_a_pointed_message() {
    let message = parse_err(&json!({ "Name": { "Fn::Sub": "${Env}-baseline" } }));
    assert_eq!(
        message,
        "Name: the CloudFormation function `Fn::Sub` cannot be evaluated by patchfleet; write the value itself"
    );
    let message = parse_err(&json!({ "Name": "x", "PatchGroups": { "Ref": "Groups" } }));
    assert!(message.starts_with("PatchGroups: the CloudFormation function `Ref`"), "{message}");
}

#[test]
fn cfn_default_baseline_true_is_rejected_false_is_accepted() {
    let properties = json!({ "Name": "d", "DefaultBaseline": "false" });
    assert!(parse(&properties).is_ok());
    let message = parse_err(&json!({ "Name": "d", "DefaultBaseline": true }));
    assert!(message.starts_with("DefaultBaseline: registering the default baseline"), "{message}");
}

// ---------------------------------------------------------------------------------------------
// Documents that are not baselines

#[test]
fn non_baseline_documents_are_rejected() {
    assert_eq!(parse_baseline_document("{}").unwrap_err(), "the document is not a patch baseline: Name is missing");
    assert_eq!(
        parse_baseline_document("[]").unwrap_err(),
        "the document is not a patch baseline: the document is a list, expected a JSON object"
    );
    assert!(parse_baseline_document("\"WindowsPatching\"").unwrap_err().contains("is a string"));
    assert!(parse_baseline_document("null").unwrap_err().contains("is null"));

    let message = parse_baseline_document(r#"{"Reservations": []}"#).unwrap_err();
    assert!(message.starts_with("the document is not a patch baseline: unknown field `Reservations`;"), "{message}");
    // A describe-patch-baselines listing and a baseline with a typo.
    let message = parse_baseline_document(r#"{"BaselineIdentities": [], "NextToken": "x"}"#).unwrap_err();
    assert!(message.contains("unknown fields `BaselineIdentities`, `NextToken`"), "{message}");
    let message = parse(&fixture_with("ApprovedPatchs", json!([]))).unwrap_err();
    assert!(message.contains("unknown field `ApprovedPatchs`"), "{message}");
}

#[test]
fn malformed_json_reports_line_and_column() {
    let message = parse_baseline_document("{\n  \"Name\": \"x\",\n  \"OperatingSystem\": \n}").unwrap_err();
    assert!(message.starts_with("invalid JSON: "), "{message}");
    assert!(message.contains("line 4 column 1"), "{message}");
    let message = parse_baseline_document("").unwrap_err();
    assert!(message.contains("the file is empty"), "{message}");
    let message = parse_baseline_document("Name: [x\n").unwrap_err();
    assert!(message.starts_with("invalid YAML: ") && message.contains("line"), "{message}");
}

// ---------------------------------------------------------------------------------------------
// Bad values

fn with_rules(rules: Value) -> Value {
    json!({ "Name": "bad", "OperatingSystem": "AMAZON_LINUX_2", "ApprovalRules": { "PatchRules": rules } })
}

#[test]
fn approve_after_days_must_be_a_whole_number() {
    let good = json!({ "ApproveAfterDays": 7 });
    let message = parse_err(&with_rules(json!([good, { "ApproveAfterDays": "soon" }])));
    assert_eq!(
        message,
        "ApprovalRules.PatchRules[1].ApproveAfterDays: expected a whole number of days, found \"soon\""
    );
    for bad in [json!(-1), json!(1.5), json!("-3"), json!(true), json!(5_000_000_000u64)] {
        let message = parse_err(&with_rules(json!([{ "ApproveAfterDays": bad }])));
        assert!(
            message.starts_with("ApprovalRules.PatchRules[0].ApproveAfterDays: expected a whole number"),
            "{message}"
        );
    }
    // The 0..=360 range is the validator's check.
    let imported = parse(&with_rules(json!([{ "ApproveAfterDays": 361 }]))).unwrap();
    assert_eq!(imported.spec.rule[0].approve_after_days, Some(361));
}

#[test]
fn filter_values_must_be_a_list_of_strings() {
    let rules = json!([{ "PatchFilterGroup": { "PatchFilters": [ { "Key": "PRODUCT", "Values": "AmazonLinux2" } ] } }]);
    assert_eq!(
        parse_err(&with_rules(rules)),
        "ApprovalRules.PatchRules[0].PatchFilterGroup.PatchFilters[0].Values: expected a list of strings, \
         found \"AmazonLinux2\""
    );
    let global =
        json!({ "Name": "bad", "GlobalFilters": { "PatchFilters": [ { "Key": "PRODUCT", "Values": ["a", 2] } ] } });
    assert_eq!(parse_err(&global), "GlobalFilters.PatchFilters[0].Values[1]: expected a string, found 2");
    let keyless = json!({ "Name": "bad", "GlobalFilters": { "PatchFilters": [ { "Values": ["a"] } ] } });
    assert_eq!(parse_err(&keyless), "GlobalFilters.PatchFilters[0]: Key is missing");
    let flat = json!({ "Name": "bad", "GlobalFilters": [ { "Key": "PRODUCT", "Values": ["a"] } ] });
    assert_eq!(parse_err(&flat), "GlobalFilters: expected an object, found a list");
}

#[test]
fn duplicate_filter_keys_are_rejected() {
    let rules = json!([{ "PatchFilterGroup": { "PatchFilters": [
        { "Key": "PRODUCT", "Values": ["AmazonLinux2"] },
        { "Key": "CLASSIFICATION", "Values": ["Security"] },
        { "Key": "product", "Values": ["AmazonLinux2.0"] } ] } }]);
    assert_eq!(
        parse_err(&with_rules(rules)),
        "ApprovalRules.PatchRules[0].PatchFilterGroup.PatchFilters[2].Key: duplicate filter key PRODUCT"
    );
}

#[test]
fn sources_are_not_supported() {
    let sources = json!([{ "Name": "My-AL2", "Products": ["AmazonLinux2"],
                           "Configuration": "[main]\nname=MyCustomRepository" }]);
    assert_eq!(
        parse_err(&fixture_with("Sources", sources)),
        "Sources: Sources (alternative patch repositories) are not supported by patchfleet"
    );
    assert_eq!(parse_err(&fixture_with("Sources", json!({}))), "Sources: expected a list, found an object");
}

#[test]
fn nested_unknown_fields_and_wrong_types_are_rejected_with_paths() {
    let message = parse_err(&with_rules(json!([{ "ApproveAfterDays": 1, "AutoApprove": true }])));
    assert!(
        message.starts_with("ApprovalRules.PatchRules[0]: unknown field `AutoApprove`; a patch rule has"),
        "{message}"
    );
    let message = parse_err(&with_rules(json!({ "ApproveAfterDays": 1 })));
    assert_eq!(message, "ApprovalRules.PatchRules: expected a list, found an object");
    let message = parse_err(&with_rules(json!([{ "EnableNonSecurity": "yes" }])));
    assert_eq!(message, "ApprovalRules.PatchRules[0].EnableNonSecurity: expected true or false, found \"yes\"");
    let message = parse_err(&json!({ "Name": 42 }));
    assert_eq!(message, "Name: expected a string, found 42");
    let message = parse_err(&json!({ "Name": "x", "OperatingSystem": ["UBUNTU"] }));
    assert_eq!(message, "OperatingSystem: expected a string, found a list");
    let long = "x".repeat(100);
    let message = parse_err(&json!({ "Name": "x", "ApprovedPatchesEnableNonSecurity": long }));
    assert!(message.ends_with(&format!("found \"{}...", "x".repeat(59))), "{message}");
}

// ---------------------------------------------------------------------------------------------
// Export and round trip

fn windows_def() -> BaselineDef {
    BaselineDef {
        name: "win-prod".into(),
        os: Os::Windows,
        description: "Windows servers".into(),
        global_filters: Vec::new(),
        rules: vec![RuleDef {
            filters: def_filters(&[
                (FilterKey::Product, &["WindowsServer2022"]),
                (FilterKey::Classification, &["SecurityUpdates", "CriticalUpdates"]),
                (FilterKey::MsrcSeverity, &["Critical", "Important"]),
            ]),
            delay: ApprovalDelay::AfterDays(7),
            compliance_level: ComplianceLevel::Critical,
            enable_non_security: false,
        }],
        approved_patches: vec!["KB5044281".into()],
        approved_patches_compliance_level: ComplianceLevel::High,
        approved_patches_enable_non_security: false,
        rejected_patches: Vec::new(),
        rejected_patches_action: RejectedAction::AllowAsDependency,
        available_security_updates_non_compliant: true,
    }
}

/// 2025-03-20T00:00:00Z.
const MARCH_20_2025: i64 = 1_742_428_800;

fn al2023_def() -> BaselineDef {
    BaselineDef {
        name: "al2023-prod".into(),
        os: Os::AmazonLinux2023,
        description: String::new(),
        global_filters: def_filters(&[(FilterKey::Product, &["AmazonLinux2023"])]),
        rules: vec![
            RuleDef {
                // Order of the Vec, not alphabetical.
                filters: def_filters(&[
                    (FilterKey::Severity, &["Critical", "Important"]),
                    (FilterKey::Classification, &["Security"]),
                ]),
                delay: ApprovalDelay::AfterDays(3),
                compliance_level: ComplianceLevel::Critical,
                enable_non_security: false,
            },
            RuleDef {
                filters: def_filters(&[(FilterKey::Classification, &["Bugfix", "Enhancement"])]),
                delay: ApprovalDelay::UntilDate(SimTime(MARCH_20_2025)),
                compliance_level: ComplianceLevel::Low,
                enable_non_security: true,
            },
        ],
        approved_patches: vec!["ALAS2023-2025-001".into(), "CVE-2025-1234".into()],
        approved_patches_compliance_level: ComplianceLevel::Medium,
        approved_patches_enable_non_security: true,
        rejected_patches: vec!["kernel-6.1.0-1.amzn2023.x86_64".into(), "python3-*".into()],
        rejected_patches_action: RejectedAction::Block,
        available_security_updates_non_compliant: false,
    }
}

fn ubuntu_def() -> BaselineDef {
    BaselineDef {
        name: "ubuntu-all".into(),
        os: Os::Ubuntu,
        description: "All Ubuntu updates".into(),
        global_filters: Vec::new(),
        rules: vec![RuleDef {
            filters: def_filters(&[
                (FilterKey::Product, &["Ubuntu22.04"]),
                (FilterKey::Priority, &["Required", "Important"]),
                (FilterKey::Section, &["*"]),
            ]),
            delay: ApprovalDelay::AfterDays(0),
            compliance_level: ComplianceLevel::Unspecified,
            enable_non_security: true,
        }],
        approved_patches: Vec::new(),
        approved_patches_compliance_level: ComplianceLevel::Unspecified,
        approved_patches_enable_non_security: false,
        rejected_patches: vec!["snapd".into()],
        rejected_patches_action: RejectedAction::AllowAsDependency,
        available_security_updates_non_compliant: false,
    }
}

fn round_trip(def: &BaselineDef) -> ImportedBaseline {
    let request = create_patch_baseline_request(def);
    let text = serde_json::to_string_pretty(&request).unwrap();
    parse_baseline_document(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

#[test]
fn windows_round_trip() {
    let imported = round_trip(&windows_def());
    let mut expected = spec("win-prod", "WINDOWS");
    expected.description = "Windows servers".into();
    expected.rule = vec![RuleSpec {
        approve_after_days: Some(7),
        ..rule(
            &[
                ("PRODUCT", &["WindowsServer2022"]),
                ("CLASSIFICATION", &["SecurityUpdates", "CriticalUpdates"]),
                ("MSRC_SEVERITY", &["Critical", "Important"]),
            ],
            "CRITICAL",
        )
    }];
    expected.approved_patches = vec!["KB5044281".into()];
    expected.approved_patches_compliance_level = "HIGH".into();
    expected.available_security_updates_compliance_status = "NON_COMPLIANT".into();
    assert_spec(&imported.spec, &expected);
    assert!(imported.patch_groups.is_empty());
}

#[test]
fn amazon_linux_2023_round_trip() {
    let imported = round_trip(&al2023_def());
    let mut expected = spec("al2023-prod", "AMAZON_LINUX_2023");
    expected.global_filters = filters(&[("PRODUCT", &["AmazonLinux2023"])]);
    expected.rule = vec![
        RuleSpec {
            approve_after_days: Some(3),
            ..rule(&[("SEVERITY", &["Critical", "Important"]), ("CLASSIFICATION", &["Security"])], "CRITICAL")
        },
        RuleSpec {
            approve_until_date: Some("2025-03-20".into()),
            enable_non_security: true,
            ..rule(&[("CLASSIFICATION", &["Bugfix", "Enhancement"])], "LOW")
        },
    ];
    expected.approved_patches = vec!["ALAS2023-2025-001".into(), "CVE-2025-1234".into()];
    expected.approved_patches_compliance_level = "MEDIUM".into();
    expected.approved_patches_enable_non_security = true;
    expected.rejected_patches = vec!["kernel-6.1.0-1.amzn2023.x86_64".into(), "python3-*".into()];
    expected.rejected_patches_action = "BLOCK".into();
    assert_spec(&imported.spec, &expected);
}

#[test]
fn ubuntu_round_trip() {
    let imported = round_trip(&ubuntu_def());
    let mut expected = spec("ubuntu-all", "UBUNTU");
    expected.description = "All Ubuntu updates".into();
    expected.rule = vec![RuleSpec {
        enable_non_security: true,
        ..rule(
            &[("PRODUCT", &["Ubuntu22.04"]), ("PRIORITY", &["Required", "Important"]), ("SECTION", &["*"])],
            "UNSPECIFIED",
        )
    }];
    expected.rejected_patches = vec!["snapd".into()];
    assert_spec(&imported.spec, &expected);
}

#[test]
fn create_request_has_the_cli_input_json_shape() {
    let request = create_patch_baseline_request(&al2023_def());
    let expected = json!({
        "Name": "al2023-prod",
        "OperatingSystem": "AMAZON_LINUX_2023",
        "GlobalFilters": { "PatchFilters": [ { "Key": "PRODUCT", "Values": ["AmazonLinux2023"] } ] },
        "ApprovalRules": { "PatchRules": [
            { "PatchFilterGroup": { "PatchFilters": [
                  { "Key": "SEVERITY", "Values": ["Critical", "Important"] },
                  { "Key": "CLASSIFICATION", "Values": ["Security"] } ] },
              "ComplianceLevel": "CRITICAL", "ApproveAfterDays": 3, "EnableNonSecurity": false },
            { "PatchFilterGroup": { "PatchFilters": [
                  { "Key": "CLASSIFICATION", "Values": ["Bugfix", "Enhancement"] } ] },
              "ComplianceLevel": "LOW", "ApproveUntilDate": "2025-03-20", "EnableNonSecurity": true }
        ] },
        "ApprovedPatches": ["ALAS2023-2025-001", "CVE-2025-1234"],
        "ApprovedPatchesComplianceLevel": "MEDIUM",
        "ApprovedPatchesEnableNonSecurity": true,
        "RejectedPatches": ["kernel-6.1.0-1.amzn2023.x86_64", "python3-*"],
        "RejectedPatchesAction": "BLOCK"
    });
    assert_eq!(request, expected);
    // ApproveAfterDays is a JSON number, not a string.
    assert!(request["ApprovalRules"]["PatchRules"][0]["ApproveAfterDays"].is_u64());
}

#[test]
fn create_request_omits_fields_that_do_not_apply() {
    let windows = create_patch_baseline_request(&windows_def());
    let object = windows.as_object().unwrap();
    assert!(!object.contains_key("ApprovedPatchesEnableNonSecurity"));
    assert!(!object.contains_key("GlobalFilters"));
    assert_eq!(windows["AvailableSecurityUpdatesComplianceStatus"], "NON_COMPLIANT");
    assert!(windows["ApprovalRules"]["PatchRules"][0].get("EnableNonSecurity").is_none());
    assert_eq!(windows["Description"], "Windows servers");

    let ubuntu = create_patch_baseline_request(&ubuntu_def());
    let object = ubuntu.as_object().unwrap();
    assert!(!object.contains_key("AvailableSecurityUpdatesComplianceStatus"));
    let rule = ubuntu["ApprovalRules"]["PatchRules"][0].as_object().unwrap();
    assert!(!rule.contains_key("ApproveAfterDays") && !rule.contains_key("ApproveUntilDate"));

    let mut al = al2023_def();
    al.rules[0].delay = ApprovalDelay::AfterDays(0);
    let request = create_patch_baseline_request(&al);
    assert_eq!(request["ApprovalRules"]["PatchRules"][0]["ApproveAfterDays"], 0);
    assert!(request.get("Description").is_none());

    let mut empty = windows_def();
    empty.rules.clear();
    let request = create_patch_baseline_request(&empty);
    assert_eq!(request["ApprovalRules"], json!({ "PatchRules": [] }));
}

#[test]
fn until_dates_are_written_as_the_utc_day() {
    assert_eq!(utc_date(MARCH_20_2025), "2025-03-20");
    assert_eq!(utc_date(MARCH_20_2025 + 86_399), "2025-03-20");
    assert_eq!(utc_date(MARCH_20_2025 - 1), "2025-03-19");
    assert_eq!(utc_date(0), "1970-01-01");
    assert_eq!(utc_date(-1), "1969-12-31");
    assert_eq!(utc_date(951_782_400), "2000-02-29");
}

#[test]
fn the_get_patch_baseline_shape_survives_a_round_trip_through_the_request() {
    // Import, then export what main would validate: the request carries the same rule.
    let imported = parse_baseline_document(GET_PATCH_BASELINE).unwrap();
    let def = BaselineDef {
        name: imported.spec.name.clone(),
        os: Os::Windows,
        description: imported.spec.description.clone(),
        global_filters: Vec::new(),
        rules: vec![RuleDef {
            filters: def_filters(&[(FilterKey::Product, &["WindowsServer2016"])]),
            delay: ApprovalDelay::AfterDays(0),
            compliance_level: ComplianceLevel::Critical,
            enable_non_security: false,
        }],
        approved_patches: Vec::new(),
        approved_patches_compliance_level: ComplianceLevel::Unspecified,
        approved_patches_enable_non_security: false,
        rejected_patches: Vec::new(),
        rejected_patches_action: RejectedAction::AllowAsDependency,
        available_security_updates_non_compliant: false,
    };
    let again = parse(&create_patch_baseline_request(&def)).unwrap();
    assert_spec(&again.spec, &imported.spec);
}
