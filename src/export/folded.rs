//! Folded stacks (`frame;frame;… count`), as py-spy's `--format raw` and inferno's collapsers
//! write them, for `inferno-flamegraph`, `flamegraph.pl` and speedscope.

use std::io::{self, Write};

use super::weighted_stacks;
use crate::profile::{Profile, ProfileSet, Unit};
use crate::text::escape_control;

/// How a profile's weights become the whole counts folded files hold (inferno drops fractions).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CountScale {
    /// Counts per unit of weight.
    pub factor: f64,
    /// What one count is, for the user.
    pub unit: &'static str,
}

/// Whole weights (samples) are written as they are; times as whole microseconds (nanoseconds
/// for a profile in nanoseconds), bytes as bytes.
pub fn count_scale(profiles: &[&Profile]) -> CountScale {
    let whole = profiles.iter().all(|p| {
        let tree = p.tree();
        tree.ids().all(|n| tree.self_weight(n).fract() == 0.0)
    });
    let unit = profiles.first().map_or(Unit::None, |p| p.unit);
    match unit.seconds_per_unit() {
        Some(_) if unit == Unit::Nanoseconds => CountScale {
            factor: 1.0,
            unit: "nanoseconds",
        },
        Some(seconds) if !whole => CountScale {
            factor: seconds * 1e6,
            unit: "microseconds",
        },
        _ => CountScale {
            factor: 1.0,
            unit: unit.as_str(),
        },
    }
}

/// Writes one line per stack with weight of its own. Frames read `name (file:line)` as py-spy
/// writes them. With several profiles (threads) each stack starts with its profile's name, so
/// that they stay apart.
pub fn write(
    out: &mut impl Write,
    set: &ProfileSet,
    profiles: &[&Profile],
    scale: CountScale,
) -> io::Result<()> {
    let named = profiles.len() > 1;
    let mut line = String::new();
    for profile in profiles {
        for (stack, weight) in weighted_stacks(profile.tree()) {
            let count = (weight * scale.factor).round();
            if count <= 0.0 {
                continue;
            }
            line.clear();
            let thread = named.then(|| frame_text(&profile.name));
            let frames = stack.iter().map(|f| frame_text(&set.describe_frame(*f)));
            for (i, text) in thread.into_iter().chain(frames).enumerate() {
                if i > 0 {
                    line.push(';');
                }
                line.push_str(&text);
            }
            // An empty stack is written as py-spy writes it: the count alone after a space.
            writeln!(out, "{line} {count:.0}")?;
        }
    }
    Ok(())
}

/// A frame's text, with what would break the line apart (a `;`, a newline, a control character)
/// escaped.
fn frame_text(text: &str) -> String {
    escape_control(text).replace(';', ":")
}
