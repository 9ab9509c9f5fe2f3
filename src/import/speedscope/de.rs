//! Streaming deserialization of a speedscope file: the exact reading, which `quick.rs` falls
//! back on for anything out of the ordinary, and which names every fault with its place.
//!
//! The big arrays (`samples`, `weights`, `events`) are never materialized as JSON values: stacks
//! go as flat frame indices to the merging thread (`stacks.rs`), events are replayed into a tree
//! as they are read. `shared` may come before or after `profiles` (py-spy writes it after), so
//! trees are keyed by the file's own frame indices, taken as `FrameId`s, and mapped to interned
//! frames once everything is read (`build.rs`).

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::build::{Interned, intern_frames};
use super::counting::Counter;
use super::events::EventsSeed;
use super::stacks::{Sink, Stacks};
use super::weights::Weights;
use crate::profile::{CallTreeBuilder, TimelineSample, Unit};

#[derive(Deserialize)]
pub(super) struct RawFrame<'a> {
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    #[serde(borrow, default)]
    pub file: Option<Cow<'a, str>>,
    /// A number in the schema, not necessarily a whole one; judged when interned.
    #[serde(default)]
    pub line: Option<f64>,
}

#[derive(Deserialize)]
pub(super) struct Shared<'a> {
    #[serde(borrow)]
    pub frames: Vec<RawFrame<'a>>,
}

pub(super) struct RawFile<'a> {
    pub frames: Vec<RawFrame<'a>>,
    pub profiles: Vec<RawProfile>,
}

/// One profile, its tree keyed by file frame indices.
pub(super) struct RawProfile {
    pub name: String,
    pub unit: Unit,
    pub start_value: Option<f64>,
    pub end_value: Option<f64>,
    pub body: Body,
}

pub(super) enum Body {
    /// `slot` is the tree's place in the merging thread's output; `None` when nothing was merged
    /// (a pass that only checks).
    Sampled {
        slot: Option<usize>,
        weights: Weights,
    },
    Evented {
        tree: CallTreeBuilder,
        timeline: Vec<TimelineSample>,
    },
}

/// Things worth a warning, gathered so that a file of many profiles gives one line each.
#[derive(Default)]
pub(super) struct Notes {
    /// (profile index, unit as written or None when absent), the first such profile.
    pub odd_unit: Option<(usize, Option<String>)>,
    pub odd_unit_count: usize,
}

/// What a read shares across the file.
pub(super) struct Context {
    /// Given on a second pass, made only to find where a frame index out of range is when
    /// `profiles` came before `shared` the first time.
    pub frame_count: Option<usize>,
    pub notes: Notes,
    /// The largest frame index any profile names, checked against the frames once both are read.
    pub max_frame: Option<u32>,
    /// Where sampled stacks go; `None` on a pass that only checks.
    pub sink: Option<Sink>,
    /// The frames, interned as soon as `shared` is read, on a pass with a sink or a counter.
    pub interned: Option<Interned>,
    /// Where the quick reading counts sampled stacks instead of sending them to the sink.
    pub counter: Option<Counter>,
}

impl Context {
    /// Interns the frames just read, and when no profile was read yet, tells the merging side
    /// each frame's function (which lets it count each function's figures as it goes).
    pub fn shared_read(&mut self, frames: &[RawFrame<'_>], profiles_read: bool) {
        if let Some(counter) = &mut self.counter {
            let interned = intern_frames(frames);
            if !profiles_read {
                counter.functions(interned.functions());
            }
            self.interned = Some(interned);
        } else if let Some(sink) = &mut self.sink {
            let interned = intern_frames(frames);
            if !profiles_read {
                sink.functions(interned.functions());
            }
            self.interned = Some(interned);
        }
    }
}

/// Reads a whole file.
pub(super) struct FileSeed<'c> {
    pub context: &'c mut Context,
}

#[derive(Deserialize)]
#[serde(field_identifier)]
enum FileKey {
    #[serde(rename = "shared")]
    Shared,
    #[serde(rename = "profiles")]
    Profiles,
    #[serde(other)]
    Other,
}

