//! The frame and bare name of each (name, args) of an event as written, so that an event seen
//! before costs one hash and one comparison.
//!
//! Looking one up is most of what taking an event costs beyond reading it, and what it costs is
//! cache misses: a map to an entry to a copy of the key was three in a row for each event (a
//! third of a gigabyte's reading). Here a key's hash, value and first bytes share one cache
//! line, a slot of an open table, and only the bytes of a longer key lie elsewhere. The keys
//! are copies: keys borrowed from the file sat each on a page of its own.

use crate::import::probing;
use std::hash::Hasher;

use rustc_hash::FxHasher;

use crate::profile::FrameId;

/// Bytes of a key kept in its slot.
const INLINE: usize = 36;

#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Slot {
    /// The key's hash, never 0; 0 for an empty slot.
    hash: u64,
    frame: FrameId,
    name: u32,
    name_len: u32,
    args_len: u32,
    /// Where the key's bytes past [`INLINE`] are in `RawKeys::rest`.
    rest_at: u32,
    inline: [u8; INLINE],
}

impl probing::Slot for Slot {
    fn hash(&self) -> u64 {
        self.hash
    }
}

const EMPTY: Slot = Slot {
    hash: 0,
    frame: FrameId(0),
    name: 0,
    name_len: 0,
    args_len: 0,
    rest_at: 0,
    inline: [0; INLINE],
};

pub(super) struct RawKeys {
    /// A power of two of them, at most half full.
    slots: Vec<Slot>,
    len: usize,
    rest: Vec<u8>,
    /// A key with args, made whole to be compared.
    joined: Vec<u8>,
}

impl Default for RawKeys {
    fn default() -> Self {
        RawKeys {
            slots: vec![EMPTY; 64],
            len: 0,
            rest: Vec::new(),
            joined: Vec::new(),
        }
    }
}

fn hash(name: &[u8], args: &[u8]) -> u64 {
    let mut h = FxHasher::default();
    h.write(name);
    // Most keys have no args: their hash is the name's alone (slots compare both lengths).
    if !args.is_empty() {
        // No byte of UTF-8: the name's end is part of the key.
        h.write_u8(0xFF);
        h.write(args);
    }
    h.finish() | 1
}

impl RawKeys {
    /// The slot where `hash` begins its probe.
    fn home(&self, hash: u64) -> usize {
        probing::home(hash, self.slots.len())
    }

    /// Asks for the slot where `(name, args)` is looked up to be brought into the cache.
    #[inline]
    pub(super) fn prefetch(&self, name: &[u8], args: &[u8]) -> u64 {
        let hash = hash(name, args);
        let home = self.slots.as_ptr().wrapping_add(self.home(hash));
        crate::import::probing::prefetch(home);
        // The probe goes on to the next slot about as often as not at half full: one more
        // line, where it missed the cache as often as the first.
        crate::import::probing::prefetch(home.wrapping_add(1));
        hash
    }

    /// What `(name, args)` was given by [`RawKeys::insert`]; `known` is their hash if
    /// [`RawKeys::prefetch`] gave it.
    #[inline]
    pub(super) fn get(
        &mut self,
        name: &[u8],
        args: &[u8],
        known: Option<u64>,
    ) -> Option<(FrameId, u32)> {
        let key = if args.is_empty() {
            name
        } else {
            self.joined.clear();
            self.joined.extend_from_slice(name);
            self.joined.extend_from_slice(args);
            &self.joined
        };
        let hash = known.unwrap_or_else(|| hash(name, args));
        let mask = self.slots.len() - 1;
        let mut at = self.home(hash);
        loop {
            let slot = &self.slots[at];
            if slot.hash == 0 {
                return None;
            }
            if slot.hash == hash
                && slot.name_len as usize == name.len()
                && slot.args_len as usize == args.len()
            {
                if let Some(inline) = slot.inline.get(..key.len()) {
                    if same_inline(inline, key) {
                        return Some((slot.frame, slot.name));
                    }
                } else {
                    let (head, tail) = key.split_at(INLINE);
                    let rest = self.rest.get(slot.rest_at as usize..).unwrap_or(&[]);
                    if same(&slot.inline, head)
                        && rest.len() >= tail.len()
                        && same(&rest[..tail.len()], tail)
                    {
                        return Some((slot.frame, slot.name));
                    }
                }
            }
            at = (at + 1) & mask;
        }
    }

