//! Firefox Profiler JSON, both forms:
//!
//! - **processed** (samply's `profile.json`, CPython 3.15's `--gecko`): per thread, column
//!   tables (`samples.stack`/`time`, `stackTable.prefix`/`frame`, `frameTable.func`/`line`,
//!   `funcTable.name`/`fileName`) over a string array (the thread's, or `shared.stringArray`);
//!   each sample weighs one (or its `weight`), in recorded order.
//! - **gecko** (Firefox's own, as its DevTools saved it): `schema`/`data` tables with frame
//!   locations as `name (file:line)` strings; as speedscope reads it, each sample lasts until the
//!   next one (milliseconds) and Firefox's own frames (`resource:`, `self-hosted`) are left out.
//!
//! One profile per thread. A frame without a symbol keeps its address as its name.

use rustc_hash::FxHashMap;
use serde_json::Value;

use super::{ParseError, Sniff};
use crate::profile::{
    CallTreeBuilder, FrameId, FrameTable, FunctionKey, NodeId, Profile, ProfileSet, TimelineSample,
    Unit,
};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A JSON object with Firefox Profiler's `meta` (its keys: `processType`, `stackwalk`,
/// `preprocessedProfileVersion`) or its `threads`, or Firefox DevTools' recording, whose
/// `"profile"` opens with the libraries loaded (a long list: the threads may lie past the head).
pub fn sniff(head: &[u8]) -> Sniff {
    let text = head.strip_prefix(BOM).unwrap_or(head).trim_ascii_start();
    if !text.starts_with(b"{") {
        return Sniff::No;
    }
    let has = |key: &[u8]| memchr::memmem::find(text, key).is_some();
    let meta = has(b"\"meta\"")
        && [
            &b"\"processType\""[..],
            b"\"stackwalk\"",
            b"\"preprocessedProfileVersion\"",
            b"\"threads\"",
        ]
        .iter()
        .any(|k| has(k));
    let recording = has(b"\"profile\"") && has(b"\"libs\"");
    if meta || recording {
        Sniff::Yes
    } else {
        Sniff::No
    }
}

pub fn parse(bytes: &[u8], warnings: &mut Vec<String>) -> Result<ProfileSet, ParseError> {
    let has_bom = bytes.starts_with(BOM);
    let text = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let doc: Value =
        serde_json::from_slice(text).map_err(|e| super::speedscope::json_error(&e, has_bom))?;
    // Firefox's DevTools wrapped the profile in a recording.
    let profile = match doc.get("profile") {
        Some(inner) if inner.get("threads").is_some() => inner,
        _ => &doc,
    };
    let threads = profile
        .get("threads")
        .and_then(Value::as_array)
        .ok_or_else(|| fail("no `threads` list"))?;
    let shared_strings = profile
        .pointer("/shared/stringArray")
        .and_then(Value::as_array);
    let mut frames = FrameTable::new(FunctionKey::NameFile);
    let mut profiles = Vec::with_capacity(threads.len());
    let mut dropped = 0usize;
    for (index, thread) in threads.iter().enumerate() {
        let name = thread
            .get("name")
            .and_then(Value::as_str)
            .map_or_else(|| format!("thread {index}"), str::to_owned);
        let name = match thread.get("tid") {
            Some(Value::Number(tid)) => format!("{name} (tid {tid})"),
            Some(Value::String(tid)) => format!("{name} (tid {tid})"),
            _ => name,
        };
        let read = if thread.pointer("/samples/schema").is_some() {
            gecko_thread(thread, &mut frames, &mut dropped)
        } else {
            processed_thread(thread, shared_strings, &mut frames)
        };
        let (builder, timeline, unit) = read.map_err(|e| fail(&format!("thread {index}: {e}")))?;
        let mut profile = Profile::from_tree(name, unit, builder.finish());
        profile.timeline = Some(timeline);
        profiles.push(profile);
    }
    if dropped > 0 {
        warnings.push(format!(
            "{dropped} frame{} of Firefox itself (resource:, self-hosted) or without a `name (file)` location left out, as speedscope leaves them",
            if dropped == 1 { "" } else { "s" }
        ));
    }
    if profiles.is_empty() {
        return Err(fail("no threads"));
    }
    Ok(ProfileSet { frames, profiles })
}

