//! The invocations in flight, one at most per instance, kept dense.
//!
//! A window works through a fleet a batch at a time, so only a few percent of the
//! instances hold an invocation at once. Each instance has a slot number into one dense
//! vector of those invocations (their operation, report and patch lists inline), so the
//! invocations an event touches stay in a vector sized by the batch, not the fleet,
//! instead of one boxed allocation per invocation scattered over a fleet-sized array.
//! An entry an invocation leaves is the next one filled, so entries never move and the one
//! filled is the one most recently in cache. Which slot an invocation sits in never reaches
//! a result: every access is by instance.

use super::windows::Invocation;

const NONE: u32 = u32::MAX;

/// Per instance, its invocation in flight, if any.
#[derive(Debug, Default)]
pub struct Inflight {
    /// Per instance: the index of its invocation in `entries`, or `NONE`.
    slot: Vec<u32>,
    /// Invocations in flight; `None` where one left and no other took its place yet.
    entries: Vec<Option<Invocation>>,
    /// Entries left empty, the most recently emptied (still in cache) last.
    free: Vec<u32>,
}

impl Inflight {
    pub fn new(instances: usize) -> Inflight {
        Inflight { slot: vec![NONE; instances], entries: Vec::new(), free: Vec::new() }
    }

    /// A new instance, with nothing in flight.
    pub fn push_instance(&mut self) {
        self.slot.push(NONE);
    }

    /// Instances known (with or without an invocation).
    pub fn len(&self) -> usize {
        self.slot.len()
    }

    pub fn get(&self, instance: u32) -> Option<&Invocation> {
        let slot = self.slot[instance as usize];
        if slot == NONE { None } else { self.entries[slot as usize].as_ref() }
    }

    pub fn get_mut(&mut self, instance: u32) -> Option<&mut Invocation> {
        let slot = self.slot[instance as usize];
        if slot == NONE { None } else { self.entries[slot as usize].as_mut() }
    }

    /// Prefetch hints (see `engine::prefetch`): the instance's slot number, then the entry
    /// it names.
    #[inline]
    pub fn prefetch_slot(&self, instance: usize) {
        crate::engine::prefetch(&self.slot[instance]);
    }

    #[inline]
    pub fn prefetch_entry(&self, instance: usize) {
        if let Some(entry) = self.slot.get(instance).and_then(|&slot| self.entries.get(slot as usize)) {
            crate::engine::prefetch(entry);
        }
    }

    /// Puts `invocation` in flight on `instance`, replacing one already there. Inlined, so
    /// that the invocation is built where it is stored: a fresh one has no plan yet, and
    /// only its first words are written instead of a copy of the whole entry.
    #[inline(always)]
    pub fn insert(&mut self, instance: u32, invocation: Invocation) {
        if let Some(existing) = self.get_mut(instance) {
            *existing = invocation;
            return;
        }
        let slot = match self.free.pop() {
            Some(slot) => {
                self.entries[slot as usize] = Some(invocation);
                slot
            }
            None => {
                self.entries.push(Some(invocation));
                (self.entries.len() - 1) as u32
            }
        };
        self.slot[instance as usize] = slot;
    }

    /// Ends the instance's invocation, if any, dropping it in its entry (see [`Inflight::take`]).
    pub fn remove(&mut self, instance: u32) {
        if let Some(slot) = self.vacate(instance) {
            self.entries[slot] = None;
        }
    }

    /// Takes the instance's invocation out of flight; its entry is reused by the next one
    /// put in flight, and no other entry moves.
    pub fn take(&mut self, instance: u32) -> Option<Invocation> {
        let slot = self.vacate(instance)?;
        self.entries[slot].take()
    }

    /// Detaches the instance from its entry, if it has one, and frees the entry; returns it.
    fn vacate(&mut self, instance: u32) -> Option<usize> {
        let slot = std::mem::replace(&mut self.slot[instance as usize], NONE);
        if slot == NONE {
            return None;
        }
        self.free.push(slot);
        Some(slot as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SimTime;

    fn invocation(execution: u32) -> Invocation {
        Invocation {
            execution,
            task: 0,
            generation: 0,
            plan: None,
            deadline: SimTime(0),
            dispatched: SimTime(0),
            download: None,
        }
    }

    #[test]
    fn each_instance_keeps_its_own_invocation_whatever_is_taken_around_it() {
        let mut inflight = Inflight::new(5);
        for instance in [4, 0, 2, 3] {
            inflight.insert(instance, invocation(instance * 10));
        }
        assert_eq!(inflight.take(0).map(|i| i.execution), Some(0));
        assert_eq!(inflight.take(0).map(|i| i.execution), None);
        assert!(inflight.get(1).is_none());
        inflight.insert(2, invocation(21));
        inflight.push_instance();
        inflight.insert(5, invocation(50));
        assert_eq!(inflight.take(4).map(|i| i.execution), Some(40));
        let left: Vec<Option<u32>> = (0..6).map(|i| inflight.get(i).map(|inv| inv.execution)).collect();
        assert_eq!(left, [None, None, Some(21), Some(30), None, Some(50)]);
        inflight.get_mut(3).unwrap().task = 7;
        assert_eq!(inflight.take(3).map(|i| (i.execution, i.task)), Some((30, 7)));
        inflight.remove(2);
        inflight.remove(2);
        assert!(inflight.get(2).is_none());
        inflight.insert(1, invocation(11));
        assert_eq!(inflight.get(1).map(|i| i.execution), Some(11));
        assert_eq!(inflight.get(5).map(|i| i.execution), Some(50));
        assert_eq!(inflight.len(), 6);
    }
}
