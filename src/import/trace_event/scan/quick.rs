//! The event most traces are made of, `{"ph": "X", "name": "…", "pid": 1, "tid": 2, "ts": …,
//! "dur": …}` in any order, read into a small record of its own: a general [`RawEvent`] is
//! some 200 bytes, written field by field through `Option`s and copied on each hand-over,
//! and that was more of the reading than the bytes themselves.

use std::borrow::Cow;

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
    #[inline(always)]
    pub(super) fn quick_event(&mut self) -> Option<Quick<'a>> {
        if self.next()? != b'{' {
            return None;
        }
        self.ws();
        let mut event = Quick {
            name: "",
            ts: 0.0,
            dur: 0.0,
            pid: 0,
            tid: 0,
            ph: 0,
            has_dur: false,
            has_pid: false,
            has_tid: false,
        };
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
    fn integer_id(&mut self) -> Option<i64> {
        match self.number()? {
            Number::Unsigned(v) => i64::try_from(v).ok(),
            Number::Signed(v) => Some(v),
            Number::Float(_) => None,
        }
    }

    /// A number, as [`Scanner::time`] reads it.
    #[inline(always)]
    fn plain_time(&mut self) -> Option<f64> {
        Some(match self.number()? {
            Number::Unsigned(v) => v as f64,
            Number::Signed(v) => v as f64,
            Number::Float(v) => v,
        })
    }
}

#[derive(Clone, Copy)]
enum Key {
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
