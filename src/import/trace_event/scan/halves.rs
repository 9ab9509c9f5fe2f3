//! A large trace read in two halves at once, one on each core.
//!
//! Where the second half starts cannot be known without reading the first: a `},{` in the
//! middle of the file may sit inside a string. So the second half is read from a guess, the
//! first `{` past the middle that follows `}` and `,`, while the first half is read as usual.
//! If the first half's reading lands on that `{` as the start of an event, the guess was an
//! event's start in the event array, and the second half's events (read into a collector of
//! their own, merged after the first's) are exactly what the first would have gone on to read.
//! If it does not, the second half's reading is stopped and thrown away, and the first goes
//! on alone: nothing is ever taken from a guess that was not confirmed.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::thread::{Scope, ScopedJoinHandle};

use super::{Lagging, Scanner, Stop};
use crate::import::source::Progress;
use crate::import::trace_event::collect::Collector;
use crate::import::{Location, ParseError};

/// Traces from this size on are read in two halves (in unit tests, nearly all of them).
#[cfg(not(test))]
const SPLIT_FROM: usize = 64 << 20;
#[cfg(test)]
const SPLIT_FROM: usize = 64;

/// How far past the middle the second half's start is looked for.
const LOOK_FOR: usize = 1 << 20;

/// The second half's reading, on its way.
pub(in crate::import::trace_event) struct Halves<'scope, 'a> {
    /// Where the second half was started: the `{` of an event, if the first half lands there.
    at: usize,
    stop: &'scope AtomicBool,
    reading: Option<ScopedJoinHandle<'scope, Result<Tail<'a>, Stop>>>,
    /// The second half's events, once its start is confirmed, to be merged after the first's.
    pub(in crate::import::trace_event) tail: Option<Collector<'a>>,
}

/// What the second half's reading found: its events, and where the event array ends (just
/// past its `]`).
pub(super) struct Tail<'a> {
    collector: Collector<'a>,
    end: usize,
}

/// The second half of `text` started on a thread of `scope`, if the trace is large and a start
/// can be guessed.
pub(in crate::import::trace_event) fn start<'scope, 'a: 'scope>(
    scope: &'scope Scope<'scope, '_>,
    text: &'a [u8],
    stop: &'scope AtomicBool,
    release_range: &'scope (dyn Fn(usize, usize) + Sync),
) -> Option<Halves<'scope, 'a>> {
    if text.len() < SPLIT_FROM {
        return None;
    }
    let at = guess_event_start(text, text.len() / 2)?;
    let reading = scope.spawn(move || read_tail(text, at, stop, release_range));
    Some(Halves {
        at,
        stop,
        reading: Some(reading),
        tail: None,
    })
}

impl<'a> Halves<'_, 'a> {
    /// Whether the first half's reading has yet to reach the guessed start.
    pub(super) fn ahead(&self, at: usize) -> bool {
        self.reading.is_some() && at >= self.at
    }

    /// The first half's reading is at `at`, the start of an event, at or past the guess, with
    /// `taken` events before it: where the event array ends if the second half's reading
    /// stands, else None (the first half goes on alone).
    pub(super) fn land(&mut self, at: usize, taken: usize) -> Result<Option<usize>, Stop> {
        let Some(reading) = self.reading.take() else {
            return Ok(None);
        };
        if at != self.at {
            self.stop.store(true, Relaxed);
            return Ok(None);
        }
        match reading
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        {
            Ok(tail) => {
                self.tail = Some(tail.collector);
                Ok(Some(tail.end))
            }
            Err(Stop::Unsure) => Ok(None),
            Err(Stop::Event(failure)) => Err(Stop::Event(shifted(failure, taken))),
        }
    }
}

impl Drop for Halves<'_, '_> {
    /// A reading that is not going to be used stops soon.
    fn drop(&mut self) {
        self.stop.store(true, Relaxed);
    }
}

/// The first `{` from `from` on whose preceding bytes, whitespace aside, are `}` and `,`.
fn guess_event_start(text: &[u8], from: usize) -> Option<usize> {
    let end = text.len().min(from + LOOK_FOR);
    let before = |mut i: usize| {
        while i > 0 && matches!(text[i - 1], b' ' | b'\n' | b'\r' | b'\t') {
            i -= 1;
        }
        i.checked_sub(1).map(|j| (j, text[j]))
    };
    memchr::memchr_iter(b'{', &text[from..end])
        .map(|i| from + i)
        .find(|&i| match before(i) {
            Some((comma, b',')) => matches!(before(comma), Some((_, b'}'))),
            _ => false,
        })
}

/// Events from `at` to the end of the event array, each taken as it is read.
fn read_tail<'a>(
    text: &'a [u8],
    at: usize,
    stop: &AtomicBool,
    release_range: &(dyn Fn(usize, usize) + Sync),
) -> Result<Tail<'a>, Stop> {
    let released = std::cell::Cell::new(at);
    let release = |to: usize| {
        release_range(released.get(), to);
        released.set(to);
    };
    let mut s = Scanner {
        text,
        at,
        progress: Progress::new(&release),
        template: None,
        misses: 0,
    };
    let mut collector = Collector::new();
    let mut lagging = Lagging::default();
    let mut count = 0usize;
    loop {
        count += 1;
        if count.is_multiple_of(1024) && stop.load(Relaxed) {
            return Err(Stop::Unsure);
        }
        s.one_event(&mut collector, &mut lagging)?;
        s.ws();
        match s.next() {
            Some(b',') => s.ws(),
            Some(b']') => {
                lagging.flush(&mut collector)?;
                return Ok(Tail {
                    collector,
                    end: s.at,
                });
            }
            _ => return Err(lagging.fail(&mut collector, Stop::Unsure)),
        }
    }
}

/// An error at the second half's `n`th event, counted from the start of the array.
fn shifted(mut failure: ParseError, by: usize) -> ParseError {
    if let Location::Event(n) = &mut failure.location {
        *n += by as u64;
    }
    failure
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guess_is_a_brace_after_a_closing_brace_and_a_comma() {
        let text = br#"[{"a": "},{"}, {"b": 1},
 {"c": 2}]"#;
        // Past the middle of `"},{"` inside a string the guess still falls on it: only the
        // first half's landing tells.
        assert_eq!(guess_event_start(text, 0), Some(10));
        assert_eq!(guess_event_start(text, 11), Some(15));
        assert_eq!(guess_event_start(text, 16), Some(26));
        assert_eq!(guess_event_start(text, 27), None);
        assert_eq!(guess_event_start(b"[{}, , {}]", 2), None);
    }
}
