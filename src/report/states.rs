//! `instance_patch_states.jsonl`: one line per running instance that has reported, with
//! DescribeInstancePatchStates' names (InstancePatchState in the API reference).
//!
//! The lines are formatted by hand, in parallel tasks written in order. Every line has the
//! same keys in the same order, and most values repeat from one line to the next (a cohort
//! scan gives all its targets one snapshot and instants, a group one patch group and
//! baseline), so the keys are literals, each repeating string is turned into JSON once, and
//! only the counts and the instance id are formatted per line. A test holds the result to
//! what serde_json writes for the same line (`tests::a_hand_formatted_line_is_serde_jsons`).
//!
//! Optional strings that would be empty are left out, as botocore's model gives them a
//! minimum length of 1 (`OwnerInformation`, which Patch Manager never fills). `PatchGroup`
//! is required: an instance without one gets `""`, as AWS's own CLI and user-guide examples
//! show, although the model asks for one character at least.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use super::files::baseline_id;
use crate::compliance::InstanceReport;
use crate::fleet::{NO_PATCH_GROUP, instance_id};
use crate::run::RunResult;
use crate::scenario::Scenario;
use crate::time::SimTime;

/// Instances formatted per task, and tasks per batch: a batch's lines (about 600 bytes
/// each) are held in memory until they are written in order.
const STATES_CHUNK: usize = 2_048;
const STATES_BATCH: usize = 8;

/// The JSON text of a string, quotes and escapes included.
fn json_string(text: &str) -> String {
    serde_json::to_string(text).expect("a string always serializes")
}

/// The last JSON text made from a value: neighbouring reports mostly share their snapshot
/// and instants, so each is formatted once per run of equal values.
struct Last<K, F> {
    key: Option<K>,
    text: String,
    format: F,
}

impl<K: PartialEq + Copy, F: Fn(K) -> String> Last<K, F> {
    fn new(format: F) -> Self {
        Last { key: None, text: String::new(), format }
    }

    fn of(&mut self, key: K) -> &str {
        if self.key != Some(key) {
            self.text = json_string(&(self.format)(key));
            self.key = Some(key);
        }
        &self.text
    }
}

pub(super) fn write_instance_states(dir: &Path, scenario: &Scenario, result: &RunResult) -> io::Result<()> {
    use rayon::prelude::*;
    let baselines: Vec<String> = scenario.baselines.iter().map(|b| json_string(&baseline_id(&b.name))).collect();
    let groups: Vec<String> = result
        .world
        .report_groups
        .iter()
        .map(|group| json_string(if group == NO_PATCH_GROUP { "" } else { group }))
        .collect();
    let strings = Repeated { baselines: &baselines, patch_groups: &groups };
    let mut out = BufWriter::new(File::create(dir.join("instance_patch_states.jsonl"))?);
    let instances = result.world.instances.report.len();
    let starts: Vec<usize> = (0..instances).step_by(STATES_CHUNK).collect();
    for batch in starts.chunks(STATES_BATCH) {
        let texts: Vec<Vec<u8>> = batch
            .par_iter()
            .map(|&first| instance_state_lines(result, &strings, first..instances.min(first + STATES_CHUNK)))
            .collect();
        for text in texts {
            out.write_all(&text)?;
        }
    }
    out.flush()
}

/// The JSON texts of the strings that lines share: baseline ids by baseline, patch groups
/// by reporting group.
struct Repeated<'a> {
    baselines: &'a [String],
    patch_groups: &'a [String],
}

/// The lines for a range of instances.
fn instance_state_lines(result: &RunResult, strings: &Repeated<'_>, range: std::ops::Range<usize>) -> Vec<u8> {
    let world = &result.world;
    let mut text = Vec::with_capacity(range.len() * 640);
    let mut snapshot = Last::new(|id| crate::baseline::Snapshot::guid(id, result.seed));
    let mut start = Last::new(SimTime::to_rfc3339);
    let mut end = Last::new(SimTime::to_rfc3339);
    for instance in range {
        // Like DescribeInstancePatchStates, instances that never reported are absent, and
        // so are terminated ones.
        let Some(report) = &world.instances.report[instance] else { continue };
        if !world.instances.running[instance] {
            continue;
        }
        let group = &world.groups[world.instances.group[instance] as usize];
        let last_no_reboot = report.last_no_reboot_install.map(|t| json_string(&t.to_rfc3339()));
        let line = Line {
            instance_id: &instance_id(instance as u32),
            patch_group: &strings.patch_groups[group.report_group as usize],
            baseline_id: &strings.baselines[report.baseline as usize],
            snapshot_id: snapshot.of(report.snapshot),
            start: start.of(report.start),
            end: end.of(report.end),
            last_no_reboot_install: last_no_reboot.as_deref(),
            windows: world.catalogs[group.catalog].os == crate::catalog::Os::Windows,
        };
        push_line(&mut text, &line, report);
    }
    text
}

