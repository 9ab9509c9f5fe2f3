//! Which Python module a function belongs to, from the file its profile names.

use std::path::{Path, PathBuf};

/// What a function's file says about where its time belongs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// A Python module, by dotted name.
    Module(String),
    /// C code with no module of its own (pstats' `~` built-ins, frames without a file): its
    /// time is charged to whoever called it.
    Builtin,
}

/// Names modules from file paths, relative to the source roots given by the user or, failing
/// those, to the deepest directory the profile's own project files share.
#[derive(Debug, Clone, Default)]
pub struct ModuleNamer {
    /// `--source-root`s: a profile made elsewhere is named by the tail of its paths found here.
    source_roots: Vec<PathBuf>,
    /// The deepest directory the profile's own absolute files share: the fallback root.
    common: Option<PathBuf>,
}

impl ModuleNamer {
    /// `source_roots` come from `--source-root`; `files` are every file the profile names, from
    /// which a common project directory is found for absolute paths under no root.
    pub fn new<'a>(source_roots: &[PathBuf], files: impl IntoIterator<Item = &'a str>) -> Self {
        ModuleNamer {
            source_roots: source_roots.to_vec(),
            common: common_project_dir(files),
        }
    }

    /// The owner of a function defined in `file` (as the profile wrote it) named `name`.
    pub fn owner(&self, file: Option<&str>, name: &str) -> Owner {
        let Some(file) = file else {
            return Owner::Builtin;
        };
        if is_builtin(file, name) {
            return Owner::Builtin;
        }
        if let Some(inner) = file
            .strip_prefix("<frozen ")
            .and_then(|f| f.strip_suffix('>'))
        {
            return Owner::Module(inner.to_owned());
        }
        if file.starts_with('<') {
            // `<string>`, `<stdin>`, `<module>`: code with no file, named as Python names it.
            return Owner::Module(file.to_owned());
        }
        if let Some(rest) = library_relative(file) {
            return Owner::Module(dotted_module(rest));
        }
        let path = Path::new(file);
        for root in &self.source_roots {
            if let Ok(rest) = path.strip_prefix(root) {
                return Owner::Module(dotted_module(&rest.to_string_lossy()));
            }
        }
        if let Some(tail) = tail_under_roots(path, &self.source_roots) {
            return Owner::Module(dotted_module(&tail.to_string_lossy()));
        }
        if let Some(rest) = self.common.as_ref().and_then(|c| path.strip_prefix(c).ok()) {
            return Owner::Module(dotted_module(&rest.to_string_lossy()));
        }
        Owner::Module(dotted_module(file.trim_start_matches("./")))
    }
}

/// pstats names C functions with file `~` (`<built-in method builtins.len>`,
/// `{method 'sort' of 'list' objects}`).
fn is_builtin(file: &str, name: &str) -> bool {
    file == "~" || file.is_empty() || (name.starts_with('{') && name.ends_with('}'))
}

/// The part of a path below `site-packages/`, `dist-packages/` or `lib/pythonX.Y/`.
fn library_relative(file: &str) -> Option<&str> {
    for marker in ["/site-packages/", "/dist-packages/"] {
        if let Some(at) = file.rfind(marker) {
            return Some(&file[at + marker.len()..]);
        }
    }
    let at = file.find("/lib/python")?;
    let after = &file[at + "/lib/python".len()..];
    let version_end = after.find('/')?;
    let version = &after[..version_end];
    let is_version = !version.is_empty()
        && version
            .trim_end_matches('t')
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.');
    if !is_version {
        return None;
    }
    let rest = &after[version_end + 1..];
    Some(rest.strip_prefix("lib-dynload/").unwrap_or(rest))
}

/// `pkg/sub/mod.py` → `pkg.sub.mod`; `pkg/__init__.py` → `pkg`; extension modules lose their
/// platform tag (`_json.cpython-311-x86_64-linux-gnu.so` → `_json`).
pub fn dotted_module(relative: &str) -> String {
    let trimmed = relative.trim_start_matches('/');
    let mut parts: Vec<&str> = trimmed.split('/').filter(|p| !p.is_empty()).collect();
    if let Some(last) = parts.pop() {
        let stem = last.split('.').next().unwrap_or(last);
        if stem != "__init__" || parts.is_empty() {
            parts.push(stem);
        }
    }
    parts.join(".")
}

/// The deepest directory shared by the profile's absolute project files (those outside any
/// library directory), so `/srv/app/shop/catalog.py` and `/srv/app/main.py` name `shop.catalog`
/// and `main`. A package directory is not a root: its parent is. A directory is a package when
/// it has an `__init__.py` on disk, or when the profile itself names one there (the profile may
/// come from another machine).
fn common_project_dir<'a>(files: impl IntoIterator<Item = &'a str>) -> Option<PathBuf> {
    let mut common: Option<PathBuf> = None;
    let mut packages: Vec<PathBuf> = Vec::new();
    for file in files {
        if !file.starts_with('/') || library_relative(file).is_some() {
            continue;
        }
        let dir = Path::new(file).parent()?.to_path_buf();
        if file.ends_with("/__init__.py") {
            packages.push(dir.clone());
        }
        common = Some(match common {
            None => dir,
            Some(c) => shared_prefix(&c, &dir),
        });
    }
    let mut root = common?;
    while root.join("__init__.py").exists() || packages.contains(&root) {
        match root.parent() {
            Some(parent) => root = parent.to_path_buf(),
            None => break,
        }
    }
    Some(root)
}