impl<'de> DeserializeSeed<'de> for FileSeed<'_> {
    type Value = RawFile<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FileSeed<'_> {
    type Value = RawFile<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a speedscope file: a JSON object with `shared` and `profiles`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut frames: Option<Vec<RawFrame<'de>>> = None;
        let mut profiles = None;
        while let Some(key) = map.next_key::<FileKey>()? {
            match key {
                FileKey::Shared => {
                    if frames.is_some() {
                        return Err(de::Error::duplicate_field("shared"));
                    }
                    let read = map.next_value::<Shared<'de>>()?.frames;
                    self.context.shared_read(&read, profiles.is_some());
                    frames = Some(read);
                }
                FileKey::Profiles => {
                    if profiles.is_some() {
                        return Err(de::Error::duplicate_field("profiles"));
                    }
                    let known = (self.context.frame_count).or(frames.as_ref().map(Vec::len));
                    profiles = Some(map.next_value_seed(ProfilesSeed {
                        known_frames: known,
                        context: &mut *self.context,
                    })?);
                }
                FileKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let Some(profiles) = profiles else {
            return Err(de::Error::custom(
                "no `profiles` list: not a speedscope file",
            ));
        };
        let Some(frames) = frames else {
            return Err(de::Error::custom("no `shared.frames` list"));
        };
        if profiles.is_empty() {
            return Err(de::Error::custom("`profiles` is empty: nothing to show"));
        }
        Ok(RawFile { frames, profiles })
    }
}

/// Checks frame indices as they stream by: against the frame count when `shared` was read
/// first, else only recorded for the check at the end.
#[derive(Clone, Copy)]
pub(super) struct FrameBound {
    /// Exclusive. `u32::MAX` itself is never a valid index: the tree reserves it for its root.
    limit: u32,
    known: bool,
    pub profile: usize,
}

impl FrameBound {
    pub fn new(known_frames: Option<usize>, profile: usize) -> Self {
        let limit = known_frames.map_or(u32::MAX, |n| u32::try_from(n).unwrap_or(u32::MAX));
        FrameBound {
            limit,
            known: known_frames.is_some(),
            profile,
        }
    }

    /// Frame indices must be below this.
    pub fn limit(self) -> u32 {
        self.limit
    }

    pub fn check<E: de::Error>(self, index: u32, what: &str, at: usize) -> Result<(), E> {
        if index < self.limit {
            return Ok(());
        }
        let have = if self.known {
            format!("`shared.frames` has {} frames", self.limit)
        } else {
            "no file has that many frames".to_owned()
        };
        Err(E::custom(format_args!(
            "{what} {at} of profile {} names frame {index}, but {have}",
            self.profile
        )))
    }
}

struct ProfilesSeed<'a> {
    known_frames: Option<usize>,
    context: &'a mut Context,
}

impl<'de> DeserializeSeed<'de> for ProfilesSeed<'_> {
    type Value = Vec<RawProfile>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ProfilesSeed<'_> {
    type Value = Vec<RawProfile>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of profiles")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut profiles = Vec::new();
        loop {
            let seed = ProfileSeed {
                bound: FrameBound::new(self.known_frames, profiles.len()),
                context: &mut *self.context,
            };
            match seq.next_element_seed(seed)? {
                Some(profile) => profiles.push(profile),
                None => return Ok(profiles),
            }
        }
    }
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    #[serde(rename = "sampled")]
    Sampled,
    #[serde(rename = "evented")]
    Evented,
}

#[derive(Deserialize)]
#[serde(field_identifier)]
enum ProfileKey {
    #[serde(rename = "type")]
    Type,
    #[serde(rename = "name")]
    Name,
    #[serde(rename = "unit")]
    Unit,
    #[serde(rename = "startValue")]
    StartValue,
    #[serde(rename = "endValue")]
    EndValue,
    #[serde(rename = "samples")]
    Samples,
    #[serde(rename = "weights")]
    Weights,
    #[serde(rename = "events")]
    Events,
    #[serde(other)]
    Other,
}

struct ProfileSeed<'a> {
    bound: FrameBound,
    context: &'a mut Context,
}

