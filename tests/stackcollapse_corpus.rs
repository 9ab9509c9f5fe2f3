//! speedscope's own stackcollapse sample profiles (its `sample/profiles/stackcollapse`, read from
//! `../shared/corpus/speedscope`): each imports with the weights speedscope gives it. The small
//! files are counted by hand; the larger ones against `fixtures/oracle.py`, which sums the
//! folded lines in Python.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Json, run_obol};

fn corpus() -> Option<PathBuf> {
    common::corpus("speedscope/stackcollapse")
}

/// `obol summary --json` of a corpus file, and its stderr.
fn summary(path: &Path) -> (Json, String) {
    let (output, _) = run_obol(["summary", path.to_str().unwrap(), "--json"]);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{}: {stderr}", path.display());
    let json = Json::parse(&String::from_utf8_lossy(&output.stdout)).unwrap();
    (json, stderr)
}

/// (self, total) of every function, by name.
fn weights(json: &Json) -> Vec<(String, f64, f64)> {
    let mut rows: Vec<(String, f64, f64)> = json
        .get("functions")
        .array()
        .iter()
        .map(|f| {
            (
                f.get("name").str().to_owned(),
                f.get("self").f64(),
                f.get("total").f64(),
            )
        })
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

#[test]
fn simple_and_its_encodings() {
    let Some(dir) = corpus() else { return };
    // simple.txt: a;b;c 1 / a;b;c 1 / a;b;d 4 / a;b;c 3 / a;b 5, counted by hand.
    let expected = vec![
        ("a".to_owned(), 0.0, 14.0),
        ("b".to_owned(), 5.0, 14.0),
        ("c".to_owned(), 5.0, 5.0),
        ("d".to_owned(), 4.0, 4.0),
    ];
    for name in [
        "simple.txt",
        "simple-crlf.txt",
        "simple-utf16-le.txt",
        "simple-utf16-be.txt",
    ] {
        let (json, stderr) = summary(&dir.join(name));
        assert_eq!(json.get("format").str(), "folded", "{name}");
        assert_eq!(json.get("total").f64(), 14.0, "{name}");
        assert_eq!(weights(&json), expected, "{name}");
        assert!(stderr.is_empty(), "{name}: {stderr}");
    }
    // The same stacks with two comment lines first and an invalid line last: one warning
    // naming the count and the first bad line (line 8), the comments passed over silently.
    let (json, stderr) = summary(&dir.join("simple-with-invalids.txt"));
    assert_eq!(weights(&json), expected);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("skipped 1 line") && stderr.contains("line 8"),
        "{stderr}"
    );
}

#[test]
fn recursion_and_tall_by_hand() {
    let Some(dir) = corpus() else { return };
    // recursion.txt (10 lines of 1): a is in 9 stacks and ends 1; b in 9, ends 5; c in 4.
    let (json, _) = summary(&dir.join("recursion.txt"));
    assert_eq!(
        weights(&json),
        vec![
            ("a".to_owned(), 1.0, 9.0),
            ("b".to_owned(), 5.0, 9.0),
            ("c".to_owned(), 4.0, 4.0)
        ]
    );
    // tall.txt: one stack a;b;...;z of 1.
    let (json, _) = summary(&dir.join("tall.txt"));
    let rows = weights(&json);
    assert_eq!(rows.len(), 26);
    assert!(
        rows.iter()
            .all(|(name, s, t)| *t == 1.0 && *s == if name == "z" { 1.0 } else { 0.0 })
    );
}

#[test]
fn larger_files_against_python() {
    let Some(dir) = corpus() else { return };
    for name in ["alternating.txt", "perf-vertx-stacks-01-collapsed-all.txt"] {
        let path = dir.join(name);
        let out = tempfile::NamedTempFile::new().unwrap();
        let oracle_script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/oracle.py");
        let status = Command::new("python3")
            .arg(&oracle_script)
            .args([
                "folded",
                path.to_str().unwrap(),
                out.path().to_str().unwrap(),
            ])
            .status();
        if !status.is_ok_and(|s| s.success()) {
            common::skip(&format!("python3, to run the oracle for {name}"));
            continue;
        }
        let oracle = Json::parse(&std::fs::read_to_string(out.path()).unwrap()).unwrap();
        let (json, _) = summary(&path);
        assert_eq!(json.get("total").f64(), oracle.get("total").f64(), "{name}");
        // The oracle has the summary's shape.
        let (got, want) = (weights(&json), weights(&oracle));
        assert_eq!(got.len(), want.len(), "{name}: function count");
        assert_eq!(got, want, "{name}");
    }
}
