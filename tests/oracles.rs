//! `obol summary` on every good fixture, compared function by function with the oracle Python
//! computed from the same file (`fixtures/oracle/NAME.json`, written by `fixtures/oracle.py`:
//! pstats' own numbers for `.prof` files, sums over the samples for the sampled formats). obol's
//! earlier output is never the reference.

mod common;

use std::collections::HashMap;
use std::path::Path;

use common::{Json, fixture, fixtures, run_obol};

/// How closely obol's weights must match the oracle's.
#[derive(Debug, Clone, Copy)]
enum Weights {
    /// Bit for bit: pstats' doubles are copied, sample counts are integers.
    Exact,
    /// Seconds summed from many float weights: the order of additions may differ.
    Relative(f64),
}

impl Weights {
    fn agree(self, obol: f64, oracle: f64) -> bool {
        match self {
            Weights::Exact => obol == oracle,
            Weights::Relative(tolerance) => {
                (obol - oracle).abs() <= tolerance * obol.abs().max(oracle.abs())
            }
        }
    }
}

/// How the format identifies a function (the contract of `obol summary`).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Identity {
    /// pstats: (file, definition line, name).
    FileLineName,
    /// Sampled formats: (name, file); the line is the lowest one sampled.
    NameFile,
}

type Key = (String, Option<String>, Option<u64>);

#[derive(Debug)]
struct Row {
    name: String,
    file: Option<String>,
    line: Option<u64>,
    self_weight: f64,
    total: f64,
    calls: Option<u64>,
}

impl Row {
    fn from_json(f: &Json) -> Row {
        Row {
            name: f.get("name").str().to_owned(),
            file: f.get("file").opt_str().map(str::to_owned),
            line: f.get("line").opt_u64(),
            self_weight: f.get("self").f64(),
            total: f.get("total").f64(),
            calls: f.get("calls").opt_u64(),
        }
    }

    fn key(&self, identity: Identity) -> Key {
        let line = match identity {
            Identity::FileLineName => self.line,
            Identity::NameFile => None,
        };
        (self.name.clone(), self.file.clone(), line)
    }
}

fn rows(doc: &Json) -> Vec<Row> {
    doc.get("functions")
        .array()
        .iter()
        .map(Row::from_json)
        .collect()
}

