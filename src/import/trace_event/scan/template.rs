//! The shape of the last event read quickly, kept to read the next by: a trace's writer puts
//! the same keys in the same order with the same spacing in event after event, so what lies
//! between the values (`{"ph": `, `, "name": `, …, `}`) is compared a word or two at a time,
//! and only the values are read. Telling each key, space and comma apart byte by byte was
//! most of the quick reading.
//!
//! Where the bytes between the values are those of an event the quick reading took, that
//! reading would take the same bytes again: each run of spaces in them was whole (a key, a
//! `:`, a `,` or a value on each side, and no value starts with a space), so it reads the same
//! keys, once each, and its values with the same functions, ending where they end. Anything
//! else (another key, other spacing, a value it does not read) is left to the quick reading,
//! which starts the event again.

use super::Scanner;
use super::quick::{Key, Quick};

/// The most values a quick event holds: each of its keys once.
const MOST: usize = 6;

/// Bytes between two values, at most 16, with the masks that compare them as two words.
#[derive(Clone, Copy, Default)]
struct Between {
    words: [u64; 2],
    masks: [u64; 2],
    len: usize,
}

impl Between {
    fn new(bytes: &[u8]) -> Option<Between> {
        let len = bytes.len();
        if len > 16 {
            return None;
        }
        // The bytes as words, zero past their end; masks of the bytes that count.
        let word = |from: usize| {
            let part = bytes.get(from..).unwrap_or(&[]);
            let mut word = [0u8; 8];
            for (to, &from) in word.iter_mut().zip(part) {
                *to = from;
            }
            u64::from_le_bytes(word)
        };
        let mask = |n: usize| match n {
            0 => 0,
            8.. => u64::MAX,
            n => (1u64 << (8 * n)) - 1,
        };
        Some(Between {
            words: [word(0), word(8)],
            masks: [mask(len.min(8)), mask(len.saturating_sub(8))],
            len,
        })
    }
}

/// The keys of a quick event in their order, and the bytes around their values.
pub(super) struct Template {
    keys: [Key; MOST],
    count: usize,
    /// Before the first value, between each two, after the last (ending with its `}`).
    between: [Between; MOST + 1],
}

/// Where each value of an event the quick reading took lies, from the event's start.
#[derive(Default)]
pub(super) struct Spans {
    values: [(usize, usize); MOST],
    keys: [Option<Key>; MOST],
    count: usize,
}

impl Spans {
    /// The value of `key` from `start` to `end`; false past [`MOST`].
    #[inline(always)]
    pub(super) fn push(&mut self, key: Key, start: usize, end: usize) -> bool {
        let Some(at) = self.values.get_mut(self.count) else {
            return false;
        };
        *at = (start, end);
        self.keys[self.count] = Some(key);
        self.count += 1;
        true
    }
}

impl Template {
    /// The template of `event` (the bytes of an event the quick reading took, its values at
    /// `spans`) in `room` (the last template's, if any, reused: where shapes change at each
    /// event, each is learnt), if what lies between its values is short enough.
    pub(super) fn learn(
        event: &[u8],
        spans: &Spans,
        room: Option<Box<Template>>,
    ) -> Option<Box<Template>> {
        let count = spans.count;
        if count == 0 {
            return None;
        }
        let mut template = room.unwrap_or_else(|| {
            Box::new(Template {
                keys: [Key::Ph; MOST],
                count,
                between: [Between::default(); MOST + 1],
            })
        });
        template.count = count;
        let mut from = 0;
        for i in 0..count {
            let (start, end) = spans.values[i];
            template.keys[i] = spans.keys[i]?;
            template.between[i] = Between::new(event.get(from..start)?)?;
            from = end;
        }
        template.between[count] = Between::new(event.get(from..)?)?;
        Some(template)
    }
}

impl<'a> Scanner<'a, '_> {
    /// The event that starts here read by the template, if it fits it; else None with the
    /// reading anywhere in the event.
    #[inline(always)]
    pub(super) fn templated(&mut self, template: &Template) -> Option<Quick<'a>> {
        let mut event = Quick::empty();
        for i in 0..template.count {
            self.between(&template.between[i])?;
            match template.keys[i] {
                Key::Ph => {
                    let value = self.text.get(self.at..self.at + 3)?;
                    if value[0] != b'"' || value[2] != b'"' {
                        return None;
                    }
                    if !matches!(value[1], b'B' | b'E' | b'X') {
                        return None;
                    }
                    event.ph = value[1];
                    self.at += 3;
                }
                Key::Name => event.name = self.plain_str()?,
                Key::Pid => {
                    event.pid = self.integer_id()?;
                    event.has_pid = true;
                }
                Key::Tid => {
                    event.tid = self.integer_id()?;
                    event.has_tid = true;
                }
                Key::Ts => event.ts = self.plain_time()?,
                Key::Dur => {
                    event.dur = self.plain_time()?;
                    event.has_dur = true;
                }
            }
        }
        self.between(&template.between[template.count])?;
        Some(event)
    }

    /// Past `between` if the text goes on with it.
    #[inline(always)]
    fn between(&mut self, between: &Between) -> Option<()> {
        let text = self.text.get(self.at..self.at + 16)?;
        let word = |i: usize| <[u8; 8]>::try_from(&text[i..i + 8]).map_or(0, u64::from_le_bytes);
        let differ = ((word(0) ^ between.words[0]) & between.masks[0])
            | ((word(8) ^ between.words[1]) & between.masks[1]);
        if differ != 0 {
            return None;
        }
        self.at += between.len;
        Some(())
    }
}
