//! `perf script` text through the binary, against inferno's `collapse-perf --kernel` (the
//! oracle: the folded file it writes from the same text): every function's self and total
//! sample counts equal those summed from inferno's stacks, for a recording of the fixture
//! program by `perf record --call-graph dwarf` under Python 3.12's `-X perf`, and for the
//! perf files of the corpus (flamegraph's and inferno's test data, speedscope's, a generated
//! one). Both weigh a sample by its period where the event line gives one (inferno since
//! 0.12), else count it.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{Json, fixture, run_obol};

/// (self, total) per function, named as inferno names frames.
type Weights = BTreeMap<String, (f64, f64)>;

fn read_text(path: &Path) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .expect("gzip");
        out
    } else {
        bytes
    }
}

/// inferno-collapse-perf's folded output for `text`.
fn inferno(text: &[u8], event: Option<&str>, by_thread: bool) -> String {
    let mut command = Command::new("inferno-collapse-perf");
    command.arg("--kernel");
    if by_thread {
        command.arg("--tid");
    }
    if let Some(event) = event {
        command.args(["--event-filter", event]);
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("inferno-collapse-perf runs");
    let mut stdin = child.stdin.take().unwrap();
    let input = text.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child
        .wait_with_output()
        .expect("inferno-collapse-perf ends");
    writer.join().unwrap().expect("inferno reads its input");
    assert!(output.status.success(), "inferno-collapse-perf failed");
    String::from_utf8(output.stdout).expect("UTF-8")
}

/// Self and once-per-stack totals from a folded file, its root (the command) left out.
fn folded_weights(folded: &str) -> Weights {
    let mut weights = Weights::new();
    for line in folded.lines() {
        let (stack, count) = line.rsplit_once(' ').expect("`stack count`");
        let count: f64 = count.parse().expect("a count");
        let frames: Vec<&str> = stack.split(';').skip(1).collect();
        let mut seen = std::collections::BTreeSet::new();
        for frame in &frames {
            if seen.insert(*frame) {
                weights.entry((*frame).to_owned()).or_default().1 += count;
            }
        }
        if let Some(leaf) = frames.last() {
            weights.entry((*leaf).to_owned()).or_default().0 += count;
        }
    }
    weights
}

/// obol's functions under inferno's names: a Python frame `py::FUNCTION:FILE` again.
fn add_obol_weights(summary: &Json, into: &mut Weights) {
    for f in summary.get("functions").array() {
        let name = f.get("name").str();
        let name = match f.get("file").opt_str() {
            Some(file) => format!("py::{name}:{file}"),
            None => name.to_owned(),
        };
        let row = into.entry(name).or_default();
        row.0 += f.get("self").f64();
        row.1 += f.get("total").f64();
    }
}

fn summary(path: &Path, thread: Option<&str>) -> Json {
    let mut args = vec![
        "summary".to_owned(),
        path.display().to_string(),
        "--json".to_owned(),
    ];
    if let Some(thread) = thread {
        args.extend(["--thread".to_owned(), thread.to_owned()]);
    }
    let (output, _) = run_obol(&args);
    assert!(
        output.status.success(),
        "{}: {}",
        path.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    Json::parse(&String::from_utf8_lossy(&output.stdout)).expect("JSON")
}

/// The event a profile is of, when the file has several (`COMM TID (EVENT)`).
fn event_of(name: &str) -> Option<&str> {
    name.strip_suffix(')')?.rsplit_once(" (").map(|(_, e)| e)
}

fn assert_same(what: &str, got: &Weights, want: &Weights) {
    let differ: Vec<_> = got
        .keys()
        .chain(want.keys())
        .filter(|k| got.get(*k) != want.get(*k))
        .take(5)
        .map(|k| (k, got.get(k), want.get(k)))
        .collect();
    assert!(
        differ.is_empty(),
        "{what}: functions differ (name, obol, inferno): {differ:?}"
    );
}

/// Checks one perf script file; returns the number of functions compared.
fn check(path: &Path) -> usize {
    let what = path.display().to_string();
    let text = read_text(path);
    let whole = summary(path, None);
    assert_eq!(whole.get("format").str(), "perf-script", "{what}");
    let profiles: Vec<String> = whole
        .get("profiles")
        .array()
        .iter()
        .map(|p| p.get("name").str().to_owned())
        .collect();
    let mut by_event: BTreeMap<Option<String>, Vec<String>> = BTreeMap::new();
    let several = profiles.iter().all(|p| event_of(p).is_some()) && profiles.len() > 1;
    for name in &profiles {
        let event = several.then(|| event_of(name).unwrap().to_owned());
        by_event.entry(event).or_default().push(name.clone());
    }
    let mut compared = 0;
    for (event, names) in &by_event {
        let mut got = Weights::new();
        if event.is_none() {
            add_obol_weights(&whole, &mut got);
        } else {
            for name in names {
                add_obol_weights(&summary(path, Some(name)), &mut got);
            }
        }
        got.retain(|_, (s, t)| *s != 0.0 || *t != 0.0);
        let want = folded_weights(&inferno(&text, event.as_deref(), false));
        assert_same(&format!("{what} ({event:?})"), &got, &want);
        compared += want.len();
        assert_same_threads(
            &what,
            &whole,
            names,
            &inferno(&text, event.as_deref(), true),
        );
    }
    compared
}

/// The thread id of an obol profile name, `COMM [PID/]TID [(EVENT)]`.
fn tid_of_profile(name: &str) -> &str {
    let name = name.rsplit_once(" (").map_or(name, |(front, _)| front);
    let last = name.rsplit(' ').next().unwrap_or(name);
    last.rsplit('/').next().unwrap_or(last)
}

/// One profile per thread: each thread's total is the sum of inferno's stacks under its
/// `COMM-PID/TID` root (a thread whose command changed has a root per command).
fn assert_same_threads(what: &str, whole: &Json, names: &[String], by_tid: &str) {
    let mut want: BTreeMap<String, f64> = BTreeMap::new();
    for line in by_tid.lines() {
        let (stack, count) = line.rsplit_once(' ').expect("`stack count`");
        let root = stack.split(';').next().unwrap_or("");
        let tid = root.rsplit('/').next().unwrap_or(root);
        *want.entry(tid.to_owned()).or_default() += count.parse::<f64>().unwrap();
    }
    let mut got: BTreeMap<String, f64> = BTreeMap::new();
    for p in whole.get("profiles").array() {
        let name = p.get("name").str();
        if names.iter().any(|n| n == name) {
            *got.entry(tid_of_profile(name).to_owned()).or_default() += p.get("total").f64();
        }
    }
    assert_eq!(got, want, "{what}: totals per thread (obol, inferno --tid)");
}

/// inferno's collapsers have no `--version`: `--help` tells whether one runs.
fn have_inferno() -> bool {
    let found = Command::new("inferno-collapse-perf")
        .arg("--help")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        common::skip("inferno-collapse-perf");
    }
    found
}

#[test]
fn python_312_perf_trampolines_recorded_by_perf_match_inferno() {
    if !have_inferno() {
        return;
    }
    let path = fixture("program.perf-script.txt");
    assert!(check(&path) > 100);
    // Python's frames are split into function and file.
    let whole = summary(&path, None);
    let functions = whole.get("functions").array();
    assert!(functions.iter().any(|f| {
        f.get("name").str() == "apply_tax"
            && f.get("file")
                .opt_str()
                .is_some_and(|file| file.ends_with("shop/pricing.py"))
    }));
    // Two threads of the program, timed in nanoseconds (cpu-clock's period).
    assert_eq!(whole.get("profiles").array().len(), 2);
    assert_eq!(whole.get("unit").str(), "nanoseconds");
}

fn corpus_perf_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in [
        "other-formats/flamegraph/test",
        "other-formats/inferno/collapse-perf",
        "other-formats/speedscope/linux-perf",
        "other-formats/generated",
    ] {
        let Some(dir) = common::corpus(dir) else {
            return Vec::new();
        };
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.contains("perf") || path.parent().unwrap().ends_with("collapse-perf") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn corpus_perf_files_match_inferno() {
    if !have_inferno() {
        return;
    }
    let files = corpus_perf_files();
    if files.is_empty() {
        return;
    }
    assert!(files.len() >= 25, "{} files", files.len());
    let mut read = 0;
    for path in &files {
        // An empty file is refused, as every empty file is.
        if std::fs::metadata(path).unwrap().len() == 0 {
            continue;
        }
        check(path);
        read += 1;
    }
    assert!(read >= 25, "{read} files read");
}
