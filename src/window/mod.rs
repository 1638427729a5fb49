//! Maintenance windows and associations: their targets, tasks and rate control.
//!
//! The execution state machine lives in `sim/windows.rs`; this module holds the validated
//! definitions and the small pure rules (target matching, rate-control arithmetic, status
//! derivation) that it applies.
//!
//! Decisions on points AWS leaves open, pinned by tests:
//! - A percentage MaxConcurrency or MaxErrors is `ceil(p × targets / 100)`, and a
//!   concurrency of at least 1: 10% of 25 targets is 3.
//! - Dispatch stops when error number MaxErrors + 1 arrives; invocations already running
//!   finish and may add errors.
//! - A tick that arrives while the same window's previous execution is still running is
//!   recorded as SKIPPED_OVERLAPPING and not queued.
//! - Cutoff: no task (priority level) starts at or after `scheduled start + duration -
//!   cutoff`. A task already started keeps dispatching its targets under CONTINUE_TASK, even
//!   past the window's end; under CANCEL_TASK its running invocations are cancelled at the
//!   cutoff (their effects never happen; they count as timed out) and the rest are skipped.
//! - Statuses follow Run Command's command result; the rules and the decisions are in
//!   [`status`].
//! - Run Command delivery: a command to an agent that cannot be reached waits; it runs if
//!   the agent is back within TimeoutSeconds of dispatch (the API's reading: a command not
//!   started by then never runs), else it ends Delivery Timed Out, which does not count
//!   toward MaxErrors. A waiting invocation holds its concurrency slot. A command to an
//!   instance terminated before it completes is Undeliverable.
//! - The account runs at most `max_concurrent_executions` window executions at once; later
//!   ones wait as PENDING, oldest first, keeping their scheduled cutoff. Overlap is judged
//!   against PENDING executions too.
//! - Several targets of one task are worked one after another: the next target's instances
//!   are dispatched once every invocation of the previous target is final; MaxConcurrency
//!   is resolved per target, MaxErrors over all of the task's targets.

pub mod status;

use std::collections::BTreeMap;

use crate::compliance::{Operation, RebootOption};
use crate::schedule::WindowSchedule;
use crate::time::SimDuration;

/// A target specification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// `*`: every instance.
    All,
    /// `tag:KEY=V1,V2`: instances whose tag KEY has one of the values.
    Tag { key: String, values: Vec<String> },
    /// `tag-key=KEY`: instances that have tag KEY, whatever its value.
    TagKey(String),
    /// `InstanceIds=i-...,i-...`: instances by id (ids are stable per index; see
    /// `instance_patch_states.jsonl`).
    InstanceIds(Vec<String>),
    /// `resource-groups:Name=NAME`: a tag-based resource group; the scenario's definition
    /// is filled in by validation (tag key to values, all keys must match).
    ResourceGroup { name: String, tags: BTreeMap<String, Vec<String>> },
}

impl Target {
    pub fn parse(text: &str) -> Result<Target, String> {
        let text = text.trim();
        if text == "*" {
            return Ok(Target::All);
        }
        if let Some(rest) = text.strip_prefix("tag:") {
            let Some((key, values)) = rest.split_once('=') else {
                return Err(format!("target `{text}` has no `=`; write `tag:KEY=VALUE1,VALUE2`"));
            };
            let values: Vec<String> = values.split(',').map(|v| v.trim().to_string()).collect();
            if key.is_empty() || values.iter().any(|v| v.is_empty()) {
                return Err(format!("target `{text}` needs a tag key and non-empty values"));
            }
            return Ok(Target::Tag { key: key.to_string(), values });
        }
        if let Some(key) = text.strip_prefix("tag-key=") {
            if key.is_empty() {
                return Err(format!("target `{text}` needs a tag key"));
            }
            return Ok(Target::TagKey(key.to_string()));
        }
        if let Some(ids) = text.strip_prefix("InstanceIds=") {
            let ids: Vec<String> = ids.split(',').map(|v| v.trim().to_string()).collect();
            for id in &ids {
                let hex = id.strip_prefix("i-").unwrap_or("");
                if !((hex.len() == 8 || hex.len() == 17) && hex.bytes().all(|b| b.is_ascii_hexdigit())) {
                    return Err(format!("target `{text}`: `{id}` is not an instance id (i- and 8 or 17 hex digits)"));
                }
            }
            return Ok(Target::InstanceIds(ids));
        }
        if let Some(name) = text.strip_prefix("resource-groups:Name=") {
            if name.is_empty() {
                return Err(format!("target `{text}` needs a resource group name"));
            }
            return Ok(Target::ResourceGroup { name: name.to_string(), tags: BTreeMap::new() });
        }
        Err(format!(
            "target `{text}` does not parse; use `tag:KEY=V1,V2`, `tag-key=KEY`, `InstanceIds=i-...`, `resource-groups:Name=NAME` or `*`"
        ))
    }

