//! Asking memory ahead of time for what [`CallTreeBuilder::child`] will read.
//!
//! On a tree of tens of millions of nodes, finding an existing child of a node made long ago
//! costs a cache miss per step (the node's child count and first child, each sibling's frame
//! and next sibling, or a slot of the wide index), and each step waits for the one before: at a
//! gigabyte of profile those waits were most of the time spent building. [`CallTreeBuilder::warm`]
//! walks several stacks at once, only finding, one step of each in turn, and asks for each
//! step's memory before it is needed, so that the misses of several stacks overlap; the stacks
//! are then added one after the other, as before, now mostly from the cache. It changes nothing
//! in the tree: a stack that needs a node an earlier stack has yet to make just stops there (such
//! a node is fresh, so in the cache anyway).

use super::{CallTreeBuilder, FrameId, NO_NODE, NodeId, UNINDEXED, WIDE};

/// Stacks walked at once: enough misses in flight to keep memory busy.
const LANES: usize = 8;

/// Asks for the cache line at `p`; no effect on anything the program reads.
#[inline]
pub(super) fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch never faults and reads nothing the program sees; SSE, which it needs,
    // is part of every x86_64.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Where one stack's walk stands.
#[derive(Clone, Copy)]
struct Lane {
    /// Which stack, and how many of its frames are found.
    stack: usize,
    depth: usize,
    /// The node found for the frames so far.
    node: u32,
    /// The sibling to compare next, or [`NO_NODE`] to start on the node's children.
    sibling: u32,
}

impl CallTreeBuilder {
    /// Walks the stacks `frames[ends[i - 1]..ends[i]]` (each from the root, outermost frame
    /// first) as far as the tree already has them, asking for the memory each step reads one
    /// step ahead, several stacks at a time. Returns how many frames of all the stacks were
    /// found (each stack's longest prefix the tree has).
    pub fn warm(&self, frames: &[u32], ends: &[usize]) -> usize {
        let mut found = 0;
        let mut next_stack = 0;
        let mut lanes: [Option<Lane>; LANES] = [None; LANES];
        let mut active = 0;
        for lane in &mut lanes {
            *lane = self.start_lane(&mut next_stack, ends);
            active += usize::from(lane.is_some());
        }
        while active > 0 {
            for slot in &mut lanes {
                let Some(lane) = slot else { continue };
                if !self.step(lane, frames, ends) {
                    found += lane.depth;
                    *slot = self.start_lane(&mut next_stack, ends);
                    if slot.is_none() {
                        active -= 1;
                    }
                }
            }
        }
        found
    }

    fn start_lane(&self, next_stack: &mut usize, ends: &[usize]) -> Option<Lane> {
        while *next_stack < ends.len() {
            let stack = *next_stack;
            *next_stack += 1;
            let start = stack.checked_sub(1).map_or(0, |before| ends[before]);
            if ends[stack] > start {
                return Some(Lane {
                    stack,
                    depth: 0,
                    node: NodeId::ROOT.0,
                    sibling: NO_NODE,
                });
            }
        }
        None
    }

    /// One step of `lane`'s walk; `false` once it can go no further.
    #[inline]
    fn step(&self, lane: &mut Lane, frames: &[u32], ends: &[usize]) -> bool {
        let start = lane.stack.checked_sub(1).map_or(0, |before| ends[before]);
        let end = ends[lane.stack];
        let Some(&frame) = frames
            .get(start + lane.depth)
            .filter(|_| start + lane.depth < end)
        else {
            return false;
        };
        let found = if lane.sibling == NO_NODE {
            let p = lane.node as usize;
            let count = self.child_count[p];
            if (WIDE..UNINDEXED).contains(&count) {
                self.wide_index.find(NodeId(lane.node), FrameId(frame))
            } else {
                let first = self.first_child[p];
                if first == NO_NODE {
                    return false;
                }
                lane.sibling = first;
                self.ask_sibling(first);
                return true;
            }
        } else {
            let at = lane.sibling as usize;
            if self.frames[at] == FrameId(frame) {
                Some(NodeId(lane.sibling))
            } else {
                let next = self.next_sibling[at];
                if next == NO_NODE {
                    return false;
                }
                lane.sibling = next;
                self.ask_sibling(next);
                return true;
            }
        };
        let Some(node) = found else { return false };
        lane.node = node.0;
        lane.sibling = NO_NODE;
        lane.depth += 1;
        if start + lane.depth < end {
            // What the next step reads: the node's child count and first child, and the slot
            // its child would have in the wide index.
            let n = node.0 as usize;
            prefetch(self.child_count.as_ptr().wrapping_add(n));
            prefetch(self.first_child.as_ptr().wrapping_add(n));
            if let Some(&next) = frames.get(start + lane.depth) {
                self.wide_index.prefetch(node, FrameId(next));
            }
        }
        true
    }

    fn ask_sibling(&self, sibling: u32) {
        let at = sibling as usize;
        prefetch(self.frames.as_ptr().wrapping_add(at));
        prefetch(self.next_sibling.as_ptr().wrapping_add(at));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_stack_is_walked_as_far_as_the_tree_has_it() {
        let mut tree = CallTreeBuilder::new();
        let mut frames = Vec::new();
        let mut ends = Vec::new();
        let mut expected = 0;
        let mut added: Vec<Vec<u32>> = Vec::new();
        for i in 0..3000u32 {
            // Wide nodes (the root, its children) and narrow ones; every third stack not added,
            // and every fifth an empty one.
            let stack: Vec<u32> = if i % 5 == 4 {
                Vec::new()
            } else {
                vec![i % 3, 3 + i % 40, 50 + i % 7, 60 + i % 11]
            };
            frames.extend_from_slice(&stack);
            ends.push(frames.len());
            if i % 3 != 0 {
                let ids: Vec<FrameId> = stack.iter().map(|&f| FrameId(f)).collect();
                tree.add_stack(&ids, 1.0);
                added.push(stack);
            }
        }
        // The oracle: the longest prefix each stack shares with a stack that was added.
        let mut start = 0;
        for &end in &ends {
            let stack = &frames[start..end];
            expected += added
                .iter()
                .map(|other| stack.iter().zip(other).take_while(|(a, b)| a == b).count())
                .max()
                .unwrap_or(0);
            start = end;
        }
        assert!(expected > 0 && expected < frames.len());
        assert_eq!(tree.warm(&frames, &ends), expected);
    }
}
