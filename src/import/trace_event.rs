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

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::cpuprofile::TraceProfiles;
use super::{ParseError, Sniff, trace_samples};
use crate::profile::{
    CallTreeBuilder, FrameId, FrameTable, FunctionKey, NodeId, Profile, ProfileSet, TimelineSample,
    Unit,
};

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

/// The object form; its other members (`displayTimeUnit`, `metadata`, …) are not needed.
#[derive(Deserialize)]
struct TraceObject<'a> {
    #[serde(rename = "traceEvents", borrow)]
    trace_events: Vec<RawEvent<'a>>,
    #[serde(default)]
    samples: Vec<trace_samples::Sample>,
    #[serde(rename = "stackFrames", default)]
    stack_frames: Option<FxHashMap<String, trace_samples::StackFrame>>,
}

/// A pid or tid: numbers in most traces, strings in some.
#[derive(Deserialize, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
#[serde(untagged)]
pub(super) enum Id {
    Number(i64),
    Text(String),
}

impl std::fmt::Display for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Id::Number(n) => write!(f, "{n}"),
            Id::Text(s) => f.write_str(s),
        }
    }
}

#[derive(Deserialize)]
struct RawEvent<'a> {
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
    #[serde(default, borrow)]
    args: Option<&'a RawValue>,
    /// What ties a V8 profile's chunks to it.
    #[serde(default)]
    id: Option<Id>,
}

