//! The word pass on AVX-512 VPOPCNTDQ: eight words per step.

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
    Sums::from_counts(totals(acc), top_level)
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
