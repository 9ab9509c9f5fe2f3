//! Every file of `../shared/corpus/` (real profiles other tools wrote) through `obol summary`,
//! against `fixtures/corpus_oracle.py`, which reads the same text in Python the way the tools
//! that wrote it do (flamegraph.pl's and inferno's rules for folded stacks and SVGs, Python's
//! own `pstats`, speedscope's samples and events). Files of `other-formats/` in formats obol
//! reads since (`common::READ_BY_THEIR_OWN_TESTS`: trace events, pprof, Firefox, perf script,
//! callgrind, …) must be read as that format, their figures checked by the test named there; the
//! rest of `other-formats/` and speedscope's own invalid samples must be refused cleanly: exit 2,
//! one line.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Json, run_obol};

/// What a corpus file must give.
#[derive(Debug)]
enum Expect {
    Refused,
    /// The oracle's summary.
    Like(Json),
    /// Python 2 pstats (`.prof2`): Python 3's marshal cannot load them, so no oracle; obol must
    /// read them.
    Read,
    /// A format obol reads since the corpus was laid out, whose figures the test named beside it
    /// checks against an oracle of its own: read as that format, or refused cleanly (a trace
    /// whose ends match nothing open).
    OwnTest(&'static str),
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files(&path, out);
        } else {
            let name = path.file_name().unwrap().to_string_lossy();
            if !(name.ends_with(".md") || name.starts_with("LICENSE")) {
                out.push(path);
            }
        }
    }
}

fn oracle(path: &Path) -> Json {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/corpus_oracle.py");
    let output = Command::new("python3")
        .arg(&script)
        .arg(path)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "{}: the oracle failed: {}",
        path.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    Json::parse(&String::from_utf8_lossy(&output.stdout)).unwrap()
}

fn expectation(corpus: &Path, path: &Path) -> Expect {
    let rel = path
        .strip_prefix(corpus)
        .unwrap()
        .to_string_lossy()
        .into_owned();
    if let Some((_, _, format)) = common::READ_BY_THEIR_OWN_TESTS
        .iter()
        .find(|(prefix, _, _)| rel.starts_with(prefix))
    {
        Expect::OwnTest(format)
    } else if rel.starts_with("other-formats/") || rel.starts_with("speedscope/speedscope/invalid/")
    {
        Expect::Refused
    } else if rel.ends_with(".prof2") {
        Expect::Read
    } else {
        let json = oracle(path);
        if json.has("refuse") {
            Expect::Refused
        } else {
            Expect::Like(json)
        }
    }
}

/// Exit 2, nothing on stdout, one line of at most 300 characters on stderr.
fn assert_refused(rel: &str, output: &std::process::Output) -> Result<(), String> {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let ok = output.status.code() == Some(2)
        && output.stdout.is_empty()
        && stderr.lines().count() == 1
        && stderr.starts_with("obol: error: ")
        && stderr.trim_end().chars().count() <= 300;
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{rel}: not refused cleanly ({:?}): {stderr}",
            output.status.code()
        ))
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

type Key = (String, Option<String>, Option<u64>);

fn rows(doc: &Json, pstats: bool) -> BTreeMap<Key, (f64, f64, Option<u64>)> {
    doc.get("functions")
        .array()
        .iter()
        .map(|f| {
            let line = if pstats {
                f.get("line").opt_u64()
            } else {
                None
            };
            let key = (
                f.get("name").str().to_owned(),
                f.get("file").opt_str().map(str::to_owned),
                line,
            );
            let calls = if pstats {
                f.get("calls").opt_u64()
            } else {
                None
            };
            (key, (f.get("self").f64(), f.get("total").f64(), calls))
        })
        .filter(|(_, (s, t, calls))| pstats || *s != 0.0 || *t != 0.0 || calls.is_some())
        .collect()
}

