//! inferno's frames read by their exact bytes.
//!
//! inferno writes every frame as the same bytes around its own values:
//!
//! `<g><title>T</title><rect x="X" y="Y" width="W" height="H" fill="F" fg:x="FX" fg:w="FW"/><text x="TX" y="TY">L</text></g>`
//!
//! A group of exactly that shape is read here by comparing those bytes and finding each value's
//! closing quote, instead of tag by tag and attribute by attribute: about half the scan's
//! instructions. Anything else (another order, spaces, single quotes, a title without a count,
//! a number that is not plain, a drawing without `fg:x`/`fg:w`) leaves the scanner untouched
//! for the general path, which reads the group as before and reports what is wrong with it.

use super::{RawFrame, Scanner};
use crate::import::svg::title::{parse_number, split_title, title_count};

/// Frames read before their names are looked up. Between two lookups of one name the scan
/// streams much of the caches' worth of file, so a lookup is nearly always a miss for the name's
/// slot and another for its bytes; a batch lets those misses overlap, where one frame at a time
/// they follow one another (they were a fifth of the scan's time).
pub(super) const BATCH: usize = 16;

/// A frame read here whose name is still to be looked up.
pub(super) struct Queued<'a> {
    name: &'a [u8],
    hash: u32,
    y: f64,
    x: f64,
    w: f64,
    at: usize,
}

/// A frame as read here, before anything is recorded.
struct Quick<'a> {
    title: &'a [u8],
    y: &'a [u8],
    fg_x: &'a [u8],
    fg_w: &'a [u8],
    /// Just past the group's `</g>`.
    end: usize,
}

impl Scanner<'_> {
    /// Reads the frame group whose `<g>` is at `lt` if it has inferno's exact shape, leaving
    /// the scanner as the general path would; false, with nothing changed, if it has not.
    pub(super) fn quick_frame(&mut self, lt: usize) -> bool {
        let Some(found) = read(self.b, lt) else {
            return false;
        };
        let (name, inner) = split_title(found.title);
        if title_count(inner).is_none() || self.out.sample_geometry.is_some_and(|(s, _)| !s) {
            return false;
        }
        let (Some(y), Some(x), Some(w)) = (number(found.y), number(found.fg_x), number(found.fg_w))
        else {
            return false;
        };
        if w < 0.0 {
            return false;
        }
        let at = lt + b"<g>".len();
        self.out.sample_geometry.get_or_insert((true, at as u64));
        let hash = super::name_hash(name);
        // The name's slot is asked for now, to arrive before the batch is recorded.
        self.out.name_index.prefetch(hash);
        self.queued.push(Queued {
            name,
            hash,
            y,
            x,
            w,
            at,
        });
        if self.queued.len() == BATCH {
            self.record_queued();
        }
        // What the general path leaves after a whole group: closed, nothing pending.
        self.in_group = false;
        self.nest = 0;
        self.pending = None;
        self.pos = found.end;
        true
    }
}

impl Scanner<'_> {
    /// Records the queued frames, in the order they were read: their names' bytes asked for
    /// first (their slots were, as they were read), then each looked up.
    pub(super) fn record_queued(&mut self) {
        if self.queued.is_empty() {
            return;
        }
        let mut queued = std::mem::take(&mut self.queued);
        for frame in &queued {
            self.out
                .name_index
                .prefetch_name(frame.hash, frame.name.len());
        }
        for frame in queued.drain(..) {
            let name = self.intern_hashed(frame.hash, frame.name, frame.at);
            self.out.row(frame.y).push(RawFrame {
                x: frame.x,
                w: frame.w,
                weight: frame.w,
                name,
                at: frame.at as u64,
            });
        }
        self.queued = queued;
    }
}

/// A number as the general path reads it: plain digits at once, anything else through
/// [`parse_number`].
fn number(text: &[u8]) -> Option<f64> {
    if !text.is_empty() && text.len() <= 15 && text.iter().all(u8::is_ascii_digit) {
        // Up to 15 digits are exact in an f64, as `parse_number` makes them.
        let mut value = 0u64;
        for &digit in text {
            value = value * 10 + u64::from(digit - b'0');
        }
        return Some(value as f64);
    }
    parse_number(text).map(|n| n.value)
}

/// The frame group at `lt` if it has inferno's exact shape.
fn read(b: &[u8], lt: usize) -> Option<Quick<'_>> {
    let content = lt + b"<g><title>".len();
    let title_end = byte_from::<b'<'>(b, content)?;
    let title = &b[content..title_end];
    let i = expect(b, title_end, b"</title><rect x=\"")?;
    let i = expect(b, past_value(b, i)?, b" y=\"")?;
    let (y, i) = value(b, i)?;
    let i = expect(b, i, b" width=\"")?;
    let i = expect(b, past_value(b, i)?, b" height=\"")?;
    let i = expect(b, past_value(b, i)?, b" fill=\"")?;
    let i = expect(b, past_value(b, i)?, b" fg:x=\"")?;
    let (fg_x, i) = value(b, i)?;
    let i = expect(b, i, b" fg:w=\"")?;
    let (fg_w, i) = value(b, i)?;
    let i = expect(b, i, b"/><text x=\"")?;
    let i = expect(b, past_value(b, i)?, b" y=\"")?;
    let i = expect(b, past_value(b, i)?, b">")?;
    let end = expect(b, byte_from::<b'<'>(b, i)?, b"</text></g>")?;
    Some(Quick {
        title,
        y,
        fg_x,
        fg_w,
        end,
    })
}

