//! A hand-written reader for the common shape of a trace: an array of flat event objects whose
//! strings hold no escapes and whose numbers are plain decimals. It reads them as serde_json
//! would, to the bit, in about a third of the time.
//!
//! Whatever it is not sure of, it does not guess: an event it cannot read is read by
//! serde_json instead, and anything wrong with the JSON around the events (or in an event
//! serde_json cannot read either) sends the whole file back to serde_json, whose reading
//! (its errors, and its repair of a cut array) is the reference.

mod digits;
mod halves;
mod lagging;
mod plain;
mod quick;
mod template;

use std::borrow::Cow;
use std::sync::atomic::AtomicBool;

use self::digits::{Number, finish_number};
use self::halves::Halves;
use self::lagging::Lagging;
pub(super) use self::quick::Quick;
use super::collect::Collector;
use super::{Id, RawEvent};
use crate::import::ParseError;
use crate::import::source::Progress;

/// Why the fast reading stopped.
pub(super) enum Stop {
    /// Something it does not read: the file is read again by serde_json.
    Unsure,
    /// An event that is not a profile's (the same error serde_json's reading meets).
    Event(ParseError),
}

/// Deeper than this, nesting is left to serde_json, whose recursion limit (128) counts the
/// levels around the event too.
const MAX_DEPTH: usize = 64;

struct Scanner<'a, 'r> {
    text: &'a [u8],
    at: usize,
    /// Told how far the reading has gone (see `parse_mapped`).
    progress: Progress<'r>,
    /// The shape of the last event read quickly, to read the next by.
    template: Option<Box<template::Template>>,
    /// Quick events read since the template last fitted one.
    misses: u32,
}

/// Reads a whole trace (BOM already off) into `collector`: a bare array of events, or an
/// object whose members other than `traceEvents` are plain JSON to skip. Each event is taken
/// as it is read, on the thread that reads it: handing events to another thread cost more
/// than taking them, and the second half has a core of its own.
pub(super) fn collect<'a>(
    text: &'a [u8],
    is_array: bool,
    collector: &mut Collector<'a>,
    release: &dyn Fn(usize),
    release_range: &(dyn Fn(usize, usize) + Sync),
) -> Result<(), Stop> {
    let stop_tail = AtomicBool::new(false);
    let tail = std::thread::scope(|scope| {
        // A large trace's second half is read from a guess meanwhile (see `halves`).
        let mut halves = halves::start(scope, text, &stop_tail, release_range);
        read_trace(text, is_array, collector, release, halves.as_mut())
            .map(|()| halves.and_then(|mut h| h.tail.take()))
    })?;
    if let Some(tail) = tail {
        collector.append(tail);
    }
    Ok(())
}

fn read_trace<'a>(
    text: &'a [u8],
    is_array: bool,
    out: &mut Collector<'a>,
    release: &dyn Fn(usize),
    mut halves: Option<&mut Halves<'_, 'a>>,
) -> Result<(), Stop> {
    let mut s = Scanner {
        text,
        at: 0,
        progress: Progress::new(release),
        template: None,
        misses: 0,
    };
    s.ws();
    if is_array {
        s.events(out, halves)?;
    } else {
        s.expect(b'{')?;
        s.ws();
        let mut seen_events = false;
        if s.peek() != Some(b'}') {
            loop {
                let key = s.plain_string()?;
                s.ws();
                s.expect(b':')?;
                s.ws();
                match key {
                    b"traceEvents" if !seen_events => {
                        seen_events = true;
                        s.events(out, halves.take())?;
                    }
                    // Hermes' samples, a second `traceEvents`: serde_json's reading.
                    b"traceEvents" | b"samples" | b"stackFrames" => return Err(Stop::Unsure),
                    _ => s.skip_value(1)?,
                }
                s.ws();
                match s.next() {
                    Some(b',') => s.ws(),
                    Some(b'}') => break,
                    _ => return Err(Stop::Unsure),
                }
            }
        } else {
            s.at += 1;
        }
        if !seen_events {
            return Err(Stop::Unsure);
        }
    }
    s.ws();
    if s.at == text.len() {
        Ok(())
    } else {
        Err(Stop::Unsure)
    }
}

