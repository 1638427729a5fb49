//! Run Command delivery and the downloads of an invocation: waiting for an agent that
//! cannot be reached until its delivery deadline, running the operation once delivered
//! (against its execution's snapshot), the repository's completions, and link cuts that
//! fail the downloads across them. The executions that own the invocations are in
//! `windows.rs`.

use super::agent::Request;
use super::{Event, Sim};
use crate::compliance::{Operation, RebootOption};
use crate::engine::Scheduler;
use crate::time::SimTime;
use crate::window::status::Cause;

impl Sim<'_> {
    /// Delivers the command if the agent can be reached (and has not crashed); otherwise it
    /// waits until the agent is back or the deadline passes, whichever is first, and ends it
    /// Delivery Timed Out at the deadline.
    pub(super) fn try_deliver(
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
        let deadline = self.inflight.get(instance).map_or(now, |i| i.deadline);
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
        let network_down = !self.group_reachable(self.world.instances.group[instance as usize] as usize, now);
        let cause = if network_down { Cause::AgentUnreachable } else { Cause::AgentDown };
        let dispatched = self.inflight.get(instance).map(|i| i.dispatched);
        self.release_instance(now, instance, scheduler);
        let Some(slot) = self.slot_of(id, task_number) else { return };
        self.executions.all[id as usize].tasks[slot].running -= 1;
        self.end_target(now, id, slot, instance, dispatched, cause);
        self.after_invocation(now, id, slot, scheduler);
    }

    /// Plans the operation of the invocation occupying `instance` against its execution's
    /// snapshot. The snapshot is lent out of its execution for the call (planning reads no
    /// execution's snapshot), so no reference count is touched per invocation.
    pub(super) fn plan_delivered(
        &mut self,
        instance: u32,
        operation: Operation,
        reboot_option: RebootOption,
        install_override: &[String],
        repository_reachable: bool,
        now: SimTime,
    ) -> super::PendingOperation {
        let execution = self.inflight.get(instance).expect("an invocation is in flight").execution as usize;
        let snapshot = self.executions.all[execution].snapshot.take();
        let snapshot = snapshot.expect("a started execution holds its snapshot");
        let request = Request { operation, reboot_option, install_override, repository_reachable, snapshot: &snapshot };
        let plan = self.plan_operation(instance, &request, now);
        self.executions.all[execution].snapshot = Some(snapshot);
        plan
    }

    /// Runs the operation of the invocation occupying `instance` (it was just delivered).
    pub(super) fn deliver(
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
        let mut plan = self.plan_delivered(instance, operation, reboot_option, install_override, reachable, now);
        let patches = std::mem::take(&mut plan.downloads);
        let end = plan.end;
        let download_mb = plan.download_mb;
        let client_mbps = self.scenario.agent.download_mbps;
        let invocation = self.inflight.get_mut(instance).expect("a delivered invocation is in flight");
        invocation.plan = Some(plan);
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
    pub(super) fn schedule_repository(&mut self, r: usize, scheduler: &mut Scheduler<Event>) {
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
            let Some(invocation) = self.inflight.get_mut(instance) else { continue };
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
                    && self.inflight.get(i).is_some_and(|inv| inv.download.is_some_and(|(repo, _)| repo == r))
            })
            .collect();
        for instance in affected {
            let invocation = self.inflight.get_mut(instance).expect("filtered above");
            let (_, download) = invocation.download.take().expect("filtered above");
            self.repositories[r].cancel(now, download);
            let (execution, task) = (invocation.execution, invocation.task);
            let owner = self.executions.all[execution as usize].owner;
            let params = self.task_params(owner, task);
            let (operation, reboot_option) = (params.operation, params.reboot_option);
            let failed = self.plan_delivered(instance, operation, reboot_option, params.install_override, false, now);
            let end = failed.end;
            let invocation = self.inflight.get_mut(instance).expect("still in flight");
            invocation.plan = Some(failed);
            let event = Event::InvocationDone { execution, task, instance, generation: invocation.generation };
            scheduler.schedule(end, event);
        }
        self.schedule_repository(r, scheduler);
    }

    /// The invocation on `instance`, if it is the one an event was scheduled for.
    pub(super) fn current_invocation(&self, instance: u32, execution: u32, generation: u32) -> bool {
        self.inflight.get(instance).is_some_and(|i| i.execution == execution && i.generation == generation)
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

    pub(super) fn release_instance(&mut self, now: SimTime, instance: u32, scheduler: &mut Scheduler<Event>) {
        if let Some(invocation) = self.inflight.take(instance)
            && let Some((r, download)) = invocation.download
        {
            self.repositories[r].cancel(now, download);
            self.schedule_repository(r, scheduler);
        }
        self.world.instances.busy[instance as usize] = false;
    }
}
