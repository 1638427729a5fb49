//! Tests for the repository model. Expected values are worked out by hand in the comments.

use std::collections::{BTreeMap, BTreeSet};

use super::*;
use crate::time::SimDuration;

const T0: SimTime = SimTime(1_700_000_000);

fn at(secs: i64) -> SimTime {
    T0 + SimDuration(secs)
}

fn ids(done: &[Completed]) -> Vec<DownloadId> {
    done.iter().map(|c| c.id).collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs()))
}

#[test]
fn one_download_alone() {
    // 80 MB = 640 Mb at min(100, 1000) = 100 Mbps -> 6.4 s -> reported at ceil = t0 + 7.
    let mut r = Repository::new(100.0, 10);
    let id = r.request(T0, 80.0, 1000.0, 7);
    assert_eq!(id, DownloadId(0));
    assert_eq!(r.active(), 1);
    assert_eq!(r.throughput_mbps(), 100.0);
    assert_eq!(r.next_completion(), Some(at(7)));
    // At t0 + 6, 600 Mb are done and 40 remain: nothing finishes.
    assert!(r.advance(at(6)).is_empty());
    assert!(close(r.delivered_megabits(), 600.0));
    assert!(close(r.progress_megabits(id).unwrap(), 600.0));
    assert_eq!(r.next_completion(), Some(at(7)));
    let done = r.advance(at(7));
    assert_eq!(done, vec![Completed { id, tag: 7, requested_at: T0, started_at: T0, finished_at: at(7) }]);
    assert!(close(r.delivered_megabits(), 640.0));
    assert_eq!(r.next_completion(), None);
    assert_eq!(r.active(), 0);
    assert_eq!(r.throughput_mbps(), 0.0);
    assert_eq!(r.progress_megabits(id), None);
}

#[test]
fn two_equal_downloads_share() {
    // 2 x 50 MB = 2 x 400 Mb on 100 Mbps -> 50 Mbps each -> 8 s each, exactly.
    let mut r = Repository::new(100.0, 10);
    let a = r.request(T0, 50.0, 1000.0, 1);
    let b = r.request(T0, 50.0, 1000.0, 2);
    assert_eq!(r.rate_mbps(a), Some(50.0));
    assert_eq!(r.rate_mbps(b), Some(50.0));
    assert_eq!(r.next_completion(), Some(at(8)));
    assert!(r.advance(at(7)).is_empty());
    let done = r.advance(at(8));
    assert_eq!(ids(&done), vec![a, b]);
    assert!(done.iter().all(|c| c.finished_at == at(8)));
    assert!(close(r.delivered_megabits(), 800.0));
}

#[test]
fn late_arrival_slows_the_first() {
    // 100 MB = 800 Mb at t0 alone at 100 Mbps: 400 Mb done by t0 + 4.
    // Second 800 Mb arrives at t0 + 4: 50 Mbps each. First needs 400 Mb more -> 8 s -> t0 + 12.
    // Second then has 400 Mb done, 400 left, alone at 100 Mbps -> 4 s -> t0 + 16.
    let mut r = Repository::new(100.0, 10);
    let a = r.request(T0, 100.0, 1000.0, 1);
    assert_eq!(r.next_completion(), Some(at(8)));
    assert!(r.advance(at(4)).is_empty());
    let b = r.request(at(4), 100.0, 1000.0, 2);
    assert_eq!(r.rate_mbps(a), Some(50.0));
    assert_eq!(r.next_completion(), Some(at(12)));
    let done = r.advance(at(12));
    assert_eq!(ids(&done), vec![a]);
    assert_eq!(done[0].finished_at, at(12));
    assert!(close(r.progress_megabits(b).unwrap(), 400.0));
    assert_eq!(r.rate_mbps(b), Some(100.0));
    assert_eq!(r.next_completion(), Some(at(16)));
    let done = r.advance(at(16));
    assert_eq!(ids(&done), vec![b]);
    assert_eq!(done[0].started_at, at(4));
    assert_eq!(done[0].finished_at, at(16));
    assert!(close(r.delivered_megabits(), 1600.0));
}

