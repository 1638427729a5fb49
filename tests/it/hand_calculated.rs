//! A scenario small enough to work out by hand: tests/data/ten-instances.toml.
//!
//! The hand calculation:
//! - Ten instances carry `openssl` and `kernel`, not `curl`. Their patch level is seven days
//!   behind the start (2026-01-05), so nothing released after 2025-12-29 is installed:
//!   none of the three patches.
//! - The baseline approves Critical security patches at release and Important ones two
//!   whole UTC days after: ALAS-0001 (openssl, Critical, 01-01) and ALAS-0002 (curl,
//!   Critical, 01-02) are approved before the start; ALAS-0003 (kernel, Important, released
//!   01-06 12:00) is approved at 00:00 on 01-08 (the day of release plus two days).
//! - Samples are daily at 00:00, and the scan association runs every other day from the
//!   start (01-05, 01-07, 01-09 at 00:00, each after that instant's sample). On 01-05
//!   nobody has reported. The scan of 01-05 finds openssl missing everywhere: 10
//!   non-compliant instances, 10 missing patches, all critical. The same holds at 00:00 on
//!   01-06 to 01-09 (the 01-09 scan adds the kernel patch, after the sample).
//! - Friday 01-09 03:00 the window installs with concurrency 3. Each invocation takes
//!   60 s overhead + 0 s download + 60 s (openssl) + 120 s (kernel) + 180 s reboot = 7 min.
//!   Instances 0-2 finish at 03:07, 3-5 at 03:14, 6-8 at 03:21, 9 at 03:28: the execution
//!   ends at 03:28 (0.467 h, 0.233 of the 2-hour window). From 01-10 every sample shows 10 compliant instances.
//! - Friday 01-16 the window finds nothing to install: 60 s per invocation, no reboot, four
//!   batches, so it ends at 03:04 (0.067 h, 0.033 of the window).
//! - Patch spread: 50% (5 instances) at 03:14, 90% at 03:21, 100% at 03:28 on 01-09. For
//!   openssl, released 01-01 00:00, that is 195.23 h, 195.35 h and 195.47 h; for the kernel,
//!   released 01-06 12:00, 63.23 h, 63.35 h and 63.47 h. curl applies to nobody.
//! - Truth differs from the report between an approval and the next scan: at 00:00 on
//!   01-09, 20 patches are truly missing (the kernel is approved since 01-08) while 10 are
//!   reported (by the scan of 01-07).
//! - Exposure: 20 (instance, patch) pairs, 10 of about 63.4 h and 10 of about 195.4 h, so
//!   the median is the largest kernel value, 63.47 h; nothing is open at the end.

use crate::support::{data, run, text};

