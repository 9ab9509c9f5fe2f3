//! `obol priority` on the cProfile fixture, whose sources sit in `fixtures/program`: complexity
//! against radon, the import graph against a hand count, and the JSON contract.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

mod common;
use common::{fixture, run_obol};

fn priority_json(args: &[&str]) -> Value {
    let (output, _) = run_obol(args);
    assert!(
        output.status.success(),
        "obol {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("priority --json prints JSON")
}

fn module<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["modules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["module"] == name)
        .unwrap_or_else(|| panic!("no module {name}"))
}

fn has_module(report: &Value, name: &str) -> bool {
    report["modules"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["module"] == name)
}

/// radon's complexity of a file, summed over functions, methods and closures.
fn radon_sum(path: &Path) -> Option<u64> {
    let script = r#"
import sys
from radon.complexity import cc_visit
from radon.visitors import Function
def walk(b):
    return b.complexity + sum(walk(c) for c in b.closures)
print(sum(walk(b) for b in cc_visit(open(sys.argv[1], encoding="utf-8").read()) if isinstance(b, Function)))
"#;
    let output = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(path)
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    String::from_utf8(output.stdout).ok()?.trim().parse().ok()
}

#[test]
fn fixture_program_with_its_sources() {
    let prof = fixture("program.prof");
    let root = fixture("program");
    // Every module, the standard library's too: the import graph below counts edges to them.
    let report = priority_json(&[
        "priority",
        prof.to_str().unwrap(),
        "--json",
        "--all-modules",
        "--source-root",
        root.to_str().unwrap(),
    ]);
    assert_eq!(report["scope"], "all");
    assert_eq!(report["graph_source"], "imports");
    assert_eq!(report["weights"]["time"], 0.4);
    assert_eq!(report["weights"]["calls"], 0.05);

    // Complexity: radon's sum over each project module's functions.
    let sources = [
        ("main", "main.py"),
        ("shop.catalog", "shop/catalog.py"),
        ("shop.pricing", "shop/pricing.py"),
        ("shop.report", "shop/report.py"),
    ];
    for (name, file) in sources {
        let m = module(&report, name);
        match radon_sum(&root.join(file)) {
            Some(expected) => assert_eq!(m["raw"]["complexity"], expected, "{name}"),
            None => common::skip(&format!("radon, for the comparison of {name}")),
        }
        let normalized = m["complexity"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&normalized), "{name}: {normalized}");
    }

    // Imports, counted by hand from the sources: main imports catalog, pricing and report;
    // pricing imports catalog and report; report imports pricing; catalog imports no project
    // module. Standard-library targets count only when the profile ran code in them.
    let fan = |name: &str| {
        let m = module(&report, name);
        (
            m["raw"]["fan_in"].as_u64().unwrap(),
            m["raw"]["fan_out"].as_u64().unwrap(),
        )
    };
    let profiled = |name: &str| u64::from(has_module(&report, name));
    assert_eq!(fan("main"), (0, 3 + profiled("os") + profiled("threading")));
    assert_eq!(
        fan("shop.catalog"),
        (2, profiled("random") + profiled("collections"))
    );
    assert_eq!(fan("shop.pricing"), (2, 2 + profiled("os")));
    assert_eq!(fan("shop.report"), (2, 1 + profiled("json")));

    // pricing and report import each other: both carry the cycle booster.
    for name in ["shop.pricing", "shop.report"] {
        let reasons = module(&report, name)["reasons"].to_string();
        assert!(reasons.contains("dependency cycle"), "{name}: {reasons}");
    }
    assert!(
        !module(&report, "shop.catalog")["reasons"]
            .to_string()
            .contains("cycle")
    );

    // Every module: factors in [0, 1] or null, boost ≥ 1, tier from the score, sorted.
    let modules = report["modules"].as_array().unwrap();
    let mut previous = f64::INFINITY;
    for m in modules {
        let score = m["score"].as_f64().unwrap();
        assert!(score <= previous, "not sorted by score");
        previous = score;
        let tier = if score >= 0.5 {
            "P1"
        } else if score >= 0.25 {
            "P2"
        } else {
            "P3"
        };
        assert_eq!(m["tier"], tier);
        assert!(m["boost"].as_f64().unwrap() >= 1.0);
        for factor in ["time", "coupling", "complexity", "memory", "calls"] {
            let v = &m[factor];
            assert!(
                v.is_null() || (0.0..=1.0).contains(&v.as_f64().unwrap()),
                "{factor} {v}"
            );
        }
        assert!(m["memory"].is_null(), "no memory profile was given");
        assert!(m["calls"].is_number(), "pstats has call counts");
    }
    // apply_tax's module is the bottleneck: the largest self time.
    assert_eq!(module(&report, "shop.pricing")["time"], 1.0);
}

