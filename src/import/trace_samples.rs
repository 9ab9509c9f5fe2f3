//! The sampled half of the Trace Event Format: a trace object's `samples` (each naming its
//! thread, its time and the innermost entry `sf` of its stack) and `stackFrames` (entries with a
//! name and the `parent` each hangs from), as Hermes and Chrome's tracing write them.
//!
//! Read as speedscope reads them: one profile per (pid, tid) that has samples, in the file's
//! order; each sample lasts until the next of its thread (microseconds), the last of a thread has
//! no length; the stack is the entry and its parents, outermost first.

use rustc_hash::FxHashMap;
use serde::Deserialize;

use super::trace_event::Id;
use crate::profile::{CallTreeBuilder, FrameId, FrameTable, Profile, TimelineSample, Unit};

#[derive(Deserialize)]
pub(super) struct Sample {
    #[serde(default)]
    pid: Option<Id>,
    #[serde(default)]
    tid: Option<Id>,
    #[serde(default, deserialize_with = "super::trace_event::lenient_number")]
    ts: Option<f64>,
    sf: Id,
}

#[derive(Deserialize)]
pub(super) struct StackFrame {
    #[serde(default)]
    name: String,
    #[serde(default)]
    parent: Option<Id>,
}

/// A thread's samples: its pid and tid as the file spells them, and the samples' indices.
type Threads = Vec<((String, String), Vec<usize>)>;

/// One profile per thread with samples; `name_of` names a thread from its pid and tid.
pub(super) fn profiles(
    samples: &[Sample],
    stack_frames: &FxHashMap<String, StackFrame>,
    frames: &mut FrameTable,
    name_of: impl Fn(&str, &str) -> String,
) -> Result<Vec<Profile>, String> {
    let mut threads: Threads = Vec::new();
    let mut index: FxHashMap<(String, String), usize> = FxHashMap::default();
    for (i, sample) in samples.iter().enumerate() {
        let key = (
            sample
                .pid
                .as_ref()
                .map_or_else(|| "0".into(), Id::to_string),
            sample
                .tid
                .as_ref()
                .map_or_else(|| "0".into(), Id::to_string),
        );
        let at = *index.entry(key.clone()).or_insert_with(|| {
            threads.push((key, Vec::new()));
            threads.len() - 1
        });
        threads[at].1.push(i);
    }
    // Interned once per stack entry, whatever the number of samples through it.
    let mut frame_of: FxHashMap<&str, FrameId> = FxHashMap::default();
    let mut stack: Vec<FrameId> = Vec::new();
    let mut out = Vec::with_capacity(threads.len());
    for ((pid, tid), members) in threads {
        let name = name_of(&pid, &tid);
        let mut builder = CallTreeBuilder::new();
        let mut timeline = Vec::with_capacity(members.len());
        for (n, &i) in members.iter().enumerate() {
            let sample = &samples[i];
            let Some(ts) = sample.ts.filter(|t| t.is_finite()) else {
                return Err(format!("{name}: sample {i} has no time (`ts`)"));
            };
            let next = members
                .get(n + 1)
                .and_then(|&j| samples[j].ts)
                .filter(|t| t.is_finite());
            let weight = next.map_or(0.0, |next| next - ts);
            if weight <= 0.0 {
                continue;
            }
            stack.clear();
            let mut at = Some(&sample.sf);
            while let Some(id) = at.filter(|id| !is_zero(id)) {
                let key = id.to_string();
                let Some((key, entry)) = stack_frames.get_key_value(key.as_str()) else {
                    return Err(format!(
                        "{name}: sample {i} reaches stack frame {id}, which `stackFrames` lacks"
                    ));
                };
                if stack.len() >= stack_frames.len() {
                    return Err(format!(
                        "{name}: the parents of stack frame {} run in a circle",
                        sample.sf
                    ));
                }
                let frame = *frame_of
                    .entry(key.as_str())
                    .or_insert_with(|| frames.intern(&entry.name, None, None));
                stack.push(frame);
                at = entry.parent.as_ref();
            }
            stack.reverse();
            let leaf = builder.add_stack(&stack, weight);
            timeline.push(TimelineSample { leaf, weight });
        }
        let mut profile = Profile::from_tree(name, Unit::Microseconds, builder.finish());
        profile.timeline = Some(timeline);
        out.push(profile);
    }
    Ok(out)
}

/// A parent of 0 is none, as speedscope's `while (parent)` reads it.
fn is_zero(id: &Id) -> bool {
    match id {
        Id::Number(n) => *n == 0,
        Id::Text(t) => t.is_empty() || t == "0",
    }
}