#[test]
fn client_limit_below_fair_share() {
    // Clients 10 and 1000 on 100: fair share 50 > 10, so 10 gets 10 and the other 90.
    let mut r = Repository::new(100.0, 10);
    let slow = r.request(T0, 100.0, 10.0, 1);
    let fast = r.request(T0, 100.0, 1000.0, 2);
    assert_eq!(r.rate_mbps(slow), Some(10.0));
    assert_eq!(r.rate_mbps(fast), Some(90.0));
    assert_eq!(r.throughput_mbps(), 100.0);
    // fast: 800 Mb / 90 = 8.89 s -> t0 + 9. Then slow has 88.9 Mb done and stays at 10 Mbps
    // (its own limit): 800 Mb total / 10 = 80 s -> t0 + 80.
    assert_eq!(r.next_completion(), Some(at(9)));
    assert_eq!(ids(&r.advance(at(9))), vec![fast]);
    assert_eq!(r.rate_mbps(slow), Some(10.0));
    assert_eq!(r.next_completion(), Some(at(80)));
}

#[test]
fn water_filling_three_levels() {
    // Clients 10, 30, 1000 on 100: share 33.3 > 10 -> 10; left 90 over 2 = 45 > 30 -> 30;
    // left 60 for the last, below its 1000 -> 60.
    let mut r = Repository::new(100.0, 10);
    let a = r.request(T0, 10.0, 1000.0, 0);
    let b = r.request(T0, 10.0, 30.0, 0);
    let c = r.request(T0, 10.0, 10.0, 0);
    assert_eq!(r.rate_mbps(c), Some(10.0));
    assert_eq!(r.rate_mbps(b), Some(30.0));
    assert_eq!(r.rate_mbps(a), Some(60.0));
    assert_eq!(r.throughput_mbps(), 100.0);
    // All clients below the share: 10 + 20 = 30 of 100 in use.
    let mut r = Repository::new(100.0, 10);
    let a = r.request(T0, 10.0, 10.0, 0);
    let b = r.request(T0, 10.0, 20.0, 0);
    assert_eq!(r.rate_mbps(a), Some(10.0));
    assert_eq!(r.rate_mbps(b), Some(20.0));
    assert_eq!(r.throughput_mbps(), 30.0);
    // An unlimited client gets the whole share.
    let mut r = Repository::new(100.0, 10);
    let a = r.request(T0, 10.0, f64::INFINITY, 0);
    assert_eq!(r.rate_mbps(a), Some(100.0));
}

#[test]
fn connection_cap_queues_in_fifo_order() {
    // C = 1, B = 100. A: 100 MB = 800 Mb at t0 -> 8 s -> t0 + 8.
    // B: 50 MB = 400 Mb requested at t0 + 1, starts at t0 + 8, 4 s -> t0 + 12.
    // C: 10 MB = 80 Mb requested at t0 + 2, starts at t0 + 12, 0.8 s -> ceil t0 + 13.
    let mut r = Repository::new(100.0, 1);
    let a = r.request(T0, 100.0, 1000.0, 1);
    let b = r.request(at(1), 50.0, 1000.0, 2);
    let c = r.request(at(2), 10.0, 1000.0, 3);
    assert_eq!((r.active(), r.queued()), (1, 2));
    assert_eq!(r.rate_mbps(b), Some(0.0));
    assert_eq!(r.progress_megabits(c), Some(0.0));
    assert_eq!(r.next_completion(), Some(at(8)));
    let done = r.advance(at(8));
    assert_eq!(ids(&done), vec![a]);
    assert_eq!((r.active(), r.queued()), (1, 1));
    assert_eq!(r.rate_mbps(b), Some(100.0));
    assert_eq!(r.next_completion(), Some(at(12)));
    let done = r.advance(at(12));
    assert_eq!(ids(&done), vec![b]);
    assert_eq!(done[0].requested_at, at(1));
    assert_eq!(done[0].started_at, at(8));
    assert_eq!(done[0].finished_at, at(12));
    // Latency from the request: 11 s, of which 7 s queued.
    assert_eq!(done[0].finished_at.0 - done[0].requested_at.0, 11);
    let done = r.advance(at(13));
    assert_eq!(ids(&done), vec![c]);
    assert_eq!(done[0].started_at, at(12));
    assert_eq!(done[0].finished_at, at(13));
    assert_eq!(r.next_completion(), None);
}

