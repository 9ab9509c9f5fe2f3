//! The filters every command shares (`--focus`, `--ignore`, `--hide`, `--only-mine`, `--thread`,
//! `--merge-threads`) through the binary, against the fixtures' own text: each folded line is a
//! stack and its count, filtered here line by line (a stack through a match kept from its
//! outermost match, dropped, or with frames removed), and the function sums of what remains are
//! what `summary --json` must print. For pstats, Python's `pstats` gives the figures a filter
//! must keep.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::{Json, fixture, run_obol};
use regex::Regex;

/// One folded line: the profile (thread) it belongs to, its frames as (name, file), its count.
#[derive(Clone)]
struct Stack {
    thread: Option<String>,
    frames: Vec<(String, String)>,
    count: f64,
}

fn split_frame(frame: &str) -> (String, String) {
    match frame.rsplit_once(" (") {
        Some((name, place)) => {
            let place = place.trim_end_matches(')');
            let file = place.rsplit_once(':').map_or(place, |p| p.0);
            (name.to_owned(), file.to_owned())
        }
        None => (frame.to_owned(), String::new()),
    }
}

/// The stacks of a folded file; with `threads`, py-spy's `thread (ID): NAME` first frame is the
/// profile, not a frame.
fn read_folded(path: &Path, threads: bool) -> Vec<Stack> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let (stack, count) = line.rsplit_once(' ').unwrap();
            let mut parts: Vec<&str> = stack.split(';').filter(|f| !f.is_empty()).collect();
            let thread = (threads && !parts.is_empty()).then(|| parts.remove(0).to_owned());
            Stack {
                thread,
                frames: parts.into_iter().map(split_frame).collect(),
                count: count.parse().unwrap(),
            }
        })
        .collect()
}

type Sums = BTreeMap<(String, String), (f64, f64)>;

/// Per function (name, file): the count of the stacks it is the leaf of, and of the stacks it
/// is in (once per stack, however often it recurs).
fn sums(stacks: &[Stack]) -> Sums {
    let mut sums = Sums::new();
    for stack in stacks {
        let mut seen = std::collections::BTreeSet::new();
        for f in &stack.frames {
            if seen.insert(f.clone()) {
                sums.entry(f.clone()).or_insert((0.0, 0.0)).1 += stack.count;
            }
        }
        if let Some(leaf) = stack.frames.last() {
            sums.entry(leaf.clone()).or_insert((0.0, 0.0)).0 += stack.count;
        }
    }
    sums
}

/// The filters, applied to one stack at a time, as the flags' help says: ignore drops a stack
/// through a match, focus keeps a stack from its outermost match (none: dropped), hide removes
/// matching frames. A regex matches a frame by name or by file.
fn filtered(
    stacks: &[Stack],
    focus: Option<&str>,
    ignore: Option<&str>,
    hide: &dyn Fn(&(String, String)) -> bool,
) -> Vec<Stack> {
    let test = |re: &Regex, f: &(String, String)| re.is_match(&f.0) || re.is_match(&f.1);
    let focus = focus.map(|r| Regex::new(r).unwrap());
    let ignore = ignore.map(|r| Regex::new(r).unwrap());
    stacks
        .iter()
        .filter_map(|s| {
            if let Some(re) = &ignore
                && s.frames.iter().any(|f| test(re, f))
            {
                return None;
            }
            let mut frames = s.frames.clone();
            if let Some(re) = &focus {
                let first = frames.iter().position(|f| test(re, f))?;
                frames.drain(..first);
            }
            frames.retain(|f| !hide(f));
            Some(Stack {
                frames,
                ..s.clone()
            })
        })
        .collect()
}

fn no_hide(_: &(String, String)) -> bool {
    false
}

fn summary(args: &[&str]) -> (Json, String) {
    let mut all = vec!["summary", "--json"];
    all.extend(args);
    let (output, _) = run_obol(&all);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{all:?}: {stderr}");
    (
        Json::parse(&String::from_utf8_lossy(&output.stdout)).unwrap(),
        stderr,
    )
}

fn rows(json: &Json) -> Sums {
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
        .filter(|(_, (s, t))| *s != 0.0 || *t != 0.0)
        .collect()
}

fn assert_sums(what: &str, got: &Sums, want: &Sums) {
    let want: Sums = want
        .iter()
        .filter(|(_, (s, t))| *s != 0.0 || *t != 0.0)
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "{what}: the same functions"
    );
    for (key, (s, t)) in &want {
        assert_eq!(got[key], (*s, *t), "{what}: {key:?}");
    }
}

fn total(stacks: &[Stack]) -> f64 {
    stacks.iter().map(|s| s.count).sum()
}

