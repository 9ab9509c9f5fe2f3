//! `obol summary` of a folded file on disk: each function's self and total weight counted from
//! the stacks as they are read, with no call tree, the file cut at line breaks into one piece a
//! core, each piece read by a thread of its own with its own table of names, the pieces' counts
//! then added up in the file's order.
//!
//! Counted this way the figures equal the tree walk's only while every sum is exact: counts
//! that are whole numbers adding up to at most 2^53, which a double adds exactly in any order.
//! A file that is not so (decimal counts, sums past 2^53) or that needs more than the last
//! counts (a differential file, whose first counts make the profiles it is compared with) is
//! left to the full reader: [`read`] says so by `Ok(None)`, as soon as a thread sees it.

use std::fs::File;
use std::hash::BuildHasher;
use std::io::{Seek, SeekFrom};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use memchr::memchr_iter;
use rustc_hash::{FxBuildHasher, FxHashMap};

use super::chunks::{Chunks, split_lines};
use super::lines::{Line, classify};
use super::local::LocalFrames;
use super::threads::ThreadTable;
use super::{
    LineReport, MAX_DEPTH, frame_text, intern_raw, no_stack_error, profile_names, report_skipped,
    split_frame,
};
use crate::import::ParseError;
use crate::profile::id_table::IdTable;
use crate::profile::{FrameTable, FuncId, FunctionKey, FunctionStats, Profile, ProfileSet, Unit};

/// Bytes read at a time.
const READ_BUFFER: usize = 128 << 10;

/// Sums up to this are exact in a double, whatever the order they are added in.
const EXACT_UP_TO: u64 = 1 << 53;

/// Files from this size on are split over the cores. Below it the time saved is a few tens of
/// milliseconds, and each piece's table of names costs memory.
const SPLIT_FROM: u64 = 32 << 20;

/// Weight cells (one function's self and total in one profile, 16 bytes) a piece holds without
/// regard to its size; beyond them, one for every 4 bytes read. A file of many threads, each of
/// which reaches a function seen late, would otherwise cost threads × functions cells: the full
/// reader, whose tree grows with the stacks, takes such a file over.
const FREE_CELLS: usize = 1 << 20;

/// Counts the function figures of the folded file at `path` (`size` bytes when opened; `head`
/// its first bytes) with one thread a core; `Ok(None)` when they could differ from the call
/// tree's, or the file cannot be read so (UTF-16): the caller reads it in full then.
pub fn read(
    path: &Path,
    size: u64,
    head: &[u8],
    warnings: &mut Vec<String>,
) -> Result<Option<ProfileSet>, ParseError> {
    if super::utf16_bom(head).is_some() {
        return Ok(None);
    }
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let pieces = if size >= SPLIT_FROM { cores.min(4) } else { 1 };
    read_in_pieces(
        path,
        size,
        head.starts_with(b"\xEF\xBB\xBF"),
        pieces,
        warnings,
    )
}

/// [`read`] in `pieces` pieces (fewer for a file of fewer bytes).
fn read_in_pieces(
    path: &Path,
    size: u64,
    bom: bool,
    pieces: usize,
    warnings: &mut Vec<String>,
) -> Result<Option<ProfileSet>, ParseError> {
    let start = if bom { 3 } else { 0 };
    let pieces = pieces.clamp(1, size.saturating_sub(start).max(1) as usize);
    // Piece `k` counts the lines that start in bounds[k]..bounds[k + 1]; the last, to the end.
    let bounds: Vec<u64> = (0..=pieces as u64)
        .map(|k| start + (size - start) * k / pieces as u64)
        .collect();
    let stop = AtomicBool::new(false);
    let read = |k: usize| {
        let end = (k + 1 < pieces).then(|| bounds[k + 1]);
        // The first of several pieces interns its frames in the profile's table as it meets
        // them, on its own thread, rather than after all are read (see `add_up_figures`).
        let table = (k == 0 && pieces > 1).then(|| FrameTable::new(FunctionKey::NameFile));
        read_piece(path, (bounds[k], end), k == 0, table, &stop)
    };
    let counted: Vec<Option<Piece>> = std::thread::scope(|scope| {
        let others: Vec<_> = (1..pieces).map(|k| scope.spawn(move || read(k))).collect();
        let first = read(0);
        std::iter::once(Some(first))
            .chain(others.into_iter().map(|thread| thread.join().ok()))
            .collect()
    });
    if stop.load(Ordering::Relaxed) {
        return Ok(None);
    }
    let Some(counted) = counted.into_iter().collect::<Option<Vec<Piece>>>() else {
        return Err(ParseError::at_byte(0, "a reader thread failed"));
    };
    add_up(counted, warnings)
}