#[test]
fn queued_download_starts_at_the_exact_fluid_instant() {
    // C = 1, two 80 MB = 640 Mb at t0 on 100 Mbps. A finishes at 6.4 (reported t0 + 7); B
    // starts at 6.4 (reported t0 + 7, the ceiling) and finishes at 12.8 -> t0 + 13, not 14.
    let mut r = Repository::new(100.0, 1);
    let a = r.request(T0, 80.0, 1000.0, 1);
    let b = r.request(T0, 80.0, 1000.0, 2);
    let done = r.advance(at(7));
    assert_eq!(ids(&done), vec![a]);
    // B ran 0.6 s at 100 Mbps by t0 + 7.
    assert!((r.progress_megabits(b).unwrap() - 60.0).abs() < 1e-6);
    assert_eq!(r.next_completion(), Some(at(13)));
    let done = r.advance(at(13));
    assert_eq!(done[0].started_at, at(7));
    assert_eq!(done[0].finished_at, at(13));
}

#[test]
fn one_advance_processes_every_internal_event_in_order() {
    // C = 1, three 80 MB downloads at t0: exact finishes 6.4, 12.8, 19.2 -> 7, 13, 20;
    // starts 0, 6.4, 12.8 -> t0, 7, 13.
    let mut r = Repository::new(100.0, 1);
    for tag in 0..3 {
        r.request(T0, 80.0, 1000.0, tag);
    }
    let v = r.version();
    let done = r.advance(at(100));
    assert_eq!(r.version(), v + 3);
    let starts: Vec<_> = done.iter().map(|c| c.started_at).collect();
    let ends: Vec<_> = done.iter().map(|c| c.finished_at).collect();
    assert_eq!(ids(&done), vec![DownloadId(0), DownloadId(1), DownloadId(2)]);
    assert_eq!(starts, vec![T0, at(7), at(13)]);
    assert_eq!(ends, vec![at(7), at(13), at(20)]);
    assert!(close(r.delivered_megabits(), 1920.0));
    assert_eq!((r.active(), r.queued()), (0, 0));
}

#[test]
fn cancel_active_speeds_up_the_rest() {
    // Two 100 MB = 800 Mb on 100 Mbps: 50 each; at t0 + 2 each has 100 Mb. Cancel A: B alone at
    // 100 Mbps with 700 Mb left -> 7 s -> t0 + 9. A's 100 Mb stay delivered.
    let mut r = Repository::new(100.0, 10);
    let a = r.request(T0, 100.0, 1000.0, 1);
    let b = r.request(T0, 100.0, 1000.0, 2);
    assert!(r.advance(at(2)).is_empty());
    let v = r.version();
    r.cancel(at(2), a);
    assert_eq!(r.version(), v + 1);
    assert_eq!(r.active(), 1);
    assert_eq!(r.rate_mbps(a), None);
    assert_eq!(r.rate_mbps(b), Some(100.0));
    assert_eq!(r.next_completion(), Some(at(9)));
    let done = r.advance(at(9));
    assert_eq!(ids(&done), vec![b]);
    assert!(close(r.delivered_megabits(), 100.0 + 800.0));
}

#[test]
fn cancel_queued_removes_it_and_active_cancel_promotes() {
    // C = 1: A active, B and C queued. Cancelling B leaves C first in line.
    let mut r = Repository::new(100.0, 1);
    let a = r.request(T0, 100.0, 1000.0, 1);
    let b = r.request(T0, 100.0, 1000.0, 2);
    let c = r.request(T0, 100.0, 1000.0, 3);
    let v = r.version();
    r.cancel(at(1), b);
    assert_eq!(r.version(), v + 1);
    assert_eq!((r.active(), r.queued()), (1, 1));
    assert_eq!(r.rate_mbps(b), None);
    // Cancelling the active A at t0 + 2 starts C immediately, at t0 + 2.
    r.cancel(at(2), a);
    assert_eq!((r.active(), r.queued()), (1, 0));
    assert_eq!(r.rate_mbps(c), Some(100.0));
    // C: 800 Mb at 100 from t0 + 2 -> t0 + 10.
    assert_eq!(r.next_completion(), Some(at(10)));
    let done = r.advance(at(10));
    assert_eq!(ids(&done), vec![c]);
    assert_eq!(done[0].started_at, at(2));
    // Delivered: A ran 2 s at 100 = 200 Mb, plus C's 800.
    assert!(close(r.delivered_megabits(), 1000.0));
}

