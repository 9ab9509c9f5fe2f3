//! Folded (collapsed) stacks: `frame;frame;frame COUNT` per line, as py-spy `--format raw`,
//! inferno and Brendan Gregg's stackcollapse scripts write them; also differential files
//! (`frames FIRST COUNT`) and py-spy's `--threads` files (a thread frame at every root).
//!
//! Large files are read as a two-stage pipeline so both cores work: a reader thread splits lines
//! and interns frame strings into small integer ids, and the calling thread merges the id stacks
//! into the call trees. The file is streamed in chunks and never held in memory whole.

mod chunks;
mod figures;
mod lines;
mod local;
pub(crate) mod threads;

use std::io::Read;
use std::sync::mpsc;

use memchr::memchr_iter;

use super::{ParseError, Sniff};
use crate::profile::{
    CallTreeBuilder, FrameId, FrameTable, FuncId, FunctionKey, FunctionStats, NodeId, Profile,
    ProfileSet, Unit,
};
use chunks::{Chunks, split_lines};
pub use figures::read as read_figures;
use lines::{Line, classify};
use local::{FrameText, LocalFrames};
use threads::ThreadTable;

const CHUNK: usize = 1 << 20;

/// Frame ids in a batch before it is handed on.
const BATCH_IDS: usize = 1 << 16;

/// The deepest stack read. Real stacks are thousands of frames deep at most; one of millions is
/// a hostile file, whose every frame would be a node of the tree (some 32 bytes each, from one
/// byte of text when frames are empty).
const MAX_DEPTH: usize = 1 << 20;

/// Folded files have no magic: a head is ours when its first real line is a stack with a count
/// and nine in ten of its lines are (see [`lines::judge_head`]).
pub fn sniff(head: &[u8]) -> Sniff {
    if lines::judge_head(&text_of_head(head)).folded {
        Sniff::Yes
    } else {
        Sniff::No
    }
}

/// The first line of the head that is not a stack, for saying why a file was not recognised:
/// (1-based line, its text).
pub fn first_not_stack(head: &[u8]) -> Option<(u64, Vec<u8>)> {
    lines::judge_head(&text_of_head(head)).first_not_stack
}

/// The head as UTF-8 text: UTF-16 decoded (a code unit cut at the end dropped), a BOM removed.
fn text_of_head(head: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if let Some(big_endian) = utf16_bom(head) {
        // Lossy: the head may end inside a surrogate pair; the parser is exact.
        let text: String = char::decode_utf16(utf16_units(&head[2..], big_endian))
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect();
        return text.into_bytes().into();
    }
    head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head).into()
}

/// A folded file read: its profiles (one per thread) and, for a differential file, the profiles
/// of its first counts, the base the last counts are compared with.
pub struct Parsed {
    pub set: ProfileSet,
    pub base: Option<ProfileSet>,
}

/// Parses a folded file already in memory (the profiles of the last counts only).
pub fn parse(bytes: &[u8], warnings: &mut Vec<String>) -> Result<ProfileSet, ParseError> {
    parse_reader(bytes, warnings).map(|parsed| parsed.set)
}

/// Parses a folded file from a reader, in chunks.
pub fn parse_reader<R: Read + Send>(
    mut reader: R,
    warnings: &mut Vec<String>,
) -> Result<Parsed, ParseError> {
    let mut first = Vec::with_capacity(CHUNK);
    (&mut reader)
        .take(CHUNK as u64)
        .read_to_end(&mut first)
        .map_err(|e| ParseError::at_byte(0, format!("read failed: {e}")))?;
    if let Some(big_endian) = utf16_bom(&first) {
        // UTF-16 folded files are rare and small (speedscope's samples are): decode whole.
        reader
            .read_to_end(&mut first)
            .map_err(|e| ParseError::at_byte(0, format!("read failed: {e}")))?;
        let text = decode_utf16(&first[2..], big_endian)?;
        return build(
            std::io::Cursor::new(text.into_bytes()),
            Vec::new(),
            warnings,
        );
    }
    if first.starts_with(b"\xEF\xBB\xBF") {
        first.drain(..3);
    }
    build(reader, first, warnings)
}

