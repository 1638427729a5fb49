//! `[[maintenance_window]]` with its tasks and `[[association]]`, and what they and other
//! sections share: schedules, targets and delivery timeouts.

use std::collections::BTreeSet;

use super::baseline::Baselines;
use super::{Checker, unique};
use crate::compliance::{Operation, RebootOption};
use crate::limits;
use crate::scenario::schema::{AssociationSpec, TaskSpec, WindowSpec};
use crate::schedule::{ScheduleExpr, WindowSchedule};
use crate::time::{SimDuration, SimTime};
use crate::window::{AssociationDef, CutoffBehavior, RateControl, RateValue, Target, TaskDef, WindowDef};

#[allow(clippy::too_many_arguments)]
pub(super) fn schedule(
    c: &mut Checker,
    path: &str,
    text: &str,
    timezone: &str,
    offset: Option<u8>,
    start_date: Option<SimTime>,
    end_date: Option<SimTime>,
    created_at: SimTime,
) -> Option<WindowSchedule> {
    let expr = match ScheduleExpr::parse(text) {
        Ok(expr) => expr,
        Err(error) => {
            c.error(path, format!("schedule `{text}` does not parse: {error}"));
            return None;
        }
    };
    match WindowSchedule::new(expr, timezone, offset, start_date.map(|t| t.0), end_date.map(|t| t.0), created_at.0) {
        Ok(schedule) => Some(schedule),
        Err(error) => {
            c.error(path, error.to_string());
            None
        }
    }
}

fn targets(c: &mut Checker, path: &str, specs: &[String]) -> Option<Vec<Target>> {
    if specs.is_empty() {
        c.error(path, "list at least one target");
        return None;
    }
    if specs.len() > limits::MAX_TARGETS {
        c.error(path, format!("{} targets; AWS accepts at most {} in one list", specs.len(), limits::MAX_TARGETS));
    }
    let mut out = Vec::new();
    for (index, spec) in specs.iter().enumerate() {
        let tpath = format!("{path}[{index}]");
        let mut target = c.parse(&tpath, Target::parse(spec))?;
        let values = match &target {
            Target::Tag { values, .. } => values.len(),
            Target::InstanceIds(ids) => ids.len(),
            _ => 0,
        };
        if values > limits::MAX_TARGET_VALUES {
            c.error(
                &tpath,
                format!("{values} values; AWS accepts at most {} in one target", limits::MAX_TARGET_VALUES),
            );
        }
        if let Target::ResourceGroup { name, tags } = &mut target {
            match c.resource_groups.get(name.as_str()) {
                Some(definition) => *tags = definition.clone(),
                None => {
                    c.error(&tpath, format!("unknown resource group `{name}`; define it in [[resource_group]]"));
                    return None;
                }
            }
        }
        out.push(target);
    }
    Some(out)
}

/// TimeoutSeconds: 30 to 2,592,000 (30 days).
pub(super) fn delivery_timeout(c: &mut Checker, path: &str, seconds: u32) -> SimDuration {
    if !(30..=2_592_000).contains(&seconds) {
        c.error(path, format!("{seconds} seconds; TimeoutSeconds is 30 to 2592000"));
    }
    SimDuration(seconds as i64)
}

pub(super) fn windows(c: &mut Checker, specs: &[WindowSpec], start: SimTime) -> Vec<WindowDef> {
    unique(c, "maintenance_window", specs.iter().map(|w| w.name.as_str()));
    let mut windows = Vec::new();
    for (index, spec) in specs.iter().enumerate() {
        if let Some(window) = validate_window(c, &format!("maintenance_window[{index}]"), spec, start) {
            windows.push(window);
        }
    }
    windows
}

fn validate_window(c: &mut Checker, path: &str, spec: &WindowSpec, start: SimTime) -> Option<WindowDef> {
    c.aws_name(&format!("{path}.name"), &spec.name, "maintenance window");
    if !(1..=24).contains(&spec.duration_hours) {
        c.error(&format!("{path}.duration_hours"), format!("{} hours; Duration is 1 to 24", spec.duration_hours));
    }
    if spec.cutoff_hours > 23 {
        c.error(&format!("{path}.cutoff_hours"), format!("{} hours; Cutoff is 0 to 23", spec.cutoff_hours));
    } else if spec.cutoff_hours >= spec.duration_hours {
        c.error(
            &format!("{path}.cutoff_hours"),
            format!(
                "the cutoff ({} h) must be shorter than the duration ({} h), or no task could ever start",
                spec.cutoff_hours, spec.duration_hours
            ),
        );
    }
    let schedule = schedule(
        c,
        &format!("{path}.schedule"),
        &spec.schedule,
        &spec.timezone,
        spec.offset_days,
        spec.start_date.map(|i| i.0),
        spec.end_date.map(|i| i.0),
        start,
    );
    let window_targets = targets(c, &format!("{path}.targets"), &spec.targets);
    if spec.task.is_empty() {
        c.error(&format!("{path}.task"), "a window needs at least one [[maintenance_window.task]]");
    }
    let mut tasks = Vec::new();
    let mut task_names = BTreeSet::new();
    for (index, task) in spec.task.iter().enumerate() {
        let tpath = format!("{path}.task[{index}]");
        if !task_names.insert(task.name.as_str()) {
            c.error(&format!("{tpath}.name"), format!("task name `{}` is used twice in this window", task.name));
        }
        if let Some(task) = validate_task(c, &tpath, task) {
            tasks.push(task);
        }
    }
    Some(WindowDef {
        name: spec.name.clone(),
        schedule: schedule?,
        enabled: spec.enabled,
        duration: SimDuration::hours(spec.duration_hours as i64),
        cutoff: SimDuration::hours(spec.cutoff_hours as i64),
        targets: window_targets?,
        tasks,
    })
}

