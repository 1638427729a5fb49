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

use super::records::{ExecutionRecord, InvocationRecord};
use super::{Event, Sim};
use crate::baseline::Snapshot;
use crate::compliance::{Operation, RebootOption};
use crate::engine::Scheduler;
use crate::time::{SimDuration, SimTime};
use crate::window::status::{Cause, InvocationCounts, Outcome, command_status_details, task_status};
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
    pub(super) fn targets(&self) -> u64 {
        self.lists.iter().map(|l| l.len() as u64).sum()
    }

    /// Run Command's StatusDetails for this task's command.
    pub(super) fn command_details(&self) -> &'static str {
        command_status_details(&self.counts, self.max_errors)
    }

    pub(super) fn status(&self) -> ExecutionStatus {
        task_status(self.command_details(), self.cut_off)
    }

    /// Counts an invocation that ended with `cause`, and stops dispatch when error
    /// MaxErrors + 1 arrives.
    pub(super) fn end(&mut self, cause: Cause) {
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
    pub snapshot: Option<Snapshot>,
}

/// An invocation occupying an instance.
#[derive(Clone, Debug)]
pub struct Invocation {
    pub execution: u32,
    pub task: u16,
    pub generation: u32,
    /// The operation, once delivered; `None` while the agent cannot be reached.
    pub plan: Option<super::PendingOperation>,
    pub deadline: SimTime,
    pub dispatched: SimTime,
    /// Its download through a shared repository, while it lasts.
    pub download: Option<(usize, crate::network::repository::DownloadId)>,
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
    /// Per snapshot, per baseline: how many patches the baseline had approved during the
    /// run when it was taken (a prefix of `TruthCache`'s log), so a cohort scan can tell
    /// whether a report evaluated against the snapshot still holds (see `rescan.rs`).
    pub snapshot_approvals: Vec<Vec<u32>>,
}

impl Executions {
    /// A snapshot of every baseline's approved set now, numbered in the order taken;
    /// `approvals`: each baseline's approvals during the run so far.
    pub(crate) fn take_snapshot(
        &mut self,
        now: SimTime,
        baselines: &[crate::baseline::CompiledBaseline],
        approvals: Vec<u32>,
    ) -> Snapshot {
        let snapshot = Snapshot::take(self.snapshot_taken.len() as u32, baselines);
        self.snapshot_taken.push(now);
        self.snapshot_approvals.push(approvals);
        snapshot
    }
}

/// What a task of either owner asks for.
pub(super) struct TaskParams<'s> {
    pub(super) operation: Operation,
    pub(super) reboot_option: RebootOption,
    pub(super) max_concurrency: RateValue,
    pub(super) max_errors: RateValue,
    pub(super) cutoff_behavior: CutoffBehavior,
    pub(super) delivery_timeout: SimDuration,
    pub(super) install_override: &'s [String],
    pub(super) targets: &'s [Target],
}

impl<'s> Sim<'s> {
    pub(super) fn task_params(&self, owner: Owner, task: u16) -> TaskParams<'s> {
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

