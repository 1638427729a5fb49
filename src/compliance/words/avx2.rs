//! The word pass on AVX2: four words per step, counted by nibble table.
//!
//! AVX2 has no popcount instruction. Each step looks up the bit count of every nibble of
//! its eight values (`VPSHUFB` on a 16-entry table) and adds them into one byte counter per
//! count and byte. A byte gains at most 8 per step, so a block of [`STEPS`] steps (at most
//! 248) cannot overflow; after each block `VPSADBW` folds the bytes into 64-bit sums. The
//! words after the last whole step go through the scalar loop, whose sums are added in.

use std::arch::x86_64::*;

use super::{LEVELS, Sums, Words, raise_level, scalar};

/// Steps per block of byte counters: 31 x 8 = 248 fits in a byte.
const STEPS: usize = 31;

/// Words per step.
const LANES: usize = 4;

/// The smallest catalog, in words, the pass is picked for: four steps. Below that the
/// scalar loop costs less than the vector pass's fixed part (folding eight byte counters
/// into sums, and the scalar tail): picked for every size, it made the small fleet (a
/// catalog of three words) run 1.065 times as long.
pub(super) const MIN_WORDS: usize = 4 * LANES;

/// The four words of `slice` from `w`.
///
/// # Safety
/// `w + 4 <= slice.len()`.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn load(slice: &[u64], w: usize) -> __m256i {
    debug_assert!(w + LANES <= slice.len());
    // SAFETY: the caller keeps the four words inside `slice`; the load needs no alignment.
    unsafe { _mm256_loadu_si256(slice.as_ptr().add(w).cast()) }
}

/// The bit count of each byte of `v` (0 to 8): the table's entry for its low nibble plus
/// the one for its high nibble.
#[inline]
#[target_feature(enable = "avx2")]
fn byte_counts(v: __m256i) -> __m256i {
    let table = _mm256_setr_epi8(
        0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
    );
    let nibble = _mm256_set1_epi8(0x0f);
    let low = _mm256_and_si256(v, nibble);
    let high = _mm256_and_si256(_mm256_srli_epi16::<4>(v), nibble);
    _mm256_add_epi8(_mm256_shuffle_epi8(table, low), _mm256_shuffle_epi8(table, high))
}

/// The pass: whole steps of four words here, the rest in the scalar loop.
#[target_feature(enable = "avx2")]
pub(super) fn sums(words: &Words<'_>, block: bool) -> Sums {
    // Compiled twice, so that without BLOCK the rejected words are neither loaded nor
    // counted.
    if block { pass::<true>(words) } else { pass::<false>(words) }
}

#[target_feature(enable = "avx2")]
fn pass<const BLOCK: bool>(words: &Words<'_>) -> Sums {
    let n = words.approved.len();
    // The scalar loop over the tail cuts every slice to `n` and panics on a shorter one;
    // the same check here keeps every load below inside its slice.
    let slices = [words.applicable, words.installed, words.critical, words.security, words.rejected];
    assert!(slices.iter().all(|s| s.len() >= n), "bitsets of one catalog");
    let body = n - n % LANES;
    let zero = _mm256_setzero_si256();
    let mut totals = [zero; 8];
    let mut top_level = 0;
    for start in (0..body).step_by(LANES * STEPS) {
        let mut bytes = [zero; 8];
        for w in (start..body.min(start + LANES * STEPS)).step_by(LANES) {
            // SAFETY: `w + 4 <= body <= n`, and every slice holds at least `n` words.
            let missing = unsafe { step::<BLOCK>(words, w, &mut bytes) };
            // Level 0 (UNSPECIFIED) never raises the severity.
            if top_level + 1 < LEVELS.len() && _mm256_testz_si256(missing, missing) == 0 {
                top_level = raise_in_step(top_level, missing, words, w);
            }
        }
        for (total, counts) in totals.iter_mut().zip(bytes) {
            *total = _mm256_add_epi64(*total, _mm256_sad_epu8(counts, zero));
        }
    }
    let tail = scalar::<BLOCK>(words, body);
    let lanes = |v: __m256i| {
        let mut out = [0u64; LANES];
        // SAFETY: `out` is 32 bytes, what the store writes; it needs no alignment.
        unsafe { _mm256_storeu_si256(out.as_mut_ptr().cast(), v) };
        out.iter().sum::<u64>()
    };
    Sums::from_counts(totals.map(lanes), top_level).and(tail)
}

/// One step at word `w`: adds the byte counts of its eight parts to `bytes` and returns
/// its missing patches.
///
/// # Safety
/// Every slice of `words` holds at least `w + 4` words.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn step<const BLOCK: bool>(words: &Words<'_>, w: usize, bytes: &mut [__m256i; 8]) -> __m256i {
    // SAFETY (every load): the caller keeps `w + 4` inside each slice.
    let (a, ap) = unsafe { (load(words.approved, w), load(words.applicable, w)) };
    let ins = _mm256_and_si256(unsafe { load(words.installed, w) }, ap);
    // andnot(x, y) is !x & y.
    let missing = _mm256_andnot_si256(ins, _mm256_and_si256(a, ap));
    let rejected_present =
        if BLOCK { _mm256_and_si256(ins, unsafe { load(words.rejected, w) }) } else { _mm256_setzero_si256() };
    let non_compliant = _mm256_or_si256(missing, rejected_present);
    let (critical, security) = unsafe { (load(words.critical, w), load(words.security, w)) };
    let parts = [
        missing,
        _mm256_and_si256(ins, a),
        _mm256_andnot_si256(rejected_present, _mm256_andnot_si256(a, ins)),
        rejected_present,
        _mm256_andnot_si256(ap, a),
        _mm256_and_si256(missing, critical),
        _mm256_and_si256(non_compliant, security),
        _mm256_and_si256(non_compliant, _mm256_or_si256(critical, security)),
    ];
    for (counts, part) in bytes.iter_mut().zip(parts) {
        *counts = _mm256_add_epi8(*counts, byte_counts(part));
    }
    missing
}

/// The highest level above `top` with a patch missing in the step at word `w`, or `top`:
/// the scalar search, word by word.
#[target_feature(enable = "avx2")]
fn raise_in_step(top: usize, missing: __m256i, words: &Words<'_>, w: usize) -> usize {
    let mut lanes = [0u64; LANES];
    // SAFETY: `lanes` is 32 bytes, what the store writes; it needs no alignment.
    unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast(), missing) };
    lanes.iter().zip(w..).fold(top, |top, (&word, at)| {
        if word != 0 && top + 1 < LEVELS.len() { raise_level(top, word, words, at) } else { top }
    })
}