/// Reads the lines that start in `from..end` (to the end of the file when `end` is `None`).
/// The first piece starts at a line; the others find theirs after the first line break at or
/// after `from - 1`.
fn read_piece(
    path: &Path,
    (from, end): (u64, Option<u64>),
    first: bool,
    table: Option<FrameTable>,
    stop: &AtomicBool,
) -> Piece {
    let mut piece = Piece {
        first,
        from,
        functions: LocalFunctions {
            table,
            ..LocalFunctions::default()
        },
        ..Piece::default()
    };
    let seek_to = if first { from } else { from - 1 };
    let opened = File::open(path).and_then(|mut file| {
        file.seek(SeekFrom::Start(seek_to))?;
        Ok(file)
    });
    let Ok(file) = opened else {
        // The full reader, which has the file open already, says what is wrong.
        piece.give_up(stop);
        return piece;
    };
    // Small enough to stay in the cache between the copy from the file and the reading: with
    // 2 MB, the copy cost more than the counting (`perf`).
    let mut chunks = Chunks::new(file, Vec::new(), READ_BUFFER / 2, seek_to);
    if !first && let Err(error) = chunks.skip_line() {
        // The line under way where the piece starts is the piece before's.
        piece.error = Some(PieceError::Read(error));
        return piece;
    }
    loop {
        let run = match chunks.next_lines() {
            Ok(Some(run)) => run,
            Ok(None) => return piece,
            Err(error) => {
                piece.error = Some(PieceError::Read(error));
                return piece;
            }
        };
        for (start, line) in split_lines(run.lines) {
            let line_at = run.offset + start as u64;
            if end.is_some_and(|end| line_at >= end) {
                return piece;
            }
            piece.line(line, run.utf8, line_at, stop);
            if piece.done {
                return piece;
            }
        }
        if stop.load(Ordering::Relaxed) {
            return piece;
        }
    }
}

/// What ended a piece's reading, where it did.
enum PieceError {
    /// A read failed.
    Read(ParseError),
    /// A stack deeper than [`MAX_DEPTH`]: its line in the piece, its depth.
    TooDeep(u64, usize),
}

/// What one thread counted in its piece of the file. Lines are numbered from the piece's first.
#[derive(Default)]
struct Piece {
    /// Whether this is the file's first piece (its first stack is the file's).
    first: bool,
    /// The reading is over: an error, or a count that cannot be added up exactly.
    done: bool,
    gave_up: bool,
    error: Option<PieceError>,
    lines: u64,
    valid: u64,
    invalid: u64,
    first_invalid: Option<u64>,
    /// Whether the piece's first stack has two counts, and its first stack with two.
    first_has_two: Option<bool>,
    first_with_two: Option<u64>,
    threads: ThreadTable,
    unthreaded: bool,
    frames: LocalFrames,
    functions: LocalFunctions,
    /// Per profile of the piece (0: stacks without a thread frame; `k + 1`: thread `k` of
    /// `threads`), its weight and, per function, [self, total].
    totals: Vec<u64>,
    weights: Vec<Vec<[u64; 2]>>,
    /// Cells in `weights`, and the bytes read so far (to `read` from `from`), which bound them.
    cells: usize,
    from: u64,
    read: u64,
    /// Per function, the stack it was last counted in, so that recursion counts once.
    counted_in: Vec<u64>,
    stacks: u64,
    /// All counts of the piece.
    sum: u64,
}

