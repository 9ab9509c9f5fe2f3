//! Merging sampled stacks into call trees, on a thread of its own.
//!
//! For a large py-spy file, reading the JSON and merging its stacks take comparable time, so
//! they run side by side. The reading thread only has serde_json check each stack's syntax (as a
//! raw value) and sends on where the stacks lie in the file, a batch at a time; this side reads
//! the frame indices out of that text itself and merges them, one tree per `samples` list, in
//! the order the lists were sent.
//!
//! Anything here that is not a plain list of frame indices in range (a fraction, a sign, a
//! nested list) is something the file's exact reading rejects, so this side only gives up on
//! it, and the caller reads the file again the exact way to say what is wrong and where.
//!
//! Consecutive samples mostly share a long prefix (the same code, a few lines deeper or not at
//! all), so each stack's text is first compared with the one before: the frames of the part
//! they have in common are already on the path from the root, and the tree is only searched
//! from where they part.
//!
//! When `shared` came first, each frame's function is known before any stack, and this side
//! also marks the nodes that are the outermost call of their function on their path: summing
//! those nodes' totals gives each function's total with recursion counted once, without a walk
//! of the tree (see `build.rs`).

use std::ops::Range;
use std::sync::mpsc::{Receiver, SyncSender};

use crate::profile::{CallTreeBuilder, FrameId, NodeId, ShapedTree, TimelineSample};

/// Bytes of stack text per batch: large enough that sending is rare, small enough to stay in
/// cache.
const BATCH_BYTES: usize = 1 << 16;

pub(super) enum Message {
    /// The function of each frame index, and so also the number of frames: sent before any
    /// stack when `shared` came before `profiles`.
    Functions(Vec<u32>),
    /// `count` stacks in `json[start..end]`, separated by commas and whitespace.
    Stacks {
        start: usize,
        end: usize,
        count: usize,
    },
    /// The current `samples` list has ended; what follows belongs to the next one.
    End,
    /// A stack that was not where it should be in the text; nothing more can be trusted.
    Lost,
}

/// The reading side: notes where stacks lie and sends them on.
pub(super) struct Sink {
    sender: SyncSender<Message>,
    /// Address and length of the text being read, to turn a stack's text into a range of it.
    base: usize,
    len: usize,
    /// The range of the stacks not sent yet, and how many they are.
    start: usize,
    end: usize,
    count: usize,
    /// `samples` lists finished so far, i.e. the slot of the next one in the merged output.
    lists: usize,
}

impl Sink {
    /// A sink for stacks read out of `json`, which the merging side must be given as well.
    pub fn new(sender: SyncSender<Message>, json: &[u8]) -> Self {
        Sink {
            sender,
            base: json.as_ptr() as usize,
            len: json.len(),
            start: 0,
            end: 0,
            count: 0,
            lists: 0,
        }
    }

    /// Tells the merging side each frame index's function. Only before any stack.
    pub fn functions(&mut self, funcs: Vec<u32>) {
        // A send fails only if the merging thread is gone, which joining it will report.
        let _ = self.sender.send(Message::Functions(funcs));
    }

    /// One stack, as serde_json found it: a slice of the text being read.
    #[inline]
    pub fn push_stack(&mut self, text: &str) {
        let at = (text.as_ptr() as usize).wrapping_sub(self.base);
        let Some(end) = at.checked_add(text.len()).filter(|&end| end <= self.len) else {
            let _ = self.sender.send(Message::Lost);
            return;
        };
        if self.count == 0 {
            self.start = at;
        }
        self.end = end;
        self.count += 1;
        if self.end - self.start >= BATCH_BYTES {
            self.flush();
        }
    }

    /// Ends the current `samples` list and returns its slot in [`merge`]'s output.
    pub fn end_list(&mut self) -> usize {
        self.flush();
        let _ = self.sender.send(Message::End);
        self.lists += 1;
        self.lists - 1
    }

    fn flush(&mut self) {
        if self.count > 0 {
            let _ = self.sender.send(Message::Stacks {
                start: self.start,
                end: self.end,
                count: self.count,
            });
            self.count = 0;
        }
    }
}

/// The stacks of one `samples` list, merged; `leaves` holds each sample's node in file order.
/// The tree's child rows are made here too, while the reading side goes on to the weights.
pub(super) struct SampledTree {
    pub tree: ShapedTree,
    pub leaves: Vec<NodeId>,
    /// When functions were known: a bit per node, set where no ancestor of the node is of the
    /// same function.
    pub outermost: Option<Vec<u64>>,
}

impl SampledTree {
    /// Whether bit `node` of an [`SampledTree::outermost`] set is set.
    pub fn is_outermost(outermost: &[u64], node: NodeId) -> bool {
        let i = node.0 as usize;
        outermost
            .get(i / 64)
            .is_some_and(|word| word >> (i % 64) & 1 != 0)
    }

