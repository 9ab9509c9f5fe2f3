//! Merging sampled stacks into call trees, on a thread of its own.
//!
//! For a large py-spy file, reading the JSON and merging its stacks take comparable time, so
//! they run side by side: the reading thread sends stacks of frame indices in batches and this
//! side merges them, one tree per `samples` list, in the order the lists were sent.
//!
//! Consecutive samples mostly share a long prefix (the same code, a few lines deeper or not at
//! all), so the reading side sends each stack as the length it shares with the one before plus
//! the frames after that, and the merging side walks the tree only from where they part.
//!
//! When `shared` came first, each frame's function is known before any stack, and this side
//! also marks the nodes that are the outermost call of their function on their path: summing
//! those nodes' totals gives each function's total with recursion counted once, without a walk
//! of the tree (see `build.rs`). When it comes last, the lengths shared with the stack before
//! are kept instead, which lets `build.rs` replay the same walk once the functions are known.
//! Once a list ends, its tree's child rows are made here too, while the reading side goes on.

use std::sync::mpsc::{Receiver, SyncSender};

use super::weights::Weights;
use crate::profile::{CallTreeBuilder, FrameId, NodeId, ShapedTree, TimelineSample};

/// Frame indices per batch: large enough that sending is rare, small enough to stay in cache.
const BATCH: usize = 1 << 15;

pub(super) enum Message {
    /// The function of each frame index: sent before any stack when `shared` came before
    /// `profiles`.
    Functions(Vec<u32>),
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
    /// For [`Sink::push_frame`]: the stack before, then the current one once they part.
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

    /// Tells the merging side each frame index's function. Only before any stack.
    pub fn functions(&mut self, funcs: Vec<u32>) {
        // A send fails only if the merging thread is gone, which joining it will report.
        let _ = self.sender.send(Message::Functions(funcs));
    }

    /// The next frame of the current stack, for a reader that has not compared it with the stack
    /// before: this does, and [`Sink::end_stack`] ends the stack.
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
        self.end_sharing(shared);
    }

    fn flush(&mut self) {
        if !self.batch.stacks.is_empty() {
            let batch = std::mem::take(&mut self.batch);
            let _ = self.sender.send(Message::Stacks(batch));
        }
    }
}

/// Where a reader that finds the frames a stack shares with the one before puts its stacks:
/// the merging side ([`Sink`]) or a count of them (`counting.rs`).
pub(super) trait Stacks {
    /// A frame after the part the current stack shares with the one before;
    /// [`Stacks::end_sharing`] ends the stack.
    fn push_new(&mut self, index: u32);
    /// Ends the current stack, whose first `shared` frames are those of the stack before.
    fn end_sharing(&mut self, shared: usize);
    /// Ends the current `samples` list and returns its slot in the output.
    fn end_list(&mut self) -> usize;
    /// Where in the file the rest of a list is being read apart, from a stack there on.
    fn read_from(&self) -> usize {
        usize::MAX
    }
    /// On arriving at [`Stacks::read_from`]: the stacks read from there, taken as this list's
    /// rest (how many, and where the list ends), or `None` to read on.
    fn take_rest(&mut self, _max_frame: &mut Option<u32>) -> Option<(usize, usize)> {
        None
    }
}

impl Stacks for Sink {
    #[inline]
    fn push_new(&mut self, index: u32) {
        self.batch.ids.push(index);
    }

    #[inline]
    fn end_sharing(&mut self, shared: usize) {
        self.batch.stacks.push((self.batch.ids.len(), shared));
        if self.batch.ids.len() >= BATCH || self.batch.stacks.len() >= BATCH {
            self.flush();
        }
    }

    fn end_list(&mut self) -> usize {
        self.previous.clear();
        self.flush();
        let _ = self.sender.send(Message::End);
        self.lists += 1;
        self.lists - 1
    }
}

/// The stacks of one `samples` list, merged; `leaves` holds each sample's node in file order.
pub(super) struct SampledTree {
    pub tree: ShapedTree,
    pub leaves: Vec<NodeId>,
    /// When functions were known: a bit per node, set where no ancestor of the node is of the
    /// same function.
    pub outermost: Option<Vec<u64>>,
    /// When they were not: for each sample, how many nodes of the path to the sample before
    /// begin its own path (not necessarily all it shares).
    pub kept: Option<Vec<u32>>,
}

impl SampledTree {
    /// Whether bit `node` of an [`SampledTree::outermost`] set is set.
    pub fn is_outermost(outermost: &[u64], node: NodeId) -> bool {
        let i = node.0 as usize;
        outermost
            .get(i / 64)
            .is_some_and(|word| word >> (i % 64) & 1 != 0)
    }

