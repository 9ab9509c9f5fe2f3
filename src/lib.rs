//! obol: a terminal profile explorer for cProfile and py-spy output.
//!
//! The library holds everything; the binary only parses arguments and dispatches.

pub mod analysis;
pub mod cli;
pub mod demo;
pub mod export;
pub mod import;
pub mod live;
pub mod profile;
pub mod text;
pub mod tui;

/// A small deterministic generator for unit tests in any layer (random walks, mangled files),
/// so that a failure replays.
#[cfg(test)]
pub(crate) mod test_rng {
    pub fn lcg(state: &mut u64) -> u64 {
        *state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        *state >> 33
    }
}

/// What unit tests that need an outside tool (python3, py-spy, inferno) do without it.
#[cfg(test)]
pub(crate) mod test_env {
    /// A note on stderr locally; a failure under CI (`OBOL_REQUIRE_CORPUS=1` or `CI=true`),
    /// where every tool is installed and a skip would hide a check that never ran.
    pub fn skip(what: &str) {
        let required = std::env::var_os("OBOL_REQUIRE_CORPUS").is_some_and(|v| v != "0")
            || std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(!required, "required under CI but missing: {what}");
        eprintln!("skipped: {what}");
    }
}
