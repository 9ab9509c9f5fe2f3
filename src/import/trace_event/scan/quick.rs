//! The event most traces are made of, `{"ph": "X", "name": "…", "pid": 1, "tid": 2, "ts": …,
//! "dur": …}` in any order, read into a small record of its own: a general [`RawEvent`] is
//! some 200 bytes, written field by field through `Option`s and copied on each hand-over,
//! and that was more of the reading than the bytes themselves.

use std::borrow::Cow;

use super::template::{Spans, Template};
use super::{Number, Scanner};
use crate::import::trace_event::{Id, RawEvent};

/// A duration event with a plain name, numeric ids that fit an i64, and numeric times, and
/// nothing else: exactly what the general reading would put in a [`RawEvent`] (see
/// [`Quick::raw`]).
pub(in crate::import::trace_event) struct Quick<'a> {
    pub(in crate::import::trace_event) name: &'a str,
    pub(in crate::import::trace_event) ts: f64,
    /// Meaningful if `has_dur`.
    pub(in crate::import::trace_event) dur: f64,
    /// Meaningful if `has_pid`, `has_tid`.
    pub(in crate::import::trace_event) pid: i64,
    pub(in crate::import::trace_event) tid: i64,
    /// `B`, `E` or `X`.
    pub(in crate::import::trace_event) ph: u8,
    pub(in crate::import::trace_event) has_dur: bool,
    pub(in crate::import::trace_event) has_pid: bool,
    pub(in crate::import::trace_event) has_tid: bool,
}

impl<'a> Quick<'a> {
    /// An event with nothing read yet.
    #[inline(always)]
    pub(super) fn empty() -> Self {
        Quick {
            name: "",
            ts: 0.0,
            dur: 0.0,
            pid: 0,
            tid: 0,
            ph: 0,
            has_dur: false,
            has_pid: false,
            has_tid: false,
        }
    }

    /// The event as the general reading gives it.
    pub(in crate::import::trace_event) fn raw(&self) -> RawEvent<'a> {
        RawEvent {
            ph: Some(match self.ph {
                b'B' => "B",
                b'E' => "E",
                _ => "X",
            }),
            ts: Some(self.ts),
            dur: self.has_dur.then_some(self.dur),
            tdur: None,
            pid: self.has_pid.then_some(Id::Number(self.pid)),
            tid: self.has_tid.then_some(Id::Number(self.tid)),
            name: Some(Cow::Borrowed(self.name)),
            args: None,
            id: None,
        }
    }
}