    /// Puts each sample's weight on its leaf, in file order, and gives the timeline if `keep`.
    /// Uniform weights go on as counts, 1 a sample, for [`build`](super::build) to scale once
    /// the tree is summed (see `weights.rs`); the timeline keeps the weights as recorded.
    /// Weightless samples are dropped, as speedscope drops them; their nodes, left weightless,
    /// are dropped when the tree is mapped.
    pub fn weigh(&mut self, weights: &Weights, keep: bool) -> Option<Vec<TimelineSample>> {
        let mut timeline = Vec::with_capacity(if keep { self.leaves.len() } else { 0 });
        for ((&leaf, counted), weight) in self
            .leaves
            .iter()
            .zip(weights.counted())
            .zip(weights.each())
        {
            if weight != 0.0 {
                self.tree.add_self(leaf, counted);
                if keep {
                    timeline.push(TimelineSample { leaf, weight });
                }
            }
        }
        keep.then_some(timeline)
    }
}

/// The merging side: one tree per `samples` list, in order, with its child rows made unless
/// only figures are wanted.
pub(super) fn merge(receiver: Receiver<Message>, rows: bool) -> Vec<SampledTree> {
    let mut done = Vec::new();
    let mut funcs: Option<Vec<u32>> = None;
    let mut current = Merger::new(None);
    for message in receiver {
        match message {
            Message::Functions(list) => {
                current = Merger::new(Some(&list));
                funcs = Some(list);
            }
            Message::Stacks(batch) => {
                let mut start = 0;
                for &(end, shared) in &batch.stacks {
                    let rest = batch.ids.get(start..end).unwrap_or_default();
                    current.add(shared, rest, funcs.as_deref());
                    start = end;
                }
            }
            Message::End => {
                let merger = std::mem::replace(&mut current, Merger::new(funcs.as_deref()));
                done.push(SampledTree {
                    tree: if rows {
                        merger.tree.shape()
                    } else {
                        merger.tree.shape_without_rows()
                    },
                    leaves: merger.leaves,
                    outermost: funcs.is_some().then_some(merger.outermost),
                    kept: funcs.is_none().then_some(merger.kept),
                });
            }
        }
    }
    done
}

struct Merger {
    tree: CallTreeBuilder,
    leaves: Vec<NodeId>,
    /// The nodes of the stack before, root first, and their frame indices.
    path: Vec<NodeId>,
    path_frames: Vec<u32>,
    /// Per function, how many times it is on `path` (kept only when functions are known).
    on_path: Vec<u32>,
    /// See [`SampledTree::outermost`] and [`SampledTree::kept`].
    outermost: Vec<u64>,
    kept: Vec<u32>,
}

impl Merger {
    fn new(funcs: Option<&[u32]>) -> Self {
        let func_count = funcs
            .and_then(|funcs| funcs.iter().max())
            .map_or(0, |&max| max as usize + 1);
        Merger {
            tree: CallTreeBuilder::new(),
            leaves: Vec::new(),
            path: Vec::new(),
            path_frames: Vec::new(),
            on_path: vec![0; func_count],
            outermost: Vec::new(),
            kept: Vec::new(),
        }
    }

    /// Adds the stack made of the first `shared` frames of the stack before, then `rest`.
    fn add(&mut self, shared: usize, rest: &[u32], funcs: Option<&[u32]>) {
        let shared = shared.min(self.path.len());
        self.truncate(shared, funcs);
        if funcs.is_none() {
            self.kept.push(u32::try_from(shared).unwrap_or(0));
        }
        for &index in rest {
            self.push(index, funcs);
        }
        self.leaves
            .push(self.path.last().copied().unwrap_or(NodeId::ROOT));
    }

    /// Steps from the end of `path` into the child for frame `index`.
    #[inline]
    fn push(&mut self, index: u32, funcs: Option<&[u32]>) {
        let parent = self.path.last().copied().unwrap_or(NodeId::ROOT);
        let fresh = self.tree.len();
        let node = self.tree.child(parent, FrameId(index));
        if let Some(funcs) = funcs {
            let func = funcs.get(index as usize).map_or(0, |&f| f as usize);
            if let Some(count) = self.on_path.get_mut(func) {
                if *count == 0 && node.0 as usize == fresh {
                    let word = fresh / 64;
                    if self.outermost.len() <= word {
                        self.outermost.resize(word + 1, 0);
                    }
                    self.outermost[word] |= 1 << (fresh % 64);
                }
                *count += 1;
            }
        }
        self.path.push(node);
        self.path_frames.push(index);
    }

    /// Keeps the first `len` frames of `path`.
    fn truncate(&mut self, len: usize, funcs: Option<&[u32]>) {
        if let Some(funcs) = funcs {
            for &index in self.path_frames.get(len..).unwrap_or_default() {
                let func = funcs.get(index as usize).map_or(0, |&f| f as usize);
                if let Some(count) = self.on_path.get_mut(func) {
                    *count -= 1;
                }
            }
        }
        self.path.truncate(len);
        self.path_frames.truncate(len);
    }
}
