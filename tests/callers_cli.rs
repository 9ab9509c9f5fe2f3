//! `obol callers` and `obol callees` through the binary: for a pstats file every edge of every
//! function against Python's own `pstats` (`stats[f][4]` and `calc_callees`); for a folded file
//! against sums the test makes from the file's lines.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use common::{Json, fixture, run_obol};

/// (name, file, line) as the JSON gives them; line kept for pstats, dropped for sampled formats.
type Key = (String, Option<String>, Option<u64>);

/// (calls, primitive calls, self, total) of one edge.
type Figures = (Option<u64>, Option<u64>, f64, f64);

/// Per function, (self, total) of each edge to the function at the other end.
type EdgeSums = BTreeMap<Key, BTreeMap<Key, (f64, f64)>>;

fn obol_json(args: &[&str]) -> Json {
    let (output, _) = run_obol(args);
    assert!(
        output.status.success(),
        "obol {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Json::parse(&String::from_utf8_lossy(&output.stdout)).expect("obol prints JSON")
}

fn key(json: &Json, keep_line: bool) -> Key {
    (
        json.get("name").str().to_owned(),
        json.get("file").opt_str().map(str::to_owned),
        if keep_line {
            json.get("line").opt_u64()
        } else {
            None
        },
    )
}

/// Every function's edges in one direction, as obol prints them for the regex `.`.
fn obol_edges(verb: &str, path: &str, keep_line: bool) -> BTreeMap<Key, BTreeMap<Key, Figures>> {
    let doc = obol_json(&[verb, ".", path, "--json"]);
    let member = if verb == "callers" {
        "callers"
    } else {
        "callees"
    };
    doc.get("functions")
        .array()
        .iter()
        .map(|f| {
            let edges = f
                .get(member)
                .array()
                .iter()
                .map(|e| {
                    let figures = (
                        e.get("calls").opt_u64(),
                        e.get("primitive_calls").opt_u64(),
                        e.get("self").f64(),
                        e.get("total").f64(),
                    );
                    (key(e, keep_line), figures)
                })
                .collect();
            (key(f, keep_line), edges)
        })
        .collect()
}

const PSTATS_EDGES: &str = r#"
import json, pstats, sys
s = pstats.Stats(sys.argv[1])
s.calc_callees()
def key(f):
    file, line, name = f
    # obol reads pstats' built-ins ('~', 0, '<...>') with the file and line as written.
    return [name, file, line]
out = []
for f, (cc, nc, tt, ct, callers) in s.stats.items():
    if tt == 0 and ct == 0 and nc == 0:
        continue
    edges = lambda d: [[key(o), list(v)] for o, v in d.items()]
    out.append([key(f), edges(callers), edges(s.all_callees.get(f, {}))])
print(json.dumps(out))
"#;

#[test]
fn pstats_edges_are_those_of_python_pstats() {
    let path = fixture("program.prof");
    let path = path.to_str().unwrap();
    let output = Command::new("python3")
        .args(["-c", PSTATS_EDGES, path])
        .output()
        .expect("python3 runs (CI installs it; it is the oracle here)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let oracle = Json::parse(&String::from_utf8_lossy(&output.stdout)).unwrap();
    let callers = obol_edges("callers", path, true);
    let callees = obol_edges("callees", path, true);
    let as_key = |k: &Json| -> Key {
        let parts = k.array();
        (
            parts[0].str().to_owned(),
            Some(parts[1].str().to_owned()),
            parts[2].opt_u64(),
        )
    };
    let as_edges = |list: &Json| -> BTreeMap<Key, Figures> {
        list.array()
            .iter()
            .map(|pair| {
                let [other, v] = pair.array() else {
                    panic!("pair {pair:?}")
                };
                let v = v.array();
                // cProfile's edge tuple is (calls, primitive calls, tottime, cumtime).
                let figures = (v[0].opt_u64(), v[1].opt_u64(), v[2].f64(), v[3].f64());
                (as_key(other), figures)
            })
            .collect()
    };
    let functions = oracle.array();
    assert!(functions.len() > 100, "the fixture has its 263 functions");
    let mut edges_seen = 0;
    for entry in functions {
        let [f, by, to] = entry.array() else {
            panic!("entry {entry:?}")
        };
        let f = as_key(f);
        let (want_callers, want_callees) = (as_edges(by), as_edges(to));
        edges_seen += want_callers.len();
        assert_eq!(callers.get(&f), Some(&want_callers), "callers of {f:?}");
        assert_eq!(callees.get(&f), Some(&want_callees), "callees of {f:?}");
    }
    assert_eq!(
        callers.len(),
        functions.len(),
        "obol lists the same functions"
    );
    assert!(edges_seen > 200, "{edges_seen} edges compared");
}

/// Per function of the folded file: (self, total) of each caller and callee edge, counted from the
/// lines. A stack counts once for a function, at its outermost frame (recursion counted once):
/// the caller is the frame above it, the callee the frame below; the edge's self weight is the
/// line's count when the stack's leaf is the function at the far end.
fn folded_edges(text: &str) -> [EdgeSums; 2] {
    let func = |frame: &str| -> Key {
        match frame.rsplit_once(" (") {
            Some((name, place)) => {
                let file = place.trim_end_matches(')').rsplit_once(':').unwrap().0;
                (name.to_owned(), Some(file.to_owned()), None)
            }
            None => (frame.to_owned(), None, None),
        }
    };
    let mut callers = EdgeSums::new();
    let mut callees = EdgeSums::new();
    for line in text.lines() {
        let (stack, count) = line.rsplit_once(' ').unwrap();
        let count: f64 = count.parse().unwrap();
        let funcs: Vec<Key> = stack
            .split(';')
            .filter(|f| !f.is_empty())
            .map(func)
            .collect();
        let Some(leaf) = funcs.last() else { continue };
        let mut seen = Vec::new();
        for (i, f) in funcs.iter().enumerate() {
            if seen.contains(f) {
                continue;
            }
            seen.push(f.clone());
            if i > 0 {
                let e = callers
                    .entry(f.clone())
                    .or_default()
                    .entry(funcs[i - 1].clone())
                    .or_default();
                e.1 += count;
                if leaf == f {
                    e.0 += count;
                }
            }
            if let Some(next) = funcs.get(i + 1) {
                let e = callees
                    .entry(f.clone())
                    .or_default()
                    .entry(next.clone())
                    .or_default();
                e.1 += count;
                if leaf == next {
                    e.0 += count;
                }
            }
        }
    }
    [callers, callees]
}

#[test]
fn sampled_edges_are_the_sums_of_the_folded_lines() {
    let path = fixture("program.folded");
    let text = std::fs::read_to_string(&path).unwrap();
    let [want_callers, want_callees] = folded_edges(&text);
    let path = path.to_str().unwrap();
    for (verb, want) in [("callers", want_callers), ("callees", want_callees)] {
        let got = obol_edges(verb, path, false);
        let mut compared = 0;
        for (f, edges) in &got {
            let got: BTreeMap<&Key, (f64, f64)> = edges
                .iter()
                .map(|(k, (calls, primitive, s, t))| {
                    assert_eq!((calls, primitive), (&None, &None), "no counts in folded");
                    (k, (*s, *t))
                })
                .collect();
            let want: BTreeMap<&Key, (f64, f64)> = want
                .get(f)
                .map(|m| m.iter().map(|(k, v)| (k, *v)).collect())
                .unwrap_or_default();
            assert_eq!(got, want, "{verb} of {f:?}");
            compared += want.len();
        }
        assert!(compared > 20, "{compared} {verb} edges compared");
        assert_eq!(
            got.keys().filter(|f| want.contains_key(*f)).count(),
            want.len(),
            "{verb}: every function with an edge is listed"
        );
    }
}

#[test]
fn the_table_prints_pstats_counts_and_no_count_column_for_samples() {
    let (output, _) = run_obol([
        "callees",
        "^price_all$",
        fixture("program.prof").to_str().unwrap(),
    ]);
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("ncalls"), "{text}");
    assert!(
        text.contains("{method 'append' of 'list' objects}"),
        "{text}"
    );
    let (output, _) = run_obol([
        "callers",
        "apply_tax",
        fixture("program.folded").to_str().unwrap(),
    ]);
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        !text.contains("ncalls") && text.contains("was called by:"),
        "{text}"
    );
}

#[test]
fn no_match_and_a_bad_regex_are_one_line_errors() {
    let prof = fixture("program.prof");
    for (name, says) in [
        ("no_such_function", "no function matches"),
        ("(", "not a valid regular expression"),
    ] {
        let (output, _) = run_obol(["callers", name, prof.to_str().unwrap()]);
        assert_eq!(output.status.code(), Some(2));
        let err = String::from_utf8(output.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(says), "{err}");
    }
}
