//! The event loop in a real terminal (tmux) under stress: another program given the terminal
//! (`e`), resizes while keys arrive, and quitting while a long computation runs. Skipped,
//! saying so, where tmux is not installed.

mod common;
#[path = "common/tmux.rs"]
mod tmux;
#[path = "common/tui.rs"]
mod tui;

use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};

use common::Lcg;
use tmux::*;

fn status_line(tmux: &Tmux, height: usize) -> String {
    tmux.capture()
        .lines()
        .nth(height - 2)
        .unwrap_or("")
        .trim_end()
        .to_owned()
}

/// `e` with an "editor" that reads three lines from the terminal and writes them to a file: all
/// three arrive whole (obol's input thread reads nothing while it runs), obol acts on none of
/// them (they hold q, j and t), and obol's screen is drawn again once the editor exits.
#[test]
fn the_editor_gets_every_key_and_obol_none() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("typed.txt");
    let editor = dir.path().join("editor.sh");
    let mut script = std::fs::File::create(&editor).unwrap();
    writeln!(
        script,
        "#!/bin/sh\n: > '{out}'\necho EDITOR-READY\nfor i in 1 2 3; do IFS= read -r line; printf '%s\\n' \"$line\" >> '{out}'; done",
        out = out.display()
    )
    .unwrap();
    drop(script);
    Command::new("chmod")
        .args(["+x", editor.to_str().unwrap()])
        .status()
        .unwrap();
    let fixture = common::fixture("program.threads.speedscope.json");
    let sources = common::fixture("program");
    let editor_env = format!("EDITOR={}", editor.display());
    let Some(tmux) = Tmux::start_sized(
        "editor",
        120,
        40,
        &[
            "env",
            "-u",
            "VISUAL",
            &editor_env,
            obol(),
            "--source-root",
            sources.to_str().unwrap(),
            fixture.to_str().unwrap(),
        ],
    ) else {
        return;
    };
    tmux.wait_for_text("speedscope JSON: seconds");
    let pid = obol_pid(&tmux);
    tmux.send(&["2", "j", "j", "j", "j", "j", "j"]);
    tmux.wait_for("price_all selected", |s| {
        s.lines()
            .nth(38)
            .is_some_and(|l| l.starts_with("price_all "))
    });
    let before = status_line(&tmux, 40);
    tmux.send(&["e"]);
    tmux.wait_for_text("EDITOR-READY");
    let lines = ["q quits obol", "jjj moves", "t merges threads"];
    for line in lines {
        tmux.type_text(line);
        tmux.send(&["Enter"]);
    }
    let screen = tmux.wait_for("obol drawn again", |s| {
        s.starts_with(" 1   2 Left Heavy") && s.contains("edited ")
    });
    assert!(!screen.contains("EDITOR-READY"), "{screen}");
    let typed = std::fs::read_to_string(&out).unwrap();
    assert_eq!(typed, lines.map(|l| format!("{l}\n")).concat());
    assert!(!exited(pid), "obol quit on a key meant for the editor");
    assert_eq!(status_line(&tmux, 40), before, "a key reached obol");
    assert!(!screen.contains("merged"), "{screen}");
    tmux.send(&["q"]);
    let code = tmux.wait_for_exit(pid);
    assert!(code.as_deref().is_none_or(|c| c == "0"), "{code:?}");
}

