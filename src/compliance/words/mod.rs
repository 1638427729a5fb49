//! The word pass of one evaluation: every count a report needs, in one walk over the
//! bitsets' 64-bit words.
//!
//! Three implementations compute the same integers. The portable one is a lean scalar loop
//! for the build's target (x86-64-v2 in this repository: one POPCNT per count and word);
//! every slice is cut to one length first, so it has no bounds checks. The others are
//! picked at run time by `is_x86_feature_detected!`. On x86-64 CPUs with AVX-512 VPOPCNTDQ,
//! eight words go through one vector instruction per count, the last few through masked
//! loads. On CPUs with AVX2 but not that (AMD before Zen 4, for one), catalogs of at least
//! `avx2::MIN_WORDS` words go four words at a time through a nibble-table popcount into
//! byte counters (`avx2`), and the last few through the scalar loop; smaller ones stay on
//! the scalar loop, which the vector pass's fixed costs would outweigh.
//!
//! Results never depend on the machine; the proptest in `report_tests.rs` runs the
//! portable pass and the AVX2 pass beside the one the machine picks. Valgrind emulates
//! AVX2 but not AVX-512, so on any machine with AVX2 the bench gate counts the AVX2 pass's
//! instructions for catalogs of `avx2::MIN_WORDS` words or more.

use crate::baseline::LEVELS;
use crate::bitset::BitSet;

/// The words one pass reads, all of one length.
pub(super) struct Words<'a> {
    pub approved: &'a [u64],
    pub applicable: &'a [u64],
    pub installed: &'a [u64],
    pub critical: &'a [u64],
    pub security: &'a [u64],
    /// Patches on the rejected list, read only when the rejected action is BLOCK.
    pub rejected: &'a [u64],
    /// Per compliance level (indexed like `LEVELS`), the patches approved with it. Read only
    /// in words with a missing patch, so left as bitsets until a pass needs the words.
    pub by_level: &'a [BitSet],
}

/// The sums of one pass.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Sums {
    pub missing: u64,
    pub installed: u64,
    pub installed_other: u64,
    pub installed_rejected: u64,
    pub not_applicable: u64,
    pub critical_nc: u64,
    pub security_nc: u64,
    /// Non-compliant items that are CRITICAL or security updates.
    pub flagged_nc: u64,
    /// The highest level (index into `LEVELS`) of a missing patch; 0 (UNSPECIFIED) when
    /// none is missing, and UNSPECIFIED never raises the severity.
    pub top_level: usize,
}

impl Sums {
    /// The sums of a vector pass, whose eight counts come in this order: missing,
    /// installed, installed other, installed rejected, not applicable, CRITICAL
    /// non-compliant, security non-compliant, flagged non-compliant.
    #[cfg(target_arch = "x86_64")]
    fn from_counts(counts: [u64; 8], top_level: usize) -> Sums {
        let [
            missing,
            installed,
            installed_other,
            installed_rejected,
            not_applicable,
            critical_nc,
            security_nc,
            flagged_nc,
        ] = counts;
        Sums {
            missing,
            installed,
            installed_other,
            installed_rejected,
            not_applicable,
            critical_nc,
            security_nc,
            flagged_nc,
            top_level,
        }
    }

    /// The sums of this pass and of one over other words of the same catalog.
    #[cfg(target_arch = "x86_64")]
    fn and(self, other: Sums) -> Sums {
        Sums {
            missing: self.missing + other.missing,
            installed: self.installed + other.installed,
            installed_other: self.installed_other + other.installed_other,
            installed_rejected: self.installed_rejected + other.installed_rejected,
            not_applicable: self.not_applicable + other.not_applicable,
            critical_nc: self.critical_nc + other.critical_nc,
            security_nc: self.security_nc + other.security_nc,
            flagged_nc: self.flagged_nc + other.flagged_nc,
            top_level: self.top_level.max(other.top_level),
        }
    }
}

/// The pass, on the fastest code path the machine has.
pub(super) fn sums(words: &Words<'_>, block: bool) -> Sums {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("avx512vpopcntdq") {
            // SAFETY: both target features were just detected on this CPU.
            return unsafe { avx512::sums(words, block) };
        }
        if words.approved.len() >= avx2::MIN_WORDS && std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: AVX2 was just detected on this CPU (POPCNT is in the build's target).
            return unsafe { avx2::sums(words, block) };
        }
    }
    sums_portable(words, block)
}

/// The pass compiled for the build's target only.
pub(super) fn sums_portable(words: &Words<'_>, block: bool) -> Sums {
    if block { scalar::<true>(words, 0) } else { scalar::<false>(words, 0) }
}

/// The AVX2 pass, for tests that hold it to the portable one on any machine with AVX2.
///
/// # Panics
/// On a CPU without AVX2.
#[cfg(all(test, target_arch = "x86_64"))]
pub(super) fn sums_avx2(words: &Words<'_>, block: bool) -> Sums {
    assert!(std::arch::is_x86_feature_detected!("avx2"), "the AVX2 pass needs a CPU with AVX2");
    // SAFETY: AVX2 was just detected on this CPU.
    unsafe { avx2::sums(words, block) }
}

