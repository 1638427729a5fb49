//! Cache hints for the model: the engine shows a model the events it will handle next, so
//! the model can ask the memory system for their state while it handles the current one.
//!
//! A hint never changes what is computed: a prefetch reads nothing into the program and
//! cannot fault, so results are the same with or without it (and on targets without the
//! instruction it does nothing).

/// Asks for the cache lines that hold `value`.
#[inline(always)]
pub fn prefetch<T>(value: &T) {
    prefetch_bytes((value as *const T).cast(), size_of::<T>());
}

/// Asks for the cache lines that hold `items`.
#[inline(always)]
pub fn prefetch_slice<T>(items: &[T]) {
    prefetch_bytes(items.as_ptr().cast(), size_of_val(items));
}

/// Cache line size of the targets we build for.
const LINE: usize = 64;

/// At most this many lines per request: a hint for a large value would only evict.
const MAX_LINES: usize = 8;

#[inline(always)]
fn prefetch_bytes(start: *const u8, bytes: usize) {
    let lines = bytes.div_ceil(LINE).min(MAX_LINES);
    for line in 0..lines {
        line_hint(start.wrapping_add(line * LINE));
    }
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn line_hint(address: *const u8) {
    use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
    // SAFETY: PREFETCHT0 is part of SSE, which every x86-64 CPU has; it is a hint that
    // never faults and reads nothing into the program, whatever the address.
    unsafe { _mm_prefetch::<_MM_HINT_T0>(address.cast()) }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn line_hint(_address: *const u8) {}
