//! Callgrind files through the binary, event by event, against `fixtures/oracle.py callgrind`
//! (Python, from the format's documentation): valgrind's recording of a small C program
//! (`fixtures/program_c/walk.c`: recursion, mutual recursion, a hot loop), the same with cache
//! simulation (nine events, `positions: instr line`, hexadecimal and relative positions), yappi's
//! output for the fixture program, and speedscope's test files. For valgrind's files the self
//! costs are also held to `callgrind_annotate`, the tool that comes with the format.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{Json, fixture, run_obol};

fn summary(path: &Path, event: &str) -> Json {
    let (output, _) = run_obol([
        "summary".as_ref(),
        path.as_os_str(),
        "--json".as_ref(),
        "--thread".as_ref(),
        event.as_ref(),
    ]);
    assert!(
        output.status.success(),
        "{}: {}",
        path.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    Json::parse(&String::from_utf8_lossy(&output.stdout)).expect("JSON")
}

type Row = (f64, f64, Option<u64>, Option<u64>);

/// (self, total, line, calls) per (name, file); functions with no cost and no calls (yappi's
/// definitions of functions it never timed) are left out, as obol's tables leave them out.
fn rows(functions: &Json) -> BTreeMap<(String, Option<String>), Row> {
    functions
        .array()
        .iter()
        .map(|f| {
            (
                (
                    f.get("name").str().to_owned(),
                    f.get("file").opt_str().map(str::to_owned),
                ),
                (
                    f.get("self").f64(),
                    f.get("total").f64(),
                    f.get("line").opt_u64(),
                    f.get("calls").opt_u64(),
                ),
            )
        })
        .filter(|(_, (s, t, _, calls))| *s != 0.0 || *t != 0.0 || calls.is_some())
        .collect()
}

/// Every event's profile equals the oracle's, function by function; returns the oracle.
fn check(path: &Path) -> Json {
    let what = path.display().to_string();
    let oracle = common::python_oracle("callgrind", path);
    for event in oracle.get("events").array() {
        let name = event.get("profiles").array()[0].get("name").str();
        let got = summary(path, name);
        assert_eq!(got.get("format").str(), "callgrind", "{what}");
        assert_eq!(got.get("unit").str(), event.get("unit").str(), "{what}");
        let profile = got
            .get("profiles")
            .array()
            .iter()
            .find(|p| p.get("name").str() == name)
            .expect("a profile per event");
        assert_eq!(
            profile.get("total").f64(),
            event.get("total").f64(),
            "{what} {name}"
        );
        let (got_rows, want_rows) = (rows(got.get("functions")), rows(event.get("functions")));
        assert_eq!(
            got_rows.keys().collect::<Vec<_>>(),
            want_rows.keys().collect::<Vec<_>>(),
            "{what} {name}: the functions"
        );
        for (key, want) in &want_rows {
            assert_eq!(&got_rows[key], want, "{what} {name} {key:?}");
        }
    }
    oracle
}

/// `callgrind_annotate`'s self cost per function name (it splits a function by the source
/// files of its inlined code; obol keeps it whole under its `fl=` file).
fn annotate(path: &Path) -> BTreeMap<String, f64> {
    let output = std::process::Command::new("callgrind_annotate")
        .args([
            "--threshold=100",
            "--inclusive=no",
            "--show=Ir",
            "--sort=Ir",
        ])
        .arg(path)
        .output()
        .expect("callgrind_annotate runs");
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    let row = regex::Regex::new(r"^\s*([0-9,]+) \(\s*[0-9.]+%\)  (.*?)(?: \[.*\])?$").unwrap();
    let mut by_name = BTreeMap::new();
    for line in text.lines() {
        let Some(c) = row.captures(line) else {
            continue;
        };
        let place = &c[2];
        if place == "PROGRAM TOTALS" {
            continue;
        }
        let name = place.split_once(':').map_or(place, |(_, n)| n);
        let cost: f64 = c[1].replace(',', "").parse().unwrap();
        *by_name.entry(name.to_owned()).or_insert(0.0) += cost;
    }
    by_name
}

/// Whether valgrind's `callgrind_annotate` runs (its `--version` exits 255, so the version it
/// prints on stderr is what tells).
fn have_callgrind_annotate() -> bool {
    let found = std::process::Command::new("callgrind_annotate")
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stderr).contains("callgrind_annotate"));
    if !found {
        common::skip("callgrind_annotate (valgrind)");
    }
    found
}

fn assert_self_costs_match_callgrind_annotate(path: &Path) {
    if !have_callgrind_annotate() {
        return;
    }
    let got = summary(path, "Ir");
    let mut ours: BTreeMap<String, f64> = BTreeMap::new();
    for f in got.get("functions").array() {
        let cost = f.get("self").f64();
        if cost > 0.0 {
            *ours.entry(f.get("name").str().to_owned()).or_insert(0.0) += cost;
        }
    }
    let theirs = annotate(path);
    assert!(theirs.len() > 50, "{} functions", theirs.len());
    assert_eq!(ours, theirs, "{}", path.display());
}

#[test]
fn valgrinds_recording_matches_the_oracle_and_callgrind_annotate() {
    let path = fixture("walk.callgrind");
    let oracle = check(&path);
    let functions = oracle.get("functions").array();
    // fib calls itself (fib'2 below the first level); is_even and is_odd call each other.
    let fib = functions
        .iter()
        .find(|f| f.get("name").str() == "fib")
        .expect("fib");
    assert!(fib.get("total").f64() > fib.get("self").f64());
    assert_self_costs_match_callgrind_annotate(&path);
}

#[test]
fn cache_simulation_events_and_instruction_positions_match_the_oracle() {
    let path = fixture("walk.instr.callgrind");
    let oracle = check(&path);
    assert_eq!(oracle.get("events").array().len(), 9);
    assert_self_costs_match_callgrind_annotate(&path);
    // The events are views of one run: the summary of the file is the first event's alone.
    let (output, _) = run_obol(["summary".as_ref(), path.as_os_str(), "--json".as_ref()]);
    let whole = Json::parse(&String::from_utf8_lossy(&output.stdout)).unwrap();
    assert_eq!(
        whole.get("total").f64(),
        oracle.get("events").array()[0].get("total").f64()
    );
}

#[test]
fn yappis_output_matches_the_oracle() {
    let oracle = check(&fixture("program.yappi.callgrind"));
    assert_eq!(oracle.get("unit").str(), "microseconds");
    let apply_tax = oracle
        .get("functions")
        .array()
        .iter()
        .find(|f| f.get("name").str() == "apply_tax")
        .expect("apply_tax");
    assert!(apply_tax.get("line").opt_u64().is_some());
}

#[test]
fn speedscopes_callgrind_files_match_the_oracle_or_are_refused_where_they_break_the_format() {
    let Some(dir) = common::corpus("other-formats/speedscope/callgrind") else {
        return;
    };
    let mut read = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap() == "callgrind.subposition-compression.log" {
            // Its costs are written `*` and `-300`, which the format has only for positions.
            let (output, _) = run_obol(["summary".as_ref(), path.as_os_str()]);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(2));
            assert!(
                stderr.contains("read as callgrind profile") && stderr.contains("line 13"),
                "{stderr}"
            );
            continue;
        }
        check(&path);
        read += 1;
    }
    assert_eq!(read, 4);
}
