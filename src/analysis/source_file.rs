//! Where the source file a profile names is on this machine: as recorded, under a
//! `--source-root`, or (a relative standard-library path, as py-spy writes them) in the library
//! of the `python3` on PATH. The editor handoff (`e`), the Source pane and `obol source` all
//! look here.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Where the file a profile names is on this machine: as written, under a source root, or (for
/// py-spy's relative standard-library paths, `json/encoder.py`) in the standard library of the
/// `python3` on PATH.
pub fn resolve_source(file: &str, source_roots: &[PathBuf]) -> Option<PathBuf> {
    if let Some(found) = crate::analysis::modules::find_source(file, source_roots) {
        return Some(found);
    }
    let path = Path::new(file);
    if path.is_file() {
        return Some(path.to_path_buf());
    }
    // Relative as py-spy writes it, or absolute in another machine's library
    // (`/root/.pyenv/versions/3.11.7/lib/python3.11/json/encoder.py`).
    let in_library = if path.is_relative() {
        Some(file)
    } else {
        library_tail(file)
    };
    let tail = in_library.filter(|t| crate::analysis::stdlib::is_relative_stdlib_path(t))?;
    let found = python_stdlib()?.join(tail);
    found.is_file().then_some(found)
}

/// The part of a path below `lib/pythonX.Y/`, if it has one.
fn library_tail(file: &str) -> Option<&str> {
    let at = file.find("/lib/python")? + "/lib/python".len();
    let rest = &file[at..];
    let version_end = rest.find('/')?;
    rest[..version_end]
        .chars()
        .all(|c| c.is_ascii_digit() || c == '.')
        .then(|| &rest[version_end + 1..])
}

/// The standard library directory of `python3`, asked once.
fn python_stdlib() -> Option<&'static Path> {
    static STDLIB: OnceLock<Option<PathBuf>> = OnceLock::new();
    STDLIB
        .get_or_init(|| {
            let out = Command::new("python3")
                .args([
                    "-c",
                    "import sysconfig; print(sysconfig.get_paths()['stdlib'])",
                ])
                .stdin(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .output()
                .ok()?;
            let text = String::from_utf8(out.stdout).ok()?;
            let dir = PathBuf::from(text.trim());
            (out.status.success() && dir.is_dir()).then_some(dir)
        })
        .as_deref()
}

#[cfg(test)]
mod tests {
    use super::resolve_source;

    /// py-spy writes standard-library paths relative to sys.path: `e` finds them in the
    /// library of the `python3` on PATH (where there is one).
    #[test]
    fn relative_standard_library_paths_resolve_to_the_interpreters_sources() {
        if std::process::Command::new("python3")
            .arg("-V")
            .output()
            .is_err()
        {
            eprintln!("SKIPPED: no python3");
            return;
        }
        let found = resolve_source("json/encoder.py", &[]).expect("json/encoder.py found");
        assert!(
            found.is_absolute() && found.ends_with("json/encoder.py"),
            "{found:?}"
        );
        let text = std::fs::read_to_string(&found).unwrap();
        assert!(text.contains("class JSONEncoder"));
        // Another machine's interpreter: the same module here.
        let other = "/root/.pyenv/versions/3.9.1/lib/python3.9/json/encoder.py";
        if !std::path::Path::new(other).exists() {
            assert_eq!(resolve_source(other, &[]), Some(found));
        }
        // A project path relative to nothing known is not guessed.
        assert_eq!(resolve_source("shop/no_such_module.py", &[]), None);
    }
}