    /// Puts each sample's weight on its leaf, in file order. Weightless samples are dropped, as
    /// speedscope drops them; their nodes, left weightless, are dropped when the tree is mapped.
    pub fn weigh(mut self, weights: &[f64]) -> (ShapedTree, Vec<TimelineSample>) {
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

/// What the merging side made of everything it was sent.
pub(super) struct Merged {
    /// One tree per `samples` list, in order.
    pub trees: Vec<SampledTree>,
    /// The largest frame index of any stack.
    pub max_frame: Option<u32>,
    /// Set when some stack was not a plain list of frame indices in range: the file needs its
    /// exact reading, which will reject it.
    pub gave_up: bool,
}

/// The merging side: reads the stacks out of `json` and merges them, one tree per list.
pub(super) fn merge(json: &[u8], receiver: Receiver<Message>) -> Merged {
    let mut merged = Merged {
        trees: Vec::new(),
        max_frame: None,
        gave_up: false,
    };
    let mut funcs: Option<Vec<u32>> = None;
    let mut current = Merger::new(None);
    // Every message is taken even after giving up, so that the reading side never waits.
    for message in receiver {
        if merged.gave_up {
            continue;
        }
        match message {
            Message::Functions(list) => {
                current = Merger::new(Some(&list));
                funcs = Some(list);
            }
            Message::Stacks { start, end, count } => {
                let read = current
                    .read_stacks(json, start..end, funcs.as_deref())
                    .filter(|&read| read == count);
                if read.is_none() {
                    merged.gave_up = true;
                }
            }
            Message::End => {
                let fresh = Merger::new(funcs.as_deref());
                let done = std::mem::replace(&mut current, fresh);
                merged.max_frame = merged.max_frame.max(done.max_frame);
                merged.trees.push(SampledTree {
                    tree: done.tree.shape(),
                    leaves: done.leaves,
                    outermost: funcs.is_some().then_some(done.outermost),
                });
            }
            Message::Lost => merged.gave_up = true,
        }
    }
    merged
}

struct Merger {
    tree: CallTreeBuilder,
    leaves: Vec<NodeId>,
    /// The nodes of the stack before, root first, and their frame indices.
    path: Vec<NodeId>,
    path_frames: Vec<u32>,
    /// Per function, how many times it is on `path` (kept only when functions are known).
    on_path: Vec<u32>,
    /// See [`SampledTree::outermost`].
    outermost: Vec<u64>,
    max_frame: Option<u32>,
    /// Where the stack before lies in the text, and where each of its frame indices ends,
    /// counted from its `[`: a stack that starts with the same bytes starts with the same frames.
    previous: Range<usize>,
    ends: Vec<usize>,
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
            max_frame: None,
            previous: 0..0,
            ends: Vec::new(),
        }
    }

