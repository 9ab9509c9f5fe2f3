//! The profile embedded in the binary for `obol --demo`: a real py-spy recording of the
//! project's fixture program.

use std::path::Path;

use crate::import::{self, LoadError, Loaded};

pub const DEMO_PROFILE: &[u8] = include_bytes!("../assets/demo.speedscope.json");
pub const DEMO_NAME: &str = "demo.speedscope.json";

/// The embedded demo profile, read as any file is.
pub fn load() -> Result<Loaded, LoadError> {
    import::load_bytes(Path::new(DEMO_NAME), DEMO_PROFILE)
}
