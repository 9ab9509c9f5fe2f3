//! Merging sampled stacks into call trees, on a thread of its own.
//!
//! For a large py-spy file, reading the JSON and merging its stacks take comparable time, so
//! they run side by side: the reading thread sends stacks of frame indices in batches and this
//! side merges them, one tree per `samples` list, in the order the lists were sent.
//!
//! Consecutive samples mostly share a long prefix (the same code, a few lines deeper or not at
//! all), so the reading side sends each stack as the length it shares with the one before plus
//! the frames after that, and the merging side walks the tree only from where they part.

use std::sync::mpsc::{Receiver, SyncSender};

use crate::profile::{CallTreeBuilder, FrameId, NodeId, TimelineSample};

/// Frame indices per batch: large enough that sending is rare, small enough to stay in cache.
const BATCH: usize = 1 << 15;

pub(super) enum Message {
    Stacks(Batch),
    /// The current `samples` list has ended; what follows belongs to the next one.
    End,
}

#[derive(Default)]
pub(super) struct Batch {
    /// The frames of each stack after the part it shares with the stack before.
    ids: Vec<u32>,
    /// Per stack: where its frames end in `ids`, and how many frames it shares with the stack
    /// before.
    stacks: Vec<(usize, usize)>,
}

/// The reading side: collects stacks and sends them on.
pub(super) struct Sink {
    sender: SyncSender<Message>,
    batch: Batch,
    /// `samples` lists finished so far, i.e. the slot of the next one in the merged output.
    lists: usize,
    /// The stack before, then the current one once they part.
    previous: Vec<u32>,
    /// Frames of the current stack seen so far.
    depth: usize,
    /// Frames the current stack shares with the one before, once known to part from it.
    parted_at: Option<usize>,
}

impl Sink {
    pub fn new(sender: SyncSender<Message>) -> Self {
        Sink {
            sender,
            batch: Batch::default(),
            lists: 0,
            previous: Vec::new(),
            depth: 0,
            parted_at: None,
        }
    }

    #[inline]
    pub fn push_frame(&mut self, index: u32) {
        if self.parted_at.is_none() {
            if self.previous.get(self.depth) == Some(&index) {
                self.depth += 1;
                return;
            }
            self.parted_at = Some(self.depth);
            self.previous.truncate(self.depth);
        }
        self.previous.push(index);
        self.batch.ids.push(index);
        self.depth += 1;
    }

    pub fn end_stack(&mut self) {
        // A stack that never parted is the one before or a prefix of it.
        let shared = self.parted_at.take().unwrap_or(self.depth);
        self.previous.truncate(self.depth);
        self.depth = 0;
        self.batch.stacks.push((self.batch.ids.len(), shared));
        if self.batch.ids.len() >= BATCH || self.batch.stacks.len() >= BATCH {
            self.flush();
        }
    }

    /// Ends the current `samples` list and returns its slot in [`merge`]'s output.
    pub fn end_list(&mut self) -> usize {
        self.previous.clear();
        self.flush();
        // A send fails only if the merging thread is gone, which joining it will report.
        let _ = self.sender.send(Message::End);
        self.lists += 1;
        self.lists - 1
    }

    fn flush(&mut self) {
        if !self.batch.stacks.is_empty() {
            let batch = std::mem::take(&mut self.batch);
            let _ = self.sender.send(Message::Stacks(batch));
        }
    }
}

/// The stacks of one `samples` list, merged; `leaves` holds each sample's node in file order.
pub(super) struct SampledTree {
    pub tree: CallTreeBuilder,
    pub leaves: Vec<NodeId>,
}

impl SampledTree {
    /// Puts each sample's weight on its leaf, in file order. Weightless samples are dropped, as
    /// speedscope drops them; their nodes, left weightless, are dropped when the tree is mapped.
    pub fn weigh(mut self, weights: &[f64]) -> (CallTreeBuilder, Vec<TimelineSample>) {
        let mut timeline = Vec::with_capacity(self.leaves.len());
        for (&leaf, &weight) in self.leaves.iter().zip(weights) {
            if weight != 0.0 {
                self.tree.add_self(leaf, weight);
                timeline.push(TimelineSample { leaf, weight });
            }
        }
        (self.tree, timeline)
    }
}

/// The merging side: one tree per `samples` list, in order.
pub(super) fn merge(receiver: Receiver<Message>) -> Vec<SampledTree> {
    let mut done = Vec::new();
    let mut current = Merger::new();
    for message in receiver {
        match message {
            Message::Stacks(batch) => {
                let mut start = 0;
                for &(end, shared) in &batch.stacks {
                    current.add(shared, batch.ids.get(start..end).unwrap_or_default());
                    start = end;
                }
            }
            Message::End => {
                let merger = std::mem::replace(&mut current, Merger::new());
                done.push(SampledTree {
                    tree: merger.tree,
                    leaves: merger.leaves,
                });
            }
        }
    }
    done
}

struct Merger {
    tree: CallTreeBuilder,
    leaves: Vec<NodeId>,
    /// The nodes of the stack before, root first.
    path: Vec<NodeId>,
}

impl Merger {
    fn new() -> Self {
        Merger {
            tree: CallTreeBuilder::new(),
            leaves: Vec::new(),
            path: Vec::new(),
        }
    }

    /// Adds the stack made of the first `shared` frames of the stack before, then `rest`.
    fn add(&mut self, shared: usize, rest: &[u32]) {
        self.path.truncate(shared);
        let mut node = self.path.last().copied().unwrap_or(NodeId::ROOT);
        for &index in rest {
            node = self.tree.child(node, FrameId(index));
            self.path.push(node);
        }
        self.leaves.push(node);
    }
}
