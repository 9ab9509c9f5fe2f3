//! The filter flags in the UI, through the real binary in tmux: they set the options the
//! session starts with, the panes show the filtered view, and the keys still change it (`H`
//! shows what `--only-mine` hid, Esc leaves `--focus`). A `--thread` no file has is one line on
//! the normal screen and exit 2.

mod common;
#[path = "common/tmux.rs"]
mod tmux;

use common::fixture;
use tmux::*;

fn first_row(screen: &str) -> &str {
    screen.lines().nth(1).unwrap_or("")
}

#[test]
fn focus_and_only_mine_start_the_view_and_keys_undo_them() {
    let path = folded_path();
    let argv = through_shell(&["--focus", "^run_round$", "--only-mine", &path]);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let Some(tmux) = Tmux::start("startfocus", &argv) else {
        return;
    };
    tmux.wait_for_text("Esc focus: /^run_round$/");
    tmux.wait_for_text("only my code");
    // Left Heavy starts at the focused function.
    tmux.send(&["2"]);
    tmux.wait_for("run_round at the root", |s| {
        first_row(s).starts_with("run_round")
    });
    // H shows the library again; the focus stays.
    tmux.send(&["H"]);
    // Waited for until the view is made: a key that changes the view while it is computed is
    // refused ("still computing"), which a loaded machine made happen in a CI run.
    tmux.wait_for("library shown", |s| {
        !s.contains("only my code")
            && s.contains("Esc focus: /^run_round$/")
            && !s.contains("computing")
    });
    // Esc leaves the focus: the whole program again, from its root.
    tmux.escape();
    tmux.wait_for("focus left", |s| {
        !s.contains("Esc focus:") && first_row(s).starts_with("<module>")
    });
    tmux.send(&["q"]);
    tmux.wait_for_text("obol exited with 0");
}

#[test]
fn thread_picks_the_profile_shown_and_a_missing_one_is_exit_2() {
    let path = fixture("program.threads.folded");
    let path = path.to_str().unwrap();
    let argv = through_shell(&["--thread", "MainThread", path]);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let Some(tmux) = Tmux::start("startthread", &argv) else {
        return;
    };
    // py-spy's MainThread is thread 9505 in the fixture, its worker 9508 (the tab bar shows
    // the profile's name, cut to fit).
    tmux.wait_for_text("Thread 9505 \"");
    // `]` still moves to the other thread.
    tmux.send(&["]"]);
    tmux.wait_for_text("Thread 9508 \"");
    tmux.send(&["q"]);
    tmux.wait_for_text("obol exited with 0");
    drop(tmux);

    // --merge-threads starts merged; `t` splits them again.
    let argv = through_shell(&["--merge-threads", path]);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let Some(tmux) = Tmux::start("startmerged", &argv) else {
        return;
    };
    tmux.wait_for_text("t threads merged");
    tmux.send(&["t"]);
    tmux.wait_for("threads apart", |s| !s.contains("threads merged"));
    tmux.send(&["q"]);
    tmux.wait_for_text("obol exited with 0");
    drop(tmux);

    let argv = through_shell(&["--thread", "nobody", path]);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let Some(tmux) = Tmux::start("startnothread", &argv) else {
        return;
    };
    let screen = tmux.wait_for_text("obol exited with 2");
    tmux.assert_terminal_restored();
    let error = screen
        .lines()
        .find(|l| l.starts_with("obol: error:"))
        .unwrap_or_else(|| panic!("no error line:\n{screen}"));
    assert!(error.contains("no profile named \"nobody\""), "{error}");
}
