//! The word pass of one evaluation: every count a report needs, in one walk over the
//! bitsets' 64-bit words.
//!
//! Two implementations compute the same integers. The portable one is a lean scalar loop
//! for the build's target (x86-64-v2 in this repository: one POPCNT per count and word);
//! every slice is cut to one length first, so it has no bounds checks. On x86-64 CPUs with
//! AVX-512 VPOPCNTDQ, detected at run time by `is_x86_feature_detected!`, eight words go
//! through one vector instruction per count, the last few through masked loads. Results
//! never depend on the machine; the proptest in `report_tests.rs` runs the portable pass
//! beside the one the machine picks. Valgrind does not emulate AVX-512, so
//! the bench gate's instruction counts are always the portable pass's.

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

/// The pass, on the fastest code path the machine has.
pub(super) fn sums(words: &Words<'_>, block: bool) -> Sums {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("avx512vpopcntdq") {
            // SAFETY: both target features were just detected on this CPU.
            return unsafe { avx512::sums(words, block) };
        }
    }
    sums_portable(words, block)
}

/// The pass compiled for the build's target only.
pub(super) fn sums_portable(words: &Words<'_>, block: bool) -> Sums {
    if block { scalar::<true>(words) } else { scalar::<false>(words) }
}

/// The scalar walk; `BLOCK` when installed rejected patches are INSTALLED_REJECTED.
///
/// Counts go two to a register (low and high 32 bits), so that the loop's sums, pointers
/// and index fit in the general-purpose registers without spilling. A count is at most the
/// catalog's patches, far below 2^32, so the low half never carries into the high one.
fn scalar<const BLOCK: bool>(words: &Words<'_>) -> Sums {
    let n = words.approved.len();
    assert!(n < 1 << 26, "a catalog of fewer than 2^32 patches");
    let (approved, applicable, installed) = (&words.approved[..n], &words.applicable[..n], &words.installed[..n]);
    let (critical, security, rejected) = (&words.critical[..n], &words.security[..n], &words.rejected[..n]);
    let pair = |low: u64, high: u64| u64::from(low.count_ones()) | u64::from(high.count_ones()) << 32;
    let mut pairs = [0u64; 4];
    let mut top_level = 0;
    for w in 0..n {
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
mod avx512 {
    use std::arch::x86_64::*;

    use super::{BitSet, LEVELS, Sums, Words};

    /// The words of `slice` from `w` (`w < slice.len()`) whose bit is set in `lanes`; the
    /// others read as zero.
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn load(slice: &[u64], w: usize, lanes: __mmask8) -> __m512i {
        debug_assert!(w + (8 - lanes.leading_zeros() as usize) <= slice.len());
        // SAFETY: the caller keeps the lanes set in `lanes` inside `slice` (`sums` checks
        // every length first); masked-off lanes are not read (AVX-512 suppresses their
        // faults), and the load needs no alignment.
        unsafe { _mm512_maskz_loadu_epi64(lanes, slice.as_ptr().add(w).cast()) }
    }

    /// The pass, eight words at a time; the last group loads only the words that exist, so
    /// zeros stand in for the rest and count nothing.
    ///
    /// The severity search only looks at levels above the highest found so far, and stops
    /// looking once CRITICAL is found. The eight counts are summed across lanes together at
    /// the end (`totals`), not one by one.
    #[target_feature(enable = "avx512f,avx512vpopcntdq")]
    pub(super) fn sums(words: &Words<'_>, block: bool) -> Sums {
        // Compiled twice, so that without BLOCK the rejected words are neither loaded nor
        // counted (a count of zero words folds away).
        if block { pass::<true>(words) } else { pass::<false>(words) }
    }

    #[target_feature(enable = "avx512f,avx512vpopcntdq")]
    fn pass<const BLOCK: bool>(words: &Words<'_>) -> Sums {
        let n = words.approved.len();
        // What keeps every load below inside its slice (the portable pass's `[..n]` panics
        // on the same condition); the levels' words are checked where they are read.
        let (applicable, installed, critical) = (words.applicable, words.installed, words.critical);
        let (security, rejected) = (words.security, words.rejected);
        assert!(
            [applicable, installed, critical, security, rejected].iter().all(|s| s.len() >= n),
            "bitsets of one catalog"
        );
        let zero = _mm512_setzero_si512();
        let mut acc = [zero; 8];
        let mut top_level = 0;
        for w in (0..n).step_by(8) {
            let lanes: __mmask8 = if n - w >= 8 { 0xff } else { (1u8 << (n - w)) - 1 };
            let (a, ap) = (load(words.approved, w, lanes), load(applicable, w, lanes));
            let ins = _mm512_and_si512(load(installed, w, lanes), ap);
            // andnot(x, y) is !x & y.
            let missing = _mm512_andnot_si512(ins, _mm512_and_si512(a, ap));
            let rejected_present = if BLOCK { _mm512_and_si512(ins, load(rejected, w, lanes)) } else { zero };
            let non_compliant = _mm512_or_si512(missing, rejected_present);
            let (critical, security) = (load(critical, w, lanes), load(security, w, lanes));
            let parts = [
                missing,
                _mm512_and_si512(ins, a),
                _mm512_andnot_si512(rejected_present, _mm512_andnot_si512(a, ins)),
                rejected_present,
                _mm512_andnot_si512(ap, a),
                _mm512_and_si512(missing, critical),
                _mm512_and_si512(non_compliant, security),
                _mm512_and_si512(non_compliant, _mm512_or_si512(critical, security)),
            ];
            for (sum, part) in acc.iter_mut().zip(parts) {
                *sum = _mm512_add_epi64(*sum, _mm512_popcnt_epi64(part));
            }
            // Level 0 (UNSPECIFIED) never raises the severity.
            if top_level + 1 < LEVELS.len() && _mm512_test_epi64_mask(missing, missing) != 0 {
                top_level = raise_level(top_level, missing, words.by_level, n, w, lanes);
            }
        }
        let total = totals(acc);
        Sums {
            missing: total[0],
            installed: total[1],
            installed_other: total[2],
            installed_rejected: total[3],
            not_applicable: total[4],
            critical_nc: total[5],
            security_nc: total[6],
            flagged_nc: total[7],
            top_level,
        }
    }

    /// The highest level above `top` with a patch in `missing` (words `w` on, in `lanes`),
    /// or `top`. Only words with a missing patch come here, so the levels' lengths are
    /// checked here rather than on every pass.
    #[target_feature(enable = "avx512f")]
    fn raise_level(top: usize, missing: __m512i, by_level: &[BitSet], n: usize, w: usize, lanes: __mmask8) -> usize {
        (top + 1..LEVELS.len())
            .rev()
            .find(|&level| {
                let words = by_level[level].words();
                assert!(words.len() >= n, "bitsets of one catalog");
                _mm512_test_epi64_mask(missing, load(words, w, lanes)) != 0
            })
            .unwrap_or(top)
    }

    /// The sum of each vector's eight lanes, in order: three rounds that each add two
    /// interleavings of a pair of vectors, instead of eight separate reductions.
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn totals(acc: [__m512i; 8]) -> [u64; 8] {
        // Round 1: per 128-bit block b, [x[2b] + x[2b+1], y[2b] + y[2b+1]].
        let pair = |x: __m512i, y: __m512i| _mm512_add_epi64(_mm512_unpacklo_epi64(x, y), _mm512_unpackhi_epi64(x, y));
        // Rounds 2 and 3: blocks [a0 + a1, a2 + a3, b0 + b1, b2 + b3] of two vectors a, b.
        let fold = |a: __m512i, b: __m512i| {
            let even = _mm512_shuffle_i64x2::<0b10_00_10_00>(a, b);
            let odd = _mm512_shuffle_i64x2::<0b11_01_11_01>(a, b);
            _mm512_add_epi64(even, odd)
        };
        let (p0, p1, p2, p3) = (pair(acc[0], acc[1]), pair(acc[2], acc[3]), pair(acc[4], acc[5]), pair(acc[6], acc[7]));
        // fold(p0, p1): blocks of (x0, x1) over lanes 0-3, (x0, x1) over 4-7, then (x2, x3);
        // fold again: each block holds a pair of whole sums, (x0, x1) to (x6, x7).
        let sums = fold(fold(p0, p1), fold(p2, p3));
        let mut out = [0u64; 8];
        // SAFETY: `out` is 64 bytes, what the store writes; it needs no alignment.
        unsafe { _mm512_storeu_si512(out.as_mut_ptr().cast(), sums) };
        out
    }
}
