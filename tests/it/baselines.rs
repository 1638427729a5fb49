//! Baselines in and out: `baseline export`, import from AWS JSON and CloudFormation, and
//! `baseline explain`.

use patchfleet::scenario::{load, load_default};

use crate::support::{run, text};

/// Writes `files` into a temporary directory and returns it.
fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let temp = tempfile::tempdir().unwrap();
    for (name, content) in files {
        std::fs::write(temp.path().join(name), content).unwrap();
    }
    temp
}

const MINIMAL: &str = r#"
[scenario]
name = "import"
start = 2026-11-02T00:00:00Z
horizon = "2d"

[[catalog]]
os = "WINDOWS"
products = ["WindowsServer2022"]
packages = 1

[[catalog]]
os = "AMAZON_LINUX_2023"
products = ["AmazonLinux2023"]
packages = 1
"#;

#[test]
fn an_exported_baseline_imports_back_unchanged() {
    let default = load_default();
    // Every predefined baseline exports and imports back under a new name (`AWS-` names
    // stay reserved), and so do the default scenario's own.
    let predefined = patchfleet::catalog::os_list().map(patchfleet::baseline::predefined::default_name);
    let names: Vec<&str> = ["al2023-production", "windows-production", "ubuntu-security"]
        .into_iter()
        .chain(predefined)
        .chain(["AWS-WindowsPredefinedPatchBaseline-OS", "AWS-WindowsPredefinedPatchBaseline-OS-Applications"])
        .collect();
    for name in names {
        let output = run(&["baseline", "export", name]);
        assert!(output.status.success(), "{name}: {}", text(&output.stderr));
        let exported = text(&output.stdout);
        let temp = dir_with(&[("exported.json", &exported)]);
        let scenario_text = format!(
            "{MINIMAL}\n[[catalog]]\nos = \"UBUNTU\"\nproducts = [\"Ubuntu22.04\"]\npackages = 1\n\n[[baseline]]\nimport = \"exported.json\"\nname = \"roundtrip\"\n"
        );
        let path = temp.path().join("scenario.toml");
        std::fs::write(&path, &scenario_text).unwrap();
        let scenario = load(path.to_str().unwrap(), &scenario_text).unwrap_or_else(|d| panic!("{name}: {d}"));
        let mut imported = scenario.baselines.iter().find(|b| b.name == "roundtrip").unwrap().clone();
        let original = match default.baselines.iter().find(|b| b.name == name) {
            Some(found) => found.clone(),
            None => patchfleet::baseline::predefined::by_name(name).unwrap(),
        };
        imported.name = original.name.clone();
        assert_eq!(imported, original, "{name} changed in the round trip:\n{exported}");
    }
}

/// `aws ssm get-patch-baseline` output, as the AWS CLI documentation shows it.
const GET_PATCH_BASELINE: &str = r#"{
    "BaselineId": "pb-0123456789abcdef0",
    "Name": "WindowsPatching",
    "OperatingSystem": "WINDOWS",
    "GlobalFilters": { "PatchFilters": [] },
    "ApprovalRules": { "PatchRules": [ { "PatchFilterGroup": { "PatchFilters": [
        { "Key": "PRODUCT", "Values": ["WindowsServer2016"] } ] },
      "ComplianceLevel": "CRITICAL", "ApproveAfterDays": 0, "EnableNonSecurity": false } ] },
    "ApprovedPatches": [], "ApprovedPatchesComplianceLevel": "UNSPECIFIED", "ApprovedPatchesEnableNonSecurity": false,
    "RejectedPatches": [], "RejectedPatchesAction": "ALLOW_AS_DEPENDENCY", "PatchGroups": ["QA", "DEV"],
    "CreatedDate": 1550244180.465, "ModifiedDate": "2019-02-15T15:23:00.465000+00:00",
    "Description": "Patches for Windows Servers", "Sources": []
}"#;

#[test]
fn a_get_patch_baseline_document_imports_with_its_patch_groups() {
    let temp = dir_with(&[("windows.json", GET_PATCH_BASELINE)]);
    let scenario_text = format!("{MINIMAL}\n[[baseline]]\nimport = \"windows.json\"\n");
    let path = temp.path().join("s.toml");
    let scenario = load(path.to_str().unwrap(), &scenario_text).unwrap_or_else(|d| panic!("{d}"));
    let index = scenario.baselines.iter().position(|b| b.name == "WindowsPatching").unwrap();
    assert_eq!(scenario.baselines[index].rules.len(), 1);
    assert_eq!(scenario.patch_groups["QA"], vec![index]);
    assert_eq!(scenario.patch_groups["DEV"], vec![index]);
    assert_eq!(scenario.resolve_baseline(Some("DEV"), patchfleet::catalog::Os::Windows), index);
}

#[test]
fn a_cloudformation_resource_imports() {
    let resource = r#"{ "Type": "AWS::SSM::PatchBaseline", "Properties": {
        "Name": "al2023-cfn", "OperatingSystem": "AMAZON_LINUX_2023",
        "ApprovalRules": { "PatchRules": [ { "ApproveAfterDays": "7", "ComplianceLevel": "HIGH",
          "PatchFilterGroup": { "PatchFilters": [ { "Key": "CLASSIFICATION", "Values": ["Security"] } ] } } ] } } }"#;
    let temp = dir_with(&[("cfn.json", resource)]);
    let scenario_text = format!("{MINIMAL}\n[[baseline]]\nimport = \"cfn.json\"\n");
    let scenario = load(temp.path().join("s.toml").to_str().unwrap(), &scenario_text).unwrap_or_else(|d| panic!("{d}"));
    let baseline = scenario.baselines.iter().find(|b| b.name == "al2023-cfn").unwrap();
    assert_eq!(baseline.rules[0].delay, patchfleet::baseline::ApprovalDelay::AfterDays(7));
}

