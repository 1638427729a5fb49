//! The pending-event set.
//!
//! A binary heap keyed by `(time, seq)` behind the small [`PendingSet`] interface, so that a
//! calendar queue or radix heap can replace it when a benchmark says so (see
//! `benches/core.rs`, the hold-model benchmark).

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::time::SimTime;

/// A priority queue of events ordered by time, then by the sequence they were scheduled in.
pub trait PendingSet<E> {
    fn push(&mut self, time: SimTime, seq: u64, event: E);
    fn pop(&mut self) -> Option<(SimTime, u64, E)>;
    fn peek_time(&self) -> Option<SimTime>;
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

struct Entry<E> {
    time: SimTime,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.time == other.time && self.seq == other.seq
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    /// Reversed, so that the max-heap pops the earliest `(time, seq)` first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
}

/// `std::collections::BinaryHeap` keyed by `(time, seq)`.
pub struct BinaryHeapQueue<E> {
    heap: BinaryHeap<Entry<E>>,
}

impl<E> Default for BinaryHeapQueue<E> {
    fn default() -> Self {
        BinaryHeapQueue { heap: BinaryHeap::new() }
    }
}

impl<E> PendingSet<E> for BinaryHeapQueue<E> {
    fn push(&mut self, time: SimTime, seq: u64, event: E) {
        self.heap.push(Entry { time, seq, event });
    }
    fn pop(&mut self) -> Option<(SimTime, u64, E)> {
        self.heap.pop().map(|entry| (entry.time, entry.seq, entry.event))
    }
    fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|entry| entry.time)
    }
    fn len(&self) -> usize {
        self.heap.len()
    }
}
