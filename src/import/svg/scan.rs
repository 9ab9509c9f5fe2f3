//! Finds the frames of a flame graph in SVG bytes.
//!
//! This is not a general XML parser. It knows the constructs that can hide a `<` or `>` (comments,
//! CDATA sections such as the embedded script, processing instructions, the DOCTYPE, quoted
//! attribute values) and skips them whole, and it looks inside only the elements a frame is made
//! of. quick-xml's `Reader` was the first choice, but only reading the events of the 364 MB
//! benchmark drawing (13.5 million of them) took 0.48 s, the whole budget of the import; this
//! scanner jumps from `<` to `<` with `memchr` instead. Entity decoding of frame names is still
//! quick-xml's.
//!
//! A scan may cover only part of a file (see [`scan`]), so that two threads can share one.

use std::borrow::Cow;

use memchr::{memchr, memchr2, memchr3, memmem};
use rustc_hash::FxHashMap;

use super::other_titles::mouseover_title;
use crate::import::ParseError;

mod names;
mod quick;
mod rect;

pub(super) use names::{NameIndex, hash as name_hash};

/// One frame as drawn: a group holding a `<title>` and a `<rect>`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct RawFrame {
    /// Left edge and width: sample offsets from `fg:x`/`fg:w` where the SVG has them, otherwise
    /// the drawn `x`/`width` (percent or pixels).
    pub x: f64,
    pub w: f64,
    /// Samples: `fg:w`, or the count in the title.
    pub weight: f64,
    /// Index into [`Scan::names`].
    pub name: u32,
    /// Byte offset of the frame's `<title>`, for messages.
    pub at: u64,
}

/// What one scan found.
#[derive(Debug, Default)]
pub(super) struct Scan {
    /// `rows[i]` holds the frames drawn at `ys[i]`, in file order: the levels of the graph.
    pub rows: Vec<Vec<RawFrame>>,
    /// Distinct frame names as written in the titles (entities still escaped), with the offset of
    /// the first title that used each.
    pub names: Vec<(Box<[u8]>, u64)>,
    /// Copies rather than slices of the file: the slices would send every lookup to wherever
    /// in hundreds of megabytes the name first appeared, missing the cache each time.
    pub name_index: NameIndex,
    /// Distinct `y` values.
    pub ys: Vec<f64>,
    y_index: FxHashMap<u64, u32>,
    /// The row (plus one; 0: not known yet) of each whole `y` below [`PIXEL_ROWS`].
    row_at_pixel: Vec<u32>,
    pub saw_svg: bool,
    /// Elements opened minus elements closed over the scanned range, and the lowest that count
    /// fell to: a part of a file may close elements opened before it.
    pub depth: i64,
    pub min_depth: i64,
    /// Whether frames carry `fg:x`/`fg:w`, decided by the first frame (whose offset is kept).
    pub sample_geometry: Option<(bool, u64)>,
    /// Most decimals written in a drawn `x` or `width`: how coarse the drawing's rounding is.
    pub decimals: u32,
    /// Frames whose title has no count and whose label is cut short: left out.
    pub untitled: u64,
    pub first_untitled: Option<u64>,
    /// How many of the first rows are made with room for [`MAPPED_ROW`] frames.
    roomy_rows: usize,
}

/// Frames the first [`ROOMY_ROWS`] rows of a scan of [`MAPPED_ROWS_FROM`] bytes or more have
/// room for from the start: 128 KiB, from which glibc maps a block of its own and grows it by
/// remapping. Growing by doubling, every row's first 128 KiB were copied at each doubling (12 MB
/// at 100 MB as at 1 GB). Not every row: each such block has a page written from the start,
/// and a drawing of one-frame rows (each `y` its own) took 1.1 GB for a 20 MB file. Given
/// later, once a row is long, a check on every frame cost as many instructions as it saved.
pub(super) const MAPPED_ROW: usize = (128usize << 10).div_ceil(std::mem::size_of::<RawFrame>());
pub(super) const ROOMY_ROWS: usize = 128;
const MAPPED_ROWS_FROM: usize = 4 << 20;

/// Whole `y`s from 0 to this are looked up in [`Scan::row_at_pixel`] (at most 256 KiB).
const PIXEL_ROWS: u32 = 1 << 16;

impl Scan {
    /// The row of frames drawn at `y`, added if new.
    pub fn row(&mut self, y: f64) -> &mut Vec<RawFrame> {
        let index = self.row_index(y);
        &mut self.rows[index]
    }

