//! The pending-event set: a radix heap with first-in first-out ties.
//!
//! A radix heap (Ahuja, Mehlhorn, Orlin and Tarjan) exploits what a discrete-event engine
//! guarantees anyway: nothing is scheduled before the last instant popped. The entries at
//! exactly `last` (the time of the last refill) wait in a deque, `current`; every other one
//! lives in `buckets[i]`, `i` being the highest bit in which its time differs from `last`
//! (so it is about `2^i` to `2^(i+1)` seconds ahead). A pop takes from `current`; when it is
//! empty, the lowest non-empty bucket is redistributed around its minimum, and each of its
//! entries falls to `current` or a strictly lower bucket. An entry therefore moves at most 64 times over its
//! life, in practice a handful (about log2 of how far ahead it was scheduled), and every
//! move is a sequential append, which keeps a million pending events cache-friendly where a
//! binary heap's sift walks a random path.
//!
//! Ties need no sequence number: entries with equal times always share a bucket, pushes
//! append, and redistribution keeps relative order, so within a bucket equal times stay in
//! push order and `current` pops first-in first-out. The `(time, seq)` contract of the engine
//! (same-instant events in the order they were scheduled) follows from the structure, and a
//! property test holds it against a `BinaryHeap` keyed by `(time, seq)`.
//!
//! A push earlier than `last` (possible only after [`PendingSet::peek_time`] refilled
//! `current` and nothing was popped, e.g. a run stopped at its horizon and the caller
//! schedules again) rebuilds the buckets around the new time: correct, O(n), and never on
//! the engine's own path.

use std::collections::VecDeque;

use crate::time::SimTime;

/// A priority queue of events ordered by time; events at the same time come out in the
/// order they were pushed.
pub trait PendingSet<E> {
    fn push(&mut self, time: SimTime, event: E);
    fn pop(&mut self) -> Option<(SimTime, E)>;
    /// The earliest time waiting. Takes `&mut self` so that a queue may prepare its next
    /// pop here (the radix heap refills its lowest bucket).
    fn peek_time(&mut self) -> Option<SimTime>;
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Buckets by the highest differing bit, 0 to 63; equal times are in [`RadixQueue::current`].
const BUCKETS: usize = 64;

/// The engine's pending-event set; see the module documentation.
pub struct RadixQueue<E> {
    /// The entries at time `last`, in push order.
    current: VecDeque<E>,
    /// `buckets[i]` holds the entries whose key differs from `last` first in bit `i`
    /// (counting from 0), with their keys, equal keys in push order.
    buckets: [Vec<(u64, E)>; BUCKETS],
    /// Bit `i` set when `buckets[i]` is non-empty.
    occupied: u64,
    /// The key every bucket is relative to; no entry has a smaller key.
    last: u64,
    len: usize,
}

/// Order-preserving map of a time to an unsigned key.
#[inline]
fn key_of(time: SimTime) -> u64 {
    (time.0 as u64) ^ (1 << 63)
}

#[inline]
fn time_of(key: u64) -> SimTime {
    SimTime((key ^ (1 << 63)) as i64)
}

/// The bucket of `key` relative to `last` (`key != last`): its highest differing bit.
#[inline]
fn bucket_of(key: u64, last: u64) -> usize {
    63 - (key ^ last).leading_zeros() as usize
}

impl<E> Default for RadixQueue<E> {
    fn default() -> Self {
        RadixQueue {
            current: VecDeque::new(),
            buckets: std::array::from_fn(|_| Vec::new()),
            occupied: 0,
            last: 0,
            len: 0,
        }
    }
}

impl<E> RadixQueue<E> {
    /// Places an entry with `key >= last`.
    #[inline]
    fn place(&mut self, key: u64, event: E) {
        if key == self.last {
            self.current.push_back(event);
        } else {
            let bucket = bucket_of(key, self.last);
            self.buckets[bucket].push((key, event));
            self.occupied |= 1 << bucket;
        }
    }

    /// Moves the lowest non-empty bucket's entries around its minimum, which becomes `last`.
    /// Returns false when no bucket has entries (with `current` empty: the queue is empty).
    fn refill(&mut self) -> bool {
        if self.occupied == 0 {
            return false;
        }
        let index = self.occupied.trailing_zeros() as usize;
        self.occupied &= !(1 << index);
        // Every entry of bucket `index` falls to a lower one: split so both can be borrowed,
        // and the drained vector keeps its allocation.
        let (lower, rest) = self.buckets.split_at_mut(index);
        let bucket = &mut rest[0];
        let last = bucket.iter().map(|&(key, _)| key).min().expect("an occupied bucket has entries");
        for (key, event) in bucket.drain(..) {
            if key == last {
                self.current.push_back(event);
            } else {
                let to = bucket_of(key, last);
                lower[to].push((key, event));
                self.occupied |= 1 << to;
            }
        }
        self.last = last;
        true
    }

    /// The entry `n` places behind the next pop among those at the current instant (0: the
    /// next one), if there is one; the engine shows it to the model as a prefetch hint.
    #[inline]
    pub fn upcoming(&self, n: usize) -> Option<&E> {
        self.current.get(n)
    }

    /// Re-buckets every entry around `key`, which is below `last`. Equal keys share a
    /// bucket and are visited in their order there, so ties keep their push order.
    fn rebase(&mut self, key: u64) {
        let old_last = self.last;
        let mut entries: Vec<(u64, E)> = self.current.drain(..).map(|event| (old_last, event)).collect();
        for bucket in &mut self.buckets {
            entries.append(bucket);
        }
        self.occupied = 0;
        self.last = key;
        for (key, event) in entries {
            self.place(key, event);
        }
    }
}

impl<E> PendingSet<E> for RadixQueue<E> {
    #[inline]
    fn push(&mut self, time: SimTime, event: E) {
        let key = key_of(time);
        if key < self.last {
            self.rebase(key);
        }
        self.place(key, event);
        self.len += 1;
    }

    #[inline]
    fn pop(&mut self) -> Option<(SimTime, E)> {
        if self.current.is_empty() && !self.refill() {
            return None;
        }
        let event = self.current.pop_front()?;
        self.len -= 1;
        Some((time_of(self.last), event))
    }

    #[inline]
    fn peek_time(&mut self) -> Option<SimTime> {
        if self.current.is_empty() && !self.refill() {
            return None;
        }
        Some(time_of(self.last))
    }

    fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
#[path = "queue_tests.rs"]
mod tests;
