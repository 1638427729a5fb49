//! How invocations end, and how their ends roll up into the statuses AWS reports: Run
//! Command's command StatusDetails, a maintenance-window task's and execution's Status and
//! StatusDetails, an association execution's status, a remediation command's status.
//!
//! Rules AWS documents (user guide, monitor-commands "Understanding command statuses";
//! botocore's SSM model for `Command.StatusDetails` and `MaxErrors`):
//! - A command is Success when every invocation reached a final state and MaxErrors was
//!   never reached; Failed, Execution Timed Out or Delivery Timed Out when MaxErrors or
//!   more invocations ended that way; Incomplete when every target was attempted and some
//!   did not succeed, too few to fail.
//! - Failed and Execution Timed Out count toward MaxErrors; Delivery Timed Out and
//!   Undeliverable do not. Undeliverable invocations count toward neither result: if all
//!   are undeliverable the command is Failed, and four undeliverable plus one success is
//!   Success. Delivery Timed Out does count toward Success, Incomplete or Delivery Timed Out.
//! - Terminated: not sent because the command exceeded MaxErrors.
//! - A CANCEL_TASK cutoff leaves unfinished invocations TIMED_OUT (CutoffBehavior in the
//!   API reference); the command receives CancelCommand, so Run Command calls them Canceled.
//! - A window execution with a failed task reads FAILED, "One or more tasks in the
//!   orchestration failed." (the DescribeMaintenanceWindowExecutions example).
//!
//! Decisions where AWS is silent (pinned by tests in this file and in tests/it/windows.rs):
//! - "MaxErrors or more" with MaxErrors 0 needs at least one such invocation.
//! - When several kinds reach MaxErrors, Failed wins over Execution Timed Out, which wins
//!   over Delivery Timed Out.
//! - A window task's Status follows its command: Success and Incomplete are SUCCESS (the
//!   error threshold was not reached; StatusDetails says Incomplete), Failed is FAILED,
//!   Delivery and Execution Timed Out are TIMED_OUT; a task stopped by a CANCEL_TASK
//!   cutoff is TIMED_OUT. A task with no targets is SUCCESS, "No Instances In Tag".
//! - An execution takes its worst task's Status (SUCCESS < FAILED < TIMED_OUT), and is
//!   TIMED_OUT when a priority level could not start before the cutoff.
//! - An association execution is Success when its command is Success and Failed otherwise
//!   (Quick Setup's documented rule: every target must run successfully).
//! - A remediation is a command: its Status is Run Command's (Success, Failed, TimedOut,
//!   Cancelled), with Incomplete read as Failed.

use super::ExecutionStatus;

/// Why an invocation ended as it did. Each cause belongs to exactly one [`Outcome`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cause {
    /// The operation finished and reported.
    Completed,
    /// A patch failed to install.
    InstallFailure,
    /// A download failed: the repository could not be reached, or the link was cut.
    DownloadCut,
    /// The reboot failed: the instance is down and never reports.
    RebootFailure,
    /// Another operation held the package manager's lock.
    InstanceBusy,
    /// The agent had crashed (or the instance was still down after a failed reboot) until
    /// after the delivery deadline.
    AgentDown,
    /// The agent could not be reached over the network (partition, link failure, outage)
    /// until after the delivery deadline.
    AgentUnreachable,
    /// The instance was terminated before the command could complete.
    InstanceTerminated,
    /// Cancelled by a CANCEL_TASK cutoff.
    CancelledAtCutoff,
    /// Not dispatched: the task had exceeded MaxErrors.
    MaxErrorsExceeded,
    /// Never started: its priority level could not start before the cutoff, or a
    /// CANCEL_TASK cutoff stopped dispatch first.
    CutoffPassed,
}

pub const CAUSES: [Cause; 11] = [
    Cause::Completed,
    Cause::InstallFailure,
    Cause::DownloadCut,
    Cause::RebootFailure,
    Cause::InstanceBusy,
    Cause::AgentDown,
    Cause::AgentUnreachable,
    Cause::InstanceTerminated,
    Cause::CancelledAtCutoff,
    Cause::MaxErrorsExceeded,
    Cause::CutoffPassed,
];

impl Cause {
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Completed => "completed",
            Cause::InstallFailure => "install_failure",
            Cause::DownloadCut => "download_cut",
            Cause::RebootFailure => "reboot_failure",
            Cause::InstanceBusy => "instance_busy",
            Cause::AgentDown => "agent_down",
            Cause::AgentUnreachable => "agent_unreachable",
            Cause::InstanceTerminated => "instance_terminated",
            Cause::CancelledAtCutoff => "cancelled_at_cutoff",
            Cause::MaxErrorsExceeded => "max_errors_exceeded",
            Cause::CutoffPassed => "cutoff_passed",
        }
    }

    pub fn outcome(self) -> Outcome {
        match self {
            Cause::Completed => Outcome::Success,
            Cause::InstallFailure | Cause::DownloadCut | Cause::RebootFailure | Cause::InstanceBusy => Outcome::Failed,
            Cause::AgentDown | Cause::AgentUnreachable => Outcome::DeliveryTimedOut,
            Cause::InstanceTerminated => Outcome::Undeliverable,
            Cause::CancelledAtCutoff => Outcome::Cancelled,
            Cause::MaxErrorsExceeded => Outcome::Terminated,
            Cause::CutoffPassed => Outcome::Skipped,
        }
    }
}

