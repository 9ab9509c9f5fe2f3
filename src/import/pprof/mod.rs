//! pprof's `profile.proto` (Go, Pyroscope, Datadog, austin2pprof), after the loader has taken
//! off its gzip: one profile per sample type (`cpu/nanoseconds`, `samples/count`,
//! `alloc_space/bytes`, …) with that type's unit; a location with several lines is a function
//! with others inlined into it, each its own frame; names, files and lines from the string
//! table. A location with no line keeps its address as its name.

mod figures;
mod samples;
mod stacks;

use prost::Message;
use rustc_hash::FxHashMap;

use super::{ParseError, Sniff};
use crate::profile::{FrameId, FrameTable, FunctionKey, Profile, ProfileSet, Unit};

/// The messages of `profile.proto` that obol reads, declared by hand (no protoc at build time);
/// tags as in github.com/google/pprof/proto/profile.proto.
mod proto {
    /// `Profile` without its samples, which are read one at a time (`for_each_sample`): decoded
    /// all at once, 1.5 million samples of 27 frames took 500 MB. prost skips the samples'
    /// bytes, checking their lengths.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Tables {
        #[prost(message, repeated, tag = "1")]
        pub sample_type: Vec<ValueType>,
        #[prost(message, repeated, tag = "3")]
        pub mapping: Vec<Mapping>,
        #[prost(message, repeated, tag = "4")]
        pub location: Vec<Location>,
        #[prost(message, repeated, tag = "5")]
        pub function: Vec<Function>,
        #[prost(string, repeated, tag = "6")]
        pub string_table: Vec<String>,
        #[prost(int64, tag = "14")]
        pub default_sample_type: i64,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ValueType {
        #[prost(int64, tag = "1")]
        pub r#type: i64,
        #[prost(int64, tag = "2")]
        pub unit: i64,
    }