/// `pkg/sub/mod.py` → `pkg.sub.mod`, `pkg/__init__.py` → `pkg`: how Python names a module.
fn dotted(relative: &str) -> String {
    let stem = relative.strip_suffix(".py").unwrap_or(relative);
    let stem = stem.strip_suffix("/__init__").unwrap_or(stem);
    stem.replace('/', ".")
}

#[test]
fn by_default_only_the_projects_modules_are_ranked() {
    let prof = fixture("program.prof");
    let oracle: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("oracle/program.prof.json")).unwrap(),
    )
    .unwrap();
    // The project: the program's own files (it ran from /tmp/obol-fixture-program), and code
    // with a pseudo-file of its own (`<string>`: namedtuple's generated `__new__`), which is no
    // library file either. Every other file is the standard library's, or `~` (built-ins).
    let program_dir = "/tmp/obol-fixture-program/";
    let mut expected = std::collections::BTreeSet::new();
    for f in oracle["functions"].as_array().unwrap() {
        let file = f["file"].as_str().unwrap();
        if let Some(relative) = file.strip_prefix(program_dir) {
            expected.insert(dotted(relative));
        } else if !file.starts_with('/') && fixture("program").join(file).is_file() {
            // The script itself, which cProfile names as it was run: `main.py`.
            expected.insert(dotted(file));
        } else if file.starts_with('<') && !file.starts_with("<frozen ") {
            expected.insert(file.to_owned());
        }
    }
    assert!(
        expected.contains("shop.pricing") && expected.contains("main"),
        "{expected:?}"
    );
    let report = priority_json(&["priority", prof.to_str().unwrap(), "--json"]);
    assert_eq!(report["scope"], "project");
    let ranked: std::collections::BTreeSet<String> = report["modules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["module"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ranked, expected);
    // The library's time is charged to the project modules that called it: their self times
    // add up to pstats' total, but for the little spent above any project function (the
    // interpreter starting the script).
    let charged: f64 = report["modules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["raw"]["self_time"].as_f64().unwrap())
        .sum();
    let total = oracle["total"].as_f64().unwrap();
    assert!(
        charged <= total * (1.0 + 1e-9) && charged > total * 0.9999,
        "{charged} of {total}"
    );
    // json.encoder's time is shop.report's now (report.to_json calls json.dumps): report
    // carries more than its own functions' self time.
    let own: f64 = oracle["functions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["file"] == format!("{program_dir}shop/report.py"))
        .map(|f| f["self"].as_f64().unwrap())
        .sum();
    let report_time = module(&report, "shop.report")["raw"]["self_time"]
        .as_f64()
        .unwrap();
    assert!(
        report_time > own + 1.0,
        "{report_time} against its own {own}"
    );

    // --all-modules brings the library back.
    let all = priority_json(&[
        "priority",
        prof.to_str().unwrap(),
        "--json",
        "--all-modules",
    ]);
    for name in ["json.encoder", "re", "enum"] {
        assert!(has_module(&all, name), "{name}");
        assert!(!has_module(&report, name), "{name}");
    }
}

#[test]
fn a_source_root_that_does_not_exist_is_an_error() {
    let folded = fixture("program.folded");
    let file = fixture("program.prof");
    for (root, says) in [
        ("/nonexistent/obol-root", "no such directory"),
        (file.to_str().unwrap(), "not a directory"),
    ] {
        for args in [
            vec!["priority", folded.to_str().unwrap(), "--source-root", root],
            vec![folded.to_str().unwrap(), "--source-root", root],
        ] {
            let (output, _) = run_obol(&args);
            assert_eq!(output.status.code(), Some(2), "{args:?}");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(stderr.lines().count(), 1, "{stderr}");
            assert!(
                stderr.contains("--source-root") && stderr.contains(says),
                "{stderr}"
            );
        }
    }
}

#[test]
fn factors_unknown_for_every_module_get_no_column() {
    // Folded stacks: no call counts; no bytes profile; sources nowhere.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("elsewhere.folded");
    std::fs::write(
        &path,
        "main (/nonexistent/app/main.py:3);work (/nonexistent/app/core/work.py:10) 6\n",
    )
    .unwrap();
    let (output, _) = run_obol(["priority", path.to_str().unwrap()]);
    let table = String::from_utf8_lossy(&output.stdout);
    let header = table.lines().find(|l| l.starts_with("rank")).unwrap();
    assert!(
        header.contains("time") && header.contains("coupl"),
        "{header}"
    );
    for absent in ["cmplx", "mem", "calls"] {
        assert!(!header.contains(absent), "{header}");
    }
    assert!(!table.contains('·'), "no dotted cells: {table}");
    // pstats has counts, and the fixture's sources give complexity.
    let prof = fixture("program.prof");
    let root = fixture("program");
    let (output, _) = run_obol([
        "priority",
        prof.to_str().unwrap(),
        "--source-root",
        root.to_str().unwrap(),
    ]);
    let table = String::from_utf8_lossy(&output.stdout);
    let header = table.lines().find(|l| l.starts_with("rank")).unwrap();
    for present in ["time", "coupl", "cmplx", "calls"] {
        assert!(header.contains(present), "{header}");
    }
    assert!(!header.contains("mem"), "{header}");
}

#[test]
fn profile_with_no_reachable_source_uses_call_edges() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("elsewhere.folded");
    // Files that exist nowhere: complexity must be unknown, never guessed.
    std::fs::write(
        &path,
        "main (/nonexistent/app/main.py:3);work (/nonexistent/app/core/work.py:10) 6\n\
         main (/nonexistent/app/main.py:3);save (/nonexistent/app/core/store.py:4) 2\n",
    )
    .unwrap();
    let report = priority_json(&["priority", path.to_str().unwrap(), "--json"]);
    assert_eq!(report["graph_source"], "calls");
    for m in report["modules"].as_array().unwrap() {
        assert!(m["complexity"].is_null(), "{m}");
        assert!(m["raw"]["complexity"].is_null());
        assert!(m["calls"].is_null(), "folded stacks carry no call counts");
    }
    let work = module(&report, "core.work");
    assert_eq!(work["time"], 1.0);
    assert_eq!(work["raw"]["fan_in"], 1);
    assert_eq!(module(&report, "main")["raw"]["fan_out"], 2);
}

#[test]
fn bad_weights_are_a_clear_error() {
    let folded = fixture("program.folded");
    for (spec, says) in [
        ("speed=1", "unknown factor `speed`"),
        ("time=-0.5", "must be a number"),
        ("time", "not FACTOR=WEIGHT"),
    ] {
        let (output, _) = run_obol(["priority", folded.to_str().unwrap(), "--weights", spec]);
        assert_eq!(output.status.code(), Some(2), "{spec}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains("--weights") && stderr.contains(says),
            "{spec}: {stderr}"
        );
    }
}

#[test]
fn custom_weights_are_reported_and_used() {
    let folded = fixture("program.folded");
    let report = priority_json(&[
        "priority",
        folded.to_str().unwrap(),
        "--json",
        "--weights",
        "time=1,coupling=0",
    ]);
    assert_eq!(report["weights"]["time"], 1.0);
    assert_eq!(report["weights"]["coupling"], 0.0);
    // With only time weighted (complexity may be known, at weight 0.15 of 1.15+), the module
    // with the most self time still leads.
    let first = &report["modules"][0];
    assert!(first["time"].as_f64().unwrap() > 0.5, "{first}");
}

#[test]
fn a_bytes_profile_beside_the_time_profile_gives_memory() {
    let dir = tempfile::tempdir().unwrap();
    let time = dir.path().join("time.folded");
    let memory = dir.path().join("memory.speedscope.json");
    std::fs::write(
        &time,
        "main (/nonexistent/app/main.py:3);work (/nonexistent/app/core/work.py:10) 6\n\
         main (/nonexistent/app/main.py:3);save (/nonexistent/app/core/store.py:4) 2\n",
    )
    .unwrap();
    // Allocations: 300 bytes in core.store, 100 in core.work, none in main itself.
    std::fs::write(
        &memory,
        r#"{"$schema":"https://www.speedscope.app/file-format-schema.json",
            "shared":{"frames":[{"name":"main","file":"/nonexistent/app/main.py","line":3},
                                {"name":"work","file":"/nonexistent/app/core/work.py","line":10},
                                {"name":"save","file":"/nonexistent/app/core/store.py","line":4}]},
            "profiles":[{"type":"sampled","name":"allocations","unit":"bytes","startValue":0,
                         "endValue":400,"samples":[[0,1],[0,2]],"weights":[100,300]}]}"#,
    )
    .unwrap();
    let report = priority_json(&[
        "priority",
        time.to_str().unwrap(),
        memory.to_str().unwrap(),
        "--json",
    ]);
    let (store, work, main) = (
        module(&report, "core.store"),
        module(&report, "core.work"),
        module(&report, "main"),
    );
    assert_eq!(store["raw"]["bytes"], 300.0);
    assert_eq!(store["memory"], 1.0);
    assert!((work["memory"].as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-12);
    assert_eq!(main["memory"], 0.0, "known, and zero");
    // Time is from the time profile alone: work 6 of the 8 samples leads.
    assert_eq!(work["time"], 1.0);
    // Known factors: time, coupling, memory (0.4 + 0.3 + 0.1): the score rescales by 0.8.
    // work: time 1, coupling 1/2 (fan-in 1 of main's 2), memory 1/3.
    let expected = (0.4 + 0.3 * 0.5 + 0.1 / 3.0) / 0.8;
    let boost = work["boost"].as_f64().unwrap();
    assert!(
        (work["score"].as_f64().unwrap() - expected * boost).abs() < 1e-9,
        "{work}"
    );
}