fn utf16_bom(bytes: &[u8]) -> Option<bool> {
    match bytes {
        [0xFF, 0xFE, ..] => Some(false),
        [0xFE, 0xFF, ..] => Some(true),
        _ => None,
    }
}

/// The code units of UTF-16 text; a last odd byte is left out.
fn utf16_units(bytes: &[u8], big_endian: bool) -> impl Iterator<Item = u16> + '_ {
    bytes.chunks_exact(2).map(move |pair| {
        let pair = [pair[0], pair[1]];
        if big_endian {
            u16::from_be_bytes(pair)
        } else {
            u16::from_le_bytes(pair)
        }
    })
}

fn decode_utf16(bytes: &[u8], big_endian: bool) -> Result<String, ParseError> {
    if !bytes.len().is_multiple_of(2) {
        return Err(ParseError::at_byte(
            bytes.len() as u64 + 1,
            "UTF-16 text ends in half a code unit",
        ));
    }
    let units = utf16_units(bytes, big_endian);
    let mut text = String::with_capacity(bytes.len() / 2);
    for (i, unit) in char::decode_utf16(units).enumerate() {
        match unit {
            Ok(c) => text.push(c),
            Err(_) => {
                return Err(ParseError::at_byte(
                    2 + 2 * i as u64,
                    "invalid UTF-16 (an unpaired surrogate)",
                ));
            }
        }
    }
    Ok(text)
}

/// One stack line as the reader thread hands it on.
#[derive(Clone, Copy)]
struct Stack {
    /// End of this stack in [`Batch::ids`].
    end: u32,
    /// Which profile: 0 for lines without a thread frame, thread `k` is `k + 1`.
    profile: u32,
    count: f64,
    /// In a differential file, the line's first count (its count when it has one).
    first: Option<f64>,
}

/// Lines the reader thread hands on: stacks as local frame ids plus the frames first seen.
#[derive(Default)]
struct Batch {
    ids: Vec<u32>,
    stacks: Vec<Stack>,
    /// The text of the frames first seen in this batch, end to end (one allocation, not one a
    /// frame: a file of a million distinct names hands on a million of them).
    new_frames: FrameText,
}

impl Batch {
    fn with_capacity(ids: usize) -> Batch {
        Batch {
            ids: Vec::with_capacity(ids),
            ..Batch::default()
        }
    }
}

/// What the reader thread found besides stacks: line counts for warnings and errors, and the
/// threads.
#[derive(Default)]
struct LineReport {
    lines: u64,
    valid: u64,
    invalid: u64,
    first_invalid: Option<u64>,
    error: Option<ParseError>,
    /// Whether the first stack line had two counts, and the first line that broke the rule.
    differential: Option<bool>,
    mixed_counts: Option<u64>,
    threads: ThreadTable,
    /// Whether any stack had no thread frame (profile 0).
    unthreaded: bool,
}

