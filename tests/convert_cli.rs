//! `obol convert` through the binary, each output read by the tool it is for: Python's `pstats`
//! loads the pstats files (and finds the figures of the source, or those CPython 3.15's sampler
//! would write, computed here in Python from the folded text), `inferno-flamegraph` draws the
//! folded files, and speedscope's own file-format schema (from its npm package) accepts the
//! speedscope files, whose weights obol reads back as the fixture's Python oracle has them.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use common::{Json, fixture, fixtures, run_obol};

/// A missing oracle: a failure under CI, a note elsewhere; true so that the caller returns.
fn oracle_missing(what: &str) -> bool {
    common::skip(what);
    true
}

fn python(script: &str, args: &[&Path]) -> String {
    let output = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn convert(source: &Path, to: &str, out: &Path, extra: &[&str]) {
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "convert".as_ref(),
        source.as_os_str(),
        "--to".as_ref(),
        to.as_ref(),
        "-o".as_ref(),
        out.as_os_str(),
    ];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    let (output, _) = run_obol(&args);
    assert!(
        output.status.success(),
        "convert {source:?} --to {to}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn pstats_to_pstats_is_the_same_stats_dict_to_the_last_bit() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["program.prof", "program_slow.prof", "program.profile.prof"] {
        let out = dir.path().join(name);
        convert(&fixture(name), "pstats", &out, &[]);
        // pstats' own loading of both files, compared whole: every key, count, float and edge.
        let verdict = python(
            "import pstats, sys\n\
             a, b = (pstats.Stats(p).stats for p in sys.argv[1:])\n\
             diff = [k for k in set(a) | set(b) if a.get(k) != b.get(k)]\n\
             print(len(a), len(b), diff[:3])",
            &[&fixture(name), &out],
        );
        let parts: Vec<&str> = verdict.trim().splitn(3, ' ').collect();
        assert_eq!(parts[0], parts[1], "{name}: {verdict}");
        assert_eq!(parts[2], "[]", "{name}: {verdict}");
    }
}

/// What CPython 3.15's sampler writes for the stacks of a folded file: per function (keyed by
/// file, its lowest line, name) the samples it ran in, the samples it was on the stack in, those
/// times the interval, and per caller the samples with that caller directly above.
const SAMPLED_PSTATS: &str = r#"
import collections, json, pstats, sys
folded, written, interval = sys.argv[1], sys.argv[2], float(sys.argv[3])
def func(frame):
    name, _, place = frame.rpartition(" (")
    file, _, line = place.rstrip(")").rpartition(":")
    return name, file, int(line)
direct = collections.Counter(); cumulative = collections.Counter()
callers = collections.defaultdict(collections.Counter); lowest = {}
for text in open(folded, encoding="utf-8"):
    stack, _, count = text.rstrip("\n").rpartition(" ")
    frames = [func(f) for f in stack.split(";") if f]
    if not frames:
        continue
    count = int(count)
    ids = [(name, file) for name, file, _ in frames]
    for (name, file, line) in frames:
        lowest[(name, file)] = min(line, lowest.get((name, file), line))
    for f in set(ids):
        cumulative[f] += count
    direct[ids[-1]] += count
    for caller, callee in zip(ids, ids[1:]):
        callers[callee][caller] += count
key = lambda f: (f[1], lowest[f], f[0])
want = {key(f): (direct[f], cumulative[f], direct[f] * interval, cumulative[f] * interval,
                 {key(c): n for c, n in callers[f].items()}) for f in cumulative}
got = pstats.Stats(written).stats
bad = [k for k in set(want) | set(got) if want.get(k) != got.get(k)]
print(json.dumps({"functions": len(want), "differ": [[str(k), str(want.get(k)), str(got.get(k))] for k in bad[:3]]}))
"#;

