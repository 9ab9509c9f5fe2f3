//! Where a function lives, said briefly: the standard library as `json/encoder.py`, an installed
//! package as `requests/api.py`, the project's files relative to the directory they share.

use crate::profile::FrameTable;

/// The directory every project file of `frames` lies in (absolute, ending in `/`), if they
/// share one below `/`. Library files and built-ins take no part. A profile that also names
/// project files relatively (cProfile writes the script as `main.py`, its imports in full) was
/// run from above that directory: the root is then one level up, so that `shop/pricing.py`
/// keeps its package beside `main.py`.
pub fn project_root(frames: &FrameTable) -> Option<String> {
    let mut root: Option<&str> = None;
    let mut relative = false;
    for f in frames.functions() {
        let Some(file) = f.file else {
            continue;
        };
        if !file.starts_with('/') {
            relative |= !file.is_empty()
                && file != "~"
                && !file.starts_with('<')
                && !crate::analysis::stdlib::is_relative_stdlib_path(file);
            continue;
        }
        if library_tail(file).is_some() {
            continue;
        }
        let dir = &file[..=file.rfind('/').unwrap_or(0)];
        root = Some(match root {
            None => dir,
            Some(r) => common_dir(r, dir),
        });
    }
    let root = match root {
        // Files in `/` itself, named beside relative ones (pyinstrument's sessions do), have no
        // directory above theirs: no root.
        Some(r) if relative => {
            let parent = &r[..r.len().saturating_sub(1)];
            &parent[..=parent.rfind('/')?]
        }
        Some(r) => r,
        None => return None,
    };
    (root != "/").then(|| root.to_owned())
}

/// The longest directory (ending in `/`) both `a` and `b` start with.
fn common_dir<'a>(a: &'a str, b: &str) -> &'a str {
    let shared = a
        .char_indices()
        .zip(b.chars())
        .take_while(|((_, x), y)| x == y)
        .last()
        .map_or(0, |((at, c), _)| at + c.len_utf8());
    let end = a[..shared].rfind('/').map_or(0, |at| at + 1);
    &a[..end]
}

/// The part of an installed or standard-library path below its library directory:
/// `…/site-packages/requests/api.py` → `requests/api.py`,
/// `/usr/lib/python3.11/json/encoder.py` → `json/encoder.py`.
pub fn library_tail(file: &str) -> Option<&str> {
    for marker in ["/site-packages/", "/dist-packages/"] {
        if let Some(at) = file.rfind(marker) {
            return Some(&file[at + marker.len()..]);
        }
    }
    let at = file.find("/lib/python")? + "/lib/python".len();
    let rest = &file[at..];
    let version_end = rest.find('/')?;
    (rest[..version_end].starts_with(|c: char| c.is_ascii_digit())
        && rest[..version_end]
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.'))
    .then(|| &rest[version_end + 1..])
}

/// `file` as the status line and tables show it: a library path from its library directory,
/// a project path from `root` ([`project_root`]), anything else as written.
pub fn short_file<'a>(file: &'a str, root: Option<&str>) -> &'a str {
    if let Some(tail) = library_tail(file) {
        return tail;
    }
    match root {
        Some(root) if file.len() > root.len() => file.strip_prefix(root).unwrap_or(file),
        _ => file,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::FunctionKey;

    #[test]
    fn library_paths_are_cut_at_their_library() {
        let encoder = "/home/me/.pyenv/versions/3.11.7/lib/python3.11/json/encoder.py";
        assert_eq!(short_file(encoder, None), "json/encoder.py");
        assert_eq!(
            short_file(
                "/srv/venv/lib/python3.12/site-packages/requests/api.py",
                None
            ),
            "requests/api.py"
        );
        assert_eq!(
            short_file("/usr/lib/python3/dist-packages/yaml/main.py", None),
            "yaml/main.py"
        );
        assert_eq!(short_file("shop/pricing.py", None), "shop/pricing.py");
        assert_eq!(
            short_file("<frozen importlib._bootstrap>", None),
            "<frozen importlib._bootstrap>"
        );
        // A directory named like a library without a version is a project's.
        assert_eq!(
            short_file("/srv/lib/pythonic/x.py", None),
            "/srv/lib/pythonic/x.py"
        );
    }

    #[test]
    fn files_in_the_root_beside_relative_ones_have_no_root() {
        // `obol summary fixtures/program.pyisession` panicked here.
        for files in [
            ["/x.py", "main.py"],
            ["/a/x.py", "main.py"],
            ["/x.py", "/y.py"],
        ] {
            let mut frames = FrameTable::new(FunctionKey::NameFile);
            for (i, file) in files.iter().enumerate() {
                frames.intern(&format!("f{i}"), Some(file), Some(1));
            }
            assert_eq!(project_root(&frames), None, "{files:?}");
        }
    }

    #[test]
    fn project_files_are_shown_from_the_directory_they_share() {
        let mut frames = FrameTable::new(FunctionKey::NameFile);
        for (name, file) in [
            ("main", "/tmp/app/main.py"),
            ("price", "/tmp/app/shop/pricing.py"),
            ("encode", "/usr/lib/python3.11/json/encoder.py"),
            ("helper", "/tmp/apple/x.py"),
            ("builtin", "~"),
        ] {
            frames.intern(name, Some(file), Some(1));
        }
        // `/tmp/app` and `/tmp/apple` share `/tmp/`, not `/tmp/app`.
        assert_eq!(project_root(&frames).as_deref(), Some("/tmp/"));
        let mut frames = FrameTable::new(FunctionKey::NameFile);
        frames.intern("main", Some("/tmp/app/main.py"), Some(1));
        frames.intern("price", Some("/tmp/app/shop/pricing.py"), Some(1));
        let root = project_root(&frames);
        assert_eq!(root.as_deref(), Some("/tmp/app/"));
        assert_eq!(
            short_file("/tmp/app/shop/pricing.py", root.as_deref()),
            "shop/pricing.py"
        );
        // The script named relatively, as cProfile names it: the root is above the package.
        frames.intern("<module>", Some("main.py"), Some(1));
        frames.intern("len", Some("~"), Some(0));
        let root = project_root(&frames);
        assert_eq!(root.as_deref(), Some("/tmp/"));
        let mut frames = FrameTable::new(FunctionKey::NameFile);
        frames.intern("price", Some("/tmp/app/shop/pricing.py"), Some(1));
        frames.intern("<module>", Some("main.py"), Some(1));
        let root = project_root(&frames);
        assert_eq!(
            short_file("/tmp/app/shop/pricing.py", root.as_deref()),
            "shop/pricing.py"
        );
        // Files at the filesystem's root share nothing worth cutting.
        let mut frames = FrameTable::new(FunctionKey::NameFile);
        frames.intern("a", Some("/a.py"), Some(1));
        frames.intern("b", Some("/srv/b.py"), Some(1));
        assert_eq!(project_root(&frames), None);
    }
}