fn fail(message: &str) -> ParseError {
    ParseError::at_byte(0, message.to_owned())
}

type Read = Result<(CallTreeBuilder, Vec<TimelineSample>, Unit), String>;

/// The column `key` of `table` as a list.
fn column<'a>(table: &'a Value, key: &str) -> Result<&'a [Value], String> {
    table
        .get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .ok_or_else(|| format!("no `{key}` column"))
}

fn index(value: &Value, what: &str, len: usize) -> Result<Option<usize>, String> {
    match value {
        Value::Null => Ok(None),
        v => match v.as_u64().map(|i| i as usize) {
            Some(i) if i < len => Ok(Some(i)),
            _ => Err(format!(
                "{what} {v} is past the end of its table ({len} rows)"
            )),
        },
    }
}

fn processed_thread(
    thread: &Value,
    shared_strings: Option<&Vec<Value>>,
    frames: &mut FrameTable,
) -> Read {
    let strings = thread
        .get("stringArray")
        .or_else(|| thread.get("stringTable"))
        .and_then(Value::as_array)
        .or(shared_strings)
        .ok_or("no string array")?;
    let string = |v: &Value| -> Option<&str> {
        v.as_u64()
            .and_then(|i| strings.get(i as usize))
            .and_then(Value::as_str)
    };
    let samples = thread.get("samples").ok_or("no `samples`")?;
    let stack_table = thread.get("stackTable").ok_or("no `stackTable`")?;
    let frame_table = thread.get("frameTable").ok_or("no `frameTable`")?;
    let func_table = thread.get("funcTable").ok_or("no `funcTable`")?;
    let (prefixes, stack_frames) = (
        column(stack_table, "prefix")?,
        column(stack_table, "frame")?,
    );
    let (frame_funcs, frame_lines) = (
        column(frame_table, "func")?,
        column(frame_table, "line").ok(),
    );
    let frame_addresses = column(frame_table, "address").ok();
    let (func_names, func_files) = (
        column(func_table, "name")?,
        column(func_table, "fileName").ok(),
    );

    // Each frame of the frame table as an obol frame, made when first met.
    let mut made: FxHashMap<usize, FrameId> = FxHashMap::default();
    let mut frame_of = |i: usize, frames: &mut FrameTable| -> Result<FrameId, String> {
        if let Some(&id) = made.get(&i) {
            return Ok(id);
        }
        let func = index(&frame_funcs[i], "a frame's function", func_names.len())?
            .ok_or("a frame without a function")?;
        let mut name = string(&func_names[func]).unwrap_or("").to_owned();
        if name.is_empty() {
            let address = frame_addresses
                .and_then(|a| a.get(i))
                .and_then(Value::as_i64);
            name = address.map_or_else(|| "(unknown)".into(), |a| format!("{a:#x}"));
        }
        let file = func_files.and_then(|f| f.get(func)).and_then(string);
        let line = frame_lines
            .and_then(|l| l.get(i))
            .and_then(Value::as_u64)
            .and_then(|l| u32::try_from(l).ok());
        let id = frames.intern(&name, file.filter(|f| !f.is_empty()), line);
        made.insert(i, id);
        Ok(id)
    };

    let weight_type = samples.get("weightType").and_then(Value::as_str);
    let unit = match weight_type {
        Some("tracing-ms") => Unit::Milliseconds,
        Some("bytes") => Unit::Bytes,
        _ => Unit::Samples,
    };
    let sample_stacks = column(samples, "stack")?;
    let weights = samples.get("weight").and_then(Value::as_array);
    let mut builder = CallTreeBuilder::new();
    let mut timeline = Vec::with_capacity(sample_stacks.len());
    // Stack table rows to tree nodes; a row's prefix comes before it.
    let mut nodes: Vec<Option<NodeId>> = vec![None; prefixes.len()];
    for (n, stack) in sample_stacks.iter().enumerate() {
        let Some(stack) = index(stack, "a sample's stack", prefixes.len())? else {
            continue;
        };
        let node = node_of(
            stack,
            &mut nodes,
            prefixes,
            |row| {
                let frame = index(&stack_frames[row], "a stack's frame", frame_funcs.len())?
                    .ok_or("a stack without a frame")?;
                frame_of(frame, frames)
            },
            &mut builder,
        )?;
        let weight = weights
            .and_then(|w| w.get(n))
            .and_then(Value::as_f64)
            .unwrap_or(1.0);
        if weight != 0.0 {
            builder.add_self(node, weight);
            timeline.push(TimelineSample { leaf: node, weight });
        }
    }
    Ok((builder, timeline, unit))
}

