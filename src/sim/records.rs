//! What executions leave behind: the rows of `windows.csv`, `associations.csv`,
//! `remediations.csv` and `invocations.csv`, the statuses in each owner's vocabulary, and
//! the watch of `abort_on_fail` thresholds over the finished executions.

use super::Sim;
use super::windows::{Execution, Owner};
use crate::time::SimTime;
use crate::window::ExecutionStatus;
use crate::window::status::{Cause, Outcome, association_status, command_status, execution_status_details};

/// One row of `windows.csv`, `associations.csv` and `remediations.csv`.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct ExecutionRecord {
    pub window: String,
    pub execution: u32,
    pub scheduled_start: String,
    pub start: String,
    pub end: String,
    /// A window execution's Status; an association execution's (Success, Failed); a
    /// remediation command's (Run Command's Status).
    pub status: &'static str,
    /// A window execution's StatusDetails; the command's StatusDetails otherwise.
    pub status_details: &'static str,
    /// Targets resolved at the start, summed over the tasks that ran or were skipped.
    pub targets: u64,
    pub succeeded: u64,
    pub failed: u64,
    /// Delivery Timed Out: the agent was down or unreachable until after the deadline.
    pub delivery_timed_out: u64,
    /// Undeliverable: the instance was terminated.
    pub undeliverable: u64,
    /// Cancelled by a CANCEL_TASK cutoff (TIMED_OUT).
    pub timed_out: u64,
    /// Not dispatched after MaxErrors was exceeded (Run Command's Terminated).
    pub cancelled: u64,
    /// Never started: the cutoff came first.
    pub skipped: u64,
    /// Failed invocations by cause ...
    pub failed_install: u64,
    pub failed_download_cut: u64,
    pub failed_reboot: u64,
    pub failed_busy: u64,
    /// ... and Delivery Timed Out ones.
    pub delivery_agent_down: u64,
    pub delivery_agent_unreachable: u64,
    /// Hours from start to end.
    pub hours: f64,
    /// Share of the window's duration the execution used (0 for associations).
    pub utilisation: f64,
}