/// Resizing in a loop while random keys arrive, on every fixture: obol never panics (a panic
/// exits 101 and leaves its message), draws at the final size, and quits with 0.
#[test]
fn a_resize_storm_with_random_keys_on_every_fixture() {
    // Every key but those that leave (q, Ctrl-C) or start a program (e).
    const KEYS: &[&str] = &[
        "1", "2", "3", "4", "Tab", "BTab", "Up", "Down", "Left", "Right", "h", "j", "k", "l",
        "PageUp", "PageDown", "Enter", "Escape", "BSpace", "0", "n", "N", "[", "]", "i", "c", "o",
        "r", "f", "H", "t", "L", "C-l", "y", "d", "s", "?", "/",
    ];
    let fixtures = [
        "program.folded",
        "program.prof",
        "program.profile.prof",
        "program.speedscope.json",
        "program.threads.speedscope.json",
        "program.inferno.svg",
        "program.pyspy.svg",
    ];
    for (n, fixture) in fixtures.iter().enumerate() {
        let path = common::fixture(fixture);
        let Some(tmux) = Tmux::start_sized(
            &format!("storm{n}"),
            100,
            30,
            &["env", "EDITOR=true", obol(), path.to_str().unwrap()],
        ) else {
            return;
        };
        tmux.wait_for("the first frame", |s| s.starts_with(" 1 "));
        let pid = obol_pid(&tmux);
        let mut random = Lcg(n as u64 + 1);
        for _ in 0..60 {
            let (w, h) = (10 + random.next(150), 3 + random.next(50));
            tmux.run(&[
                "resize-window",
                "-t",
                "obol",
                "-x",
                &w.to_string(),
                "-y",
                &h.to_string(),
            ]);
            let key = KEYS[random.next(KEYS.len() as u64) as usize];
            tmux.send(&[key]);
            if key == "/" {
                // Into the prompt and out again.
                tmux.type_text("a.");
                tmux.send(&["Enter"]);
            }
            if key == "Escape" {
                std::thread::sleep(Duration::from_millis(20));
            }
            assert!(
                !exited(pid),
                "{fixture}: obol ended; the screen:\n{}",
                tmux.capture()
            );
        }
        tmux.run(&["resize-window", "-t", "obol", "-x", "100", "-y", "30"]);
        tmux.send(&["Escape"]);
        std::thread::sleep(Duration::from_millis(100));
        // Leave help or a prompt, if open, and show pane 2.
        tmux.send(&["Escape", "2"]);
        tmux.wait_for(&format!("{fixture} at 100×30"), |s| {
            s.lines()
                .next()
                .is_some_and(|l| l.starts_with(" 1 ") && l.chars().count() == 100)
        });
        assert!(!exited(pid), "{fixture}: obol ended");
        tmux.send(&["q"]);
        // tmux may not have the status yet (it reaps late under load): then the screen tells
        // whether obol panicked, since the message is printed after the terminal is restored.
        let code = tmux.wait_for_exit(pid);
        let screen = tmux.capture();
        assert!(
            code.as_deref().is_none_or(|c| c == "0") && !screen.contains("panicked"),
            "{fixture}: exited {code:?}; the screen:\n{screen}"
        );
    }
}

/// A folded file of deep recursion, large enough that deriving its view takes a while.
fn deep_recursion(path: &std::path::Path) {
    let mut text = String::new();
    for i in 0..400 {
        let mut stack = vec![format!("main_{i} (app/main.py:1)")];
        for depth in 0..2_000 {
            stack.push(format!("walk (app/walk.py:{})", 10 + depth % 3));
        }
        text.push_str(&stack.join(";"));
        text.push_str(&format!(" {}\n", 1 + i % 7));
    }
    std::fs::write(path, text).unwrap();
}

/// q, and SIGTERM, while the view is computed (recursion being collapsed, frames grouped, on
/// a tree of 800,000 nodes): obol quits within a second, with the terminal given back.
#[test]
fn q_and_sigterm_during_a_long_computation_quit_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deep.folded");
    deep_recursion(&path);
    for (test, how) in [("longq", "q"), ("longterm", "TERM")] {
        let Some(tmux) = Tmux::start(test, &[obol(), path.to_str().unwrap()]) else {
            return;
        };
        let pid = obol_pid(&tmux);
        // The first view, then `r`: collapsing 2,000-deep recursion in every stack.
        tmux.wait_for("the first view", |s| s.contains("folded stacks"));
        tmux.send(&["r"]);
        tmux.wait_for_text("computing … collapsing recursion");
        let asked = Instant::now();
        if how == "q" {
            tmux.send(&["q"]);
        } else {
            let killed = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .unwrap();
            assert!(killed.success());
        }
        while !exited(pid) {
            assert!(
                asked.elapsed() < Duration::from_secs(1),
                "{how}: still running after a second"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        // No status when tmux has not reaped obol yet (tui_tmux.rs reads codes through a shell).
        let code = tmux.wait_for_exit(pid);
        let expected = if how == "q" { "0" } else { "143" };
        assert!(code.as_deref().is_none_or(|c| c == expected), "{code:?}");
        tmux.assert_terminal_restored();
    }
}

/// `--demo` writes its program's sources to a folder of its own, so that `e` opens them: the
/// editor gets a file that holds the fixture program's source.
#[test]
fn e_in_the_demo_opens_the_demo_programs_source() {
    let dir = tempfile::tempdir().unwrap();
    let args = dir.path().join("args.txt");
    let copy = dir.path().join("copy.py");
    let editor = dir.path().join("editor.sh");
    std::fs::write(
        &editor,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{}'\ncat \"$2\" > '{}'\n",
            args.display(),
            copy.display()
        ),
    )
    .unwrap();
    Command::new("chmod")
        .args(["+x", editor.to_str().unwrap()])
        .status()
        .unwrap();
    let editor_env = format!("EDITOR={}", editor.display());
    let Some(tmux) = Tmux::start_sized(
        "demo-e",
        120,
        40,
        &["env", "-u", "VISUAL", &editor_env, obol(), "--demo"],
    ) else {
        return;
    };
    tmux.wait_for_text("speedscope JSON");
    let pid = obol_pid(&tmux);
    tmux.send(&["2"]);
    tmux.wait_for("main.py selected", |s| {
        s.lines().nth(38).is_some_and(|l| l.contains("main.py:"))
    });
    tmux.send(&["e"]);
    tmux.wait_for_text("edited ");
    let written = std::fs::read_to_string(&args).unwrap();
    let opened = written.lines().nth(1).expect("+LINE FILE");
    assert!(opened.ends_with("/main.py"), "{written}");
    assert!(opened.contains("obol-demo-"), "{written}");
    let program = std::fs::read_to_string(common::fixture("program/main.py")).unwrap();
    assert_eq!(std::fs::read_to_string(&copy).unwrap(), program);
    tmux.send(&["q"]);
    tmux.wait_for_exit(pid);
    assert!(
        !std::path::Path::new(opened).exists(),
        "the demo's sources are removed on quit"
    );
}