#[test]
fn cancel_unknown_or_finished_is_a_no_op() {
    let mut r = Repository::new(100.0, 10);
    let a = r.request(T0, 80.0, 1000.0, 1);
    let v = r.version();
    r.cancel(at(1), DownloadId(999));
    assert_eq!(r.version(), v);
    assert_eq!(r.active(), 1);
    // `a` finishes at 6.4 -> 7. Cancelling it at t0 + 10 without advancing first: the model
    // runs to t0 + 10, finds the completion (version + 1), and the cancel itself does nothing.
    r.cancel(at(10), a);
    assert_eq!(r.version(), v + 1);
    let done = r.advance(at(10));
    assert_eq!(ids(&done), vec![a]);
    assert_eq!(done[0].finished_at, at(7));
    let v = r.version();
    r.cancel(at(11), a);
    assert_eq!(r.version(), v);
}

#[test]
fn version_increases_on_request_cancel_and_each_completion() {
    let mut r = Repository::new(100.0, 10);
    assert_eq!(r.version(), 0);
    let a = r.request(T0, 50.0, 1000.0, 1);
    assert_eq!(r.version(), 1);
    let _b = r.request(T0, 50.0, 1000.0, 2);
    assert_eq!(r.version(), 2);
    let c = r.request(T0, 50.0, 1000.0, 3);
    assert_eq!(r.version(), 3);
    // Advancing without any event changes nothing.
    assert!(r.advance(at(1)).is_empty());
    assert_eq!(r.version(), 3);
    r.cancel(at(1), c);
    assert_eq!(r.version(), 4);
    // a and b: 400 Mb each; 3 x 33.3 Mb/s for 1 s -> 33.3 done each, then 50 each for the
    // remaining 366.7 Mb -> 7.33 s -> exact 8.33 -> t0 + 9. Two completions: +2.
    assert_eq!(r.next_completion(), Some(at(9)));
    let done = r.advance(at(9));
    assert_eq!(done.len(), 2);
    assert_eq!(done[0].id, a);
    assert_eq!(r.version(), 6);
}

#[test]
fn zero_size_download_completes_at_once() {
    let mut r = Repository::new(100.0, 1);
    let busy = r.request(T0, 100.0, 1000.0, 1);
    // Takes no connection even though the only one is busy.
    let z = r.request(at(3), 0.0, 1000.0, 9);
    assert_eq!(r.version(), 3); // two requests + one completion
    assert_eq!((r.active(), r.queued()), (1, 0));
    assert_eq!(r.next_completion(), Some(at(3)));
    let done = r.advance(at(3));
    assert_eq!(done, vec![Completed { id: z, tag: 9, requested_at: at(3), started_at: at(3), finished_at: at(3) }]);
    assert_eq!(r.next_completion(), Some(at(8)));
    assert_eq!(ids(&r.advance(at(8))), vec![busy]);
}

#[test]
fn completions_found_by_request_are_kept_for_advance() {
    // A (80 MB) finishes at 6.4 -> t0 + 7. The caller then requests B at t0 + 20 without
    // advancing first: A's completion is kept and next_completion points at "now".
    let mut r = Repository::new(100.0, 10);
    let a = r.request(T0, 80.0, 1000.0, 1);
    let b = r.request(at(20), 80.0, 1000.0, 2);
    assert_eq!(r.next_completion(), Some(at(20)));
    let done = r.advance(at(20));
    assert_eq!(ids(&done), vec![a]);
    assert_eq!(done[0].finished_at, at(7));
    // B alone from t0 + 20: 6.4 s -> t0 + 27.
    assert_eq!(r.next_completion(), Some(at(27)));
    assert_eq!(ids(&r.advance(at(27))), vec![b]);
}

#[test]
fn completions_sorted_by_finish_then_id() {
    // B = 100, clients 1000. Small (10 MB = 80 Mb) requested after big (100 MB = 800 Mb):
    // 50 each -> small finishes 1.6 -> t0 + 2; big then alone: 800 - 80 = 720 left at 100 ->
    // 7.2 s more -> 8.8 -> t0 + 9. Order by finish time: small (id 1) before big (id 0).
    let mut r = Repository::new(100.0, 10);
    let big = r.request(T0, 100.0, 1000.0, 0);
    let small = r.request(T0, 10.0, 1000.0, 1);
    let done = r.advance(at(30));
    assert_eq!(ids(&done), vec![small, big]);
    assert_eq!(done[0].finished_at, at(2));
    assert_eq!(done[1].finished_at, at(9));
}