impl ExecutionRecord {
    /// The row's invocation outcomes by name, as `summary.json` and thresholds name them.
    pub fn outcomes(&self) -> [(&'static str, u64); 7] {
        [
            ("succeeded", self.succeeded),
            ("failed", self.failed),
            ("delivery_timed_out", self.delivery_timed_out),
            ("timed_out", self.timed_out),
            ("undeliverable", self.undeliverable),
            ("cancelled", self.cancelled),
            ("skipped", self.skipped),
        ]
    }

    /// The row's failures and delivery timeouts by cause, by name.
    pub fn causes(&self) -> [(&'static str, u64); 6] {
        [
            ("install_failure", self.failed_install),
            ("download_cut", self.failed_download_cut),
            ("reboot_failure", self.failed_reboot),
            ("instance_busy", self.failed_busy),
            ("agent_down", self.delivery_agent_down),
            ("agent_unreachable", self.delivery_agent_unreachable),
        ]
    }
}

/// One row of `invocations.csv`: a target of a task and how it ended.
#[derive(Clone, Debug, serde::Serialize)]
pub struct InvocationRecord {
    pub owner: String,
    pub execution: u32,
    pub task: String,
    pub instance_id: String,
    /// When the command was sent (empty for a target never sent) ...
    pub dispatched: String,
    /// ... and when the invocation ended, or the target was given up.
    pub end: String,
    /// The task invocation's Status as the window reports it.
    pub status: &'static str,
    /// Run Command's StatusDetails of the invocation.
    pub status_details: &'static str,
    pub cause: &'static str,
}

/// Rounded to three decimals, so the CSV stays short and exact.
fn round3(value: f64) -> f64 {
    (value * 1_000.0).round() / 1_000.0
}

impl Sim<'_> {
    /// Appends targets to the invocation log, if there is one.
    pub(super) fn log_targets(
        &mut self,
        id: u32,
        task_number: u16,
        instances: &[u32],
        dispatched: Option<SimTime>,
        end: SimTime,
        cause: Cause,
    ) {
        if self.executions.invocation_log.is_none() {
            return;
        }
        let owner = self.executions.all[id as usize].owner;
        let (owner_name, task_name) = (self.owner_name(owner).to_string(), self.task_name(owner, task_number));
        let outcome = cause.outcome();
        let log = self.executions.invocation_log.as_mut().expect("checked above");
        for &instance in instances {
            log.push(InvocationRecord {
                owner: owner_name.clone(),
                execution: id,
                task: task_name.to_string(),
                instance_id: crate::fleet::instance_id(instance),
                dispatched: dispatched.map(|t| t.to_rfc3339()).unwrap_or_default(),
                end: end.to_rfc3339(),
                status: outcome.window_status(),
                status_details: outcome.status_details(),
                cause: cause.as_str(),
            });
        }
    }

    pub(super) fn record(&self, id: u32, end: Option<SimTime>) -> ExecutionRecord {
        let execution = &self.executions.all[id as usize];
        let mut counts = execution.counts;
        let mut targets = execution.targets;
        for task in &execution.tasks {
            counts.add(&task.counts);
            targets += task.targets();
        }
        let hours = match (execution.start, end) {
            (Some(start), Some(end)) => end.since(start).as_hours_f64(),
            _ => 0.0,
        };
        let utilisation = match execution.owner {
            Owner::Window(w) => hours / self.scenario.windows[w as usize].duration.as_hours_f64(),
            Owner::Association(_) | Owner::Alarm(_) => 0.0,
        };
        let (status, status_details) = Self::status_texts(execution, end.is_some());
        ExecutionRecord {
            window: self.owner_name(execution.owner).to_string(),
            execution: id,
            scheduled_start: execution.scheduled.to_rfc3339(),
            start: execution.start.map(|t| t.to_rfc3339()).unwrap_or_default(),
            end: end.map(|t| t.to_rfc3339()).unwrap_or_default(),
            status,
            status_details,
            targets,
            succeeded: counts.outcome(Outcome::Success),
            failed: counts.outcome(Outcome::Failed),
            delivery_timed_out: counts.outcome(Outcome::DeliveryTimedOut),
            undeliverable: counts.outcome(Outcome::Undeliverable),
            timed_out: counts.outcome(Outcome::Cancelled),
            cancelled: counts.outcome(Outcome::Terminated),
            skipped: counts.outcome(Outcome::Skipped),
            failed_install: counts.cause(Cause::InstallFailure),
            failed_download_cut: counts.cause(Cause::DownloadCut),
            failed_reboot: counts.cause(Cause::RebootFailure),
            failed_busy: counts.cause(Cause::InstanceBusy),
            delivery_agent_down: counts.cause(Cause::AgentDown),
            delivery_agent_unreachable: counts.cause(Cause::AgentUnreachable),
            hours: round3(hours),
            utilisation: round3(utilisation),
        }
    }

    /// Status and StatusDetails of an execution in its owner's vocabulary: a window
    /// execution's, an association execution's, or a remediation command's.
    pub(super) fn status_texts(execution: &Execution, finished: bool) -> (&'static str, &'static str) {
        let window = matches!(execution.owner, Owner::Window(_));
        if !finished {
            return match (execution.start.is_some(), window) {
                (true, true) => (ExecutionStatus::InProgress.as_str(), ""),
                (false, true) => (ExecutionStatus::Pending.as_str(), ""),
                (true, false) => ("InProgress", ""),
                (false, false) => ("Pending", ""),
            };
        }
        let details = execution.command_details;
        match execution.owner {
            Owner::Window(_) => {
                (execution.status.as_str(), execution_status_details(execution.status, execution.tasks_run as usize))
            }
            Owner::Association(_) => (association_status(details), details),
            Owner::Alarm(_) => (command_status(details), details),
        }
    }

    /// Whether an `abort_on_fail` threshold can no longer pass: the window count it watches,
    /// over the executions finished so far, is already above its max, and it only grows.
    pub(crate) fn threshold_given_up(&self) -> bool {
        use crate::threshold::WindowFigure;
        self.scenario.thresholds.iter().any(|threshold| {
            let (Some((window, figure)), Some(max)) = (&threshold.watch, threshold.max) else { return false };
            let name = &self.scenario.windows[*window].name;
            let rows = self.executions.window_records.iter().filter(|r| &r.window == name);
            let named =
                |pairs: &[(&str, u64)], key: &str| pairs.iter().filter(|(n, _)| *n == key).map(|(_, v)| v).sum::<u64>();
            let value: u64 = match figure {
                WindowFigure::Executions => rows.count() as u64,
                WindowFigure::TargetsSkipped => rows.map(|r| r.skipped).sum(),
                WindowFigure::Status(status) => rows.filter(|r| r.status == status).count() as u64,
                WindowFigure::Outcome(outcome) => rows.map(|r| named(&r.outcomes(), outcome)).sum(),
                WindowFigure::Cause(cause) => rows.map(|r| named(&r.causes(), cause)).sum(),
            };
            value as f64 > max.value()
        })
    }

    /// Records executions still pending or running when the run stopped, without an end.
    pub fn close_open_executions(&mut self, at: SimTime) {
        let open: Vec<u32> = self.executions.all.iter().filter(|e| !e.finished).map(|e| e.id).collect();
        for id in open {
            let mut record = self.record(id, None);
            if let Some(start) = self.executions.all[id as usize].start {
                record.hours = round3(at.since(start).as_hours_f64());
            }
            match self.executions.all[id as usize].owner {
                Owner::Window(_) => self.executions.window_records.push(record),
                Owner::Association(_) => self.executions.association_records.push(record),
                Owner::Alarm(_) => self.executions.remediation_records.push(record),
            }
        }
        self.executions.window_records.sort_by_key(|r| r.execution);
        self.executions.association_records.sort_by_key(|r| r.execution);
        self.executions.remediation_records.sort_by_key(|r| r.execution);
    }
}
