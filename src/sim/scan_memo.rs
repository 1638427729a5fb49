//! Evaluations that the instances of one patch state share.
//!
//! A cohort Scan's counts are a pure function of the instance's installed patches, its mix
//! (profile and mix index), the baseline and that baseline's approved set, and on Windows the
//! released set; the instance's failed and pending-reboot patches enter too, so instances
//! with a pending reboot are not memoized (a Scan reports no FAILED patches). The approved
//! and released sets are named by the [`ScanKey`] that `ScanCache` uses. Instances that
//! started alike and received the same Installs have identical patch states: the small fleet
//! (`benches/scenarios/small-fleet.toml`) runs 372,000 cohort scans over 3,537 distinct
//! (key, mix, installed) triples.
//!
//! [`ScanMemo`] keeps the evaluations of the patch states already seen, by (baseline, mix,
//! scan key, installed words); it holds a copy of the words, and a hit compares them in full,
//! so a hash collision can never return another state's counts. A cohort chunk
//! reads the run's memo and keeps a memo of its own for the states it evaluates; the chunks'
//! memos are added to the run's in chunk order after the pass. A hit is exactly the
//! evaluation it replaces, so results never depend on what the memo holds, and neither on the
//! thread count. The bytes a memo holds are bounded by [`SCAN_MEMO_BYTES`]; a table whose
//! key is no longer current is dropped before each cohort scan.

use std::hash::{Hash, Hasher};

use hashbrown::HashTable;
use rustc_hash::FxHasher;

use super::rescan::ScanKey;
use crate::compliance::Evaluation;
use crate::limits::SCAN_MEMO_BYTES;

/// The inputs besides the installed patches and the scan key: the baseline evaluated against
/// and the mix (profile and mix index) that gives the applicable patches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MemoTable {
    pub baseline: u16,
    pub profile: u32,
    pub mix: u16,
}

/// Bytes an entry holds besides its words: its slot in the table (with the boxed slice and
/// the evaluation) and the allocation of the words.
pub const ENTRY_BYTES: usize = 128;

/// The bytes an entry of `words` installed words holds.
fn entry_bytes(words: usize) -> usize {
    ENTRY_BYTES + 8 * words
}

/// One evaluated state.
struct Entry {
    hash: u64,
    table: MemoTable,
    key: ScanKey,
    state: Box<[u64]>,
    evaluation: Evaluation,
}

/// Where a state is looked up: its table, key and words, and their hash, computed once for
/// the lookups in the run's memo and the chunk's.
#[derive(Clone, Copy)]
pub struct Lookup<'a> {
    hash: u64,
    table: MemoTable,
    key: ScanKey,
    state: &'a [u64],
}

impl<'a> Lookup<'a> {
    pub fn new(table: MemoTable, key: ScanKey, state: &'a [u64]) -> Lookup<'a> {
        let mut hasher = FxHasher::default();
        (table, key, state).hash(&mut hasher);
        Lookup { hash: hasher.finish(), table, key, state }
    }

    fn matches(&self, entry: &Entry) -> bool {
        entry.table == self.table && entry.key == self.key && same_words(&entry.state, self.state)
    }
}

/// The two slices hold the same words. One pass without early exit: states are a few words
/// and a hit compares them all, where slice equality would call `memcmp`.
fn same_words(a: &[u64], b: &[u64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0, |differ, (x, y)| differ | (x ^ y)) == 0
}

/// Evaluations by (table, scan key, installed words).
pub struct ScanMemo {
    entries: HashTable<Entry>,
    /// Bytes held (`entry_bytes` of each entry), at most `budget`.
    bytes: usize,
    budget: usize,
    /// The stamp of the last `retain_current`.
    stamp: Option<(u32, u64)>,
}

impl Default for ScanMemo {
    /// The run's memo, of [`SCAN_MEMO_BYTES`].
    fn default() -> Self {
        ScanMemo::with_budget(SCAN_MEMO_BYTES)
    }
}

impl ScanMemo {
    /// An empty memo that holds at most `budget` bytes of entries.
    pub fn with_budget(budget: usize) -> ScanMemo {
        ScanMemo { entries: HashTable::new(), bytes: 0, budget, stamp: None }
    }