    /// The index in [`Scan::rows`] of the row drawn at `y`, added if new.
    #[inline]
    pub fn row_index(&mut self, y: f64) -> usize {
        // Rows drawn at whole pixels (all of inferno's) are found by index rather than hashed:
        // a lookup per frame. `-0.0` is not `0.0` here, as in the hash map.
        let pixel = y as u32;
        if f64::from(pixel).to_bits() != y.to_bits() || pixel >= PIXEL_ROWS {
            return self.hashed_row_index(y);
        }
        match self.row_at_pixel.get(pixel as usize) {
            Some(&row) if row != 0 => row as usize - 1,
            _ => {
                let row = self.hashed_row_index(y);
                let at = pixel as usize;
                if self.row_at_pixel.len() <= at {
                    self.row_at_pixel.resize(at + 1, 0);
                }
                self.row_at_pixel[at] = row as u32 + 1;
                row
            }
        }
    }

    fn hashed_row_index(&mut self, y: f64) -> usize {
        let ys = &mut self.ys;
        let rows = &mut self.rows;
        let roomy = rows.len() < self.roomy_rows;
        *self.y_index.entry(y.to_bits()).or_insert_with(|| {
            ys.push(y);
            rows.push(Vec::with_capacity(MAPPED_ROW * usize::from(roomy)));
            ys.len() as u32 - 1
        }) as usize
    }

    pub fn frame_count(&self) -> usize {
        self.rows.iter().map(Vec::len).sum()
    }
}

/// Why a scan stopped early.
#[derive(Debug)]
pub(super) enum Stop {
    /// The range ended inside markup. For a whole file that is a truncated file; for the first
    /// part of a split file it only means the split point was badly placed.
    Cut(ParseError),
    Bad(ParseError),
}

impl Stop {
    pub fn into_error(self) -> ParseError {
        match self {
            Stop::Cut(e) | Stop::Bad(e) => e,
        }
    }
}

/// A title waiting for the `<rect>` that completes its frame.
struct Title<'a> {
    text: Cow<'a, [u8]>,
    at: usize,
}

/// Scans `bytes[start..end]`. `start` must be 0 or the `<` of a tag at the top level of the
/// content (not inside a comment, CDATA section or tag). Offsets in results and errors are
/// offsets into `bytes`.
#[cfg(test)]
pub(super) fn scan(bytes: &[u8], start: usize, end: usize) -> Result<Scan, Stop> {
    scan_range(bytes, start, end, start == 0, end >= bytes.len(), None)
}

/// Scans `bytes[start..end]` of a mapped file, telling `release` now and then how far it has gone: the bytes
/// before that are not read again (see `source::Mapped`).
pub(super) fn scan_releasing(
    bytes: &[u8],
    start: usize,
    end: usize,
    release: &(dyn Fn(usize) + Sync),
) -> Result<Scan, Stop> {
    scan_range(
        bytes,
        start,
        end,
        start == 0,
        end >= bytes.len(),
        Some(release),
    )
}

/// Scans all of `piece`, a part of a file read in pieces that starts at the `<` of a tag at the
/// top level of the content: the file's start when `first`, its end when `last`. Offsets are
/// offsets into `piece`.
pub(super) fn scan_piece(piece: &[u8], first: bool, last: bool) -> Result<Scan, Stop> {
    scan_range(piece, 0, piece.len(), first, last, None)
}

fn scan_range(
    bytes: &[u8],
    start: usize,
    end: usize,
    absolute: bool,
    to_eof: bool,
    release: Option<&(dyn Fn(usize) + Sync)>,
) -> Result<Scan, Stop> {
    let bytes = bytes.get(..end).unwrap_or(bytes);
    let mut scanner = Scanner {
        b: bytes,
        pos: start,
        release,
        release_at: start + RELEASE_STEP,
        // A scan from the start of the file knows every open element, so a close without an
        // open is an error there; a later part may close what an earlier part opened.
        absolute,
        to_eof,
        in_group: false,
        group_is_link: false,
        nest: 0,
        pending: None,
        queued: Vec::with_capacity(quick::BATCH),
        out: Scan {
            roomy_rows: ROOMY_ROWS * usize::from(end.saturating_sub(start) >= MAPPED_ROWS_FROM),
            ..Scan::default()
        },
    };
    scanner.run()?;
    Ok(scanner.out)
}

