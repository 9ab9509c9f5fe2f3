//! `obol source NAME FILE` through the binary: per-line self and total against sums Python makes
//! from the fixtures' raw py-spy stacks (folded and speedscope, which keep each frame's line);
//! a missing source; a standard-library function found in python3's library; and pstats' callee
//! edges against Python's `pstats` (`all_callees`), placed on the lines Python's `ast` finds
//! calling them.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use common::{Json, fixture, run_obol};

/// Per line of one function: self and total, counted from the raw stacks. A stack's count goes
/// to the total of the line of the function's outermost frame (once, however deep it recursed)
/// and to the self of the leaf's line when the leaf is the function.
const LINE_SUMS: &str = r#"
import json, re, sys
kind, path, name = sys.argv[1:4]
hidden = sys.argv[4] if len(sys.argv) > 4 else None
stacks = []
if kind == "folded":
    for line in open(path, encoding="utf-8"):
        stack, count = line.rstrip("\n").rsplit(" ", 1)
        frames = []
        for f in stack.split(";"):
            if not f:
                continue
            m = re.fullmatch(r"(.*) \((.*):(\d+)\)", f)
            frames.append((m.group(1), m.group(2), int(m.group(3))))
        stacks.append((frames, float(count)))
else:
    doc = json.load(open(path, encoding="utf-8"))
    shared = doc["shared"]["frames"]
    for p in doc["profiles"]:
        for sample, weight in zip(p["samples"], p["weights"]):
            frames = [(shared[i]["name"], shared[i].get("file"), shared[i].get("line")) for i in sample]
            stacks.append((frames, float(weight)))
lines = {}
files = set()
for frames, count in stacks:
    frames = [f for f in frames if f[0] != hidden]
    mine = [f for f in frames if f[0] == name]
    if not mine:
        continue
    files.add(mine[0][1])
    lines.setdefault(mine[0][2], [0.0, 0.0])[1] += count
    if frames[-1][0] == name:
        lines.setdefault(frames[-1][2], [0.0, 0.0])[0] += count
assert len(files) == 1, files
print(json.dumps({"file": files.pop(), "lines": {str(k): v for k, v in lines.items()}}))
"#;