fn oracle(name: &str) -> Json {
    let path = fixtures().join("oracle").join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run fixtures/regenerate.sh)", path.display()));
    Json::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn summary_json(path: &Path) -> Json {
    let (output, _) = run_obol(["summary".as_ref(), path.as_os_str(), "--json".as_ref()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "obol summary {} --json failed: {stderr}",
        path.display()
    );
    let stdout = String::from_utf8(output.stdout).expect("obol prints UTF-8");
    Json::parse(&stdout).unwrap_or_else(|e| panic!("obol printed bad JSON ({e}): {stdout}"))
}

/// Compares `obol summary FIXTURE --json` with the fixture's oracle: format, unit, total, every
/// profile's total and every function's line, self, total and calls.
fn check_against_oracle(name: &str, identity: Identity, weights: Weights) {
    let path = fixture(name);
    let expected = oracle(name);
    let got = summary_json(&path);

    assert_eq!(got.get("path").str(), path.display().to_string());
    assert_eq!(got.get("format").str(), expected.get("format").str());
    assert_eq!(got.get("unit").str(), expected.get("unit").str());
    let (total, want_total) = (got.get("total").f64(), expected.get("total").f64());
    assert!(
        weights.agree(total, want_total),
        "total: obol {total}, oracle {want_total}"
    );

    let (profiles, want_profiles) = (
        got.get("profiles").array(),
        expected.get("profiles").array(),
    );
    assert_eq!(profiles.len(), want_profiles.len(), "number of profiles");
    for (p, want) in profiles.iter().zip(want_profiles) {
        // Formats without profile names get the file's name.
        let want_name = want.get("name").opt_str().unwrap_or(name);
        assert_eq!(p.get("name").str(), want_name);
        let (t, want_t) = (p.get("total").f64(), want.get("total").f64());
        assert!(
            weights.agree(t, want_t),
            "profile {want_name}: obol {t}, oracle {want_t}"
        );
    }

    let got_rows = rows(&got);
    let mut want: HashMap<Key, Row> = rows(&expected)
        .into_iter()
        .map(|r| (r.key(identity), r))
        .collect();
    let want_count = want.len();
    let mut problems = Vec::new();
    for row in &got_rows {
        let key = row.key(identity);
        let Some(w) = want.remove(&key) else {
            problems.push(format!("obol has {key:?}, the oracle has not (or twice)"));
            continue;
        };
        if row.line != w.line
            || row.calls != w.calls
            || !weights.agree(row.self_weight, w.self_weight)
            || !weights.agree(row.total, w.total)
        {
            problems.push(format!(
                "{key:?}: obol line {:?} self {} total {} calls {:?}; \
                 oracle line {:?} self {} total {} calls {:?}",
                row.line,
                row.self_weight,
                row.total,
                row.calls,
                w.line,
                w.self_weight,
                w.total,
                w.calls
            ));
        }
    }
    problems.extend(
        want.keys()
            .map(|key| format!("obol lacks {key:?}, which the oracle has")),
    );
    assert!(
        problems.is_empty(),
        "{name}: {} of {want_count} functions differ:\n{}",
        problems.len(),
        problems[..problems.len().min(25)].join("\n")
    );

    // The default order is heaviest self weight first.
    for pair in got_rows.windows(2) {
        assert!(
            pair[0].self_weight >= pair[1].self_weight,
            "{name}: {} before {} is out of order",
            pair[0].name,
            pair[1].name
        );
    }
}

#[test]
fn pstats_from_cprofile() {
    check_against_oracle("program.prof", Identity::FileLineName, Weights::Exact);
}

#[test]
fn pstats_from_cprofile_slow_variant() {
    check_against_oracle("program_slow.prof", Identity::FileLineName, Weights::Exact);
}

#[test]
fn pstats_from_the_pure_python_profiler() {
    check_against_oracle(
        "program.profile.prof",
        Identity::FileLineName,
        Weights::Exact,
    );
}

#[test]
fn folded_from_py_spy_raw() {
    check_against_oracle("program.folded", Identity::NameFile, Weights::Exact);
}

#[test]
fn folded_from_py_spy_raw_slow_variant() {
    check_against_oracle("program_slow.folded", Identity::NameFile, Weights::Exact);
}

#[test]
fn speedscope_from_py_spy() {
    check_against_oracle(
        "program.speedscope.json",
        Identity::NameFile,
        Weights::Relative(1e-9),
    );
}

#[test]
fn speedscope_from_py_spy_with_two_threads() {
    assert_eq!(
        oracle("program.threads.speedscope.json")
            .get("profiles")
            .array()
            .len(),
        2,
        "the threads fixture should hold one profile per thread"
    );
    check_against_oracle(
        "program.threads.speedscope.json",
        Identity::NameFile,
        Weights::Relative(1e-9),
    );
}

#[test]
fn svg_drawn_by_py_spy() {
    check_against_oracle("program.pyspy.svg", Identity::NameFile, Weights::Exact);
}

#[test]
fn svg_drawn_by_inferno_from_the_folded_file() {
    check_against_oracle("program.inferno.svg", Identity::NameFile, Weights::Exact);
}

/// The slow variant exists for `obol diff`: it must differ from the base run in apply_tax, and
/// clearly. Checks the fixtures (through their oracles), so a regeneration that lost the
/// difference is noticed.
#[test]
fn slow_fixtures_single_out_apply_tax() {
    for (base, slow) in [
        ("program.prof", "program_slow.prof"),
        ("program.folded", "program_slow.folded"),
    ] {
        let share = |name: &str| {
            let doc = oracle(name);
            let tax: f64 = rows(&doc)
                .iter()
                .filter(|r| r.name == "apply_tax")
                .map(|r| r.self_weight)
                .sum();
            tax / doc.get("total").f64()
        };
        let (base_share, slow_share) = (share(base), share(slow));
        assert!(
            slow_share > base_share + 0.2,
            "{slow}: apply_tax takes {slow_share:.2} of the time, {base}: {base_share:.2}"
        );
    }
}

/// The first data row of the table, after the column headings.
fn first_table_row(stdout: &str) -> &str {
    let mut lines = stdout.lines();
    lines
        .by_ref()
        .find(|l| l.contains("self%"))
        .expect("a heading row");
    lines.next().expect("a first row")
}

/// Without --json, the heaviest function by self weight (per the oracle) is the first row,
/// shown with its place and its self weight.
fn check_table_heaviest_first(name: &str, format_self: fn(f64) -> String) {
    let expected = rows(&oracle(name));
    let heaviest = expected
        .iter()
        .map(|r| r.self_weight)
        .fold(f64::NEG_INFINITY, f64::max);
    let (output, _) = run_obol(["summary".as_ref(), fixture(name).as_os_str()]);
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8");
    let row = first_table_row(&stdout);
    let shown = expected
        .iter()
        .filter(|r| r.self_weight == heaviest)
        .any(|r| {
            let place = match (&r.file, r.line) {
                // Shortened as the UI shortens it (`shop/pricing.py`, `json/encoder.py`).
                (Some(file), Some(line)) => format!("  {}:{line}", common::short_place(file)),
                _ => String::new(),
            };
            row.contains(&format!("{}{place}", r.name)) && row.contains(&format_self(r.self_weight))
        });
    assert!(
        shown,
        "{name}: first row {row:?} is not the heaviest by self ({heaviest})"
    );
}

#[test]
fn table_puts_the_heaviest_first_pstats() {
    check_table_heaviest_first("program.prof", |w| format!("{w:.3}s"));
}

#[test]
fn table_puts_the_heaviest_first_folded() {
    check_table_heaviest_first("program.folded", |w| format!("{w:.0}"));
}

/// A frame name is data: an escape sequence in it must reach the terminal escaped, not raw.
#[test]
fn table_and_json_escape_control_characters() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("evil.folded");
    std::fs::write(&path, "main;evil\x1b[31mred 3\nmain 1\n").expect("write");
    let (output, _) = run_obol(["summary".as_ref(), path.as_os_str()]);
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8");
    assert!(!stdout.contains('\x1b'), "raw ESC in the table: {stdout:?}");
    assert!(stdout.contains(r"evil\x1b[31mred"), "{stdout}");

    // JSON carries the name exactly, escaped by JSON's own rules: no raw ESC either.
    let (output, _) = run_obol(["summary".as_ref(), path.as_os_str(), "--json".as_ref()]);
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8");
    assert!(!stdout.contains('\x1b'), "raw ESC in the JSON: {stdout:?}");
    let doc = Json::parse(&stdout).expect("JSON");
    let names: Vec<String> = rows(&doc).into_iter().map(|r| r.name).collect();
    assert!(names.contains(&"evil\x1b[31mred".to_owned()), "{names:?}");
}

#[test]
fn json_reader_keeps_numbers_exact() {
    let doc = Json::parse(
        r#" {"a": [1, -2.5e-3, 0.1, null, true], "s": "\u03b4\ud83d\ude00\n\"", "e": {}} "#,
    )
    .unwrap();
    let a = doc.get("a").array();
    assert_eq!(a[0].opt_u64(), Some(1));
    assert_eq!(a[1].f64(), -0.0025);
    assert_eq!(a[2].f64().to_bits(), 0.1f64.to_bits());
    assert!(a[3].is_null());
    assert_eq!(doc.get("s").str(), "δ😀\n\"");
    assert!(!doc.get("e").has("x"));
    assert!(Json::parse("[1,]").is_err());
    assert!(Json::parse("{\"a\" 1}").is_err());
}
