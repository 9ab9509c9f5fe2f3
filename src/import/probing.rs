//! Linear probing, shared by the readers' open-addressed tables (pprof's stacks, SVG's names,
//! trace events' keys), each of which lays out its own slots around a hash that is 0 only in an
//! empty slot.

/// A slot of such a table.
pub(crate) trait Slot: Clone {
    /// The key's hash; 0 for an empty slot.
    fn hash(&self) -> u64;
}

/// Where probing for `hash` starts in a table of `len` slots (a power of two): the high bits of
/// a multiplicative mix, since FxHash's low bits follow only a key's first bytes.
#[inline]
pub(crate) fn home(hash: u64, len: usize) -> usize {
    (hash.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - len.trailing_zeros())) as usize
}

/// Puts `slot` in the first empty slot from its home on; the table has one.
pub(crate) fn place<S: Slot>(slots: &mut [S], slot: S) {
    let mask = slots.len() - 1;
    let mut at = home(slot.hash(), slots.len());
    while slots[at].hash() != 0 {
        at = (at + 1) & mask;
    }
    slots[at] = slot;
}

/// The table made `size` slots long, every slot placed again.
pub(crate) fn grow<S: Slot>(slots: &mut Vec<S>, size: usize, empty: S) {
    let old = std::mem::replace(slots, vec![empty; size]);
    for slot in old.into_iter().filter(|slot| slot.hash() != 0) {
        place(slots, slot);
    }
}

/// Asks for the cache line at `p` ahead of its use: a hint that never faults, however far `p`
/// is (the tables fetch a batch's slots before they look into them).
#[inline(always)]
pub(crate) fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch never faults and reads nothing the program sees; SSE, which it needs,
    // is part of every x86_64.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