#[test]
fn focus_ignore_and_hide_give_the_sums_of_the_filtered_lines() {
    let path = fixture("program.folded");
    let file = path.to_str().unwrap();
    let stacks = read_folded(&path, false);
    let hide_re = Regex::new("genexpr|listcomp").unwrap();
    let hide_some = |f: &(String, String)| hide_re.is_match(&f.0);
    let cases: Vec<(Vec<&str>, Vec<Stack>)> = vec![
        (
            vec!["--focus", "^run_round$"],
            filtered(&stacks, Some("^run_round$"), None, &no_hide),
        ),
        // Recursive: each stack from its outermost call.
        (
            vec!["--focus", "^count_leaves$"],
            filtered(&stacks, Some("^count_leaves$"), None, &no_hide),
        ),
        // By file.
        (
            vec!["--ignore", "json/"],
            filtered(&stacks, None, Some("json/"), &no_hide),
        ),
        (
            vec!["--hide", "genexpr|listcomp"],
            filtered(&stacks, None, None, &hide_some),
        ),
        (
            vec![
                "--focus",
                "^run_round$",
                "--ignore",
                "^to_json$",
                "--hide",
                "genexpr|listcomp",
            ],
            filtered(&stacks, Some("^run_round$"), Some("^to_json$"), &hide_some),
        ),
    ];
    for (flags, want) in cases {
        let mut args = vec![file];
        args.extend(&flags);
        let (json, _) = summary(&args);
        let what = format!("{flags:?}");
        assert_eq!(json.get("total").f64(), total(&want), "{what}");
        assert!(total(&want) > 0.0 && total(&want) < total(&stacks) || flags[0] == "--hide");
        assert_sums(&what, &rows(&json), &sums(&want));
    }
}

#[test]
fn focus_converts_to_the_filtered_lines_themselves() {
    // The folded file obol writes under --focus is the oracle's focused lines, added up.
    let path = fixture("program.folded");
    let (output, _) = run_obol([
        "convert",
        path.to_str().unwrap(),
        "--to",
        "folded",
        "--focus",
        "^price_all$",
    ]);
    assert!(output.status.success());
    let mut written: BTreeMap<String, f64> = BTreeMap::new();
    for line in String::from_utf8(output.stdout).unwrap().lines() {
        let (stack, count) = line.rsplit_once(' ').unwrap();
        let stack: Vec<String> = stack.split(';').map(|f| split_frame(f).0).collect();
        *written.entry(stack.join(";")).or_default() += count.parse::<f64>().unwrap();
    }
    let mut want: BTreeMap<String, f64> = BTreeMap::new();
    for s in filtered(
        &read_folded(&path, false),
        Some("^price_all$"),
        None,
        &no_hide,
    ) {
        let names: Vec<&str> = s.frames.iter().map(|f| f.0.as_str()).collect();
        *want.entry(names.join(";")).or_default() += s.count;
    }
    assert_eq!(written, want);
}

/// The library files of the fixture as Python itself tells them: frozen modules, and paths
/// (py-spy writes them relative to sys.path) whose top module is in `sys.stdlib_module_names`.
fn python_library_files(files: &[String]) -> Option<Vec<String>> {
    let output = Command::new("python3")
        .arg("-c")
        .arg(
            "import sys\n\
             for f in sys.argv[1:]:\n\
             \x20   top = f.split('/')[0].removesuffix('.py')\n\
             \x20   if f.startswith('<frozen ') or top in sys.stdlib_module_names: print(f)",
        )
        .args(files)
        .output()
        .ok()?;
    output.status.success().then(|| {
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(str::to_owned)
            .collect()
    })
}

#[test]
fn only_mine_hides_what_python_calls_its_library() {
    let path = fixture("program.folded");
    let stacks = read_folded(&path, false);
    let mut files: Vec<String> = stacks
        .iter()
        .flat_map(|s| s.frames.iter().map(|f| f.1.clone()))
        .collect();
    files.sort();
    files.dedup();
    let Some(library) = python_library_files(&files) else {
        common::skip("python3");
        return;
    };
    assert!(
        library.iter().any(|f| f == "json/encoder.py"),
        "{library:?}"
    );
    let want = filtered(&stacks, None, None, &|f| library.contains(&f.1));
    let (json, _) = summary(&[path.to_str().unwrap(), "--only-mine"]);
    assert_eq!(json.get("total").f64(), total(&stacks));
    assert_sums("--only-mine", &rows(&json), &sums(&want));
}