struct Scanner<'a> {
    b: &'a [u8],
    pos: usize,
    /// Told how far the scan has gone once it passes `release_at`.
    release: Option<&'a (dyn Fn(usize) + Sync)>,
    release_at: usize,
    absolute: bool,
    /// Whether the range ends where the file does; elements may stay open at a split point.
    to_eof: bool,
    /// Whether the innermost `<g>` seen is still open, and how many other elements are open
    /// inside it: frame titles and rects are direct children of a group.
    in_group: bool,
    /// Whether that group is an `<a>`: inferno's `--nameattr` draws a frame with a link as
    /// `<a><title/><rect/><text/></a>`, no `<g>`.
    group_is_link: bool,
    nest: u32,
    pending: Option<Title<'a>>,
    /// Frames read by the quick path whose names are still to be looked up ([`quick`]).
    queued: Vec<quick::Queued<'a>>,
    out: Scan,
}

fn cut(at: usize, what: &str) -> Stop {
    Stop::Cut(ParseError::at_byte(
        at as u64,
        format!("the file ends inside {what} (truncated?)"),
    ))
}

fn bad(at: usize, message: impl Into<String>) -> Stop {
    Stop::Bad(ParseError::at_byte(at as u64, message))
}

/// Bytes scanned between two calls of a scan's `release`.
const RELEASE_STEP: usize = 8 << 20;

/// How far a plain loop looks before handing over to memchr, whose setup costs more than a
/// loop over the few bytes that usually separate what the scanner looks for.
const NEAR: usize = 32;