/// The strings of one line as JSON text (quoted and escaped), and whether the instance runs
/// Windows (only Windows reports AvailableSecurityUpdateCount).
struct Line<'a> {
    /// Not JSON text: an instance id is `i-0` and hexadecimal digits, nothing to escape.
    instance_id: &'a str,
    patch_group: &'a str,
    baseline_id: &'a str,
    snapshot_id: &'a str,
    start: &'a str,
    end: &'a str,
    last_no_reboot_install: Option<&'a str>,
    windows: bool,
}

/// Appends one line and its newline: the keys of InstancePatchState in serde_json's compact
/// form, in the order of `tests::SerdeLine`.
fn push_line(text: &mut Vec<u8>, line: &Line<'_>, report: &InstanceReport) {
    let c = &report.counts;
    let mut number = itoa::Buffer::new();
    let mut count = |text: &mut Vec<u8>, key: &[u8], value: u32| {
        text.extend_from_slice(key);
        text.extend_from_slice(number.format(value).as_bytes());
    };
    text.extend_from_slice(b"{\"InstanceId\":\"");
    text.extend_from_slice(line.instance_id.as_bytes());
    text.extend_from_slice(b"\",\"PatchGroup\":");
    text.extend_from_slice(line.patch_group.as_bytes());
    text.extend_from_slice(b",\"BaselineId\":");
    text.extend_from_slice(line.baseline_id.as_bytes());
    text.extend_from_slice(b",\"SnapshotId\":");
    text.extend_from_slice(line.snapshot_id.as_bytes());
    count(text, b",\"InstalledCount\":", c.installed);
    count(text, b",\"InstalledOtherCount\":", c.installed_other);
    count(text, b",\"InstalledPendingRebootCount\":", c.installed_pending_reboot);
    count(text, b",\"InstalledRejectedCount\":", c.installed_rejected);
    count(text, b",\"MissingCount\":", c.missing);
    count(text, b",\"FailedCount\":", c.failed);
    count(text, b",\"UnreportedNotApplicableCount\":", 0);
    count(text, b",\"NotApplicableCount\":", c.not_applicable);
    if line.windows {
        count(text, b",\"AvailableSecurityUpdateCount\":", c.available_security_update);
    }
    text.extend_from_slice(b",\"OperationStartTime\":");
    text.extend_from_slice(line.start.as_bytes());
    text.extend_from_slice(b",\"OperationEndTime\":");
    text.extend_from_slice(line.end.as_bytes());
    text.extend_from_slice(b",\"Operation\":\"");
    text.extend_from_slice(report.operation.as_str().as_bytes());
    text.push(b'"');
    if let Some(time) = line.last_no_reboot_install {
        text.extend_from_slice(b",\"LastNoRebootInstallOperationTime\":");
        text.extend_from_slice(time.as_bytes());
    }
    text.extend_from_slice(b",\"RebootOption\":\"");
    text.extend_from_slice(report.reboot_option.as_str().as_bytes());
    text.push(b'"');
    count(text, b",\"CriticalNonCompliantCount\":", report.critical_non_compliant);
    count(text, b",\"SecurityNonCompliantCount\":", report.security_non_compliant);
    count(text, b",\"OtherNonCompliantCount\":", report.other_non_compliant);
    text.extend_from_slice(b"}\n");
}

#[cfg(test)]
mod tests {
    use serde::Serialize;

    use super::*;
    use crate::baseline::ComplianceLevel;
    use crate::compliance::{Operation, PatchCounts, RebootOption};

