use std::cmp::Reverse;
use std::collections::BinaryHeap;

use proptest::prelude::*;

use super::*;

/// The yardstick: a binary heap keyed by `(time, seq)` with an explicit sequence number.
#[derive(Default)]
struct Model {
    heap: BinaryHeap<Reverse<(i64, u64, u32)>>,
    seq: u64,
}

impl Model {
    fn push(&mut self, time: i64, event: u32) {
        self.heap.push(Reverse((time, self.seq, event)));
        self.seq += 1;
    }
    fn pop(&mut self) -> Option<(i64, u32)> {
        self.heap.pop().map(|Reverse((time, _, event))| (time, event))
    }
    fn peek_time(&self) -> Option<i64> {
        self.heap.peek().map(|Reverse((time, _, _))| *time)
    }
}

#[test]
fn ties_pop_in_push_order_across_refills() {
    let mut queue = RadixQueue::default();
    // Far-away ties first, so they reach bucket 0 by redistribution, then a closer one.
    for (time, event) in [(1_000, 1), (5, 2), (1_000, 3), (1_000, 4), (6, 5), (1_000, 6)] {
        queue.push(SimTime(time), event);
    }
    let popped: Vec<(i64, u32)> = std::iter::from_fn(|| queue.pop()).map(|(t, e)| (t.0, e)).collect();
    assert_eq!(popped, vec![(5, 2), (6, 5), (1_000, 1), (1_000, 3), (1_000, 4), (1_000, 6)]);
    assert!(queue.is_empty());
}

#[test]
fn a_push_at_the_popped_time_comes_after_the_waiting_ties() {
    let mut queue = RadixQueue::default();
    queue.push(SimTime(10), 1);
    queue.push(SimTime(10), 2);
    assert_eq!(queue.pop(), Some((SimTime(10), 1)));
    queue.push(SimTime(10), 3);
    assert_eq!(queue.pop(), Some((SimTime(10), 2)));
    assert_eq!(queue.pop(), Some((SimTime(10), 3)));
    assert_eq!(queue.pop(), None);
}

#[test]
fn a_push_before_a_peeked_time_is_still_popped_first() {
    let mut queue = RadixQueue::default();
    queue.push(SimTime(100), 1);
    queue.push(SimTime(300), 2);
    queue.push(SimTime(300), 3);
    // The peek refills bucket 0 at 100; an earlier push must rebuild around 50.
    assert_eq!(queue.peek_time(), Some(SimTime(100)));
    queue.push(SimTime(50), 4);
    queue.push(SimTime(300), 5);
    let popped: Vec<(i64, u32)> = std::iter::from_fn(|| queue.pop()).map(|(t, e)| (t.0, e)).collect();
    assert_eq!(popped, vec![(50, 4), (100, 1), (300, 2), (300, 3), (300, 5)]);
}

#[test]
fn negative_and_extreme_times_keep_their_order() {
    let mut queue = RadixQueue::default();
    for (time, event) in [(i64::MAX, 1), (-5, 2), (i64::MIN, 3), (0, 4), (-5, 5)] {
        queue.push(SimTime(time), event);
    }
    let popped: Vec<(i64, u32)> = std::iter::from_fn(|| queue.pop()).map(|(t, e)| (t.0, e)).collect();
    assert_eq!(popped, vec![(i64::MIN, 3), (-5, 2), (-5, 5), (0, 4), (i64::MAX, 1)]);
}

/// One step of a random workload: push at an offset from the last popped time (negative
/// offsets exercise pushes into the past), pop, or peek.
#[derive(Clone, Debug)]
enum Op {
    Push(i64),
    Pop,
    Peek,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        // Mostly the engine's pattern: at or after the clock, with many ties.
        4 => (0i64..4).prop_map(Op::Push),
        3 => (0i64..100_000).prop_map(Op::Push),
        1 => (-50i64..0).prop_map(Op::Push),
        1 => any::<i32>().prop_map(|t| Op::Push(i64::from(t) << 20)),
        4 => Just(Op::Pop),
        1 => Just(Op::Peek),
    ]
}

proptest! {
    #[test]
    fn pops_exactly_what_a_time_seq_binary_heap_pops(ops in proptest::collection::vec(op(), 0..600)) {
        let mut queue = RadixQueue::default();
        let mut model = Model::default();
        let mut clock = 0i64;
        for (event, op) in ops.into_iter().enumerate() {
            match op {
                Op::Push(offset) => {
                    let time = clock.saturating_add(offset);
                    queue.push(SimTime(time), event as u32);
                    model.push(time, event as u32);
                }
                Op::Pop => {
                    let expected = model.pop();
                    prop_assert_eq!(queue.pop().map(|(t, e)| (t.0, e)), expected);
                    if let Some((time, _)) = expected {
                        clock = time;
                    }
                }
                Op::Peek => prop_assert_eq!(queue.peek_time().map(|t| t.0), model.peek_time()),
            }
            prop_assert_eq!(queue.len(), model.heap.len());
        }
        while let Some(expected) = model.pop() {
            prop_assert_eq!(queue.pop().map(|(t, e)| (t.0, e)), Some(expected));
        }
        prop_assert_eq!(queue.pop().map(|(t, e)| (t.0, e)), None);
    }
}
