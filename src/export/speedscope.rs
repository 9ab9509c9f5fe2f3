//! speedscope's file format (https://www.speedscope.app/file-format-schema.json): one sampled
//! profile per obol profile, its samples in recorded order where the file kept one (so Time
//! Order shows what it showed), else one sample per stack with weight of its own.

use std::io::{self, Write};

use serde::Serialize;

use super::weighted_stacks;
use crate::profile::{Profile, ProfileSet, Unit};

#[derive(Serialize)]
struct File<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    name: &'a str,
    exporter: String,
    #[serde(rename = "activeProfileIndex")]
    active_profile_index: usize,
    shared: Shared<'a>,
    profiles: Vec<Sampled<'a>>,
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
        .iter()
        .map(|f| Frame {
            name: &f.name,
            file: f.file.as_deref(),
            line: f.line,
        })
        .collect();
    let profiles = profiles.iter().map(|p| sampled(p)).collect();
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