fn build<R: Read + Send>(
    reader: R,
    first: Vec<u8>,
    warnings: &mut Vec<String>,
) -> Result<Parsed, ParseError> {
    let (sender, receiver) = mpsc::sync_channel::<Batch>(4);
    let mut table = FrameTable::new(FunctionKey::NameFile);
    let mut builders = vec![CallTreeBuilder::new()];
    let mut base_builders: Vec<CallTreeBuilder> = Vec::new();
    let mut local_to_frame: Vec<FrameId> = Vec::new();
    let mut local_to_func: Vec<u32> = Vec::new();
    let mut tally = FunctionTally::default();

    let report = std::thread::scope(|scope| {
        let reader_thread = scope.spawn(move || Tokenizer::default().run(reader, first, sender));
        for batch in receiver {
            for raw in batch.new_frames.iter() {
                let frame = intern_raw(&mut table, raw);
                local_to_frame.push(frame);
                local_to_func.push(table.func_of(frame).0);
            }
            tally.grow(table.function_count());
            let mut start = 0usize;
            for stack in &batch.stacks {
                let ids = &batch.ids[start..stack.end as usize];
                start = stack.end as usize;
                let p = stack.profile as usize;
                if builders.len() <= p {
                    builders.resize_with(p + 1, CallTreeBuilder::new);
                }
                add_stack(&mut builders[p], ids, &local_to_frame, stack.count);
                tally.add(ids, &local_to_func, stack.count);
                if let Some(first) = stack.first {
                    if base_builders.len() < builders.len() {
                        base_builders.resize_with(builders.len(), CallTreeBuilder::new);
                    }
                    add_stack(&mut base_builders[p], ids, &local_to_frame, first);
                }
            }
        }
        reader_thread.join().unwrap_or_else(|_| LineReport {
            error: Some(ParseError::at_byte(0, "the reader thread failed")),
            ..LineReport::default()
        })
    });

    // Nothing is looked up by its text from here on: free what only the reading needed before
    // the trees are finished and the figures made, the peak for a file of many names.
    table.release_index();
    let weights = tally.into_weights();
    if let Some(error) = report.error {
        return Err(error);
    }
    if report.valid == 0 {
        return Err(no_stack_error(&report));
    }
    report_skipped(&report, warnings);
    let differential = report.differential == Some(true);
    let names = profile_names(&report);
    let mut profiles = finish_profiles(builders, &names);
    let base_profiles = finish_profiles(base_builders, &names);
    if profiles.len() == 1 && !differential {
        let stats = weights
            .iter()
            .enumerate()
            .map(|(func, &(self_weight, total_weight))| {
                FunctionStats::sampled(FuncId(func as u32), self_weight, total_weight)
            })
            .collect();
        profiles[0].function_stats = Some(stats);
    }
    let base = differential.then(|| ProfileSet {
        frames: table.clone(),
        profiles: base_profiles,
    });
    Ok(Parsed {
        set: ProfileSet {
            frames: table,
            profiles,
        },
        base,
    })
}

/// The error of a file without a stack line: at its first bad line, else its last.
fn no_stack_error(report: &LineReport) -> ParseError {
    let line = report.first_invalid.unwrap_or(report.lines.max(1));
    ParseError::at_line(
        line,
        format!(
            "no line of the form `frame;frame;... count` in {} lines",
            report.lines
        ),
    )
}

/// One profile per named slot; a slot no stack reached gets an empty tree.
fn finish_profiles(mut builders: Vec<CallTreeBuilder>, names: &[Option<String>]) -> Vec<Profile> {
    builders.resize_with(names.len(), CallTreeBuilder::new);
    builders
        .into_iter()
        .zip(names)
        .filter_map(|(builder, name)| {
            let name = name.clone()?;
            Some(Profile::from_tree(name, Unit::Samples, builder.finish()))
        })
        .collect()
}

/// Each function's self and total weight, tallied from the stacks as they are merged (the
/// figures are exact, and it saves a walk of the whole tree afterwards; they are used for files
/// of one profile). Done on the merging thread, which has less to do than the reader.
#[derive(Default)]
struct FunctionTally {
    /// Per function: self weight, total weight.
    weights: Vec<(f64, f64)>,
    /// Per function: the stack it was last counted in, so that recursion counts once.
    counted_in: Vec<u64>,
    stacks: u64,
}

impl FunctionTally {
    fn grow(&mut self, functions: usize) {
        self.weights.resize(functions, (0.0, 0.0));
        self.counted_in.resize(functions, 0);
    }

    /// Per function: self weight, total weight.
    fn into_weights(self) -> Vec<(f64, f64)> {
        self.weights
    }