    #[cfg(test)]
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Sample {
        #[prost(uint64, repeated, tag = "1")]
        pub location_id: Vec<u64>,
        #[prost(int64, repeated, tag = "2")]
        pub value: Vec<i64>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Mapping {
        #[prost(uint64, tag = "1")]
        pub id: u64,
        #[prost(int64, tag = "5")]
        pub filename: i64,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Location {
        #[prost(uint64, tag = "1")]
        pub id: u64,
        #[prost(uint64, tag = "2")]
        pub mapping_id: u64,
        #[prost(uint64, tag = "3")]
        pub address: u64,
        #[prost(message, repeated, tag = "4")]
        pub line: Vec<Line>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Line {
        #[prost(uint64, tag = "1")]
        pub function_id: u64,
        #[prost(int64, tag = "2")]
        pub line: i64,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Function {
        #[prost(uint64, tag = "1")]
        pub id: u64,
        #[prost(int64, tag = "2")]
        pub name: i64,
        #[prost(int64, tag = "3")]
        pub system_name: i64,
        #[prost(int64, tag = "4")]
        pub filename: i64,
        #[prost(int64, tag = "5")]
        pub start_line: i64,
    }
}

/// A protobuf message whose fields, as far as the head goes, are all of `Profile`'s numbers
/// with their wire types, its sample types messages of two numbers, is pprof. Go writes
/// `time_nanos` (field 9, byte `H`) first, others the sample types (byte 0x0A); a text that
/// starts so fails on its next bytes.
pub fn sniff(head: &[u8]) -> Sniff {
    let mut at = 0;
    let mut fields = 0;
    while at < head.len() {
        let Some((key, next)) = varint(head, at) else {
            break;
        };
        let (field, wire) = (key >> 3, key & 7);
        let expected = match field {
            1..=6 | 11 => 2,
            7..=10 | 12 | 14 => 0,
            // Comments: packed numbers, or one number.
            13 if wire == 0 => 0,
            13 => 2,
            _ => return Sniff::No,
        };
        if wire != expected {
            return Sniff::No;
        }
        if wire == 0 {
            match varint(head, next) {
                Some((_, after)) => at = after,
                None => break,
            }
        } else {
            let Some((len, start)) = varint(head, next) else {
                break;
            };
            let end = start.saturating_add(len as usize);
            if field == 1 && !is_value_type(&head[start.min(head.len())..end.min(head.len())]) {
                return Sniff::No;
            }
            at = end;
        }
        fields += 1;
    }
    if fields >= 3 { Sniff::Yes } else { Sniff::No }
}

/// `ValueType { type = 1, unit = 2 }`: varint fields 1 and 2 only.
fn is_value_type(bytes: &[u8]) -> bool {
    let mut at = 0;
    while at < bytes.len() {
        let Some((key, next)) = varint(bytes, at) else {
            return false;
        };
        if !matches!(key, 0x08 | 0x10) {
            return false;
        }
        let Some((_, after)) = varint(bytes, next) else {
            return false;
        };
        at = after;
    }
    true
}

fn varint(bytes: &[u8], mut at: usize) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(at)?;
        at += 1;
        value |= u64::from(byte & 0x7F) << shift;
        if byte & 0x80 == 0 {
            return Some((value, at));
        }
    }
    None
}

pub fn parse(bytes: &[u8], warnings: &mut Vec<String>) -> Result<ProfileSet, ParseError> {
    read(bytes, false, warnings)
}

/// [`parse`] for `obol summary`: each sample type's profile holds its total and function
/// figures only, no call tree (`Profile::figures_only`), counted as the tree would count
/// them (see [`figures`]).
pub fn parse_for_summary(
    bytes: &[u8],
    warnings: &mut Vec<String>,
) -> Result<ProfileSet, ParseError> {
    read(bytes, true, warnings)
}

/// Each sample type's weights, as read.
enum Weights {
    Trees(std::vec::IntoIter<crate::profile::CallTreeBuilder>),
    Figures(figures::Figures),
}

fn read(
    bytes: &[u8],
    figures_only: bool,
    warnings: &mut Vec<String>,
) -> Result<ProfileSet, ParseError> {
    // prost checks every length against the bytes left before it allocates for it.
    let profile = proto::Tables::decode(bytes)
        .map_err(|e| ParseError::at_byte(0, format!("not a valid profile.proto message: {e}")))?;
    let strings = &profile.string_table;
    let string = |index: i64, what: &str| -> Result<&str, ParseError> {
        usize::try_from(index)
            .ok()
            .and_then(|i| strings.get(i))
            .map(String::as_str)
            .ok_or_else(|| {
                ParseError::at_byte(
                    0,
                    format!(
                        "{what} names string {index}, past the string table's {} entries",
                        strings.len()
                    ),
                )
            })
    };
    if profile.sample_type.is_empty() {
        return Err(ParseError::at_byte(
            0,
            "no sample types: nothing is measured",
        ));
    }
    let functions: FxHashMap<u64, &proto::Function> =
        profile.function.iter().map(|f| (f.id, f)).collect();
    let mappings: FxHashMap<u64, &proto::Mapping> =
        profile.mapping.iter().map(|m| (m.id, m)).collect();

    // Each location as its frames, root side first: pprof lists a location's lines with the
    // inlined callee first and the function it was inlined into last.
    let mut frames = FrameTable::new(FunctionKey::NameFile);
    let mut location_frames = samples::LocationFrames::new(profile.location.len());
    for location in &profile.location {
        let mut stack = Vec::with_capacity(location.line.len().max(1));
        for line in location.line.iter().rev() {
            let function = functions.get(&line.function_id).ok_or_else(|| {
                ParseError::at_byte(
                    0,
                    format!(
                        "location {} names function {}, which the profile does not hold",
                        location.id, line.function_id
                    ),
                )
            })?;
            let mut name = string(function.name, "a function's name")?;
            if name.is_empty() {
                name = string(function.system_name, "a function's system name")?;
            }
            let file = string(function.filename, "a function's file")?;
            let file = (!file.is_empty()).then_some(file);
            let line_number = u32::try_from(line.line).ok().filter(|&l| l > 0);
            stack.push(frames.intern(name, file, line_number));
        }
        if stack.is_empty() {
            let binary = mappings
                .get(&location.mapping_id)
                .and_then(|m| string(m.filename, "a mapping's file").ok())
                .filter(|f| !f.is_empty());
            stack.push(frames.intern(&format!("{:#x}", location.address), binary, None));
        }
        location_frames.insert(location.id, &stack);
    }

    let types = profile.sample_type.len();
    let figures = if figures_only {
        figures::of_samples(bytes, types, &location_frames, &frames)?
    } else {
        (None, 0)
    };
    let (mut weights, short) = match figures {
        (Some(figures), short) => (Weights::Figures(figures), short),
        // Figures that might not be the trees' to the bit: the trees.
        (None, _) => {
            let (builders, short) = samples::trees(bytes, types, &location_frames)?;
            (Weights::Trees(builders.into_iter()), short)
        }
    };
    if short > 0 {
        warnings.push(format!(
            "{short} sample{} with {} values for {types} sample types: the values present are kept",
            if short == 1 { "" } else { "s" },
            if short == 1 {
                "has a number of"
            } else {
                "have numbers of"
            },
        ));
    }
    let mut profiles = Vec::with_capacity(types);
    for (t, value_type) in profile.sample_type.iter().enumerate() {
        let kind = string(value_type.r#type, "a sample type")?;
        let unit_name = string(value_type.unit, "a sample type's unit")?;
        let unit = unit_of(unit_name);
        let name = if unit_name.is_empty() {
            kind.to_owned()
        } else {
            format!("{kind} ({unit_name})")
        };
        profiles.push(match &mut weights {
            Weights::Trees(builders) => {
                let builder = builders.next().unwrap_or_default();
                Profile::from_tree(name, unit, builder.finish())
            }
            Weights::Figures(figures) => figures.profile(t, name, unit),
        });
    }
    // The profile the file says to show first, first.
    if let Ok(wanted) = string(profile.default_sample_type, "the default sample type")
        && !wanted.is_empty()
        && let Some(at) = profile
            .sample_type
            .iter()
            .position(|t| string(t.r#type, "").is_ok_and(|k| k == wanted))
    {
        profiles[..=at].rotate_right(1);
    }
    Ok(ProfileSet { frames, profiles })
}

/// A sample's stack, root first, from its location ids (leaf first in the file).
fn stack_of(
    ids: &[u64],
    location_frames: &samples::LocationFrames,
    stack: &mut Vec<FrameId>,
    n: u64,
) -> Result<(), ParseError> {
    stack.clear();
    for id in ids.iter().rev() {
        let frames = location_frames.get(*id).ok_or_else(|| {
            ParseError::at_byte(
                0,
                format!("sample {n} names location {id}, which the profile does not hold"),
            )
        })?;
        // Nearly every location is one frame: a push, not a copy.
        match frames {
            [frame] => stack.push(*frame),
            _ => stack.extend_from_slice(frames),
        }
    }
    Ok(())
}

/// Calls `f` with the bytes of each `sample` (field 2) among the fields of a `Profile` message
/// that start in `fields` (which starts at a field), in order. The
/// message was checked whole by prost already; a field it could not have held is an error all
/// the same, never a panic.
fn for_each_sample<'a>(
    bytes: &'a [u8],
    fields: std::ops::Range<usize>,
    mut f: impl FnMut(&'a [u8]) -> Result<(), ParseError>,
) -> Result<(), ParseError> {
    let broken = |at: usize| ParseError::at_byte(at as u64, "a field of the profile is cut short");
    let mut at = fields.start;
    while at < fields.end {
        let (key, next) = varint(bytes, at).ok_or_else(|| broken(at))?;
        at = match key & 7 {
            0 => varint(bytes, next).ok_or_else(|| broken(next))?.1,
            1 => next + 8,
            5 => next + 4,
            2 => {
                let (len, start) = varint(bytes, next).ok_or_else(|| broken(next))?;
                let end = usize::try_from(len)
                    .ok()
                    .and_then(|len| start.checked_add(len))
                    .filter(|&end| end <= bytes.len())
                    .ok_or_else(|| broken(start))?;
                if key >> 3 == 2 {
                    f(&bytes[start..end])?;
                }
                end
            }
            wire => {
                return Err(ParseError::at_byte(
                    at as u64,
                    format!("a field of wire type {wire}, which pprof does not use"),
                ));
            }
        };
    }
    Ok(())
}

/// One `Sample`'s values and where its location ids are, read into buffers used again for
/// the next. The ids are decoded only for a stack not seen before ([`SampleFields::ids`]).
#[derive(Default)]
struct SampleFields<'a> {
    message: &'a [u8],
    values: Vec<i64>,
    ids: Vec<u64>,
    /// The location ids' bytes when they come as one packed field (as every writer packs
    /// them): the key the stack is known by.
    packed_ids: Option<&'a [u8]>,
}

impl<'a> SampleFields<'a> {
    fn read(&mut self, message: &'a [u8]) -> Option<()> {
        self.message = message;
        self.values.clear();
        self.packed_ids = None;
        let mut several = false;
        each_field(message, |field, value| {
            match (field, value) {
                (1, Field::Varint(_)) => several = true,
                (1, Field::Bytes(body)) => {
                    several |= self.packed_ids.is_some();
                    self.packed_ids = Some(body);
                }
                (2, Field::Varint(v)) => self.values.push(v as i64),
                (2, Field::Bytes(body)) => read_packed(body, |v| self.values.push(v as i64))?,
                _ => {}
            }
            Some(())
        })?;
        if several {
            // Ids in several fields: no single run of bytes names the stack.
            self.packed_ids = None;
        }
        Some(())
    }

    /// The location ids, leaf first.
    fn ids(&mut self) -> Option<&[u64]> {
        self.ids.clear();
        let ids = &mut self.ids;
        each_field(self.message, |field, value| {
            match (field, value) {
                (1, Field::Varint(v)) => ids.push(v),
                (1, Field::Bytes(body)) => read_packed(body, |v| ids.push(v))?,
                _ => {}
            }
            Some(())
        })?;
        Some(&self.ids)
    }
}

enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

/// Calls `f` with each field of a message: its number and value; None when the message is
/// cut short or `f` says so.
fn each_field<'a>(
    message: &'a [u8],
    mut f: impl FnMut(u64, Field<'a>) -> Option<()>,
) -> Option<()> {
    let mut at = 0;
    while at < message.len() {
        let (key, next) = varint(message, at)?;
        let (field, wire) = (key >> 3, key & 7);
        let (value, after) = match wire {
            0 => {
                let (value, after) = varint(message, next)?;
                (Field::Varint(value), after)
            }
            1 => (Field::Fixed, next + 8),
            5 => (Field::Fixed, next + 4),
            2 => {
                let (len, start) = varint(message, next)?;
                let end = start.checked_add(usize::try_from(len).ok()?)?;
                (Field::Bytes(message.get(start..end)?), end)
            }
            _ => return None,
        };
        f(field, value)?;
        at = after;
    }
    (at == message.len()).then_some(())
}

fn read_packed(body: &[u8], mut push: impl FnMut(u64)) -> Option<()> {
    // Nearly every id and value fits in one byte or two.
    let mut at = 0;
    while at < body.len() {
        let (value, next) = varint(body, at)?;
        push(value);
        at = next;
    }
    Some(())
}

/// pprof's units are free text: Go writes words, austin2pprof `μs`.
fn unit_of(name: &str) -> Unit {
    match name {
        "nanoseconds" | "ns" => Unit::Nanoseconds,
        "microseconds" | "μs" | "µs" | "us" => Unit::Microseconds,
        "milliseconds" | "ms" => Unit::Milliseconds,
        "seconds" | "s" => Unit::Seconds,
        "bytes" => Unit::Bytes,
        "count" | "samples" => Unit::Samples,
        _ => Unit::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::*;

    /// main → work → (inlined) helper, with two sample types.
    fn small() -> Vec<u8> {
        let strings = [
            "",
            "samples",
            "count",
            "cpu",
            "nanoseconds",
            "main",
            "work",
            "helper",
            "app.py",
        ];
        let s = |text: &str| strings.iter().position(|x| *x == text).unwrap() as i64;
        let function = |id, name| Function {
            id,
            name: s(name),
            system_name: 0,
            filename: s("app.py"),
            start_line: 1,
        };
        let tables = Tables {
            sample_type: vec![
                ValueType {
                    r#type: s("samples"),
                    unit: s("count"),
                },
                ValueType {
                    r#type: s("cpu"),
                    unit: s("nanoseconds"),
                },
            ],
            mapping: vec![],
            location: vec![
                Location {
                    id: 1,
                    mapping_id: 0,
                    address: 0,
                    line: vec![Line {
                        function_id: 1,
                        line: 4,
                    }],
                },
                Location {
                    id: 2,
                    mapping_id: 0,
                    address: 0,
                    // helper inlined into work: callee first.
                    line: vec![
                        Line {
                            function_id: 3,
                            line: 9,
                        },
                        Line {
                            function_id: 2,
                            line: 6,
                        },
                    ],
                },
            ],
            function: vec![
                function(1, "main"),
                function(2, "work"),
                function(3, "helper"),
            ],
            string_table: strings.iter().map(|s| s.to_string()).collect(),
            default_sample_type: s("cpu"),
        };
        // A message's fields may come in any order; the samples after the tables.
        let mut bytes = tables.encode_to_vec();
        for (location_id, value) in [(vec![2, 1], vec![3, 30]), (vec![1], vec![1, 10])] {
            let sample = Sample { location_id, value };
            prost::encoding::message::encode(2, &sample, &mut bytes);
        }
        bytes
    }

    #[test]
    fn sample_types_become_profiles_and_inlined_lines_frames() {
        let bytes = small();
        assert_eq!(sniff(&bytes), Sniff::Yes);
        let set = parse(&bytes, &mut Vec::new()).unwrap();
        // The default sample type first.
        let names: Vec<&str> = set.profiles.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["cpu (nanoseconds)", "samples (count)"]);
        assert_eq!(set.profiles[0].unit, Unit::Nanoseconds);
        assert_eq!(set.profiles[0].total, 40.0);
        assert_eq!(set.profiles[1].total, 4.0);
        let tree = set.profiles[1].tree();
        let leaf = tree.ids().find(|&n| tree.self_weight(n) == 3.0).unwrap();
        let stack: Vec<&str> = tree
            .stack(leaf)
            .iter()
            .map(|&f| set.frames.frame(f).name)
            .collect();
        assert_eq!(stack, ["main", "work", "helper"]);
    }

    #[test]
    fn text_and_json_are_not_pprof() {
        assert_eq!(sniff(b"main;work 3\n"), Sniff::No);
        assert_eq!(sniff(b"{\"traceEvents\":[]}"), Sniff::No);
        assert_eq!(sniff(b"\n\nmain;work 3\n"), Sniff::No);
    }

    #[test]
    fn a_string_index_past_the_table_is_an_error() {
        let mut bytes = small();
        // Cut the string table short: the names of the functions then point past it.
        let mut tables = Tables::decode(bytes.as_slice()).unwrap();
        tables.string_table.truncate(3);
        bytes = tables.encode_to_vec();
        let err = parse(&bytes, &mut Vec::new()).unwrap_err();
        assert!(err.message.contains("past the string table"), "{err}");
    }
}
