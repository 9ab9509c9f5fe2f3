//! Flame graph SVGs as inferno, py-spy (which embeds inferno) and flamegraph.pl draw them.
//!
//! Every frame is a `<g>` holding `<title>name (1,234 samples, 5.67%)</title>` and a `<rect>`.
//! inferno ≥ 0.10 puts the frame's sample offset and width on the rect (`fg:x`, `fg:w`); older
//! drawings give only the drawn `x` and `width` (percent or pixels), and the title's count is
//! the weight. The stacks are rebuilt from the geometry: depth from `y`, callers from horizontal
//! containment (see [`build`]).
//!
//! Large files are scanned by two threads, one per half; see [`scan_file`].

mod build;
mod figures;
mod other_titles;
mod scan;
mod threads;
mod title;

use std::io::Read;

use memchr::memmem;

use super::{Location, ParseError, Sniff};
use crate::profile::ProfileSet;
use scan::RawFrame;

/// Files smaller than this are scanned by one thread: a second would cost more than it saves.
const PARALLEL_MIN: usize = 4 << 20;

/// Files on disk from this size on are read in pieces ([`parse_reader`]) rather than whole.
pub const STREAM_MIN: u64 = 16 << 20;

/// About how much of the file one scan covers when it is read in pieces; two are scanned side by
/// side.
const PIECE: usize = 8 << 20;

/// Marks that only flame graph tools write: inferno's and flamegraph.pl's `onload`, inferno's
/// frame container and sample attributes, old flamegraph.pl's frame class.
const MARKERS: [&[u8]; 6] = [
    b"onload=\"init(evt)\"",
    b"<g id=\"frames\"",
    b"<svg id=\"frames\"",
    b"xmlns:fg=",
    b"fg:x=",
    b"class=\"func_g\"",
];

/// An SVG (or any XML) is ours to try; with a flame graph marker in the head it is surely ours.
pub fn sniff(head: &[u8]) -> Sniff {
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let text = text.trim_ascii_start();
    let doctype = text
        .get(..13)
        .is_some_and(|t| t.eq_ignore_ascii_case(b"<!DOCTYPE svg"));
    let comment_then_svg = text.starts_with(b"<!--") && memmem::find(text, b"<svg").is_some();
    if !(text.starts_with(b"<?xml") || text.starts_with(b"<svg") || doctype || comment_then_svg) {
        return Sniff::No;
    }
    if MARKERS.iter().any(|m| memmem::find(text, m).is_some()) {
        Sniff::Yes
    } else {
        Sniff::Maybe
    }
}

pub fn parse(bytes: &[u8], warnings: &mut Vec<String>) -> Result<ProfileSet, ParseError> {
    parse_with(bytes, PARALLEL_MIN, warnings)
}

/// [`parse`] for `obol summary`: the function figures counted without a call tree where they
/// come out the same (see [`figures`]); the profile has no tree then
/// (`Profile::figures_only`).
pub fn parse_for_summary(
    bytes: &[u8],
    warnings: &mut Vec<String>,
) -> Result<ProfileSet, ParseError> {
    let found = scan_file(bytes, PARALLEL_MIN, &|_| {}, &|_, _| {})?;
    parse_found(found, true, warnings)
}

/// [`parse`], scanning in two halves from `parallel_min` bytes on (tests reach both paths).
fn parse_with(
    bytes: &[u8],
    parallel_min: usize,
    warnings: &mut Vec<String>,
) -> Result<ProfileSet, ParseError> {
    parse_found(
        scan_file(bytes, parallel_min, &|_| {}, &|_, _| {})?,
        false,
        warnings,
    )
}

/// [`parse`] for a large file mapped into memory, scanned in two halves on two threads:
/// `release(n)` is told as the first half's scan leaves the first n bytes behind,
/// `release_range(from, to)` as the second half's leaves `from..to` behind, to let their
/// pages go (see `source::Mapped`), so the file never sits in memory whole. With
/// `figures_only`, as [`parse_for_summary`].
pub fn parse_mapped(
    bytes: &[u8],
    release: &(dyn Fn(usize) + Sync),
    release_range: &(dyn Fn(usize, usize) + Sync),
    figures_only: bool,
    warnings: &mut Vec<String>,
) -> Result<ProfileSet, ParseError> {
    parse_found(
        scan_file(bytes, PARALLEL_MIN, release, release_range)?,
        figures_only,
        warnings,
    )
}