fn compare(rel: &str, got: &Json, want: &Json) -> Result<(), String> {
    let format = want.get("format").str();
    if got.get("format").str() != format {
        return Err(format!("{rel}: read as {}", got.get("format").str()));
    }
    let (total, expected) = (got.get("total").f64(), want.get("total").f64());
    if !close(total, expected) {
        return Err(format!("{rel}: total {total}, the oracle's {expected}"));
    }
    let pstats = format == "pstats";
    let (got_rows, want_rows) = (rows(got, pstats), rows(want, pstats));
    let differ: Vec<_> = got_rows
        .keys()
        .chain(want_rows.keys())
        .filter(|k| match (got_rows.get(*k), want_rows.get(*k)) {
            (Some(a), Some(b)) => !(close(a.0, b.0) && close(a.1, b.1) && a.2 == b.2),
            _ => true,
        })
        .take(3)
        .map(|k| (k, got_rows.get(k), want_rows.get(k)))
        .collect();
    if !differ.is_empty() {
        return Err(format!(
            "{rel}: functions differ (key, obol, oracle): {differ:?}"
        ));
    }
    if pstats {
        for f in want.get("functions").array() {
            let key = (
                f.get("name").str().to_owned(),
                f.get("file").opt_str().map(str::to_owned),
                f.get("line").opt_u64(),
            );
            let found = got.get("functions").array().iter().find(|g| {
                (
                    g.get("name").str().to_owned(),
                    g.get("file").opt_str().map(str::to_owned),
                    g.get("line").opt_u64(),
                ) == key
            });
            let primitive = found.map(|g| g.get("primitive_calls").opt_u64());
            if primitive != Some(f.get("primitive_calls").opt_u64()) {
                return Err(format!("{rel}: primitive calls of {key:?}: {primitive:?}"));
            }
        }
    }
    if want.has("profiles") {
        let list = |doc: &Json| -> Vec<(String, f64)> {
            let mut list: Vec<(String, f64)> = doc
                .get("profiles")
                .array()
                .iter()
                .map(|p| {
                    let name = p.get("name").opt_str().unwrap_or("").to_owned();
                    (name, p.get("total").f64())
                })
                .collect();
            list.sort_by(|a, b| a.0.cmp(&b.0));
            list
        };
        let (got_list, want_list) = (list(got), list(want));
        // The oracle names a file's single unthreaded profile `null`; obol names it after the
        // file. Thread profiles are named alike.
        let threaded = want_list.iter().any(|(name, _)| !name.is_empty());
        if threaded
            && (got_list.len() != want_list.len()
                || got_list
                    .iter()
                    .zip(&want_list)
                    .any(|(a, b)| a.0 != b.0 || !close(a.1, b.1)))
        {
            return Err(format!(
                "{rel}: profiles {got_list:?}, the oracle's {want_list:?}"
            ));
        }
    }
    Ok(())
}

fn check(corpus: &Path, path: &Path) -> Result<(), String> {
    let rel = path
        .strip_prefix(corpus)
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let expect = expectation(corpus, path);
    // Named relative to the corpus, as a user in that folder would: the one-line limit is on
    // what obol says, not on how long a path the user typed.
    let output = assert_cmd::Command::cargo_bin("obol")
        .unwrap()
        .current_dir(corpus)
        .args(["summary", &rel, "--json"])
        .output()
        .unwrap();
    match expect {
        Expect::Refused => assert_refused(&rel, &output),
        Expect::OwnTest(format) if output.status.success() => {
            let got = Json::parse(&String::from_utf8_lossy(&output.stdout)).unwrap();
            match got.get("format").str() {
                read if read == format => Ok(()),
                other => Err(format!("{rel}: read as {other}, not {format}")),
            }
        }
        Expect::OwnTest(_) => assert_refused(&rel, &output),
        Expect::Read if output.status.success() => Ok(()),
        Expect::Read => Err(format!(
            "{rel}: {}",
            String::from_utf8_lossy(&output.stderr)
        )),
        Expect::Like(want) => {
            if !output.status.success() {
                return Err(format!(
                    "{rel}: refused: {}",
                    String::from_utf8_lossy(&output.stderr)
                ));
            }
            let got = Json::parse(&String::from_utf8_lossy(&output.stdout)).unwrap();
            compare(&rel, &got, &want)?;
            // A differential file's first counts are the base `obol diff FILE` compares with.
            if want.has("base_total") && !want.get("base_total").is_null() {
                let (output, _) = run_obol(["diff".as_ref(), path.as_os_str(), "--json".as_ref()]);
                let diff = Json::parse(&String::from_utf8_lossy(&output.stdout))
                    .map_err(|e| format!("{rel}: obol diff: {e}"))?;
                let base = diff.get("base").get("total").f64();
                let new = diff.get("new").get("total").f64();
                if !close(base, want.get("base_total").f64()) || !close(new, total_of(&want)) {
                    return Err(format!("{rel}: obol diff gives base {base}, new {new}"));
                }
            }
            Ok(())
        }
    }
}

fn total_of(doc: &Json) -> f64 {
    doc.get("total").f64()
}

#[test]
fn every_corpus_file_matches_its_oracle_or_is_refused_cleanly() {
    let Some(corpus) = common::corpus("") else {
        return;
    };
    if !common::have("python3") {
        return;
    }
    let corpus = corpus.canonicalize().unwrap();
    let mut all = Vec::new();
    files(&corpus, &mut all);
    // The corpus holds some 390 files; a walk that found few would check nothing.
    assert!(all.len() >= 380, "only {} files found", all.len());
    let halves: Vec<Vec<PathBuf>> = vec![
        all.iter().step_by(2).cloned().collect(),
        all.iter().skip(1).step_by(2).cloned().collect(),
    ];
    let failures: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = halves
            .iter()
            .map(|half| {
                let corpus = &corpus;
                scope.spawn(move || {
                    half.iter()
                        .filter_map(|path| check(corpus, path).err())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{} of {} files:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}
