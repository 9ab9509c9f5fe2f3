//! The ids of frame names: an open-addressed table (linear probing, at most half full) of small
//! slots, each a hash and an id and where its name's copy sits in one arena of names.
//!
//! Every frame's name is looked up here, and a drawing has a few thousand distinct names, but
//! between two lookups of one name the scan streams a megabyte or so of the file through the
//! caches, pushing the table out. A hash map of boxed names cost three misses a lookup (its
//! control bytes, its bucket, the box); here it is the slot, which the scan asks for as soon as it
//! has read the title ([`NameIndex::prefetch`]), and the name's copy, next to its neighbours'.

use crate::import::probing;
use std::hash::Hasher;

/// One slot: `hash` 0 is an empty slot (every name's hash has its low bit set).
#[derive(Clone, Copy, Default, Debug)]
struct Slot {
    hash: u32,
    id: u32,
    /// Where the name's length (8 bytes) and then its bytes start in the arena.
    start: usize,
}

impl probing::Slot for Slot {
    fn hash(&self) -> u64 {
        u64::from(self.hash)
    }
}

#[derive(Default, Debug)]
pub(in crate::import::svg) struct NameIndex {
    slots: Vec<Slot>,
    /// Each name's length and bytes, one after another.
    arena: Vec<u8>,
    len: usize,
}

/// The hash of a name (never 0).
#[inline]
pub(in crate::import::svg) fn hash(name: &[u8]) -> u32 {
    let mut hasher = rustc_hash::FxHasher::default();
    hasher.write(name);
    // FxHash's high bits are its best mixed.
    (hasher.finish() >> 32) as u32 | 1
}

impl NameIndex {
    fn home(&self, hash: u32) -> usize {
        probing::home(u64::from(hash), self.slots.len())
    }

    /// Asks for the slot where a search for `hash` starts: only a hint.
    #[inline]
    pub fn prefetch(&self, hash: u32) {
        if !self.slots.is_empty() {
            probing::prefetch(&self.slots[self.home(hash)]);
        }
    }

    /// Asks for the bytes of the name of `len` bytes most likely to be the one of `hash`: only
    /// a hint.
    #[inline]
    pub fn prefetch_name(&self, hash: u32, len: usize) {
        if self.slots.is_empty() {
            return;
        }
        let mask = self.slots.len() - 1;
        let mut at = self.home(hash);
        loop {
            let slot = self.slots[at];
            if slot.hash == 0 {
                return;
            }
            if slot.hash == hash {
                // The length and a few dozen bytes often span two cache lines.
                let start = self.arena.as_ptr().wrapping_add(slot.start);
                probing::prefetch(start);
                probing::prefetch(start.wrapping_add(8 + len.saturating_sub(1)));
                return;
            }
            at = (at + 1) & mask;
        }
    }

    /// The id of `name`, whose hash is `hash`.
    #[inline]
    pub fn get(&self, hash: u32, name: &[u8]) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut at = self.home(hash);
        loop {
            let slot = self.slots[at];
            if slot.hash == 0 {
                return None;
            }
            if slot.hash == hash && self.name_at(slot.start) == Some(name) {
                return Some(slot.id);
            }
            at = (at + 1) & mask;
        }
    }

    fn name_at(&self, start: usize) -> Option<&[u8]> {
        let len = self.arena.get(start..start + 8)?;
        let len = u64::from_le_bytes(len.try_into().ok()?) as usize;
        self.arena.get(start + 8..start + 8 + len)
    }

    /// Adds `name` (not in the table) with `id`.
    pub fn insert(&mut self, hash: u32, name: &[u8], id: u32) {
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let slot = Slot {
            hash,
            id,
            start: self.arena.len(),
        };
        self.arena
            .extend_from_slice(&(name.len() as u64).to_le_bytes());
        self.arena.extend_from_slice(name);
        self.place(slot);
        self.len += 1;
    }

    fn place(&mut self, slot: Slot) {
        probing::place(&mut self.slots, slot);
    }

    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(1 << 8);
        probing::grow(&mut self.slots, size, Slot::default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_found_by_their_bytes_whatever_their_hash() {
        let mut index = NameIndex::default();
        let names: Vec<Vec<u8>> = (0..3000u32)
            .map(|i| format!("fn_{i} (mod{}.py:{})", i % 7, i * 13).into_bytes())
            .chain([Vec::new(), b"a".to_vec(), vec![b'x'; 300]])
            .collect();
        for (id, name) in names.iter().enumerate() {
            assert_eq!(index.get(hash(name), name), None);
            index.insert(hash(name), name, id as u32);
        }
        for (id, name) in names.iter().enumerate() {
            assert_eq!(index.get(hash(name), name), Some(id as u32));
            // A hash that collides with another name's never finds that name.
            assert_eq!(index.get(hash(name), b"not a name"), None);
        }
        // Names that share a hash (forced) are told apart by their bytes.
        let mut forced = NameIndex::default();
        forced.insert(7, b"one", 0);
        forced.insert(7, b"two", 1);
        assert_eq!(forced.get(7, b"one"), Some(0));
        assert_eq!(forced.get(7, b"two"), Some(1));
        assert_eq!(forced.get(7, b"three"), None);
    }
}
