//! Chrome's Trace Event Format (`traceEvents` JSON, or a bare array of events), as viztracer,
//! `py-spy record --format chrometrace`, Perfetto's JSON export and chrome://tracing write it.
//!
//! Duration events (`B`/`E` pairs and `X` complete events) become one profile per (pid, tid),
//! replayed in time as speedscope's importer replays them: begins and ends are taken in `ts`
//! order, an end at the same time as others closes the one matching the innermost open event
//! first. An end that matches no open event is an error naming it. Metadata events name the
//! threads; every other kind (instant, counter, flow, async) is passed over and counted in one
//! warning.
//!
//! Sampled stacks come before duration events, as speedscope takes them: V8's CPU profiles
//! (`Profile` and `ProfileChunk` events, Chrome's Performance panel) are read as `.cpuprofile`s
//! are, and a trace object's `samples` with `stackFrames` (Hermes) by `trace_samples`.

mod collect;
mod keys;
mod order;
mod replay;
mod scan;

use rustc_hash::FxHashMap;
use serde::Deserialize;
use serde_json::value::RawValue;

use self::collect::{Collector, Failure};
use self::replay::Thread;
use super::cpuprofile::TraceProfiles;
use super::{ParseError, Sniff, trace_samples};
use crate::profile::{FrameId, FrameTable, Profile, ProfileSet};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A trace is JSON whose events carry a `ph`: a bare array of such objects, or an object with
/// `traceEvents`.
pub fn sniff(head: &[u8]) -> Sniff {
    let text = head.strip_prefix(BOM).unwrap_or(head).trim_ascii_start();
    match text.first() {
        Some(b'[') => {
            let rest = text[1..].trim_ascii_start();
            if rest.starts_with(b"{") && memchr::memmem::find(rest, b"\"ph\"").is_some() {
                Sniff::Yes
            } else {
                Sniff::No
            }
        }
        Some(b'{') if memchr::memmem::find(text, b"\"traceEvents\"").is_some() => Sniff::Yes,
        _ => Sniff::No,
    }
}

/// A pid or tid: numbers in most traces, strings in some.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub(super) enum Id {
    Number(i64),
    Text(String),
}

/// By hand rather than `untagged`, which buffers every value before it tries each variant: a
/// trace has two ids in each of its million events.
impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct IdVisitor;
        impl serde::de::Visitor<'_> for IdVisitor {
            type Value = Id;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number or a string")
            }
            fn visit_i64<E>(self, v: i64) -> Result<Id, E> {
                Ok(Id::Number(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Id, E> {
                Ok(i64::try_from(v).map_or_else(|_| Id::Text(v.to_string()), Id::Number))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Id, E> {
                Ok(Id::Text(v.to_string()))
            }
            fn visit_str<E>(self, v: &str) -> Result<Id, E> {
                Ok(Id::Text(v.to_owned()))
            }
        }
        d.deserialize_any(IdVisitor)
    }
}

impl std::fmt::Display for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Id::Number(n) => write!(f, "{n}"),
            Id::Text(s) => f.write_str(s),
        }
    }
}

#[derive(Deserialize, Default)]
pub(super) struct RawEvent<'a> {
    #[serde(default)]
    ph: Option<&'a str>,
    #[serde(default, deserialize_with = "lenient_number")]
    ts: Option<f64>,
    #[serde(default, deserialize_with = "lenient_number")]
    dur: Option<f64>,
    #[serde(default, deserialize_with = "lenient_number")]
    tdur: Option<f64>,
    #[serde(default)]
    pid: Option<Id>,
    #[serde(default)]
    tid: Option<Id>,
    #[serde(default, borrow)]
    name: Option<std::borrow::Cow<'a, str>>,
    /// The text of the event's `args`, as written.
    #[serde(default, borrow, deserialize_with = "raw_text")]
    args: Option<&'a str>,
    /// What ties a V8 profile's chunks to it.
    #[serde(default)]
    id: Option<Id>,
}