#[test]
fn unix_epoch_scale_times_keep_precision() {
    // A 1 Mb download at 10 Gb/s takes 0.1 ms; the fluid clock is relative to the last whole
    // second, so it is not lost in the 1.7e9 of an absolute f64.
    let mut r = Repository::new(10_000.0, 10);
    let a = r.request(T0, 0.125, f64::INFINITY, 0);
    assert_eq!(r.next_completion(), Some(at(1)));
    let done = r.advance(at(1));
    assert_eq!(ids(&done), vec![a]);
    assert_eq!(done[0].finished_at, at(1));
    assert!(close(r.delivered_megabits(), 1.0));
}

#[test]
fn thousands_of_concurrent_downloads() {
    // 3000 downloads with mixed sizes and client limits, at most 500 at a time, drained by the
    // caller's usual loop (schedule at next_completion, advance there).
    let mut r = Repository::new(1000.0, 500);
    let clients = [5.0, 20.0, 100.0, 1000.0];
    let mut total = 0.0;
    for i in 0..3000u64 {
        let mb = 1.0 + (i % 17) as f64;
        total += mb * 8.0;
        r.request(T0, mb, clients[(i % 4) as usize], i);
    }
    assert_eq!((r.active(), r.queued()), (500, 2500));
    let mut finished = 0;
    let mut last = T0;
    let mut steps = 0;
    while let Some(t) = r.next_completion() {
        let done = r.advance(t);
        assert!(!done.is_empty());
        finished += done.len();
        last = t;
        steps += 1;
        assert!(steps <= 3000);
    }
    assert_eq!(finished, 3000);
    assert!((r.delivered_megabits() - total).abs() < 1e-6 * total);
    // Never faster than the whole bandwidth allows.
    assert!((last.0 - T0.0) as f64 >= total / 1000.0);
}

// ---------------------------------------------------------------------------------------------
// Property test
// ---------------------------------------------------------------------------------------------

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

struct Info {
    megabits: f64,
    client: f64,
    requested_at: SimTime,
    tag: u64,
}

/// The test's own book-keeping of what the repository should contain.
struct Model {
    bandwidth: f64,
    info: BTreeMap<DownloadId, Info>,
    outstanding: BTreeSet<DownloadId>,
    finished: BTreeMap<DownloadId, Completed>,
    finished_megabits: f64,
    cancelled_megabits: f64,
    expected_version: u64,
    trace: Vec<Completed>,
}

impl Model {
    fn collect(&mut self, r: &Repository, now: SimTime, done: Vec<Completed>) {
        for pair in done.windows(2) {
            assert!((pair[0].finished_at, pair[0].id) < (pair[1].finished_at, pair[1].id));
        }
        for c in done {
            let info = &self.info[&c.id];
            assert!(self.outstanding.remove(&c.id), "{:?} reported twice or after cancel", c.id);
            assert_eq!(c.requested_at, info.requested_at);
            assert_eq!(c.tag, info.tag);
            assert!(c.requested_at <= c.started_at);
            assert!(c.started_at <= c.finished_at);
            assert!(c.finished_at <= now);
            // Never earlier than size / min(B, client) allows (less the epsilon residue).
            let fastest = info.megabits / self.bandwidth.min(info.client);
            let slack = EPSILON_MEGABITS / self.bandwidth.min(info.client) + 1e-9;
            let elapsed = (c.finished_at.0 - c.requested_at.0) as f64;
            assert!(elapsed >= fastest - slack, "{c:?} too fast: {elapsed} < {fastest}");
            // started_at is rounded up, so the run itself may look up to 1 s shorter.
            let ran = (c.finished_at.0 - c.started_at.0) as f64;
            assert!(ran >= fastest - 1.0 - slack);
            self.finished_megabits += info.megabits;
            self.expected_version += 1;
            self.finished.insert(c.id, c);
            self.trace.push(c);
        }
        assert_eq!(r.version(), self.expected_version);
        let mut partial = 0.0;
        for id in &self.outstanding {
            let p = r.progress_megabits(*id).unwrap_or_else(|| panic!("{id:?} lost"));
            assert!(p >= 0.0 && p <= self.info[id].megabits + 1e-9);
            partial += p;
        }
        let expected = self.finished_megabits + self.cancelled_megabits + partial;
        let delivered = r.delivered_megabits();
        assert!(
            (delivered - expected).abs() <= 1e-3 + 1e-12 * expected,
            "delivered {delivered} vs expected {expected}"
        );
        assert_eq!(r.active() + r.queued(), self.outstanding.len() as u32);
    }
}