fn python(script: &str, args: &[&str]) -> Json {
    let output = Command::new("python3")
        .args(["-c", script])
        .args(args)
        .output()
        .expect("python3 runs (CI installs it; it is the oracle here)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Json::parse(&String::from_utf8_lossy(&output.stdout)).unwrap()
}

fn obol(args: &[&str]) -> (Json, String) {
    let (output, _) = run_obol(args);
    assert!(
        output.status.success(),
        "obol {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let doc = Json::parse(&String::from_utf8_lossy(&output.stdout)).expect("obol prints JSON");
    (doc, String::from_utf8_lossy(&output.stderr).into_owned())
}

type Lines = BTreeMap<u64, (f64, f64)>;

fn oracle_lines(kind: &str, path: &str, name: &str) -> Lines {
    oracle_lines_hiding(kind, path, name, &[])
}

/// [`oracle_lines`] with the frames of the function named in `hidden` (if any) taken out.
fn oracle_lines_hiding(kind: &str, path: &str, name: &str, hidden: &[&str]) -> Lines {
    let mut args = vec![kind, path, name];
    args.extend_from_slice(hidden);
    let doc = python(LINE_SUMS, &args);
    let Json::Object(members) = doc.get("lines") else {
        panic!("lines {doc:?}")
    };
    members
        .iter()
        .map(|(k, v)| {
            let v = v.array();
            (k.parse().unwrap(), (v[0].f64(), v[1].f64()))
        })
        .collect()
}

/// The lines obol gives figures for (zero lines of the listing left out).
fn sampled(doc: &Json) -> Lines {
    doc.get("lines")
        .array()
        .iter()
        .map(|l| {
            let n = l.get("number").opt_u64().unwrap();
            (n, (l.get("self").f64(), l.get("total").f64()))
        })
        .filter(|(_, (s, t))| *s != 0.0 || *t != 0.0)
        .collect()
}

/// The same lines with the same figures, up to the order floats were added in.
fn assert_close(got: &Lines, want: &Lines, what: &str) {
    let same = got.len() == want.len()
        && got.iter().zip(want).all(|((gl, g), (wl, w))| {
            gl == wl && common::close(g.0, w.0) && common::close(g.1, w.1)
        });
    assert!(same, "{what}: obol {got:?}, python {want:?}");
}

fn regex_for(name: &str) -> String {
    format!("^{}$", regex_escape(name))
}

fn regex_escape(name: &str) -> String {
    name.chars()
        .flat_map(|c| {
            if r"\.+*?()|[]{}^$#&-~".contains(c) {
                vec!['\\', c]
            } else {
                vec![c]
            }
        })
        .collect()
}

/// Functions whose samples span several lines, one recursing (count_leaves) and one of the
/// standard library (found through python3): per-line figures as Python sums them, text as the
/// file has it.
#[test]
fn per_line_figures_are_the_raw_stacks_sums() {
    let roots = fixture("program");
    let roots = roots.to_str().unwrap();
    for (kind, file) in [
        ("folded", "program.folded"),
        ("speedscope", "program.speedscope.json"),
    ] {
        let path = fixture(file);
        let path = path.to_str().unwrap();
        for name in [
            "run_round",
            "price_all",
            "count_leaves",
            "_make_iterencode.<locals>._iterencode_list",
        ] {
            let want = oracle_lines(kind, path, name);
            assert!(want.len() >= 2, "{name} in {file} spans several lines");
            let (doc, _) = obol(&[
                "source",
                &regex_for(name),
                path,
                "--source-root",
                roots,
                "--json",
            ]);
            assert_eq!(doc.get("name").str(), name);
            assert_close(&sampled(&doc), &want, &format!("{name} in {file}"));
            let found = doc.get("path").opt_str().expect("the source is found");
            let source: Vec<String> = std::fs::read_to_string(found)
                .unwrap()
                .lines()
                .map(str::to_owned)
                .collect();
            for line in doc.get("lines").array() {
                let n = line.get("number").opt_u64().unwrap() as usize;
                assert_eq!(line.get("text").opt_str(), Some(source[n - 1].as_str()));
            }
            // The listing is the function: it starts at its def.
            let first = doc.get("lines").array()[0].get("text").str().trim_start();
            let short = name.rsplit('.').next().unwrap();
            assert!(first.starts_with(&format!("def {short}(")), "{first}");
        }
    }
}

/// The filters change the figures as they change every other command's: hidden frames give
/// their weight to the line that called them; merged threads add up.
#[test]
fn hidden_frames_and_merged_threads_change_the_lines() {
    let path = fixture("program.folded");
    let path = path.to_str().unwrap();
    let (doc, _) = obol(&[
        "source",
        "^price_all$",
        path,
        "--hide",
        "^apply_tax$",
        "--json",
    ]);
    let want = oracle_lines_hiding("folded", path, "price_all", &["apply_tax"]);
    assert_close(&sampled(&doc), &want, "price_all, apply_tax hidden");
    assert_ne!(
        want,
        oracle_lines("folded", path, "price_all"),
        "hiding moved self weight"
    );
    let threads = fixture("program.threads.speedscope.json");
    let threads = threads.to_str().unwrap();
    let (doc, _) = obol(&[
        "source",
        "^price_all$",
        threads,
        "--merge-threads",
        "--json",
    ]);
    let want = oracle_lines("speedscope", threads, "price_all");
    assert_close(&sampled(&doc), &want, "price_all, threads merged");
}

#[test]
fn a_standard_library_function_is_read_from_python3s_library() {
    let stdlib = Command::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['stdlib'])",
        ])
        .output()
        .expect("python3 runs");
    let stdlib = String::from_utf8_lossy(&stdlib.stdout).trim().to_owned();
    let path = fixture("program.folded");
    let (doc, _) = obol(&[
        "source",
        r"\._iterencode$",
        path.to_str().unwrap(),
        "--json",
    ]);
    let found = doc.get("path").opt_str().unwrap();
    assert_eq!(
        std::path::Path::new(found),
        std::path::Path::new(&stdlib).join("json/encoder.py")
    );
}

#[test]
fn a_missing_source_is_said_and_its_sampled_lines_still_listed() {
    let path = fixture("program.folded");
    let path = path.to_str().unwrap();
    let (doc, stderr) = obol(&["source", "^count_leaves$", path, "--json"]);
    assert!(doc.get("path").is_null());
    assert!(
        stderr.contains("shop/catalog.py") && stderr.contains("not found"),
        "{stderr}"
    );
    let lines = doc.get("lines").array();
    assert!(lines.iter().all(|l| l.get("text").is_null()));
    assert_close(
        &sampled(&doc),
        &oracle_lines("folded", path, "count_leaves"),
        "count_leaves",
    );
    assert_eq!(lines.len(), sampled(&doc).len(), "only the sampled lines");
    // The text listing says the same.
    let (output, _) = run_obol(["source", "^count_leaves$", path]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("source not found"), "{text}");
}

