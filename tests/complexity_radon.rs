//! McCabe complexity against `radon cc` (PyPI) as the oracle, function by function, over
//! standard-library modules picked for their variety (match statements, try/else, nested
//! closures, comprehensions) and the fixture program's sources.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use obol::analysis::complexity::function_complexities;

/// radon's view of a file: (def line, name, complexity) for every function, method and closure.
fn radon_functions(paths: &[PathBuf]) -> Option<Vec<Vec<(u32, String, u32)>>> {
    let script = r#"
import json, sys
from radon.complexity import cc_visit
from radon.visitors import Function
out = []
for path in sys.argv[1:]:
    rows = []
    def walk(block):
        rows.append((block.lineno, block.name, block.complexity))
        for c in block.closures:
            walk(c)
    for block in cc_visit(open(path, encoding="utf-8").read()):
        if isinstance(block, Function):
            walk(block)
    out.append(sorted(rows))
print(json.dumps(out))
"#;
    let Ok(output) = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(paths)
        .output()
    else {
        common::skip("python3");
        return None;
    };
    if !output.status.success() {
        common::skip(&format!(
            "radon, not importable ({}); `pip install radon` to run this oracle",
            String::from_utf8_lossy(&output.stderr)
                .lines()
                .last()
                .unwrap_or("")
        ));
        return None;
    }
    serde_json::from_slice(&output.stdout).ok()
}

fn stdlib_dir() -> Option<PathBuf> {
    let output = Command::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['stdlib'])",
        ])
        .output()
        .ok()?;
    Some(PathBuf::from(String::from_utf8(output.stdout).ok()?.trim()))
}

fn compare(paths: &[PathBuf]) {
    let Some(expected) = radon_functions(paths) else {
        return;
    };
    let mut checked = 0;
    for (path, want) in paths.iter().zip(expected) {
        let source = std::fs::read_to_string(path).unwrap();
        let mut got: Vec<(u32, String, u32)> = function_complexities(&source)
            .into_iter()
            .map(|f| (f.line, f.name, f.complexity))
            .collect();
        got.sort();
        let diffs: Vec<_> = want
            .iter()
            .zip(&got)
            .filter(|(w, g)| w != g)
            .take(5)
            .collect();
        assert!(
            diffs.is_empty() && want.len() == got.len(),
            "{}: radon and obol differ ({} vs {} functions); first differences (radon, obol): {diffs:?}",
            path.display(),
            want.len(),
            got.len()
        );
        checked += want.len();
    }
    eprintln!("{checked} functions agree with radon");
}

#[test]
fn standard_library_modules_match_radon() {
    let Some(stdlib) = stdlib_dir() else {
        common::skip("python3");
        return;
    };
    let names = [
        "argparse.py",
        "ast.py",
        "csv.py",
        "dataclasses.py",
        "difflib.py",
        "enum.py",
        "fractions.py",
        "functools.py",
        "inspect.py",
        "json/decoder.py",
        "json/encoder.py",
        "pathlib.py",
        "pprint.py",
        "shlex.py",
        "statistics.py",
        "string.py",
        "textwrap.py",
        "tokenize.py",
        "typing.py",
        "zipfile.py",
    ];
    let paths: Vec<PathBuf> = names
        .iter()
        .map(|n| stdlib.join(n))
        .filter(|p| p.exists())
        .collect();
    assert!(
        !paths.is_empty(),
        "no standard library found in {}",
        stdlib.display()
    );
    compare(&paths);
}

/// Constructs the standard library rarely uses, each a rule of radon's.
const TRICKY: &str = r#"
import asyncio

def matcher(command, flag=lambda v: v if v else None):
    match command.split():
        case [action]:
            return action
        case [action, obj] if obj and action or flag:
            return obj
        case {"k": v} if (v if v else 0):
            pass
        case Point(x=0) | Point(y=0):
            pass
        case _:
            return None
    match command:
        case "a": pass
        case "b": pass

async def loops(items):
    async for item in items:
        if item: continue
    else:
        pass
    async with items as x:
        pass
    try:
        pass
    except* ValueError:
        pass
    except* (TypeError, KeyError):
        pass
    else:
        pass
    finally:
        pass
    while (n := len(items)) > 0 and \
            n < 10:
        break
    assert items or not items, "if and or"
    return {k: v for k, v in items if k for _ in v if v and k}

class Outer:
    @property
    def value(self, x=[i for i in range(3) if i]):
        def closure():
            return [j for j in range(2)] or None
        class Inner:
            def hidden(self):
                return 1 if self else 2
        return closure
"#;

#[test]
fn tricky_constructs_match_radon() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tricky.py");
    std::fs::write(&path, TRICKY).unwrap();
    compare(&[path]);
}

#[test]
fn fixture_program_matches_radon() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/program");
    let mut paths = Vec::new();
    let mut dirs = vec![root];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "py") {
                paths.push(path);
            }
        }
    }
    if paths.is_empty() {
        common::skip("the fixture program's sources");
        return;
    }
    paths.sort();
    compare(&paths);
}