impl<'de> DeserializeSeed<'de> for ProfileSeed<'_> {
    type Value = RawProfile;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ProfileSeed<'_> {
    type Value = RawProfile;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a profile object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let index = self.bound.profile;
        let mut kind: Option<Kind> = None;
        let mut name: Option<String> = None;
        let mut unit: Option<String> = None;
        let (mut start_value, mut end_value) = (None, None);
        // Keys may come in any order (speedscope's own samples sort them, putting `type` after
        // the arrays), so each kind of array gets its own tree until `type` settles which one
        // counts.
        let mut sampled: Option<SamplesRead> = None;
        let mut weights: Option<Weights> = None;
        let mut evented: Option<(CallTreeBuilder, Vec<TimelineSample>)> = None;
        while let Some(key) = map.next_key::<ProfileKey>()? {
            match key {
                ProfileKey::Type => kind = Some(map.next_value()?),
                ProfileKey::Name => name = map.next_value()?,
                ProfileKey::Unit => unit = map.next_value()?,
                ProfileKey::StartValue => start_value = map.next_value()?,
                ProfileKey::EndValue => end_value = map.next_value()?,
                ProfileKey::Samples if kind != Some(Kind::Evented) => {
                    if sampled.is_some() {
                        return Err(de::Error::duplicate_field("samples"));
                    }
                    sampled = Some(map.next_value_seed(SamplesSeed {
                        bound: self.bound,
                        context: &mut *self.context,
                    })?);
                }
                ProfileKey::Weights if kind != Some(Kind::Evented) => {
                    if weights.is_some() {
                        return Err(de::Error::duplicate_field("weights"));
                    }
                    let list = map.next_value_seed(WeightsSeed { profile: index })?;
                    weights = Some(Weights::from_list(list));
                }
                ProfileKey::Events if kind != Some(Kind::Sampled) => {
                    if evented.is_some() {
                        return Err(de::Error::duplicate_field("events"));
                    }
                    evented = Some(map.next_value_seed(EventsSeed {
                        bound: self.bound,
                        max_frame: &mut self.context.max_frame,
                    })?);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let profile = Fields {
            kind,
            name,
            unit,
            start_value,
            end_value,
            sampled,
            weights,
            evented,
        };
        profile
            .finish(index, &mut self.context.notes)
            .map_err(de::Error::custom)
    }
}

/// A profile's fields as read, in whatever order they came.
pub(super) struct Fields {
    pub kind: Option<Kind>,
    pub name: Option<String>,
    pub unit: Option<String>,
    pub start_value: Option<f64>,
    pub end_value: Option<f64>,
    pub sampled: Option<SamplesRead>,
    pub weights: Option<Weights>,
    pub evented: Option<(CallTreeBuilder, Vec<TimelineSample>)>,
}

impl Fields {
    /// The profile, once its fields are all read; the error says what is missing or at odds.
    pub fn finish(self, index: usize, notes: &mut Notes) -> Result<RawProfile, String> {
        let missing =
            |what: &str, kind: &str| format!("profile {index} is {kind} but has no `{what}`");
        let body = match self.kind {
            None => {
                return Err(format!(
                    "profile {index} has no `type` (\"sampled\" or \"evented\")"
                ));
            }
            Some(Kind::Sampled) => {
                let samples = self.sampled.ok_or_else(|| missing("samples", "sampled"))?;
                let weights = self.weights.ok_or_else(|| missing("weights", "sampled"))?;
                if weights.len() != samples.count {
                    return Err(format!(
                        "profile {index} has {} samples but {} weights; there must be one weight per sample",
                        samples.count,
                        weights.len()
                    ));
                }
                Body::Sampled {
                    slot: samples.slot,
                    weights,
                }
            }
            Some(Kind::Evented) => {
                let (tree, timeline) = self.evented.ok_or_else(|| missing("events", "evented"))?;
                Body::Evented { tree, timeline }
            }
        };
        let unit = match self.unit.as_deref().map(Unit::from_speedscope) {
            Some(Some(unit)) => unit,
            _ => {
                // speedscope shows such weights as plain numbers rather than refusing the file.
                if notes.odd_unit.is_none() {
                    notes.odd_unit = Some((index, self.unit));
                }
                notes.odd_unit_count += 1;
                Unit::None
            }
        };
        Ok(RawProfile {
            name: self.name.unwrap_or_default(),
            unit,
            start_value: self.start_value,
            end_value: self.end_value,
            body,
        })
    }
}

/// What reading a `samples` list left behind: the stacks themselves went to the sink.
pub(super) struct SamplesRead {
    pub slot: Option<usize>,
    pub count: usize,
}

struct SamplesSeed<'a> {
    bound: FrameBound,
    context: &'a mut Context,
}

