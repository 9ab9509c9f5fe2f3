//! The unit a profile's weights are in, carried from the file.

use std::fmt;

/// The unit of every weight in a [`crate::profile::Profile`].
///
/// Kept as the file states it rather than converted, so that numbers printed by obol can be
/// compared with the tool that wrote the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unit {
    Seconds,
    Milliseconds,
    Microseconds,
    Nanoseconds,
    Samples,
    Bytes,
    None,
}

impl Unit {
    /// The name used in JSON output and speedscope files.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Seconds => "seconds",
            Unit::Milliseconds => "milliseconds",
            Unit::Microseconds => "microseconds",
            Unit::Nanoseconds => "nanoseconds",
            Unit::Samples => "samples",
            Unit::Bytes => "bytes",
            Unit::None => "none",
        }
    }

    /// Parses a speedscope `unit` value.
    pub fn from_speedscope(name: &str) -> Option<Unit> {
        Some(match name {
            "seconds" => Unit::Seconds,
            "milliseconds" => Unit::Milliseconds,
            "microseconds" => Unit::Microseconds,
            "nanoseconds" => Unit::Nanoseconds,
            "samples" => Unit::Samples,
            "bytes" => Unit::Bytes,
            "none" => Unit::None,
            _ => return None,
        })
    }

    /// Seconds in one unit of weight, for the units of time.
    pub fn seconds_per_unit(self) -> Option<f64> {
        match self {
            Unit::Seconds => Some(1.0),
            Unit::Milliseconds => Some(1e-3),
            Unit::Microseconds => Some(1e-6),
            Unit::Nanoseconds => Some(1e-9),
            Unit::Samples | Unit::Bytes | Unit::None => None,
        }
    }

    /// Formats a weight for a table cell: time with a sensible suffix, counts as integers.
    pub fn format_weight(self, weight: f64) -> String {
        match self {
            Unit::Seconds => format!("{weight:.3}s"),
            Unit::Milliseconds => format!("{weight:.2}ms"),
            Unit::Microseconds => format!("{weight:.0}µs"),
            Unit::Nanoseconds => format!("{weight:.0}ns"),
            Unit::Bytes => format_bytes(weight),
            Unit::Samples | Unit::None => {
                if weight.fract() == 0.0 {
                    format!("{weight:.0}")
                } else {
                    format!("{weight:.2}")
                }
            }
        }
    }
}

fn format_bytes(bytes: f64) -> String {
    const STEPS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes;
    let mut step = 0;
    while value.abs() >= 1024.0 && step + 1 < STEPS.len() {
        value /= 1024.0;
        step += 1;
    }
    if step == 0 {
        format!("{value:.0}B")
    } else {
        format!("{value:.1}{}", STEPS[step])
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speedscope_names_round_trip() {
        for unit in [
            Unit::Seconds,
            Unit::Milliseconds,
            Unit::Microseconds,
            Unit::Nanoseconds,
            Unit::Samples,
            Unit::Bytes,
            Unit::None,
        ] {
            assert_eq!(Unit::from_speedscope(unit.as_str()), Some(unit));
        }
        assert_eq!(Unit::from_speedscope("fortnights"), None);
    }

    #[test]
    fn bytes_scale_by_1024() {
        assert_eq!(Unit::Bytes.format_weight(512.0), "512B");
        assert_eq!(Unit::Bytes.format_weight(1536.0), "1.5KiB");
        assert_eq!(Unit::Bytes.format_weight(3.0 * 1024.0 * 1024.0), "3.0MiB");
    }
}