impl Piece {
    fn give_up(&mut self, stop: &AtomicBool) {
        self.gave_up = true;
        self.done = true;
        stop.store(true, Ordering::Relaxed);
    }

    /// One line, starting at file offset `at`; `utf8` says it is known to be UTF-8.
    fn line(&mut self, line: &[u8], utf8: bool, at: u64, stop: &AtomicBool) {
        self.lines += 1;
        self.read = at;
        let parsed = if utf8 || std::str::from_utf8(line).is_ok() {
            classify(line)
        } else {
            Line::Invalid
        };
        let Line::Stack {
            frames,
            count,
            first,
        } = parsed
        else {
            if let Line::Invalid = parsed {
                self.invalid += 1;
                self.first_invalid.get_or_insert(self.lines);
            }
            return;
        };
        self.valid += 1;
        let two = first.is_some();
        let first_has_two = *self.first_has_two.get_or_insert(two);
        if two {
            self.first_with_two.get_or_insert(self.lines);
        }
        // A count of 2^53 or less converts to u64 and back unchanged.
        let whole = count.fract() == 0.0 && count <= EXACT_UP_TO as f64;
        let sum = self.sum + count as u64;
        if (self.first && first_has_two) || !whole || sum > EXACT_UP_TO {
            self.give_up(stop);
            return;
        }
        self.sum = sum;
        self.stack(frames, count as u64, stop);
    }

    fn stack(&mut self, whole: &[u8], count: u64, stop: &AtomicBool) {
        let (profile, frames) = self.threads.profile_of(whole).unwrap_or_else(|| {
            self.unthreaded = true;
            (0, whole)
        });
        let p = profile as usize;
        if self.totals.len() <= p {
            self.totals.resize(p + 1, 0);
            self.weights.resize_with(p + 1, Vec::new);
        }
        self.totals[p] += count;
        if frames.is_empty() {
            return;
        }
        self.stacks += 1;
        let stack = self.stacks;
        let Piece {
            frames: local,
            functions,
            weights,
            counted_in,
            cells,
            ..
        } = self;
        let weights = &mut weights[p];
        let mut last = 0;
        let mut depth = 0;
        let mut start = 0;
        for end in memchr_iter(b';', frames).chain(std::iter::once(frames.len())) {
            let (frame, new) = local.id(&frames[start..end]);
            start = end + 1;
            let func = if new {
                let func = functions.add_frame(local, frame);
                counted_in.resize(functions.len(), 0);
                func
            } else {
                functions.of_frame[frame as usize]
            } as usize;
            if weights.len() <= func {
                *cells += functions.len() - weights.len();
                weights.resize(functions.len(), [0, 0]);
            }
            if counted_in[func] != stack {
                counted_in[func] = stack;
                weights[func][1] += count;
            }
            last = func;
            depth += 1;
            if depth >= MAX_DEPTH {
                // Counted here rather than before, in a pass of its own over every line.
                let whole_depth = memchr_iter(b';', whole).count() + 1;
                if whole_depth > MAX_DEPTH {
                    self.error = Some(PieceError::TooDeep(self.lines, whole_depth));
                    self.done = true;
                    return;
                }
            }
        }
        weights[last][0] += count;
        if self.cells > FREE_CELLS + ((self.read - self.from) / 4) as usize {
            self.give_up(stop);
        }
    }
}

/// A piece's functions: the frames of one name and file are one function, as
/// `FunctionKey::NameFile` has it.
#[derive(Default)]
struct LocalFunctions {
    /// Per local frame, its function.
    of_frame: Vec<u32>,
    /// Functions by the hash of their (name, file), compared through their first frames.
    index: IdTable,
    first_frame: Vec<u32>,
    /// Where the frames are interned instead, as they come (the first of several pieces): a
    /// function is then the table's, which numbers them in the same order.
    table: Option<FrameTable>,
}

impl LocalFunctions {
    fn len(&self) -> usize {
        match &self.table {
            Some(table) => table.function_count(),
            None => self.first_frame.len(),
        }
    }

