//! The built binary in a real terminal: tmux on a private socket, keys sent with `send-keys`,
//! the screen read with `capture-pane`. Checks the panes by their text, that `q`, Ctrl-C and
//! SIGTERM end the process, and that the terminal is given back (alternate screen left, cursor
//! shown, mouse reporting off). Skipped, saying so, where tmux is not installed.

mod common;
#[path = "common/tmux.rs"]
mod tmux;
#[path = "common/tui.rs"]
mod tui;

use std::path::Path;
use std::process::Command;

use tmux::*;
use tui::Folded;

#[test]
fn panes_by_keys_then_q_quits_and_restores_the_terminal() {
    let path = folded_path();
    let Some(tmux) = Tmux::start("keys", &[obol(), &path]) else {
        return;
    };
    let folded = Folded::read(Path::new(&path));
    let screen = tmux.wait_for_text(&format!("folded stacks: samples · total {}", folded.total));
    assert!(
        screen.starts_with(" 1 Flamegraph   2 Left Heavy   3 Sandwich   4 Priority"),
        "{screen}"
    );
    assert!(screen.contains("program.folded  ? help"));
    assert_eq!(tmux.display("#{alternate_on}"), "1");
    assert_eq!(
        tmux.display("#{cursor_flag}"),
        "0",
        "cursor hidden while running"
    );
    let pid = obol_pid(&tmux);
    // Frames by line, as the folded file writes them and the oracle counts them.
    tmux.send(&["L"]);
    tmux.wait_for_text("frames by line sampled");

    // Left Heavy: the heaviest path down the left edge, one frame per row.
    tmux.send(&["2"]);
    let chain = folded.heaviest_chain();
    let names: Vec<String> = chain
        .iter()
        .map(|p| tui::split_frame(p.last().unwrap()).0)
        .collect();
    // The status line names the selection; it is written after the rows above it, so it is
    // waited for too (tmux can be read between two writes of one frame).
    tmux.wait_for("Left Heavy's left edge and the status line", |s| {
        s.lines()
            .skip(1)
            .zip(&names)
            .all(|(line, name)| line.starts_with(name.as_str()))
            && s.contains(&folded.describe(&chain[0]))
    });
    tmux.send(&["j"]);
    tmux.wait_for_text(&folded.describe(&chain[1]));

    tmux.send(&["3"]);
    tmux.wait_for_text(" self▼     %  total     % function");
    tmux.send(&["4"]);
    tmux.wait_for_text("modules · coupling from calls");

    tmux.send(&["?"]);
    tmux.wait_for_text("(? or Esc closes)");
    tmux.escape();
    tmux.wait_for("help closed", |s| !s.contains("(? or Esc closes)"));

    tmux.send(&["2", "/"]);
    tmux.type_text("apply_tax");
    tmux.send(&["Enter"]);
    let (count, share) = folded.search(|n| n == "apply_tax");
    tmux.wait_for_text(&format!(
        "/apply_tax: {count} matches among frames, {:.1}% of the file",
        100.0 * share
    ));

    // The terminal grows: obol redraws at the new size, the selection kept.
    let selected = folded.describe(&chain[1]);
    tmux.run(&["resize-window", "-t", "obol", "-x", "120", "-y", "40"]);
    tmux.wait_for("a redraw at 120×40", |s| {
        s.lines().count() >= 39
            && s.lines()
                .next()
                .is_some_and(|l| l.ends_with("program.folded  ? help"))
            && s.lines().next().is_some_and(|l| l.chars().count() == 120)
            // tmux may be read between two writes of one frame: wait for the status line too.
            && s.lines().nth(38).map(str::trim_end) == Some(selected.as_str())
    });

    tmux.send(&["q"]);
    let status = tmux.wait_for_exit(pid);
    assert!(status.as_deref().is_none_or(|s| s == "0"), "{status:?}");
    assert!(exited(pid));
    tmux.assert_terminal_restored();
}

#[test]
fn demo_opens_the_embedded_profile_in_time_order() {
    let Some(tmux) = Tmux::start("demo", &[obol(), "--demo"]) else {
        return;
    };
    let screen = tmux.wait_for_text("demo.speedscope.json");
    assert!(screen.starts_with(" 1 Time Order "), "{screen}");
    tmux.send(&["3"]);
    tmux.wait_for_text(" self▼     %  total     % function");
    let pid = obol_pid(&tmux);
    tmux.send(&["q"]);
    let status = tmux.wait_for_exit(pid);
    assert!(status.as_deref().is_none_or(|s| s == "0"), "{status:?}");
    tmux.assert_terminal_restored();
}

/// Opens the folded fixture with the search prompt open, sends `signal` to obol, and checks
/// that it ends and leaves the terminal as it found it.
/// `signal` ends obol with 128 + its number (`code`), as a shell reports a death by signal,
/// after the terminal is given back.
fn signal_quits_and_restores_the_terminal(name: &str, signal: &str, code: &str) {
    let path = folded_path();
    let Some(tmux) = Tmux::start(name, &[obol(), &path]) else {
        return;
    };
    tmux.wait_for_text("folded stacks: samples");
    // Mid-prompt: any state must be left cleanly.
    tmux.send(&["/"]);
    tmux.type_text("abc");
    tmux.wait_for_text("/abc▏");
    let pid = obol_pid(&tmux);
    let killed = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    // tmux may not have reaped obol yet under load (no status): the shell tests below read the
    // code as the shell gets it.
    let status = tmux.wait_for_exit(pid);
    assert!(status.as_deref().is_none_or(|s| s == code), "{status:?}");
    assert!(exited(pid));
    tmux.assert_terminal_restored();
}