fn results() -> (tempfile::TempDir, std::path::PathBuf) {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("out");
    let scenario = data("ten-instances.toml");
    let output = run(&["run", "--quiet", scenario.to_str().unwrap(), "--out", dir.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    (temp, dir)
}

fn csv_rows(path: &std::path::Path) -> Vec<Vec<String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    reader.records().map(|r| r.unwrap().iter().map(str::to_string).collect()).collect()
}

#[test]
fn the_compliance_curve_matches_the_hand_calculation() {
    let (_temp, dir) = results();
    let rows = csv_rows(&dir.join("compliance.csv"));
    let value = |day: u32, metric: &str| -> u64 {
        let time = format!("2026-01-{day:02}T00:00:00Z");
        rows.iter()
            .find(|r| r[0] == time && r[1] == "prod" && r[2] == metric)
            .unwrap_or_else(|| panic!("no row for {time} {metric}"))[3]
            .parse()
            .unwrap()
    };
    assert_eq!((value(5, "unreported"), value(5, "compliant"), value(5, "non_compliant")), (10, 0, 0));
    for day in 6..=9 {
        assert_eq!(value(day, "non_compliant"), 10, "day {day}");
        assert_eq!(value(day, "missing_patches"), 10, "day {day}");
        assert_eq!(value(day, "critical_non_compliant"), 10, "day {day}");
    }
    for day in 10..=19 {
        assert_eq!(value(day, "compliant"), 10, "day {day}");
        assert_eq!(value(day, "missing_patches"), 0, "day {day}");
        assert_eq!(value(day, "pending_reboot_patches"), 0, "day {day}");
    }
    // Truth against report: at 00:00 on 01-09 the kernel patch has been approved for a
    // day, so twenty patches are truly missing, but the last scan (01-07 00:00) reported
    // ten. After the window both agree on zero.
    assert_eq!((value(9, "missing_patches"), value(9, "true_missing_patches")), (10, 20));
    assert_eq!((value(9, "true_non_compliant"), value(10, "true_compliant")), (10, 10));
    assert_eq!(value(10, "true_missing_patches"), 0);
    assert_eq!(value(9, "connection_lost"), 0);
    // Fifteen samples (01-05 to 01-19), one group, twelve metrics.
    assert_eq!(rows.len(), 15 * 12);
}

#[test]
fn window_executions_match_the_hand_calculation() {
    let (_temp, dir) = results();
    let rows = csv_rows(&dir.join("windows.csv"));
    let expected = [
        [
            "friday-install",
            "0",
            "2026-01-09T03:00:00Z",
            "2026-01-09T03:00:00Z",
            "2026-01-09T03:28:00Z",
            "SUCCESS",
            "",
            "10",
            "10",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0.467",
            "0.233",
        ],
        [
            "friday-install",
            "1",
            "2026-01-16T03:00:00Z",
            "2026-01-16T03:00:00Z",
            "2026-01-16T03:04:00Z",
            "SUCCESS",
            "",
            "10",
            "10",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0.067",
            "0.033",
        ],
    ];
    assert_eq!(rows, expected.map(|r| r.map(str::to_string).to_vec()).to_vec());
}

#[test]
fn patch_spread_and_final_states_match_the_hand_calculation() {
    let (_temp, dir) = results();
    let rows = csv_rows(&dir.join("patches.csv"));
    let spread = |id: &str| -> Vec<String> {
        let row = rows.iter().find(|r| r[1] == id).unwrap();
        row[10..17].to_vec()
    };
    assert_eq!(spread("ALAS2023-2026-0001"), ["10", "0", "10", "0.0", "195.23", "195.35", "195.47"]);
    assert_eq!(spread("ALAS2023-2026-0002"), ["0", "0", "0", "", "", "", ""]);
    assert_eq!(spread("ALAS2023-2026-0003"), ["10", "0", "10", "0.0", "63.23", "63.35", "63.47"]);

    let states = std::fs::read_to_string(dir.join("instance_patch_states.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = states.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 10);
    for state in &lines {
        assert_eq!(state["InstalledCount"], 2);
        assert_eq!(state["NotApplicableCount"], 1, "curl is approved but not applicable");
        assert_eq!(state["MissingCount"], 0);
        assert_eq!(state["PatchGroup"], "prod");
        assert_eq!(state["Operation"], "Scan");
        // The last scan of the run: every other day from 01-05, so 01-17 00:00.
        assert_eq!(state["OperationStartTime"], "2026-01-17T00:00:00Z");
        assert_eq!(state["OperationEndTime"], "2026-01-17T00:01:30Z");
        assert!(state.get("OwnerInformation").is_none(), "empty optional strings are left out");
        assert_eq!(state["SnapshotId"].as_str().map(str::len), Some(36), "a GUID");
    }

    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    let group = &summary["patch_groups"][0];
    assert_eq!(group["patch_group"], "prod");
    assert_eq!(group["exposure"]["pairs"], 20);
    assert_eq!(group["exposure"]["open_at_end"], 0);
    assert_eq!(group["reported"]["end"], 1.0);
    // HdrHistogram keeps three significant digits: 63.47 h within 0.1%.
    let median = group["exposure"]["p50_seconds"].as_f64().unwrap() / 3_600.0;
    assert!((median - 63.4667).abs() < 0.07, "median exposure {median}");
    assert_eq!(summary["stop_reason"], "horizon");
}