/// A time: a number, or a number in a string as some writers put it (Chrome's `P` samples).
/// Anything else is no time at all.
pub(super) fn lenient_number<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<f64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Loose<'a> {
        Number(f64),
        #[serde(borrow)]
        Text(std::borrow::Cow<'a, str>),
        Other(serde::de::IgnoredAny),
    }
    Ok(match Loose::deserialize(d)? {
        Loose::Number(n) => Some(n),
        Loose::Text(s) => s.trim().parse().ok(),
        Loose::Other(_) => None,
    })
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
struct Edge {
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
    let has_bom = bytes.starts_with(BOM);
    let text = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let repaired;
    let mut samples = Vec::new();
    let mut stack_frames = None;
    let events = if text.trim_ascii_start().starts_with(b"[") {
        match serde_json::from_slice::<Vec<RawEvent>>(text) {
            Ok(events) => events,
            // The format lets a trace end without its `]` (a tracer stopped mid-write), after a
            // comma or not.
            Err(e) if e.is_eof() => {
                let body = text.trim_ascii_end();
                let body = body.strip_suffix(b",").unwrap_or(body);
                repaired = [body, b"]"].concat();
                serde_json::from_slice::<Vec<RawEvent>>(&repaired)
                    .map_err(|_| super::speedscope::json_error(&e, has_bom))?
            }
            Err(e) => return Err(super::speedscope::json_error(&e, has_bom)),
        }
    } else {
        let object = serde_json::from_slice::<TraceObject>(text)
            .map_err(|e| super::speedscope::json_error(&e, has_bom))?;
        samples = object.samples;
        stack_frames = object.stack_frames;
        object.trace_events
    };
    let mut frames = FrameTable::new(FunctionKey::NameFile);
    let mut frame_ids: FxHashMap<(String, Option<String>, Option<u32>), FrameId> =
        FxHashMap::default();
    // Per (pid, tid): begins and ends in file order; X events apart, as speedscope orders them.
    let mut threads: BTreeMap<(Id, Id), Thread> = BTreeMap::new();
    let mut thread_names: FxHashMap<(Id, Id), String> = FxHashMap::default();
    let mut process_names: FxHashMap<Id, String> = FxHashMap::default();
    let mut passed_over = 0usize;
    let mut names: FxHashMap<String, u32> = FxHashMap::default();
    // V8's CPU profiles (`Profile`, `ProfileChunk`, `CpuProfile` events), by time.
    let mut v8_events: Vec<(f64, usize)> = Vec::new();
    for (index, event) in events.iter().enumerate() {
        let ph = event.ph.unwrap_or("");
        if event
            .name
            .as_deref()
            .is_some_and(TraceProfiles::is_profile_event)
            && ph != "M"
        {
            v8_events.push((event.ts.unwrap_or(0.0), index));
            continue;
        }
        let pid = event.pid.clone().unwrap_or(Id::Number(0));
        let tid = event.tid.clone().unwrap_or(Id::Number(0));
        if ph == "M" {
            let name = event.args.and_then(|a| {
                serde_json::from_str::<MetaArgs>(a.get())
                    .ok()
                    .and_then(|m| m.name)
            });
            match (event.name.as_deref(), name) {
                (Some("thread_name"), Some(name)) => {
                    thread_names.insert((pid, tid), name);
                }
                (Some("process_name"), Some(name)) => {
                    process_names.insert(pid, name);
                }
                _ => {}
            }
            continue;
        }
        if !matches!(ph, "B" | "E" | "X") {
            passed_over += 1;
            continue;
        }
        let Some(ts) = event.ts.filter(|t| t.is_finite()) else {
            return Err(at_event(
                index,
                format!("a {ph} event without a time (`ts`)"),
            ));
        };
        let frame = frame_of(event, &mut frames, &mut frame_ids);
        let bare = event.name.as_deref().unwrap_or("(unnamed)");
        let next = names.len() as u32;
        let name = *names.entry(bare.to_owned()).or_insert(next);
        let edge = Edge {
            event: index,
            ts,
            frame,
            name,
        };
        let thread = threads.entry((pid, tid)).or_default();
        match ph {
            "B" => thread.begins.push(edge),
            "E" => thread.ends.push(edge),
            _ => {
                let dur = event.dur.or(event.tdur).unwrap_or(0.0).max(0.0);
                thread.complete.push((edge, dur));
            }
        }
    }
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
    let duration_events: usize = threads
        .values()
        .map(|t| t.begins.len() + t.ends.len() + t.complete.len())
        .sum();
    // Chrome's recordings hold V8's profiles beside the browser's own tasks as duration
    // events; the profiles are the call stacks, as speedscope takes them first.
    if !v8_events.is_empty() {
        v8_events.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut v8 = TraceProfiles::default();
        for &(_, index) in &v8_events {
            let event = &events[index];
            let id_text = |id: &Option<Id>| id.as_ref().map_or_else(|| "0".into(), Id::to_string);
            v8.add(
                event.name.as_deref().unwrap_or_default(),
                (id_text(&event.pid), id_text(&event.tid)),
                event.id.as_ref().map(Id::to_string),
                event.args.map(RawValue::get),
            )
            .map_err(|m| at_event(index, m))?;
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
    let mut profiles = Vec::with_capacity(threads.len());
    for ((pid, tid), thread) in threads {
        let name = name_of(&pid.to_string(), &tid.to_string());
        profiles.push(thread.replay(name, &frames, warnings)?);
    }
    Ok(ProfileSet { frames, profiles })
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

fn at_event(index: usize, message: String) -> ParseError {
    ParseError {
        location: super::Location::Event(index as u64),
        message,
    }
}

#[derive(Deserialize)]
struct MetaArgs {
    name: Option<String>,
}

/// The frame an event stands for: its name and, where the trace says, its file and line: from
/// `args` as py-spy writes them, or from a `name (file:line)` name as viztracer writes it.
/// Other `args` are part of the name, as speedscope keys frames.
fn frame_of(
    event: &RawEvent,
    frames: &mut FrameTable,
    ids: &mut FxHashMap<(String, Option<String>, Option<u32>), FrameId>,
) -> FrameId {
    let name = event.name.as_deref().unwrap_or("(unnamed)");
    let place = event
        .args
        .and_then(|a| serde_json::from_str::<Place>(a.get()).ok());
    let (name, file, line) = match (place, event.args) {
        (Some(place), _) => (name.to_owned(), Some(place.filename), place.line),
        // Compact, as speedscope's `JSON.stringify` writes them.
        (None, Some(args)) if args.get().trim() != "{}" => {
            let compact = serde_json::from_str::<serde_json::Value>(args.get())
                .map_or_else(|_| args.get().to_owned(), |v| v.to_string());
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

#[derive(Default)]
struct Thread {
    begins: Vec<Edge>,
    ends: Vec<Edge>,
    complete: Vec<(Edge, f64)>,
}

impl Thread {
    /// The events replayed in time: the time between two of them belongs to the innermost open
    /// frame, in the tree and the timeline alike.
    fn replay(
        mut self,
        name: String,
        frames: &FrameTable,
        warnings: &mut Vec<String>,
    ) -> Result<Profile, ParseError> {
        // X events after the B and E events of the same time, longer first (a shorter one can
        // only nest in a longer one), each its begin and its end.
        self.complete
            .sort_by(|a, b| a.0.ts.total_cmp(&b.0.ts).then(b.1.total_cmp(&a.1)));
        for (begin, dur) in &self.complete {
            self.begins.push(*begin);
            self.ends.push(Edge {
                ts: begin.ts + dur,
                ..*begin
            });
        }
        self.begins.sort_by(|a, b| a.ts.total_cmp(&b.ts));
        self.ends.sort_by(|a, b| a.ts.total_cmp(&b.ts));

        let mut tree = CallTreeBuilder::new();
        let mut timeline = Vec::new();
        let mut open: Vec<(Edge, NodeId)> = Vec::new();
        let mut last_ts: Option<f64> = None;
        let (mut b, mut e) = (0, 0);
        let mut advance = |to: f64, open: &[(Edge, NodeId)], tree: &mut CallTreeBuilder| {
            if let Some(last) = last_ts
                && to > last
                && let Some(&(_, top)) = open.last()
            {
                tree.add_self(top, to - last);
                timeline.push(TimelineSample {
                    leaf: top,
                    weight: to - last,
                });
            }
            last_ts = Some(last_ts.map_or(to, |l: f64| l.max(to)));
        };
        let frame_name = |f: FrameId| frames.frame(f).name.as_str();
        while b < self.begins.len() || e < self.ends.len() {
            // Of the ends at the time of the next one, the one closing the innermost open
            // frame first: by frame, else by name. None closes it: the ends wait for the
            // begins of that time (a zero-length event opens before it closes).
            let closing = match (open.last(), self.ends.get(e)) {
                (Some(&(top, _)), Some(first)) => {
                    let same_time = || self.ends[e..].iter().take_while(|x| x.ts == first.ts);
                    same_time()
                        .position(|x| x.frame == top.frame)
                        .or_else(|| same_time().position(|x| x.name == top.name))
                }
                _ => None,
            };
            let take_begin = match (self.begins.get(b), self.ends.get(e)) {
                (Some(_), None) => true,
                (None, _) => false,
                (Some(bf), Some(ef)) if bf.ts != ef.ts => bf.ts < ef.ts,
                (Some(_), Some(_)) => closing.is_none(),
            };
            if take_begin {
                let begin = self.begins[b];
                b += 1;
                advance(begin.ts, &open, &mut tree);
                let parent = open.last().map_or(NodeId::ROOT, |&(_, n)| n);
                let node = tree.child(parent, begin.frame);
                open.push((begin, node));
                continue;
            }
            if let Some(i) = closing {
                self.ends.swap(e, e + i);
            }
            let end = self.ends[e];
            e += 1;
            match open.last() {
                Some(&(top, _)) if top.name == end.name => {
                    advance(end.ts, &open, &mut tree);
                    open.pop();
                }
                Some(&(top, _)) => {
                    let message = format!(
                        "{name}: the end of \"{}\" at ts {} comes while \"{}\" (event {}) is the innermost open event; events must close in order",
                        frame_name(end.frame),
                        end.ts,
                        frame_name(top.frame),
                        top.event
                    );
                    return Err(at_event(end.event, message));
                }
                None => {
                    let message = format!(
                        "{name}: the end of \"{}\" at ts {} comes when no event is open",
                        frame_name(end.frame),
                        end.ts
                    );
                    return Err(at_event(end.event, message));
                }
            }
        }
        if !open.is_empty() {
            warnings.push(format!(
                "{name}: {} event{} still open at the end of the trace, closed there",
                open.len(),
                if open.len() == 1 { " was" } else { "s were" }
            ));
        }
        let tree = tree.finish();
        let mut profile = Profile::from_tree(name, Unit::Microseconds, tree);
        profile.timeline = Some(timeline);
        profile.evented = true;
        Ok(profile)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::test_support::{function_named, weights};

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
        assert_eq!(
            (work.file.as_deref(), work.line),
            (Some("main.py"), Some(4))
        );
        let fib = function_named(&set, "fib");
        assert_eq!(
            (fib.file.as_deref(), fib.line),
            (Some("/src/fib.py"), Some(3))
        );
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