/// The tree node of stack-table row `row`, its prefixes made first (without recursion: a
/// stack can be deep).
fn node_of(
    row: usize,
    nodes: &mut [Option<NodeId>],
    prefixes: &[Value],
    mut frame: impl FnMut(usize) -> Result<FrameId, String>,
    builder: &mut CallTreeBuilder,
) -> Result<NodeId, String> {
    let mut chain = Vec::new();
    let mut at = Some(row);
    while let Some(r) = at {
        if let Some(node) = nodes[r] {
            chain.push((r, Some(node)));
            break;
        }
        if chain.len() > prefixes.len() {
            return Err("the stack table's prefixes run in a circle".into());
        }
        chain.push((r, None));
        at = index(&prefixes[r], "a stack's prefix", prefixes.len())?;
    }
    let mut parent = NodeId::ROOT;
    for &(r, known) in chain.iter().rev() {
        parent = match known {
            Some(node) => node,
            None => {
                let node = builder.child(parent, frame(r)?);
                nodes[r] = Some(node);
                node
            }
        };
    }
    Ok(parent)
}

/// `name (file:line)`, `name (file:line:column)` or `name (file)`, as Firefox writes locations.
fn split_location(location: &str) -> Option<(&str, &str, Option<u32>)> {
    let inner = location.strip_suffix(')')?;
    let (name, place) = inner.rsplit_once(" (")?;
    let mut parts = place.rsplitn(3, ':');
    let last = parts.next()?;
    match (last.parse::<u32>(), parts.next()) {
        (Ok(n), Some(before)) => match (before.parse::<u32>(), parts.next()) {
            (Ok(line), Some(file)) => Some((name.trim_end(), file, Some(line))),
            _ => Some((
                name.trim_end(),
                &place[..place.len() - last.len() - 1],
                Some(n),
            )),
        },
        _ => Some((name.trim_end(), place, None)),
    }
}

