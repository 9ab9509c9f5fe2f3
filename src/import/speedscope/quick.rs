//! The quick reading of a speedscope file, for the common case.
//!
//! Nearly all of a large file is `samples`: lists of frame indices. Having serde_json read each
//! index through its generic machinery is most of the work of the exact reading (`de.rs`), so
//! this one walks the file's structure itself, has serde_json read only the small values (from
//! their exact text), and reads the stacks directly: eight digits at a time, and each stack
//! first compared byte for byte with the one before, whose frames it then shares up to where
//! the bytes part.
//!
//! It gives up on anything out of the ordinary: a key written with an escape, a key given
//! twice, a stack that is not a plain list of indices in range, and every fault. The exact
//! reading then reads the file again: it gives the same result where this one would have, and
//! names a fault where there is one, with its line and column. So this reading only has to be
//! right about what it accepts.

use serde::Deserialize;
use serde::de::{DeserializeSeed, IgnoredAny};

use super::counting::{Counter, Rest};
use super::de::{Context, Fields, FrameBound, Kind, RawFile, RawProfile, SamplesRead, Shared};
use super::events::EventsSeed;
use super::stacks::Stacks;
use super::weights::{self, Weights};
use crate::import::source::Progress;

/// Reads `json` with `context`; `None` where the exact reading has to be asked. `release(n)` is
/// told, now and then, that the reading has left the first n bytes behind for good (the exact
/// reading may still read them again).
pub(super) fn read<'a>(
    json: &'a [u8],
    context: &mut Context,
    release: &dyn Fn(usize),
) -> Option<RawFile<'a>> {
    let mut reader = Reader {
        json,
        at: 0,
        progress: Progress::new(release),
    };
    let file = reader.file(context)?;
    reader.space();
    (reader.at == json.len()).then_some(file)
}

/// The stacks from the one at `at` to the end of their list, counted with each frame index's
/// function `funcs` (the second reading of `counting.rs`); `None` where they are not a run of
/// stacks ending a list.
pub(super) fn count_rest(
    json: &[u8],
    at: usize,
    funcs: Vec<u32>,
    release: &dyn Fn(usize),
) -> Option<Rest> {
    let mut reader = Reader {
        json,
        at,
        progress: Progress::new(release),
    };
    let mut counter = Counter::default();
    counter.functions(funcs);
    let limit = counter.frame_limit()?;
    let mut max = None;
    let stacks = reader.stack_run(limit, &mut counter, &mut max)?;
    counter.into_rest(stacks, reader.at, max)
}

struct Reader<'a, 'r> {
    json: &'a [u8],
    at: usize,
    /// Told how far the reading has gone (see `parse_mapped`).
    progress: Progress<'r>,
}

