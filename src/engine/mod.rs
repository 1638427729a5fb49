//! The discrete-event engine: a pending-event set ordered by time (ties first-in first-out)
//! and a bounded run loop.
//!
//! Invariant: events at the same instant are handled in the order they were scheduled. The
//! queue (a radix heap, `queue.rs`) keeps equal times in push order by construction, which is
//! the `(time, seq)` order of a heap keyed by a sequence number that only grows.
//!
//! The engine knows nothing about patching. It owns the clock and the queue; the model (see
//! `sim.rs`) implements [`Model`] and receives each event through one `handle` call, where a
//! single `match` dispatches it.

mod prefetch;
mod queue;

pub use prefetch::{prefetch, prefetch_slice};
pub use queue::{PendingSet, RadixQueue};

use crate::time::SimTime;

/// Why a run stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The next event lies beyond the horizon (or at it); the run covered the whole horizon.
    Horizon,
    /// The event limit was reached before the horizon.
    EventLimit,
    /// No events were left before the horizon.
    Exhausted,
    /// The work limit was reached before the horizon: events and the instances they visited
    /// (see [`Scheduler::charge`]).
    WorkLimit,
    /// The model could not go on without exceeding a capacity it cannot hold (the instance
    /// cap of `crate::limits`) and asked the engine to stop ([`Scheduler::stop`]).
    CapacityLimit,
    /// A threshold with `abort_on_fail` could no longer pass.
    ThresholdFailed,
}

impl StopReason {
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::Horizon => "horizon",
            StopReason::EventLimit => "event_limit",
            StopReason::Exhausted => "exhausted",
            StopReason::WorkLimit => "work_limit",
            StopReason::CapacityLimit => "capacity_limit",
            StopReason::ThresholdFailed => "threshold_failed",
        }
    }
}

/// A model driven by the engine.
pub trait Model {
    type Event;
    /// Handles one event at `now`, scheduling further events through `scheduler`.
    fn handle(&mut self, now: SimTime, event: Self::Event, scheduler: &mut Scheduler<Self::Event>);
    /// A hint: `event` is due `ahead` events from now (1 to 3, at the current instant), so
    /// the model may prefetch the state it will touch (see `prefetch`). It must not change
    /// anything a result depends on; the default does nothing.
    fn prefetch(&self, _event: &Self::Event, _ahead: usize) {}
    /// Whether the model wants [`Model::prefetch`] hints at all; asked once per run. A
    /// model whose state fits in cache gains nothing from them and pays their instructions.
    fn wants_prefetch(&self) -> bool {
        false
    }
}

/// The clock and the pending-event set, handed to the model while it handles an event.
pub struct Scheduler<E> {
    queue: RadixQueue<E>,
    now: SimTime,
    scheduled_total: u64,
    /// Work units charged by handlers beyond the one every event costs.
    charged: u64,
    stop: Option<StopReason>,
}

impl<E> Scheduler<E> {
    pub fn new(start: SimTime) -> Scheduler<E> {
        Scheduler { queue: RadixQueue::default(), now: start, scheduled_total: 0, charged: 0, stop: None }
    }

    /// Schedules `event` at `at`. An instant in the past is moved to now: the engine never
    /// runs backwards.
    pub fn schedule(&mut self, at: SimTime, event: E) {
        let at = at.max(self.now);
        self.scheduled_total += 1;
        self.queue.push(at, event);
    }

    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Number of events waiting.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    /// Total events ever scheduled.
    pub fn scheduled_total(&self) -> u64 {
        self.scheduled_total
    }

    /// Charges `units` of work to the run beyond the one unit every event costs: a handler
    /// that visits many instances (a cohort scan, a sample, a target resolution) charges one
    /// per instance, so that [`RunLimits::max_work`] bounds a run's time however its events
    /// are written.
    pub fn charge(&mut self, units: u64) {
        self.charged = self.charged.saturating_add(units);
    }

    /// Work charged so far by handlers (not counting the events themselves).
    pub fn charged(&self) -> u64 {
        self.charged
    }

    /// Asks the engine to stop once the current event is handled, for `reason`. The first
    /// request wins.
    pub fn stop(&mut self, reason: StopReason) {
        self.stop.get_or_insert(reason);
    }

    /// Whether a stop was requested.
    pub fn stopping(&self) -> bool {
        self.stop.is_some()
    }
}

/// Limits of one run.
#[derive(Clone, Copy, Debug)]
pub struct RunLimits {
    /// Events at or after this instant are not handled.
    pub horizon: SimTime,
    /// At most this many events are handled.
    pub max_events: u64,
    /// At most this much work: events plus the units handlers charged.
    pub max_work: u64,
}

/// What a run did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunOutcome {
    pub stop_reason: StopReason,
    pub events_processed: u64,
    /// Work done: events handled plus the units their handlers charged.
    pub work: u64,
    /// The clock when the run stopped: the horizon when it ran to the end.
    pub stopped_at: SimTime,
}

/// Runs `model` until the horizon, the event or work limit, a stop the model asked for, or
/// an empty queue.
///
/// `observe` is called every `observe_every` events with the current time and the number of
/// events handled so far; the CLI uses it for its progress bar. It cannot touch the model.
pub fn run<M: Model>(
    model: &mut M,
    scheduler: &mut Scheduler<M::Event>,
    limits: RunLimits,
    observe_every: u64,
    mut observe: impl FnMut(SimTime, u64),
) -> RunOutcome {
    let mut events_processed: u64 = 0;
    let observe_every = observe_every.max(1);
    let hints = model.wants_prefetch();
    let outcome = |stop_reason, events_processed: u64, scheduler: &Scheduler<M::Event>, stopped_at| RunOutcome {
        stop_reason,
        events_processed,
        work: events_processed.saturating_add(scheduler.charged),
        stopped_at,
    };
    loop {
        if let Some(reason) = scheduler.stop {
            return outcome(reason, events_processed, scheduler, scheduler.now);
        }
        let Some(next_time) = scheduler.queue.peek_time() else {
            return outcome(StopReason::Exhausted, events_processed, scheduler, scheduler.now);
        };
        if next_time >= limits.horizon {
            scheduler.now = limits.horizon;
            return outcome(StopReason::Horizon, events_processed, scheduler, limits.horizon);
        }
        if events_processed >= limits.max_events {
            return outcome(StopReason::EventLimit, events_processed, scheduler, scheduler.now);
        }
        if events_processed.saturating_add(scheduler.charged) >= limits.max_work {
            return outcome(StopReason::WorkLimit, events_processed, scheduler, scheduler.now);
        }
        let (time, event) = scheduler.queue.pop().expect("peeked entry exists");
        debug_assert!(time >= scheduler.now, "the clock never runs backwards");
        scheduler.now = time;
        if hints {
            for ahead in [3, 2, 1] {
                if let Some(upcoming) = scheduler.queue.upcoming(ahead - 1) {
                    model.prefetch(upcoming, ahead);
                }
            }
        }
        model.handle(time, event, scheduler);
        events_processed += 1;
        if events_processed.is_multiple_of(observe_every) {
            observe(scheduler.now, events_processed);
        }
    }
}

#[cfg(test)]
mod tests;