    /// The function of the frame `frame`, first seen now.
    fn add_frame(&mut self, frames: &LocalFrames, frame: u32) -> u32 {
        if let Some(table) = &mut self.table {
            let func = function_of(table, frames.get(frame));
            self.of_frame.push(func);
            return func;
        }
        // Lines were checked to be UTF-8 before their frames were taken: no copies here.
        let text = frame_text(frames.get(frame));
        let (name, file, _) = split_frame(&text);
        let hash = FxBuildHasher.hash_one((name, file));
        let first_frame = &self.first_frame;
        let found = self.index.find(hash, |func| {
            let other = frame_text(frames.get(first_frame[func as usize]));
            let (other_name, other_file, _) = split_frame(&other);
            other_name == name && other_file == file
        });
        let func = found.unwrap_or_else(|| {
            let func = self.first_frame.len() as u32;
            self.first_frame.push(frame);
            self.index.insert(hash, func);
            func
        });
        self.of_frame.push(func);
        func
    }
}

/// The pieces' counts added up in the file's order, as the full reader would have read them:
/// the first error, the lines skipped, the threads and the figures.
fn add_up(
    pieces: Vec<Piece>,
    warnings: &mut Vec<String>,
) -> Result<Option<ProfileSet>, ParseError> {
    let mut report = LineReport::default();
    let mut first_has_two = None;
    let mut first_with_two = None;
    for piece in &pieces {
        let line = |in_piece: u64| report.lines + in_piece;
        match &piece.error {
            Some(PieceError::Read(error)) => return Err(error.clone()),
            Some(PieceError::TooDeep(in_piece, depth)) => {
                return Err(ParseError::at_line(
                    line(*in_piece),
                    format!(
                        "a stack {depth} frames deep; obol reads stacks up to {MAX_DEPTH} frames \
                         deep"
                    ),
                ));
            }
            None => {}
        }
        if report.first_invalid.is_none() {
            report.first_invalid = piece.first_invalid.map(line);
        }
        if first_with_two.is_none() {
            first_with_two = piece.first_with_two.map(line);
        }
        first_has_two = first_has_two.or(piece.first_has_two);
        report.lines += piece.lines;
        report.valid += piece.valid;
        report.invalid += piece.invalid;
        report.unthreaded |= piece.unthreaded;
    }
    // Each piece's sum was within bounds; all of them must be too.
    let sum = pieces
        .iter()
        .try_fold(0u64, |sum, piece| sum.checked_add(piece.sum));
    if first_has_two == Some(true) || sum.is_none_or(|sum| sum > EXACT_UP_TO) {
        return Ok(None);
    }
    if report.valid == 0 {
        return Err(no_stack_error(&report));
    }
    report.differential = first_has_two;
    report.mixed_counts = first_with_two;
    // Each piece's threads, in the order the file first names them.
    let mut thread_index: FxHashMap<String, u32> = FxHashMap::default();
    let profile_maps: Vec<Vec<usize>> = pieces
        .iter()
        .map(|piece| {
            let mut map = vec![0];
            for thread in &piece.threads.list {
                let next = report.threads.list.len() as u32;
                let index = *thread_index.entry(thread.id.clone()).or_insert(next);
                if index == next {
                    report.threads.list.push(super::threads::Thread {
                        id: thread.id.clone(),
                        name: None,
                    });
                }
                let known = &mut report.threads.list[index as usize];
                if known.name.is_none() {
                    known.name.clone_from(&thread.name);
                }
                map.push(index as usize + 1);
            }
            map
        })
        .collect();
    report_skipped(&report, warnings);
    let names = profile_names(&report);
    let (frames, profiles) = add_up_figures(pieces, &profile_maps, &names);
    Ok(Some(ProfileSet { frames, profiles }))
}

/// The function of the frame `raw`, interned in `table`.
fn function_of(table: &mut FrameTable, raw: &[u8]) -> u32 {
    let frame = intern_raw(table, raw);
    table.func_of(frame).0
}

