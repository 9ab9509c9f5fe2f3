//! `obol completions SHELL` and `obol man` through the binary: the scripts parse in their shell
//! where it is installed, and both name every subcommand clap knows.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::run_obol;

/// The subcommands, from `obol --help` (the same clap definition the scripts come from, read
/// through its own printed list, not repeated here).
fn subcommands() -> Vec<String> {
    let (output, _) = run_obol(["--help"]);
    let help = String::from_utf8(output.stdout).unwrap();
    let list = help.split("Commands:").nth(1).expect("help lists commands");
    let names: Vec<String> = list
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| *n != "help")
        .map(str::to_owned)
        .collect();
    assert!(names.len() >= 7, "{names:?}");
    names
}

fn stdout_of(args: &[&str]) -> String {
    let (output, _) = run_obol(args);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn syntax_ok(shell: &str, flag: &str, script: &str) -> bool {
    let mut child = Command::new(shell)
        .arg(flag)
        .stdin(Stdio::piped())
        .spawn()
        .expect("the shell runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    child.wait().unwrap().success()
}

#[test]
fn completion_scripts_name_every_subcommand_and_parse() {
    let names = subcommands();
    assert!(names.contains(&"callers".to_owned()), "{names:?}");
    for shell in ["bash", "zsh", "fish"] {
        let script = stdout_of(&["completions", shell]);
        for name in &names {
            assert!(
                script.contains(name.as_str()),
                "{shell} script lacks {name}"
            );
        }
    }
    // bash is on every machine this runs on; it must accept the script as written.
    assert!(syntax_ok(
        "bash",
        "-n",
        &stdout_of(&["completions", "bash"])
    ));
}

#[test]
fn the_manual_page_is_roff_with_every_subcommand() {
    let page = stdout_of(&["man"]);
    assert!(
        page.contains(".TH obol 1"),
        "{}",
        &page[..page.len().min(300)]
    );
    for name in subcommands() {
        assert!(page.contains(&format!("obol\\-{name}(1)")), "{name}");
    }
}

#[test]
fn a_closed_pipe_ends_the_script_quietly() {
    // The read end is closed before obol starts: its first write fails with a broken pipe.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = Command::new(assert_cmd::cargo::cargo_bin("obol"))
        .args(["completions", "bash"])
        .stdout(writer)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        matches!(output.status.code(), Some(0 | 2)),
        "a quiet end or the one-line error, not {:?}",
        output.status
    );
}