/// A folded file of 150,000 random stacks over 5,000 functions in 200 modules (about 30 MB and
/// 2.5 million nodes, the shape of `gen_big.py`'s inputs): large enough that loading it and
/// rewriting its tree take a while in a test build.
fn big_random_folded(path: &std::path::Path) {
    let mut rng = Lcg(7);
    let names: Vec<String> = (0..5_000)
        .map(|i| {
            let m = rng.next(200);
            format!("fn_{i} (pkg{m}/mod{}.py:{})", m % 37, 1 + rng.next(3_000))
        })
        .collect();
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for _ in 0..150_000 {
        let depth = 5 + rng.next(25) as usize;
        let stack: Vec<&str> = (0..depth)
            .map(|_| names[rng.next(5_000) as usize].as_str())
            .collect();
        writeln!(out, "{} {}", stack.join(";"), 1 + rng.next(100)).unwrap();
    }
}

/// q while a big file loads, and Ctrl-C and SIGHUP while its view is derived again (`r`,
/// recursion collapsed over the whole tree): obol quits at once each time, the terminal given
/// back. (The time asserted is loose, for a
/// shared machine; `benches/ui_keys.py` measures the answer to each key.)
#[test]
fn q_ctrl_c_and_sighup_on_a_big_file_while_loading_and_ranking() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.folded");
    big_random_folded(&path);
    for (test, how) in [("bigq", "q"), ("bigctrlc", "C-c"), ("bighup", "HUP")] {
        let Some(tmux) = Tmux::start(test, &[obol(), path.to_str().unwrap()]) else {
            return;
        };
        let pid = obol_pid(&tmux);
        if how == "q" {
            // Before its first frame, or shown from its figures while read whole (a release
            // build counts them before the first capture).
            tmux.wait_for("the loading", |s| {
                s.contains("loading 1 of 1") || s.contains("% read")
            });
        } else {
            // Read whole (a large folded file is shown from its figures first, which cannot
            // collapse recursion).
            tmux.wait_for("the first view", |s| {
                s.contains("folded stacks") && !s.contains("% read")
            });
            tmux.send(&["r"]);
            tmux.wait_for_text("computing … collapsing recursion");
        }
        let asked = Instant::now();
        if how == "HUP" {
            let sent = Command::new("kill")
                .args(["-HUP", &pid.to_string()])
                .status()
                .unwrap();
            assert!(sent.success());
        } else {
            tmux.send(&[how]);
        }
        while !exited(pid) {
            assert!(
                asked.elapsed() < Duration::from_secs(1),
                "{how}: still running after a second"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        let code = tmux.wait_for_exit(pid);
        let expected = if how == "HUP" { "129" } else { "0" };
        assert!(
            code.as_deref().is_none_or(|c| c == expected),
            "{how}: {code:?}"
        );
        tmux.assert_terminal_restored();
    }
}
