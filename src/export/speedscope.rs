//! speedscope's file format (https://www.speedscope.app/file-format-schema.json): one profile per
//! obol profile. Where the source recorded timed open/close events (speedscope's evented
//! profiles, Chrome trace events) an evented profile, the events replayed from the timeline;
//! otherwise a sampled one, its samples in recorded order where the file kept one (so Time Order
//! shows what it showed), else one sample per stack with weight of its own.
//!
//! The events' times are the source's running time with the stretches where nothing was open
//! left out (obol's model does not keep them): every frame keeps its duration, and speedscope
//! reads the same weights back.

use std::io::{self, Write};

use serde::Serialize;

use super::weighted_stacks;
use crate::profile::{NodeId, Profile, ProfileSet, TimelineSample, Unit};

#[derive(Serialize)]
struct File<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    name: &'a str,
    exporter: String,
    #[serde(rename = "activeProfileIndex")]
    active_profile_index: usize,
    shared: Shared<'a>,
    profiles: Vec<Written<'a>>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Written<'a> {
    Sampled(Sampled<'a>),
    Evented(Evented<'a>),
}

#[derive(Serialize)]
struct Evented<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    name: &'a str,
    unit: &'static str,
    #[serde(rename = "startValue")]
    start_value: f64,
    #[serde(rename = "endValue")]
    end_value: f64,
    events: Vec<Event>,
}

#[derive(Serialize)]
struct Event {
    #[serde(rename = "type")]
    kind: &'static str,
    at: f64,
    frame: u32,
}

#[derive(Serialize)]
struct Shared<'a> {
    frames: Vec<Frame<'a>>,
}

#[derive(Serialize)]
struct Frame<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u32>,
}

#[derive(Serialize)]
struct Sampled<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    name: &'a str,
    unit: &'static str,
    #[serde(rename = "startValue")]
    start_value: f64,
    #[serde(rename = "endValue")]
    end_value: f64,
    samples: Vec<Vec<u32>>,
    weights: Vec<f64>,
}

/// speedscope knows no "samples" unit: counts are `none`.
fn unit_name(unit: Unit) -> &'static str {
    match unit {
        Unit::Samples => "none",
        other => other.as_str(),
    }
}

pub fn write(
    out: &mut impl Write,
    name: &str,
    set: &ProfileSet,
    profiles: &[&Profile],
) -> io::Result<()> {
    let frames = set
        .frames
        .frames()
        .map(|f| Frame {
            name: f.name,
            file: f.file,
            line: f.line,
        })
        .collect();
    let profiles = profiles
        .iter()
        .map(|p| match &p.timeline {
            Some(timeline) if p.evented => Written::Evented(evented(p, timeline)),
            _ => Written::Sampled(sampled(p)),
        })
        .collect();
    let file = File {
        schema: "https://www.speedscope.app/file-format-schema.json",
        name,
        exporter: format!("obol {}", env!("CARGO_PKG_VERSION")),
        active_profile_index: 0,
        shared: Shared { frames },
        profiles,
    };
    serde_json::to_writer(&mut *out, &file)?;
    writeln!(out)
}

fn sampled(profile: &Profile) -> Sampled<'_> {
    let tree = profile.tree();
    let index = |stack: Vec<crate::profile::FrameId>| stack.iter().map(|f| f.0).collect();
    let (samples, weights): (Vec<Vec<u32>>, Vec<f64>) = match &profile.timeline {
        Some(timeline) => timeline
            .iter()
            .map(|s| (index(tree.stack(s.leaf)), s.weight))
            .unzip(),
        None => weighted_stacks(tree)
            .map(|(stack, weight)| (index(stack), weight))
            .unzip(),
    };
    let total: f64 = weights.iter().sum();
    let start = profile.start_value.unwrap_or(0.0);
    Sampled {
        kind: "sampled",
        name: &profile.name,
        unit: unit_name(profile.unit),
        start_value: start,
        end_value: profile.end_value.unwrap_or(start + total),
        samples,
        weights,
    }
}

/// The events that replay `timeline`: between two samples, the frames of the old stack that
/// the new one does not share close (innermost first) and the new ones open; each sample lasts
/// its weight. A sample at the root (nothing open) is a stretch where every frame is closed.
fn evented<'a>(profile: &'a Profile, timeline: &[TimelineSample]) -> Evented<'a> {
    let tree = profile.tree();
    let start = profile.start_value.unwrap_or(0.0);
    let mut at = start;
    let mut events = Vec::new();
    let mut open: Vec<NodeId> = Vec::new();
    let mut path: Vec<NodeId> = Vec::new();
    let frame_of = |node: NodeId| tree.frame(node).map_or(0, |f| f.0);
    for sample in timeline {
        path.clear();
        let mut node = Some(sample.leaf);
        while let Some(n) = node.filter(|&n| n != NodeId::ROOT) {
            path.push(n);
            node = tree.parent(n);
        }
        path.reverse();
        let shared = open.iter().zip(&path).take_while(|(a, b)| a == b).count();
        for node in open.drain(shared..).rev() {
            events.push(Event {
                kind: "C",
                at,
                frame: frame_of(node),
            });
        }
        for &node in &path[shared..] {
            events.push(Event {
                kind: "O",
                at,
                frame: frame_of(node),
            });
            open.push(node);
        }
        at += sample.weight;
    }
    while let Some(node) = open.pop() {
        events.push(Event {
            kind: "C",
            at,
            frame: frame_of(node),
        });
    }
    Evented {
        kind: "evented",
        name: &profile.name,
        unit: unit_name(profile.unit),
        start_value: start,
        end_value: at,
        events,
    }
}