/// A value's text as written (serde_json's `RawValue`), or None for `null`.
fn raw_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<&'de str>, D::Error> {
    Option::<&'de RawValue>::deserialize(d).map(|raw| raw.map(RawValue::get))
}

/// A time: a number, or a number in a string as some writers put it (Chrome's `P` samples).
/// Anything else is no time at all. By hand, as [`Id`] is.
pub(super) fn lenient_number<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<f64>, D::Error> {
    struct Lenient;
    impl<'de> serde::de::Visitor<'de> for Lenient {
        type Value = Option<f64>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a time")
        }
        fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v as f64))
        }
        fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v as f64))
        }
        fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
            Ok(v.trim().parse().ok())
        }
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
            Ok(None)
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            while map
                .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                .is_some()
            {}
            Ok(None)
        }
    }
    d.deserialize_any(Lenient)
}

/// What py-spy's chrometrace puts in `args`: the frame's place.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Place {
    filename: String,
    line: Option<u32>,
}

/// One begin or end, from a `B`, `E` or half of an `X`.
#[derive(Clone, Copy)]
pub(super) struct Edge {
    /// Index of the event in the file, for errors.
    event: usize,
    ts: f64,
    /// The frame: the name with its place or its other `args`.
    frame: FrameId,
    /// The event's bare name: an end closes a begin of the same name even when their `args`
    /// differ (the begin's frame is what counts), as speedscope matches them.
    name: u32,
}

pub fn parse(bytes: &[u8], warnings: &mut Vec<String>) -> Result<ProfileSet, ParseError> {
    parse_with(bytes, warnings, true, true, &|_| {}, &|_, _| {})
}

/// [`parse`] for a file mapped into memory: `release(n)` is told as the reading leaves the
/// first n bytes behind, to let their pages go (they are read again should they be needed:
/// the first event of each name, which the collector's tables point into, and everything on a
/// second reading); `release_range(from, to)` as a reading of the second half on a thread of
/// its own leaves `from..to` behind. Without `timelines` (`obol summary`), the profiles of duration events
/// keep their trees and no timeline.
pub fn parse_mapped(
    bytes: &[u8],
    release: &dyn Fn(usize),
    release_range: &(dyn Fn(usize, usize) + Sync),
    timelines: bool,
    warnings: &mut Vec<String>,
) -> Result<ProfileSet, ParseError> {
    parse_with(bytes, warnings, true, timelines, release, release_range)
}

/// [`parse`], with the hand-written reading of [`scan`] tried first (`quick`) or not.
fn parse_with(
    bytes: &[u8],
    warnings: &mut Vec<String>,
    quick: bool,
    timelines: bool,
    release: &dyn Fn(usize),
    release_range: &(dyn Fn(usize, usize) + Sync),
) -> Result<ProfileSet, ParseError> {
    let has_bom = bytes.starts_with(BOM);
    let text = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let skipped = bytes.len() - text.len();
    let release = |at: usize| release(at + skipped);
    let release_range = |from: usize, to: usize| release_range(from + skipped, to + skipped);
    let is_array = text.trim_ascii_start().starts_with(b"[");
    let json_error = |e: &serde_json::Error| super::speedscope::json_error(e, has_bom);
    match Collector::collect(text, is_array, quick, &release, &release_range) {
        Ok(collected) => profiles(collected, timelines, warnings),
        // The format lets a trace end without its `]` (a tracer stopped mid-write), after a
        // comma or not.
        Err(Failure::Json(e)) if is_array && e.is_eof() => {
            let body = text.trim_ascii_end();
            let body = body.strip_suffix(b",").unwrap_or(body);
            let repaired = [body, b"]"].concat();
            match Collector::collect(&repaired, true, quick, &|_| {}, &|_, _| {}) {
                Ok(collected) => profiles(collected, timelines, warnings),
                Err(Failure::Json(_)) => Err(json_error(&e)),
                Err(Failure::Event(failure)) => Err(failure),
            }
        }
        Err(Failure::Json(e)) => Err(json_error(&e)),
        Err(Failure::Event(failure)) => Err(failure),
    }
}

