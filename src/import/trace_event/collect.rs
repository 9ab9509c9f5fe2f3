//! Events taken one at a time as serde_json reads them, never held as a list: a 100 MB trace
//! holds about a million, and the list of them was twice the file's size in memory.

use std::borrow::Cow;
use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde::Deserialize;
use serde::de::{DeserializeSeed, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::keys::RawKeys;
use super::replay::{Remap, Thread};
use super::scan::{self, Quick, Stop};
use super::{Edge, Id, MetaArgs, RawEvent, at_event, frame_of};
use crate::import::cpuprofile::TraceProfiles;
use crate::import::{ParseError, trace_samples};
use crate::profile::{FrameId, FrameTable, FunctionKey};

/// A V8 profile's event, kept until the trace is read: they are taken in time order.
pub(super) struct V8Event<'a> {
    pub ts: f64,
    pub index: usize,
    pub name: String,
    pub pid: String,
    pub tid: String,
    pub id: Option<String>,
    pub args: Option<&'a str>,
}

/// What the events of a trace add up to, before the profiles are made from it.
pub(super) struct Collector<'a> {
    pub frames: FrameTable,
    frame_ids: FxHashMap<(String, Option<String>, Option<u32>), FrameId>,
    /// The frame and bare name of each (name, args) as written.
    raw_keys: RawKeys,
    /// Per (pid, tid), in the order first met: begins and ends in file order; X events apart,
    /// as speedscope orders them.
    pub threads: Vec<((Id, Id), Thread)>,
    /// Where each (pid, tid) is in `threads`.
    thread_index: FxHashMap<(Id, Id), usize>,
    /// The thread of the last duration event: the next is most often on the same.
    last_thread: usize,
    /// Its pid and tid where both are numbers, for a quick event to be told it is on the same
    /// without making and comparing ids.
    last_numbers: Option<(i64, i64)>,
    pub thread_names: FxHashMap<(Id, Id), String>,
    pub process_names: FxHashMap<Id, String>,
    pub passed_over: usize,
    names: FxHashMap<Cow<'a, str>, u32>,
    pub v8_events: Vec<V8Event<'a>>,
    pub samples: Vec<trace_samples::Sample>,
    pub stack_frames: Option<FxHashMap<String, trace_samples::StackFrame>>,
    seen_events: bool,
    index: usize,
    failure: Option<ParseError>,
}

/// Why a trace could not be collected: its JSON, or one of its events.
pub(super) enum Failure {
    Json(serde_json::Error),
    Event(ParseError),
}

impl<'a> Collector<'a> {
    pub(super) fn new() -> Self {
        Collector {
            frames: FrameTable::new(FunctionKey::NameFile),
            frame_ids: FxHashMap::default(),
            raw_keys: RawKeys::default(),
            threads: Vec::new(),
            thread_index: FxHashMap::default(),
            last_thread: 0,
            last_numbers: None,
            thread_names: FxHashMap::default(),
            process_names: FxHashMap::default(),
            passed_over: 0,
            names: FxHashMap::default(),
            v8_events: Vec::new(),
            samples: Vec::new(),
            stack_frames: None,
            seen_events: false,
            index: 0,
            failure: None,
        }
    }

