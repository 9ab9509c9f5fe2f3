//! The Priority pane with `--source-root`: the same ranking `obol priority --source-root` prints
//! (itself checked against radon and a hand count of imports in priority_cli.rs), drawn row by row.

mod common;
#[path = "common/tui.rs"]
mod tui;

use serde_json::Value;
use tui::Ui;

fn priority_json(args: &[&str]) -> Value {
    let (output, _) = common::run_obol(args);
    assert!(
        output.status.success(),
        "obol {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("priority --json prints JSON")
}

/// The pane's module rows: below the tab bar, its title and its column header.
fn module_rows(ui: &Ui) -> Vec<String> {
    let lines = ui.lines();
    lines[3..lines.len() - 2]
        .iter()
        .filter(|l| !l.trim().is_empty())
        .cloned()
        .collect()
}

fn assert_rows_match(ui: &Ui, report: &Value) {
    let modules = report["modules"].as_array().unwrap();
    let rows = module_rows(ui);
    assert!(rows.len() >= modules.len().min(30), "{rows:#?}");
    for (i, (row, m)) in rows.iter().zip(modules).enumerate() {
        let start = format!(
            "{:>3} {:<2} {:>5.2}",
            i + 1,
            m["tier"].as_str().unwrap(),
            m["score"].as_f64().unwrap()
        );
        let module = m["module"].as_str().unwrap();
        assert!(
            row.starts_with(&start) && row.contains(&format!(" {module}")),
            "row {i}: {row:?}, expected {start:?} … {module}"
        );
    }
}

#[test]
fn source_root_gives_the_pane_the_imports_and_complexity_of_the_sources() {
    let prof = common::fixture("program.prof");
    let root = common::fixtures().join("program");
    let (prof_arg, root_arg) = (prof.to_str().unwrap(), root.to_str().unwrap());
    let with_root = priority_json(&["priority", prof_arg, "--json", "--source-root", root_arg]);
    let without = priority_json(&["priority", prof_arg, "--json"]);
    let module = |report: &Value, name: &str| {
        report["modules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["module"] == name)
            .unwrap_or_else(|| panic!("no module {name}"))
            .clone()
    };
    // What the root changes, so that this test tells the two apart: the recorded paths
    // (/tmp/obol-fixture-program/...) do not exist, so without it the program's complexity is
    // unknown and, with only the standard library's sources found, the graph comes from calls.
    assert_eq!(with_root["graph_source"], "imports");
    assert_eq!(without["graph_source"], "calls");
    assert!(module(&with_root, "shop.pricing")["raw"]["complexity"].is_u64());
    assert!(module(&without, "shop.pricing")["raw"]["complexity"].is_null());

    let mut ui = Ui::open(&[&prof], 160, 40);
    ui.app.session.source_roots = vec![root];
    ui.chars("4");
    assert!(ui.row(1).contains("coupling from imports"), "{}", ui.row(1));
    // A factor unknown for every module gets no column: no bytes profile was given.
    assert!(
        ui.row(2).contains("cplx") && !ui.row(2).contains("mem"),
        "{}",
        ui.row(2)
    );
    assert_rows_match(&ui, &with_root);
    let pricing = module_rows(&ui)
        .into_iter()
        .find(|r| r.contains(" shop.pricing"))
        .unwrap();
    assert!(
        pricing.contains("in a dependency cycle with shop.report"),
        "{pricing}"
    );

    let mut plain = Ui::open(&[&prof], 160, 40);
    plain.chars("4");
    assert!(
        plain.row(1).contains("coupling from calls"),
        "{}",
        plain.row(1)
    );
    // Without the sources complexity is unknown for every module too.
    assert!(
        !plain.row(2).contains("cplx") && !plain.row(2).contains("mem"),
        "{}",
        plain.row(2)
    );
    assert_rows_match(&plain, &without);
}

/// `obol memory.speedscope.json time.folded`, `4`, `y` panicked: the rows named their function
/// by its place among the time files only, one fewer than the files loaded. Each row's `y` and
/// Enter now reach the time file's function.
#[test]
fn a_memory_file_before_the_time_file_leaves_every_row_usable() {
    let dir = tempfile::tempdir().unwrap();
    let time = dir.path().join("time.folded");
    let memory = dir.path().join("memory.speedscope.json");
    std::fs::write(&time, common::TIME_FOLDED).unwrap();
    std::fs::write(
        &memory,
        r#"{"$schema":"https://www.speedscope.app/file-format-schema.json",
            "shared":{"frames":[{"name":"main","file":"/nonexistent/app/main.py","line":3}]},
            "profiles":[{"type":"sampled","name":"allocations","unit":"bytes","startValue":0,
                         "endValue":100,"samples":[[0]],"weights":[100]}]}"#,
    )
    .unwrap();
    let mut ui = Ui::open(&[&memory, &time], 120, 30);
    ui.chars("4");
    // Self time in the time file's unit (samples), not the memory file's bytes.
    assert!(ui.status().ends_with("self time 6"), "{}", ui.status());
    for (module, copied) in [
        ("core.work", "work /nonexistent/app/core/work.py:10"),
        ("core.store", "save /nonexistent/app/core/store.py:4"),
    ] {
        let row = module_rows(&ui)
            .iter()
            .position(|r| r.contains(&format!(" {module}")))
            .unwrap_or_else(|| panic!("no row for {module}: {:#?}", module_rows(&ui)));
        ui.chars("4");
        for _ in 0..row {
            ui.chars("j");
        }
        ui.chars("y");
        assert_eq!(
            ui.app.effect.take(),
            Some(obol::tui::effects::Effect::Copy(copied.to_owned()))
        );
        // Enter: Sandwich of the time file, on that function.
        ui.enter();
        assert_eq!(ui.app.pane, obol::tui::action::Pane::Sandwich);
        // Name first, the place last, from the directory the project's files share.
        let (name, place) = copied.split_once(' ').unwrap();
        let place = place.strip_prefix("/nonexistent/app/").unwrap();
        assert!(
            ui.status().starts_with(&format!("{name} · "))
                && ui.status().ends_with(&format!(" · {place}")),
            "{}",
            ui.status()
        );
        ui.chars("4");
        while ui.app.priority.as_ref().unwrap().selected > 0 {
            ui.chars("k");
        }
    }
}
