//! The children of a tree's wide nodes, by (parent, frame).

use super::{FrameId, NodeId};

/// Children of wide nodes by (parent, frame): open addressing, linear probing, at most three
/// slots in four used. Each slot holds its whole key beside the child, so a lookup reads one
/// slot and not, as a table of ids alone would, the child's parent and frame as well: on a
/// tree of tens of millions of nodes each of those reads is a cache miss of its own.
#[derive(Debug, Clone, Default)]
pub(super) struct WideIndex {
    /// (parent, frame, child + 1); child + 1 == 0 marks an empty slot.
    slots: Vec<[u32; 3]>,
    len: usize,
}

impl WideIndex {
    #[inline]
    fn start(&self, parent: NodeId, frame: FrameId) -> usize {
        let key = (u64::from(parent.0) << 32) | u64::from(frame.0);
        let bits = self.slots.len().trailing_zeros();
        // Fibonacci hashing: the multiply mixes both halves into the high bits kept.
        (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - bits.clamp(1, 63))) as usize
            & (self.slots.len() - 1)
    }

    /// The child of `parent` for `frame`, if indexed.
    #[inline]
    pub fn find(&self, parent: NodeId, frame: FrameId) -> Option<NodeId> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut at = self.start(parent, frame);
        loop {
            let [p, f, stored] = self.slots[at];
            if stored == 0 {
                return None;
            }
            if p == parent.0 && f == frame.0 {
                return Some(NodeId(stored - 1));
            }
            at = (at + 1) & mask;
        }
    }

    /// Asks memory for the slot [`WideIndex::find`] of `parent` and `frame` reads first.
    #[inline]
    pub fn prefetch(&self, parent: NodeId, frame: FrameId) {
        if !self.slots.is_empty() {
            super::warm::prefetch(self.slots.as_ptr().wrapping_add(self.start(parent, frame)));
        }
    }

    /// Indexes `child` as `parent`'s child for `frame`; the caller has found none indexed.
    pub fn insert(&mut self, parent: NodeId, frame: FrameId, child: u32) {
        assert!(child < u32::MAX, "more nodes than a WideIndex holds");
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            let size = (self.slots.len() * 2).max(16);
            let old = std::mem::replace(&mut self.slots, vec![[0; 3]; size]);
            for slot in old {
                if slot[2] != 0 {
                    self.place(slot);
                }
            }
        }
        self.place([parent.0, frame.0, child + 1]);
        self.len += 1;
    }

    fn place(&mut self, slot: [u32; 3]) {
        let mask = self.slots.len() - 1;
        let mut at = self.start(NodeId(slot[0]), FrameId(slot[1]));
        while self.slots[at][2] != 0 {
            at = (at + 1) & mask;
        }
        self.slots[at] = slot;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_child_by_its_parent_and_frame() {
        let mut index = WideIndex::default();
        let key = |i: u32| (NodeId(i % 97), FrameId(i / 97));
        for i in 0..20_000u32 {
            let (parent, frame) = key(i);
            assert_eq!(index.find(parent, frame), None);
            index.insert(parent, frame, i + 1000);
        }
        for i in 0..20_000u32 {
            let (parent, frame) = key(i);
            assert_eq!(index.find(parent, frame), Some(NodeId(i + 1000)));
        }
        assert_eq!(index.find(NodeId(0), FrameId(20_000)), None);
        assert_eq!(index.find(NodeId(97), FrameId(0)), None);
    }
}