#[test]
fn folded_to_pstats_has_the_figures_of_cpythons_sampler() {
    let dir = tempfile::tempdir().unwrap();
    for (name, interval) in [("program.folded", "0.01"), ("program_slow.folded", "0.005")] {
        let out = dir.path().join(format!("{name}.prof"));
        convert(&fixture(name), "pstats", &out, &["--interval", interval]);
        let verdict = python(SAMPLED_PSTATS, &[&fixture(name), &out, Path::new(interval)]);
        let verdict = Json::parse(verdict.trim()).unwrap();
        assert!(verdict.get("functions").f64() > 20.0, "{verdict:?}");
        assert!(
            verdict.get("differ").array().is_empty(),
            "{name}: {verdict:?}"
        );
    }
}

/// Per (name, file): (self, total) summed from folded text, each stack counted once per function.
fn folded_sums(text: &str) -> std::collections::BTreeMap<(String, String), (f64, f64)> {
    let mut sums = std::collections::BTreeMap::new();
    for line in text.lines() {
        let (stack, count) = line.rsplit_once(' ').unwrap();
        let count: f64 = count.parse().unwrap();
        let funcs: Vec<(String, String)> = stack
            .split(';')
            .filter(|f| !f.is_empty())
            .map(|f| {
                let (name, place) = f.rsplit_once(" (").unwrap_or((f, ""));
                let file = place
                    .trim_end_matches(')')
                    .rsplit_once(':')
                    .map_or("", |p| p.0);
                (name.to_owned(), file.to_owned())
            })
            .collect();
        let mut seen = std::collections::BTreeSet::new();
        for f in &funcs {
            if seen.insert(f.clone()) {
                sums.entry(f.clone()).or_insert((0.0, 0.0)).1 += count;
            }
        }
        if let Some(leaf) = funcs.last() {
            sums.entry(leaf.clone()).or_insert((0.0, 0.0)).0 += count;
        }
    }
    sums
}

#[test]
fn speedscope_to_folded_is_drawn_by_inferno_with_the_oracles_weights() {
    if Command::new("inferno-flamegraph")
        .arg("--help")
        .output()
        .is_err()
        && oracle_missing("inferno-flamegraph")
    {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("program.folded");
    convert(&fixture("program.speedscope.json"), "folded", &out, &[]);
    let text = std::fs::read_to_string(&out).unwrap();
    let svg = Command::new("inferno-flamegraph")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        svg.status.success(),
        "{}",
        String::from_utf8_lossy(&svg.stderr)
    );
    assert!(String::from_utf8_lossy(&svg.stdout).contains("<svg"));
    // inferno passes over the samples with an empty stack (py-spy writes them as ` N`, and so
    // does obol); it must find nothing else to complain of.
    let empty = text.lines().filter(|l| l.starts_with(' ')).count();
    let warned = String::from_utf8_lossy(&svg.stderr).into_owned();
    let expected = match empty {
        0 => String::new(),
        n => format!("Ignored {n} lines with invalid format"),
    };
    assert!(
        warned.trim().ends_with(&expected) && warned.lines().count() <= 1,
        "inferno warned: {warned}"
    );
    // Counts are whole microseconds of the seconds the file holds; the fixture's oracle sums
    // the speedscope file's own weights in Python.
    let oracle =
        std::fs::read_to_string(fixtures().join("oracle/program.speedscope.json.json")).unwrap();
    let oracle = Json::parse(&oracle).unwrap();
    let sums = folded_sums(&text);
    let functions = oracle.get("functions").array();
    for f in functions {
        let key = (
            f.get("name").str().to_owned(),
            f.get("file").opt_str().unwrap_or("").to_owned(),
        );
        let (own, total) = sums.get(&key).copied().unwrap_or_default();
        // Each sample rounds to whole microseconds: at most half of one per sample.
        let samples = 500.0;
        assert!(
            (own * 1e-6 - f.get("self").f64()).abs() < samples * 0.5e-6,
            "{key:?}"
        );
        assert!(
            (total * 1e-6 - f.get("total").f64()).abs() < samples * 0.5e-6,
            "{key:?}"
        );
    }
    assert_eq!(sums.len(), functions.len(), "the same functions");
}

