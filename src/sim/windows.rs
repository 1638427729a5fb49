//! Maintenance-window executions: priority levels of tasks, rate control, cutoff, and the
//! record of each execution for `windows.csv`. The rules are documented in `window/`.

use super::{Event, Sim};
use crate::engine::Scheduler;
use crate::time::SimTime;
use crate::window::ExecutionStatus;

/// One task's progress within an execution.
#[derive(Clone, Debug, Default)]
pub struct TaskRun {
    pub task: u16,
    pub max_concurrency: u32,
    pub max_errors: u32,
    pub next: usize,
    pub running: u32,
    pub errors: u32,
    pub stopped: bool,
    pub succeeded: u32,
    pub failed: u32,
    pub done: bool,
}

/// A running (or finished) window execution.
#[derive(Clone, Debug)]
pub struct Execution {
    pub window: u16,
    pub id: u32,
    pub scheduled: SimTime,
    pub start: SimTime,
    /// No priority level starts at or after this instant.
    pub cutoff_at: SimTime,
    pub targets: Vec<u32>,
    pub levels: Vec<Vec<u16>>,
    pub level: usize,
    pub tasks: Vec<TaskRun>,
    pub finished: bool,
    /// Targets of levels that never started, summed over their tasks.
    pub not_started: u64,
    /// Counts of finished levels.
    pub succeeded: u64,
    pub failed: u64,
    pub status: ExecutionStatus,
}

/// One row of `windows.csv`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ExecutionRecord {
    pub window: String,
    pub execution: u32,
    pub scheduled_start: String,
    pub start: String,
    pub end: String,
    pub status: &'static str,
    /// Targets resolved at the start, times the number of tasks.
    pub targets: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub timed_out: u64,
    pub undeliverable: u64,
    pub cancelled: u64,
    pub not_started: u64,
    /// Hours from start to end, for utilisation.
    pub hours: f64,
}

/// Hours rounded to three decimals (3.6 s), so the CSV stays short and exact.
fn round_hours(hours: f64) -> f64 {
    (hours * 1_000.0).round() / 1_000.0
}