    /// The line as serde_json writes it, field by field in the API's order.
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct SerdeLine<'a> {
        instance_id: &'a str,
        patch_group: &'a str,
        baseline_id: &'a str,
        snapshot_id: &'a str,
        installed_count: u32,
        installed_other_count: u32,
        installed_pending_reboot_count: u32,
        installed_rejected_count: u32,
        missing_count: u32,
        failed_count: u32,
        unreported_not_applicable_count: u32,
        not_applicable_count: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        available_security_update_count: Option<u32>,
        operation_start_time: &'a str,
        operation_end_time: &'a str,
        operation: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        last_no_reboot_install_operation_time: Option<&'a str>,
        reboot_option: &'a str,
        critical_non_compliant_count: u32,
        security_non_compliant_count: u32,
        other_non_compliant_count: u32,
    }

    fn report(seed: u32, no_reboot: bool) -> InstanceReport {
        InstanceReport {
            operation: if seed.is_multiple_of(2) { Operation::Scan } else { Operation::Install },
            reboot_option: if no_reboot { RebootOption::NoReboot } else { RebootOption::RebootIfNeeded },
            start: SimTime(1_790_000_000 + i64::from(seed)),
            end: SimTime(1_790_000_090 + i64::from(seed)),
            baseline: 0,
            snapshot: seed,
            counts: PatchCounts {
                installed: seed,
                installed_other: seed * 3,
                installed_pending_reboot: seed % 5,
                installed_rejected: seed % 2,
                missing: u32::MAX - seed,
                failed: 7,
                not_applicable: 1_000_000 + seed,
                available_security_update: seed % 11,
            },
            critical_non_compliant: seed % 4,
            security_non_compliant: 10,
            other_non_compliant: 0,
            overall_severity: ComplianceLevel::Unspecified,
            last_no_reboot_install: no_reboot.then_some(SimTime(1_789_000_000)),
            available_security_non_compliant: false,
        }
    }

    #[test]
    fn a_hand_formatted_line_is_serde_jsons() {
        let groups = ["pg-a", "", "quote \" backslash \\ tab \t newline \n", "ünïcode ✓ \u{1}"];
        for (seed, group) in groups.iter().enumerate() {
            for (windows, no_reboot) in [(false, false), (true, false), (false, true), (true, true)] {
                let report = report(seed as u32 * 37 + 3, no_reboot);
                let (instance, baseline, snapshot) = (instance_id(seed as u32), "pb-0123456789abcdef0", "a-guid");
                let (start, end) = (report.start.to_rfc3339(), report.end.to_rfc3339());
                let last = report.last_no_reboot_install.map(SimTime::to_rfc3339);
                let expected = SerdeLine {
                    instance_id: &instance,
                    patch_group: group,
                    baseline_id: baseline,
                    snapshot_id: snapshot,
                    installed_count: report.counts.installed,
                    installed_other_count: report.counts.installed_other,
                    installed_pending_reboot_count: report.counts.installed_pending_reboot,
                    installed_rejected_count: report.counts.installed_rejected,
                    missing_count: report.counts.missing,
                    failed_count: report.counts.failed,
                    unreported_not_applicable_count: 0,
                    not_applicable_count: report.counts.not_applicable,
                    available_security_update_count: windows.then_some(report.counts.available_security_update),
                    operation_start_time: &start,
                    operation_end_time: &end,
                    operation: report.operation.as_str(),
                    last_no_reboot_install_operation_time: last.as_deref(),
                    reboot_option: report.reboot_option.as_str(),
                    critical_non_compliant_count: report.critical_non_compliant,
                    security_non_compliant_count: report.security_non_compliant,
                    other_non_compliant_count: report.other_non_compliant,
                };
                let mut serde_text = serde_json::to_vec(&expected).unwrap();
                serde_text.push(b'\n');
                let json = |text: &str| json_string(text);
                let (group, baseline, snapshot) = (json(group), json(baseline), json(snapshot));
                let (start, end, last) = (json(&start), json(&end), last.as_deref().map(json));
                let line = Line {
                    instance_id: &instance,
                    patch_group: &group,
                    baseline_id: &baseline,
                    snapshot_id: &snapshot,
                    start: &start,
                    end: &end,
                    last_no_reboot_install: last.as_deref(),
                    windows,
                };
                let mut text = Vec::new();
                push_line(&mut text, &line, &report);
                assert_eq!(String::from_utf8(text).unwrap(), String::from_utf8(serde_text).unwrap());
            }
        }
    }
}