    /// Reads and merges the stacks in `json[range]`, returning how many there were; `None` if
    /// any is not a plain list of frame indices below the frame count (when known).
    fn read_stacks(
        &mut self,
        json: &[u8],
        range: Range<usize>,
        funcs: Option<&[u32]>,
    ) -> Option<usize> {
        // u32::MAX itself is never a frame index: the tree reserves it for its root.
        let limit = funcs.map_or(u32::MAX, |funcs| {
            u32::try_from(funcs.len()).unwrap_or(u32::MAX)
        });
        let text = json.get(..range.end)?;
        let mut at = range.start;
        let mut count = 0;
        loop {
            let start = skip_space(text, at);
            let rest = text.get(start..)?;
            let previous = text.get(self.previous.clone()).unwrap_or_default();
            let same = common_prefix(previous, rest);
            if same == previous.len() && same > 0 {
                // The very stack before, `]` and all.
                at = start + same;
            } else {
                // The frames whose digits and the byte after them are all in common.
                let shared = self.ends.partition_point(|&end| end < same);
                self.truncate(shared, funcs);
                self.ends.truncate(shared);
                let mut after_index = shared > 0;
                at = match self.ends.last() {
                    Some(&end) => start + end,
                    None => {
                        if rest.first() != Some(&b'[') {
                            return None;
                        }
                        let first = skip_space(text, start + 1);
                        // An empty stack reads as if after its last index.
                        after_index = text.get(first) == Some(&b']');
                        first
                    }
                };
                loop {
                    if after_index {
                        at = skip_space(text, at);
                        match text.get(at) {
                            Some(b',') => at = skip_space(text, at + 1),
                            Some(b']') => {
                                at += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                    let (value, digits) = match eight_digits(text, at) {
                        Some(read) => read,
                        None => slow_digits(text, at)?,
                    };
                    // No digits, or a leading zero (which JSON forbids, so serde_json has already
                    // refused it).
                    if digits == 0 || (digits > 1 && text.get(at) == Some(&b'0')) {
                        return None;
                    }
                    let index = u32::try_from(value).ok().filter(|&index| index < limit)?;
                    if self.max_frame < Some(index) {
                        self.max_frame = Some(index);
                    }
                    at += digits;
                    self.push(index, funcs);
                    self.ends.push(at - start);
                    after_index = true;
                }
            }
            self.leaves
                .push(self.path.last().copied().unwrap_or(NodeId::ROOT));
            self.previous = start..at;
            count += 1;
            at = skip_space(text, at);
            match text.get(at) {
                None => break,
                Some(b',') => at += 1,
                Some(_) => return None,
            }
        }
        Some(count)
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

/// The position of the first byte at or after `at` that is not JSON whitespace.
#[inline]
fn skip_space(text: &[u8], mut at: usize) -> usize {
    while let Some(b' ' | b'\n' | b'\r' | b'\t') = text.get(at) {
        at += 1;
    }
    at
}

/// How many bytes `a` and `b` start with in common, compared eight at a time.
#[inline]
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let len = a.len().min(b.len());
    let mut at = 0;
    while let (Some(x), Some(y)) = (a.get(at..at + 8), b.get(at..at + 8)) {
        let (Ok(x), Ok(y)) = (<[u8; 8]>::try_from(x), <[u8; 8]>::try_from(y)) else {
            break;
        };
        let differ = u64::from_le_bytes(x) ^ u64::from_le_bytes(y);
        if differ != 0 {
            return at + (differ.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    while at < len && a.get(at) == b.get(at) {
        at += 1;
    }
    at
}

/// The number of digits at `at` and their value, read eight bytes at a time without a branch
/// per digit (the lengths of frame indices vary too much for such branches to be predicted).
/// `None` when fewer than eight bytes are left or all eight are digits.
#[inline]
fn eight_digits(text: &[u8], at: usize) -> Option<(u64, usize)> {
    let bytes: [u8; 8] = text.get(at..at.checked_add(8)?)?.try_into().ok()?;
    // Digits become 0..=9 and nothing else does.
    let values = u64::from_le_bytes(bytes) ^ 0x3030_3030_3030_3030;
    // The high bit of every byte that is not 0..=9. Adding may carry out of a byte that is not,
    // but only into the bytes after it, which are never looked at.
    let not_digit = (values.wrapping_add(0x7676_7676_7676_7676) | values) & 0x8080_8080_8080_8080;
    if not_digit == 0 {
        return None;
    }
    let digits = (not_digit.trailing_zeros() / 8) as usize;
    if digits == 0 {
        return Some((0, 0));
    }
    // The digits moved to the top bytes, so that the bytes below read as leading zeros: the
    // first digit is then the most significant, as the multiplications below expect.
    let mut v = values << (64 - 8 * digits);
    v = (v & 0x0F0F_0F0F_0F0F_0F0F).wrapping_mul(2561) >> 8;
    v = (v & 0x00FF_00FF_00FF_00FF).wrapping_mul(6_553_601) >> 16;
    v = (v & 0x0000_FFFF_0000_FFFF).wrapping_mul(42_949_672_960_001) >> 32;
    Some((v, digits))
}

/// [`eight_digits`] one digit at a time, for the end of the text and long numbers. `None` past
/// ten digits, more than any `u32` has.
fn slow_digits(text: &[u8], at: usize) -> Option<(u64, usize)> {
    let mut value: u64 = 0;
    let mut digits = 0;
    while let Some(&digit @ b'0'..=b'9') = text.get(at + digits) {
        value = value * 10 + u64::from(digit - b'0');
        digits += 1;
        if digits > 10 {
            return None;
        }
    }
    Some((value, digits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_read_eight_at_a_time_agree_with_parsing() {
        let mut numbers: Vec<u64> = vec![0, 1, 9, 10, 99, 100, 12_345_678, 99_999_999];
        numbers.extend((0..10).map(|p| 10u64.pow(p) + 7));
        for n in numbers {
            for after in [",", "]", " ,", ".5", "e1", "]]]]]]]]]"] {
                let text = format!("{n}{after}");
                let digits = n.to_string().len();
                let expected = (text.len() >= 8 && digits < 8).then_some((n, digits));
                assert_eq!(eight_digits(text.as_bytes(), 0), expected, "{text}");
                let slow = (digits <= 10).then_some((n, digits));
                assert_eq!(slow_digits(text.as_bytes(), 0), slow, "{text}");
            }
        }
        assert_eq!(eight_digits(b"x1234567", 0), Some((0, 0)));
        assert_eq!(eight_digits(b"1234567", 0), None);
        assert_eq!(slow_digits(b"12345678901", 0), None);
    }

    #[test]
    fn common_prefixes_of_every_length() {
        let a = b"[12,345,6789,0,1,22,333,4444]";
        for len in 0..=a.len() {
            let mut b = a.to_vec();
            if len < b.len() {
                b[len] = b'x';
            }
            assert_eq!(common_prefix(a, &b), len);
            assert_eq!(common_prefix(&b, a), len);
            assert_eq!(common_prefix(&a[..len], a), len);
        }
    }
}
