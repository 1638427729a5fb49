//! The single sections `[scenario]`, `[agent]` and `[account]`, and `[[resource_group]]`.

use super::{Checker, unique};
use crate::limits;
use crate::scenario::AgentDef;
use crate::scenario::schema::{AgentSettings, ScenarioFile, ScenarioMeta};
use crate::time::SimDuration;

/// `[scenario]`: the name, the horizon, the sample interval and the event limit.
pub(super) fn scenario(c: &mut Checker, meta: &ScenarioMeta) {
    let horizon = meta.horizon.0;
    let name_ok = !meta.name.is_empty()
        && meta.name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        && !meta.name.starts_with('.');
    if !name_ok {
        c.error(
            "scenario.name",
            format!("`{}` must be letters, digits, `_`, `-` and `.`: it names the results directory", meta.name),
        );
    }
    if horizon.0 <= 0 {
        c.error("scenario.horizon", "the horizon must be longer than zero");
    } else if horizon > SimDuration::days(limits::MAX_HORIZON_DAYS) {
        c.error("scenario.horizon", format!("the horizon is limited to {} days", limits::MAX_HORIZON_DAYS));
    }
    if meta.sample_interval.0.0 <= 0 {
        c.error("scenario.sample_interval", "the sample interval must be longer than zero");
    } else if horizon.0 > 0 && horizon.0 / meta.sample_interval.0.0 > limits::MAX_SAMPLES {
        c.error(
            "scenario.sample_interval",
            format!(
                "{} samples over the horizon; at most {}: lengthen the interval",
                horizon.0 / meta.sample_interval.0.0,
                limits::MAX_SAMPLES
            ),
        );
    }
    if meta.max_events == 0 {
        c.error("scenario.max_events", "max_events must be at least 1");
    }
}

/// `[agent]`: the bandwidth, the missed pings before ConnectionLost, and step durations.
pub(super) fn agent(c: &mut Checker, agent: &AgentSettings) -> AgentDef {
    c.bandwidth("agent.download_mbps", agent.download_mbps);
    if agent.connection_lost_after_pings == 0 {
        c.error("agent.connection_lost_after_pings", "at least one missed ping");
    }
    AgentDef {
        connection_lost_after: SimDuration::minutes(5 * agent.connection_lost_after_pings as i64),
        scan_duration: agent.scan_duration.0,
        install_overhead: agent.install_overhead.0,
        reboot_duration: agent.reboot_duration.0,
        download_mbps: agent.download_mbps,
    }
}

/// `[account]`, and the resource groups that targets may name, kept in the checker.
pub(super) fn account(c: &mut Checker, file: &ScenarioFile) {
    if file.account.max_concurrent_executions == 0 {
        c.error("account.max_concurrent_executions", "at least one execution must be able to run");
    }
    unique(c, "resource_group", file.resource_group.iter().map(|g| g.name.as_str()));
    for (index, group) in file.resource_group.iter().enumerate() {
        if group.tags.is_empty() || group.tags.values().any(|v| v.is_empty()) {
            c.error(
                &format!("resource_group[{index}].tags"),
                "a resource group needs at least one tag key with values",
            );
        }
        c.resource_groups.insert(group.name.clone(), group.tags.clone());
    }
}