    pub(super) fn task_name(&self, owner: Owner, task: u16) -> &'s str {
        let scenario: &'s crate::scenario::Scenario = self.scenario;
        match owner {
            Owner::Window(w) => &scenario.windows[w as usize].tasks[task as usize].name,
            Owner::Association(_) | Owner::Alarm(_) => self.owner_name(owner),
        }
    }

    pub(super) fn owner_name(&self, owner: Owner) -> &'s str {
        let scenario: &'s crate::scenario::Scenario = self.scenario;
        match owner {
            Owner::Window(w) => &scenario.windows[w as usize].name,
            Owner::Association(a) => &scenario.associations[a as usize].name,
            Owner::Alarm(a) => &scenario.alarms[a as usize].name,
        }
    }

    pub(super) fn new_execution(
        &mut self,
        owner: Owner,
        now: SimTime,
        cutoff_at: Option<SimTime>,
        levels: Vec<Vec<u16>>,
    ) -> u32 {
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

    pub(super) fn skipped_record(&mut self, owner: Owner, now: SimTime) {
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
        let Some((execution, task_number)) = self.inflight.get(instance).map(|i| (i.execution, i.task)) else {
            return;
        };
        let dispatched = self.inflight.get(instance).map(|i| i.dispatched);
        self.release_instance(now, instance, scheduler);
        let Some(slot) = self.slot_of(execution, task_number) else { return };
        self.executions.all[execution as usize].tasks[slot].running -= 1;
        self.end_target(now, execution, slot, instance, dispatched, Cause::InstanceTerminated);
        self.after_invocation(now, execution, slot, scheduler);
    }

    /// Ends one target of task `slot` with `cause`: counts it, and logs it when the
    /// scenario asks for `invocations.csv`.
    pub(super) fn end_target(
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

    /// A snapshot of every baseline's approved set now, with the approval counts it holds.
    pub(super) fn snapshot_now(&mut self, now: SimTime) -> crate::baseline::Snapshot {
        let approvals = self.truth_cache.log_lengths();
        self.executions.take_snapshot(now, &self.world.baselines, approvals)
    }

    pub(super) fn start_execution(&mut self, now: SimTime, id: u32, scheduler: &mut Scheduler<Event>) {
        let snapshot = self.snapshot_now(now);
        let execution = &mut self.executions.all[id as usize];
        execution.start = Some(now);
        execution.snapshot = Some(snapshot);
        if matches!(execution.owner, Owner::Window(_)) {
            self.executions.active_windows += 1;
        }
        self.start_level(now, id, scheduler);
    }

    /// Starts the current priority level, or finishes the execution when none can start.
    pub(super) fn start_level(&mut self, now: SimTime, id: u32, scheduler: &mut Scheduler<Event>) {
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

    pub(super) fn level_done(&self, id: u32) -> bool {
        self.executions.all[id as usize].tasks.iter().all(|t| t.done)
    }

    pub(super) fn close_level(&mut self, id: u32) {
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
    pub(super) fn dispatch(&mut self, now: SimTime, id: u32, slot: usize, scheduler: &mut Scheduler<Event>) {
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
            let list = &task.lists[task.list];
            let instance = list[task.next];
            if self.prefetch {
                let state = super::prefetch::DispatchState {
                    instances: &self.world.instances,
                    generation: &self.generation,
                    unreachable_until: &self.unreachable_until,
                    inflight: &self.inflight,
                };
                super::prefetch::prefetch_dispatch(&state, list, task.next);
            }
            let task = &mut self.executions.all[id as usize].tasks[slot];
            task.next += 1;
            let task_number = task.task;
            self.start_invocation(now, id, slot, task_number, instance, scheduler);
        }
    }

    pub(super) fn start_invocation(
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
        self.inflight.insert(
            instance,
            Invocation {
                execution: id,
                task: task_number,
                generation,
                plan: None,
                deadline,
                dispatched: now,
                download: None,
            },
        );
        self.try_deliver(now, id, task_number, instance, generation, scheduler);
    }

    pub(super) fn slot_of(&self, id: u32, task_number: u16) -> Option<usize> {
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
        // The plan moves out of its entry and the entry is freed where it lies: the whole
        // invocation is not copied out only to be dropped.
        let invocation = self.inflight.get_mut(instance).expect("checked above");
        let plan = invocation.plan.take().expect("a finished invocation was delivered");
        let dispatched = invocation.dispatched;
        self.inflight.remove(instance);
        self.world.instances.busy[instance as usize] = false;
        let cause = plan.cause;
        if let Owner::Alarm(alarm) = self.executions.all[id as usize].owner {
            self.alarms[alarm as usize].patches_installed += plan.newly_installed.len() as u64;
        }
        self.apply_operation(instance, plan, now);
        let Some(slot) = self.slot_of(id, task_number) else { return };
        self.executions.all[id as usize].tasks[slot].running -= 1;
        self.end_target(now, id, slot, instance, Some(dispatched), cause);
        self.after_invocation(now, id, slot, scheduler);
    }

    pub(super) fn after_invocation(&mut self, now: SimTime, id: u32, slot: usize, scheduler: &mut Scheduler<Event>) {
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
                let ours = self.inflight.get(instance).filter(|i| i.execution == id && i.task == task_number);
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

    pub(super) fn finish_execution(&mut self, now: SimTime, id: u32, scheduler: &mut Scheduler<Event>) {
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
}