impl Sim<'_> {
    pub(crate) fn window_tick(&mut self, now: SimTime, window: u16, scheduler: &mut Scheduler<Event>) {
        let def = &self.scenario.windows[window as usize];
        let id = self.executions.len() as u32;
        if self.running_execution[window as usize].is_some() {
            let at = now.to_rfc3339();
            self.window_records.push(ExecutionRecord {
                window: def.name.clone(),
                execution: id,
                scheduled_start: at.clone(),
                start: at.clone(),
                end: at,
                status: ExecutionStatus::SkippedOverlapping.as_str(),
                targets: 0,
                succeeded: 0,
                failed: 0,
                timed_out: 0,
                undeliverable: 0,
                cancelled: 0,
                not_started: 0,
                hours: 0.0,
            });
            // A placeholder keeps execution ids equal to positions.
            self.executions.push(Execution {
                window,
                id,
                scheduled: now,
                start: now,
                cutoff_at: now,
                targets: Vec::new(),
                levels: Vec::new(),
                level: 0,
                tasks: Vec::new(),
                finished: true,
                not_started: 0,
                succeeded: 0,
                failed: 0,
                status: ExecutionStatus::SkippedOverlapping,
            });
            return;
        }
        let targets = self.resolve_targets(&def.targets);
        let execution = Execution {
            window,
            id,
            scheduled: now,
            start: now,
            cutoff_at: now + def.duration - def.cutoff,
            targets,
            levels: def.priority_levels(),
            level: 0,
            tasks: Vec::new(),
            finished: false,
            not_started: 0,
            succeeded: 0,
            failed: 0,
            status: ExecutionStatus::Success,
        };
        self.executions.push(execution);
        self.running_execution[window as usize] = Some(id);
        self.start_level(now, id, scheduler);
    }

    /// Starts the current priority level, or finishes the execution when no level can start.
    fn start_level(&mut self, now: SimTime, id: u32, scheduler: &mut Scheduler<Event>) {
        loop {
            let execution = &mut self.executions[id as usize];
            let def = &self.scenario.windows[execution.window as usize];
            if execution.level >= execution.levels.len() {
                self.finish_execution(now, id);
                return;
            }
            if now >= execution.cutoff_at {
                let remaining: usize = execution.levels[execution.level..].iter().map(Vec::len).sum();
                execution.not_started += (remaining * execution.targets.len()) as u64;
                execution.level = execution.levels.len();
                self.finish_execution(now, id);
                return;
            }
            let n = execution.targets.len() as u32;
            execution.tasks = execution.levels[execution.level]
                .iter()
                .map(|&task| {
                    let task_def = &def.tasks[task as usize];
                    TaskRun {
                        task,
                        max_concurrency: task_def.max_concurrency.resolve(n).max(1),
                        max_errors: task_def.max_errors.resolve(n),
                        ..TaskRun::default()
                    }
                })
                .collect();
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
        self.executions[id as usize].tasks.iter().all(|t| t.done)
    }

    fn close_level(&mut self, id: u32) {
        let execution = &mut self.executions[id as usize];
        for task in &execution.tasks {
            execution.succeeded += task.succeeded as u64;
            execution.failed += task.failed as u64;
            execution.not_started += (execution.targets.len() - task.next) as u64;
            if task.failed > 0 {
                execution.status = execution.status.max(ExecutionStatus::Failed);
            }
        }
        execution.tasks.clear();
        execution.level += 1;
    }

    /// Starts invocations of task `slot` while its rate control allows.
    fn dispatch(&mut self, now: SimTime, id: u32, slot: usize, scheduler: &mut Scheduler<Event>) {
        loop {
            let execution = &mut self.executions[id as usize];
            let task = &mut execution.tasks[slot];
            if task.done {
                return;
            }
            let exhausted = task.next >= execution.targets.len() || task.stopped;
            if exhausted {
                if task.running == 0 {
                    task.done = true;
                }
                return;
            }
            if task.running >= task.max_concurrency {
                return;
            }
            let instance = execution.targets[task.next];
            task.next += 1;
            let task_index = task.task;
            let task_def = &self.scenario.windows[execution.window as usize].tasks[task_index as usize];
            let (operation, reboot_option) = (task_def.operation, task_def.reboot_option);
            let install_override = task_def.install_override_list.clone();
            if self.world.instances.busy[instance as usize] {
                // Another operation holds the instance: this invocation fails at once.
                let task = &mut self.executions[id as usize].tasks[slot];
                task.failed += 1;
                task.errors += 1;
                if task.errors > task.max_errors {
                    task.stopped = true;
                }
                continue;
            }
            let plan = self.plan_operation(instance, operation, reboot_option, &install_override, now);
            let end = plan.end;
            self.world.instances.busy[instance as usize] = true;
            self.inflight[instance as usize] = Some(Box::new(plan));
            self.executions[id as usize].tasks[slot].running += 1;
            scheduler.schedule(end, Event::InvocationDone { execution: id, task: task_index, instance });
        }
    }

    pub(crate) fn invocation_done(
        &mut self,
        now: SimTime,
        id: u32,
        task_index: u16,
        instance: u32,
        scheduler: &mut Scheduler<Event>,
    ) {
        let plan = self.inflight[instance as usize].take().expect("an invocation in flight has a plan");
        self.world.instances.busy[instance as usize] = false;
        let succeeded = plan.succeeded;
        self.apply_operation(instance, *plan, now);
        let execution = &mut self.executions[id as usize];
        let slot = execution.tasks.iter().position(|t| t.task == task_index).expect("the task is in the running level");
        let task = &mut execution.tasks[slot];
        task.running -= 1;
        if succeeded {
            task.succeeded += 1;
        } else {
            task.failed += 1;
            task.errors += 1;
            if task.errors > task.max_errors {
                task.stopped = true;
            }
        }
        self.dispatch(now, id, slot, scheduler);
        if self.level_done(id) {
            self.close_level(id);
            self.start_level(now, id, scheduler);
        }
    }

    fn finish_execution(&mut self, now: SimTime, id: u32) {
        let execution = &mut self.executions[id as usize];
        if execution.finished {
            return;
        }
        execution.finished = true;
        let def = &self.scenario.windows[execution.window as usize];
        self.running_execution[execution.window as usize] = None;
        let tasks = def.tasks.len() as u64;
        self.window_records.push(ExecutionRecord {
            window: def.name.clone(),
            execution: id,
            scheduled_start: execution.scheduled.to_rfc3339(),
            start: execution.start.to_rfc3339(),
            end: now.to_rfc3339(),
            status: execution.status.as_str(),
            targets: execution.targets.len() as u64 * tasks,
            succeeded: execution.succeeded,
            failed: execution.failed,
            timed_out: 0,
            undeliverable: 0,
            cancelled: 0,
            not_started: execution.not_started,
            hours: round_hours(now.since(execution.start).as_hours_f64()),
        });
        execution.targets = Vec::new();
    }

    /// Records executions still running when the run stopped, as IN_PROGRESS with no end.
    pub fn close_open_executions(&mut self, at: SimTime) {
        for window in 0..self.running_execution.len() {
            let Some(id) = self.running_execution[window] else { continue };
            let execution = &self.executions[id as usize];
            let def = &self.scenario.windows[execution.window as usize];
            let running: Vec<&TaskRun> = execution.tasks.iter().collect();
            let succeeded = execution.succeeded + running.iter().map(|t| t.succeeded as u64).sum::<u64>();
            let failed = execution.failed + running.iter().map(|t| t.failed as u64).sum::<u64>();
            let tasks = def.tasks.len() as u64;
            let targets = execution.targets.len() as u64 * tasks;
            self.window_records.push(ExecutionRecord {
                window: def.name.clone(),
                execution: id,
                scheduled_start: execution.scheduled.to_rfc3339(),
                start: execution.start.to_rfc3339(),
                end: String::new(),
                status: "IN_PROGRESS",
                targets,
                succeeded,
                failed,
                timed_out: 0,
                undeliverable: 0,
                cancelled: 0,
                not_started: targets.saturating_sub(succeeded + failed),
                hours: round_hours(at.since(execution.start).as_hours_f64()),
            });
            self.running_execution[window] = None;
        }
        self.window_records.sort_by_key(|r| r.execution);
    }
}
