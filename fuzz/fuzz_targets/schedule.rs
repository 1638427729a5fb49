//! Arbitrary text as a schedule expression: parsing never panics, and the fire instants of
//! a schedule that parses increase strictly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use patchfleet::schedule::{ScheduleExpr, WindowSchedule};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(expr) = ScheduleExpr::parse(text) else { return };
    let Ok(schedule) = WindowSchedule::new(expr, "Europe/Berlin", None, None, None, 1_767_571_200) else { return };
    let mut last = 1_767_571_200;
    for _ in 0..16 {
        let Some(next) = schedule.next_after(last) else { break };
        assert!(next > last, "{text}: {next} after {last}");
        last = next;
    }
});
