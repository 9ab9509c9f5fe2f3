//! The speedscope importer against speedscope's own sample files and a real py-spy recording.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use obol::analysis::summary::{SortKey, function_table};
use obol::import::{Format, LoadError, Loaded, load_bytes, load_path};
use obol::profile::Profile;

/// speedscope's sample profiles, read in place (they are not part of this repository).
fn corpus() -> Option<PathBuf> {
    common::corpus("speedscope/speedscope")
}

/// (self, total) per function name, over every profile of the file.
fn by_function(loaded: &Loaded) -> HashMap<String, (f64, f64)> {
    let profiles: Vec<&Profile> = loaded.set.profiles.iter().collect();
    function_table(&loaded.set, &profiles, SortKey::SelfWeight)
        .into_iter()
        .map(|row| {
            let name = loaded.set.frames.function(row.func).name.to_owned();
            (name, (row.self_weight, row.total_weight))
        })
        .collect()
}

fn expect(pairs: &[(&str, f64, f64)], times: f64) -> HashMap<String, (f64, f64)> {
    pairs
        .iter()
        .map(|&(n, s, t)| (n.to_owned(), (s * times, t * times)))
        .collect()
}

/// All four valid samples hold the stacks of speedscope's `simple.txt`:
///   a;b;c 1, a;b;c 1, a;b;d 4, a;b;c 3, a;b 5
/// (the 0.0.1 files as events: a, b, c open at 0; c closes at 2; d runs 2..6; c 6..9; b and a
/// close at 14, so c has 2 + 3, d 4, b alone 9..14 = 5). Counted by hand:
///   a self 0 total 14, b self 5 total 14, c self 5 total 5, d self 4 total 4.
const SIMPLE: [(&str, f64, f64); 4] = [
    ("a", 0.0, 14.0),
    ("b", 5.0, 14.0),
    ("c", 5.0, 5.0),
    ("d", 4.0, 4.0),
];

#[test]
fn speedscope_samples_weigh_as_speedscope_says() {
    let Some(dir) = corpus() else { return };
    let files = [
        ("0.0.1/simple.speedscope.json", 1, "none", 1.0),
        (
            "0.0.1/simple-no-pretty-print.speedscope.json",
            1,
            "none",
            1.0,
        ),
        ("0.1.2/simple-sampled.speedscope.json", 1, "seconds", 1.0),
        // Two profiles, each the whole of simple.txt.
        ("0.6.0/two-sampled.speedscope.json", 2, "seconds", 2.0),
    ];
    for (file, profiles, unit, times) in files {
        let loaded = load_path(&dir.join(file)).unwrap_or_else(|e| panic!("{e}"));
        assert!(loaded.warnings.is_empty(), "{file}: {:?}", loaded.warnings);
        assert_eq!(loaded.format, Format::Speedscope, "{file}");
        assert_eq!(loaded.set.profiles.len(), profiles, "{file}");
        assert_eq!(loaded.set.unit().as_str(), unit, "{file}");
        assert_eq!(loaded.set.total(), 14.0 * times, "{file}");
        assert_eq!(by_function(&loaded), expect(&SIMPLE, times), "{file}");
        for profile in &loaded.set.profiles {
            assert_eq!(
                (profile.start_value, profile.end_value),
                (Some(0.0), Some(14.0))
            );
            let weights: Vec<f64> = profile
                .timeline
                .as_ref()
                .unwrap()
                .iter()
                .map(|s| s.weight)
                .collect();
            // Sampled: one entry per sample. Evented: one per interval, c 0..2, d 2..6,
            // c 6..9, b 9..14.
            let expected = if file.contains("0.0.1") {
                vec![2.0, 4.0, 3.0, 5.0]
            } else {
                vec![1.0, 1.0, 4.0, 3.0, 5.0]
            };
            assert_eq!(weights, expected, "{file}");
        }
    }
    let two = load_path(&dir.join("0.6.0/two-sampled.speedscope.json")).unwrap();
    let names: Vec<&str> = two.set.profiles.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["one", "two"]);
}