fn shared_prefix(a: &Path, b: &Path) -> PathBuf {
    a.components()
        .zip(b.components())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x)
        .collect()
}

/// The longest tail of an absolute `path` that exists as a file under one of `roots`: how a
/// profile made on another machine (or in another checkout) finds its sources here.
fn tail_under_roots(path: &Path, roots: &[PathBuf]) -> Option<PathBuf> {
    if !path.is_absolute() {
        return None;
    }
    let parts: Vec<_> = path.components().skip(1).collect();
    for start in 0..parts.len() {
        let tail: PathBuf = parts[start..].iter().collect();
        if roots.iter().any(|root| root.join(&tail).is_file()) {
            return Some(tail);
        }
    }
    None
}

/// Where the source of a profiled file can be read: the path as written, or joined to a source
/// root when relative. `None` when no candidate exists on disk.
pub fn find_source(file: &str, source_roots: &[PathBuf]) -> Option<PathBuf> {
    if file.starts_with('<') || file == "~" {
        return None;
    }
    let path = Path::new(file);
    let mut candidates = Vec::new();
    if path.is_relative() {
        candidates.extend(source_roots.iter().map(|root| root.join(path)));
    } else if let Some(tail) = tail_under_roots(path, source_roots) {
        candidates.extend(source_roots.iter().map(|root| root.join(&tail)));
    }
    candidates.push(path.to_path_buf());
    candidates
        .into_iter()
        .find(|c| c.is_file() && c.extension().is_some_and(|e| e == "py"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(namer: &ModuleNamer, file: &str) -> String {
        match namer.owner(Some(file), "f") {
            Owner::Module(m) => m,
            Owner::Builtin => "<builtin>".into(),
        }
    }

    #[test]
    fn library_prefixes_are_dropped() {
        let namer = ModuleNamer::default();
        assert_eq!(
            module(&namer, "/usr/lib/python3.11/json/decoder.py"),
            "json.decoder"
        );
        assert_eq!(
            module(
                &namer,
                "/root/.pyenv/versions/3.11.7/lib/python3.11/site-packages/requests/api.py"
            ),
            "requests.api"
        );
        assert_eq!(
            module(&namer, "/usr/lib/python3/dist-packages/yaml/__init__.py"),
            "yaml"
        );
        assert_eq!(
            module(
                &namer,
                "/usr/lib/python3.11/lib-dynload/_json.cpython-311-x86_64-linux-gnu.so"
            ),
            "_json"
        );
        assert_eq!(
            module(&namer, "<frozen importlib._bootstrap>"),
            "importlib._bootstrap"
        );
        assert_eq!(module(&namer, "<frozen os>"), "os");
        assert_eq!(module(&namer, "pkg/sub/mod.py"), "pkg.sub.mod");
    }

    #[test]
    fn builtins_have_no_module() {
        let namer = ModuleNamer::default();
        assert_eq!(
            namer.owner(Some("~"), "<built-in method builtins.len>"),
            Owner::Builtin
        );
        assert_eq!(
            namer.owner(Some("~"), "{method 'sort' of 'list' objects}"),
            Owner::Builtin
        );
        assert_eq!(namer.owner(None, "native"), Owner::Builtin);
    }

    #[test]
    fn project_files_are_named_from_their_common_directory() {
        let files = [
            "/srv/app/shop/catalog.py",
            "/srv/app/main.py",
            "/usr/lib/python3.11/os.py",
        ];
        let namer = ModuleNamer::new(&[], files);
        assert_eq!(module(&namer, "/srv/app/shop/catalog.py"), "shop.catalog");
        assert_eq!(module(&namer, "/srv/app/main.py"), "main");
        assert_eq!(module(&namer, "/usr/lib/python3.11/os.py"), "os");
        // Only the package's files were recorded with absolute paths (the script ran by a
        // relative name), and the package is not on this disk: its __init__.py in the profile
        // still marks it as a package.
        let package_only = [
            "/elsewhere/app/shop/__init__.py",
            "/elsewhere/app/shop/pricing.py",
        ];
        let namer = ModuleNamer::new(&[], package_only);
        assert_eq!(
            module(&namer, "/elsewhere/app/shop/pricing.py"),
            "shop.pricing"
        );
        assert_eq!(module(&namer, "/elsewhere/app/shop/__init__.py"), "shop");
        let rooted = ModuleNamer::new(&[PathBuf::from("/srv")], files);
        assert_eq!(
            module(&rooted, "/srv/app/shop/catalog.py"),
            "app.shop.catalog"
        );
    }
}