/// [`parse`] for a large file read from `reader`, which is never held whole: it is read in
/// pieces of about [`PIECE`] bytes, cut at `<g` tags, two scanned at a time on two threads,
/// each piece's frames appended to those before (as the two halves of [`scan_file`] are).
/// With `figures_only`, as [`parse_for_summary`].
pub fn parse_reader(
    reader: impl Read + Send,
    figures_only: bool,
    warnings: &mut Vec<String>,
) -> Result<ProfileSet, ParseError> {
    parse_found(scan_stream(reader, PIECE)?, figures_only, warnings)
}

fn parse_found(
    found: scan::Scan,
    figures_only: bool,
    warnings: &mut Vec<String>,
) -> Result<ProfileSet, ParseError> {
    if !found.saw_svg {
        return Err(ParseError::at_byte(0, "not an SVG (no <svg> element)"));
    }
    if found.frame_count() == 0 {
        return Err(ParseError::at_byte(
            0,
            "no flame graph frames (no <g> holding a <title> and a <rect>)",
        ));
    }
    let mut drawn = build::drawn(found)?;
    if figures_only {
        match figures::figures(drawn, warnings)? {
            Ok(set) => return Ok(set),
            Err(given_back) => drawn = given_back,
        }
    }
    build::tree(drawn, warnings).map(threads::split_threads)
}

/// Reads and scans the file piece by piece; see [`parse_reader`]. A piece whose end falls inside
/// markup (a `<g` inside a comment or CDATA section) is read again, twice as long.
///
/// Each round holds two pieces and a quarter of one more, so that the second piece finds the `<g`
/// that ends it; while the two are scanned, a third thread reads the next round's bytes into a
/// second buffer (after the few bytes the round leaves over), and the buffers swap.
fn scan_stream(mut reader: impl Read + Send, piece: usize) -> Result<scan::Scan, ParseError> {
    // The bytes not scanned yet, from file offset `base` on.
    let mut pending: Vec<u8> = Vec::new();
    let mut spare: Vec<u8> = Vec::new();
    let mut base = 0u64;
    let mut eof = false;
    let mut found: Option<scan::Scan> = None;
    let mut piece_len = piece;
    let round = |piece_len: usize| 2 * piece_len + piece_len / 4;
    loop {
        if !eof && pending.len() < round(piece_len) {
            eof = fill(&mut reader, &mut pending, round(piece_len), base)?;
        }
        // Up to two pieces, each ending at a `<g` tag (or the end of the file).
        let mut ends = Vec::with_capacity(2);
        let mut from = 0;
        while ends.len() < 2 && from < pending.len() {
            match group_at_or_after(&pending, from + piece_len) {
                Some(end) => ends.push(end),
                None if eof => ends.push(pending.len()),
                None => break,
            }
            from = *ends.last().unwrap_or(&from);
        }
        let Some(&scanned) = ends.last() else {
            if eof {
                break;
            }
            // No `<g` in a round: read further before cutting.
            piece_len *= 2;
            continue;
        };
        let first = base == 0;
        let at_end = eof;
        let last = |end: usize| at_end && end == pending.len();
        spare.clear();
        spare.extend_from_slice(&pending[scanned..]);
        let (one, two, read) = std::thread::scope(|scope| {
            let read = (!at_end).then(|| {
                let (reader, spare) = (&mut reader, &mut spare);
                let at = base + scanned as u64;
                scope.spawn(move || fill(reader, spare, round(piece), at))
            });
            let two = ends.get(1).map(|&end| {
                let bytes = &pending[ends[0]..end];
                scope.spawn(move || scan::scan_piece(bytes, false, last(end)))
            });
            let one = scan::scan_piece(&pending[..ends[0]], first, last(ends[0]));
            (one, two.map(|handle| handle.join()), read.map(|h| h.join()))
        });
        let mut consumed = 0;
        for (start, result) in [(0, Some(Ok(one))), (ends[0], two)] {
            let Some(result) = result else { break };
            let result = result.map_err(|_| {
                ParseError::at_byte(base + start as u64, "the scanning thread failed")
            })?;
            let end = if start == 0 { ends[0] } else { ends[1] };
            match result {
                Ok(mut part) => {
                    shift(&mut part, base + start as u64);
                    found = Some(match found.take() {
                        None => part,
                        Some(before) => append(before, part, base + start as u64)?,
                    });
                    consumed = end;
                }
                // The piece ended inside markup: it is read again, longer.
                Err(scan::Stop::Cut(_)) if !last(end) => break,
                Err(stop) => return Err(shifted(stop.into_error(), base + start as u64)),
            }
        }
        if let Some(read) = read {
            eof = read.map_err(|_| {
                ParseError::at_byte(base + scanned as u64, "the reading thread failed")
            })??;
        }
        let done = at_end && consumed == pending.len();
        // What is left of this round goes before the bytes read ahead: nearly always only those
        // already in `spare`.
        if consumed < scanned {
            let mut rest = pending[consumed..scanned].to_vec();
            rest.extend_from_slice(&spare);
            spare = rest;
        }
        std::mem::swap(&mut pending, &mut spare);
        base += consumed as u64;
        piece_len = if consumed == 0 { piece_len * 2 } else { piece };
        if done {
            break;
        }
    }
    let mut found = found.unwrap_or_default();
    if found.depth > 0 {
        let n = found.depth;
        return Err(ParseError::at_byte(
            base,
            format!(
                "the file ends inside {n} unclosed element{} (truncated?)",
                if n == 1 { "" } else { "s" }
            ),
        ));
    }
    found.depth = 0;
    Ok(found)
}

