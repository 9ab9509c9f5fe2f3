//! The profile embedded in the binary for `obol --demo`: a real py-spy recording of the
//! project's fixture program.

use std::io;
use std::path::{Path, PathBuf};

use crate::import::{self, LoadError, Loaded};

pub const DEMO_PROFILE: &[u8] = include_bytes!("../assets/demo.speedscope.json");
pub const DEMO_NAME: &str = "demo.speedscope.json";

/// The embedded demo profile, read as any file is.
pub fn load() -> Result<Loaded, LoadError> {
    import::load_bytes(Path::new(DEMO_NAME), DEMO_PROFILE)
}

/// The sources of the program the demo profile recorded (`fixtures/program/`), by their path
/// below the program's folder, so that `e` and Priority find them.
pub const DEMO_SOURCES: &[(&str, &str)] = &[
    ("main.py", include_str!("../fixtures/program/main.py")),
    (
        "shop/__init__.py",
        include_str!("../fixtures/program/shop/__init__.py"),
    ),
    (
        "shop/catalog.py",
        include_str!("../fixtures/program/shop/catalog.py"),
    ),
    (
        "shop/pricing.py",
        include_str!("../fixtures/program/shop/pricing.py"),
    ),
    (
        "shop/report.py",
        include_str!("../fixtures/program/shop/report.py"),
    ),
];

/// The demo program's sources written to a folder of their own, removed when dropped.
pub struct DemoSources {
    pub dir: PathBuf,
}

impl DemoSources {
    /// Writes the sources below a new folder in the system's temporary directory.
    pub fn write() -> io::Result<DemoSources> {
        let dir = std::env::temp_dir().join(format!("obol-demo-{}", std::process::id()));
        let sources = DemoSources { dir };
        for (path, text) in DEMO_SOURCES {
            let path = sources.dir.join(path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(path, text)?;
        }
        Ok(sources)
    }
}

impl Drop for DemoSources {
    fn drop(&mut self) {
        // Nothing better to do if it cannot be removed: it is in the temporary directory.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
