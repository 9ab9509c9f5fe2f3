//! Merging sampled stacks into call trees, on a thread of its own.
//!
//! For a large py-spy file, reading the JSON and merging its stacks each take about half the
//! time, so they run side by side: the reading thread sends stacks of frame indices in batches
//! and this side merges them, one tree per `samples` list, in the order the lists were sent.

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
    ids: Vec<u32>,
    /// Where each stack ends in `ids`.
    ends: Vec<usize>,
}

/// The reading side: collects stacks and sends them on.
pub(super) struct Sink {
    sender: SyncSender<Message>,
    batch: Batch,
    /// `samples` lists finished so far, i.e. the slot of the next one in the merged output.
    lists: usize,
}

impl Sink {
    pub fn new(sender: SyncSender<Message>) -> Self {
        Sink {
            sender,
            batch: Batch::default(),
            lists: 0,
        }
    }

    #[inline]
    pub fn push_frame(&mut self, index: u32) {
        self.batch.ids.push(index);
    }

    pub fn end_stack(&mut self) {
        self.batch.ends.push(self.batch.ids.len());
        if self.batch.ids.len() >= BATCH || self.batch.ends.len() >= BATCH {
            self.flush();
        }
    }

    /// Ends the current `samples` list and returns its slot in [`merge`]'s output.
    pub fn end_list(&mut self) -> usize {
        self.flush();
        // A send fails only if the merging thread is gone, which joining it will report.
        let _ = self.sender.send(Message::End);
        self.lists += 1;
        self.lists - 1
    }

    fn flush(&mut self) {
        if !self.batch.ends.is_empty() {
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
                for &end in &batch.ends {
                    if let Some(stack) = batch.ids.get(start..end) {
                        current.add(stack);
                    }
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
    /// The previous stack as (frame index, node), root first. Consecutive samples mostly share
    /// a long prefix, which is then followed without any lookup.
    path: Vec<(u32, NodeId)>,
}

impl Merger {
    fn new() -> Self {
        Merger {
            tree: CallTreeBuilder::new(),
            leaves: Vec::new(),
            path: Vec::new(),
        }
    }

    fn add(&mut self, stack: &[u32]) {
        let mut node = NodeId::ROOT;
        let mut depth = 0;
        // Follow the previous stack while it agrees.
        for (&index, &(seen, seen_node)) in stack.iter().zip(&self.path) {
            if index != seen {
                break;
            }
            node = seen_node;
            depth += 1;
        }
        self.path.truncate(depth);
        for &index in stack.get(depth..).unwrap_or_default() {
            node = self.tree.child(node, FrameId(index));
            self.path.push((index, node));
        }
        self.leaves.push(node);
    }
}