/// Just past `text` if it is at `at`.
fn expect(b: &[u8], at: usize, text: &[u8]) -> Option<usize> {
    (b.get(at..at + text.len())? == text).then_some(at + text.len())
}

/// The attribute value from `at` to its closing `"`, and the offset just past that quote.
fn value(b: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let end = quote_from(b, at)?;
    Some((&b[at..end], end + 1))
}

/// The first `"` from `at` on.
fn quote_from(b: &[u8], at: usize) -> Option<usize> {
    byte_from::<b'"'>(b, at)
}

/// The first `NEEDLE` from `at` on, looked for eight bytes at a time: values, titles and labels
/// are a few dozen bytes long, too short for memchr to pay off, too long for a loop over bytes
/// to be cheap.
#[inline]
fn byte_from<const NEEDLE: u8>(b: &[u8], at: usize) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let needles = u64::from_ne_bytes([NEEDLE; 8]);
    let mut i = at;
    while let Some(chunk) = b.get(i..i + 8) {
        let word = u64::from_le_bytes(chunk.try_into().ok()?);
        let x = word ^ needles;
        // The lowest high bit set marks the first zero byte of `x` (bits above it may be set
        // by a borrow, never bits below).
        let zero = x.wrapping_sub(ONES) & !x & HIGHS;
        if zero != 0 {
            return Some(i + (zero.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    b.get(i..)?.iter().position(|&c| c == NEEDLE).map(|p| i + p)
}

fn past_value(b: &[u8], at: usize) -> Option<usize> {
    value(b, at).map(|(_, next)| next)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: &str = r#"<g><title>main (a.py:3) (1,234 samples, 5.67%)</title><rect x="1.5%" y="85" width="2.25%" height="15" fill="rgb(1,2,3)" fg:x="10" fg:w="1234"/><text x="1.75%" y="95.50">main</text></g>"#;

    #[test]
    fn reads_inferno_frames_exactly() {
        let found = read(FRAME.as_bytes(), 0).expect("inferno's shape");
        assert_eq!(found.title, b"main (a.py:3) (1,234 samples, 5.67%)");
        assert_eq!(
            (found.y, found.fg_x, found.fg_w),
            (&b"85"[..], &b"10"[..], &b"1234"[..])
        );
        assert_eq!(found.end, FRAME.len());
    }

    #[test]
    fn anything_else_is_left_to_the_general_path() {
        for other in [
            FRAME.replace(r#"y="85" width"#, r#"width="2.25%" y="85""#),
            FRAME.replace(r#" fill="#, r#"  fill="#),
            FRAME.replace(r#"fg:w="1234""#, "fg:w='1234'"),
            FRAME.replace("</text></g>", "</text> </g>"),
            FRAME.replace(r#"">main<"#, r#""/>main<"#),
            FRAME[..FRAME.len() - 1].to_owned(),
        ] {
            assert!(read(other.as_bytes(), 0).is_none(), "{other}");
        }
    }

    #[test]
    fn values_may_hold_what_tags_may_not() {
        // `>` and `'` inside values; `<` and entities in the title are the title's business.
        let odd = FRAME
            .replace(r#"fill="rgb(1,2,3)""#, r#"fill="a>b'c""#)
            .replace("main (a.py:3)", "m&amp;&lt;n&gt;");
        let found = read(odd.as_bytes(), 0).expect("inferno's shape");
        assert_eq!(found.title, b"m&amp;&lt;n&gt; (1,234 samples, 5.67%)");
        assert_eq!(found.end, odd.len());
    }

    #[test]
    fn quotes_are_found_wherever_they_lie() {
        for len in 0..40 {
            for at in 0..len {
                let mut text = vec![b'a'; len];
                text[at] = b'"';
                // Bytes that a borrow could mistake for a quote around it.
                if at + 1 < len {
                    text[at + 1] = b'"' + 1;
                }
                if at > 0 {
                    text[at - 1] = 0x21;
                }
                assert_eq!(quote_from(&text, 0), Some(at), "{len} {at}");
                let angled: Vec<u8> = text
                    .iter()
                    .map(|&c| if c == b'"' { b'<' } else { c })
                    .collect();
                assert_eq!(byte_from::<b'<'>(&angled, 0), Some(at), "{len} {at}");
                assert_eq!(quote_from(&text, at), Some(at));
                assert_eq!(quote_from(&text, at + 1), None);
            }
            assert_eq!(quote_from(&vec![0xff; len], 0), None);
        }
    }

    #[test]
    fn numbers_read_as_parse_number_reads_them() {
        for text in [
            "0",
            "85",
            "123456789012345",
            "1234567890123456",
            "3.5",
            "-2",
            "1e3",
            " 7",
        ] {
            assert_eq!(
                number(text.as_bytes()).map(f64::to_bits),
                parse_number(text.as_bytes()).map(|n| n.value.to_bits()),
                "{text}"
            );
        }
        assert_eq!(number(b""), None);
    }
}