    /// The evaluation held for the state of `lookup`, if any.
    pub fn get(&self, lookup: &Lookup<'_>) -> Option<Evaluation> {
        self.entries.find(lookup.hash, |entry| lookup.matches(entry)).map(|entry| entry.evaluation)
    }

    /// Keeps `evaluation` of the state of `lookup`, unless it is held already or would take
    /// the memo past its budget.
    pub fn insert(&mut self, lookup: &Lookup<'_>, evaluation: Evaluation) {
        if let Some(vacant) = self.probe(lookup) {
            let state = lookup.state.into();
            vacant.insert(Entry { hash: lookup.hash, table: lookup.table, key: lookup.key, state, evaluation });
        }
    }

    /// Adds what another memo holds (a cohort chunk's), under this one's budget; the entries
    /// move, words and all.
    pub fn absorb(&mut self, other: ScanMemo) {
        for entry in other.entries {
            let lookup = Lookup { hash: entry.hash, table: entry.table, key: entry.key, state: &entry.state };
            // The lookup borrows the entry only until `probe` has looked in the table.
            let probed = self.probe(&lookup);
            if let Some(vacant) = probed {
                vacant.insert(entry);
            }
        }
    }

    /// The vacant slot for the state of `lookup` (one probe of the table), with its bytes
    /// counted against the budget; `None` when the state is held or the budget would be
    /// passed, so nothing is built for it.
    fn probe(&mut self, lookup: &Lookup<'_>) -> Option<hashbrown::hash_table::VacantEntry<'_, Entry>> {
        let bytes = entry_bytes(lookup.state.len());
        if self.bytes + bytes > self.budget {
            return None;
        }
        match self.entries.entry(lookup.hash, |entry| lookup.matches(entry), |entry| entry.hash) {
            hashbrown::hash_table::Entry::Occupied(_) => None,
            hashbrown::hash_table::Entry::Vacant(vacant) => {
                self.bytes += bytes;
                Some(vacant)
            }
        }
    }

    /// Drops the entries whose key is not `current(baseline)`: their approved sets are gone.
    /// `stamp` is the epoch and the approvals of every baseline in the run so far: while it
    /// stays the same no key changed (approvals only grow), and nothing is looked at.
    pub fn retain_current(&mut self, stamp: (u32, u64), current: impl Fn(u16) -> ScanKey) {
        if self.stamp == Some(stamp) {
            return;
        }
        self.stamp = Some(stamp);
        let bytes = &mut self.bytes;
        self.entries.retain(|entry| {
            let keep = entry.key == current(entry.table.baseline);
            if !keep {
                *bytes -= entry_bytes(entry.state.len());
            }
            keep
        });
    }

    /// Bytes held.
    #[cfg(test)]
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::ComplianceLevel;
    use crate::compliance::PatchCounts;

    fn key(approvals: u32) -> ScanKey {
        ScanKey { epoch: 1, baseline: 0, approvals }
    }

    fn evaluation(missing: u32) -> Evaluation {
        (PatchCounts { missing, ..PatchCounts::default() }, [0, 0, 0], ComplianceLevel::Unspecified)
    }

    const TABLE: MemoTable = MemoTable { baseline: 0, profile: 0, mix: 0 };

    fn get(memo: &ScanMemo, table: MemoTable, key: ScanKey, state: &[u64]) -> Option<Evaluation> {
        memo.get(&Lookup::new(table, key, state))
    }

    fn insert(memo: &mut ScanMemo, table: MemoTable, key: ScanKey, state: &[u64], evaluation: Evaluation) {
        memo.insert(&Lookup::new(table, key, state), evaluation);
    }

    #[test]
    fn a_state_is_found_only_under_its_key_table_and_words() {
        let mut memo = ScanMemo::default();
        insert(&mut memo, TABLE, key(3), &[0b101, 1], evaluation(2));
        assert_eq!(get(&memo, TABLE, key(3), &[0b101, 1]), Some(evaluation(2)));
        assert_eq!(get(&memo, TABLE, key(4), &[0b101, 1]), None, "another approved set");
        assert_eq!(get(&memo, TABLE, key(3), &[0b101, 0]), None, "another state");
        assert_eq!(get(&memo, TABLE, key(3), &[0b101]), None, "another length");
        assert_eq!(get(&memo, MemoTable { mix: 1, ..TABLE }, key(3), &[0b101, 1]), None, "another mix");
    }

    #[test]
    fn a_colliding_hash_never_returns_another_state() {
        let mut memo = ScanMemo::default();
        let (first, second) = (Lookup::new(TABLE, key(1), &[1]), Lookup::new(TABLE, key(1), &[2]));
        memo.insert(&first, evaluation(1));
        let collision = Lookup { hash: first.hash, ..second };
        assert_eq!(memo.get(&collision), None);
        memo.insert(&collision, evaluation(2));
        assert_eq!(memo.get(&collision), Some(evaluation(2)));
        assert_eq!(memo.get(&first), Some(evaluation(1)));
    }

    #[test]
    fn stale_keys_are_dropped() {
        let mut memo = ScanMemo::default();
        let other = MemoTable { baseline: 1, ..TABLE };
        insert(&mut memo, TABLE, key(3), &[1, 2], evaluation(1));
        insert(&mut memo, other, key(3), &[1, 2, 3], evaluation(1));
        insert(&mut memo, TABLE, key(4), &[7], evaluation(0));
        assert_eq!(memo.bytes(), 3 * ENTRY_BYTES + 6 * 8);
        let current = |baseline| if baseline == 0 { key(4) } else { key(5) };
        memo.retain_current((1, 9), current);
        assert_eq!(memo.bytes(), ENTRY_BYTES + 8);
        insert(&mut memo, TABLE, key(3), &[1, 2], evaluation(1));
        memo.retain_current((1, 9), current);
        assert_eq!(get(&memo, TABLE, key(3), &[1, 2]), Some(evaluation(1)), "the same stamp looks at nothing");
        memo.retain_current((1, 10), current);
        assert_eq!(get(&memo, TABLE, key(3), &[1, 2]), None);
        assert_eq!(get(&memo, other, key(3), &[1, 2, 3]), None);
        assert_eq!(get(&memo, TABLE, key(4), &[7]), Some(evaluation(0)));
    }

    #[test]
    fn the_budget_holds_and_absorbing_keeps_it() {
        let budget = 3 * ENTRY_BYTES + 8 * 10;
        let mut memo = ScanMemo::with_budget(budget);
        insert(&mut memo, TABLE, key(1), &[9; 5], evaluation(1));
        let mut other = ScanMemo::default();
        insert(&mut other, TABLE, key(1), &[8; 4], evaluation(2));
        insert(&mut other, TABLE, key(1), &[1], evaluation(3));
        insert(&mut other, TABLE, key(1), &[9; 5], evaluation(1));
        memo.absorb(other);
        assert_eq!(memo.bytes(), budget, "the state held twice is kept once");
        assert_eq!(get(&memo, TABLE, key(1), &[8; 4]), Some(evaluation(2)));
        assert_eq!(get(&memo, TABLE, key(1), &[1]), Some(evaluation(3)));
        insert(&mut memo, TABLE, key(1), &[2], evaluation(4));
        assert_eq!(get(&memo, TABLE, key(1), &[2]), None, "over the budget: not kept");
        assert_eq!(memo.bytes(), budget);
    }
}
