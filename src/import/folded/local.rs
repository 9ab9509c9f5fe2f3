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
    /// The id of the frame `raw`, and whether it was first seen now.
    #[inline]
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
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (words_a, words_b) = (a.chunks_exact(8), b.chunks_exact(8));
    let (rest_a, rest_b) = (words_a.remainder(), words_b.remainder());
    words_a.zip(words_b).all(|(x, y)| {
        u64::from_ne_bytes(x.try_into().unwrap_or_default())
            == u64::from_ne_bytes(y.try_into().unwrap_or_default())
    }) && rest_a == rest_b
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
