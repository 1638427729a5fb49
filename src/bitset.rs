//! Fixed-size bitsets over a catalog's patches, word by word.
//!
//! A scan is `approved & applicable & !installed` plus popcounts: a few dozen word
//! operations for a catalog of thousands of patches.

/// A bitset of a fixed number of bits.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct BitSet {
    words: Vec<u64>,
    len: usize,
}

impl BitSet {
    pub fn new(len: usize) -> BitSet {
        BitSet { words: vec![0; len.div_ceil(64)], len }
    }

    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn words(&self) -> &[u64] {
        &self.words
    }

    #[inline]
    pub fn contains(&self, index: usize) -> bool {
        debug_assert!(index < self.len);
        self.words[index / 64] >> (index % 64) & 1 == 1
    }

    #[inline]
    pub fn insert(&mut self, index: usize) {
        debug_assert!(index < self.len);
        self.words[index / 64] |= 1 << (index % 64);
    }

    #[inline]
    pub fn remove(&mut self, index: usize) {
        debug_assert!(index < self.len);
        self.words[index / 64] &= !(1 << (index % 64));
    }

    /// Clears every bit at or above `index`.
    pub fn clear_from(&mut self, index: usize) {
        if index >= self.len {
            return;
        }
        let word = index / 64;
        let bit = index % 64;
        self.words[word] &= (1u64 << bit) - 1;
        self.words[word + 1..].iter_mut().for_each(|w| *w = 0);
    }

    pub fn count(&self) -> u32 {
        self.words.iter().map(|w| w.count_ones()).sum()
    }

    pub fn clear(&mut self) {
        self.words.iter_mut().for_each(|w| *w = 0);
    }

    pub fn union_with(&mut self, other: &BitSet) {
        debug_assert_eq!(self.len, other.len);
        self.words.iter_mut().zip(&other.words).for_each(|(a, b)| *a |= b);
    }

    pub fn difference_with(&mut self, other: &BitSet) {
        debug_assert_eq!(self.len, other.len);
        self.words.iter_mut().zip(&other.words).for_each(|(a, b)| *a &= !b);
    }

    /// Indices of set bits, ascending.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(word_index, &word)| {
            let mut rest = word;
            std::iter::from_fn(move || {
                if rest == 0 {
                    return None;
                }
                let bit = rest.trailing_zeros() as usize;
                rest &= rest - 1;
                Some(word_index * 64 + bit)
            })
        })
    }
}

/// Calls `f(word_index, word)` for each non-zero word of `a & b & !c`.
#[inline]
pub fn for_each_and_and_not(a: &BitSet, b: &BitSet, c: &BitSet, mut f: impl FnMut(usize, u64)) {
    debug_assert!(a.len == b.len && b.len == c.len);
    for (index, ((x, y), z)) in a.words.iter().zip(&b.words).zip(&c.words).enumerate() {
        let word = x & y & !z;
        if word != 0 {
            f(index, word);
        }
    }
}

/// Iterates the set bits of one word, as global indices.
#[inline]
pub fn bits_of(word_index: usize, word: u64) -> impl Iterator<Item = usize> {
    let mut rest = word;
    std::iter::from_fn(move || {
        if rest == 0 {
            return None;
        }
        let bit = rest.trailing_zeros() as usize;
        rest &= rest - 1;
        Some(word_index * 64 + bit)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_remove_contains_and_count_agree() {
        let mut set = BitSet::new(130);
        for index in [0, 63, 64, 129] {
            set.insert(index);
        }
        assert!(set.contains(63) && set.contains(64) && !set.contains(65));
        assert_eq!(set.count(), 4);
        set.remove(64);
        assert_eq!(set.iter().collect::<Vec<_>>(), vec![0, 63, 129]);
    }

    #[test]
    fn clear_from_keeps_exactly_the_lower_bits() {
        for cut in [0, 1, 63, 64, 65, 127, 128, 200] {
            let mut set = BitSet::new(130);
            (0..130).for_each(|i| set.insert(i));
            set.clear_from(cut);
            assert_eq!(set.iter().collect::<Vec<_>>(), (0..cut.min(130)).collect::<Vec<_>>(), "cut {cut}");
        }
    }

    #[test]
    fn and_and_not_visits_exactly_the_expected_bits() {
        let mut a = BitSet::new(200);
        let mut b = BitSet::new(200);
        let mut c = BitSet::new(200);
        for i in 0..200 {
            if i % 2 == 0 {
                a.insert(i);
            }
            if i % 3 == 0 {
                b.insert(i);
            }
            if i % 5 == 0 {
                c.insert(i);
            }
        }
        let mut found = vec![];
        for_each_and_and_not(&a, &b, &c, |w, word| found.extend(bits_of(w, word)));
        let expected: Vec<usize> = (0..200).filter(|i| i % 6 == 0 && i % 5 != 0).collect();
        assert_eq!(found, expected);
    }
}