#[test]
fn sigterm_quits_and_restores_the_terminal() {
    signal_quits_and_restores_the_terminal("term", "-TERM", "143");
}

/// A dropped SSH session: the terminal's controlling process gets SIGHUP.
#[test]
fn sighup_quits_and_restores_the_terminal() {
    signal_quits_and_restores_the_terminal("hup", "-HUP", "129");
}

#[test]
fn ctrl_c_quits_even_in_the_search_prompt() {
    let path = folded_path();
    let argv = through_shell(&[&path]);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let Some(tmux) = Tmux::start("ctrlc", &argv) else {
        return;
    };
    tmux.wait_for_text("folded stacks: samples");
    let pid = child_pid(&tmux);
    assert_eq!(
        tmux.display("#{cursor_flag}"),
        "0",
        "cursor hidden while running"
    );
    tmux.send(&["/"]);
    tmux.wait_for_text("(regex; Enter search, Esc cancel)");
    tmux.send(&["C-c"]);
    tmux.wait_for_text("obol exited with 0");
    assert!(process_gone(pid));
    tmux.assert_terminal_restored();
    tmux.assert_cursor_shown();
}

/// Through a shell, which reports how obol exited: 128 + the signal's number, after the
/// terminal (cursor included) is given back.
fn signal_through_a_shell(name: &str, signal: &str, code: &str) {
    let path = folded_path();
    let argv = through_shell(&[&path]);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let Some(tmux) = Tmux::start(name, &argv) else {
        return;
    };
    tmux.wait_for_text("folded stacks: samples");
    tmux.send(&["?"]);
    tmux.wait_for_text("(? or Esc closes)");
    let pid = child_pid(&tmux);
    let killed = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    tmux.wait_for_text(&format!("obol exited with {code}"));
    tmux.assert_terminal_restored();
    tmux.assert_cursor_shown();
}

#[test]
fn sigterm_through_a_shell_exits_143_and_restores_the_cursor_too() {
    signal_through_a_shell("termsh", "-TERM", "143");
}

#[test]
fn sighup_through_a_shell_exits_129_and_restores_the_cursor_too() {
    signal_through_a_shell("hupsh", "-HUP", "129");
}

#[test]
fn a_file_that_does_not_load_gives_the_terminal_back_and_exit_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("missing.folded");
    let missing = missing.to_str().expect("UTF-8");
    let argv = through_shell(&[missing]);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let Some(tmux) = Tmux::start("missing", &argv) else {
        return;
    };
    let screen = tmux.wait_for_text("obol exited with 2");
    tmux.assert_terminal_restored();
    tmux.assert_cursor_shown();
    let error = screen
        .lines()
        .find(|l| l.starts_with("obol: error:"))
        .unwrap_or_else(|| panic!("no error line on the normal screen:\n{screen}"));
    assert!(error.contains("missing.folded"), "{error}");
}
#[test]
fn dash_reads_the_profile_from_a_pipe_and_keys_from_the_terminal() {
    let path = folded_path();
    // stdin is the pipe, not the terminal: keys must come from /dev/tty.
    let line = format!(
        "cat \"{path}\" | \"{}\" -; echo \"obol exited with $?\"; exec sleep 60",
        obol()
    );
    let Some(tmux) = Tmux::start("dash", &["sh", "-c", &line]) else {
        return;
    };
    let folded = Folded::read(Path::new(&path));
    tmux.wait_for_text(&format!("folded stacks: samples · total {}", folded.total));
    tmux.send(&["3"]);
    tmux.wait_for_text(" self▼     %  total     % function");
    tmux.send(&["q"]);
    tmux.wait_for_text("obol exited with 0");
    tmux.assert_terminal_restored();
}

#[test]
fn a_differential_folded_file_opens_as_two_and_d_shows_the_difference() {
    let Some(dir) = common::corpus("inferno/diff-folded/results") else {
        return;
    };
    let path = dir.join("default.txt");
    let Some(tmux) = Tmux::start("differential", &[obol(), path.to_str().unwrap()]) else {
        return;
    };
    // The first counts open first, as the base of `obol BASE NEW`.
    tmux.wait_for_text("default.txt ⇄ default.txt [1/2] default.tx");
    tmux.send(&["d"]);
    tmux.wait_for_text("difference: default.txt → default.txt");
    let pid = obol_pid(&tmux);
    tmux.send(&["q"]);
    let status = tmux.wait_for_exit(pid);
    assert!(status.as_deref().is_none_or(|s| s == "0"), "{status:?}");
}

#[test]
fn dash_with_the_terminal_as_stdin_is_refused_not_waited_on() {
    let line = format!(
        "\"{}\" -; echo \"obol exited with $?\"; exec sleep 60",
        obol()
    );
    let Some(tmux) = Tmux::start("dash-tty", &["sh", "-c", &line]) else {
        return;
    };
    let screen = tmux.wait_for_text("obol exited with 2");
    assert!(screen.contains("standard input is a terminal"), "{screen}");
}
