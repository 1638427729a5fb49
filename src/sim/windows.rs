//! Executions of maintenance windows and of rate-controlled associations: priority levels
//! of tasks, targets worked one after another, MaxConcurrency and MaxErrors, the cutoff and
//! CutoffBehavior, the account's cap on concurrent window executions, and Run Command
//! delivery to agents that cannot be reached. The rules are documented in `window/`.
//!
//! Every target of a task ends with exactly one [`Cause`], which names its outcome:
//! succeeded, failed (install failure, download cut, reboot failure, busy instance),
//! Delivery Timed Out (agent down or unreachable past the deadline), Undeliverable (instance
//! terminated), timed out (cancelled by a CANCEL_TASK cutoff), cancelled (not dispatched
//! because MaxErrors was exceeded), skipped (never started: its priority level could not
//! start before the cutoff, or a CANCEL_TASK cutoff came first). The counts of a row add up
//! to its targets. Statuses are derived from these counts by `window::status`.

use std::collections::VecDeque;
use std::sync::Arc;

use super::agent::Request;
use super::{Event, Sim};
use crate::baseline::Snapshot;
use crate::compliance::{Operation, RebootOption};
use crate::engine::Scheduler;
use crate::time::{SimDuration, SimTime};
use crate::window::status::{
    Cause, InvocationCounts, Outcome, association_status, command_status, command_status_details,
    execution_status_details, task_status,
};
use crate::window::{CutoffBehavior, ExecutionStatus, RateValue, Target};

/// Who an execution belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    Window(u16),
    Association(u16),
    /// The remediation run by an alarm's action.
    Alarm(u16),
}

/// One task's progress within an execution.
#[derive(Clone, Debug, Default)]
pub struct TaskRun {
    pub task: u16,
    /// Target lists, worked one after another.
    pub lists: Vec<Vec<u32>>,
    pub list: usize,
    pub next: usize,
    /// MaxConcurrency resolved against the current list.
    pub max_concurrency: u32,
    /// MaxErrors resolved against all of the task's targets.
    pub max_errors: u32,
    pub running: u32,
    pub errors: u32,
    /// MaxErrors was exceeded: nothing more is dispatched.
    pub stopped: bool,
    /// A CANCEL_TASK cutoff arrived: nothing more is dispatched.
    pub cut_off: bool,
    pub counts: InvocationCounts,
    pub done: bool,
}

impl TaskRun {
    fn targets(&self) -> u64 {
        self.lists.iter().map(|l| l.len() as u64).sum()
    }

    /// Run Command's StatusDetails for this task's command.
    fn command_details(&self) -> &'static str {
        command_status_details(&self.counts, self.max_errors)
    }

    fn status(&self) -> ExecutionStatus {
        task_status(self.command_details(), self.cut_off)
    }

    /// Counts an invocation that ended with `cause`, and stops dispatch when error
    /// MaxErrors + 1 arrives.
    fn end(&mut self, cause: Cause) {
        self.counts.record(cause, 1);
        if cause.outcome() == Outcome::Failed {
            self.errors += 1;
            self.stopped |= self.errors > self.max_errors;
        }
    }
}

/// A window or association execution.
#[derive(Clone, Debug)]
pub struct Execution {
    pub owner: Owner,
    pub id: u32,
    pub scheduled: SimTime,
    /// When it left PENDING; `None` while it waits for an account slot.
    pub start: Option<SimTime>,
    /// No priority level starts at or after this instant (windows only).
    pub cutoff_at: Option<SimTime>,
    pub levels: Vec<Vec<u16>>,
    pub level: usize,
    pub tasks: Vec<TaskRun>,
    pub finished: bool,
    pub targets: u64,
    pub counts: InvocationCounts,
    pub status: ExecutionStatus,
    /// Run Command's StatusDetails of the last task that closed (an association's or a
    /// remediation's only task).
    pub command_details: &'static str,
    /// Tasks that started.
    pub tasks_run: u32,
    /// Instances fixed at creation (an association applied to new instances), instead of
    /// targets resolved when each level starts.
    pub fixed_targets: Option<Vec<u32>>,
    /// The approved sets every invocation of this execution sees, taken when it started;
    /// released when it finishes.
    pub snapshot: Option<Arc<Snapshot>>,
}

