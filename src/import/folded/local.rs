//! Frames as a reading thread sees them: each distinct text an id, counted from 0 in the order
//! first seen, before they are interned into the profile's frame table.

use std::hash::BuildHasher;

use rustc_hash::FxBuildHasher;

use crate::profile::id_table::IdTable;

/// Frame texts by id, and an index to find the id of a text.
#[derive(Default)]
pub(super) struct LocalFrames {
    /// Ids by the hash of their text, which is kept in `text`.
    index: IdTable,
    text: FrameText,
}

impl LocalFrames {
    /// The id of the frame `raw`, and whether it was first seen now. Inlined: it is most of
    /// the readers' work, once a frame.
    #[inline(always)]
    pub fn id(&mut self, raw: &[u8]) -> (u32, bool) {
        let hash = FxBuildHasher.hash_one(raw);
        let text = &self.text;
        if let Some(id) = self.index.find(hash, |id| same_bytes(text.get(id), raw)) {
            return (id, false);
        }
        let id = self.text.len() as u32;
        self.text.push(raw);
        self.index.insert(hash, id);
        (id, true)
    }

    /// The id of the frame `raw`, if it has one.
    pub fn find(&self, raw: &[u8]) -> Option<u32> {
        let text = &self.text;
        self.index.find(FxBuildHasher.hash_one(raw), |id| {
            same_bytes(text.get(id), raw)
        })
    }

    /// The text of every frame by id, the index let go.
    pub fn into_text(self) -> FrameText {
        self.text
    }

    pub fn get(&self, id: u32) -> &[u8] {
        self.text.get(id)
    }
}

/// `a == b`, inline: frames are a few tens of bytes, for which a call of `memcmp` costs more
/// than the comparison.
#[inline(always)]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let len = a.len();
    if len != b.len() {
        return false;
    }
    if len < 8 {
        return a.iter().zip(b).all(|(x, y)| x == y);
    }
    let word = |eight: &[u8]| u64::from_ne_bytes(eight.try_into().unwrap_or_default());
    // Whole words, then the last eight bytes (which overlap the last whole word where the
    // length is not a multiple of 8).
    a.chunks_exact(8)
        .zip(b.chunks_exact(8))
        .all(|(x, y)| word(x) == word(y))
        && word(&a[len - 8..]) == word(&b[len - 8..])
}

/// The text of every local frame, end to end in one buffer (one allocation, not one a frame: a
/// file of a million distinct names has a million of them).
#[derive(Default)]
pub(super) struct FrameText {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl FrameText {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn push(&mut self, text: &[u8]) {
        self.bytes.extend_from_slice(text);
        self.ends.push(self.bytes.len());
    }

    pub fn get(&self, id: u32) -> &[u8] {
        let i = id as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.bytes[start..self.ends[i]]
    }

    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.len() as u32).map(|id| self.get(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_bytes_is_slice_equality_at_every_length_and_place() {
        let text: Vec<u8> = (0..40u8).map(|i| b'a' + i % 26).collect();
        for len in 0..text.len() {
            let a = &text[..len];
            assert!(same_bytes(a, a));
            assert!(!same_bytes(a, &text[..len + 1]));
            for at in 0..len {
                let mut b = a.to_vec();
                b[at] ^= 1;
                assert!(!same_bytes(a, &b), "length {len}, differing at {at}");
            }
        }
    }

    #[test]
    fn ids_count_from_zero_in_the_order_first_seen() {
        let mut frames = LocalFrames::default();
        assert_eq!(frames.id(b"main"), (0, true));
        assert_eq!(frames.id(b"f (a.py:3)"), (1, true));
        assert_eq!(frames.id(b"main"), (0, false));
        assert_eq!(frames.id(b""), (2, true));
        assert_eq!(
            frames.into_text().iter().collect::<Vec<_>>(),
            [&b"main"[..], b"f (a.py:3)", b""]
        );
    }
}
