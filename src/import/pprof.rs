//! pprof's `profile.proto` (Go, Pyroscope, Datadog, austin2pprof), after the loader has taken
//! off its gzip: one profile per sample type (`cpu/nanoseconds`, `samples/count`,
//! `alloc_space/bytes`, …) with that type's unit; a location with several lines is a function
//! with others inlined into it, each its own frame; names, files and lines from the string
//! table. A location with no line keeps its address as its name.

use prost::Message;
use rustc_hash::FxHashMap;

use super::{ParseError, Sniff};
use crate::profile::{
    CallTreeBuilder, FrameId, FrameTable, FunctionKey, Profile, ProfileSet, Unit,
};

/// The messages of `profile.proto` that obol reads, declared by hand (no protoc at build time);
/// tags as in github.com/google/pprof/proto/profile.proto.
mod proto {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Profile {
        #[prost(message, repeated, tag = "1")]
        pub sample_type: Vec<ValueType>,
        #[prost(message, repeated, tag = "2")]
        pub sample: Vec<Sample>,
        #[prost(message, repeated, tag = "3")]
        pub mapping: Vec<Mapping>,
        #[prost(message, repeated, tag = "4")]
        pub location: Vec<Location>,
        #[prost(message, repeated, tag = "5")]
        pub function: Vec<Function>,
        #[prost(string, repeated, tag = "6")]
        pub string_table: Vec<String>,
        #[prost(int64, tag = "9")]
        pub time_nanos: i64,
        #[prost(int64, tag = "10")]
        pub duration_nanos: i64,
        #[prost(message, optional, tag = "11")]
        pub period_type: Option<ValueType>,
        #[prost(int64, tag = "12")]
        pub period: i64,
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
    // prost checks every length against the bytes left before it allocates for it.
    let profile = proto::Profile::decode(bytes)
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
    let mut location_frames: FxHashMap<u64, Vec<FrameId>> = FxHashMap::default();
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
        location_frames.insert(location.id, stack);
    }

    let types = profile.sample_type.len();
    let mut builders: Vec<CallTreeBuilder> = (0..types).map(|_| CallTreeBuilder::new()).collect();
    let mut stack: Vec<FrameId> = Vec::new();
    let mut short = 0usize;
    for (n, sample) in profile.sample.iter().enumerate() {
        stack.clear();
        // Leaf first in the file; the tree wants the root first.
        for id in sample.location_id.iter().rev() {
            let frames = location_frames.get(id).ok_or_else(|| {
                ParseError::at_byte(
                    0,
                    format!("sample {n} names location {id}, which the profile does not hold"),
                )
            })?;
            stack.extend_from_slice(frames);
        }
        if sample.value.len() != types {
            short += 1;
        }
        for (builder, &value) in builders.iter_mut().zip(&sample.value) {
            if value != 0 {
                builder.add_stack(&stack, value as f64);
            }
        }
    }
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
    for (value_type, builder) in profile.sample_type.iter().zip(builders) {
        let kind = string(value_type.r#type, "a sample type")?;
        let unit_name = string(value_type.unit, "a sample type's unit")?;
        let unit = unit_of(unit_name);
        let name = if unit_name.is_empty() {
            kind.to_owned()
        } else {
            format!("{kind} ({unit_name})")
        };
        profiles.push(Profile::from_tree(name, unit, builder.finish()));
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
        let profile = proto::Profile {
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
            sample: vec![
                Sample {
                    location_id: vec![2, 1],
                    value: vec![3, 30],
                },
                Sample {
                    location_id: vec![1],
                    value: vec![1, 10],
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
            time_nanos: 0,
            duration_nanos: 0,
            period_type: None,
            period: 0,
            default_sample_type: s("cpu"),
        };
        profile.encode_to_vec()
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
            .map(|&f| set.frames.frame(f).name.as_str())
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
        let mut profile = proto::Profile::decode(bytes.as_slice()).unwrap();
        profile.string_table.truncate(3);
        bytes = profile.encode_to_vec();
        let err = parse(&bytes, &mut Vec::new()).unwrap_err();
        assert!(err.message.contains("past the string table"), "{err}");
    }
}