/// An invocation occupying an instance.
#[derive(Clone, Debug)]
pub struct Invocation {
    pub execution: u32,
    pub task: u16,
    pub generation: u32,
    /// The operation, once delivered; `None` while the agent cannot be reached.
    pub plan: Option<Box<super::PendingOperation>>,
    pub deadline: SimTime,
    pub dispatched: SimTime,
    /// Its download through a shared repository, while it lasts.
    pub download: Option<(usize, crate::network::repository::DownloadId)>,
}

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

/// Execution bookkeeping of a run.
#[derive(Default)]
pub struct Executions {
    pub all: Vec<Execution>,
    /// The execution in progress (or pending) per window, and per association.
    pub current_window: Vec<Option<u32>>,
    pub current_association: Vec<Option<u32>>,
    /// Window executions waiting for an account slot, oldest first.
    pub pending: VecDeque<u32>,
    /// Window executions holding an account slot.
    pub active_windows: u32,
    pub window_records: Vec<ExecutionRecord>,
    pub association_records: Vec<ExecutionRecord>,
    pub remediation_records: Vec<ExecutionRecord>,
    /// Every invocation, when the scenario asks for `invocations.csv`.
    pub invocation_log: Option<Vec<InvocationRecord>>,
    /// When each snapshot was taken, by number: the approved set of snapshot `s` is every
    /// patch approved at or before `snapshot_taken[s]`.
    pub snapshot_taken: Vec<SimTime>,
}

impl Executions {
    /// A snapshot of every baseline's approved set now, numbered in the order taken.
    pub(crate) fn take_snapshot(&mut self, now: SimTime, baselines: &[crate::baseline::CompiledBaseline]) -> Snapshot {
        let snapshot = Snapshot::take(self.snapshot_taken.len() as u32, baselines);
        self.snapshot_taken.push(now);
        snapshot
    }
}

/// What a task of either owner asks for.
struct TaskParams<'s> {
    operation: Operation,
    reboot_option: RebootOption,
    max_concurrency: RateValue,
    max_errors: RateValue,
    cutoff_behavior: CutoffBehavior,
    delivery_timeout: SimDuration,
    install_override: &'s [String],
    targets: &'s [Target],
}

/// Rounded to three decimals, so the CSV stays short and exact.
fn round3(value: f64) -> f64 {
    (value * 1_000.0).round() / 1_000.0
}

