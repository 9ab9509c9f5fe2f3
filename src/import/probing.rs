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
