//! `obol diff` against hand-counted folded pairs and against pstats' own numbers for two
//! cProfile runs of the fixture program, one made slower in `apply_tax`.

mod common;

use common::{Json, fixture, run_obol};

fn diff_json(base: &str, new: &str, extra: &[&str]) -> Json {
    let mut args = vec!["diff", base, new, "--json"];
    args.extend_from_slice(extra);
    let (output, _) = run_obol(&args);
    assert!(
        output.status.success(),
        "obol diff failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Json::parse(&String::from_utf8_lossy(&output.stdout)).expect("diff --json prints JSON")
}

fn row<'a>(doc: &'a Json, name: &str) -> &'a Json {
    doc.get("functions")
        .array()
        .iter()
        .find(|f| f.get("name").str() == name)
        .unwrap_or_else(|| panic!("no row for {name}"))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[test]
fn hand_made_folded_pair() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.folded");
    let new = dir.path().join("new.folded");
    // base: total 10; new: total 20. `load` only in base, `cache` only in new.
    std::fs::write(
        &base,
        "main (app.py:1);parse (app.py:10) 4\nmain (app.py:1);load (io.py:3) 5\nmain (app.py:1) 1\n",
    )
    .unwrap();
    std::fs::write(
        &new,
        "main (app.py:1);parse (app.py:12) 4\nmain (app.py:1);cache (io.py:9) 15\nmain (app.py:1) 1\n",
    )
    .unwrap();
    let doc = diff_json(base.to_str().unwrap(), new.to_str().unwrap(), &[]);
    assert_eq!(doc.get("base").get("total").f64(), 10.0);
    assert_eq!(doc.get("new").get("total").f64(), 20.0);
    assert_eq!(doc.get("compared_by").str(), "values");
    // cache: 0 → 15 of 20 = +0.75 total share; it leads.
    let functions = doc.get("functions").array();
    assert_eq!(functions[0].get("name").str(), "cache");
    let cache = row(&doc, "cache");
    assert!(cache.get("base").is_null());
    assert_eq!(cache.get("new").get("total").f64(), 15.0);
    assert!(close(cache.get("delta_total_share").f64(), 0.75));
    // load: 5 of 10 → gone = -0.5.
    let load = row(&doc, "load");
    assert!(load.get("new").is_null());
    assert!(close(load.get("delta_self_share").f64(), -0.5));
    // parse: same 4 samples, its line moved (a sampled line, not part of its identity):
    // 4/10 → 4/20 = -0.2.
    let parse = row(&doc, "parse");
    assert_eq!(parse.get("base").get("self").f64(), 4.0);
    assert_eq!(parse.get("new").get("self").f64(), 4.0);
    assert!(close(parse.get("delta_total_share").f64(), -0.2));
    // main: 100% on both sides; its self 1/10 → 1/20.
    let main = row(&doc, "main");
    assert!(close(main.get("delta_total_share").f64(), 0.0));
    assert!(close(main.get("delta_self_share").f64(), -0.05));
    assert!(main.get("base").get("calls").is_null());

    // The table prints signed share changes with both values.
    let (output, _) = run_obol(["diff", base.to_str().unwrap(), new.to_str().unwrap()]);
    let table = String::from_utf8_lossy(&output.stdout);
    let cache_line = table.lines().find(|l| l.contains("cache")).unwrap();
    assert!(
        cache_line.contains("+75.0%") && cache_line.contains("15"),
        "{cache_line}"
    );
    let load_line = table.lines().find(|l| l.contains("load")).unwrap();
    assert!(load_line.contains("-50.0%"), "{load_line}");
}

#[test]
fn formats_that_differ_compare_by_shares() {
    let doc = diff_json(
        fixture("program.folded").to_str().unwrap(),
        fixture("program_slow.prof").to_str().unwrap(),
        &["--top", "5"],
    );
    assert_eq!(doc.get("compared_by").str(), "shares");
    assert_eq!(doc.get("base").get("unit").str(), "samples");
    assert_eq!(doc.get("new").get("unit").str(), "seconds");
    assert_eq!(doc.get("functions").array().len(), 5);
}

#[test]
fn cprofile_runs_match_pstats_and_the_slowed_function_leads() {
    let base_path = fixture("program.prof");
    let new_path = fixture("program_slow.prof");
    let doc = diff_json(base_path.to_str().unwrap(), new_path.to_str().unwrap(), &[]);
    let oracle = |name: &str| {
        let text = std::fs::read_to_string(fixture(&format!("oracle/{name}.json"))).unwrap();
        Json::parse(&text).unwrap()
    };
    let (base_oracle, new_oracle) = (oracle("program.prof"), oracle("program_slow.prof"));
    assert_eq!(
        doc.get("base").get("total").f64(),
        base_oracle.get("total").f64()
    );
    assert_eq!(
        doc.get("new").get("total").f64(),
        new_oracle.get("total").f64()
    );
    // Every row's numbers are pstats' own, on each side (or null where absent).
    for (side, expected) in [("base", &base_oracle), ("new", &new_oracle)] {
        for f in expected.get("functions").array() {
            // Each side names the row as its own file does (a row takes the base side's name:
            // cProfile's names of some built-ins hold a memory address that differs per run).
            let found = doc.get("functions").array().iter().find(|r| {
                let named = r.get(side);
                !named.is_null()
                    && named.get("name").str() == f.get("name").str()
                    && named.get("file").opt_str() == f.get("file").opt_str()
                    && named.get("line").opt_u64() == f.get("line").opt_u64()
            });
            let found =
                found.unwrap_or_else(|| panic!("{side}: no row for {}", f.get("name").str()));
            let got = found.get(side);
            assert_eq!(
                got.get("self").f64(),
                f.get("self").f64(),
                "{side} self of {}",
                f.get("name").str()
            );
            assert_eq!(got.get("total").f64(), f.get("total").f64());
            assert_eq!(got.get("calls").opt_u64(), f.get("calls").opt_u64());
        }
    }
    let first = &doc.get("functions").array()[0];
    assert_eq!(
        first.get("name").str(),
        "apply_tax",
        "the slowed function leads"
    );
    assert!(first.get("delta_total_share").f64() > 0.0);
}