    /// Whether an instance with these tags (and this id) is a target.
    pub fn matches(&self, tags: &BTreeMap<String, String>, instance_id: impl FnOnce() -> String) -> bool {
        match self {
            Target::All => true,
            Target::Tag { key, values } => tags.get(key).is_some_and(|v| values.contains(v)),
            Target::TagKey(key) => tags.contains_key(key),
            Target::InstanceIds(ids) => {
                let id = instance_id();
                ids.contains(&id)
            }
            Target::ResourceGroup { tags: filters, .. } => {
                filters.iter().all(|(key, values)| tags.get(key).is_some_and(|v| values.contains(v)))
            }
        }
    }

    /// Whether the target depends only on tags, so a whole instance group matches or not.
    pub fn by_tags(&self) -> bool {
        !matches!(self, Target::InstanceIds(_))
    }
}

/// A MaxConcurrency or MaxErrors value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateValue {
    Count(u32),
    Percent(u32),
}

impl RateValue {
    /// Parses MaxConcurrency (`^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$`) when
    /// `allow_zero` is false, or MaxErrors (which also allows `0` and `0%`).
    pub fn parse(text: &str, allow_zero: bool) -> Result<RateValue, String> {
        let what = if allow_zero { "MaxErrors" } else { "MaxConcurrency" };
        let (digits, percent) = match text.strip_suffix('%') {
            Some(digits) => (digits, true),
            None => (text, false),
        };
        let valid_digits = !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && (digits == "0" || !digits.starts_with('0'));
        let value: u32 = if valid_digits { digits.parse().unwrap_or(u32::MAX) } else { u32::MAX };
        if !valid_digits || value == u32::MAX {
            return Err(format!("{what} `{text}` must be a count such as `10` or a percentage such as `10%`"));
        }
        if value == 0 && !allow_zero {
            return Err(format!("{what} `{text}` must be at least 1 (or 1% to 100%)"));
        }
        if percent && value > 100 {
            return Err(format!("{what} `{text}` is above 100%"));
        }
        Ok(if percent { RateValue::Percent(value) } else { RateValue::Count(value) })
    }

    /// The absolute value for `targets` targets: a percentage rounds up.
    pub fn resolve(self, targets: u32) -> u32 {
        match self {
            RateValue::Count(n) => n,
            RateValue::Percent(p) => ((p as u64 * targets as u64).div_ceil(100)) as u32,
        }
    }
}

impl std::fmt::Display for RateValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RateValue::Count(n) => write!(f, "{n}"),
            RateValue::Percent(p) => write!(f, "{p}%"),
        }
    }
}

/// What happens to a running task at the window's cutoff.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CutoffBehavior {
    ContinueTask,
    CancelTask,
}

impl CutoffBehavior {
    pub fn parse(text: &str) -> Result<CutoffBehavior, String> {
        match text {
            "CONTINUE_TASK" => Ok(CutoffBehavior::ContinueTask),
            "CANCEL_TASK" => Ok(CutoffBehavior::CancelTask),
            _ => Err(format!("unknown cutoff behavior `{text}`; expected CONTINUE_TASK or CANCEL_TASK")),
        }
    }
}

/// A validated Run Command task of AWS-RunPatchBaseline.
#[derive(Clone, Debug)]
pub struct TaskDef {
    pub name: String,
    pub priority: u32,
    pub operation: Operation,
    pub reboot_option: RebootOption,
    pub max_concurrency: RateValue,
    pub max_errors: RateValue,
    /// The task's own targets, worked through one after another; `None`: the window's.
    pub targets: Option<Vec<Target>>,
    pub cutoff_behavior: CutoffBehavior,
    /// TimeoutSeconds: the delivery deadline after dispatch.
    pub delivery_timeout: SimDuration,
    /// InstallOverrideList entries (empty: none).
    pub install_override_list: Vec<String>,
}

/// A validated maintenance window.
#[derive(Clone, Debug)]
pub struct WindowDef {
    pub name: String,
    pub schedule: WindowSchedule,
    pub enabled: bool,
    pub duration: SimDuration,
    pub cutoff: SimDuration,
    pub targets: Vec<Target>,
    pub tasks: Vec<TaskDef>,
}