/// The scalar walk over the words from `from` on; `BLOCK` when installed rejected patches
/// are INSTALLED_REJECTED.
///
/// Counts go two to a register (low and high 32 bits), so that the loop's sums, pointers
/// and index fit in the general-purpose registers without spilling. A count is at most the
/// catalog's patches, far below 2^32, so the low half never carries into the high one.
///
/// Inlined into both callers (the portable pass and the AVX2 pass's tail): as a function of
/// its own it cost the bench gate's default scenario 991.4 M instructions against 980.8 M.
#[inline(always)]
fn scalar<const BLOCK: bool>(words: &Words<'_>, from: usize) -> Sums {
    let n = words.approved.len();
    assert!(n < 1 << 26, "a catalog of fewer than 2^32 patches");
    let (approved, applicable, installed) = (&words.approved[..n], &words.applicable[..n], &words.installed[..n]);
    let (critical, security, rejected) = (&words.critical[..n], &words.security[..n], &words.rejected[..n]);
    let pair = |low: u64, high: u64| u64::from(low.count_ones()) | u64::from(high.count_ones()) << 32;
    let mut pairs = [0u64; 4];
    let mut top_level = 0;
    for w in from..n {
        let (a, ap) = (approved[w], applicable[w]);
        let ins = installed[w] & ap;
        let missing = a & ap & !ins;
        let rejected_present = if BLOCK { ins & rejected[w] } else { 0 };
        // MISSING and INSTALLED_REJECTED are disjoint (one is installed, one is not).
        let non_compliant = missing | rejected_present;
        pairs[0] += pair(missing, ins & a);
        pairs[1] += pair(ins & !a & !rejected_present, rejected_present);
        pairs[2] += pair(a & !ap, missing & critical[w]);
        pairs[3] += pair(non_compliant & security[w], non_compliant & (critical[w] | security[w]));
        if missing != 0 && top_level + 1 < LEVELS.len() {
            top_level = raise_level(top_level, missing, words, w);
        }
    }
    let (low, high) = (|p: u64| p & 0xffff_ffff, |p: u64| p >> 32);
    Sums {
        missing: low(pairs[0]),
        installed: high(pairs[0]),
        installed_other: low(pairs[1]),
        installed_rejected: high(pairs[1]),
        not_applicable: low(pairs[2]),
        critical_nc: high(pairs[2]),
        security_nc: low(pairs[3]),
        flagged_nc: high(pairs[3]),
        top_level,
    }
}

/// The highest level above `top` with a patch in `missing` (word `w`), or `top`.
fn raise_level(top: usize, missing: u64, words: &Words<'_>, w: usize) -> usize {
    (top + 1..LEVELS.len()).rev().find(|&level| missing & words.by_level[level].words()[w] != 0).unwrap_or(top)
}

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;

    /// Words of a catalog of `words` words where every approved applicable patch is
    /// missing, and a second state that differs word by word.
    struct Catalog {
        ones: Vec<u64>,
        none: Vec<u64>,
        mixed: Vec<u64>,
        by_level: Vec<BitSet>,
    }

    impl Catalog {
        fn new(words: usize) -> Catalog {
            let mut by_level: Vec<BitSet> = (0..LEVELS.len()).map(|_| BitSet::new(words * 64)).collect();
            // One CRITICAL patch, in the last word, so the severity search has to reach it.
            by_level[LEVELS.len() - 1].insert(words * 64 - 1);
            let mixed = (0..words as u64).map(|w| w.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (w << 7)).collect();
            Catalog { ones: vec![u64::MAX; words], none: vec![0; words], mixed, by_level }
        }

        fn words<'a>(&'a self, installed: &'a [u64]) -> Words<'a> {
            Words {
                approved: &self.ones,
                applicable: &self.ones,
                installed,
                critical: &self.ones,
                security: &self.none,
                rejected: &self.none,
                by_level: &self.by_level,
            }
        }
    }

    /// Every byte counter of the AVX2 pass gains 8 per step when every patch is missing; a
    /// catalog of several blocks of steps, with a tail, counts each one exactly.
    #[test]
    fn the_avx2_pass_counts_every_patch_of_a_catalog_of_several_blocks() {
        for words in [1, 3, 4, 124, 125, 127, 128, 157, 250, 1001] {
            let catalog = Catalog::new(words);
            let missing_all = sums_avx2(&catalog.words(&catalog.none), false);
            let patches = words as u64 * 64;
            assert_eq!(missing_all.missing, patches, "{words} words");
            assert_eq!(missing_all.critical_nc, patches, "{words} words");
            assert_eq!(missing_all.top_level, LEVELS.len() - 1, "{words} words");
            assert_eq!(missing_all, sums_portable(&catalog.words(&catalog.none), false));
            let installed_all = sums_avx2(&catalog.words(&catalog.ones), true);
            assert_eq!((installed_all.missing, installed_all.installed), (0, patches), "{words} words");
            for block in [false, true] {
                let words = catalog.words(&catalog.mixed);
                assert_eq!(sums_avx2(&words, block), sums_portable(&words, block));
            }
        }
    }
}