impl<'a> Scanner<'a, '_> {
    /// The event that starts here if it is of the common shape (see [`Quick`]), else None
    /// with the reading anywhere in it: the general reading then starts it again.
    ///
    /// By the template of the last event read so, where the event fits it (see `template`);
    /// else key by key, and the event then becomes the template.
    #[inline(always)]
    pub(super) fn quick_event(&mut self) -> Option<Quick<'a>> {
        let start = self.at;
        // Where shapes change from event to event, trying and learning templates cost more
        // than they save: after a few misses in a row, only one event in sixteen tries.
        let trying = self.misses < 4 || self.misses.is_multiple_of(16);
        if trying && let Some(template) = self.template.take() {
            let event = self.templated(&template);
            self.template = Some(template);
            if event.is_some() {
                self.misses = 0;
                return event;
            }
            self.at = start;
        }
        self.misses = self.misses.wrapping_add(1);
        let mut spans = Spans::default();
        let event = self.quick_by_key(&mut spans)?;
        if trying {
            let room = self.template.take();
            self.template = Template::learn(&self.text[start..self.at], &spans, room);
        }
        Some(event)
    }

    /// [`Scanner::quick_event`] key by key, each value's place (from the event's start) put
    /// in `spans`.
    #[inline(never)]
    fn quick_by_key(&mut self, spans: &mut Spans) -> Option<Quick<'a>> {
        let start = self.at;
        if self.next()? != b'{' {
            return None;
        }
        self.ws();
        let mut event = Quick::empty();
        let (mut has_name, mut has_ts) = (false, false);
        loop {
            // A key is told by its bytes and its closing quote; any other key, or one given
            // twice (which serde refuses), is the general reading's.
            let rest = self.text.get(self.at..)?;
            let key = match rest.get(1)? {
                b'p' if rest.starts_with(b"\"ph\"") => Key::Ph,
                b'p' if rest.starts_with(b"\"pid\"") => Key::Pid,
                b'n' if rest.starts_with(b"\"name\"") => Key::Name,
                b't' if rest.starts_with(b"\"tid\"") => Key::Tid,
                b't' if rest.starts_with(b"\"ts\"") => Key::Ts,
                b'd' if rest.starts_with(b"\"dur\"") => Key::Dur,
                _ => return None,
            };
            self.at += key.len();
            self.ws();
            if self.next()? != b':' {
                return None;
            }
            self.ws();
            let value_start = self.at - start;
            match key {
                Key::Ph => {
                    let value = self.text.get(self.at..self.at + 3)?;
                    if event.ph != 0 || value[0] != b'"' || value[2] != b'"' {
                        return None;
                    }
                    if !matches!(value[1], b'B' | b'E' | b'X') {
                        return None;
                    }
                    event.ph = value[1];
                    self.at += 3;
                }
                Key::Name if !has_name => {
                    // `plain_str` reads no `null`, escape or other type.
                    event.name = self.plain_str()?;
                    has_name = true;
                }
                Key::Pid if !event.has_pid => {
                    event.pid = self.integer_id()?;
                    event.has_pid = true;
                }
                Key::Tid if !event.has_tid => {
                    event.tid = self.integer_id()?;
                    event.has_tid = true;
                }
                Key::Ts if !has_ts => {
                    event.ts = self.plain_time()?;
                    has_ts = true;
                }
                Key::Dur if !event.has_dur => {
                    event.dur = self.plain_time()?;
                    event.has_dur = true;
                }
                _ => return None,
            }
            if !spans.push(key, value_start, self.at - start) {
                return None;
            }
            self.ws();
            match self.next()? {
                b',' => self.ws(),
                b'}' => break,
                _ => return None,
            }
        }
        (event.ph != 0 && has_name && has_ts).then_some(event)
    }

    /// A number that [`Scanner::id`] reads as `Id::Number`.
    #[inline(always)]
    pub(super) fn integer_id(&mut self) -> Option<i64> {
        match self.number()? {
            Number::Unsigned(v) => i64::try_from(v).ok(),
            Number::Signed(v) => Some(v),
            Number::Float(_) => None,
        }
    }

    /// A number, as [`Scanner::time`] reads it.
    #[inline(always)]
    pub(super) fn plain_time(&mut self) -> Option<f64> {
        Some(match self.number()? {
            Number::Unsigned(v) => v as f64,
            Number::Signed(v) => v as f64,
            Number::Float(v) => v,
        })
    }
}

#[derive(Clone, Copy)]
pub(super) enum Key {
    Ph,
    Name,
    Pid,
    Tid,
    Ts,
    Dur,
}