/// The frame table of all pieces' frames, in the file's order, and one profile of figures per
/// named profile (`names`, by index; `profile_maps` takes each piece's profiles there).
fn add_up_figures(
    pieces: Vec<Piece>,
    profile_maps: &[Vec<usize>],
    names: &[Option<String>],
) -> (FrameTable, Vec<Profile>) {
    let mut table = FrameTable::new(FunctionKey::NameFile);
    let mut totals = vec![0u64; names.len()];
    let named = names.iter().filter(|n| n.is_some()).count();
    // One profile: a dense row per function, as `take_rows` takes it. Several: each profile's
    // functions, from each piece.
    let mut dense: Vec<[u64; 2]> = Vec::new();
    let mut sparse: Vec<Vec<(u32, [u64; 2])>> = vec![Vec::new(); names.len()];
    // The first piece's frames, and each one's function in `table`: the later pieces' frames
    // are mostly the same texts, found there by their bytes rather than split and interned
    // again. What is done here runs after every piece is read, on one thread.
    let mut first: Option<(LocalFrames, Vec<u32>)> = None;
    for (mut piece, profile_map) in pieces.into_iter().zip(profile_maps) {
        // What only the counting needed goes before the frames are interned: for a file of a
        // million names, the peak is here or in the rows made after.
        piece.counted_in = Vec::new();
        let LocalFunctions {
            of_frame,
            first_frame,
            index,
            table: interned,
        } = std::mem::take(&mut piece.functions);
        drop(index);
        let frames = std::mem::take(&mut piece.frames);
        let global_func: Vec<u32> = if let Some(interned) = interned {
            // The first of several pieces: its frames are the table's already, and its
            // functions are the table's.
            table = interned;
            first = Some((frames, of_frame));
            (0..table.function_count() as u32).collect()
        } else {
            let mut global_func = vec![0u32; first_frame.len()];
            for (frame, raw) in frames.into_text().iter().enumerate() {
                // A text the first piece has is the frame it interned: the same function.
                let known = first
                    .as_ref()
                    .and_then(|(texts, funcs)| Some(funcs[texts.find(raw)? as usize]));
                global_func[of_frame[frame] as usize] =
                    known.unwrap_or_else(|| function_of(&mut table, raw));
            }
            global_func
        };
        if named == 1 {
            dense.resize(table.function_count(), [0, 0]);
        }
        for (local, (weights, total)) in piece.weights.into_iter().zip(piece.totals).enumerate() {
            let profile = profile_map[local];
            totals[profile] += total;
            for (func, cell) in weights.into_iter().enumerate() {
                let func = global_func[func];
                if named == 1 {
                    dense[func as usize][0] += cell[0];
                    dense[func as usize][1] += cell[1];
                } else if cell != [0, 0] {
                    sparse[profile].push((func, cell));
                }
            }
        }
    }
    table.release_index();
    dense.resize(
        if named == 1 {
            table.function_count()
        } else {
            0
        },
        [0, 0],
    );
    let stats_of = |cells: &mut dyn Iterator<Item = (u32, [u64; 2])>| -> Vec<FunctionStats> {
        cells
            .map(|(func, [s, t])| FunctionStats::sampled(FuncId(func), s as f64, t as f64))
            .collect()
    };
    let profiles = names
        .iter()
        .zip(totals)
        .zip(sparse)
        .filter_map(|((name, total), mut cells)| {
            let name = name.clone()?;
            let stats = if named == 1 {
                let dense = std::mem::take(&mut dense);
                stats_of(&mut dense.into_iter().enumerate().map(|(f, c)| (f as u32, c)))
            } else {
                // One row a function: a function in several pieces is added up.
                cells.sort_unstable_by_key(|&(func, _)| func);
                let mut merged: Vec<(u32, [u64; 2])> = Vec::with_capacity(cells.len());
                for (func, cell) in cells {
                    match merged.last_mut() {
                        Some((last, sum)) if *last == func => {
                            sum[0] += cell[0];
                            sum[1] += cell[1];
                        }
                        _ => merged.push((func, cell)),
                    }
                }
                stats_of(&mut merged.into_iter())
            };
            Some(Profile::figures_only(
                name,
                Unit::Samples,
                total as f64,
                stats,
            ))
        })
        .collect();
    (table, profiles)
}

#[cfg(test)]
mod tests;