    fn add(&mut self, ids: &[u32], local_to_func: &[u32], count: f64) {
        self.stacks += 1;
        let mut last = None;
        for &local in ids {
            let func = local_to_func[local as usize] as usize;
            if self.counted_in[func] != self.stacks {
                self.counted_in[func] = self.stacks;
                self.weights[func].1 += count;
            }
            last = Some(func);
        }
        if let Some(func) = last {
            self.weights[func].0 += count;
        }
    }
}

fn add_stack(builder: &mut CallTreeBuilder, ids: &[u32], frames: &[FrameId], count: f64) {
    let mut node = NodeId::ROOT;
    for &local in ids {
        node = builder.child(node, frames[local as usize]);
    }
    builder.add_self(node, count);
}

fn report_skipped(report: &LineReport, warnings: &mut Vec<String>) {
    if report.invalid > 0 {
        warnings.push(format!(
            "skipped {} line{} that are not `frame;frame;... count` (the first at line {})",
            report.invalid,
            if report.invalid == 1 { "" } else { "s" },
            report.first_invalid.unwrap_or(0)
        ));
    }
    if let Some(line) = report.mixed_counts {
        warnings.push(if report.differential == Some(true) {
            format!(
                "line {line} has one count in a differential file: counted as unchanged (the \
                 same before and after)"
            )
        } else {
            format!(
                "line {line} has two counts but the first stack has one: its last count is its \
                 weight, as flamegraph.pl reads it, and the first is ignored"
            )
        });
    }
}

/// The name of each profile by index (`None` for an unused slot): the file's own name (filled
/// in by the loader) when there are no threads, else each thread's, with the stacks that had no
/// thread frame last under an empty name.
fn profile_names(report: &LineReport) -> Vec<Option<String>> {
    if report.threads.list.is_empty() {
        return vec![Some(String::new())];
    }
    let mut names = vec![report.unthreaded.then(String::new)];
    names.extend(report.threads.list.iter().map(|t| Some(t.profile_name())));
    names
}

/// The reader thread's state: splits lines, interns frames.
#[derive(Default)]
struct Tokenizer {
    report: LineReport,
    batch: Batch,
    frames: LocalFrames,
}

impl Tokenizer {
    fn run<R: Read>(
        mut self,
        reader: R,
        first: Vec<u8>,
        sender: mpsc::SyncSender<Batch>,
    ) -> LineReport {
        let mut chunks = Chunks::new(reader, first, CHUNK, 0);
        loop {
            let run = match chunks.next_lines() {
                Ok(Some(run)) => run,
                Ok(None) => {
                    self.hand_on(&sender);
                    return self.report;
                }
                Err(error) => {
                    self.report.error = Some(error);
                    return self.report;
                }
            };
            for (_, line) in split_lines(run.lines) {
                self.line(line, run.utf8);
                // Handed on as soon as it is full, not at the end of the piece: a piece of short
                // lines makes batches of several megabytes, and the channel holds four.
                if self.batch.ids.len() >= BATCH_IDS && !self.hand_on(&sender) {
                    return self.report;
                }
            }
            if self.report.error.is_some() {
                return self.report;
            }
        }
    }

    /// Sends the batch to the merging thread; false when it has stopped listening.
    fn hand_on(&mut self, sender: &mpsc::SyncSender<Batch>) -> bool {
        let batch = std::mem::replace(&mut self.batch, Batch::with_capacity(BATCH_IDS));
        sender.send(batch).is_ok()
    }

    /// One line; `utf8` says it is known to be UTF-8.
    fn line(&mut self, line: &[u8], utf8: bool) {
        self.report.lines += 1;
        let parsed = if utf8 || std::str::from_utf8(line).is_ok() {
            classify(line)
        } else {
            Line::Invalid
        };
        match parsed {
            Line::Blank | Line::Comment => {}
            Line::Invalid => {
                self.report.invalid += 1;
                self.report.first_invalid.get_or_insert(self.report.lines);
            }
            Line::Stack {
                frames,
                count,
                first,
            } => {
                self.report.valid += 1;
                let differential = *self.report.differential.get_or_insert(first.is_some());
                if differential != first.is_some() {
                    self.report.mixed_counts.get_or_insert(self.report.lines);
                }
                let first = differential.then(|| first.unwrap_or(count));
                self.stack(frames, count, first);
            }
        }
    }