impl<'a> Scanner<'a, '_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.at += 1;
        Some(b)
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.at += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Result<(), Stop> {
        if self.next() == Some(byte) {
            Ok(())
        } else {
            Err(Stop::Unsure)
        }
    }

    /// `[ event, … ]`, each event handed on as it is read; from the second half's start on,
    /// the second half's reading if its start is confirmed (see `halves`).
    fn events(
        &mut self,
        out: &mut Collector<'a>,
        mut halves: Option<&mut Halves<'_, 'a>>,
    ) -> Result<(), Stop> {
        self.expect(b'[')?;
        self.ws();
        if self.peek() == Some(b']') {
            self.at += 1;
            return Ok(());
        }
        let mut lagging = Lagging::default();
        loop {
            if let Some(halves) = halves.as_deref_mut()
                && halves.ahead(self.at)
            {
                lagging.flush(out)?;
                if let Some(end) = halves.land(self.at, out.taken())? {
                    self.at = end;
                    return Ok(());
                }
            }
            self.one_event(out, &mut lagging)?;
            self.ws();
            match self.next() {
                Some(b',') => self.ws(),
                Some(b']') => return lagging.flush(out),
                _ => return Err(lagging.fail(out, Stop::Unsure)),
            }
        }
    }

    /// The event that starts here, read (by the quick reading, else the general one, else by
    /// serde_json) and handed to `lagging`.
    #[inline(always)]
    fn one_event(
        &mut self,
        out: &mut Collector<'a>,
        lagging: &mut Lagging<'a>,
    ) -> Result<(), Stop> {
        let start = self.at;
        self.progress.left_behind(start);
        if let Some(event) = self.quick_event() {
            return lagging.push_quick(out, event);
        }
        self.at = start;
        let event = self
            .general_event()
            .map_err(|stop| lagging.fail(out, stop))?;
        lagging.push(out, event)
    }

    /// The event that starts here: by this reader, else by serde_json.
    fn general_event(&mut self) -> Result<RawEvent<'a>, Stop> {
        let start = self.at;
        match self.event() {
            Some(event) => Ok(event),
            None => {
                self.at = start;
                self.event_by_serde()
            }
        }
    }

    /// An event serde_json reads from where it starts; its nesting is checked against what
    /// the recursion limit would have allowed in place.
    fn event_by_serde(&mut self) -> Result<RawEvent<'a>, Stop> {
        let rest = &self.text[self.at..];
        let mut stream = serde_json::Deserializer::from_slice(rest).into_iter::<RawEvent<'a>>();
        let Some(Ok(event)) = stream.next() else {
            return Err(Stop::Unsure);
        };
        let end = self.at + stream.byte_offset();
        if depth(&self.text[self.at..end]) > MAX_DEPTH {
            return Err(Stop::Unsure);
        }
        self.at = end;
        Ok(event)
    }

    /// One event object as serde_json reads it into a [`RawEvent`], or None where this reader
    /// is not sure it would read it the same (escapes, exponents, other types, repeated keys).
    fn event(&mut self) -> Option<RawEvent<'a>> {
        let mut event = RawEvent::default();
        let mut seen = 0u16;
        if self.next()? != b'{' {
            return None;
        }
        self.ws();
        if self.peek()? == b'}' {
            self.at += 1;
            return Some(event);
        }
        loop {
            let key = self.plain_string().ok()?;
            self.ws();
            if self.next()? != b':' {
                return None;
            }
            self.ws();
            let bit = match key {
                b"ph" => {
                    event.ph = self.nullable(|s| s.plain_str())?;
                    1
                }
                b"ts" => {
                    event.ts = self.time()?;
                    2
                }
                b"dur" => {
                    event.dur = self.time()?;
                    4
                }
                b"tdur" => {
                    event.tdur = self.time()?;
                    8
                }
                b"pid" => {
                    event.pid = self.nullable(Self::id)?;
                    16
                }
                b"tid" => {
                    event.tid = self.nullable(Self::id)?;
                    32
                }
                b"name" => {
                    event.name = self.nullable(|s| s.plain_str().map(Cow::Borrowed))?;
                    64
                }
                b"args" => {
                    event.args = self.nullable(|s| {
                        let start = s.at;
                        s.skip_value(2).ok()?;
                        // Every string was checked as UTF-8 and the rest is ASCII.
                        std::str::from_utf8(&s.text[start..s.at]).ok()
                    })?;
                    128
                }
                b"id" => {
                    event.id = self.nullable(Self::id)?;
                    256
                }
                _ => {
                    self.skip_value(2).ok()?;
                    0
                }
            };
            // serde refuses a field given twice.
            if seen & bit != 0 {
                return None;
            }
            seen |= bit;
            self.ws();
            match self.next()? {
                b',' => self.ws(),
                b'}' => return Some(event),
                _ => return None,
            }
        }
    }

    /// `null` as None (as `Option`'s deserializer reads it), else what `read` reads.
    fn nullable<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        if self.peek()? == b'n' {
            self.literal(b"null")?;
            return Some(None);
        }
        read(self).map(Some)
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        if self.text[self.at..].starts_with(word) {
            self.at += word.len();
            Some(())
        } else {
            None
        }
    }

    /// A time as `lenient_number` takes it: a number, a number in a string, else none.
    fn time(&mut self) -> Option<Option<f64>> {
        match self.peek()? {
            b'n' => self.literal(b"null").map(|()| None),
            b't' => self.literal(b"true").map(|()| None),
            b'f' => self.literal(b"false").map(|()| None),
            b'"' => Some(self.plain_str()?.trim().parse().ok()),
            _ => Some(Some(match self.number()? {
                Number::Unsigned(v) => v as f64,
                Number::Signed(v) => v as f64,
                Number::Float(v) => v,
            })),
        }
    }

    /// A pid, tid or id as [`Id`]'s deserializer takes it.
    fn id(&mut self) -> Option<Id> {
        if self.peek()? == b'"' {
            return Some(Id::Text(self.plain_str()?.to_owned()));
        }
        Some(match self.number()? {
            Number::Unsigned(v) => {
                i64::try_from(v).map_or_else(|_| Id::Text(v.to_string()), Id::Number)
            }
            Number::Signed(v) => Id::Number(v),
            Number::Float(v) => Id::Text(v.to_string()),
        })
    }

    /// A number without an exponent whose digits fit a u64, as serde_json computes it (its
    /// default parsing: the digits as an integer divided by a power of ten); None otherwise.
    #[inline(always)]
    fn number(&mut self) -> Option<Number> {
        if let Some((negative, significand, fraction_digits, len)) =
            digits::plain(&self.text[self.at..])
        {
            self.at += len;
            return finish_number(negative, significand, fraction_digits);
        }
        self.number_by_digit()
    }

    /// [`Scanner::number`] a digit at a time, for what [`digits::plain`] does not read.
    fn number_by_digit(&mut self) -> Option<Number> {
        let negative = self.peek()? == b'-';
        if negative {
            self.at += 1;
        }
        let mut significand: u64 = 0;
        let int_start = self.at;
        while let Some(c @ b'0'..=b'9') = self.peek() {
            significand = significand
                .checked_mul(10)?
                .checked_add(u64::from(c - b'0'))?;
            self.at += 1;
        }
        let int_digits = self.at - int_start;
        if int_digits == 0 || (int_digits > 1 && self.text[int_start] == b'0') {
            return None;
        }
        let mut fraction_digits = 0usize;
        if self.peek() == Some(b'.') {
            self.at += 1;
            while let Some(c @ b'0'..=b'9') = self.peek() {
                significand = significand
                    .checked_mul(10)?
                    .checked_add(u64::from(c - b'0'))?;
                self.at += 1;
                fraction_digits += 1;
            }
            if fraction_digits == 0 {
                return None;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            return None;
        }
        finish_number(negative, significand, fraction_digits)
    }

    /// A string without escapes, as the bytes between its quotes, checked as serde_json
    /// checks strings (no control characters; UTF-8).
    fn plain_string(&mut self) -> Result<&'a [u8], Stop> {
        if self.peek() != Some(b'"') {
            return Err(Stop::Unsure);
        }
        let start = self.at + 1;
        // Most strings are short and plain: a few words tell (see `plain`).
        if let Some(len) = plain::ascii_until_quote(&self.text[start..]) {
            self.at = start + len + 1;
            return Ok(&self.text[start..start + len]);
        }
        let len = memchr::memchr2(b'"', b'\\', &self.text[start..]).ok_or(Stop::Unsure)?;
        let end = start + len;
        if self.text[end] == b'\\' {
            return Err(Stop::Unsure);
        }
        let body = &self.text[start..end];
        if body.iter().any(|&b| b < 0x20) {
            return Err(Stop::Unsure);
        }
        if !body.is_ascii() && std::str::from_utf8(body).is_err() {
            return Err(Stop::Unsure);
        }
        self.at = end + 1;
        Ok(body)
    }

    fn plain_str(&mut self) -> Option<&'a str> {
        if self.peek()? == b'"' {
            let start = self.at + 1;
            if let Some(len) = plain::ascii_until_quote(&self.text[start..]) {
                self.at = start + len + 1;
                let body = &self.text[start..start + len];
                // SAFETY: `ascii_until_quote` saw only ASCII before the quote, and ASCII is
                // UTF-8: checking it again was a twentieth of the reading.
                return Some(unsafe { std::str::from_utf8_unchecked(body) });
            }
        }
        let body = self.plain_string().ok()?;
        // Checked in `plain_string`.
        std::str::from_utf8(body).ok()
    }

    /// Passes over one value, checking it as serde_json would; `depth` levels are open around
    /// it.
    fn skip_value(&mut self, depth: usize) -> Result<(), Stop> {
        if depth > MAX_DEPTH {
            return Err(Stop::Unsure);
        }
        let unsure = || Stop::Unsure;
        match self.peek().ok_or(Stop::Unsure)? {
            b'"' => self.plain_string().map(|_| ()),
            b'{' => {
                self.at += 1;
                self.ws();
                if self.peek() == Some(b'}') {
                    self.at += 1;
                    return Ok(());
                }
                loop {
                    self.plain_string()?;
                    self.ws();
                    self.expect(b':')?;
                    self.ws();
                    self.skip_value(depth + 1)?;
                    self.ws();
                    match self.next() {
                        Some(b',') => self.ws(),
                        Some(b'}') => return Ok(()),
                        _ => return Err(Stop::Unsure),
                    }
                }
            }
            b'[' => {
                self.at += 1;
                self.ws();
                if self.peek() == Some(b']') {
                    self.at += 1;
                    return Ok(());
                }
                loop {
                    self.skip_value(depth + 1)?;
                    self.ws();
                    match self.next() {
                        Some(b',') => self.ws(),
                        Some(b']') => return Ok(()),
                        _ => return Err(Stop::Unsure),
                    }
                }
            }
            b't' => self.literal(b"true").ok_or_else(unsure),
            b'f' => self.literal(b"false").ok_or_else(unsure),
            b'n' => self.literal(b"null").ok_or_else(unsure),
            _ => self.skip_number(),
        }
    }

    /// A number by JSON's grammar, `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    fn skip_number(&mut self) -> Result<(), Stop> {
        let digits = |s: &mut Self| {
            let start = s.at;
            while let Some(b'0'..=b'9') = s.peek() {
                s.at += 1;
            }
            s.at - start
        };
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        let start = self.at;
        match digits(self) {
            0 => return Err(Stop::Unsure),
            1 => {}
            _ if self.text[start] == b'0' => return Err(Stop::Unsure),
            _ => {}
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            if digits(self) == 0 {
                return Err(Stop::Unsure);
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            if digits(self) == 0 {
                return Err(Stop::Unsure);
            }
        }
        Ok(())
    }
}

/// How deeply arrays and objects nest in a run of valid JSON.
fn depth(json: &[u8]) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0, false, false);
    for &b in json {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

#[cfg(test)]
mod tests;
