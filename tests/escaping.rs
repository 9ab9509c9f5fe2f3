//! Text from a file is escaped wherever obol prints it. Every path is tried with a name holding
//! an OSC sequence that would retitle the terminal (`\x1b]2;PWNED\x07`), a newline that would
//! forge a second `obol: error:` line, a right-to-left override (U+202E) that would reverse
//! what follows, DEL and a C1 control (U+009B, a one-byte CSI).

mod common;
#[path = "common/tui.rs"]
mod tui;

use std::path::Path;

use common::run_obol;
use tui::Ui;

/// The hostile part of every name and path here.
const EVIL: &str = "\x1b]2;PWNED\x07\nobol: error: forged\u{202e}dlrow\x7f\u{9b}";

/// What must never reach a terminal: C0 (but the newline ending a line), DEL, C1 and the bidi
/// controls.
fn assert_inert(what: &str, text: &str) {
    for line in text.lines() {
        let bad: Vec<char> = line
            .chars()
            .filter(|&c| {
                c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
            })
            .collect();
        assert!(bad.is_empty(), "{what}: {bad:?} printed raw in {line:?}");
    }
    assert!(!text.contains("PWNED\x07"), "{what}: {text:?}");
}

/// A speedscope file whose function `EVIL` in project file `a.py` calls `g` in a file whose
/// name is `EVIL` too, which calls back into `a.py`: the two modules form a cycle, which
/// Priority's reasons name.
fn evil_speedscope(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("evil.speedscope.json");
    let json = serde_json::json!({
        "$schema": "https://www.speedscope.app/file-format-schema.json",
        "shared": {"frames": [
            {"name": format!("run{EVIL}"), "file": "/nonexistent/proj/a.py", "line": 1},
            {"name": "g", "file": format!("/nonexistent/proj/b{EVIL}.py"), "line": 2},
            {"name": "h", "file": "/nonexistent/proj/a.py", "line": 9},
        ]},
        "profiles": [{"type": "sampled", "name": format!("thread{EVIL}"), "unit": "seconds",
                      "startValue": 0, "endValue": 4,
                      "samples": [[0, 1, 2], [0, 1], [0]], "weights": [2, 1, 1]}]
    });
    std::fs::write(&path, json.to_string()).unwrap();
    path
}