#[test]
fn speedscope_invalid_samples_are_errors() {
    let Some(dir) = corpus() else { return };
    for (file, wanted) in [
        ("invalid/incomplete-trace.json", "still open"),
        ("invalid/out-of-order-events.json", "out-of-order"),
    ] {
        match load_path(&dir.join(file)) {
            Err(LoadError::Parse { format, source, .. }) => {
                assert_eq!(format, Format::Speedscope);
                assert!(source.message.contains(wanted), "{file}: {source}");
            }
            other => panic!("{file}: {other:?}"),
        }
    }
}

/// Per-function self and total from a speedscope file, computed straight from the JSON: self
/// is the weight of samples whose innermost frame is the function, total the weight of samples
/// it appears in at all (once, however deep the recursion). The file's total counts every
/// sample, the empty stacks py-spy sometimes records included.
const PYTHON_ORACLE: &str = r#"
import json, sys
d = json.load(open(sys.argv[1]))
frames = d["shared"]["frames"]
out = {}
def row(f):
    return out.setdefault(repr(f), {"name": f[0], "file": f[1], "self": 0.0, "total": 0.0})
for p in d["profiles"]:
    for stack, w in zip(p["samples"], p["weights"]):
        funcs = [(frames[i]["name"], frames[i].get("file")) for i in stack]
        if funcs:
            row(funcs[-1])["self"] += w
        for f in set(funcs):
            row(f)["total"] += w
total = sum(sum(p["weights"]) for p in d["profiles"])
recursive = sum(
    1 for p in d["profiles"] for s in p["samples"]
    if len({(frames[i]["name"], frames[i].get("file")) for i in s}) < len(s))
print(json.dumps({"total": total, "recursive": recursive, "functions": list(out.values())}))
"#;

const PROGRAM: &str = r#"
import time
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)
def spin():
    s = 0
    for i in range(20000):
        s += i * i
    return s
def main():
    end = time.time() + 0.8
    while time.time() < end:
        fib(14)
        spin()
main()
"#;

use common::have;

#[test]
fn py_spy_recording_matches_python_reading_the_same_json() {
    if !have("py-spy") || !have("python3") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("prog.py");
    let out = dir.path().join("out.speedscope.json");
    std::fs::write(&script, PROGRAM).unwrap();
    let record = Command::new("py-spy")
        .args(["record", "--format", "speedscope", "--rate", "250", "-o"])
        .arg(&out)
        .args(["--", "python3"])
        .arg(&script)
        .output()
        .unwrap();
    if !record.status.success() || !out.exists() {
        // py-spy needs ptrace, which some sandboxes deny.
        common::skip(&format!(
            "py-spy, which could not record: {}",
            String::from_utf8_lossy(&record.stderr)
        ));
        return;
    }
    let oracle = compare_with_python(&out);
    // fib is there so that some samples hold a function twice, which must count once.
    assert!(
        oracle["recursive"].as_u64().unwrap() > 0,
        "no recursive sample recorded"
    );
}

#[test]
fn embedded_demo_matches_python_reading_the_same_json() {
    if !have("python3") {
        return;
    }
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo.speedscope.json");
    let oracle = compare_with_python(&demo);
    assert!(oracle["recursive"].as_u64().unwrap() > 0);
}

#[test]
fn json_that_is_not_speedscope_is_read_as_speedscope_and_refused() {
    match load_bytes(Path::new("x.json"), br#"{"a":1}"#) {
        Err(LoadError::Parse { format, source, .. }) => {
            assert_eq!(format, Format::Speedscope);
            assert!(source.message.contains("profiles"), "{source}");
        }
        other => panic!("{other:?}"),
    }
}

