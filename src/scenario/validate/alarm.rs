//! `[[alarm]]`: alarms on a patch group's compliance figures and their remediations.

use std::collections::BTreeSet;

use super::window::delivery_timeout;
use super::{Checker, unique};
use crate::compliance::RebootOption;
use crate::fleet::{GroupDef, NO_PATCH_GROUP, patch_group_of};
use crate::scenario::schema::AlarmSpec;
use crate::time::SimDuration;
use crate::window::{AlarmDef, RateControl, RateValue};

/// The figures of `crate::compliance::METRICS` an alarm may watch.
const ALARM_METRICS: [&str; 6] = [
    "non_compliant",
    "critical_non_compliant",
    "missing_patches",
    "failed_patches",
    "pending_reboot_patches",
    "unreported",
];

/// The alarms; `groups` are all instance groups, Auto Scaling groups' included.
pub(super) fn alarms(c: &mut Checker, specs: &[AlarmSpec], groups: &[GroupDef]) -> Vec<AlarmDef> {
    unique(c, "alarm", specs.iter().map(|a| a.name.as_str()));
    let known_groups: BTreeSet<String> =
        groups.iter().map(|g| patch_group_of(&g.tags).unwrap_or(NO_PATCH_GROUP).to_string()).collect();
    let mut alarms = Vec::new();
    for (index, spec) in specs.iter().enumerate() {
        if let Some(alarm) = validate_alarm(c, &format!("alarm[{index}]"), spec, &known_groups) {
            alarms.push(alarm);
        }
    }
    alarms
}

fn validate_alarm(c: &mut Checker, path: &str, spec: &AlarmSpec, known_groups: &BTreeSet<String>) -> Option<AlarmDef> {
    if !known_groups.contains(&spec.patch_group) {
        c.error(
            &format!("{path}.patch_group"),
            format!(
                "no instances are in patch group `{}`; known: {}",
                spec.patch_group,
                known_groups.iter().cloned().collect::<Vec<_>>().join(", ")
            ),
        );
    }
    let metric = if ALARM_METRICS.contains(&spec.metric.as_str()) {
        crate::compliance::METRICS.iter().position(|m| *m == spec.metric)
    } else {
        c.error(
            &format!("{path}.metric"),
            format!("`{}` is not an alarm metric; use one of: {}", spec.metric, ALARM_METRICS.join(", ")),
        );
        None
    };
    if spec.period.0 < SimDuration::minutes(1) {
        c.error(&format!("{path}.period"), "a period lasts at least one minute");
    }
    if spec.evaluation_periods == 0 {
        c.error(&format!("{path}.evaluation_periods"), "at least one period");
    }
    let rpath = format!("{path}.remediation");
    let reboot = c.parse(&format!("{rpath}.reboot_option"), RebootOption::parse(&spec.remediation.reboot_option));
    let concurrency =
        c.parse(&format!("{rpath}.max_concurrency"), RateValue::parse(&spec.remediation.max_concurrency, false));
    let errors = c.parse(&format!("{rpath}.max_errors"), RateValue::parse(&spec.remediation.max_errors, true));
    let timeout = delivery_timeout(c, &format!("{rpath}.timeout_seconds"), spec.remediation.timeout_seconds);
    let (Some(metric), Some(reboot_option), Some(max_concurrency), Some(max_errors)) =
        (metric, reboot, concurrency, errors)
    else {
        return None;
    };
    Some(AlarmDef {
        name: spec.name.clone(),
        patch_group: spec.patch_group.clone(),
        metric,
        threshold: spec.threshold,
        period: spec.period.0,
        evaluation_periods: spec.evaluation_periods,
        delay: spec.remediation.delay.0,
        reboot_option,
        rate_control: RateControl { max_concurrency, max_errors },
        delivery_timeout: timeout,
    })
}
