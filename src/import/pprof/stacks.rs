//! The distinct stacks of a profile's samples, each known by the bytes of its packed location
//! ids: an open-addressed table (linear probing, at most half full) whose slots hold each key's
//! hash, where its copy sits in one arena of keys, and its entry.
//!
//! A large profile has far more distinct stacks than fit in the caches, and its samples name
//! them in no order, so finding a sample's stack is a few cache misses: its slot, its key and
//! its sums. [`Stacks::prefetch_slot`] and [`Stacks::prefetch_key`] let the caller ask for them
//! a batch of samples ahead, so that the misses overlap instead of following one another.

use crate::import::probing;
use std::hash::Hasher;

/// One slot: `hash` 0 is an empty slot (every key's hash has its low bit set).
#[derive(Clone, Copy, Default)]
struct Slot {
    hash: u64,
    start: usize,
    len: u32,
    entry: u32,
}

impl probing::Slot for Slot {
    fn hash(&self) -> u64 {
        self.hash
    }
}

#[derive(Default)]
pub(super) struct Stacks {
    slots: Vec<Slot>,
    /// Each key's bytes, one after another.
    arena: Vec<u8>,
    entries: usize,
}

/// The hash of a key (never 0).
pub(super) fn hash(key: &[u8]) -> u64 {
    let mut hasher = rustc_hash::FxHasher::default();
    hasher.write(key);
    hasher.finish() | 1
}

impl Stacks {
    /// How many distinct keys the table holds.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries
    }

    fn home(&self, hash: u64) -> usize {
        probing::home(hash, self.slots.len())
    }

    /// Asks for the slot where a search for `hash` starts.
    pub(super) fn prefetch_slot(&self, hash: u64) {
        if !self.slots.is_empty() {
            probing::prefetch(&self.slots[self.home(hash)]);
        }
    }

    /// Asks for the bytes of the key the slot of `hash` most likely holds, and returns that
    /// key's entry; the caller asks for what it keeps per entry.
    pub(super) fn prefetch_key(&self, hash: u64) -> Option<usize> {
        let slot = self.probe(hash).find(|slot| slot.hash == hash)?;
        // A key of a few dozen bytes often spans two cache lines.
        let key = self.arena.as_ptr().wrapping_add(slot.start);
        probing::prefetch(key);
        probing::prefetch(key.wrapping_add((slot.len as usize).saturating_sub(1)));
        Some(slot.entry as usize)
    }

    /// The slots from the home of `hash` to the first empty one.
    fn probe(&self, hash: u64) -> impl Iterator<Item = &Slot> {
        let mask = self.slots.len().wrapping_sub(1);
        let home = if self.slots.is_empty() {
            0
        } else {
            self.home(hash)
        };
        (0..self.slots.len())
            .map(move |i| &self.slots[(home + i) & mask])
            .take_while(|slot| slot.hash != 0)
    }

    /// The entry of `key`, whose hash is `hash`.
    pub(super) fn find(&self, hash: u64, key: &[u8]) -> Option<u32> {
        self.probe(hash)
            .find(|slot| {
                slot.hash == hash
                    && slot.len as usize == key.len()
                    && &self.arena[slot.start..slot.start + key.len()] == key
            })
            .map(|slot| slot.entry)
    }

    /// Adds `key` (not in the table, at most `u32::MAX` bytes long) as the next entry, and
    /// returns that entry.
    pub(super) fn insert(&mut self, hash: u64, key: &[u8]) -> u32 {
        if (self.entries + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let entry = self.entries as u32;
        let slot = Slot {
            hash,
            start: self.arena.len(),
            len: key.len() as u32,
            entry,
        };
        self.arena.extend_from_slice(key);
        self.place(slot);
        self.entries += 1;
        entry
    }

    fn place(&mut self, slot: Slot) {
        probing::place(&mut self.slots, slot);
    }

    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(1 << 10);
        probing::grow(&mut self.slots, size, Slot::default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_found_by_their_bytes_through_growth_and_collisions() {
        let mut stacks = Stacks::default();
        let keys: Vec<Vec<u8>> = (0..5000u32)
            .map(|i| i.to_le_bytes()[..1 + i as usize % 4].to_vec())
            .collect();
        let mut entries = Vec::new();
        for key in &keys {
            let h = hash(key);
            match stacks.find(h, key) {
                Some(entry) => entries.push(entry),
                None => entries.push(stacks.insert(h, key)),
            }
        }
        // Equal keys (the short ones repeat) share an entry; distinct keys never do.
        for (a, ka) in keys.iter().enumerate() {
            for (b, kb) in keys.iter().enumerate().skip(a + 1).take(64) {
                assert_eq!(ka == kb, entries[a] == entries[b], "{ka:?} {kb:?}");
            }
        }
        // A key with another's hash (as if they collided) is still told apart by its bytes.
        let (h, key) = (hash(&keys[7]), &keys[7]);
        let before = stacks.len();
        assert_eq!(stacks.find(h, b"not a key"), None);
        let other = stacks.insert(h, b"not a key");
        assert_eq!(stacks.find(h, b"not a key"), Some(other));
        assert_eq!(stacks.find(h, key), Some(entries[7]));
        assert_eq!(stacks.len(), before + 1);
        assert_eq!(stacks.prefetch_key(hash(b"absent")), None);
    }
}