/// Reads from `reader` until `buffer` holds `len` bytes or the input ends (then true); `base`
/// is the file offset of `buffer`'s first byte.
fn fill(
    reader: &mut impl Read,
    buffer: &mut Vec<u8>,
    len: usize,
    base: u64,
) -> Result<bool, ParseError> {
    while buffer.len() < len {
        let want = (len - buffer.len()) as u64;
        let read = reader.take(want).read_to_end(buffer).map_err(|e| {
            let at = base + buffer.len() as u64;
            ParseError::at_byte(at, format!("read failed: {e}"))
        })?;
        if (read as u64) < want {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The first `<g>` or `<g ...>` at or after `from`.
fn group_at_or_after(bytes: &[u8], from: usize) -> Option<usize> {
    let finder = memmem::Finder::new(b"<g");
    let mut from = from;
    while let Some(rel) = finder.find(bytes.get(from..)?) {
        let at = from + rel;
        if matches!(bytes.get(at + 2), Some(b'>' | b' ' | b'\t' | b'\n' | b'\r')) {
            return Some(at);
        }
        from = at + 2;
    }
    None
}

/// Moves the offsets of a piece's scan by `base`, the piece's offset in the file.
fn shift(part: &mut scan::Scan, base: u64) {
    for row in &mut part.rows {
        for frame in row {
            frame.at += base;
        }
    }
    for (_, at) in &mut part.names {
        *at += base;
    }
    if let Some((_, at)) = &mut part.sample_geometry {
        *at += base;
    }
    if let Some(at) = &mut part.first_untitled {
        *at += base;
    }
}

fn shifted(mut error: ParseError, base: u64) -> ParseError {
    if let Location::Byte(at) = &mut error.location {
        *at += base;
    }
    error
}

/// Scans the whole file, in two halves on two threads when it is large.
///
/// The second half starts at a `<g` tag after the middle. That `<g` might sit inside a comment
/// or CDATA section; then the first half's scan ends inside that markup, says so, and the file is
/// scanned again by one thread. The halves are otherwise independent: a `<g` resets everything a
/// frame carries over from the tags before it.
fn scan_file(
    bytes: &[u8],
    parallel_min: usize,
    release: &(dyn Fn(usize) + Sync),
    release_range: &(dyn Fn(usize, usize) + Sync),
) -> Result<scan::Scan, ParseError> {
    if bytes.len() >= parallel_min
        && let Some(split) = split_point(bytes)
    {
        let (first, second) = std::thread::scope(|scope| {
            let second = scope.spawn(|| {
                let release = |at| release_range(split, at);
                scan::scan_releasing(bytes, split, bytes.len(), &release)
            });
            let first = scan::scan_releasing(bytes, 0, split, release);
            (first, second.join())
        });
        let second =
            second.map_err(|_| ParseError::at_byte(split as u64, "the scanning thread failed"))?;
        match first {
            Ok(first) => {
                let second = second.map_err(scan::Stop::into_error)?;
                if let Some(merged) = merge(first, second) {
                    return Ok(merged);
                }
                // Unbalanced tags: the whole-file scan below finds where.
            }
            Err(scan::Stop::Bad(e)) => return Err(e),
            Err(scan::Stop::Cut(_)) => {}
        }
    }
    scan::scan_releasing(bytes, 0, bytes.len(), release).map_err(scan::Stop::into_error)
}

/// The first `<g>` or `<g ...>` at or after the middle of the file.
fn split_point(bytes: &[u8]) -> Option<usize> {
    group_at_or_after(bytes, bytes.len() / 2)
}

/// Joins the scans of two halves, or `None` when their tags do not balance (an error whose place
/// a whole-file scan reports).
fn merge(first: scan::Scan, second: scan::Scan) -> Option<scan::Scan> {
    if first.depth + second.depth != 0 {
        return None;
    }
    append(first, second, 0).ok()
}

/// Frames from which [`append`] copies the later part's on two threads (in unit tests, nearly
/// always).
#[cfg(not(test))]
const JOIN_ON_TWO_THREADS: usize = 1 << 17;
#[cfg(test)]
const JOIN_ON_TWO_THREADS: usize = 4;

/// The scan of a part of a file followed by that of the part after it, which starts at byte
/// `at`: an error when the later part closes elements never opened or draws its frames
/// differently (with `fg:x`/`fg:w` or without).
fn append(mut first: scan::Scan, second: scan::Scan, at: u64) -> Result<scan::Scan, ParseError> {
    if first.depth + second.min_depth < 0 {
        return Err(ParseError::at_byte(at, "a closing tag that closes nothing"));
    }
    if let (Some((a, _)), Some((b, b_at))) = (first.sample_geometry, second.sample_geometry)
        && a != b
    {
        return Err(ParseError::at_byte(
            b_at,
            "a frame <rect> with fg:x/fg:w among frames without them, or the reverse",
        ));
    }
    let names: Vec<u32> = second
        .names
        .into_iter()
        .map(|(name, at)| {
            let hash = scan::name_hash(&name);
            match first.name_index.get(hash, &name) {
                Some(id) => id,
                None => {
                    let id = first.names.len() as u32;
                    first.name_index.insert(hash, &name, id);
                    first.names.push((name, at));
                    id
                }
            }
        })
        .collect();
    // Each row of the later part goes after the first's row of the same height.
    let mut incoming: Vec<Option<Vec<RawFrame>>> = Vec::new();
    for (&y, row) in second.ys.iter().zip(second.rows) {
        let at = first.row_index(y);
        if incoming.len() <= at {
            incoming.resize_with(at + 1, || None);
        }
        incoming[at] = Some(row);
    }
    let mut pairs: Vec<(&mut Vec<RawFrame>, Vec<RawFrame>)> = first
        .rows
        .iter_mut()
        .zip(incoming)
        .filter_map(|(to, from)| Some((to, from?)))
        .collect();
    let join = |pairs: &mut [(&mut Vec<RawFrame>, Vec<RawFrame>)]| {
        for (to, from) in pairs {
            to.reserve_exact(from.len());
            to.extend(from.drain(..).map(|frame| RawFrame {
                name: names[frame.name as usize],
                ..frame
            }));
        }
    };
    // Copying the frames is most of the joining: for many frames, half the rows' worth each on
    // two threads.
    let total: usize = pairs.iter().map(|(_, from)| from.len()).sum();
    if total >= JOIN_ON_TWO_THREADS {
        let mut so_far = 0;
        let cut = pairs
            .iter()
            .position(|(_, from)| {
                so_far += from.len();
                so_far * 2 >= total
            })
            .map_or(pairs.len(), |at| at + 1);
        let (one, two) = pairs.split_at_mut(cut);
        std::thread::scope(|scope| {
            scope.spawn(|| join(two));
            join(one);
        });
    } else {
        join(&mut pairs);
    }
    first.saw_svg |= second.saw_svg;
    first.min_depth = first.min_depth.min(first.depth + second.min_depth);
    first.depth += second.depth;
    first.sample_geometry = first.sample_geometry.or(second.sample_geometry);
    first.decimals = first.decimals.max(second.decimals);
    first.untitled += second.untitled;
    first.first_untitled = first.first_untitled.or(second.first_untitled);
    Ok(first)
}

#[cfg(test)]
mod tests;