impl Key {
    /// Its length with its quotes.
    fn len(self) -> usize {
        match self {
            Key::Ph | Key::Ts => 4,
            Key::Pid | Key::Tid | Key::Dur => 5,
            Key::Name => 6,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::source::Progress;
    use crate::profile::test_rng::xorshift;

    /// A number below `n` at each call, from a xorshift started at `seed`: the same every run.
    fn below(seed: u64) -> impl FnMut(usize) -> usize {
        let mut state = seed;
        move |n| (xorshift(&mut state) % n as u64) as usize
    }

    fn nothing(_: usize) {}

    fn scanner(text: &[u8]) -> Scanner<'_, 'static> {
        Scanner {
            text,
            at: 0,
            progress: Progress::new(&nothing),
            template: None,
            misses: 0,
        }
    }

    /// Whatever the quick reading takes, the general reading reads the same, to the bit, and
    /// ends at the same byte.
    fn agrees(text: &str) -> bool {
        let Some(quick) = scanner(text.as_bytes()).quick_event() else {
            return false;
        };
        let quick_end = {
            let mut q = scanner(text.as_bytes());
            q.quick_event();
            q.at
        };
        same_as_general(text, 0, &quick, quick_end);
        true
    }

    /// The general reading of the event at `start` of `text` is `quick`, and ends at `end`.
    fn same_as_general(text: &str, start: usize, quick: &Quick, end: usize) {
        let mut s = scanner(text.as_bytes());
        s.at = start;
        let general = s.event().unwrap_or_else(|| panic!("{text}"));
        let raw = quick.raw();
        assert_eq!(end, s.at, "{text}");
        assert_eq!(raw.ph, general.ph, "{text}");
        assert_eq!(raw.name, general.name, "{text}");
        let bits = |t: Option<f64>| t.map(f64::to_bits);
        assert_eq!(bits(raw.ts), bits(general.ts), "{text}");
        assert_eq!(bits(raw.dur), bits(general.dur), "{text}");
        assert_eq!(bits(raw.tdur), bits(general.tdur), "{text}");
        assert_eq!(raw.pid, general.pid, "{text}");
        assert_eq!(raw.tid, general.tid, "{text}");
        assert_eq!(raw.args, general.args, "{text}");
        assert_eq!(raw.id, general.id, "{text}");
    }

    #[test]
    fn the_quick_reading_reads_as_the_general_one() {
        // Each event: a phase, a name and a time, perhaps ids and a length, perhaps something
        // the quick reading leaves to the general one; in any order and spacing.
        let ph = [
            r#""ph": "X""#,
            r#""ph":"B""#,
            r#""ph" : "E""#,
            r#""ph": "i""#,
        ];
        let name = [r#""name": "f (a.py:1)""#, r#""name":"""#, r#""name": null"#];
        let pid = [
            r#""pid": 1"#,
            r#""pid": -7"#,
            r#""pid": 9223372036854775807"#,
            r#""pid": 9223372036854775808"#,
            r#""pid": 1.5"#,
            r#""pid": -0"#,
        ];
        let tid = [
            r#""tid": 0"#,
            r#""tid": "3""#,
            r#""tid": 12345678901234567890"#,
        ];
        let times = [
            "19499576.894",
            "0.12345678901234567",
            "1234567890123.456789",
            "12345678901234.567891",
            "123456789012345678901",
            "-0",
            "-2.5",
            "0",
            "3e0",
            "01",
            "1.",
            "7",
            "0.000",
            "9007199254740993",
            "\"4\"",
            "null",
        ];
        let other = [
            r#""tdur": 2"#,
            r#""args": {}"#,
            r#""cat": "x""#,
            r#""ts": 1"#,
        ];
        let mut next = below(0x2545_F491_4F6C_DD1D);
        let spaces = ["", " ", "\n\t", "  "];
        let mut taken = 0;
        for _ in 0..100_000 {
            let mut fields = vec![
                ph[next(ph.len())].to_string(),
                name[next(name.len())].to_string(),
                format!(r#""ts": {}"#, times[next(times.len())]),
            ];
            if next(4) != 0 {
                fields.push(pid[next(pid.len())].to_string());
            }
            if next(4) != 0 {
                fields.push(tid[next(tid.len())].to_string());
            }
            if next(4) != 0 {
                fields.push(format!(r#""dur": {}"#, times[next(times.len())]));
            }
            if next(6) == 0 {
                fields.push(other[next(other.len())].to_string());
            }
            for i in (1..fields.len()).rev() {
                fields.swap(i, next(i + 1));
            }
            let mut text = String::from("{");
            text.push_str(spaces[next(4)]);
            for (i, field) in fields.iter().enumerate() {
                if i > 0 {
                    text.push_str(spaces[next(4)]);
                    text.push(',');
                    text.push_str(spaces[next(4)]);
                }
                text.push_str(field);
            }
            text.push_str(spaces[next(4)]);
            text.push('}');
            // What follows an event, and room for the word-wide reading (or none).
            text.push_str([",", "]", ", {\"ph\": \"X\"}", "                "][next(4)]);
            taken += usize::from(agrees(&text));
        }
        assert!(taken > 3_000, "{taken}");
        assert!(agrees(
            r#"{"ph": "X", "name": "f", "pid": 1, "tid": 2, "ts": 4.266, "dur": 6.791},"#
        ));
        assert!(!agrees(r#"{"ph": "X", "ph": "X", "name": "f", "ts": 1}"#));
        assert!(!agrees(r#"{"ph": "i", "name": "f", "ts": 1}"#));
        assert!(!agrees(r#"{"ph": "X", "name": "f"}"#));
    }

    /// An event read by the template of the one before it reads as the general reading reads
    /// it: events of one shape with every kind of value, and shapes that differ a little.
    #[test]
    fn the_template_reads_as_the_general_reading() {
        let keys: [(&str, &[&str]); 6] = [
            (
                "ph",
                &[r#""X""#, r#""B""#, r#""E""#, r#""i""#, r#""XX""#, "null"],
            ),
            (
                "name",
                &[
                    r#""f (a.py:1)""#,
                    r#""""#,
                    "null",
                    r#""a\"b""#,
                    "\"\u{e9}t\u{e9}\"",
                    r#""a name past sixteen bytes (file.py:12)""#,
                    "3",
                ],
            ),
            (
                "pid",
                &[
                    "1",
                    "-7",
                    "9223372036854775807",
                    "9223372036854775808",
                    "1.5",
                    "-0",
                    r#""3""#,
                    "01",
                    "null",
                ],
            ),
            ("tid", &["0", "12", "12345678901234567890", "2e1"]),
            (
                "ts",
                &[
                    "19499576.894",
                    "0.12345678901234567",
                    "1234567890123.456789",
                    "123456789012345678901",
                    "-2.5",
                    "0",
                    "3e0",
                    "1.",
                    "7",
                    "9007199254740993",
                    r#""4""#,
                    "null",
                ],
            ),
            ("dur", &["6.791", "0", "-0", "1E5", "0.000", "true"]),
        ];
        let mut next = below(0x9E37_79B9_7F4A_7C15);
        let spaces = ["", " ", "\n  ", "  "];
        let (mut templated, mut refused) = (0, 0);
        for _ in 0..40_000 {
            // A shape: which keys in what order, and the spaces around each.
            let mut order: Vec<usize> = vec![0, 1, 4];
            order.extend((2..6).filter(|&k| k != 4 && next(4) != 0));
            for i in (1..order.len()).rev() {
                order.swap(i, next(i + 1));
            }
            let mut gaps: Vec<usize> = (0..order.len() * 4 + 2).map(|_| next(4)).collect();
            let mut events = String::new();
            let mut starts = Vec::new();
            for n in 0..2 {
                if n == 1 && next(4) == 0 {
                    // The second a little different: a space, or a key given twice.
                    let g = next(gaps.len());
                    gaps[g] = (gaps[g] + 1) % 4;
                    if next(3) == 0 {
                        order.push(order[0]);
                    }
                }
                starts.push(events.len());
                events.push('{');
                events.push_str(spaces[gaps[0]]);
                for (i, &k) in order.iter().enumerate() {
                    let (key, values) = keys[k];
                    let gap = |j: usize| spaces[gaps[(i * 4 + j) % gaps.len()]];
                    if i > 0 {
                        events.push_str(gap(1));
                        events.push(',');
                        events.push_str(gap(2));
                    }
                    let value = values[if next(8) == 0 { next(values.len()) } else { 0 }];
                    events.push_str(&format!(r#""{key}"{}:{}{value}"#, gap(3), gap(4)));
                }
                events.push_str(spaces[gaps[gaps.len() - 1]]);
                events.push('}');
                events.push_str([",", ",\n", " , "][next(3)]);
            }
            events.push_str(["", "]", "                "][next(3)]);
            let mut s = scanner(events.as_bytes());
            if s.quick_event().is_none() {
                continue;
            }
            let Some(template) = s.template.take() else {
                continue;
            };
            s.at = starts[1];
            match s.templated(&template) {
                Some(quick) => {
                    same_as_general(&events, starts[1], &quick, s.at);
                    templated += 1;
                }
                None => refused += 1,
            }
            // However the template fares, the quick reading of the second event is the same.
            let mut s = scanner(events.as_bytes());
            s.quick_event();
            s.at = starts[1];
            if let Some(quick) = s.quick_event() {
                same_as_general(&events, starts[1], &quick, s.at);
            }
        }
        assert!(
            templated > 3_000 && refused > 3_000,
            "{templated} {refused}"
        );
    }
}