/// The profiles a trace's events add up to: V8's profiles if it has any, else its samples if
/// it has any, else one per thread of duration events.
fn profiles(
    c: Collector,
    timelines: bool,
    warnings: &mut Vec<String>,
) -> Result<ProfileSet, ParseError> {
    let Collector {
        mut frames,
        mut threads,
        thread_names,
        process_names,
        passed_over,
        mut v8_events,
        samples,
        stack_frames,
        ..
    } = c;
    let name_of = |pid: &str, tid: &str| {
        let process = process_names.iter().find(|(p, _)| p.to_string() == pid);
        let thread = thread_names
            .iter()
            .find(|((p, t), _)| p.to_string() == pid && t.to_string() == tid);
        match (process.map(|p| p.1), thread.map(|t| t.1)) {
            (Some(p), Some(t)) => format!("{p} (pid {pid}), {t} (tid {tid})"),
            (Some(p), None) => format!("{p} (pid {pid}, tid {tid})"),
            (None, Some(t)) => format!("{t} (pid {pid}, tid {tid})"),
            (None, None) => format!("pid {pid}, tid {tid}"),
        }
    };
    // In (pid, tid) order, as a map of them kept them.
    threads.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let duration_events: usize = threads.iter().map(|(_, t)| t.len()).sum();
    // Chrome's recordings hold V8's profiles beside the browser's own tasks as duration
    // events; the profiles are the call stacks, as speedscope takes them first.
    if !v8_events.is_empty() {
        v8_events.sort_by(|a, b| a.ts.total_cmp(&b.ts));
        let mut v8 = TraceProfiles::default();
        for event in v8_events {
            v8.add(&event.name, (event.pid, event.tid), event.id, event.args)
                .map_err(|m| at_event(event.index, m))?;
        }
        if !v8.is_empty() {
            passed_over_warning(passed_over + duration_events, warnings, "V8's CPU profile");
            let thread_name = |pid: &str, tid: &str| {
                thread_names
                    .iter()
                    .find(|((p, t), _)| p.to_string() == pid && t.to_string() == tid)
                    .map(|(_, n)| n.clone())
            };
            let profiles = v8
                .finish(&mut frames, thread_name, warnings)
                .map_err(|m| ParseError::at_byte(0, m))?;
            return Ok(ProfileSet { frames, profiles });
        }
    }
    if let Some(stack_frames) = stack_frames.filter(|_| !samples.is_empty()) {
        passed_over_warning(
            passed_over + duration_events,
            warnings,
            "the trace's samples",
        );
        let profiles = trace_samples::profiles(&samples, &stack_frames, &mut frames, name_of)
            .map_err(|m| ParseError::at_byte(0, m))?;
        return Ok(ProfileSet { frames, profiles });
    }
    passed_over_warning(passed_over, warnings, "the call tree");
    if threads.is_empty() {
        return Err(ParseError::at_byte(
            0,
            "no duration events (ph B, E or X) nor samples: nothing to draw",
        ));
    }
    let named = threads
        .into_iter()
        .map(|((pid, tid), thread)| (name_of(&pid.to_string(), &tid.to_string()), thread))
        .collect();
    let mut profiles = Vec::new();
    for (replayed, thread_warnings) in replay_all(named, &frames, timelines) {
        warnings.extend(thread_warnings);
        profiles.push(replayed?);
    }
    Ok(ProfileSet { frames, profiles })
}