fn gecko_thread(thread: &Value, frames: &mut FrameTable, dropped: &mut usize) -> Read {
    let strings = thread
        .get("stringTable")
        .and_then(Value::as_array)
        .ok_or("no `stringTable`")?;
    let rows = |table: &str| -> Result<&Vec<Value>, String> {
        thread
            .pointer(&format!("/{table}/data"))
            .and_then(Value::as_array)
            .ok_or_else(|| format!("no `{table}.data`"))
    };
    let field = |table: &str, name: &str, default: usize| -> usize {
        thread
            .pointer(&format!("/{table}/schema/{name}"))
            .and_then(Value::as_u64)
            .map_or(default, |i| i as usize)
    };
    let (samples, stacks, frame_rows) =
        (rows("samples")?, rows("stackTable")?, rows("frameTable")?);
    let (sample_stack, sample_time) = (field("samples", "stack", 0), field("samples", "time", 1));
    let (stack_prefix, stack_frame) = (
        field("stackTable", "prefix", 0),
        field("stackTable", "frame", 1),
    );
    let frame_location = field("frameTable", "location", 0);
    let cell = |row: &Value, i: usize| row.get(i).cloned().unwrap_or(Value::Null);

    // Frame-table rows to obol frames; None for the frames speedscope leaves out.
    let mut made: FxHashMap<usize, Option<FrameId>> = FxHashMap::default();
    let mut frame_of = |i: usize,
                        frames: &mut FrameTable,
                        dropped: &mut usize|
     -> Result<Option<FrameId>, String> {
        if let Some(&known) = made.get(&i) {
            return Ok(known);
        }
        let row = frame_rows
            .get(i)
            .ok_or_else(|| format!("frame {i} is past the frame table"))?;
        let location = index(
            &cell(row, frame_location),
            "a frame's location",
            strings.len(),
        )?
        .and_then(|s| strings[s].as_str())
        .unwrap_or("");
        let id = match split_location(location) {
            Some((_, file, _)) if file.starts_with("resource:") || file == "self-hosted" => None,
            Some((name, file, line)) => Some(frames.intern(name, Some(file), line)),
            None => None,
        };
        if id.is_none() {
            *dropped += 1;
        }
        made.insert(i, id);
        Ok(id)
    };

    let mut builder = CallTreeBuilder::new();
    let mut timeline = Vec::with_capacity(samples.len());
    let mut stack_frames: Vec<FrameId> = Vec::new();
    // Each sample lasts until the next one; the last, whose end is unknown, weighs nothing.
    for pair in samples.windows(2) {
        let (sample, next) = (&pair[0], &pair[1]);
        let (Some(start), Some(end)) = (
            cell(sample, sample_time).as_f64(),
            cell(next, sample_time).as_f64(),
        ) else {
            return Err("a sample without a time".into());
        };
        stack_frames.clear();
        let mut at = index(
            &cell(sample, sample_stack),
            "a sample's stack",
            stacks.len(),
        )?;
        let mut depth = 0;
        while let Some(s) = at {
            depth += 1;
            if depth > stacks.len() {
                return Err("the stack table's prefixes run in a circle".into());
            }
            let row = &stacks[s];
            let frame = index(&cell(row, stack_frame), "a stack's frame", frame_rows.len())?
                .ok_or("a stack without a frame")?;
            if let Some(id) = frame_of(frame, frames, dropped)? {
                stack_frames.push(id);
            }
            at = index(&cell(row, stack_prefix), "a stack's prefix", stacks.len())?;
        }
        stack_frames.reverse();
        let weight = end - start;
        if weight > 0.0 {
            let leaf = builder.add_stack(&stack_frames, weight);
            timeline.push(TimelineSample { leaf, weight });
        }
    }
    Ok((builder, timeline, Unit::Milliseconds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::test_support::weights;

    /// The shape CPython 3.15's GeckoCollector writes: a shared string array, column tables.
    #[test]
    fn processed_threads_count_samples_in_order() {
        let text = r#"{"meta": {"interval": 1, "preprocessedProfileVersion": 57},
 "shared": {"stringArray": ["(root)", "main", "main.py", "work", ""]},
 "threads": [{"name": "MainThread", "tid": 7,
   "samples": {"stack": [1, 1, 0, 2, null], "time": [0, 1, 2, 3, 4], "weight": null, "weightType": "samples", "length": 5},
   "stackTable": {"frame": [0, 1, 2], "prefix": [null, 0, 0], "length": 3},
   "frameTable": {"func": [0, 1, 2], "line": [9, 4, null], "address": [-1, -1, 31], "length": 3},
   "funcTable": {"name": [1, 3, 4], "fileName": [2, 2, null], "length": 3}}]}"#;
        assert_eq!(sniff(text.as_bytes()), Sniff::Yes);
        let set = parse(text.as_bytes(), &mut Vec::new()).unwrap();
        assert_eq!(set.profiles[0].name, "MainThread (tid 7)");
        assert_eq!(set.profiles[0].unit, Unit::Samples);
        // main;work twice, main once, main;0x1f once (a frame with no symbol: its address).
        assert_eq!(
            weights(&set, 0),
            [
                ("0x1f".into(), 1.0, 1.0),
                ("main".into(), 1.0, 4.0),
                ("work".into(), 2.0, 2.0),
            ]
        );
        let timeline = set.profiles[0].timeline.as_ref().unwrap();
        assert_eq!(timeline.len(), 4);
    }

    #[test]
    fn locations_split_into_name_file_and_line() {
        assert_eq!(
            split_location("alpha (file:///x/recursion.js:1)"),
            Some(("alpha", "file:///x/recursion.js", Some(1)))
        );
        assert_eq!(
            split_location("f (http://h:8000/a.js:13:15)"),
            Some(("f", "http://h:8000/a.js", Some(13)))
        );
        assert_eq!(split_location("js::RunScript"), None);
    }
}