    /// Gives `(name, args)`, which [`RawKeys::get`] did not find, its value.
    pub(super) fn insert(&mut self, name: &[u8], args: &[u8], (frame, id): (FrameId, u32)) {
        let (Ok(name_len), Ok(args_len), Ok(rest_at)) = (
            u32::try_from(name.len()),
            u32::try_from(args.len()),
            u32::try_from(self.rest.len()),
        ) else {
            // Keys past 4 GB: the rest are found the slow way each time.
            return;
        };
        let mut slot = Slot {
            hash: hash(name, args),
            frame,
            name: id,
            name_len,
            args_len,
            rest_at,
            inline: [0; INLINE],
        };
        let mut key = name.iter().chain(args);
        for (to, &from) in slot.inline.iter_mut().zip(&mut key) {
            *to = from;
        }
        self.rest.extend(key);
        if (self.len + 1) * 2 > self.slots.len() {
            let size = self.slots.len() * 2;
            probing::grow(&mut self.slots, size, EMPTY);
        }
        self.place(slot);
        self.len += 1;
    }

    fn place(&mut self, slot: Slot) {
        probing::place(&mut self.slots, slot);
    }
}

/// Whether two slices of the same length hold the same bytes: word by word, inline, where
/// `memcmp` is a call.
#[inline]
fn same(a: &[u8], b: &[u8]) -> bool {
    let (mut wa, mut wb) = (a.chunks_exact(8), b.chunks_exact(8));
    let word = |w: &[u8]| <[u8; 8]>::try_from(w).map_or(0, u64::from_ne_bytes);
    let mut diff = 0u64;
    for (x, y) in (&mut wa).zip(&mut wb) {
        diff |= word(x) ^ word(y);
    }
    diff == 0 && wa.remainder().iter().eq(wb.remainder())
}

/// [`same`] for a key held whole in its slot: by words, the last of them overlapping the one
/// before it, where `same` went through the bytes past the last whole word one at a time.
#[inline]
fn same_inline(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n < 8 || b.len() != n {
        return a == b;
    }
    let word = |s: &[u8], i: usize| {
        s.get(i..i + 8)
            .and_then(|w| <[u8; 8]>::try_from(w).ok())
            .map_or(0, u64::from_ne_bytes)
    };
    let mut diff = word(a, n - 8) ^ word(b, n - 8);
    let mut i = 0;
    while i + 8 < n {
        diff |= word(a, i) ^ word(b, i);
        i += 8;
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_keys_are_compared_at_every_byte() {
        for n in 0..=INLINE {
            let a: Vec<u8> = (0..n as u8).map(|i| b'a' + i % 26).collect();
            assert!(same_inline(&a, &a));
            for at in 0..n {
                let mut b = a.clone();
                b[at] ^= 0x20;
                assert!(!same_inline(&a, &b), "{n} {at}");
            }
        }
    }

    #[test]
    fn keys_are_told_apart_by_every_byte_and_where_the_name_ends() {
        let mut keys = RawKeys::default();
        let long = "a much longer name than fits in a slot (/some/where/deep/file.py:12)";
        let mut pairs: Vec<(String, String)> = vec![
            ("ab".into(), "c".into()),
            ("a".into(), "bc".into()),
            ("abc".into(), "".into()),
            ("a long name (file.py:12)".into(), "".into()),
            ("a long name (file.py:13)".into(), "".into()),
            ("a long name (file.py:12)".into(), r#"{"x":1}"#.into()),
            (long.into(), "".into()),
            (long.replace("12", "13"), "".into()),
            (long.into(), r#"{"filename": "a.py", "line": 3}"#.into()),
        ];
        // Enough to grow the table a few times.
        pairs.extend((0..500).map(|i| (format!("f{i}"), String::new())));
        for (i, (name, args)) in pairs.iter().enumerate() {
            assert_eq!(keys.get(name.as_bytes(), args.as_bytes(), None), None);
            keys.insert(
                name.as_bytes(),
                args.as_bytes(),
                (FrameId(i as u32), i as u32),
            );
        }
        for (i, (name, args)) in pairs.iter().enumerate() {
            assert_eq!(
                keys.get(name.as_bytes(), args.as_bytes(), None),
                Some((FrameId(i as u32), i as u32))
            );
        }
        assert_eq!(keys.get(b"a long name (file.py:14)", b"", None), None);
        assert_eq!(
            keys.get(long.replace("12", "14").as_bytes(), b"", None),
            None
        );
    }
}