impl WindowDef {
    /// Task indices grouped by priority, lowest priority value first; equal priorities keep
    /// their order in the file.
    pub fn priority_levels(&self) -> Vec<Vec<u16>> {
        let mut by_priority: BTreeMap<u32, Vec<u16>> = BTreeMap::new();
        for (index, task) in self.tasks.iter().enumerate() {
            by_priority.entry(task.priority).or_default().push(index as u16);
        }
        by_priority.into_values().collect()
    }
}

/// Rate control of an association.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateControl {
    pub max_concurrency: RateValue,
    pub max_errors: RateValue,
}

/// A validated State Manager association.
#[derive(Clone, Debug)]
pub struct AssociationDef {
    pub name: String,
    pub schedule: WindowSchedule,
    pub targets: Vec<Target>,
    pub operation: Operation,
    pub reboot_option: RebootOption,
    /// `None`: every target at once, as one cohort event.
    pub rate_control: Option<RateControl>,
    /// Without it, the association also runs at its creation (the scenario start).
    pub wait_for_first_interval: bool,
    pub delivery_timeout: SimDuration,
    /// A patch policy's baselines, one per operating system (indices into the scenario's
    /// baselines). When set, patch groups and default baselines are ignored for the
    /// operating systems they cover.
    pub baselines: Vec<usize>,
}

/// A validated alarm with its remediation.
#[derive(Clone, Debug)]
pub struct AlarmDef {
    pub name: String,
    pub patch_group: String,
    /// Index into `compliance::METRICS`.
    pub metric: usize,
    pub threshold: u64,
    pub period: SimDuration,
    pub evaluation_periods: u32,
    pub delay: SimDuration,
    pub reboot_option: RebootOption,
    pub rate_control: RateControl,
    pub delivery_timeout: SimDuration,
}

/// Execution and task statuses as AWS names them. The order of the first three is the
/// order of "worst": an execution takes its worst task's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExecutionStatus {
    Success,
    Failed,
    TimedOut,
    SkippedOverlapping,
    Pending,
    InProgress,
}

impl ExecutionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionStatus::Success => "SUCCESS",
            ExecutionStatus::Failed => "FAILED",
            ExecutionStatus::TimedOut => "TIMED_OUT",
            ExecutionStatus::SkippedOverlapping => "SKIPPED_OVERLAPPING",
            ExecutionStatus::Pending => "PENDING",
            ExecutionStatus::InProgress => "IN_PROGRESS",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_and_match_tags() {
        let mut tags = BTreeMap::new();
        tags.insert("Patch Group".to_string(), "prod-web".to_string());
        let id = || "i-0123456789abcdef0".to_string();
        let tag = Target::parse("tag:Patch Group=prod-web,prod-db").unwrap();
        assert!(tag.matches(&tags, id));
        assert!(!Target::parse("tag:Patch Group=staging").unwrap().matches(&tags, id));
        assert!(Target::parse("tag-key=Patch Group").unwrap().matches(&tags, id));
        assert!(Target::parse("*").unwrap().matches(&BTreeMap::new(), id));
        assert!(Target::parse("InstanceIds=i-0123456789abcdef0,i-12345678").unwrap().matches(&tags, id));
        assert!(!Target::parse("InstanceIds=i-12345678").unwrap().matches(&tags, id));
        assert_eq!(
            Target::parse("resource-groups:Name=web").unwrap(),
            Target::ResourceGroup { name: "web".into(), tags: BTreeMap::new() }
        );
        for bad in
            ["tag:Role", "tag:=x", "tag:Role=", "tag-key=", "i-123", "InstanceIds=i-xyz", "resource-groups:Name="]
        {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn w5_percentages_round_up_and_counts_are_absolute() {
        assert_eq!(RateValue::parse("10%", false).unwrap().resolve(25), 3);
        assert_eq!(RateValue::parse("10%", true).unwrap().resolve(50), 5);
        assert_eq!(RateValue::parse("0", true).unwrap().resolve(50), 0);
        assert_eq!(RateValue::parse("3", true).unwrap().resolve(50), 3);
        assert_eq!(RateValue::parse("1%", false).unwrap().resolve(1), 1);
    }

    #[test]
    fn rate_values_follow_the_aws_patterns() {
        for bad in ["0", "101%", "0%", "-1", "1.5", "", "%", "01", "ten"] {
            assert!(RateValue::parse(bad, false).is_err(), "MaxConcurrency {bad}");
        }
        for good in ["0", "0%", "100%", "7"] {
            assert!(RateValue::parse(good, true).is_ok(), "MaxErrors {good}");
        }
        assert!(RateValue::parse("101%", true).is_err());
    }
}