/// The same resource as a CloudFormation YAML template, with a short-form intrinsic
/// function where it does not matter (Outputs) and block scalars.
#[test]
fn a_cloudformation_yaml_template_imports_and_short_form_functions_are_named() {
    let template = r#"AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Baseline:
    Type: AWS::SSM::PatchBaseline
    Properties:
      Name: al2023-yaml
      OperatingSystem: AMAZON_LINUX_2023
      PatchGroups: [web, db]
      ApprovalRules:
        PatchRules:
          - ApproveAfterDays: 7
            ComplianceLevel: HIGH
            PatchFilterGroup:
              PatchFilters:
                - Key: CLASSIFICATION
                  Values: [Security]
                - Key: SEVERITY
                  Values:
                    - Critical
                    - Important
"#;
    let with_ref = template.replace("Name: al2023-yaml", "Name: !Ref BaselineName");
    let temp = dir_with(&[("cfn.yaml", template), ("ref.yaml", &with_ref)]);
    let scenario_text = format!("{MINIMAL}\n[[baseline]]\nimport = \"cfn.yaml\"\n");
    let scenario = load(temp.path().join("s.toml").to_str().unwrap(), &scenario_text).unwrap_or_else(|d| panic!("{d}"));
    let baseline = scenario.baselines.iter().find(|b| b.name == "al2023-yaml").unwrap();
    assert_eq!(baseline.rules[0].delay, patchfleet::baseline::ApprovalDelay::AfterDays(7));
    assert_eq!(baseline.rules[0].filters[1].1, ["Critical", "Important"]);
    assert!(scenario.patch_groups.contains_key("web") && scenario.patch_groups.contains_key("db"));
    let scenario_text = format!("{MINIMAL}\n[[baseline]]\nimport = \"ref.yaml\"\n");
    let error = load(temp.path().join("s.toml").to_str().unwrap(), &scenario_text).unwrap_err().to_string();
    assert!(error.contains("Ref"), "{error}");
}

#[test]
fn a_json_file_that_is_not_a_baseline_is_an_input_error_naming_file_and_field() {
    let temp = dir_with(&[
        ("ec2.json", r#"{"Reservations": []}"#),
        (
            "bad.json",
            r#"{"Name": "x-y-z", "OperatingSystem": "AMAZON_LINUX_2", "ApprovalRules": {"PatchRules": [{"ApproveAfterDays": 361, "PatchFilterGroup": {"PatchFilters": []}}]}}"#,
        ),
    ]);
    let scenario_text =
        format!("{MINIMAL}\n[[baseline]]\nimport = \"ec2.json\"\n\n[[baseline]]\nimport = \"bad.json\"\n");
    let path = temp.path().join("s.toml");
    std::fs::write(&path, &scenario_text).unwrap();
    let output = run(&["validate", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("ec2.json") && stderr.contains("Reservations"), "{stderr}");
    assert!(stderr.contains("baseline[0].import"), "{stderr}");
    assert!(stderr.contains("0 to 360"), "{stderr}");
}

#[test]
fn explain_shows_why_the_november_update_is_not_approved_yet() {
    let output = run(&["baseline", "explain", "windows-production", "--at", "2026-11-12T00:00:00Z", "--json"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let lines: Vec<serde_json::Value> =
        text(&output.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let november = lines
        .iter()
        .find(|l| l["package"] == "windows-cumulative-update" && l["released"] == "2026-11-10T18:00:00Z")
        .expect("the November cumulative update is in the catalog");
    assert_eq!(november["status"], "PENDING_APPROVAL");
    // Released 11-10 18:00 with 7 days: whole UTC days make it 11-17 00:00.
    assert_eq!(november["approval_instant"], "2026-11-17T00:00:00Z");
    assert_eq!(november["decided_by"], "rule 1");
    assert_eq!(november["compliance_level"], "CRITICAL");
    // The optional preview is not a security update: no rule approves it.
    let preview = lines.iter().find(|l| l["package"] == "windows-cumulative-preview").unwrap();
    assert_eq!((preview["status"].as_str(), preview["decided_by"].as_str()), (Some("NOT_APPROVED"), Some("no rule")));
    // October's update is superseded by November's by then.
    let october = lines
        .iter()
        .find(|l| l["package"] == "windows-cumulative-update" && l["released"] == "2026-10-13T18:00:00Z")
        .unwrap();
    assert_eq!(october["superseded_by"], november["patch_id"]);

    let id = november["patch_id"].as_str().unwrap();
    let output = run(&["baseline", "explain", "windows-production", "--at", "2026-11-12T00:00:00Z", "--patch", id]);
    let table = text(&output.stdout);
    assert_eq!(table.lines().count(), 2, "{table}");
    assert!(table.lines().nth(1).unwrap().contains("PENDING_APPROVAL"));
}

#[test]
fn explain_takes_predefined_baselines_and_rejects_unknown_names_and_patches() {
    let output = run(&["baseline", "explain", "AWS-DefaultPatchBaseline", "--json"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let output = run(&["baseline", "explain", "no-such-baseline"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("no baseline `no-such-baseline`"));
    let output = run(&["baseline", "explain", "windows-production", "--patch", "KB0"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("no patch `KB0`"));
}