#[test]
fn folded_to_speedscope_fits_speedscopes_schema_and_keeps_every_weight() {
    let Some(schema) = common::speedscope_schema() else {
        oracle_missing("speedscope's file-format-schema.json (OBOL_SPEEDSCOPE_SCHEMA)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "program.folded",
        "program.threads.speedscope.json",
        "program.prof",
    ] {
        let out = dir.path().join(format!("{name}.speedscope.json"));
        convert(&fixture(name), "speedscope", &out, &[]);
        python(
            "import json, jsonschema, sys\n\
             jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))",
            &[&schema, &out],
        );
        // Read back: every profile's total and every function's figures as in the source.
        let summary = |path: &Path| {
            let (output, _) = run_obol(["summary", path.to_str().unwrap(), "--json"]);
            assert!(output.status.success());
            Json::parse(&String::from_utf8_lossy(&output.stdout)).unwrap()
        };
        let (before, after) = (summary(&fixture(name)), summary(&out));
        let totals = |j: &Json| -> Vec<f64> {
            j.get("profiles")
                .array()
                .iter()
                .map(|p| p.get("total").f64())
                .collect()
        };
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(1.0);
        let (tb, ta) = (totals(&before), totals(&after));
        assert_eq!(tb.len(), ta.len(), "{name}: profiles");
        assert!(
            tb.iter().zip(&ta).all(|(a, b)| close(*a, *b)),
            "{name}: {tb:?} {ta:?}"
        );
        if name != "program.prof" {
            // pstats' table is exact, the tree an estimate: only sampled sources keep every
            // function's figures through a tree.
            let rows = |j: &Json| -> std::collections::BTreeMap<(String, String), (f64, f64)> {
                j.get("functions")
                    .array()
                    .iter()
                    .map(|f| {
                        let key = (
                            f.get("name").str().to_owned(),
                            f.get("file").opt_str().unwrap_or("").to_owned(),
                        );
                        (key, (f.get("self").f64(), f.get("total").f64()))
                    })
                    .collect()
            };
            let (rb, ra) = (rows(&before), rows(&after));
            assert_eq!(rb.len(), ra.len(), "{name}");
            for (key, (s, t)) in &rb {
                let (s2, t2) = ra[key];
                assert!(
                    close(*s, s2) && close(*t, t2),
                    "{name} {key:?}: {s} {t} vs {s2} {t2}"
                );
            }
        }
    }
}

#[test]
fn folded_round_trips_line_for_line() {
    let (output, _) = run_obol([
        "convert",
        fixture("program.folded").to_str().unwrap(),
        "--to",
        "folded",
    ]);
    assert!(output.status.success());
    let mut written: Vec<String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let mut source: Vec<String> = std::fs::read_to_string(fixture("program.folded"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    written.sort();
    source.sort();
    assert_eq!(written, source);
}

/// `-o -` is standard output, as `-` is standard input: no file named `-` is made, and the
/// output is the one without `-o`.
#[test]
fn dash_as_the_output_is_standard_output() {
    let dir = tempfile::tempdir().unwrap();
    let source = fixture("program.folded");
    let run = |extra: &[&str]| {
        let mut command = assert_cmd::Command::cargo_bin("obol").unwrap();
        command
            .current_dir(dir.path())
            .args(["convert", source.to_str().unwrap(), "--to", "speedscope"])
            .args(extra);
        command.output().unwrap()
    };
    let (plain, dashed) = (run(&[]), run(&["-o", "-"]));
    assert!(plain.status.success() && dashed.status.success());
    assert!(!plain.stdout.is_empty());
    assert_eq!(dashed.stdout, plain.stdout);
    assert!(!dir.path().join("-").exists(), "a file named - was written");
    let mut merge = assert_cmd::Command::cargo_bin("obol").unwrap();
    let merged = merge
        .current_dir(dir.path())
        .args([
            "merge",
            source.to_str().unwrap(),
            source.to_str().unwrap(),
            "-o",
            "-",
        ])
        .output()
        .unwrap();
    assert!(merged.status.success(), "{merged:?}");
    assert!(merged.stdout.starts_with(b"{"), "{merged:?}");
    assert!(!dir.path().join("-").exists(), "merge wrote a file named -");
}

#[test]
fn pstats_is_not_written_to_a_terminal_and_bad_intervals_are_refused() {
    let (output, _) = run_obol([
        "convert",
        fixture("program.folded").to_str().unwrap(),
        "--to",
        "pstats",
        "--interval=-1",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let err = String::from_utf8(output.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    // Through a pipe the bytes flow: what Python's marshal reads.
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("obol"))
        .args([
            "convert",
            fixture("program.prof").to_str().unwrap(),
            "--to",
            "pstats",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let bytes = {
        let mut out = Vec::new();
        std::io::Read::read_to_end(child.stdout.as_mut().unwrap(), &mut out).unwrap();
        out
    };
    assert!(child.wait().unwrap().success());
    let mut py = Command::new("python3")
        .args([
            "-c",
            "import marshal, sys; print(len(marshal.loads(sys.stdin.buffer.read())))",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    py.stdin.take().unwrap().write_all(&bytes).unwrap();
    let out = py.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "263");
}

/// Per function (name, file): (self, total) from `summary --json`.
fn summary_rows(path: &Path) -> std::collections::BTreeMap<(String, String), (f64, f64)> {
    let (output, _) = run_obol(["summary", path.to_str().unwrap(), "--json"]);
    assert!(output.status.success(), "{path:?}");
    let json = Json::parse(&String::from_utf8_lossy(&output.stdout)).unwrap();
    json.get("functions")
        .array()
        .iter()
        .map(|f| {
            let key = (
                f.get("name").str().to_owned(),
                f.get("file").opt_str().unwrap_or("").to_owned(),
            );
            (key, (f.get("self").f64(), f.get("total").f64()))
        })
        .collect()
}

#[test]
fn timed_events_convert_to_evented_speedscope_and_samples_stay_samples() {
    let Some(schema) = common::speedscope_schema() else {
        oracle_missing("speedscope's file-format-schema.json (OBOL_SPEEDSCOPE_SCHEMA)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(1.0);
    // A Chrome trace (viztracer's), then obol's own evented output read back and written again.
    let trace = fixture("program.viztracer.json");
    let once = dir.path().join("once.speedscope.json");
    let twice = dir.path().join("twice.speedscope.json");
    convert(&trace, "speedscope", &once, &[]);
    convert(&once, "speedscope", &twice, &[]);
    let sampled = dir.path().join("sampled.speedscope.json");
    convert(
        &fixture("program.speedscope.json"),
        "speedscope",
        &sampled,
        &[],
    );
    // speedscope's schema accepts each; the kinds are those of the sources.
    let kinds = python(
        "import json, jsonschema, sys\n\
         schema = json.load(open(sys.argv[1]))\n\
         for path in sys.argv[2:]:\n\
         \x20   doc = json.load(open(path))\n\
         \x20   jsonschema.validate(doc, schema)\n\
         \x20   print(' '.join(sorted({p['type'] for p in doc['profiles']})))",
        &[&schema, &once, &twice, &sampled],
    );
    assert_eq!(
        kinds.lines().collect::<Vec<_>>(),
        ["evented", "evented", "sampled"]
    );
    // Every function keeps its self and total time through both trips.
    let source = summary_rows(&trace);
    assert!(source.len() > 20);
    for written in [&once, &twice] {
        let back = summary_rows(written);
        assert_eq!(back.len(), source.len(), "{written:?}");
        for (key, (s, t)) in &source {
            let (s2, t2) = back[key];
            assert!(
                close(*s, s2) && close(*t, t2),
                "{key:?}: {s} {t} vs {s2} {t2}"
            );
        }
    }
}
