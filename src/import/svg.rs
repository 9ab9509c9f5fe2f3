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
mod other_titles;
mod scan;
mod threads;
mod title;

use memchr::memmem;

use super::{ParseError, Sniff};
use crate::profile::ProfileSet;
use scan::RawFrame;

/// Files smaller than this are scanned by one thread: a second would cost more than it saves.
const PARALLEL_MIN: usize = 4 << 20;

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

/// [`parse`], scanning in two halves from `parallel_min` bytes on (tests reach both paths).
fn parse_with(
    bytes: &[u8],
    parallel_min: usize,
    warnings: &mut Vec<String>,
) -> Result<ProfileSet, ParseError> {
    let found = scan_file(bytes, parallel_min)?;
    if !found.saw_svg {
        return Err(ParseError::at_byte(0, "not an SVG (no <svg> element)"));
    }
    if found.frame_count() == 0 {
        return Err(ParseError::at_byte(
            0,
            "no flame graph frames (no <g> holding a <title> and a <rect>)",
        ));
    }
    build::build(found, warnings).map(threads::split_threads)
}

/// Scans the whole file, in two halves on two threads when it is large.
///
/// The second half starts at a `<g` tag after the middle. That `<g` might sit inside a comment
/// or CDATA section; then the first half's scan ends inside that markup, says so, and the file is
/// scanned again by one thread. The halves are otherwise independent: a `<g` resets everything a
/// frame carries over from the tags before it.
fn scan_file(bytes: &[u8], parallel_min: usize) -> Result<scan::Scan, ParseError> {
    if bytes.len() >= parallel_min
        && let Some(split) = split_point(bytes)
    {
        let (first, second) = std::thread::scope(|scope| {
            let second = scope.spawn(|| scan::scan(bytes, split, bytes.len()));
            let first = scan::scan(bytes, 0, split);
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
    scan::scan(bytes, 0, bytes.len()).map_err(scan::Stop::into_error)
}

/// The first `<g>` or `<g ...>` at or after the middle of the file.
fn split_point(bytes: &[u8]) -> Option<usize> {
    let middle = bytes.len() / 2;
    let finder = memmem::Finder::new(b"<g");
    let mut from = middle;
    while let Some(rel) = finder.find(bytes.get(from..)?) {
        let at = from + rel;
        if matches!(bytes.get(at + 2), Some(b'>' | b' ' | b'\t' | b'\n' | b'\r')) {
            return Some(at);
        }
        from = at + 2;
    }
    None
}

/// Joins the scans of two halves, or `None` when their tags do not balance (an error whose place
/// a whole-file scan reports).
fn merge(mut first: scan::Scan, second: scan::Scan) -> Option<scan::Scan> {
    if first.depth + second.min_depth < 0 || first.depth + second.depth != 0 {
        return None;
    }
    if let (Some((a, _)), Some((b, _))) = (first.sample_geometry, second.sample_geometry)
        && a != b
    {
        return None;
    }
    let names: Vec<u32> = second
        .names
        .into_iter()
        .map(|(name, at)| match first.name_index.get(name.as_ref()) {
            Some(&id) => id,
            None => {
                let id = first.names.len() as u32;
                first.name_index.insert(name.clone(), id);
                first.names.push((name, at));
                id
            }
        })
        .collect();
    for (&y, row) in second.ys.iter().zip(second.rows) {
        first.row(y).extend(row.into_iter().map(|frame| RawFrame {
            name: names[frame.name as usize],
            ..frame
        }));
    }
    first.saw_svg |= second.saw_svg;
    first.depth += second.depth;
    first.sample_geometry = first.sample_geometry.or(second.sample_geometry);
    first.decimals = first.decimals.max(second.decimals);
    first.untitled += second.untitled;
    first.first_untitled = first.first_untitled.or(second.first_untitled);
    Some(first)
}

#[cfg(test)]
mod tests;
