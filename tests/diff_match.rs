//! `obol diff` across real changes (fixtures/moved, made by fixtures/regenerate_moved.sh): the
//! fixture program profiled in two checkouts, after an edit that moved functions down two lines;
//! py-spy's raw and speedscope outputs of one run; and the regression gate. Expected pairs come
//! from Python's figures of each file (oracle.py) and the fixture's own text, never from obol.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

mod common;
use common::{fixture, run_obol};

fn oracle(name: &str) -> Value {
    let text = std::fs::read_to_string(fixture(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn diff_json(args: &[&str]) -> Value {
    let mut all = vec!["diff"];
    all.extend_from_slice(args);
    all.push("--json");
    let (output, _) = run_obol(&all);
    assert!(
        output.status.success(),
        "obol {all:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn path(name: &str) -> String {
    fixture(name).to_str().unwrap().to_owned()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// (name, file, line) of one side of a row.
fn side_key(side: &Value) -> (String, Option<String>, Option<u64>) {
    (
        side["name"].as_str().unwrap().to_owned(),
        side["file"].as_str().map(str::to_owned),
        side["line"].as_u64(),
    )
}

/// The name without the memory address cProfile writes into some names, which changes from run
/// to run (`<built-in method __new__ of type object at 0x7f119645ea00>`).
fn without_address(name: &str) -> String {
    match name.find(" at 0x") {
        Some(at) => {
            let rest = &name[at + 6..];
            let end = rest
                .find(|c: char| !c.is_ascii_hexdigit())
                .unwrap_or(rest.len());
            format!("{}{}", &name[..at], without_address(&rest[end..]))
        }
        None => name.to_owned(),
    }
}

#[test]
fn two_checkouts_after_lines_moved_match_function_by_function() {
    let (base, new) = (
        oracle("moved/oracle/before.prof.json"),
        oracle("moved/oracle/after.prof.json"),
    );
    // The fixture's edit: two lines added above `def apply_tax` in shop/pricing.py.
    let source = std::fs::read_to_string(fixture("program/shop/pricing.py")).unwrap();
    let apply_tax_line = source
        .lines()
        .position(|l| l.starts_with("def apply_tax("))
        .unwrap() as u64
        + 1;
    let expected_counterpart = |f: &Value| {
        let file = f["file"]
            .as_str()
            .unwrap()
            .replace("/checkout-before/", "/checkout-after/");
        let line = f["line"].as_u64().unwrap();
        let moved = file.ends_with("/checkout-after/app/shop/pricing.py") && line >= apply_tax_line;
        (
            without_address(f["name"].as_str().unwrap()),
            file,
            if moved { line + 2 } else { line },
        )
    };
    let new_by_key: BTreeMap<(String, String, u64), &Value> = new["functions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                (
                    without_address(f["name"].as_str().unwrap()),
                    f["file"].as_str().unwrap().to_owned(),
                    f["line"].as_u64().unwrap(),
                ),
                f,
            )
        })
        .collect();
    let doc = diff_json(&[&path("moved/before.prof"), &path("moved/after.prof")]);
    let rows = doc["functions"].as_array().unwrap();
    let base_functions = base["functions"].as_array().unwrap();
    assert_eq!(base_functions.len(), new_by_key.len(), "the same program");
    let mut moved = 0;
    for f in base_functions {
        let want = expected_counterpart(f);
        let counterpart = new_by_key
            .get(&want)
            .unwrap_or_else(|| panic!("the fixture has no counterpart {want:?}"));
        let row = rows
            .iter()
            .find(|r| {
                r["base"].is_object()
                    && r["base"]["name"] == f["name"]
                    && r["base"]["file"] == f["file"]
                    && r["base"]["line"] == f["line"]
            })
            .unwrap_or_else(|| panic!("no row for {f}"));
        assert!(row["matched_by"].is_string(), "{row}");
        assert_eq!(
            side_key(&row["new"]),
            (
                counterpart["name"].as_str().unwrap().to_owned(),
                Some(want.1.clone()),
                Some(want.2)
            ),
            "{row}"
        );
        // Each side's figures are pstats' own.
        for (side, oracle) in [("base", f), ("new", *counterpart)] {
            for figure in ["self", "total"] {
                assert!(
                    close(
                        row[side][figure].as_f64().unwrap(),
                        oracle[figure].as_f64().unwrap()
                    ),
                    "{side} {figure}: {row}"
                );
            }
            assert_eq!(row[side]["calls"], oracle["calls"]);
        }
        if want.2 != f["line"].as_u64().unwrap() {
            moved += 1;
        }
    }
    assert!(moved >= 5, "functions below apply_tax moved: {moved}");
    let apply_tax = rows.iter().find(|r| r["name"] == "apply_tax").unwrap();
    assert_eq!(apply_tax["matched_by"], "path_tail");
    let matched = &doc["matched"];
    assert_eq!(matched["base_only"], 0);
    assert_eq!(matched["new_only"], 0);
    assert_eq!(matched["rows"].as_u64().unwrap() as usize, rows.len());
    assert!(
        close(matched["base_share"].as_f64().unwrap(), 1.0),
        "{matched}"
    );
    assert!(
        close(matched["new_share"].as_f64().unwrap(), 1.0),
        "{matched}"
    );
    let steps: Vec<&str> = matched["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        ["identity", "name_and_file", "path_tail", "qualified_name"]
    );
    // The standard library's files are the same on both sides: matched as they are.
    let dumps = rows.iter().find(|r| r["name"] == "dumps").unwrap();
    assert_eq!(dumps["matched_by"], "identity");

    // The table says how much matched, step by step.
    let (output, _) = run_obol([
        "diff",
        &path("moved/before.prof"),
        &path("moved/after.prof"),
        "--top",
        "1",
    ]);
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(
        table.contains("100.0% of the base's weight, 100.0% of the new's"),
        "{table}"
    );
    assert!(table.contains("by same name and path tail"), "{table}");
    assert!(output.stderr.is_empty(), "no warning: all matched");
}

/// A function as the oracle lists it: (name, file).
fn name_file(f: &Value) -> (String, Option<String>) {
    (
        f["name"].as_str().unwrap().to_owned(),
        f["file"].as_str().map(str::to_owned),
    )
}

#[test]
fn pyspy_raw_and_speedscope_of_one_run_match_entirely() {
    let (raw, speedscope) = (
        oracle("moved/oracle/after.folded.json"),
        oracle("moved/oracle/after.speedscope.json.json"),
    );
    // Pairs from the files' text: the same name, and speedscope's absolute path ends with the
    // short path the raw output wrote (or both name the same pseudo-file, `<frozen os>`).
    let long: Vec<(String, Option<String>)> = speedscope["functions"]
        .as_array()
        .unwrap()
        .iter()
        .map(name_file)
        .collect();
    let mut pairs: BTreeMap<(String, Option<String>), (String, Option<String>)> = BTreeMap::new();
    let mut paired_self = 0.0;
    for f in raw["functions"].as_array().unwrap() {
        let (name, short) = name_file(f);
        let fits: Vec<_> = long
            .iter()
            .filter(|(n, file)| {
                *n == name
                    && match (file, &short) {
                        (Some(file), Some(short)) => {
                            file == short || file.ends_with(&format!("/{short}"))
                        }
                        (a, b) => a == b,
                    }
            })
            .collect();
        assert!(fits.len() <= 1, "{name} {short:?}: {fits:?}");
        if let Some(&counterpart) = fits.first() {
            pairs.insert((name, short), counterpart.clone());
            paired_self += f["self"].as_f64().unwrap();
        }
    }
    let paired_long: BTreeSet<_> = pairs.values().cloned().collect();
    let long_paired_self: f64 = speedscope["functions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| paired_long.contains(&name_file(f)))
        .map(|f| f["self"].as_f64().unwrap())
        .sum();

    let doc = diff_json(&[
        &path("moved/after.folded"),
        &path("moved/after.speedscope.json"),
    ]);
    let rows = doc["functions"].as_array().unwrap();
    let mut matched = 0;
    for row in rows {
        let key = |side: &Value| {
            let (name, file, _) = side_key(side);
            (name, file)
        };
        match (row["base"].is_object(), row["new"].is_object()) {
            (true, true) => {
                let (b, n) = (key(&row["base"]), key(&row["new"]));
                assert_eq!(pairs.get(&b), Some(&n), "{row}");
                matched += 1;
            }
            (true, false) => assert!(!pairs.contains_key(&key(&row["base"])), "{row}"),
            _ => assert!(!paired_long.contains(&key(&row["new"])), "{row}"),
        }
    }
    // Every pair the text gives is a row: nothing that has a counterpart is left unmatched.
    assert_eq!(matched, pairs.len());
    let summary = &doc["matched"];
    let (raw_total, long_total) = (
        raw["total"].as_f64().unwrap(),
        speedscope["total"].as_f64().unwrap(),
    );
    assert!(close(
        summary["base_share"].as_f64().unwrap(),
        paired_self / raw_total
    ));
    assert!(close(
        summary["new_share"].as_f64().unwrap(),
        long_paired_self / long_total
    ));
    // The two samplers watched the same run: what only one of them caught is a few samples of
    // short functions.
    assert!(paired_self / raw_total > 0.95, "{summary}");
    // Project files are matched by their path tail (short against absolute).
    let apply_tax = rows.iter().find(|r| r["name"] == "apply_tax").unwrap();
    assert_eq!(apply_tax["matched_by"], "path_tail");
    assert_eq!(apply_tax["base"]["file"], "shop/pricing.py");
}

#[test]
fn cprofile_bare_names_match_pyspy_qualified_names() {
    let doc = diff_json(&[
        &path("moved/after.prof"),
        &path("moved/after.speedscope.json"),
    ]);
    let rows = doc["functions"].as_array().unwrap();
    // cProfile names the method `encode`; py-spy by its qualified name. Both in json/encoder.py.
    let encode = rows
        .iter()
        .find(|r| {
            r["base"]["name"] == "encode"
                && r["base"]["file"]
                    .as_str()
                    .is_some_and(|f| f.ends_with("/json/encoder.py"))
        })
        .unwrap();
    assert_eq!(encode["matched_by"], "qualified_name", "{encode}");
    assert_eq!(encode["new"]["name"], "JSONEncoder.encode");
    assert_eq!(doc["compared_by"], "shares");
}

/// Total share growth in percentage points of every function from one pstats oracle to another,
/// keyed as pstats keys them.
fn growth(base: &Value, new: &Value) -> BTreeMap<(String, String, u64), f64> {
    let mut out = BTreeMap::new();
    for (doc, sign) in [(base, -1.0), (new, 1.0)] {
        let total = doc["total"].as_f64().unwrap();
        for f in doc["functions"].as_array().unwrap() {
            let key = (
                without_address(f["name"].as_str().unwrap()),
                f["file"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
            );
            *out.entry(key).or_insert(0.0) += sign * f["total"].as_f64().unwrap() / total * 100.0;
        }
    }
    out
}

#[test]
fn fail_above_fails_past_the_limit_and_passes_below_it() {
    let (base, new) = (path("program.prof"), path("program_slow.prof"));
    let grown = growth(
        &oracle("oracle/program.prof.json"),
        &oracle("oracle/program_slow.prof.json"),
    );
    let apply_tax = grown
        .iter()
        .find(|(k, _)| k.0 == "apply_tax")
        .map(|(_, g)| *g)
        .unwrap();
    let largest = grown.values().copied().fold(f64::MIN, f64::max);
    assert!(apply_tax > 10.0, "the slow run spends more in apply_tax");
    let run = |limit: String| {
        let (output, _) = run_obol(["diff", &base, &new, "--fail-above", &limit, "--top", "3"]);
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    };
    // Below the growth of apply_tax: exit 1, one line naming it, the table still printed.
    let (code, stderr, stdout) = run(format!("{:.1}", apply_tax - 1.0));
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("apply_tax"), "{stderr}");
    assert!(stdout.contains("apply_tax"));
    // Above every function's growth: exit 0.
    let (code, stderr, _) = run(format!("{:.1}", largest + 1.0));
    assert_eq!(code, Some(0), "{stderr}");
    // One function: apply_tax's own limit fails; a function that shrank passes at 0.
    let (code, _, _) = run(format!("apply_tax={:.1}", apply_tax - 1.0));
    assert_eq!(code, Some(1));
    let (code, _, _) = run(format!("apply_tax={:.1}", apply_tax + 1.0));
    assert_eq!(code, Some(0));
    let shrank = grown
        .iter()
        .find(|(k, g)| k.0 == "to_json" && **g < 0.0)
        .map(|(k, _)| k.0.clone())
        .expect("to_json's share shrank");
    let (code, _, _) = run(format!("{shrank}=0"));
    assert_eq!(code, Some(0));
    // The other way round, the slow function's share falls: no gate fails.
    let (output, _) = run_obol(["diff", &new, &base, "--fail-above", "apply_tax=0"]);
    assert_eq!(output.status.code(), Some(0));
    // A name that is nowhere, or a limit that is no number, is bad input: one line, exit 2.
    for limit in ["no_such_function=1", "five"] {
        let (code, stderr, _) = run(limit.into());
        assert_eq!(code, Some(2), "{limit}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains("--fail-above"), "{stderr}");
    }
}

#[test]
fn by_module_and_by_file_add_functions_up_before_comparing() {
    let dir = tempfile::tempdir().unwrap();
    let (base, new) = (
        dir.path().join("base.folded"),
        dir.path().join("new.folded"),
    );
    // Two checkouts. base: core.work 6 (of which helper 2), core.store 3, main 1 (total 10).
    // new: core.work 12 (helper 4), core.store 3, main 5 (total 20).
    std::fs::write(
        &base,
        "main (/a/app/main.py:1);work (/a/app/core/work.py:3) 4\n\
         main (/a/app/main.py:1);work (/a/app/core/work.py:3);helper (/a/app/core/work.py:9) 2\n\
         main (/a/app/main.py:1);save (/a/app/core/store.py:4) 3\n\
         main (/a/app/main.py:1) 1\n",
    )
    .unwrap();
    std::fs::write(
        &new,
        "main (/b/app/main.py:1);work (/b/app/core/work.py:3) 8\n\
         main (/b/app/main.py:1);work (/b/app/core/work.py:3);helper (/b/app/core/work.py:9) 4\n\
         main (/b/app/main.py:1);save (/b/app/core/store.py:4) 3\n\
         main (/b/app/main.py:1) 5\n",
    )
    .unwrap();
    let (b, n) = (base.to_str().unwrap(), new.to_str().unwrap());
    let doc = diff_json(&[b, n, "--by", "module"]);
    assert_eq!(doc["by"], "module");
    let row = |doc: &Value, name: &str| -> Value {
        doc["functions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no row {name} in {doc}"))
    };
    let work = row(&doc, "core.work");
    assert_eq!(work["base"]["self"], 6.0);
    assert_eq!(work["base"]["total"], 6.0);
    assert_eq!(work["new"]["self"], 12.0);
    assert_eq!(work["matched_by"], "identity");
    assert!(close(
        work["delta_total_share"].as_f64().unwrap(),
        0.6 - 0.6
    ));
    let store = row(&doc, "core.store");
    assert!(close(
        store["delta_total_share"].as_f64().unwrap(),
        0.15 - 0.3
    ));
    assert_eq!(row(&doc, "main")["base"]["total"], 10.0);
    assert_eq!(doc["functions"].as_array().unwrap().len(), 3);

    let doc = diff_json(&[b, n, "--by", "file"]);
    let work = row(&doc, "/a/app/core/work.py");
    assert_eq!(work["matched_by"], "path_tail");
    assert_eq!(work["new"]["file"], "/b/app/core/work.py");
    assert_eq!(work["new"]["self"], 12.0);
    assert!(close(doc["matched"]["base_share"].as_f64().unwrap(), 1.0));
}

#[test]
fn profiles_of_different_programs_get_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let (base, new) = (dir.path().join("a.folded"), dir.path().join("b.folded"));
    std::fs::write(
        &base,
        "main (a.py:1);parse (a.py:5) 8\nmain (a.py:1);shared (s.py:1) 2\n",
    )
    .unwrap();
    std::fs::write(
        &new,
        "run (b.py:1);render (b.py:5) 9\nrun (b.py:1);shared (s.py:1) 1\n",
    )
    .unwrap();
    let (output, _) = run_obol(["diff", base.to_str().unwrap(), new.to_str().unwrap()]);
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Only `shared` matched: 2 of 10 samples, 1 of 10.
    assert!(
        stderr.contains("warning") && stderr.contains("20.0%") && stderr.contains("10.0%"),
        "{stderr}"
    );
}
