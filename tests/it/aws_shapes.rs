//! The AWS-shaped result files pass botocore's own response validation (its Stubber reads
//! the SSM model: required members, enums, lengths, patterns). Python and the pinned
//! botocore of tests/aws/requirements.txt are set up in a virtual environment under
//! cargo's target directory on first use; a machine without them fails here, loudly.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::support::{data, run, text};

/// The Python of a virtual environment with the pinned botocore.
fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("botocore-venv");
        let python = venv.join("bin/python");
        let requirements = root.join("tests/aws/requirements.txt");
        let ready = |python: &Path| {
            Command::new(python)
                .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"])
                .arg(&requirements)
                .status()
                .is_ok_and(|s| s.success())
        };
        if !python.exists() {
            let made = Command::new("python3").arg("-m").arg("venv").arg(&venv).status();
            assert!(made.is_ok_and(|s| s.success()), "python3 -m venv failed: install Python 3 with venv");
        }
        assert!(ready(&python), "pip could not install {}", requirements.display());
        python
    })
}

/// Per file, the (line, error) pairs botocore reports.
fn validate(dir: &Path) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/aws/validate_shapes.py");
    let output = Command::new(python()).arg(script).arg(dir).output().expect("python runs");
    assert!(output.status.success(), "{}", text(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("the validator prints JSON")
}

fn run_into(scenario: &Path, dir: &Path) {
    let output = run(&["run", "--quiet", scenario.to_str().unwrap(), "--out", dir.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
}

#[test]
fn instance_patch_states_and_instance_patches_pass_botocore_validation() {
    let temp = tempfile::tempdir().unwrap();
    let scenario = temp.path().join("ten.toml");
    let mut text = std::fs::read_to_string(data("ten-instances.toml")).unwrap();
    text.push_str("\n[output]\ninstance_patches = [\"*\"]\ninvocations = true\n");
    std::fs::write(&scenario, text).unwrap();
    let dir = temp.path().join("out");
    run_into(&scenario, &dir);
    let report = validate(&dir);
    assert_eq!(report["instance_patch_states.jsonl"], serde_json::json!([]), "{report}");
    assert_eq!(report["instance_patches.jsonl"], serde_json::json!([]), "{report}");
    // Ten instances, each listing its two installed patches (curl does not apply and Linux
    // lists no NOT_APPLICABLE rows).
    let lines = std::fs::read_to_string(dir.join("instance_patches.jsonl")).unwrap();
    let first: serde_json::Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
    assert_eq!(lines.lines().count(), 10);
    let states: Vec<&str> = first["Patches"].as_array().unwrap().iter().map(|p| p["State"].as_str().unwrap()).collect();
    assert_eq!(states, ["INSTALLED", "INSTALLED"]);
    assert_eq!(first["Patches"][0]["InstalledTime"], "2026-01-09T03:07:00Z", "the end of the install");
}

/// AWS returns `"PatchGroup": ""` for an instance without a patch group (its CLI and
/// user-guide examples), which botocore's model (1 character at least) rejects: that is
/// the only difference the default scenario's untagged servers may show.
#[test]
fn the_default_scenario_differs_from_the_model_only_where_aws_does() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("out");
    let output = run(&["run", "--quiet", "--out", dir.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let report = validate(&dir);
    let errors = report["instance_patch_states.jsonl"].as_array().unwrap();
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(dir.join("instance_patch_states.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let untagged = lines.iter().filter(|l| l["PatchGroup"] == "").count();
    assert!(untagged > 0 && untagged < lines.len());
    assert_eq!(errors.len(), untagged);
    for error in errors {
        let line = &lines[error["line"].as_u64().unwrap() as usize - 1];
        assert_eq!(line["PatchGroup"], "");
        let message = error["error"].as_str().unwrap();
        assert!(
            message.contains("PatchGroup, value: 0, valid min length: 1") && message.matches("Invalid").count() == 1,
            "{message}"
        );
    }
}