impl<'a> Reader<'a, '_> {
    fn file(&mut self, context: &mut Context) -> Option<RawFile<'a>> {
        let mut frames = None;
        let mut profiles: Option<Vec<RawProfile>> = None;
        self.object(|reader, key| {
            match key {
                b"shared" => {
                    if frames.is_some() {
                        return None;
                    }
                    let read = reader.value::<Shared<'a>>()?.frames;
                    context.shared_read(&read, profiles.is_some());
                    frames = Some(read);
                }
                b"profiles" => {
                    if profiles.is_some() {
                        return None;
                    }
                    let known = context.frame_count.or(frames.as_ref().map(Vec::len));
                    profiles = Some(reader.profiles(known, context)?);
                }
                _ => {
                    reader.value::<IgnoredAny>()?;
                }
            }
            Some(())
        })?;
        let (frames, profiles) = (frames?, profiles?);
        if profiles.is_empty() {
            return None;
        }
        Some(RawFile { frames, profiles })
    }

    fn profiles(
        &mut self,
        known_frames: Option<usize>,
        context: &mut Context,
    ) -> Option<Vec<RawProfile>> {
        let mut profiles = Vec::new();
        self.space();
        self.eat(b'[')?;
        self.space();
        if self.eat(b']').is_some() {
            return Some(profiles);
        }
        loop {
            let bound = FrameBound::new(known_frames, profiles.len());
            profiles.push(self.profile(bound, context)?);
            self.space();
            match self.next()? {
                b',' => {}
                b']' => return Some(profiles),
                _ => return None,
            }
        }
    }

    /// One profile, its keys handled as `ProfileSeed` handles them.
    fn profile(&mut self, bound: FrameBound, context: &mut Context) -> Option<RawProfile> {
        let mut fields = Fields {
            kind: None,
            name: None,
            unit: None,
            start_value: None,
            end_value: None,
            sampled: None,
            weights: None,
            evented: None,
        };
        self.object(|reader, key| {
            let kind = fields.kind;
            match key {
                b"type" => fields.kind = Some(reader.value::<Kind>()?),
                b"name" => fields.name = reader.value()?,
                b"unit" => fields.unit = reader.value()?,
                b"startValue" => fields.start_value = reader.value()?,
                b"endValue" => fields.end_value = reader.value()?,
                b"samples" if kind != Some(Kind::Evented) => {
                    if fields.sampled.is_some() {
                        return None;
                    }
                    fields.sampled = Some(reader.samples(bound, context)?);
                }
                b"weights" if kind != Some(Kind::Evented) => {
                    if fields.weights.is_some() {
                        return None;
                    }
                    let weights = reader.weights()?;
                    if context.counter.is_some() && weights.uniform().is_none() {
                        return None;
                    }
                    fields.weights = Some(weights);
                }
                // The counting reading counts samples only: the usual one reads the file.
                b"events" if context.counter.is_some() => return None,
                b"events" if kind != Some(Kind::Sampled) => {
                    if fields.evented.is_some() {
                        return None;
                    }
                    let seed = EventsSeed {
                        bound,
                        max_frame: &mut context.max_frame,
                    };
                    fields.evented = Some(reader.seeded(seed)?);
                }
                _ => {
                    reader.value::<IgnoredAny>()?;
                }
            }
            Some(())
        })?;
        fields.finish(bound.profile, &mut context.notes).ok()
    }

    /// A `samples` list, its stacks counted, or sent to the sink, as they are read.
    fn samples(&mut self, bound: FrameBound, context: &mut Context) -> Option<SamplesRead> {
        let limit = bound.limit();
        let (count, slot) = match (&mut context.counter, &mut context.sink) {
            // Counting needs each frame's function from the start.
            (Some(counter), _) if counter.knows_functions() => {
                self.stacks(limit, counter, &mut context.max_frame)?
            }
            (Some(_), _) | (None, None) => return None,
            (None, Some(sink)) => self.stacks(limit, sink, &mut context.max_frame)?,
        };
        Some(SamplesRead {
            slot: Some(slot),
            count,
        })
    }

    /// The stacks of a `samples` list, put into `sink`: how many, and the list's slot.
    fn stacks(
        &mut self,
        limit: u32,
        sink: &mut impl Stacks,
        max_frame: &mut Option<u32>,
    ) -> Option<(usize, usize)> {
        self.space();
        self.eat(b'[')?;
        let at = skip_space(self.json, self.at);
        let count = if self.json.get(at) == Some(&b']') {
            self.at = at + 1;
            0
        } else {
            self.at = at;
            self.stack_run(limit, sink, max_frame)?
        };
        Some((count, sink.end_list()))
    }

    /// The stacks from the one at `self.at` to the end of their list, past its `]`: how many.
    /// Where the sink has had the rest of the list read from a stack on (see `counting.rs`),
    /// its reading is taken on arriving there.
    fn stack_run(
        &mut self,
        limit: u32,
        sink: &mut impl Stacks,
        max_frame: &mut Option<u32>,
    ) -> Option<usize> {
        let json = self.json;
        let mut max = *max_frame;
        // Where the stack before lies, and where each of its frame indices ends, counted from
        // its `[`: a stack that starts with the same bytes starts with the same frames.
        let mut previous = 0..0;
        let mut ends: Vec<usize> = Vec::new();
        let mut count = 0;
        let split = sink.read_from();
        let mut at = self.at;
        loop {
            let start = at;
            if start == split
                && let Some((stacks, end)) = sink.take_rest(&mut max)
            {
                count += stacks;
                self.at = end;
                break;
            }
            self.progress.left_behind(previous.start);
            let before = json.get(previous.clone()).unwrap_or_default();
            let same = common_prefix(before, json.get(start..)?);
            if same == before.len() && same > 0 {
                // The very stack before, `]` and all.
                at = start + same;
                sink.end_sharing(ends.len());
            } else {
                // The frames whose digits and the byte after them are all in common.
                let shared = ends.partition_point(|&end| end < same);
                ends.truncate(shared);
                at = match ends.last() {
                    Some(&end) => start + end,
                    None => {
                        if json.get(start) != Some(&b'[') {
                            return None;
                        }
                        start + 1
                    }
                };
                // An empty stack reads as if after its last index.
                let mut after_index = shared > 0 || {
                    at = skip_space(json, at);
                    json.get(at) == Some(&b']')
                };
                loop {
                    if after_index {
                        at = skip_space(json, at);
                        match json.get(at) {
                            Some(b',') => at = skip_space(json, at + 1),
                            Some(b']') => {
                                at += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                    let (value, digits) = match eight_digits(json, at) {
                        Some(read) => read,
                        None => slow_digits(json, at)?,
                    };
                    // No digits, or a leading zero, which JSON forbids.
                    if digits == 0 || (digits > 1 && json.get(at) == Some(&b'0')) {
                        return None;
                    }
                    let index = u32::try_from(value).ok().filter(|&index| index < limit)?;
                    if max < Some(index) {
                        max = Some(index);
                    }
                    at += digits;
                    sink.push_new(index);
                    ends.push(at - start);
                    after_index = true;
                }
                sink.end_sharing(shared);
            }
            previous = start..at;
            count += 1;
            at = skip_space(json, at);
            match json.get(at) {
                Some(b',') => at = skip_space(json, at + 1),
                Some(b']') => {
                    self.at = at + 1;
                    break;
                }
                _ => return None,
            }
        }
        *max_frame = max;
        Some(count)
    }

    /// A `weights` list. py-spy writes one weight throughout, the same bytes each time: that
    /// weight is read once.
    fn weights(&mut self) -> Option<Weights> {
        let weights = match weights::same_text(self.json, self.at) {
            Some((text, count, end)) => {
                let weight: f64 = serde_json::from_slice(text).ok()?;
                self.at = end;
                if weight > 0.0 {
                    Weights::Uniform { weight, count }
                } else {
                    Weights::Listed(vec![weight; count])
                }
            }
            None => Weights::from_list(self.value()?),
        };
        // A negative weight is a fault.
        match &weights {
            Weights::Listed(list) if list.iter().any(|&weight| weight < 0.0) => None,
            _ => Some(weights),
        }
    }

    /// An object, `each` called with every key (unescaped) at its value.
    fn object(&mut self, mut each: impl FnMut(&mut Self, &'a [u8]) -> Option<()>) -> Option<()> {
        self.space();
        self.eat(b'{')?;
        self.space();
        if self.eat(b'}').is_some() {
            return Some(());
        }
        loop {
            self.space();
            self.eat(b'"')?;
            let rest = self.json.get(self.at..)?;
            let len = memchr::memchr2(b'"', b'\\', rest)?;
            // A key with an escape is left to the exact reading, and so is one that is not a
            // valid JSON string as it stands.
            if rest.get(len) != Some(&b'"') {
                return None;
            }
            let key = rest.get(..len)?;
            if key.iter().any(|&b| b < 0x20) || std::str::from_utf8(key).is_err() {
                return None;
            }
            self.at += len + 1;
            self.space();
            self.eat(b':')?;
            self.space();
            each(self, key)?;
            self.progress.left_behind(self.at);
            self.space();
            match self.next()? {
                b',' => {}
                b'}' => return Some(()),
                _ => return None,
            }
        }
    }

    /// The value here, read by serde_json from exactly its text.
    fn value<T: Deserialize<'a>>(&mut self) -> Option<T> {
        self.seeded(std::marker::PhantomData::<T>)
    }

    fn seeded<S: DeserializeSeed<'a>>(&mut self, seed: S) -> Option<S::Value> {
        let json: &'a [u8] = self.json;
        let end = value_end(json, self.at)?;
        let mut deserializer = serde_json::Deserializer::from_slice(json.get(self.at..end)?);
        let value = seed.deserialize(&mut deserializer).ok()?;
        deserializer.end().ok()?;
        self.at = end;
        Some(value)
    }

    fn space(&mut self) {
        self.at = skip_space(self.json, self.at);
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.json.get(self.at) == Some(&byte)).then(|| self.at += 1)
    }

    fn next(&mut self) -> Option<u8> {
        let byte = *self.json.get(self.at)?;
        self.at += 1;
        Some(byte)
    }
}

