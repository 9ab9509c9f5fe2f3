//! Chrome DevTools' `.cpuprofile` (V8's CPU profile, also Node's `--cpu-prof`): a tree of
//! `nodes` with their call frames, the node each sample hit and the microseconds between
//! samples. Read as speedscope reads it: a sample lasts until the next; `(root)` and `(idle)`
//! are not frames; `(garbage collector)` and `(program)` sit on top of the stack before them.

use rustc_hash::FxHashMap;
use serde::Deserialize;

use super::{ParseError, Sniff};
use crate::profile::{
    CallTreeBuilder, FrameId, FrameTable, FunctionKey, Profile, ProfileSet, TimelineSample, Unit,
};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A JSON object opening with V8's `nodes` of call frames.
pub fn sniff(head: &[u8]) -> Sniff {
    let text = head.strip_prefix(BOM).unwrap_or(head).trim_ascii_start();
    if !text.starts_with(b"{") {
        return Sniff::No;
    }
    let has = |key: &[u8]| memchr::memmem::find(text, key).is_some();
    if has(b"\"nodes\"") && has(b"\"callFrame\"") {
        Sniff::Yes
    } else {
        Sniff::No
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct CpuProfile {
    nodes: Vec<Node>,
    #[serde(default)]
    samples: Vec<u64>,
    #[serde(default)]
    time_deltas: Vec<f64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Node {
    id: u64,
    call_frame: CallFrame,
    #[serde(default)]
    children: Vec<u64>,
    #[serde(default)]
    parent: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CallFrame {
    #[serde(default)]
    function_name: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    line_number: Option<i64>,
}

pub fn parse(bytes: &[u8], warnings: &mut Vec<String>) -> Result<ProfileSet, ParseError> {
    let has_bom = bytes.starts_with(BOM);
    let text = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let profile: CpuProfile =
        serde_json::from_slice(text).map_err(|e| super::speedscope::json_error(&e, has_bom))?;
    let mut frames = FrameTable::new(FunctionKey::NameFile);
    let profile = build(&profile, "CPU profile".to_owned(), &mut frames, warnings)
        .map_err(|m| ParseError::at_byte(0, m))?;
    Ok(ProfileSet {
        frames,
        profiles: vec![profile],
    })
}

/// V8's profiles inside a Chrome trace (the Performance panel's recordings): a `Profile` event
/// opens one, keyed by its `id` (else its pid and tid), and the `ProfileChunk`s of that key add
/// nodes, samples and time deltas to it, in time order; an older `CpuProfile` event holds a
/// whole one. Read as speedscope reads them.
#[derive(Default)]
pub(super) struct TraceProfiles {
    /// (key, pid, tid, profile), in the order they were opened.
    profiles: Vec<(String, String, String, CpuProfile)>,
    ignored_chunks: usize,
}

/// What a trace's `Profile`, `ProfileChunk` or `CpuProfile` event carries in `args.data`.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ProfileData {
    #[serde(default)]
    cpu_profile: Option<ChunkProfile>,
    #[serde(default)]
    time_deltas: Vec<f64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ChunkProfile {
    #[serde(default)]
    nodes: Vec<Node>,
    #[serde(default)]
    samples: Vec<u64>,
    #[serde(default)]
    time_deltas: Vec<f64>,
}

#[derive(Deserialize, Default)]
struct ProfileArgs {
    #[serde(default)]
    data: Option<ProfileData>,
}

impl TraceProfiles {
    /// Whether an event of this name belongs to a V8 profile.
    pub(super) fn is_profile_event(name: &str) -> bool {
        matches!(name, "Profile" | "ProfileChunk" | "CpuProfile")
    }

    /// Takes one such event, events being given in time order.
    pub(super) fn add(
        &mut self,
        name: &str,
        (pid, tid): (String, String),
        id: Option<String>,
        args: Option<&str>,
    ) -> Result<(), String> {
        let args: ProfileArgs = match args {
            Some(a) => {
                serde_json::from_str(a).map_err(|e| format!("a {name} event's args: {e}"))?
            }
            None => ProfileArgs::default(),
        };
        let data = args.data.unwrap_or_default();
        let key = id.unwrap_or_else(|| format!("{pid}:{tid}"));
        match name {
            "Profile" | "CpuProfile" => {
                let whole = data.cpu_profile.unwrap_or_default();
                let profile = CpuProfile {
                    nodes: whole.nodes,
                    samples: whole.samples,
                    time_deltas: if whole.time_deltas.is_empty() {
                        data.time_deltas
                    } else {
                        whole.time_deltas
                    },
                };
                // A profile opened again under its key starts afresh, as speedscope's map does.
                self.profiles.retain(|p| p.0 != key);
                self.profiles.push((key, pid, tid, profile));
            }
            _ => match self.profiles.iter_mut().find(|p| p.0 == key) {
                Some((.., profile)) => {
                    if let Some(chunk) = data.cpu_profile {
                        profile.nodes.extend(chunk.nodes);
                        profile.samples.extend(chunk.samples);
                    }
                    profile.time_deltas.extend(data.time_deltas);
                }
                None => self.ignored_chunks += 1,
            },
        }
        Ok(())
    }

    pub(super) fn is_empty(&self) -> bool {
        self.profiles.is_empty()
    }

    /// One profile per V8 profile, named by its thread.
    pub(super) fn finish(
        self,
        frames: &mut FrameTable,
        thread_name: impl Fn(&str, &str) -> Option<String>,
        warnings: &mut Vec<String>,
    ) -> Result<Vec<Profile>, String> {
        if self.ignored_chunks > 0 {
            warnings.push(format!(
                "{} ProfileChunk event{} for no Profile before {} passed over",
                self.ignored_chunks,
                if self.ignored_chunks == 1 { "" } else { "s" },
                if self.ignored_chunks == 1 {
                    "it"
                } else {
                    "them"
                },
            ));
        }
        let several = self.profiles.len() > 1;
        self.profiles
            .into_iter()
            .map(|(key, pid, tid, profile)| {
                let name = match thread_name(&pid, &tid) {
                    Some(t) if several => format!("{t} (pid {pid}, tid {tid}, profile {key})"),
                    Some(t) => format!("{t} (pid {pid}, tid {tid})"),
                    None => format!("CPU profile {key} (pid {pid}, tid {tid})"),
                };
                build(&profile, name.clone(), frames, warnings).map_err(|m| format!("{name}: {m}"))
            })
            .collect()
    }
}

/// One V8 profile as speedscope reads it.
fn build(
    profile: &CpuProfile,
    name: String,
    frames: &mut FrameTable,
    warnings: &mut Vec<String>,
) -> Result<Profile, String> {
    if profile.time_deltas.len() != profile.samples.len() {
        return Err(format!(
            "{} samples but {} time deltas",
            profile.samples.len(),
            profile.time_deltas.len()
        ));
    }
    let by_id: FxHashMap<u64, usize> = profile
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id, i))
        .collect();
    let mut parent: Vec<Option<usize>> = profile
        .nodes
        .iter()
        .map(|n| n.parent.and_then(|p| by_id.get(&p).copied()))
        .collect();
    for (i, node) in profile.nodes.iter().enumerate() {
        for child in &node.children {
            if let Some(&c) = by_id.get(child) {
                parent[c] = Some(i);
            }
        }
    }

    let frame_ids: Vec<FrameId> = profile
        .nodes
        .iter()
        .map(|n| {
            let f = &n.call_frame;
            let line = f
                .line_number
                .and_then(|l| u32::try_from(l + 1).ok())
                .filter(|&l| l > 0);
            let file = (!f.url.is_empty()).then_some(f.url.as_str());
            let name = match (f.function_name.as_str(), file) {
                ("", Some(url)) => format!(
                    "(anonymous {}:{})",
                    url.rsplit('/').next().unwrap_or(url),
                    line.map_or_else(String::new, |l| l.to_string())
                ),
                ("", None) => "(anonymous)".to_owned(),
                (name, _) => name.to_owned(),
            };
            frames.intern(&name, file, line)
        })
        .collect();
    let ignored = |i: usize| {
        let f = &profile.nodes[i].call_frame;
        f.url == "native dummy.js" || f.function_name == "(root)" || f.function_name == "(idle)"
    };
    let on_top = |i: usize| {
        let name = profile.nodes[i].call_frame.function_name.as_str();
        name == "(garbage collector)" || name == "(program)"
    };

    // Sample times: the first delta counts from the profile's start; a negative delta holds the
    // clock where it was.
    let mut times = Vec::with_capacity(profile.samples.len());
    let mut clock = 0.0_f64;
    let mut last_valid = f64::MIN;
    for &delta in &profile.time_deltas {
        clock += delta;
        last_valid = last_valid.max(clock);
        times.push(last_valid);
    }

    let mut builder = CallTreeBuilder::new();
    let mut timeline = Vec::with_capacity(profile.samples.len());
    // The previous sample's stack, as node indices root first.
    let mut previous: Vec<usize> = Vec::new();
    let mut stack: Vec<usize> = Vec::new();
    let mut frame_stack: Vec<FrameId> = Vec::new();
    // Samples of nodes the profile lacks (a recording cut short keeps samples of nodes sent
    // in an earlier chunk): their time is not counted, and said.
    let (mut lost, mut lost_weight) = (0usize, 0.0);
    for (n, id) in profile.samples.iter().enumerate() {
        let weight = times.get(n + 1).map_or(0.0, |next| next - times[n]);
        let Some(&node) = by_id.get(id) else {
            lost += 1;
            lost_weight += weight;
            continue;
        };
        stack.clear();
        if on_top(node) {
            if previous.last() != Some(&node) {
                stack.extend_from_slice(&previous);
                stack.push(node);
            } else {
                stack.extend_from_slice(&previous);
            }
        } else {
            let mut at = Some(node);
            let mut depth = 0;
            while let Some(i) = at {
                depth += 1;
                if depth > profile.nodes.len() {
                    return Err("the nodes' parents run in a circle".into());
                }
                if !ignored(i) {
                    stack.push(i);
                }
                at = parent[i];
            }
            stack.reverse();
        }
        if weight > 0.0 {
            frame_stack.clear();
            frame_stack.extend(stack.iter().map(|&i| frame_ids[i]));
            let leaf = builder.add_stack(&frame_stack, weight);
            timeline.push(TimelineSample { leaf, weight });
        }
        std::mem::swap(&mut previous, &mut stack);
    }
    if lost > 0 {
        warnings.push(format!(
            "{name}: {lost} sample{} of nodes the profile lacks ({lost_weight} µs) not counted",
            if lost == 1 { "" } else { "s" }
        ));
    }
    let mut out = Profile::from_tree(name, Unit::Microseconds, builder.finish());
    out.timeline = Some(timeline);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::test_support::function_named;

    #[test]
    fn samples_last_until_the_next_and_gc_sits_on_the_stack_before_it() {
        // root → main → work; (garbage collector) under root. Samples: work, work, gc, main.
        let text = r#"{"nodes": [
  {"id": 1, "callFrame": {"functionName": "(root)", "url": "", "lineNumber": -1}, "children": [2, 4]},
  {"id": 2, "callFrame": {"functionName": "main", "url": "file:///a.js", "lineNumber": 0}, "children": [3]},
  {"id": 3, "callFrame": {"functionName": "work", "url": "file:///a.js", "lineNumber": 4}},
  {"id": 4, "callFrame": {"functionName": "(garbage collector)", "url": "", "lineNumber": -1}}],
 "startTime": 0, "endTime": 100, "samples": [3, 3, 4, 2], "timeDeltas": [5, 10, 20, 7]}"#;
        assert_eq!(sniff(text.as_bytes()), Sniff::Yes);
        let set = parse(text.as_bytes(), &mut Vec::new()).unwrap();
        let p = &set.profiles[0];
        // work 5→15→35 (30), gc 35→42 (7) on top of main;work, main last: no end, no weight.
        assert_eq!(p.total, 37.0);
        let tree = p.tree();
        let names = |n| {
            tree.stack(n)
                .iter()
                .map(|&f| set.frames.frame(f).name.to_owned())
                .collect::<Vec<_>>()
                .join(";")
        };
        let mut leaves: Vec<(String, f64)> = tree
            .ids()
            .filter(|&n| tree.self_weight(n) > 0.0)
            .map(|n| (names(n), tree.self_weight(n)))
            .collect();
        leaves.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            leaves,
            [
                ("main;work".into(), 30.0),
                ("main;work;(garbage collector)".into(), 7.0)
            ]
        );
        let work = function_named(&set, "work");
        assert_eq!(work.line, Some(5));
    }
}