/// What the Python `script` prints as JSON for the file at `path`.
fn python(script: &str, path: &Path) -> serde_json::Value {
    let oracle = Command::new("python3")
        .args(["-c", script])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        oracle.status.success(),
        "{}",
        String::from_utf8_lossy(&oracle.stderr)
    );
    serde_json::from_slice(&oracle.stdout).unwrap()
}

/// Runs `obol summary --json` on `path` and checks every function's self and total, and the
/// file's total, against [`PYTHON_ORACLE`]. Returns the oracle's answer.
fn compare_with_python(path: &Path) -> serde_json::Value {
    let oracle = python(PYTHON_ORACLE, path);
    let expected = oracle["functions"].as_array().unwrap();

    let summary = Command::new(env!("CARGO_BIN_EXE_obol"))
        .args(["summary", "--json"])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        summary.status.success(),
        "{}",
        String::from_utf8_lossy(&summary.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&summary.stdout).unwrap();
    assert_eq!(summary["format"], "speedscope");
    assert_eq!(summary["unit"], "seconds");
    let key = |v: &serde_json::Value| (v["name"].to_string(), v["file"].to_string());
    let got: HashMap<_, _> = summary["functions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                key(f),
                (f["self"].as_f64().unwrap(), f["total"].as_f64().unwrap()),
            )
        })
        .collect();
    assert_eq!(got.len(), expected.len(), "{got:?}");
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1.0);
    let grand_total = oracle["total"].as_f64().unwrap();
    for want in expected {
        let (s, t) = got
            .get(&key(want))
            .unwrap_or_else(|| panic!("missing {want}"));
        let (ws, wt) = (
            want["self"].as_f64().unwrap(),
            want["total"].as_f64().unwrap(),
        );
        assert!(
            close(*s, ws) && close(*t, wt),
            "{want}: obol says self {s} total {t}"
        );
    }
    assert!(
        close(summary["total"].as_f64().unwrap(), grand_total),
        "{} vs {grand_total}",
        summary["total"]
    );
    oracle
}

/// Each function's samples counted by Python from the file's own lists (recursion once), times
/// the profile's one weight, rounded once, then added over the profiles in file order: the
/// figures obol gives for profiles whose samples all weigh the same (py-spy's), to the bit.
const COUNTING_ORACLE: &str = r#"
import json, sys
d = json.load(open(sys.argv[1]))
frames = d["shared"]["frames"]
key = lambda i: (frames[i]["name"], frames[i].get("file"))
figures, total = {}, 0.0
unit = d["profiles"][0]["unit"]
for p in d["profiles"]:
    if p["unit"] != unit:
        continue
    w = p["weights"][0]
    alike = all(x == w for x in p["weights"]) and w > 0
    # Other weights must be whole numbers, which add exactly in any order.
    assert alike or all(x == int(x) for x in p["weights"]), "weights differ"
    counts = {}
    for stack, weight in zip(p["samples"], p["weights"]):
        # An index written as a list of one is that index, as JavaScript reads `[32]`.
        stack = [i[0] if isinstance(i, list) else i for i in stack]
        n = 1 if alike else int(weight)
        if stack:
            counts.setdefault(key(stack[-1]), [0, 0])[0] += n
        for k in {key(i) for i in stack}:
            counts.setdefault(k, [0, 0])[1] += n
    scale = w if alike else 1
    for k, (s, t) in counts.items():
        f = figures.setdefault(k, [0.0, 0.0])
        f[0] += s * scale
        f[1] += t * scale
    total += (len(p["samples"]) if alike else int(sum(p["weights"]))) * scale
print(json.dumps({"total": total, "functions": [[n, f, s, t] for (n, f), (s, t) in figures.items()]}))
"#;

