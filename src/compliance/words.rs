//! The word pass of one evaluation: every count a report needs, in one branch-free walk over
//! the bitsets' 64-bit words.
//!
//! The loop body has no branches and no early exit, and every slice is cut to the same length
//! before it, so the compiler drops the bounds checks and can vectorize the loop. On x86-64
//! the pass is compiled twice: for the build's target (x86-64-v2 in this repository, scalar
//! POPCNT) and with AVX-512 VPOPCNTDQ (eight popcounts per instruction), chosen once per call
//! by `is_x86_feature_detected!`. Both compute the same integers, so results never depend on
//! the machine; the proptest in `report_tests.rs` runs the portable pass beside the one the
//! machine picks. Valgrind does not emulate AVX-512, so the bench gate's instruction counts
//! are always the portable pass's.

use crate::baseline::LEVELS;

/// The words one pass reads, all of one length.
pub(super) struct Words<'a> {
    pub approved: &'a [u64],
    pub applicable: &'a [u64],
    pub installed: &'a [u64],
    pub critical: &'a [u64],
    pub security: &'a [u64],
    /// Patches on the rejected list, read only when the rejected action is BLOCK.
    pub rejected: &'a [u64],
    /// Per compliance level (indexed like `LEVELS`), the patches approved with it.
    pub by_level: [&'a [u64]; LEVELS.len()],
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
    /// Per level, the OR of its missing patches' words: non-zero when one is missing.
    pub missing_at_level: [u64; LEVELS.len()],
}

/// The pass, on the fastest code path the machine has.
pub(super) fn sums(words: &Words<'_>, block: bool) -> Sums {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("avx512vpopcntdq") {
            // SAFETY: both target features were just detected on this CPU.
            return unsafe { sums_avx512(words, block) };
        }
    }
    sums_portable(words, block)
}

/// The pass compiled for the build's target only.
pub(super) fn sums_portable(words: &Words<'_>, block: bool) -> Sums {
    if block { pass::<true>(words) } else { pass::<false>(words) }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vpopcntdq")]
fn sums_avx512(words: &Words<'_>, block: bool) -> Sums {
    if block { pass::<true>(words) } else { pass::<false>(words) }
}

/// One walk; `BLOCK` when installed rejected patches are INSTALLED_REJECTED.
#[inline(always)]
fn pass<const BLOCK: bool>(words: &Words<'_>) -> Sums {
    let n = words.approved.len();
    let (approved, applicable, installed) = (&words.approved[..n], &words.applicable[..n], &words.installed[..n]);
    let (critical, security, rejected) = (&words.critical[..n], &words.security[..n], &words.rejected[..n]);
    let levels = words.by_level.map(|level| &level[..n]);
    let mut s = Sums::default();
    for w in 0..n {
        let (a, ap) = (approved[w], applicable[w]);
        let ins = installed[w] & ap;
        let missing = a & ap & !ins;
        let rejected_present = if BLOCK { ins & rejected[w] } else { 0 };
        // MISSING and INSTALLED_REJECTED are disjoint (one is installed, one is not).
        let non_compliant = missing | rejected_present;
        s.missing += u64::from(missing.count_ones());
        s.installed += u64::from((ins & a).count_ones());
        s.installed_other += u64::from((ins & !a & !rejected_present).count_ones());
        s.installed_rejected += u64::from(rejected_present.count_ones());
        s.not_applicable += u64::from((a & !ap).count_ones());
        s.critical_nc += u64::from((missing & critical[w]).count_ones());
        s.security_nc += u64::from((non_compliant & security[w]).count_ones());
        s.flagged_nc += u64::from((non_compliant & (critical[w] | security[w])).count_ones());
        // UNSPECIFIED (index 0) never raises the severity.
        for level in 1..LEVELS.len() {
            s.missing_at_level[level] |= missing & levels[level][w];
        }
    }
    s
}