#[test]
fn error_lines_are_escaped_and_one_line() {
    let dir = tempfile::tempdir().unwrap();
    // The name of an event that ends nothing is in the error.
    let trace = dir.path().join("trace.json");
    let event = serde_json::json!({"traceEvents": [
        {"ph": "E", "name": format!("f{EVIL}"), "ts": 1, "pid": 1, "tid": 1}
    ]});
    std::fs::write(&trace, event.to_string()).unwrap();
    // A profile type speedscope does not know: serde's "unknown variant" names it.
    let variant = dir.path().join("variant.speedscope.json");
    let doc = serde_json::json!({
        "$schema": "https://www.speedscope.app/file-format-schema.json",
        "shared": {"frames": [{"name": "f"}]},
        "profiles": [{"type": format!("odd{EVIL}"), "name": "p", "unit": "none",
                      "startValue": 0, "endValue": 1, "samples": [[0]], "weights": [1]}]
    });
    std::fs::write(&variant, doc.to_string()).unwrap();
    // A path from the command line, and a very long one.
    let missing = dir.path().join(format!("missing{EVIL}.prof"));
    let long = dir.path().join(format!("{}{EVIL}", "x".repeat(250)));
    for (what, args) in [
        (
            "an event's name",
            vec!["summary".to_owned(), trace.display().to_string()],
        ),
        (
            "a JSON variant",
            vec!["summary".to_owned(), variant.display().to_string()],
        ),
        (
            "a path",
            vec!["summary".to_owned(), missing.display().to_string()],
        ),
        ("a path, in the UI", vec![missing.display().to_string()]),
        (
            "a long path",
            vec!["summary".to_owned(), long.display().to_string()],
        ),
    ] {
        let (output, _) = run_obol(&args);
        assert_eq!(output.status.code(), Some(2), "{what}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_inert(what, &stderr);
        assert_eq!(stderr.lines().count(), 1, "{what}: {stderr}");
        let line = stderr.lines().next().unwrap();
        assert!(line.starts_with("obol: error: "), "{what}: {line}");
        assert!(
            line.chars().count() <= 300,
            "{what}: {} chars",
            line.chars().count()
        );
        assert!(
            line.contains("\\x1b]2;PWNED\\x07\\x0aobol: error: forged\\u{202e}")
                || what == "a long path",
            "{what}: {line}"
        );
    }
}

#[test]
fn warnings_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    // A thread named EVIL with an event left open: the warning names the thread.
    let trace = dir.path().join("open.json");
    let events = serde_json::json!({"traceEvents": [
        {"ph": "M", "name": "thread_name", "pid": 1, "tid": 1, "args": {"name": format!("t{EVIL}")}},
        {"ph": "B", "name": "f", "ts": 1, "pid": 1, "tid": 1},
        {"ph": "B", "name": "g", "ts": 2, "pid": 1, "tid": 1},
        {"ph": "E", "name": "g", "ts": 3, "pid": 1, "tid": 1}
    ]});
    std::fs::write(&trace, events.to_string()).unwrap();
    let (output, _) = run_obol(["summary", trace.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("obol: warning: "), "{stderr}");
    assert!(stderr.contains("still open"), "{stderr}");
    assert_inert("a warning", &stderr);
    assert_inert("the table", &String::from_utf8_lossy(&output.stdout));
}

#[test]
fn tables_reasons_and_json_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let path = evil_speedscope(dir.path());
    let path = path.to_str().unwrap();
    let (output, _) = run_obol(["summary", path]);
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(
        table.contains("run\\x1b]2;PWNED\\x07\\x0aobol: error: forged\\u{202e}"),
        "{table}"
    );
    assert_inert("summary's table", &table);
    let (output, _) = run_obol(["priority", path, "--all-modules"]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("dependency cycle"), "{text}");
    assert_inert("priority's table and reasons", &text);
    for args in [
        vec!["summary", path, "--json"],
        vec!["priority", path, "--json", "--all-modules"],
        vec!["callers", "g", path, "--json"],
        vec!["diff", path, path, "--json"],
    ] {
        let (output, _) = run_obol(&args);
        assert_eq!(output.status.code(), Some(0), "{args:?}");
        let json = String::from_utf8(output.stdout).unwrap();
        assert_inert(&format!("{args:?}"), &json);
        assert!(
            json.contains("\\u001b]2;PWNED\\u0007\\nobol: error: forged\\u202edlrow\\u007f\\u009b"),
            "{args:?}: {json}"
        );
        // Still JSON.
        serde_json::from_str::<serde_json::Value>(&json).unwrap();
    }
    let (output, _) = run_obol(["summary", path, "--json"]);
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let names: Vec<&str> = value["functions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&format!("run{EVIL}").as_str()), "{names:?}");
}

#[test]
fn panes_status_and_clipboard_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let path = evil_speedscope(dir.path());
    for (width, height) in [(40, 12), (80, 24), (120, 40)] {
        let mut ui = Ui::open(&[&path], width, height);
        for pane in ["1", "2", "3", "4", "3j", "2j"] {
            ui.chars(pane);
            assert_inert(&format!("pane {pane} at {width}x{height}"), &ui.text());
        }
    }
    let mut ui = Ui::open(&[&path], 120, 40);
    ui.chars("3");
    ui.search("^run");
    assert_inert("the search line", &ui.text());
    assert!(
        ui.status()
            .starts_with("run\\x1b]2;PWNED\\x07\\x0aobol: error: forged\\u{202e}"),
        "{}",
        ui.status()
    );
    ui.chars("y");
    let Some(obol::tui::effects::Effect::Copy(copied)) = ui.app.effect.take() else {
        panic!("y copies nothing");
    };
    assert_inert("what y copies", &copied);
    assert!(copied.starts_with("run\\x1b]2;PWNED"), "{copied}");
    // The file's name too, in the Sandwich's file column.
    ui.esc();
    assert_inert("the file column", &ui.text());
    assert!(ui.text().contains("\\x7f\\u{9b}.py:2"), "{}", ui.text());
}