#[test]
fn alike_weights_are_counts_times_the_weight_to_the_bit() {
    if !have("python3") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Large enough to be counted in two halves (from 16 MB), in three profiles.
    let generated = dir.path().join("three.speedscope.json");
    write_alike_weights(&generated);
    let mut files = vec![
        generated,
        common::fixture("program.speedscope.json"),
        common::fixture("program.threads.speedscope.json"),
    ];
    if let Some(public) = common::corpus("public/speedscope") {
        files.push(public.join("cs336-assignment1-basics/profile.speedscope.json"));
        // Brook's weights are whole milliseconds, alike in some profiles and not in others:
        // counted or added, whole numbers agree.
        files.push(public.join("Brook/profile.speedscope.json"));
    }
    for file in &files {
        let oracle = python(COUNTING_ORACLE, file);
        let mut want: Vec<(String, String, u64, u64)> = oracle["functions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f[0].as_str().unwrap().to_owned(),
                    f[1].as_str().unwrap_or("").to_owned(),
                    f[2].as_f64().unwrap().to_bits(),
                    f[3].as_f64().unwrap().to_bits(),
                )
            })
            .collect();
        want.sort();
        // Read from the file (mapped, counted without a tree) and from a pipe (merged into
        // trees): both must give the oracle's bits.
        let from_file = Command::new(env!("CARGO_BIN_EXE_obol"))
            .args(["summary", "--json", "--top", "100000"])
            .arg(file)
            .output()
            .unwrap();
        let from_pipe = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "{} summary --json --top 100000 - < '{}'",
                env!("CARGO_BIN_EXE_obol"),
                file.display()
            ))
            .output()
            .unwrap();
        for output in [from_file, from_pipe] {
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
            assert_eq!(
                summary["total"].as_f64().unwrap().to_bits(),
                oracle["total"].as_f64().unwrap().to_bits(),
                "{}: total {} against {}",
                file.display(),
                summary["total"],
                oracle["total"]
            );
            let mut got: Vec<(String, String, u64, u64)> = summary["functions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    (
                        f["name"].as_str().unwrap().to_owned(),
                        f["file"].as_str().unwrap_or("").to_owned(),
                        f["self"].as_f64().unwrap().to_bits(),
                        f["total"].as_f64().unwrap().to_bits(),
                    )
                })
                .collect();
            got.sort();
            assert_eq!(got, want, "{}", file.display());
        }
    }
}

/// Three sampled profiles of 0.01 s samples over 3,000 frames (two per function), about 20 MB.
fn write_alike_weights(path: &Path) {
    use std::io::Write;
    let mut rng = common::Lcg(5);
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    write!(out, r#"{{"shared":{{"frames":["#).unwrap();
    for i in 0..3000 {
        let comma = if i == 0 { "" } else { "," };
        write!(
            out,
            r#"{comma}{{"name":"f{}","file":"m{}.py","line":{i}}}"#,
            i / 2,
            i % 9
        )
        .unwrap();
    }
    write!(out, r#"]}},"profiles":["#).unwrap();
    for (p, samples) in [60_000u64, 180_000, 120_000].into_iter().enumerate() {
        let comma = if p == 0 { "" } else { "," };
        write!(
            out,
            r#"{comma}{{"type":"sampled","name":"t{p}","unit":"seconds","samples":["#
        )
        .unwrap();
        let mut before: Vec<u64> = Vec::new();
        for n in 0..samples {
            if rng.next(3) != 0 || before.is_empty() {
                let keep = rng.next(before.len() as u64 + 1) as usize;
                before.truncate(keep);
                for _ in 0..rng.next(20) {
                    // Frames of the same function now and then: recursion, counted once.
                    before.push(rng.next(3000) / if rng.next(10) == 0 { 600 } else { 1 });
                }
            }
            let text: Vec<String> = before.iter().map(u64::to_string).collect();
            let comma = if n == 0 { "" } else { "," };
            write!(out, "{comma}[{}]", text.join(",")).unwrap();
        }
        write!(out, r#"],"weights":["#).unwrap();
        for n in 0..samples {
            write!(out, "{}0.01", if n == 0 { "" } else { "," }).unwrap();
        }
        write!(out, "]}}").unwrap();
    }
    writeln!(out, "]}}").unwrap();
}