/// Where the JSON value at `at` ends, found without checking it (serde_json checks it next):
/// strings and nesting are followed so that the end is right for any valid value.
fn value_end(json: &[u8], at: usize) -> Option<usize> {
    match *json.get(at)? {
        b'"' => string_end(json, at + 1),
        b'[' | b'{' => {
            let mut depth = 0usize;
            let mut at = at;
            loop {
                let skip = json
                    .get(at..)?
                    .iter()
                    .position(|&b| matches!(b, b'"' | b'[' | b']' | b'{' | b'}'))?;
                at += skip;
                match json[at] {
                    b'"' => at = string_end(json, at + 1)?,
                    b'[' | b'{' => {
                        depth += 1;
                        at += 1;
                    }
                    _ => {
                        depth -= 1;
                        at += 1;
                        if depth == 0 {
                            return Some(at);
                        }
                    }
                }
            }
        }
        _ => {
            let len = json
                .get(at..)?
                .iter()
                .position(|&b| matches!(b, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t'))
                .unwrap_or(json.len() - at);
            Some(at + len)
        }
    }
}

/// The position after the `"` that ends the string whose text starts at `at`.
fn string_end(json: &[u8], mut at: usize) -> Option<usize> {
    loop {
        at += memchr::memchr2(b'"', b'\\', json.get(at..)?)?;
        if json[at] == b'"' {
            return Some(at + 1);
        }
        at += 2;
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