#[test]
fn threads_are_picked_by_name_or_number_and_merged() {
    let path = fixture("program.threads.folded");
    let file = path.to_str().unwrap();
    let stacks = read_folded(&path, true);
    let (all, _) = summary(&[file]);
    let names: Vec<String> = all
        .get("profiles")
        .array()
        .iter()
        .map(|p| p.get("name").str().to_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    for (i, name) in names.iter().enumerate() {
        // py-spy's `thread (ID): NAME` (or `thread (ID)`) lines, obol's `Thread ID "NAME"`.
        let id = name.split(' ').nth(1).unwrap();
        let own: Vec<Stack> = stacks
            .iter()
            .filter(|s| {
                s.thread
                    .as_deref()
                    .is_some_and(|t| t.starts_with(&format!("thread ({id})")))
            })
            .cloned()
            .collect();
        assert!(!own.is_empty(), "{name}");
        let number = (i + 1).to_string();
        // By its whole name, by the unique part people type, by its number.
        let short = name.split('"').nth(1).unwrap();
        for pick in [name.as_str(), short, &number] {
            let (json, _) = summary(&[file, "--thread", pick]);
            assert_eq!(json.get("profiles").array().len(), 1, "{pick}");
            assert_eq!(json.get("total").f64(), total(&own), "{pick}");
            assert_sums(pick, &rows(&json), &sums(&own));
        }
        // With a focus on top.
        let (json, _) = summary(&[file, "--thread", &number, "--focus", "^run_round$"]);
        let want = filtered(&own, Some("^run_round$"), None, &no_hide);
        assert_sums("thread and focus", &rows(&json), &sums(&want));
    }
    let (merged, _) = summary(&[file, "--merge-threads"]);
    assert_eq!(merged.get("profiles").array().len(), 1);
    assert_eq!(merged.get("total").f64(), total(&stacks));
    assert_sums("--merge-threads", &rows(&merged), &sums(&stacks));
    // A name no thread has: one line listing those there are, exit 2.
    let (output, _) = run_obol(["summary", file, "--thread", "nobody"]);
    assert_eq!(output.status.code(), Some(2));
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no profile named \"nobody\"") && err.contains("worker"));
}

#[test]
fn callers_callees_and_diff_read_the_filtered_profile() {
    let path = fixture("program.folded");
    let file = path.to_str().unwrap();
    let stacks = read_folded(&path, false);
    // callees of run_round with to_json's stacks left out: no to_json, and run_round's total
    // is what the filtered lines give it.
    let (output, _) = run_obol([
        "callees",
        "^run_round$",
        file,
        "--json",
        "--ignore",
        "^to_json$",
    ]);
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(!text.contains("\"to_json\""), "{text}");
    assert!(text.contains("\"price_all\""), "{text}");
    // diff of a file against itself focused two ways: each side's total is its filtered lines'.
    let (output, _) = run_obol([
        "diff", file, file, "--json", "--focus", "^audit$", "--top", "3",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json = Json::parse(&String::from_utf8_lossy(&output.stdout)).unwrap();
    let want = total(&filtered(&stacks, Some("^audit$"), None, &no_hide));
    assert_eq!(json.get("base").get("total").f64(), want);
    assert_eq!(json.get("new").get("total").f64(), want);
    // priority takes them too.
    let (output, _) = run_obol(["priority", file, "--json", "--ignore", "json/"]);
    assert!(output.status.success());
}

#[test]
fn bad_regexes_are_one_line_naming_the_flag() {
    for flag in ["--focus", "--ignore", "--hide"] {
        let (output, _) = run_obol([
            "summary",
            fixture("program.folded").to_str().unwrap(),
            flag,
            "(",
        ]);
        assert_eq!(output.status.code(), Some(2), "{flag}");
        let err = String::from_utf8_lossy(&output.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains(&format!("{flag} is not a valid regular expression")),
            "{err}"
        );
    }
}

/// Python's figures for a pstats file: total_tt, and (cumtime, tottime) of the named function.
fn pstats_figures(path: &Path, name: &str) -> Option<(f64, f64, f64)> {
    let output = Command::new("python3")
        .arg("-c")
        .arg(
            "import pstats, sys\n\
             s = pstats.Stats(sys.argv[1])\n\
             (ct, tt), = [(v[3], v[2]) for k, v in s.stats.items() if k[2] == sys.argv[2]]\n\
             print(repr(s.total_tt), repr(ct), repr(tt))",
        )
        .arg(path)
        .arg(name)
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let v: Vec<f64> = text
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    Some((v[0], v[1], v[2]))
}

#[test]
fn on_pstats_threads_are_exact_and_tree_filters_use_the_estimate_and_say_so() {
    let path = fixture("program.prof");
    let file = path.to_str().unwrap();
    let (plain, _) = summary(&[file]);
    // One profile: --thread 1 and --merge-threads change nothing, the exact table stays.
    for flags in [&["--thread", "1"][..], &["--merge-threads"]] {
        let mut args = vec![file];
        args.extend(flags);
        let (json, err) = summary(&args);
        assert_eq!(json, plain, "{flags:?}");
        assert!(!err.contains("estimate"), "{err}");
    }
    let Some((total_tt, run_round_ct, _)) = pstats_figures(&path, "run_round") else {
        common::skip("python3");
        return;
    };
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-6 * b.abs().max(1e-9);
    // Hiding keeps the total (the estimate's is total_tt up to rounding).
    let (hidden, err) = summary(&[file, "--hide", "^_"]);
    assert!(err.contains("estimated call tree"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(close(hidden.get("total").f64(), total_tt));
    assert!(
        hidden
            .get("functions")
            .array()
            .iter()
            .all(|f| f.get("calls").is_null() && !f.get("name").str().starts_with('_'))
    );
    // run_round is called from one place: focused, the tree holds its cumulative time.
    let (focused, _) = summary(&[file, "--focus", "^run_round$"]);
    assert!(
        close(focused.get("total").f64(), run_round_ct),
        "{} vs {run_round_ct}",
        focused.get("total").f64()
    );
}
