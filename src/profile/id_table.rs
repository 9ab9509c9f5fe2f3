//! A hash set of ids whose keys live elsewhere (in a table of frames, an arena of names): the
//! caller hashes a key and says whether an id's key equals it. Eight bytes a slot, at most
//! three slots in four used; a map from hash to id with a chain array cost about twice that.

/// Ids by the hash of their keys, with open addressing and linear probing.
#[derive(Debug, Clone, Default)]
pub(crate) struct IdTable {
    /// (id + 1, the key's 32-bit hash); id + 1 == 0 marks an empty slot.
    slots: Vec<(u32, u32)>,
    len: usize,
}

/// The 64-bit hash folded to the 32 bits a slot keeps.
#[inline]
fn fold(hash: u64) -> u32 {
    (hash ^ (hash >> 32)) as u32
}

impl IdTable {
    pub fn len(&self) -> usize {
        self.len
    }

    /// Makes room for `more` ids beyond those held.
    pub fn reserve(&mut self, more: usize) {
        let wanted = self.len + more;
        if wanted * 4 > self.slots.len() * 3 {
            self.grow_to((wanted * 4 / 3 + 1).next_power_of_two());
        }
    }

    #[inline]
    fn start(&self, short: u32) -> usize {
        // Fibonacci hashing spreads hashes whose low bits repeat.
        let bits = self.slots.len().trailing_zeros();
        (short.wrapping_mul(0x9E37_79B9) as u64 >> (32 - bits.min(32))) as usize
            & (self.slots.len() - 1)
    }

    /// The id whose key `same` accepts among those of hash `hash`.
    #[inline]
    pub fn find(&self, hash: u64, mut same: impl FnMut(u32) -> bool) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let short = fold(hash);
        let mask = self.slots.len() - 1;
        let mut at = self.start(short);
        loop {
            let (id, slot_hash) = self.slots[at];
            if id == 0 {
                return None;
            }
            if slot_hash == short && same(id - 1) {
                return Some(id - 1);
            }
            at = (at + 1) & mask;
        }
    }

    /// Adds `id` under `hash`; the caller has found that no id of an equal key is held.
    pub fn insert(&mut self, hash: u64, id: u32) {
        assert!(id < u32::MAX, "more ids than an IdTable holds");
        self.reserve(1);
        self.place(fold(hash), id + 1);
        self.len += 1;
    }

    fn place(&mut self, short: u32, stored: u32) {
        let mask = self.slots.len() - 1;
        let mut at = self.start(short);
        while self.slots[at].0 != 0 {
            at = (at + 1) & mask;
        }
        self.slots[at] = (stored, short);
    }

    fn grow_to(&mut self, size: usize) {
        let old = std::mem::replace(&mut self.slots, vec![(0, 0); size.max(8)]);
        for (stored, short) in old {
            if stored != 0 {
                self.place(short, stored);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_what_was_inserted_among_colliding_hashes() {
        let keys: Vec<String> = (0..5000).map(|i| format!("k{i}")).collect();
        let mut table = IdTable::default();
        // Every tenth key shares one hash, to exercise the probing and the key comparison.
        let hash = |i: usize| {
            if i.is_multiple_of(10) {
                42
            } else {
                i as u64 * 7919
            }
        };
        for i in 0..keys.len() {
            assert_eq!(table.find(hash(i), |id| keys[id as usize] == keys[i]), None);
            table.insert(hash(i), i as u32);
        }
        assert_eq!(table.len(), keys.len());
        for i in 0..keys.len() {
            let found = table.find(hash(i), |id| keys[id as usize] == keys[i]);
            assert_eq!(found, Some(i as u32));
        }
        assert_eq!(table.find(42, |_| false), None);
    }
}