/// Each thread replayed, on as many cores as there are (the threads are independent), each
/// with its warnings; in the order given.
fn replay_all(
    threads: Vec<(String, Thread)>,
    frames: &FrameTable,
    timelines: bool,
) -> Vec<(Result<Profile, ParseError>, Vec<String>)> {
    let replay = |(name, thread): (String, Thread)| {
        let mut warnings = Vec::new();
        (
            thread.replay(name, frames, timelines, &mut warnings),
            warnings,
        )
    };
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(threads.len()));
    if workers <= 1 {
        return threads.into_iter().map(replay).collect();
    }
    // Each worker takes the largest thread left: a core left alone at the end with the
    // largest thread is most of a replay's time.
    let mut queue: Vec<(usize, (String, Thread))> = threads.into_iter().enumerate().collect();
    queue.sort_by_key(|(i, (_, thread))| (std::cmp::Reverse(thread.len()), *i));
    queue.reverse();
    let queue = std::sync::Mutex::new(queue);
    let mut done: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop();
                        let Some((i, thread)) = next else {
                            return done;
                        };
                        done.push((i, replay(thread)));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, replayed)| replayed).collect()
}

/// One warning for the events that are not part of what is drawn.
fn passed_over_warning(count: usize, warnings: &mut Vec<String>, drawn: &str) {
    if count > 0 {
        warnings.push(format!(
            "{count} event{} not part of {drawn} passed over (instant, counter, flow, async, or duration events beside sampled stacks)",
            if count == 1 { "" } else { "s" }
        ));
    }
}

pub(super) fn at_event(index: usize, message: String) -> ParseError {
    ParseError {
        location: super::Location::Event(index as u64),
        message,
    }
}

#[derive(Deserialize)]
pub(super) struct MetaArgs {
    name: Option<String>,
}

/// The frame an event stands for: its name and, where the trace says, its file and line: from
/// `args` as py-spy writes them, or from a `name (file:line)` name as viztracer writes it.
/// Other `args` are part of the name, as speedscope keys frames.
pub(super) fn frame_of(
    event: &RawEvent,
    frames: &mut FrameTable,
    ids: &mut FxHashMap<(String, Option<String>, Option<u32>), FrameId>,
) -> FrameId {
    let name = event.name.as_deref().unwrap_or("(unnamed)");
    let place = event
        .args
        .and_then(|a| serde_json::from_str::<Place>(a).ok());
    let (name, file, line) = match (place, event.args) {
        (Some(place), _) => (name.to_owned(), Some(place.filename), place.line),
        // Compact, as speedscope's `JSON.stringify` writes them.
        (None, Some(args)) if args.trim() != "{}" => {
            let compact = serde_json::from_str::<serde_json::Value>(args)
                .map_or_else(|_| args.to_owned(), |v| v.to_string());
            (format!("{name} {compact}"), None, None)
        }
        _ => match split_place(name) {
            Some((name, file, line)) => (name.to_owned(), Some(file.to_owned()), line),
            None => (name.to_owned(), None, None),
        },
    };
    let key = (name, file, line);
    if let Some(&id) = ids.get(&key) {
        return id;
    }
    let id = frames.intern(&key.0, key.1.as_deref(), key.2);
    ids.insert(key, id);
    id
}