impl<'de> DeserializeSeed<'de> for SamplesSeed<'_> {
    type Value = SamplesRead;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for SamplesSeed<'_> {
    type Value = SamplesRead;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of stacks (lists of frame indices)")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut count = 0;
        loop {
            let seed = StackSeed {
                sink: self.context.sink.as_mut(),
                max: &mut self.context.max_frame,
                bound: self.bound,
                sample: count,
            };
            match seq.next_element_seed(seed)? {
                Some(()) => count += 1,
                None => break,
            }
        }
        let slot = self.context.sink.as_mut().map(Stacks::end_list);
        Ok(SamplesRead { slot, count })
    }
}

/// One stack: its frame indices are checked and passed on.
struct StackSeed<'a> {
    sink: Option<&'a mut Sink>,
    max: &'a mut Option<u32>,
    bound: FrameBound,
    sample: usize,
}

impl<'de> DeserializeSeed<'de> for StackSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for StackSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a stack: a list of frame indices")
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        let mut max = *self.max;
        while let Some(FrameIndex(index)) = seq.next_element()? {
            self.bound.check(index, "sample", self.sample)?;
            if max < Some(index) {
                max = Some(index);
            }
            if let Some(sink) = self.sink.as_deref_mut() {
                sink.push_frame(index);
            }
        }
        if let Some(sink) = self.sink {
            sink.end_stack();
        }
        *self.max = max;
        Ok(())
    }
}

/// A frame index in a stack, as speedscope's importer takes it: it looks frames up with
/// `frameInfos[n]` in JavaScript, where a list of one element stands for that element (`[32]`
/// becomes the key `"32"`), so `[[32]]` is the stack of frame 32 (perf-to-speedscope converters
/// write such files). A list of any other length names no frame there, and is refused here.
struct FrameIndex(u32);

impl<'de> Deserialize<'de> for FrameIndex {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(FrameIndexVisitor)
    }
}

struct FrameIndexVisitor;

impl<'de> Visitor<'de> for FrameIndexVisitor {
    type Value = FrameIndex;

    // serde's own word for a u32, so that other errors read as they did before lists of one.
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("u32")
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<FrameIndex, E> {
        u32::try_from(value)
            .map(FrameIndex)
            .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(value), &self))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<FrameIndex, E> {
        u32::try_from(value)
            .map(FrameIndex)
            .map_err(|_| E::invalid_value(de::Unexpected::Signed(value), &self))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<FrameIndex, A::Error> {
        const ONE: &str = "a frame index or a list of one frame index";
        let Some(index) = seq.next_element::<FrameIndex>()? else {
            return Err(de::Error::invalid_length(0, &ONE));
        };
        let mut len = 1;
        while seq.next_element::<IgnoredAny>()?.is_some() {
            len += 1;
        }
        if len != 1 {
            return Err(de::Error::invalid_length(len, &ONE));
        }
        Ok(index)
    }
}

struct WeightsSeed {
    profile: usize,
}

impl<'de> DeserializeSeed<'de> for WeightsSeed {
    type Value = Vec<f64>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for WeightsSeed {
    type Value = Vec<f64>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of sample weights")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut weights = Vec::new();
        while let Some(weight) = seq.next_element::<f64>()? {
            // As speedscope: a negative weight would make totals meaningless.
            if weight < 0.0 {
                return Err(de::Error::custom(format_args!(
                    "weight {} of profile {} is negative ({weight})",
                    weights.len(),
                    self.profile
                )));
            }
            weights.push(weight);
        }
        Ok(weights)
    }
}