/// How an invocation ended, as Run Command's invocation StatusDetails names it (plus
/// `Skipped` for targets a task never reached).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failed,
    DeliveryTimedOut,
    Undeliverable,
    /// Cancelled by a CANCEL_TASK cutoff: the window reports it TIMED_OUT.
    Cancelled,
    /// Not sent after MaxErrors was exceeded.
    Terminated,
    Skipped,
}

impl Outcome {
    /// Run Command's StatusDetails of the invocation; empty for a target never sent.
    pub fn status_details(self) -> &'static str {
        match self {
            Outcome::Success => "Success",
            Outcome::Failed => "Failed",
            Outcome::DeliveryTimedOut => "Delivery Timed Out",
            Outcome::Undeliverable => "Undeliverable",
            Outcome::Cancelled => "Canceled",
            Outcome::Terminated => "Terminated",
            Outcome::Skipped => "",
        }
    }

    /// The window's task-invocation Status.
    pub fn window_status(self) -> &'static str {
        match self {
            Outcome::Success => "SUCCESS",
            Outcome::Failed | Outcome::Undeliverable => "FAILED",
            Outcome::DeliveryTimedOut | Outcome::Cancelled => "TIMED_OUT",
            Outcome::Terminated => "CANCELLED",
            Outcome::Skipped => "",
        }
    }
}

/// Invocations of a task or an execution, counted by cause.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InvocationCounts {
    by_cause: [u64; CAUSES.len()],
}

impl InvocationCounts {
    pub fn record(&mut self, cause: Cause, n: u64) {
        self.by_cause[cause as usize] += n;
    }

    pub fn add(&mut self, other: &InvocationCounts) {
        for (mine, theirs) in self.by_cause.iter_mut().zip(other.by_cause) {
            *mine += theirs;
        }
    }

    pub fn cause(&self, cause: Cause) -> u64 {
        self.by_cause[cause as usize]
    }

    pub fn outcome(&self, outcome: Outcome) -> u64 {
        CAUSES.iter().filter(|c| c.outcome() == outcome).map(|&c| self.cause(c)).sum()
    }

    pub fn total(&self) -> u64 {
        self.by_cause.iter().sum()
    }
}

/// Run Command's StatusDetails for a task's command over these invocations, with the
/// task's resolved MaxErrors.
pub fn command_status_details(counts: &InvocationCounts, max_errors: u32) -> &'static str {
    let sent = counts.total() - counts.outcome(Outcome::Skipped);
    let undeliverable = counts.outcome(Outcome::Undeliverable);
    if sent == 0 {
        return "No Instances In Tag";
    }
    if sent == undeliverable {
        return "Failed";
    }
    if counts.outcome(Outcome::Success) + undeliverable == sent {
        return "Success";
    }
    let reaches = |n: u64| n > 0 && n >= max_errors as u64;
    if reaches(counts.outcome(Outcome::Failed)) {
        "Failed"
    } else if reaches(counts.outcome(Outcome::Cancelled)) {
        // Cancelled at the cutoff: the execution timed out.
        "Execution Timed Out"
    } else if reaches(counts.outcome(Outcome::DeliveryTimedOut)) {
        "Delivery Timed Out"
    } else {
        "Incomplete"
    }
}

/// A window task's Status from its command's StatusDetails; `cut_off`: a CANCEL_TASK
/// cutoff stopped it.
pub fn task_status(details: &str, cut_off: bool) -> ExecutionStatus {
    if cut_off {
        return ExecutionStatus::TimedOut;
    }
    match details {
        "Failed" => ExecutionStatus::Failed,
        "Delivery Timed Out" | "Execution Timed Out" => ExecutionStatus::TimedOut,
        _ => ExecutionStatus::Success,
    }
}

/// A window execution's StatusDetails.
pub fn execution_status_details(status: ExecutionStatus, tasks_run: usize) -> &'static str {
    match status {
        ExecutionStatus::Failed => "One or more tasks in the orchestration failed.",
        ExecutionStatus::TimedOut => "One or more tasks in the orchestration timed out.",
        ExecutionStatus::Success if tasks_run == 0 => "No tasks to execute.",
        _ => "",
    }
}

/// An association execution's status from its command's StatusDetails.
pub fn association_status(details: &str) -> &'static str {
    if details == "Success" { "Success" } else { "Failed" }
}

