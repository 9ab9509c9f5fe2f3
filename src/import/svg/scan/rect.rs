//! A frame's `<rect>` read attribute by attribute, in any order and with either quote: the
//! general path ([`super::quick`] reads inferno's exact shape faster).

use super::{RawFrame, Scanner, Stop, Title, bad, cut, find_near, is_space};
use crate::import::svg::other_titles::frame_label;
use crate::import::svg::title::{Number, parse_number, split_title, title_count};

impl<'a> Scanner<'a> {
    /// Reads the attributes of a frame's `<rect>` starting at `from`, up to its `>`, records the
    /// frame and returns the offset of that `>`.
    pub(super) fn frame(
        &mut self,
        title: Title<'a>,
        lt: usize,
        from: usize,
    ) -> Result<usize, Stop> {
        let b = self.b;
        let skip_space = |mut i: usize| {
            while b.get(i).is_some_and(|&c| is_space(c)) {
                i += 1;
            }
            i
        };
        let malformed = |i: usize, what: &str| {
            if i >= b.len() {
                cut(lt, "a tag")
            } else {
                bad(lt, format!("a <rect> attribute {what}"))
            }
        };
        let mut x = None;
        let mut y = None;
        let mut width = None;
        let mut fg_x = None;
        let mut fg_w = None;
        let mut i = from;
        let gt = loop {
            i = skip_space(i);
            match b.get(i) {
                None => return Err(cut(lt, "a tag")),
                Some(b'>') => break i,
                Some(b'/') if b.get(i + 1) == Some(&b'>') => break i + 1,
                _ => {}
            }
            let key_start = i;
            while b
                .get(i)
                .is_some_and(|&c| c != b'=' && c != b'>' && !is_space(c))
            {
                i += 1;
            }
            let key = &b[key_start..i];
            i = skip_space(i);
            if b.get(i) != Some(&b'=') {
                return Err(malformed(i, "without a value"));
            }
            i = skip_space(i + 1);
            let quote = match b.get(i) {
                Some(&q @ (b'"' | b'\'')) => q,
                _ => return Err(malformed(i, "value without quotes")),
            };
            let len = find_near(quote, &b[i + 1..]).ok_or_else(|| cut(lt, "a tag"))?;
            let value = &b[i + 1..i + 1 + len];
            i += len + 2;
            // Byte patterns rather than string literals: compared inline, not through memcmp.
            match key {
                [b'x'] => x = Some(value),
                [b'y'] => y = Some(value),
                [b'w', b'i', b'd', b't', b'h'] => width = Some(value),
                [b'f', b'g', b':', b'x'] => fg_x = Some(value),
                [b'f', b'g', b':', b'w'] => fg_w = Some(value),
                _ => {}
            }
        };
        let number = |value: Option<&[u8]>, what: &str| -> Result<Number, Stop> {
            let value = value.ok_or_else(|| bad(lt, format!("a frame <rect> without {what}")))?;
            parse_number(value).ok_or_else(|| {
                bad(
                    lt,
                    format!(
                        "a frame <rect> whose {what} `{}` is not a number",
                        String::from_utf8_lossy(value)
                    ),
                )
            })
        };
        let y = number(y, "y")?.value;
        let samples = fg_x.is_some() && fg_w.is_some();
        let (name, inner) = split_title(&title.text);
        let mut name_len = name.len();
        let mut label = None;
        let count = match title_count(inner) {
            Some(count) => count,
            // inferno's `--nameattr` may replace a title with any text: the frame's weight is
            // still in fg:w and its name in the label drawn on it, unless that is cut short.
            None if samples => match frame_label(&b[gt + 1..]) {
                Some(text) => {
                    label = Some(text);
                    0.0
                }
                None => {
                    self.out.untitled += 1;
                    self.out.first_untitled.get_or_insert(title.at as u64);
                    return Ok(gt);
                }
            },
            None => {
                return Err(bad(
                    title.at,
                    format!(
                        "a frame title `{}` that does not end in `(COUNT samples, P%)`",
                        String::from_utf8_lossy(&title.text)
                    ),
                ));
            }
        };
        match self.out.sample_geometry {
            None => self.out.sample_geometry = Some((samples, title.at as u64)),
            Some((first, _)) if first != samples => {
                return Err(bad(
                    lt,
                    "a frame <rect> with fg:x/fg:w among frames without them, or the reverse",
                ));
            }
            Some(_) => {}
        }
        let (x, w, weight) = if samples {
            let (x, w) = (number(fg_x, "fg:x")?, number(fg_w, "fg:w")?);
            (x.value, w.value, w.value)
        } else {
            let (x, w) = (number(x, "x")?, number(width, "width")?);
            self.out.decimals = self.out.decimals.max(x.decimals).max(w.decimals);
            (x.value, w.value, count)
        };
        if w < 0.0 || weight < 0.0 {
            return Err(bad(lt, "a frame <rect> of negative width"));
        }
        let name = match label {
            Some(text) => {
                name_len = text.len();
                self.intern(text, name_len, title.at)
            }
            None => self.intern(&title.text, name_len, title.at),
        };
        self.out.row(y).push(RawFrame {
            x,
            w,
            weight,
            name,
            at: title.at as u64,
        });
        Ok(gt)
    }

    /// The id of the name that is the first `len` bytes of `title`.
    pub(super) fn intern(&mut self, title: &[u8], len: usize, at: usize) -> u32 {
        let name = &title[..len];
        self.intern_hashed(super::name_hash(name), name, at)
    }

    /// The id of `name`, whose hash is `hash`.
    #[inline]
    pub(super) fn intern_hashed(&mut self, hash: u32, name: &[u8], at: usize) -> u32 {
        if let Some(id) = self.out.name_index.get(hash, name) {
            return id;
        }
        let id = self.out.names.len() as u32;
        self.out.names.push((name.into(), at as u64));
        self.out.name_index.insert(hash, name, id);
        id
    }
}