/// For each callee edge of a function, pstats' (calls, primitive calls, tottime, cumtime) and the
/// first line of the function's body that calls it by name, as Python's `ast` finds it (null
/// when none does).
const PSTATS_CALLEES: &str = r#"
import ast, json, pstats, sys
path, root, wanted = sys.argv[1:4]
s = pstats.Stats(path)
s.calc_callees()
def token(name):
    if "'" in name:
        return name.split("'")[1]
    for p in ("<built-in method ", "<built-in function "):
        if name.startswith(p):
            return name[len(p):].rstrip(">").rsplit(".", 1)[-1]
    if name.startswith("<"):
        return None
    return name.rsplit(".", 1)[-1]
out = []
for f, callees in s.all_callees.items():
    if f[2] != wanted or f[0].startswith(("<", "~")) or "/lib/python" in f[0]:
        continue
    rel = f[0].split("obol-fixture-program/", 1)[-1]
    tree = ast.parse(open(root + "/" + rel, encoding="utf-8").read())
    node = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.lineno == f[1])
    calls = {}
    for n in ast.walk(node):
        if isinstance(n, ast.Call):
            name = n.func.id if isinstance(n.func, ast.Name) else getattr(n.func, "attr", None)
            if name:
                calls[name] = min(calls.get(name, n.lineno), n.lineno)
    for callee, (nc, cc, tt, ct) in callees.items():
        out.append([callee[2], callee[0], callee[1], nc, cc, tt, ct, calls.get(token(callee[2]))])
print(json.dumps(out))
"#;

#[test]
fn pstats_callees_are_print_callees_edges_beside_their_calling_lines() {
    let path = fixture("program.prof");
    let path = path.to_str().unwrap();
    let root = fixture("program");
    let root = root.to_str().unwrap();
    for name in ["run_round", "price_all", "to_json", "count_leaves"] {
        let want = python(PSTATS_CALLEES, &[path, root, name]);
        let mut want: Vec<String> = want
            .array()
            .iter()
            .map(|e| {
                let e = e.array();
                format!(
                    "{} {} {:?} {:?} {:?} {} {} line {:?}",
                    e[0].str(),
                    e[1].str(),
                    e[2].opt_u64(),
                    e[3].opt_u64(),
                    e[4].opt_u64(),
                    e[5].f64(),
                    e[6].f64(),
                    e[7].opt_u64()
                )
            })
            .collect();
        assert!(!want.is_empty(), "{name} calls something");
        let (doc, _) = obol(&[
            "source",
            &regex_for(name),
            path,
            "--source-root",
            root,
            "--json",
        ]);
        let edge = |c: &Json, line: Option<u64>| {
            format!(
                "{} {} {:?} {:?} {:?} {} {} line {:?}",
                c.get("name").str(),
                c.get("file").str(),
                c.get("line").opt_u64(),
                c.get("calls").opt_u64(),
                c.get("primitive_calls").opt_u64(),
                c.get("tottime").f64(),
                c.get("cumtime").f64(),
                line
            )
        };
        let mut got: Vec<String> = Vec::new();
        for line in doc.get("lines").array() {
            assert!(line.get("self").is_null() && line.get("total").is_null());
            if line.has("callees") {
                let n = line.get("number").opt_u64();
                got.extend(line.get("callees").array().iter().map(|c| edge(c, n)));
            }
        }
        if doc.has("callees_not_placed") {
            got.extend(
                doc.get("callees_not_placed")
                    .array()
                    .iter()
                    .map(|c| edge(c, None)),
            );
        }
        want.sort();
        got.sort();
        assert_eq!(got, want, "callees of {name}");
        assert!(
            got.iter().any(|e| !e.ends_with("None")),
            "some callee of {name} is placed on a line"
        );
    }
}

/// Filtered, a pstats file keeps only its estimated tree: the callees are that tree's, still
/// beside their lines, and the hidden function is not among them.
#[test]
fn pstats_filtered_shows_the_estimated_callees_without_the_hidden() {
    let path = fixture("program.prof");
    let root = fixture("program");
    let (doc, stderr) = obol(&[
        "source",
        "^price_all$",
        path.to_str().unwrap(),
        "--source-root",
        root.to_str().unwrap(),
        "--hide",
        "^apply_tax$",
        "--json",
    ]);
    assert!(stderr.contains("estimated call tree"), "{stderr}");
    let mut callees = Vec::new();
    for line in doc.get("lines").array() {
        assert!(line.get("self").is_null());
        if line.has("callees") {
            for c in line.get("callees").array() {
                callees.push((c.get("name").str().to_owned(), line.get("number").opt_u64()));
            }
        }
    }
    assert!(
        callees.contains(&("discount".to_owned(), Some(47))),
        "{callees:?}"
    );
    assert!(callees.iter().all(|(n, _)| n != "apply_tax"), "{callees:?}");
}

#[test]
fn a_name_matching_nothing_is_an_error() {
    let path = fixture("program.folded");
    let (output, _) = run_obol(["source", "^no_such_function$", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no function matches"));
}
