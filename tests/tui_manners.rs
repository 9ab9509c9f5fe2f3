//! Terminal manners, through the built binary: no UI without a terminal that can draw it (one
//! line pointing to `obol summary` instead), a missing file named before any terminal trouble,
//! and ASCII only under a locale that is not UTF-8. Skipped, saying so, where tmux is missing.

mod common;
#[path = "common/tmux.rs"]
mod tmux;

use common::run_obol;
use tmux::*;

/// The one line obol prints instead of starting the UI.
fn refusal(screen: &str) -> Vec<&str> {
    screen
        .lines()
        .filter(|l| l.starts_with("obol: error: "))
        .collect()
}

#[test]
fn term_dumb_gets_one_line_pointing_to_summary() {
    let Some(tmux) = Tmux::start_sized(
        "dumb",
        80,
        24,
        &as_strs(&through_shell_env(&["TERM=dumb"], &[&folded_path()])),
    ) else {
        return;
    };
    let screen = tmux.wait_for_text("obol exited with 2");
    let lines = refusal(&screen);
    assert_eq!(lines.len(), 1, "{screen}");
    assert!(lines[0].contains("TERM=dumb"), "{screen}");
    assert!(lines[0].contains("obol summary FILE"), "{screen}");
    tmux.assert_terminal_restored();
    assert_eq!(tmux.display("#{alternate_on}"), "0");
}

#[test]
fn redirected_output_gets_one_line_and_an_empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.txt");
    let script = format!(
        "\"$0\" \"$1\" > '{}'; echo \"obol exited with $?\"; exec sleep 60",
        out.display()
    );
    let folded = folded_path();
    let Some(tmux) = Tmux::start_sized("redirect", 80, 24, &["sh", "-c", &script, obol(), &folded])
    else {
        return;
    };
    let screen = tmux.wait_for_text("obol exited with 2");
    let lines = refusal(&screen);
    assert_eq!(lines.len(), 1, "{screen}");
    assert!(
        lines[0].contains("standard output is not a terminal"),
        "{screen}"
    );
    assert!(lines[0].contains("obol summary FILE"), "{screen}");
    assert_eq!(
        std::fs::read(&out).unwrap(),
        b"",
        "nothing drawn into the file"
    );
}

/// Without any terminal, a missing file is reported as missing, not as a terminal error.
#[test]
fn a_missing_file_is_named_before_any_terminal_error() {
    let (output, _) = run_obol(["/nonexistent/missing.prof"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("obol: error: /nonexistent/missing.prof: cannot read: No such file"),
        "{stderr}"
    );
    // With the file there, the terminal is what is missing.
    let (output, _) = run_obol([folded_path()]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("not a terminal") && stderr.contains("obol summary"),
        "{stderr}"
    );
}

#[test]
fn a_c_locale_gets_ascii_only() {
    let speedscope = common::fixture("program.speedscope.json");
    let Some(tmux) = Tmux::start_sized(
        "ascii",
        80,
        24,
        &as_strs(&through_shell_env(
            &["LC_ALL=C"],
            &[speedscope.to_str().unwrap()],
        )),
    ) else {
        return;
    };
    let screen = tmux.wait_for_text("speedscope JSON");
    // Sandwich and the help overlay have the most symbols: sort marks, borders, ellipses.
    tmux.send(&["3"]);
    let sandwich = tmux.wait_for_text("self");
    tmux.send(&["?"]);
    let help = tmux.wait_for_text("double-click");
    for (what, screen) in [
        ("Time Order", &screen),
        ("Sandwich", &sandwich),
        ("help", &help),
    ] {
        let other: Vec<char> = screen.chars().filter(|c| !c.is_ascii()).collect();
        assert!(
            other.is_empty(),
            "{what}: {other:?} under LC_ALL=C:\n{screen}"
        );
    }
    assert!(help.contains("+-"), "ASCII borders: {help}");
    tmux.send(&["q"]);
    tmux.wait_for_text("obol exited with 0");
}

/// [`through_shell`] with environment assignments before obol.
fn through_shell_env(env: &[&str], args: &[&str]) -> Vec<String> {
    let mut argv = vec!["env".to_owned()];
    argv.extend(env.iter().map(|e| (*e).to_owned()));
    argv.extend(through_shell(args));
    argv
}

fn as_strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// `y` says what it sent and how (OSC 52), in the real event loop.
#[test]
fn y_says_what_it_sent_to_the_clipboard() {
    let Some(tmux) = Tmux::start_sized("copy", 120, 30, &[obol(), &folded_path()]) else {
        return;
    };
    tmux.wait_for_text("folded stacks: samples");
    tmux.send(&["3", "y"]);
    let screen = tmux.wait_for_text("sent to the terminal's clipboard (OSC 52)");
    let line = screen
        .lines()
        .find(|l| l.contains("OSC 52"))
        .unwrap()
        .trim_end();
    assert_eq!(
        line,
        "apply_tax shop/pricing.py:13: sent to the terminal's clipboard (OSC 52)"
    );
    tmux.send(&["q"]);
}
