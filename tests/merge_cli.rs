//! `obol merge A B… -o OUT` through the binary: the merged totals are the inputs' added per
//! thread name (counted here from the fixtures' text), the output reopens in obol and fits
//! speedscope's schema, and two pstats files merge into what Python's `Stats.add` makes of them.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::{Json, fixture, run_obol};

fn merge(files: &[&Path], out: &Path, extra: &[&str]) {
    let mut args: Vec<&std::ffi::OsStr> = vec!["merge".as_ref()];
    args.extend(files.iter().map(|f| f.as_os_str()));
    args.extend(["-o".as_ref(), out.as_os_str()]);
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    let (output, _) = run_obol(&args);
    assert!(
        output.status.success(),
        "merge: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn summary(path: &Path) -> Json {
    let (output, _) = run_obol(["summary", path.to_str().unwrap(), "--json"]);
    assert!(output.status.success());
    Json::parse(&String::from_utf8_lossy(&output.stdout)).unwrap()
}

/// Per thread name (py-spy writes `thread (ID): NAME`, or `thread (ID)` before it knows the
/// name; two runs have different ids): the sum of its lines' counts.
fn thread_totals(path: &Path) -> BTreeMap<String, f64> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut by_id: BTreeMap<String, f64> = BTreeMap::new();
    for line in text.lines() {
        let (stack, count) = line.rsplit_once(' ').unwrap();
        let thread = stack.split(';').next().unwrap();
        let (id, name) = thread
            .split_once("): ")
            .unwrap_or((thread.trim_end_matches(')'), ""));
        let id = id.trim_start_matches("thread (").to_owned();
        if !name.is_empty() {
            names.insert(id.clone(), name.to_owned());
        }
        *by_id.entry(id).or_default() += count.parse::<f64>().unwrap();
    }
    let mut totals = BTreeMap::new();
    for (id, total) in by_id {
        *totals.entry(names[&id].clone()).or_default() += total;
    }
    totals
}

#[test]
fn merged_threads_add_up_by_name_and_the_output_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let threads = fixture("program.threads.folded");
    // The same run twice, and once as a second capture with other thread ids: py-spy's names
    // carry the id, so obol's profiles are named by what follows it.
    let other = dir.path().join("other.folded");
    let renumbered = std::fs::read_to_string(&threads)
        .unwrap()
        .replace("thread (9505)", "thread (7001)")
        .replace("thread (9508)", "thread (7002)");
    std::fs::write(&other, renumbered).unwrap();
    let out = dir.path().join("merged.speedscope.json");
    merge(&[&threads, &threads, &other], &out, &[]);
    let merged = summary(&out);
    let mut got: BTreeMap<String, f64> = BTreeMap::new();
    for p in merged.get("profiles").array() {
        *got.entry(p.get("name").str().to_owned()).or_default() += p.get("total").f64();
    }
    let one = thread_totals(&threads);
    let mut want = one.clone();
    for v in want.values_mut() {
        *v *= 3.0;
    }
    assert_eq!(got, want);
    // speedscope's own schema accepts it.
    if let Some(schema) = common::speedscope_schema() {
        let status = Command::new("python3")
            .args([
                "-c",
                "import json, jsonschema, sys\n\
                 jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))",
            ])
            .arg(&schema)
            .arg(&out)
            .status()
            .unwrap();
        assert!(status.success());
    } else {
        common::skip("speedscope's file-format-schema.json (OBOL_SPEEDSCOPE_SCHEMA)");
    }
    // Folded out, the total of every line is the three inputs'.
    let folded = dir.path().join("merged.folded");
    merge(&[&threads, &threads, &other], &folded, &["--to", "folded"]);
    let lines_total: f64 = std::fs::read_to_string(&folded)
        .unwrap()
        .lines()
        .map(|l| l.rsplit_once(' ').unwrap().1.parse::<f64>().unwrap())
        .sum();
    assert_eq!(lines_total, 3.0 * one.values().sum::<f64>());
    // With --merge-threads each run is one profile first, and those add up.
    let all = dir.path().join("all.speedscope.json");
    merge(&[&threads, &other], &all, &["--merge-threads"]);
    let merged = summary(&all);
    let profiles = merged.get("profiles").array();
    assert_eq!(profiles.len(), 1);
    assert_eq!(profiles[0].get("name").str(), "all threads");
    assert_eq!(
        profiles[0].get("total").f64(),
        2.0 * one.values().sum::<f64>()
    );
}

#[test]
fn two_pstats_runs_merge_as_python_adds_them() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (fixture("program.prof"), fixture("program_slow.prof"));
    let out = dir.path().join("sum.prof");
    merge(&[&a, &b], &out, &["--to", "pstats"]);
    let output = Command::new("python3")
        .args([
            "-c",
            "import pstats, sys\n\
             want = pstats.Stats(sys.argv[1]); want.add(sys.argv[2])\n\
             got = pstats.Stats(sys.argv[3])\n\
             w, g = want.stats, got.stats\n\
             bad = [k for k in set(w) | set(g) if w.get(k) != g.get(k)]\n\
             print(len(w), len(g), bad[:3])",
        ])
        .args([&a, &b, &out])
        .output();
    let Ok(output) = output else {
        common::skip("python3");
        return;
    };
    let verdict = String::from_utf8_lossy(&output.stdout).into_owned();
    let parts: Vec<&str> = verdict.trim().splitn(3, ' ').collect();
    assert_eq!(
        parts.len(),
        3,
        "{verdict} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(parts[0], parts[1], "{verdict}");
    assert_eq!(parts[2], "[]", "{verdict}");
}

#[test]
fn merge_needs_two_files_and_refuses_units_that_do_not_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.json");
    let (output, _) = run_obol([
        "merge",
        fixture("program.folded").to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    // Samples and seconds under one profile name do not add.
    let samples = dir.path().join("a.folded");
    std::fs::write(&samples, "main (m.py:1) 3\n").unwrap();
    let timed = dir.path().join("b.speedscope.json");
    std::fs::write(
        &timed,
        r#"{"$schema":"https://www.speedscope.app/file-format-schema.json","shared":{"frames":[{"name":"main"}]},"profiles":[{"type":"sampled","name":"NAME","unit":"seconds","startValue":0,"endValue":1,"samples":[[0]],"weights":[1]}]}"#,
    )
    .unwrap();
    let name_of = |p: &Path| {
        summary(p).get("profiles").array()[0]
            .get("name")
            .str()
            .to_owned()
    };
    let first = name_of(&samples);
    let text = std::fs::read_to_string(&timed)
        .unwrap()
        .replace("NAME", &first);
    std::fs::write(&timed, text).unwrap();
    let (output, _) = run_obol([
        "merge",
        samples.to_str().unwrap(),
        timed.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("do not add up"), "{err}");
}