fn find_near(needle: u8, hay: &[u8]) -> Option<usize> {
    let near = hay.len().min(NEAR);
    match hay[..near].iter().position(|&b| b == needle) {
        Some(i) => Some(i),
        None => memchr(needle, &hay[near..]).map(|i| near + i),
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

impl<'a> Scanner<'a> {
    fn run(&mut self) -> Result<(), Stop> {
        loop {
            if self.pos >= self.release_at
                && let Some(release) = self.release
            {
                release(self.pos);
                self.release_at = self.pos + RELEASE_STEP;
            }
            let rest = self.b.get(self.pos..).unwrap_or_default();
            // Tags mostly follow each other directly.
            let lt = match rest {
                [b'<', ..] => self.pos,
                // Tags one a line (inferno puts all its frames on one line, but not its other
                // elements; hand-edited and other writers' drawings often have one a line).
                [b'\n', b'<', ..] => self.pos + 1,
                _ => match memchr(b'<', rest) {
                    Some(rel) => self.pos + rel,
                    None => break,
                },
            };
            if self.b[lt..].starts_with(b"<g><title>") && self.quick_frame(lt) {
                continue;
            }
            // Frames are recorded in file order: the quick path's first.
            self.record_queued();
            if self.b[lt..].starts_with(b"<g><title>") && self.inferno_frame(lt)? {
                continue;
            }
            match self.b.get(lt + 1) {
                None => return Err(cut(lt, "a tag")),
                Some(b'/') => self.end_tag(lt)?,
                Some(b'!') => self.bang(lt)?,
                Some(b'?') => self.skip_past(lt, lt + 2, b"?>", "a processing instruction")?,
                Some(_) => self.start_tag(lt)?,
            }
        }
        self.record_queued();
        if self.absolute && self.to_eof && self.out.depth > 0 {
            return Err(cut(
                self.b.len(),
                &format!(
                    "{} unclosed element{}",
                    self.out.depth,
                    if self.out.depth == 1 { "" } else { "s" }
                ),
            ));
        }
        Ok(())
    }

    fn open(&mut self) {
        self.out.depth += 1;
        self.nest += 1;
    }

    fn close(&mut self, at: usize) -> Result<(), Stop> {
        self.out.depth -= 1;
        self.out.min_depth = self.out.min_depth.min(self.out.depth);
        if self.absolute && self.out.depth < 0 {
            return Err(bad(at, "a closing tag that closes nothing"));
        }
        Ok(())
    }

    fn end_tag(&mut self, lt: usize) -> Result<(), Stop> {
        let gt = lt + find_near(b'>', &self.b[lt..]).ok_or_else(|| cut(lt, "a closing tag"))?;
        let name = self.b[lt + 2..gt].trim_ascii_end();
        self.pos = gt + 1;
        match name {
            b"g" => {
                self.in_group = false;
                self.nest = 0;
                self.pending = None;
            }
            b"a" if self.in_group && self.group_is_link && self.nest == 0 => {
                self.in_group = false;
                self.group_is_link = false;
                self.pending = None;
            }
            // Any other `<a>` (a link flamegraph.pl may wrap around a frame) is transparent.
            b"a" => {}
            _ => self.nest = self.nest.saturating_sub(1),
        }
        self.close(lt)
    }

    /// Comments, CDATA sections and declarations.
    fn bang(&mut self, lt: usize) -> Result<(), Stop> {
        let rest = &self.b[lt..];
        if rest.starts_with(b"<!--") {
            self.skip_past(lt, lt + 4, b"-->", "a comment")
        } else if rest.starts_with(b"<![CDATA[") {
            self.skip_past(lt, lt + 9, b"]]>", "a CDATA section")
        } else {
            // `<!DOCTYPE ...>`, whose internal subset in brackets may itself hold `>`.
            let at = lt + memchr2(b'>', b'[', rest).ok_or_else(|| cut(lt, "a declaration"))?;
            if self.b[at] == b'[' {
                let close =
                    at + memchr(b']', &self.b[at..]).ok_or_else(|| cut(lt, "a declaration"))?;
                let gt = close
                    + memchr(b'>', &self.b[close..]).ok_or_else(|| cut(lt, "a declaration"))?;
                self.pos = gt + 1;
            } else {
                self.pos = at + 1;
            }
            Ok(())
        }
    }

    fn skip_past(&mut self, lt: usize, from: usize, end: &[u8], what: &str) -> Result<(), Stop> {
        let rest = self.b.get(from..).unwrap_or_default();
        let at = memmem::find(rest, end).ok_or_else(|| cut(lt, what))?;
        self.pos = from + at + end.len();
        Ok(())
    }

    /// The `>` closing a tag that starts at `from`, skipping quoted attribute values.
    fn tag_end(&self, lt: usize, from: usize) -> Result<usize, Stop> {
        let mut at = from;
        loop {
            let rest = self.b.get(at..).unwrap_or_default();
            let near = rest.len().min(NEAR);
            let i = at
                + match rest[..near]
                    .iter()
                    .position(|&c| matches!(c, b'>' | b'"' | b'\''))
                {
                    Some(i) => i,
                    None => {
                        near + memchr3(b'>', b'"', b'\'', &rest[near..])
                            .ok_or_else(|| cut(lt, "a tag"))?
                    }
                };
            let quote = self.b[i];
            if quote == b'>' {
                return Ok(i);
            }
            let close = find_near(quote, &self.b[i + 1..]).ok_or_else(|| cut(lt, "a tag"))?;
            at = i + 1 + close + 1;
        }
    }

    fn start_tag(&mut self, lt: usize) -> Result<(), Stop> {
        let name_start = lt + 1;
        let name_len = self.b[name_start..]
            .iter()
            .position(|&b| is_space(b) || b == b'/' || b == b'>')
            .ok_or_else(|| cut(lt, "a tag"))?;
        if name_len == 0 {
            return Err(bad(lt, "a `<` that starts no tag"));
        }
        let name_end = name_start + name_len;
        let name = &self.b[name_start..name_end];
        if name == b"rect"
            && self.in_group
            && self.nest == 0
            && let Some(title) = self.pending.take()
        {
            let gt = self.frame(title, lt, name_end)?;
            self.pos = gt + 1;
            if self.b[gt - 1] != b'/' {
                self.open();
            }
            return Ok(());
        }
        let gt = self.tag_end(lt, name_end)?;
        let b = self.b;
        if name == b"rect"
            && let Some((text, at)) = mouseover_title(&b[name_end..gt], name_end)
        {
            let title = Title {
                text: Cow::Borrowed(text),
                at,
            };
            // flamegraph.pl of 2012–13: no groups, no titles; a frame is a `<rect>` whose
            // `onmouseover="s('name (N samples, P%)')"` holds what a title holds now.
            let gt = self.frame(title, lt, name_end)?;
            self.pos = gt + 1;
            if self.b[gt - 1] != b'/' {
                self.open();
            }
            return Ok(());
        }
        // The name holds no `/`, so a `/` just before `>` ends the attributes.
        let self_closing = self.b[gt - 1] == b'/';
        self.pos = gt + 1;
        match name {
            b"g" => {
                self.pending = None;
                self.nest = 0;
                // `<g/>` opens and closes at once: it leaves no group open.
                self.in_group = !self_closing;
                self.group_is_link = false;
                if !self_closing {
                    self.out.depth += 1;
                }
                return Ok(());
            }
            b"a" => {
                if !self_closing {
                    self.out.depth += 1;
                    if !self.in_group {
                        self.in_group = true;
                        self.group_is_link = true;
                        self.nest = 0;
                        self.pending = None;
                    }
                }
                return Ok(());
            }
            b"svg" => self.out.saw_svg = true,
            b"title" if self.in_group && self.nest == 0 && !self_closing => {
                return self.title(lt, gt + 1);
            }
            _ => {}
        }
        if !self_closing {
            self.open();
        }
        Ok(())
    }

    /// Reads a frame title up to its `</title>`.
    fn title(&mut self, lt: usize, content: usize) -> Result<(), Stop> {
        let rest = self.b.get(content..).unwrap_or_default();
        let next = content + memchr(b'<', rest).ok_or_else(|| cut(lt, "a <title>"))?;
        if let Some(after) = self.closing_title(next) {
            self.pending = Some(Title {
                text: Cow::Borrowed(&self.b[content..next]),
                at: lt,
            });
            self.pos = after;
            return Ok(());
        }
        self.title_with_markup(lt, content)
    }

    /// inferno draws every frame as `<g><title>T</title><rect .../><text ...>L</text></g>`.
    /// A group of exactly that shape is read here without dispatching on each tag (about a tenth
    /// off the scan); at the first difference this stops where the general path takes over in
    /// the same state. Returns whether it read anything.
    fn inferno_frame(&mut self, lt: usize) -> Result<bool, Stop> {
        let b = self.b;
        let content = lt + b"<g><title>".len();
        let Some(len) = b.get(content..).and_then(|rest| memchr(b'<', rest)) else {
            return Ok(false);
        };
        let title_end = content + len;
        let rect = title_end + b"</title>".len();
        if !b[title_end..].starts_with(b"</title><rect ") {
            return Ok(false);
        }
        let title = Title {
            text: Cow::Borrowed(&b[content..title_end]),
            at: lt + b"<g>".len(),
        };
        self.out.depth += 1;
        self.in_group = true;
        self.nest = 0;
        self.pending = None;
        let gt = self.frame(title, rect, rect + b"<rect".len())?;
        self.pos = gt + 1;
        if b[gt - 1] != b'/' {
            self.open();
            return Ok(true);
        }
        let text = self.pos;
        if !b[text..].starts_with(b"<text ") {
            return Ok(true);
        }
        let text_gt = self.tag_end(text, text + b"<text".len())?;
        if b[text_gt - 1] == b'/' {
            return Ok(true);
        }
        let label = text_gt + 1;
        let Some(len) = b.get(label..).and_then(|rest| memchr(b'<', rest)) else {
            return Ok(true);
        };
        if b[label + len..].starts_with(b"</text></g>") {
            self.pos = label + len + b"</text></g>".len();
            self.out.depth -= 1;
            self.in_group = false;
        }
        Ok(true)
    }

    /// If a `</title>` starts at `at`, the offset just past it.
    fn closing_title(&self, at: usize) -> Option<usize> {
        let rest = self.b.get(at..)?.strip_prefix(b"</title")?;
        let gt = memchr(b'>', rest)?;
        rest[..gt]
            .iter()
            .all(|&b| is_space(b))
            .then_some(at + 7 + gt + 1)
    }

    /// The rare title holding a CDATA section or a comment: gathered into one escaped text so that
    /// it is keyed like every other title.
    fn title_with_markup(&mut self, lt: usize, content: usize) -> Result<(), Stop> {
        let mut text = Vec::new();
        let mut at = content;
        loop {
            let rest = self.b.get(at..).unwrap_or_default();
            let next = at + memchr(b'<', rest).ok_or_else(|| cut(lt, "a <title>"))?;
            text.extend_from_slice(&self.b[at..next]);
            if let Some(after) = self.closing_title(next) {
                self.pending = Some(Title {
                    text: Cow::Owned(text),
                    at: lt,
                });
                self.pos = after;
                return Ok(());
            }
            let rest = &self.b[next..];
            if rest.starts_with(b"<![CDATA[") {
                let body = next + 9;
                let len = memmem::find(&self.b[body..], b"]]>")
                    .ok_or_else(|| cut(next, "a CDATA section"))?;
                let raw = std::str::from_utf8(&self.b[body..body + len])
                    .map_err(|_| bad(body, "a frame title that is not UTF-8"))?;
                text.extend_from_slice(quick_xml::escape::escape(raw).as_bytes());
                at = body + len + 3;
            } else if rest.starts_with(b"<!--") {
                let len = memmem::find(&self.b[next + 4..], b"-->")
                    .ok_or_else(|| cut(next, "a comment"))?;
                at = next + 4 + len + 3;
            } else {
                return Err(bad(next, "markup inside a frame's <title>"));
            }
        }
    }
}