fn check_rates(r: &Repository, model: &Model) {
    r.check_invariants().unwrap();
    assert!(r.active() <= r.max_connections());
    assert!(r.throughput_mbps() <= model.bandwidth * (1.0 + 1e-9));
    // Outstanding downloads may have finished inside a request without being collected yet.
    for id in &model.outstanding {
        if let Some(rate) = r.rate_mbps(*id) {
            assert!(rate <= model.info[id].client * (1.0 + 1e-12));
        }
    }
}

/// Runs one random scenario and returns its trace (for the determinism check).
fn run_random(seed: u64, steps: usize) -> (Vec<Completed>, u64, u64) {
    let mut rng = XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let bandwidth = [10.0, 100.0, 333.3, 1000.0][rng.below(4) as usize];
    let cap = [1, 2, 3, 8, 1000][rng.below(5) as usize];
    let clients = [1.0, 8.0, 50.0, 100.0, 1000.0, f64::INFINITY];
    let mut r = Repository::new(bandwidth, cap);
    let mut m = Model {
        bandwidth,
        info: BTreeMap::new(),
        outstanding: BTreeSet::new(),
        finished: BTreeMap::new(),
        finished_megabits: 0.0,
        cancelled_megabits: 0.0,
        expected_version: 0,
        trace: Vec::new(),
    };
    let mut now = T0;
    for _ in 0..steps {
        let model_clock = now;
        now = now + SimDuration(rng.below(4) as i64);
        match rng.below(10) {
            0..=3 => {
                if rng.below(2) == 0 {
                    let done = r.advance(now);
                    m.collect(&r, now, done);
                }
                let megabytes = if rng.below(20) == 0 { 0.0 } else { rng.unit() * 200.0 };
                let client = clients[rng.below(clients.len() as u64) as usize];
                let tag = rng.next();
                let v = r.version();
                let id = r.request(now, megabytes, client, tag);
                assert!(r.version() > v);
                m.expected_version += 1;
                m.info.insert(id, Info { megabits: megabytes * 8.0, client, requested_at: now, tag });
                m.outstanding.insert(id);
            }
            4..=5 => {
                let done = r.advance(now);
                m.collect(&r, now, done);
                let id = if m.info.is_empty() || rng.below(5) == 0 {
                    DownloadId(1_000_000 + rng.below(10))
                } else {
                    DownloadId(rng.below(m.info.len() as u64))
                };
                let progress = r.progress_megabits(id);
                let v = r.version();
                r.cancel(now, id);
                match progress {
                    Some(p) => {
                        assert_eq!(r.version(), v + 1);
                        assert!(m.outstanding.remove(&id));
                        m.cancelled_megabits += p;
                        m.expected_version += 1;
                    }
                    None => assert_eq!(r.version(), v),
                }
            }
            6..=7 => {
                let done = r.advance(now);
                m.collect(&r, now, done);
            }
            _ => {
                if let Some(t) = r.next_completion() {
                    // The repository's clock is where the last call left it.
                    assert!(t >= model_clock);
                    now = t.max(now);
                    let done = r.advance(now);
                    // next_completion is truthful: something finishes by then.
                    assert!(!done.is_empty());
                    m.collect(&r, now, done);
                } else {
                    assert_eq!(r.active(), 0);
                }
            }
        }
        check_rates(&r, &m);
    }
    // Drain.
    let mut guard = 0;
    while let Some(t) = r.next_completion() {
        assert!(t >= now);
        now = t;
        let done = r.advance(now);
        assert!(!done.is_empty());
        m.collect(&r, now, done);
        check_rates(&r, &m);
        guard += 1;
        assert!(guard < 100_000);
    }
    assert!(m.outstanding.is_empty());
    assert_eq!((r.active(), r.queued()), (0, 0));
    // FIFO: downloads that got a connection did so in request order.
    let mut last_start = SimTime(i64::MIN);
    for (id, c) in &m.finished {
        if m.info[id].megabits > 0.0 {
            assert!(c.started_at >= last_start, "{id:?} started out of order");
            last_start = c.started_at;
        }
    }
    (m.trace, r.delivered_megabits().to_bits(), r.version())
}

#[test]
fn random_operations_keep_invariants() {
    for seed in 1..=150 {
        run_random(seed, 400);
    }
}

#[test]
fn same_calls_give_bit_identical_results() {
    for seed in [3, 17, 99] {
        assert_eq!(run_random(seed, 300), run_random(seed, 300));
    }
}
