//! The factors' weights: the seed document's, or the user's `--weights`.

use serde::Serialize;

/// The factors' nominal weights.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Weights {
    pub time: f64,
    pub coupling: f64,
    pub complexity: f64,
    pub memory: f64,
    pub calls: f64,
}

impl Default for Weights {
    /// The seed document's weights.
    fn default() -> Self {
        Weights {
            time: 0.40,
            coupling: 0.30,
            complexity: 0.15,
            memory: 0.10,
            calls: 0.05,
        }
    }
}

impl Weights {
    /// Parses `time=0.5,coupling=0.2`: the factors named replace the seed's weights.
    pub fn parse(spec: &str) -> Result<Weights, String> {
        let mut weights = Weights::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| format!("`{part}` is not FACTOR=WEIGHT"))?;
            let value: f64 = value
                .trim()
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| {
                    format!(
                        "weight of `{}` must be a number ≥ 0, not `{value}`",
                        key.trim()
                    )
                })?;
            let slot = match key.trim() {
                "time" => &mut weights.time,
                "coupling" => &mut weights.coupling,
                "complexity" => &mut weights.complexity,
                "memory" => &mut weights.memory,
                "calls" => &mut weights.calls,
                other => {
                    return Err(format!(
                        "unknown factor `{other}` (the factors are time, coupling, complexity, memory, calls)"
                    ));
                }
            };
            *slot = value;
        }
        if weights.as_array().iter().all(|w| *w == 0.0) {
            return Err("all weights are zero".into());
        }
        Ok(weights)
    }

    pub(super) fn as_array(&self) -> [f64; 5] {
        [
            self.time,
            self.coupling,
            self.complexity,
            self.memory,
            self.calls,
        ]
    }
}