    fn stack(&mut self, frames: &[u8], count: f64, first: Option<f64>) {
        let whole = frames;
        let (profile, frames) = self.report.threads.profile_of(frames).unwrap_or_else(|| {
            self.report.unthreaded = true;
            (0, frames)
        });
        if !frames.is_empty() {
            let before = self.batch.ids.len();
            let mut start = 0;
            let ends = memchr_iter(b';', frames).chain(std::iter::once(frames.len()));
            for end in ends {
                let id = self.frame_id(&frames[start..end]);
                start = end + 1;
                self.batch.ids.push(id);
                if self.batch.ids.len() - before >= MAX_DEPTH {
                    // Counted here rather than before, in a pass of its own over every line.
                    let depth = memchr::memchr_iter(b';', whole).count() + 1;
                    if depth > MAX_DEPTH {
                        self.batch.ids.truncate(before);
                        self.too_deep(depth);
                        return;
                    }
                }
            }
        }
        self.batch.stacks.push(Stack {
            end: self.batch.ids.len() as u32,
            profile,
            count,
            first,
        });
    }

    fn too_deep(&mut self, depth: usize) {
        let line = self.report.lines;
        self.report.error.get_or_insert_with(|| {
            ParseError::at_line(
                line,
                format!(
                    "a stack {depth} frames deep; obol reads stacks up to {MAX_DEPTH} frames deep"
                ),
            )
        });
    }

    fn frame_id(&mut self, raw: &[u8]) -> u32 {
        let (id, new) = self.frames.id(raw);
        if new {
            self.batch.new_frames.push(raw);
        }
        id
    }
}

/// Interns one raw frame, splitting py-spy's `name (file:line)` into its parts.
fn intern_raw(table: &mut FrameTable, raw: &[u8]) -> FrameId {
    let text = frame_text(raw);
    let (name, file, line) = split_frame(&text);
    table.intern(name, file, line)
}

/// A frame's text. Lines were checked to be UTF-8 before their frames were taken, so this is
/// the text itself.
fn frame_text(raw: &[u8]) -> std::borrow::Cow<'_, str> {
    super::lossy(raw)
}

/// `name (file:line)` → (name, file, line); `name (file)` → (name, file, None); else the whole
/// text is the name.
pub fn split_frame(text: &str) -> (&str, Option<&str>, Option<u32>) {
    // py-spy's `thread (123)` is a thread, not a function `thread` in a file `123`.
    if threads::thread_frame(text.as_bytes()).is_some() {
        return (text, None, None);
    }
    let Some(inner_end) = text.strip_suffix(')') else {
        return (text, None, None);
    };
    // The last " (", found from its '(' backwards: `rfind(" (")`'s substring search cost more
    // than the rest of the split together.
    let bytes = inner_end.as_bytes();
    let Some(open) = memchr::memrchr_iter(b'(', bytes)
        .find(|&at| at > 0 && bytes[at - 1] == b' ')
        .map(|at| at - 1)
    else {
        return (text, None, None);
    };
    let name = &inner_end[..open];
    let inner = &inner_end[open + 2..];
    if name.is_empty() || inner.is_empty() {
        return (text, None, None);
    }
    if let Some(colon) = memchr::memrchr(b':', inner.as_bytes()) {
        let digits = &inner[colon + 1..];
        if !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && let Ok(line) = digits.parse()
        {
            return (name, Some(&inner[..colon]), Some(line));
        }
    }
    (name, Some(inner), None)
}

#[cfg(test)]
mod tests;