/// A command's Status (Run Command's enum) from its StatusDetails.
pub fn command_status(details: &str) -> &'static str {
    match details {
        "Success" | "No Instances In Tag" => "Success",
        "Delivery Timed Out" | "Execution Timed Out" => "TimedOut",
        _ => "Failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(pairs: &[(Cause, u64)]) -> InvocationCounts {
        let mut counts = InvocationCounts::default();
        for &(cause, n) in pairs {
            counts.record(cause, n);
        }
        counts
    }

    #[test]
    fn all_undeliverable_is_failed_and_undeliverable_beside_a_success_is_success() {
        // monitor-commands: "if all invocations ... Undeliverable, then the command status
        // returned is Failed"; four Undeliverable and one Success give Success.
        assert_eq!(command_status_details(&counts(&[(Cause::InstanceTerminated, 5)]), 0), "Failed");
        let four_and_one = counts(&[(Cause::InstanceTerminated, 4), (Cause::Completed, 1)]);
        assert_eq!(command_status_details(&four_and_one, 0), "Success");
    }

    #[test]
    fn failed_needs_max_errors_or_more_failures_otherwise_incomplete() {
        // monitor-commands: Failed when "the value of max-errors or more command invocations
        // shows a status of Failed"; Incomplete when not enough failed.
        let two_failed = counts(&[(Cause::Completed, 98), (Cause::InstallFailure, 2)]);
        assert_eq!(command_status_details(&two_failed, 5), "Incomplete");
        assert_eq!(command_status_details(&two_failed, 2), "Failed");
        assert_eq!(command_status_details(&two_failed, 0), "Failed");
        assert_eq!(task_status("Incomplete", false), ExecutionStatus::Success);
        assert_eq!(task_status("Failed", false), ExecutionStatus::Failed);
    }

    #[test]
    fn delivery_timeouts_count_toward_the_result_but_not_toward_max_errors() {
        let half_offline = counts(&[(Cause::Completed, 50), (Cause::AgentUnreachable, 50)]);
        assert_eq!(command_status_details(&half_offline, 5), "Delivery Timed Out");
        assert_eq!(task_status("Delivery Timed Out", false), ExecutionStatus::TimedOut);
        let few_offline = counts(&[(Cause::Completed, 98), (Cause::AgentDown, 2)]);
        assert_eq!(command_status_details(&few_offline, 5), "Incomplete");
    }

    #[test]
    fn failed_wins_over_timeouts_and_a_cutoff_times_a_task_out() {
        let both = counts(&[(Cause::InstallFailure, 3), (Cause::AgentUnreachable, 3), (Cause::Completed, 4)]);
        assert_eq!(command_status_details(&both, 3), "Failed");
        assert_eq!(task_status("Success", true), ExecutionStatus::TimedOut);
        let cut = counts(&[(Cause::CancelledAtCutoff, 4), (Cause::CutoffPassed, 10), (Cause::Completed, 6)]);
        assert_eq!(command_status_details(&cut, 1), "Execution Timed Out");
    }

    #[test]
    fn skipped_targets_are_not_invocations_and_no_targets_is_no_instances_in_tag() {
        assert_eq!(command_status_details(&InvocationCounts::default(), 0), "No Instances In Tag");
        assert_eq!(command_status_details(&counts(&[(Cause::CutoffPassed, 9)]), 0), "No Instances In Tag");
        assert_eq!(task_status("No Instances In Tag", false), ExecutionStatus::Success);
    }

    #[test]
    fn execution_details_follow_the_documented_wording() {
        assert_eq!(
            execution_status_details(ExecutionStatus::Failed, 2),
            "One or more tasks in the orchestration failed."
        );
        assert_eq!(execution_status_details(ExecutionStatus::Success, 0), "No tasks to execute.");
        assert_eq!(execution_status_details(ExecutionStatus::Success, 1), "");
        assert_eq!(association_status("Incomplete"), "Failed");
        assert_eq!(command_status("Incomplete"), "Failed");
        assert_eq!(command_status("Delivery Timed Out"), "TimedOut");
    }

    #[test]
    fn every_cause_has_one_outcome_and_outcomes_sum_to_the_total() {
        let mut all = InvocationCounts::default();
        for (n, &cause) in CAUSES.iter().enumerate() {
            all.record(cause, n as u64 + 1);
        }
        let outcomes = [
            Outcome::Success,
            Outcome::Failed,
            Outcome::DeliveryTimedOut,
            Outcome::Undeliverable,
            Outcome::Cancelled,
            Outcome::Terminated,
            Outcome::Skipped,
        ];
        let sum: u64 = outcomes.iter().map(|&o| all.outcome(o)).sum();
        assert_eq!(sum, all.total());
        assert_eq!(all.total(), (1..=CAUSES.len() as u64).sum::<u64>());
    }
}