    /// Reads a whole trace: a bare array of events, or an object with `traceEvents`; by
    /// [`scan`] first where `quick`, by serde_json where it is not sure.
    /// `release` is told as the quick reading leaves bytes behind (see `parse_mapped`), and
    /// `release_range` as a reading of the second half does.
    pub(super) fn collect(
        text: &'a [u8],
        is_array: bool,
        quick: bool,
        release: &dyn Fn(usize),
        release_range: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<Self, Failure> {
        let mut collector = Collector::new();
        if quick {
            match scan::collect(text, is_array, &mut collector, release, release_range) {
                Ok(()) => return Ok(collector),
                Err(Stop::Event(failure)) => return Err(Failure::Event(failure)),
                // serde_json's reading is the reference.
                Err(Stop::Unsure) => collector = Collector::new(),
            }
        }
        let mut reader = serde_json::Deserializer::from_slice(text);
        let read = if is_array {
            serde::Deserializer::deserialize_seq(&mut reader, Events(&mut collector))
        } else {
            serde::Deserializer::deserialize_map(&mut reader, Object(&mut collector))
        };
        let read = read.and_then(|()| reader.end());
        if let Some(failure) = collector.failure.take() {
            return Err(Failure::Event(failure));
        }
        read.map_err(Failure::Json)?;
        Ok(collector)
    }

    /// The events of `tail`, read apart from this collector's, after its own: everything as
    /// if this collector had taken them itself. Frames and names keep the order they were
    /// first met in, over the two.
    pub(super) fn append(&mut self, tail: Collector<'a>) {
        let offset = self.index;
        let mut frames: Vec<_> = tail.frame_ids.into_iter().collect();
        frames.sort_unstable_by_key(|&(_, id)| id);
        let mut frame_map = vec![FrameId(0); frames.len()];
        for (key, tail_id) in frames {
            let id = match self.frame_ids.get(&key) {
                Some(&id) => id,
                None => {
                    let id = self.frames.intern(&key.0, key.1.as_deref(), key.2);
                    self.frame_ids.insert(key, id);
                    id
                }
            };
            frame_map[tail_id.0 as usize] = id;
        }
        let mut names: Vec<_> = tail.names.into_iter().collect();
        names.sort_unstable_by_key(|&(_, id)| id);
        let name_map: Vec<u32> = names
            .into_iter()
            .map(|(name, _)| {
                let next = self.names.len() as u32;
                *self.names.entry(name).or_insert(next)
            })
            .collect();
        // The events themselves are renumbered as each thread is replayed, on its core.
        let remap = Arc::new(Remap {
            offset,
            frames: frame_map,
            names: name_map,
        });
        for (key, thread) in tail.threads {
            self.thread(key).tails.push((thread, Arc::clone(&remap)));
        }
        // Later metadata wins, as it does read in one go.
        self.thread_names.extend(tail.thread_names);
        self.process_names.extend(tail.process_names);
        self.passed_over += tail.passed_over;
        self.v8_events
            .extend(tail.v8_events.into_iter().map(|event| V8Event {
                index: event.index + offset,
                ..event
            }));
        self.index += tail.index;
    }

    /// The thread of `key`, made if new.
    fn thread(&mut self, key: (Id, Id)) -> &mut Thread {
        self.last_numbers = match &key {
            (Id::Number(pid), Id::Number(tid)) => Some((*pid, *tid)),
            _ => None,
        };
        let at = match self.threads.get(self.last_thread) {
            Some((last, _)) if *last == key => self.last_thread,
            _ => match self.thread_index.get(&key) {
                Some(&at) => at,
                None => {
                    self.thread_index.insert(key.clone(), self.threads.len());
                    self.threads.push((key, Thread::default()));
                    self.threads.len() - 1
                }
            },
        };
        self.last_thread = at;
        &mut self.threads[at].1
    }

    /// Brings into the cache what taking `event` will look its key up in; the key's hash,
    /// for [`Collector::take_hashed`].
    #[inline]
    pub(super) fn prefetch(&self, event: &RawEvent<'a>) -> u64 {
        let name = event.name.as_deref().unwrap_or("(unnamed)");
        self.raw_keys
            .prefetch(name.as_bytes(), event.args.unwrap_or("").as_bytes())
    }

    /// [`Collector::prefetch`] for a [`Quick`] event.
    #[inline]
    pub(super) fn prefetch_quick(&self, event: &Quick<'a>) -> u64 {
        self.raw_keys.prefetch(event.name.as_bytes(), b"")
    }

    /// [`Collector::take_hashed`] for a [`Quick`] event: the same, with what it cannot hold
    /// (a V8 profile's name, a time not finite) and a key met for the first time left to it.
    #[inline(always)]
    pub(super) fn take_quick(&mut self, event: &Quick<'a>, hash: u64) -> Result<(), ParseError> {
        if TraceProfiles::is_profile_event(event.name) || !event.ts.is_finite() {
            return self.take_hashed(event.raw(), Some(hash));
        }
        let Some((frame, name)) = self.raw_keys.get(event.name.as_bytes(), b"", Some(hash)) else {
            return self.take_hashed(event.raw(), Some(hash));
        };
        let edge = Edge {
            event: self.index,
            ts: event.ts,
            frame,
            name,
        };
        self.index += 1;
        let pid = if event.has_pid { event.pid } else { 0 };
        let tid = if event.has_tid { event.tid } else { 0 };
        let thread = if self.last_numbers == Some((pid, tid)) {
            &mut self.threads[self.last_thread].1
        } else {
            self.thread((Id::Number(pid), Id::Number(tid)))
        };
        match event.ph {
            b'B' => push(&mut thread.begins, edge),
            b'E' => push(&mut thread.ends, edge),
            _ => {
                let dur = if event.has_dur { event.dur } else { 0.0 };
                push(&mut thread.complete, (edge, dur.max(0.0)));
            }
        }
        Ok(())
    }

    /// How many events were taken.
    pub(super) fn taken(&self) -> usize {
        self.index
    }

    pub(super) fn take(&mut self, event: RawEvent<'a>) -> Result<(), ParseError> {
        self.take_hashed(event, None)
    }

    /// [`Collector::take`], with the hash of the event's key if [`Collector::prefetch`] gave it.
    pub(super) fn take_hashed(
        &mut self,
        mut event: RawEvent<'a>,
        hash: Option<u64>,
    ) -> Result<(), ParseError> {
        let index = self.index;
        self.index += 1;
        let ph = event.ph.unwrap_or("");
        let id_text = |id: &Option<Id>| id.as_ref().map_or_else(|| "0".into(), Id::to_string);
        if let Some(name) = event.name.as_deref()
            && TraceProfiles::is_profile_event(name)
            && ph != "M"
        {
            self.v8_events.push(V8Event {
                ts: event.ts.unwrap_or(0.0),
                index,
                name: name.to_owned(),
                pid: id_text(&event.pid),
                tid: id_text(&event.tid),
                id: event.id.as_ref().map(Id::to_string),
                args: event.args,
            });
            return Ok(());
        }
        let pid = event.pid.take().unwrap_or(Id::Number(0));
        let tid = event.tid.take().unwrap_or(Id::Number(0));
        if ph == "M" {
            let name = event.args.and_then(|a| {
                serde_json::from_str::<MetaArgs>(a)
                    .ok()
                    .and_then(|m| m.name)
            });
            match (event.name.as_deref(), name) {
                (Some("thread_name"), Some(name)) => {
                    self.thread_names.insert((pid, tid), name);
                }
                (Some("process_name"), Some(name)) => {
                    self.process_names.insert(pid, name);
                }
                _ => {}
            }
            return Ok(());
        }
        if !matches!(ph, "B" | "E" | "X") {
            self.passed_over += 1;
            return Ok(());
        }
        let Some(ts) = event.ts.filter(|t| t.is_finite()) else {
            return Err(at_event(
                index,
                format!("a {ph} event without a time (`ts`)"),
            ));
        };
        let bare = event.name.as_deref().unwrap_or("(unnamed)");
        let args = event.args.unwrap_or("");
        let (frame, name) = match self.raw_keys.get(bare.as_bytes(), args.as_bytes(), hash) {
            Some(known) => known,
            None => {
                let frame = frame_of(&event, &mut self.frames, &mut self.frame_ids);
                let next = self.names.len() as u32;
                let bare = event.name.clone().unwrap_or(Cow::Borrowed("(unnamed)"));
                let name = *self.names.entry(bare).or_insert(next);
                let bare = event.name.as_deref().unwrap_or("(unnamed)");
                self.raw_keys
                    .insert(bare.as_bytes(), args.as_bytes(), (frame, name));
                (frame, name)
            }
        };
        let edge = Edge {
            event: index,
            ts,
            frame,
            name,
        };
        let thread = self.thread((pid, tid));
        match ph {
            "B" => push(&mut thread.begins, edge),
            "E" => push(&mut thread.ends, edge),
            _ => {
                let dur = event.dur.or(event.tdur).unwrap_or(0.0).max(0.0);
                push(&mut thread.complete, (edge, dur));
            }
        }
        Ok(())
    }
}

/// `v.push(x)`, but once `v` holds 128 KiB, its room goes straight to 32 MiB: glibc's malloc
/// maps a block that large on its own (its threshold for that rises to 32 MiB at most), and a
/// mapped block grows by remapping its pages, where a smaller one is copied to fresh pages at
/// each doubling (a third of the page faults of a 100 MB trace, and its peak memory). Room
/// never written is never given memory; where the system refuses the room, `v` grows as usual.
#[inline]
fn push<T>(v: &mut Vec<T>, x: T) {
    const FROM: usize = 128 << 10;
    const TO: usize = 32 << 20;
    let size = std::mem::size_of::<T>().max(1);
    if v.len() == v.capacity() && (FROM..TO).contains(&(v.capacity() * size)) {
        let _ = v.try_reserve_exact(TO / size - v.len());
    }
    v.push(x);
}

/// The array of events, each taken as it is read.
struct Events<'c, 'a>(&'c mut Collector<'a>);

impl<'de, 'c> DeserializeSeed<'de> for Events<'c, 'de> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, 'c> Visitor<'de> for Events<'c, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of trace events")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.0.seen_events = true;
        while let Some(event) = seq.next_element::<RawEvent<'de>>()? {
            if let Err(failure) = self.0.take(event) {
                self.0.failure = Some(failure);
                return Err(A::Error::custom("an event that cannot be read"));
            }
        }
        Ok(())
    }
}

/// The object form; of its other members (`displayTimeUnit`, `metadata`, …) only the samples
/// and their stack frames are read.
struct Object<'c, 'a>(&'c mut Collector<'a>);

#[derive(Deserialize)]
enum Member {
    #[serde(rename = "traceEvents")]
    TraceEvents,
    #[serde(rename = "samples")]
    Samples,
    #[serde(rename = "stackFrames")]
    StackFrames,
    #[serde(other)]
    Other,
}

impl<'de, 'c> Visitor<'de> for Object<'c, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a trace object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(member) = map.next_key::<Member>()? {
            match member {
                Member::TraceEvents => map.next_value_seed(Events(&mut *self.0))?,
                Member::Samples => self.0.samples = map.next_value()?,
                Member::StackFrames => self.0.stack_frames = Some(map.next_value()?),
                Member::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !self.0.seen_events {
            return Err(A::Error::missing_field("traceEvents"));
        }
        Ok(())
    }
}