impl<'s> Sim<'s> {
    fn task_params(&self, owner: Owner, task: u16) -> TaskParams<'s> {
        let scenario: &'s crate::scenario::Scenario = self.scenario;
        match owner {
            Owner::Window(w) => {
                let window = &scenario.windows[w as usize];
                let def = &window.tasks[task as usize];
                TaskParams {
                    operation: def.operation,
                    reboot_option: def.reboot_option,
                    max_concurrency: def.max_concurrency,
                    max_errors: def.max_errors,
                    cutoff_behavior: def.cutoff_behavior,
                    delivery_timeout: def.delivery_timeout,
                    install_override: &def.install_override_list,
                    targets: def.targets.as_deref().unwrap_or(&window.targets),
                }
            }
            Owner::Alarm(a) => {
                let def = &scenario.alarms[a as usize];
                TaskParams {
                    operation: Operation::Install,
                    reboot_option: def.reboot_option,
                    max_concurrency: def.rate_control.max_concurrency,
                    max_errors: def.rate_control.max_errors,
                    cutoff_behavior: CutoffBehavior::ContinueTask,
                    delivery_timeout: def.delivery_timeout,
                    install_override: &[],
                    targets: &[],
                }
            }
            Owner::Association(a) => {
                let def = &scenario.associations[a as usize];
                let (max_concurrency, max_errors) = match def.rate_control {
                    Some(rate) => (rate.max_concurrency, rate.max_errors),
                    None => (RateValue::Percent(100), RateValue::Percent(100)),
                };
                TaskParams {
                    operation: def.operation,
                    reboot_option: def.reboot_option,
                    max_concurrency,
                    max_errors,
                    cutoff_behavior: CutoffBehavior::ContinueTask,
                    delivery_timeout: def.delivery_timeout,
                    install_override: &[],
                    targets: &def.targets,
                }
            }
        }
    }

    fn task_name(&self, owner: Owner, task: u16) -> &'s str {
        let scenario: &'s crate::scenario::Scenario = self.scenario;
        match owner {
            Owner::Window(w) => &scenario.windows[w as usize].tasks[task as usize].name,
            Owner::Association(_) | Owner::Alarm(_) => self.owner_name(owner),
        }
    }

    fn owner_name(&self, owner: Owner) -> &'s str {
        let scenario: &'s crate::scenario::Scenario = self.scenario;
        match owner {
            Owner::Window(w) => &scenario.windows[w as usize].name,
            Owner::Association(a) => &scenario.associations[a as usize].name,
            Owner::Alarm(a) => &scenario.alarms[a as usize].name,
        }
    }

    fn new_execution(&mut self, owner: Owner, now: SimTime, cutoff_at: Option<SimTime>, levels: Vec<Vec<u16>>) -> u32 {
        let id = self.executions.all.len() as u32;
        self.executions.all.push(Execution {
            owner,
            id,
            scheduled: now,
            start: None,
            cutoff_at,
            levels,
            level: 0,
            tasks: Vec::new(),
            finished: false,
            targets: 0,
            counts: InvocationCounts::default(),
            status: ExecutionStatus::Success,
            command_details: "",
            tasks_run: 0,
            fixed_targets: None,
            snapshot: None,
        });
        id
    }

    fn skipped_record(&mut self, owner: Owner, now: SimTime) {
        let at = now.to_rfc3339();
        let id = self.new_execution(owner, now, None, Vec::new());
        let execution = &mut self.executions.all[id as usize];
        execution.finished = true;
        execution.status = ExecutionStatus::SkippedOverlapping;
        let mut record = self.record(id, None);
        record.status = match owner {
            Owner::Association(_) => "Skipped",
            _ => ExecutionStatus::SkippedOverlapping.as_str(),
        };
        record.scheduled_start = at;
        match owner {
            Owner::Window(_) => self.executions.window_records.push(record),
            Owner::Association(_) => self.executions.association_records.push(record),
            Owner::Alarm(_) => self.executions.remediation_records.push(record),
        }
    }

    /// An execution over exactly these instances: an alarm's remediation, or an association
    /// applied to newly launched instances (which does not block its scheduled runs).
    pub(crate) fn execution_over(
        &mut self,
        owner: Owner,
        now: SimTime,
        instances: Vec<u32>,
        scheduler: &mut Scheduler<Event>,
    ) {
        let id = self.new_execution(owner, now, None, vec![vec![0]]);
        self.executions.all[id as usize].fixed_targets = Some(instances);
        self.start_execution(now, id, scheduler);
    }

    /// A window's schedule fired.
    pub(crate) fn window_tick(&mut self, now: SimTime, window: u16, scheduler: &mut Scheduler<Event>) {
        if self.executions.current_window[window as usize].is_some() {
            self.skipped_record(Owner::Window(window), now);
            return;
        }
        let def = &self.scenario.windows[window as usize];
        let cutoff_at = now + def.duration - def.cutoff;
        let cancels = def.tasks.iter().any(|t| t.cutoff_behavior == CutoffBehavior::CancelTask);
        let id = self.new_execution(Owner::Window(window), now, Some(cutoff_at), def.priority_levels());
        self.executions.current_window[window as usize] = Some(id);
        if cancels {
            scheduler.schedule(cutoff_at, Event::Cutoff { execution: id });
        }
        if self.executions.active_windows < self.scenario.max_concurrent_executions {
            self.start_execution(now, id, scheduler);
        } else {
            self.executions.pending.push_back(id);
        }
    }

    /// A rate-controlled (or Install) association fired.
    pub(crate) fn association_execution(&mut self, now: SimTime, association: u16, scheduler: &mut Scheduler<Event>) {
        if self.executions.current_association[association as usize].is_some() {
            self.skipped_record(Owner::Association(association), now);
            return;
        }
        let id = self.new_execution(Owner::Association(association), now, None, vec![vec![0]]);
        self.executions.current_association[association as usize] = Some(id);
        self.start_execution(now, id, scheduler);
    }

    /// The instance of a running or waiting invocation is terminated: it ends undeliverable.
    pub(crate) fn terminate_invocation(&mut self, now: SimTime, instance: u32, scheduler: &mut Scheduler<Event>) {
        let Some((execution, task_number)) = self.inflight[instance as usize].as_ref().map(|i| (i.execution, i.task))
        else {
            return;
        };
        let dispatched = self.inflight[instance as usize].as_ref().map(|i| i.dispatched);
        self.release_instance(now, instance, scheduler);
        let Some(slot) = self.slot_of(execution, task_number) else { return };
        self.executions.all[execution as usize].tasks[slot].running -= 1;
        self.end_target(now, execution, slot, instance, dispatched, Cause::InstanceTerminated);
        self.after_invocation(now, execution, slot, scheduler);
    }

    /// Ends one target of task `slot` with `cause`: counts it, and logs it when the
    /// scenario asks for `invocations.csv`.
    fn end_target(
        &mut self,
        now: SimTime,
        id: u32,
        slot: usize,
        instance: u32,
        dispatched: Option<SimTime>,
        cause: Cause,
    ) {
        let task = &mut self.executions.all[id as usize].tasks[slot];
        task.end(cause);
        let task_number = task.task;
        self.log_targets(id, task_number, &[instance], dispatched, now, cause);
    }

    /// Appends targets to the invocation log, if there is one.
    fn log_targets(
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

    fn start_execution(&mut self, now: SimTime, id: u32, scheduler: &mut Scheduler<Event>) {
        let snapshot = self.executions.take_snapshot(now, &self.world.baselines);
        let execution = &mut self.executions.all[id as usize];
        execution.start = Some(now);
        execution.snapshot = Some(Arc::new(snapshot));
        if matches!(execution.owner, Owner::Window(_)) {
            self.executions.active_windows += 1;
        }
        self.start_level(now, id, scheduler);
    }

    /// Starts the current priority level, or finishes the execution when none can start.
    fn start_level(&mut self, now: SimTime, id: u32, scheduler: &mut Scheduler<Event>) {
        loop {
            let execution = &self.executions.all[id as usize];
            if execution.level >= execution.levels.len() {
                self.finish_execution(now, id, scheduler);
                return;
            }
            let owner = execution.owner;
            let past_cutoff = execution.cutoff_at.is_some_and(|cutoff| now >= cutoff);
            let level_tasks = execution.levels[execution.level].clone();
            let fixed = execution.fixed_targets.clone();
            let mut runs = Vec::with_capacity(level_tasks.len());
            for task in level_tasks {
                let params = self.task_params(owner, task);
                let lists: Vec<Vec<u32>> = match &fixed {
                    Some(instances) => vec![instances.clone()],
                    None => params.targets.iter().map(|t| self.resolve_targets(std::slice::from_ref(t))).collect(),
                };
                let total: u32 = lists.iter().map(|l| l.len() as u32).sum();
                let first = lists.first().map_or(0, |l| l.len() as u32);
                runs.push(TaskRun {
                    task,
                    max_concurrency: params.max_concurrency.resolve(first).max(1),
                    max_errors: params.max_errors.resolve(total),
                    lists,
                    ..TaskRun::default()
                });
            }
            let execution = &mut self.executions.all[id as usize];
            if past_cutoff {
                // This level and every later one never start.
                for mut run in runs {
                    run.counts.record(Cause::CutoffPassed, run.targets());
                    execution.targets += run.targets();
                    execution.counts.add(&run.counts);
                }
                if self.executions.invocation_log.is_some() {
                    for task in self.executions.all[id as usize].levels[self.executions.all[id as usize].level].clone()
                    {
                        let params = self.task_params(owner, task);
                        let instances = match &fixed {
                            Some(instances) => instances.clone(),
                            None => self.resolve_targets(params.targets),
                        };
                        self.log_targets(id, task, &instances, None, now, Cause::CutoffPassed);
                    }
                }
                let execution = &mut self.executions.all[id as usize];
                // A level that could not start before the cutoff makes the execution
                // TIMED_OUT, whether earlier levels ran or it waited past its cutoff.
                execution.status = ExecutionStatus::TimedOut;
                execution.level += 1;
                continue;
            }
            execution.tasks_run += runs.len() as u32;
            execution.tasks = runs;
            for slot in 0..execution.tasks.len() {
                self.dispatch(now, id, slot, scheduler);
            }
            if !self.level_done(id) {
                return;
            }
            self.close_level(id);
        }
    }

    fn level_done(&self, id: u32) -> bool {
        self.executions.all[id as usize].tasks.iter().all(|t| t.done)
    }

    fn close_level(&mut self, id: u32) {
        let execution = &mut self.executions.all[id as usize];
        for task in std::mem::take(&mut execution.tasks) {
            execution.targets += task.targets();
            execution.counts.add(&task.counts);
            execution.status = execution.status.max(task.status());
            execution.command_details = task.command_details();
        }
        execution.level += 1;
    }

    /// Starts invocations of task `slot` while its rate control allows, moving on to the
    /// task's next target list once the current one is finished.
    fn dispatch(&mut self, now: SimTime, id: u32, slot: usize, scheduler: &mut Scheduler<Event>) {
        loop {
            let execution = &mut self.executions.all[id as usize];
            let owner = execution.owner;
            let task = &mut execution.tasks[slot];
            if task.done {
                return;
            }
            let halted = task.stopped || task.cut_off;
            let list_len = task.lists.get(task.list).map_or(0, Vec::len);
            if halted || task.next >= list_len {
                if !halted && task.list + 1 < task.lists.len() {
                    if task.running > 0 {
                        return;
                    }
                    task.list += 1;
                    task.next = 0;
                    let len = task.lists[task.list].len() as u32;
                    let params = self.task_params(owner, self.executions.all[id as usize].tasks[slot].task);
                    let task = &mut self.executions.all[id as usize].tasks[slot];
                    task.max_concurrency = params.max_concurrency.resolve(len).max(1);
                    continue;
                }
                if task.running == 0 {
                    let cause = if task.cut_off { Cause::CutoffPassed } else { Cause::MaxErrorsExceeded };
                    let remaining: Vec<u32> = task
                        .lists
                        .get(task.list)
                        .map_or(&[][..], |l| &l[task.next.min(l.len())..])
                        .iter()
                        .chain(task.lists.iter().skip(task.list + 1).flatten())
                        .copied()
                        .collect();
                    task.counts.record(cause, remaining.len() as u64);
                    task.next = list_len;
                    task.list = task.lists.len().saturating_sub(1);
                    task.done = true;
                    let task_number = task.task;
                    self.log_targets(id, task_number, &remaining, None, now, cause);
                }
                return;
            }
            if task.running >= task.max_concurrency {
                return;
            }
            let instance = task.lists[task.list][task.next];
            task.next += 1;
            let task_number = task.task;
            self.start_invocation(now, id, slot, task_number, instance, scheduler);
        }
    }

    fn start_invocation(
        &mut self,
        now: SimTime,
        id: u32,
        slot: usize,
        task_number: u16,
        instance: u32,
        scheduler: &mut Scheduler<Event>,
    ) {
        let owner = self.executions.all[id as usize].owner;
        let params = self.task_params(owner, task_number);
        let index = instance as usize;
        if !self.world.instances.running[index] {
            // Terminated since the targets were resolved: the command cannot be delivered.
            self.end_target(now, id, slot, instance, Some(now), Cause::InstanceTerminated);
            return;
        }
        if self.world.instances.busy[index] {
            // Another operation holds the instance (the package manager's lock): this
            // invocation fails at once and counts toward MaxErrors.
            self.end_target(now, id, slot, instance, Some(now), Cause::InstanceBusy);
            return;
        }
        self.world.instances.busy[index] = true;
        self.generation[index] = self.generation[index].wrapping_add(1);
        let generation = self.generation[index];
        let deadline = now + params.delivery_timeout;
        self.executions.all[id as usize].tasks[slot].running += 1;
        self.inflight[index] = Some(Invocation {
            execution: id,
            task: task_number,
            generation,
            plan: None,
            deadline,
            dispatched: now,
            download: None,
        });
        self.try_deliver(now, id, task_number, instance, generation, scheduler);
    }

    /// Delivers the command if the agent can be reached (and has not crashed); otherwise it
    /// waits until the agent is back or the deadline passes, whichever is first. Returns
    /// whether the invocation is still alive.
    fn try_deliver(
        &mut self,
        now: SimTime,
        id: u32,
        task_number: u16,
        instance: u32,
        generation: u32,
        scheduler: &mut Scheduler<Event>,
    ) {
        let owner = self.executions.all[id as usize].owner;
        let params = self.task_params(owner, task_number);
        let deadline = self.inflight[instance as usize].as_ref().map_or(now, |i| i.deadline);
        if now <= deadline && self.reachable(instance, now) && !self.agent_crashed(instance, generation, now) {
            self.deliver(now, instance, params.operation, params.reboot_option, params.install_override, scheduler);
            return;
        }
        if now < deadline {
            // The agent cannot be reached: the command waits.
            let retry = self.reachable_again(instance, now).filter(|back| *back <= deadline).unwrap_or(deadline);
            scheduler.schedule(retry, Event::Delivery { execution: id, task: task_number, instance, generation });
            return;
        }
        // Delivery Timed Out: not an error for MaxErrors. The cause is the network (an
        // outage, a partition, a link down) if it still separates the agent, else the
        // instance itself (a crashed agent, or down after a failed reboot).
        let group = &self.scenario.groups[self.world.instances.group[instance as usize] as usize];
        let network_down = !group.online(now) || !self.links.up(group.location, crate::network::SSM, now);
        let cause = if network_down { Cause::AgentUnreachable } else { Cause::AgentDown };
        let dispatched = self.inflight[instance as usize].as_ref().map(|i| i.dispatched);
        self.release_instance(now, instance, scheduler);
        let Some(slot) = self.slot_of(id, task_number) else { return };
        self.executions.all[id as usize].tasks[slot].running -= 1;
        self.end_target(now, id, slot, instance, dispatched, cause);
        self.after_invocation(now, id, slot, scheduler);
    }

    /// The snapshot of the execution whose invocation occupies `instance`.
    fn snapshot_of(&self, instance: u32) -> Arc<Snapshot> {
        let execution = self.inflight[instance as usize].as_ref().expect("an invocation is in flight").execution;
        let snapshot = self.executions.all[execution as usize].snapshot.as_ref();
        Arc::clone(snapshot.expect("a started execution holds its snapshot"))
    }

    /// Runs the operation of the invocation occupying `instance` (it was just delivered).
    fn deliver(
        &mut self,
        now: SimTime,
        instance: u32,
        operation: Operation,
        reboot_option: RebootOption,
        install_override: &[String],
        scheduler: &mut Scheduler<Event>,
    ) {
        let group = &self.world.groups[self.world.instances.group[instance as usize] as usize];
        let location = self.scenario.groups[self.world.instances.group[instance as usize] as usize].location;
        let repository = self.repository_of_catalog[group.catalog];
        let reachable = repository.is_none_or(|r| self.links.up(location, r + 1, now));
        let snapshot = self.snapshot_of(instance);
        let request = Request {
            operation,
            reboot_option,
            install_override,
            repository_reachable: reachable,
            snapshot: &snapshot,
        };
        let mut plan = self.plan_operation(instance, &request, now);
        let patches = std::mem::take(&mut plan.downloads);
        let end = plan.end;
        let download_mb = plan.download_mb;
        let client_mbps = self.scenario.agent.download_mbps;
        let invocation = self.inflight[instance as usize].as_mut().expect("a delivered invocation is in flight");
        invocation.plan = Some(Box::new(plan));
        if let (Some(r), true) = (repository, download_mb > 0.0) {
            let download = self.repositories[r].request(now, download_mb, client_mbps, instance as u64);
            invocation.download = Some((r, download));
            if let Some(log) = &mut self.download_log {
                let request = super::DownloadRequest {
                    repository: r as u16,
                    execution: invocation.execution,
                    instance,
                    catalog: self.world.groups[self.world.instances.group[instance as usize] as usize].catalog as u16,
                    patches,
                    megabytes: download_mb,
                    requested_at: now,
                    finished_at: None,
                };
                log.requested(download, request);
            }
            let peaks = &mut self.repository_peaks[r];
            peaks.0 = peaks.0.max(self.repositories[r].active());
            peaks.1 = peaks.1.max(self.repositories[r].queued());
            self.schedule_repository(r, scheduler);
            return;
        }
        let event = Event::InvocationDone {
            execution: invocation.execution,
            task: invocation.task,
            instance,
            generation: invocation.generation,
        };
        scheduler.schedule(end, event);
    }

    /// Schedules the repository's next completion, tagged with its current version.
    fn schedule_repository(&mut self, r: usize, scheduler: &mut Scheduler<Event>) {
        if let Some(at) = self.repositories[r].next_completion() {
            let version = self.repositories[r].version();
            scheduler.schedule(at, Event::Repository { repository: r as u16, version });
        }
    }

    /// Downloads finished: their invocations go on with the rest of the install.
    /// `from_event`: the call consumes the repository's scheduled event, so the next one is
    /// always armed; otherwise (a sample bringing the model up to date) only if something
    /// changed.
    pub(crate) fn repository_tick(
        &mut self,
        now: SimTime,
        r: usize,
        version: u64,
        from_event: bool,
        scheduler: &mut Scheduler<Event>,
    ) {
        if self.repositories[r].version() != version {
            return;
        }
        for done in self.repositories[r].advance(now) {
            if let Some(log) = &mut self.download_log {
                log.finished(r, done.id, done.finished_at);
            }
            let instance = done.tag as u32;
            let Some(invocation) = self.inflight[instance as usize].as_mut() else { continue };
            if invocation.download.map(|(_, id)| id) != Some(done.id) {
                continue;
            }
            invocation.download = None;
            let latency = done.finished_at.since(done.requested_at).0.max(0) as u64;
            self.download_latency[r].saturating_record(latency);
            let plan = invocation.plan.as_mut().expect("a downloading invocation was delivered");
            // The rest of the operation (overhead, installs, reboot) follows the download.
            let rest = plan.end.since(plan.report.start);
            plan.end = done.finished_at + rest;
            plan.report.end = plan.end;
            let event = Event::InvocationDone {
                execution: invocation.execution,
                task: invocation.task,
                instance,
                generation: invocation.generation,
            };
            scheduler.schedule(plan.end, event);
        }
        if from_event || self.repositories[r].version() != version {
            self.schedule_repository(r, scheduler);
        }
    }

    /// A location loses its link to a repository: every download across it fails, and so
    /// do the installs waiting for them.
    pub(crate) fn link_cut(
        &mut self,
        now: SimTime,
        location: usize,
        destination: usize,
        scheduler: &mut Scheduler<Event>,
    ) {
        let r = destination - 1;
        let affected: Vec<u32> = (0..self.inflight.len() as u32)
            .filter(|&i| {
                let group = &self.scenario.groups[self.world.instances.group[i as usize] as usize];
                group.location == Some(location)
                    && self.inflight[i as usize]
                        .as_ref()
                        .is_some_and(|inv| inv.download.is_some_and(|(repo, _)| repo == r))
            })
            .collect();
        for instance in affected {
            let invocation = self.inflight[instance as usize].as_mut().expect("filtered above");
            let (_, download) = invocation.download.take().expect("filtered above");
            self.repositories[r].cancel(now, download);
            let (execution, task) = (invocation.execution, invocation.task);
            let owner = self.executions.all[execution as usize].owner;
            let params = self.task_params(owner, task);
            let snapshot = self.snapshot_of(instance);
            let request = Request {
                operation: params.operation,
                reboot_option: params.reboot_option,
                install_override: params.install_override,
                repository_reachable: false,
                snapshot: &snapshot,
            };
            let failed = self.plan_operation(instance, &request, now);
            let end = failed.end;
            let invocation = self.inflight[instance as usize].as_mut().expect("still in flight");
            invocation.plan = Some(Box::new(failed));
            let event = Event::InvocationDone { execution, task, instance, generation: invocation.generation };
            scheduler.schedule(end, event);
        }
        self.schedule_repository(r, scheduler);
    }

    /// The invocation on `instance`, if it is the one an event was scheduled for.
    fn current_invocation(&self, instance: u32, execution: u32, generation: u32) -> bool {
        self.inflight[instance as usize]
            .as_ref()
            .is_some_and(|i| i.execution == execution && i.generation == generation)
    }

    /// A waiting invocation's agent came back, or its deadline arrived.
    pub(crate) fn delivery(
        &mut self,
        now: SimTime,
        id: u32,
        task_number: u16,
        instance: u32,
        generation: u32,
        scheduler: &mut Scheduler<Event>,
    ) {
        if !self.current_invocation(instance, id, generation) {
            return;
        }
        self.try_deliver(now, id, task_number, instance, generation, scheduler);
    }

    fn release_instance(&mut self, now: SimTime, instance: u32, scheduler: &mut Scheduler<Event>) {
        if let Some(invocation) = self.inflight[instance as usize].take()
            && let Some((r, download)) = invocation.download
        {
            self.repositories[r].cancel(now, download);
            self.schedule_repository(r, scheduler);
        }
        self.world.instances.busy[instance as usize] = false;
    }

    fn slot_of(&self, id: u32, task_number: u16) -> Option<usize> {
        self.executions.all[id as usize].tasks.iter().position(|t| t.task == task_number)
    }

    pub(crate) fn invocation_done(
        &mut self,
        now: SimTime,
        id: u32,
        task_number: u16,
        instance: u32,
        generation: u32,
        scheduler: &mut Scheduler<Event>,
    ) {
        if !self.current_invocation(instance, id, generation) {
            // Cancelled at a CANCEL_TASK cutoff: its effects never happen.
            return;
        }
        let invocation = self.inflight[instance as usize].take().expect("checked above");
        self.world.instances.busy[instance as usize] = false;
        let plan = invocation.plan.expect("a finished invocation was delivered");
        let cause = plan.cause;
        if let Owner::Alarm(alarm) = self.executions.all[id as usize].owner {
            self.alarms[alarm as usize].patches_installed += plan.newly_installed.len() as u64;
        }
        self.apply_operation(instance, *plan, now);
        let Some(slot) = self.slot_of(id, task_number) else { return };
        self.executions.all[id as usize].tasks[slot].running -= 1;
        self.end_target(now, id, slot, instance, Some(invocation.dispatched), cause);
        self.after_invocation(now, id, slot, scheduler);
    }

    fn after_invocation(&mut self, now: SimTime, id: u32, slot: usize, scheduler: &mut Scheduler<Event>) {
        self.dispatch(now, id, slot, scheduler);
        if self.level_done(id) {
            self.close_level(id);
            self.start_level(now, id, scheduler);
        }
    }

    /// The cutoff of an execution with CANCEL_TASK tasks: those tasks stop dispatching and
    /// their running invocations are cancelled (TIMED_OUT).
    pub(crate) fn cutoff(&mut self, now: SimTime, id: u32, scheduler: &mut Scheduler<Event>) {
        let execution = &self.executions.all[id as usize];
        if execution.finished || execution.start.is_none() {
            return;
        }
        let owner = execution.owner;
        for slot in 0..execution.tasks.len() {
            let task_number = self.executions.all[id as usize].tasks[slot].task;
            if self.task_params(owner, task_number).cutoff_behavior != CutoffBehavior::CancelTask {
                continue;
            }
            let task = &self.executions.all[id as usize].tasks[slot];
            if task.done {
                continue;
            }
            let dispatched: Vec<u32> = task
                .lists
                .iter()
                .take(task.list + 1)
                .enumerate()
                .flat_map(|(l, list)| {
                    let upto = if l == task.list { task.next } else { list.len() };
                    list[..upto].iter().copied()
                })
                .collect();
            self.executions.all[id as usize].tasks[slot].cut_off = true;
            for instance in dispatched {
                let ours =
                    self.inflight[instance as usize].as_ref().filter(|i| i.execution == id && i.task == task_number);
                if let Some(invocation) = ours {
                    let started = invocation.dispatched;
                    self.release_instance(now, instance, scheduler);
                    self.executions.all[id as usize].tasks[slot].running -= 1;
                    self.end_target(now, id, slot, instance, Some(started), Cause::CancelledAtCutoff);
                }
            }
            self.dispatch(now, id, slot, scheduler);
        }
        if self.level_done(id) {
            self.close_level(id);
            self.start_level(now, id, scheduler);
        }
    }

    fn finish_execution(&mut self, now: SimTime, id: u32, scheduler: &mut Scheduler<Event>) {
        let execution = &mut self.executions.all[id as usize];
        if execution.finished {
            return;
        }
        execution.finished = true;
        // Nothing runs against the snapshot any more: let later approvals write in place.
        execution.snapshot = None;
        let owner = execution.owner;
        let record = self.record(id, Some(now));
        match owner {
            Owner::Window(window) => {
                self.executions.current_window[window as usize] = None;
                self.executions.active_windows -= 1;
                self.executions.window_records.push(record);
                // A slot is free: the oldest pending execution starts.
                if let Some(next) = self.executions.pending.pop_front() {
                    self.start_execution(now, next, scheduler);
                }
            }
            Owner::Association(association) => {
                if self.executions.current_association[association as usize] == Some(id) {
                    self.executions.current_association[association as usize] = None;
                }
                self.executions.association_records.push(record);
            }
            Owner::Alarm(_) => self.executions.remediation_records.push(record),
        }
    }

    fn record(&self, id: u32, end: Option<SimTime>) -> ExecutionRecord {
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
    fn status_texts(execution: &Execution, finished: bool) -> (&'static str, &'static str) {
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
