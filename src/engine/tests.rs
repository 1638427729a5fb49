use super::*;
use crate::time::{SimDuration, SimTime};

/// Records the order events arrive in; event `n` may ask for follow-ups.
struct Recorder {
    seen: Vec<(i64, u32)>,
    follow_up: Option<(u32, SimDuration, u32)>,
}

impl Model for Recorder {
    type Event = u32;
    fn handle(&mut self, now: SimTime, event: u32, scheduler: &mut Scheduler<u32>) {
        self.seen.push((now.0, event));
        if let Some((trigger, delay, next)) = self.follow_up
            && trigger == event
        {
            scheduler.schedule(now + delay, next);
        }
    }
}

fn limits(horizon: i64, max_events: u64) -> RunLimits {
    RunLimits { horizon: SimTime(horizon), max_events, max_work: u64::MAX }
}

#[test]
fn same_instant_events_run_in_the_order_they_were_scheduled() {
    let mut scheduler = Scheduler::new(SimTime(0));
    // Scheduled out of time order, with ties at t=10 in the order 3, 1, 2.
    scheduler.schedule(SimTime(20), 9);
    scheduler.schedule(SimTime(10), 3);
    scheduler.schedule(SimTime(10), 1);
    scheduler.schedule(SimTime(5), 7);
    scheduler.schedule(SimTime(10), 2);
    let mut model = Recorder { seen: vec![], follow_up: None };
    let outcome = run(&mut model, &mut scheduler, limits(100, 100), 1, |_, _| {});
    assert_eq!(model.seen, vec![(5, 7), (10, 3), (10, 1), (10, 2), (20, 9)]);
    assert_eq!(outcome.stop_reason, StopReason::Exhausted);
    assert_eq!(outcome.events_processed, 5);
}

#[test]
fn an_event_scheduled_for_now_runs_after_those_already_waiting_at_now() {
    let mut scheduler = Scheduler::new(SimTime(0));
    scheduler.schedule(SimTime(10), 1);
    scheduler.schedule(SimTime(10), 2);
    // Handling 1 schedules 3 at the same instant: it must come after 2.
    let mut model = Recorder { seen: vec![], follow_up: Some((1, SimDuration(0), 3)) };
    run(&mut model, &mut scheduler, limits(100, 100), 1, |_, _| {});
    assert_eq!(model.seen, vec![(10, 1), (10, 2), (10, 3)]);
}

#[test]
fn the_horizon_stops_the_run_and_excludes_events_at_the_horizon() {
    let mut scheduler = Scheduler::new(SimTime(0));
    scheduler.schedule(SimTime(99), 1);
    scheduler.schedule(SimTime(100), 2);
    scheduler.schedule(SimTime(150), 3);
    let mut model = Recorder { seen: vec![], follow_up: None };
    let outcome = run(&mut model, &mut scheduler, limits(100, 100), 1, |_, _| {});
    assert_eq!(model.seen, vec![(99, 1)]);
    assert_eq!(outcome.stop_reason, StopReason::Horizon);
    assert_eq!(outcome.stopped_at, SimTime(100));
    assert_eq!(scheduler.pending(), 2);
}

#[test]
fn the_event_limit_stops_a_self_perpetuating_model() {
    let mut scheduler = Scheduler::new(SimTime(0));
    scheduler.schedule(SimTime(1), 1);
    // Event 1 reschedules itself every second forever.
    let mut model = Recorder { seen: vec![], follow_up: Some((1, SimDuration(1), 1)) };
    let outcome = run(&mut model, &mut scheduler, limits(1_000_000, 50), 1, |_, _| {});
    assert_eq!(outcome.stop_reason, StopReason::EventLimit);
    assert_eq!(outcome.events_processed, 50);
    assert_eq!(model.seen.len(), 50);
    assert_eq!(outcome.stopped_at, SimTime(50));
}

#[test]
fn scheduling_in_the_past_is_clamped_to_now() {
    let mut scheduler = Scheduler::new(SimTime(0));
    scheduler.schedule(SimTime(10), 1);
    let mut model = Recorder { seen: vec![], follow_up: Some((1, SimDuration(-5), 2)) };
    run(&mut model, &mut scheduler, limits(100, 100), 1, |_, _| {});
    assert_eq!(model.seen, vec![(10, 1), (10, 2)]);
}

#[test]
fn the_observer_sees_progress_at_the_requested_cadence() {
    let mut scheduler = Scheduler::new(SimTime(0));
    for t in 0..10 {
        scheduler.schedule(SimTime(t), t as u32);
    }
    let mut model = Recorder { seen: vec![], follow_up: None };
    let mut calls = vec![];
    run(&mut model, &mut scheduler, limits(100, 100), 4, |now, n| calls.push((now.0, n)));
    assert_eq!(calls, vec![(3, 4), (7, 8)]);
}

/// Each event charges as many work units as its number; event 5 asks the engine to stop.
struct Charger {
    seen: Vec<u32>,
}

impl Model for Charger {
    type Event = u32;
    fn handle(&mut self, _now: SimTime, event: u32, scheduler: &mut Scheduler<u32>) {
        self.seen.push(event);
        scheduler.charge(event as u64);
        if event == 5 {
            scheduler.stop(StopReason::CapacityLimit);
        }
    }
}

#[test]
fn charged_work_stops_a_run_whose_events_are_few_but_heavy() {
    let mut scheduler = Scheduler::new(SimTime(0));
    for (t, event) in [100, 200, 300].into_iter().enumerate() {
        scheduler.schedule(SimTime(t as i64), event);
    }
    let mut model = Charger { seen: vec![] };
    let limits = RunLimits { horizon: SimTime(100), max_events: 1_000, max_work: 250 };
    let outcome = run(&mut model, &mut scheduler, limits, 1, |_, _| {});
    // 1 + 100 after the first event, 2 + 300 after the second: over 250, so the third waits.
    assert_eq!(model.seen, vec![100, 200]);
    assert_eq!(outcome.stop_reason, StopReason::WorkLimit);
    assert_eq!(outcome.work, 302);
    assert_eq!(outcome.events_processed, 2);
}

#[test]
fn a_model_may_stop_the_run_after_the_current_event() {
    let mut scheduler = Scheduler::new(SimTime(0));
    for (t, event) in [1, 5, 2].into_iter().enumerate() {
        scheduler.schedule(SimTime(t as i64), event);
    }
    let mut model = Charger { seen: vec![] };
    let outcome = run(&mut model, &mut scheduler, limits(100, 100), 1, |_, _| {});
    assert_eq!(model.seen, vec![1, 5]);
    assert_eq!(outcome.stop_reason, StopReason::CapacityLimit);
    assert_eq!(outcome.stopped_at, SimTime(1));
    assert_eq!(outcome.work, 2 + 6);
}