/// `func (file.py:12)` → (`func`, `file.py`, 12); `func (file.py)` → no line.
fn split_place(name: &str) -> Option<(&str, &str, Option<u32>)> {
    let inner = name.strip_suffix(')')?;
    let (func, place) = inner.rsplit_once(" (")?;
    match place.rsplit_once(':') {
        Some((file, line)) if line.bytes().all(|b| b.is_ascii_digit()) && !line.is_empty() => {
            Some((func, file, line.parse().ok()))
        }
        _ if place.contains('.') || place.contains('/') => Some((func, place, None)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::test_support::{function_named, weights};
    use crate::profile::Unit;

    fn read(text: &str) -> Result<ProfileSet, ParseError> {
        parse(text.as_bytes(), &mut Vec::new())
    }

    #[test]
    fn speedscopes_simple_trace_counted_by_hand() {
        // speedscope's trace-event/simple.json: alpha 0–14, beta 1–13, gamma 2–7 (X), epsilon
        // 7–11 (X, tdur).
        let set = read(
            r#"[
  {"pid": 0, "tid": 0, "ph": "B", "name": "alpha", "ts": 0},
  {"pid": 0, "tid": 0, "ph": "B", "name": "beta", "ts": 1},
  {"pid": 0, "tid": 0, "ph": "X", "name": "gamma", "ts": 2, "dur": 5, "args": {"detail": "foobar"}},
  {"pid": 0, "tid": 0, "ph": "X", "name": "epsilon", "ts": 7, "tdur": 4},
  {"pid": 0, "tid": 0, "ph": "E", "name": "beta", "ts": 13},
  {"pid": 0, "tid": 0, "ph": "E", "name": "alpha", "ts": 14}
]"#,
        )
        .unwrap();
        assert_eq!(
            weights(&set, 0),
            [
                ("alpha".into(), 2.0, 14.0),
                ("beta".into(), 3.0, 12.0),
                ("epsilon".into(), 4.0, 4.0),
                (r#"gamma {"detail":"foobar"}"#.into(), 5.0, 5.0),
            ]
        );
        assert_eq!(set.profiles[0].name, "pid 0, tid 0");
        assert_eq!(set.profiles[0].unit, Unit::Microseconds);
    }

    #[test]
    fn py_spy_places_and_viztracer_names_give_files_and_lines() {
        let set = read(
            r#"{"traceEvents": [
  {"ph": "M", "name": "thread_name", "pid": 7, "tid": 9, "args": {"name": "MainThread"}},
  {"ph": "B", "name": "work", "pid": 7, "tid": 9, "ts": 10, "args": {"filename": "main.py", "line": 4}},
  {"ph": "X", "name": "fib (/src/fib.py:3)", "pid": 7, "tid": 9, "ts": 11, "dur": 2},
  {"ph": "i", "name": "mark", "pid": 7, "tid": 9, "ts": 12},
  {"ph": "E", "name": "work", "pid": 7, "tid": 9, "ts": 20, "args": {"filename": "main.py", "line": 4}}
]}"#,
        )
        .unwrap();
        let work = function_named(&set, "work");
        assert_eq!((work.file, work.line), (Some("main.py"), Some(4)));
        let fib = function_named(&set, "fib");
        assert_eq!((fib.file, fib.line), (Some("/src/fib.py"), Some(3)));
        assert_eq!(set.profiles[0].name, "MainThread (pid 7, tid 9)");
        assert_eq!(set.profiles[0].total, 10.0);
    }

    #[test]
    fn ends_out_of_order_are_errors_naming_the_event() {
        let err = read(
            r#"[{"ph":"B","name":"a","ts":0},{"ph":"B","name":"b","ts":1},
                {"ph":"E","name":"a","ts":2},{"ph":"E","name":"b","ts":3}]"#,
        )
        .unwrap_err();
        assert_eq!(err.location, crate::import::Location::Event(2), "{err}");
        assert!(err.message.contains("\"b\" (event 1)"), "{err}");
        let err = read(r#"[{"ph":"E","name":"a","ts":0}]"#).unwrap_err();
        assert!(
            err.to_string().ends_with("no event is open at event 0"),
            "{err}"
        );
    }

    #[test]
    fn sniffing_tells_traces_from_other_json() {
        assert_eq!(sniff(br#"[{"ph":"B","ts":1}]"#), Sniff::Yes);
        assert_eq!(sniff(br#"{"traceEvents":[]}"#), Sniff::Yes);
        assert_eq!(
            sniff(br#"{"shared":{"frames":[]},"profiles":[]}"#),
            Sniff::No
        );
        assert_eq!(sniff(b"main;work 3\n"), Sniff::No);
    }
}