fn validate_task(c: &mut Checker, tpath: &str, task: &TaskSpec) -> Option<TaskDef> {
    let operation = c.parse(&format!("{tpath}.operation"), Operation::parse(&task.operation));
    let reboot = c.parse(&format!("{tpath}.reboot_option"), RebootOption::parse(&task.reboot_option));
    let concurrency = c.parse(&format!("{tpath}.max_concurrency"), RateValue::parse(&task.max_concurrency, false));
    let errors = c.parse(&format!("{tpath}.max_errors"), RateValue::parse(&task.max_errors, true));
    let cutoff_behavior = c.parse(&format!("{tpath}.cutoff_behavior"), CutoffBehavior::parse(&task.cutoff_behavior));
    let task_targets = if task.targets.is_empty() {
        Some(None)
    } else {
        targets(c, &format!("{tpath}.targets"), &task.targets).map(Some)
    };
    let timeout = delivery_timeout(c, &format!("{tpath}.timeout_seconds"), task.timeout_seconds);
    let (Some(operation), Some(reboot_option), Some(max_concurrency), Some(max_errors)) =
        (operation, reboot, concurrency, errors)
    else {
        return None;
    };
    for (i, entry) in task.install_override_list.iter().enumerate() {
        if entry.is_empty() || entry.matches('*').count() > 1 {
            c.error(
                &format!("{tpath}.install_override_list[{i}]"),
                format!("`{entry}` must be a patch id or a package name with at most one `*`"),
            );
        }
    }
    Some(TaskDef {
        targets: task_targets?,
        cutoff_behavior: cutoff_behavior?,
        delivery_timeout: timeout,
        install_override_list: task.install_override_list.clone(),
        name: task.name.clone(),
        priority: task.priority,
        operation,
        reboot_option,
        max_concurrency,
        max_errors,
    })
}

pub(super) fn associations(
    c: &mut Checker,
    specs: &[AssociationSpec],
    baselines: &mut Baselines,
    start: SimTime,
) -> Vec<AssociationDef> {
    unique(c, "association", specs.iter().map(|a| a.name.as_str()));
    let mut associations = Vec::new();
    for (index, spec) in specs.iter().enumerate() {
        if let Some(association) = validate_association(c, &format!("association[{index}]"), spec, baselines, start) {
            associations.push(association);
        }
    }
    associations
}

fn validate_association(
    c: &mut Checker,
    path: &str,
    spec: &AssociationSpec,
    baselines: &mut Baselines,
    start: SimTime,
) -> Option<AssociationDef> {
    let operation = c.parse(&format!("{path}.operation"), Operation::parse(&spec.operation));
    let reboot_option = c.parse(&format!("{path}.reboot_option"), RebootOption::parse(&spec.reboot_option));
    let rate_control = association_rate_control(c, path, spec);
    let timeout = delivery_timeout(c, &format!("{path}.timeout_seconds"), spec.timeout_seconds);
    let schedule = schedule(c, &format!("{path}.schedule"), &spec.schedule, "UTC", None, None, None, start);
    let targets = targets(c, &format!("{path}.targets"), &spec.targets);
    let policy_baselines = policy_baselines(c, path, &spec.baselines, baselines);
    let (Some(schedule), Some(targets), Some(operation), Some(reboot_option)) =
        (schedule, targets, operation, reboot_option)
    else {
        return None;
    };
    Some(AssociationDef {
        name: spec.name.clone(),
        schedule,
        targets,
        operation,
        reboot_option,
        rate_control,
        wait_for_first_interval: spec.wait_for_first_interval.unwrap_or(operation == Operation::Install),
        delivery_timeout: timeout,
        baselines: policy_baselines,
    })
}

/// MaxConcurrency and MaxErrors come together or not at all (every target at once).
fn association_rate_control(c: &mut Checker, path: &str, spec: &AssociationSpec) -> Option<RateControl> {
    match (&spec.max_concurrency, &spec.max_errors) {
        (None, None) => None,
        (Some(concurrency), Some(errors)) => {
            let concurrency = c.parse(&format!("{path}.max_concurrency"), RateValue::parse(concurrency, false));
            let errors = c.parse(&format!("{path}.max_errors"), RateValue::parse(errors, true));
            concurrency.zip(errors).map(|(max_concurrency, max_errors)| RateControl { max_concurrency, max_errors })
        }
        _ => {
            c.error(path, "give both max_concurrency and max_errors, or neither (every target at once)");
            None
        }
    }
}

/// A patch policy's baselines (at `{path}.baselines`), one per operating system.
fn policy_baselines(c: &mut Checker, path: &str, names: &[String], baselines: &mut Baselines) -> Vec<usize> {
    let mut policy_baselines: Vec<usize> = Vec::new();
    for (b, name) in names.iter().enumerate() {
        let bpath = format!("{path}.baselines[{b}]");
        let Some(found) = baselines.find(c, &bpath, name) else { continue };
        if policy_baselines.iter().any(|&i| baselines.defs[i].os == baselines.defs[found].os) {
            c.error(
                &bpath,
                format!(
                    "a second baseline for {}; a patch policy has one per operating system",
                    baselines.defs[found].os
                ),
            );
            continue;
        }
        policy_baselines.push(found);
    }
    policy_baselines
}
