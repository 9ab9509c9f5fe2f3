//! The config file: errors through the binary (one line naming the file and the line, exit 2,
//! before the terminal is touched), and a config that moves keys and picks the start pane and
//! sort, driven through the real binary in tmux and read back from the screen and help.

mod common;
#[path = "common/tmux.rs"]
mod tmux;

use std::path::Path;

use common::fixture;
use tmux::*;

fn obol_with_config(config: &Path, env: Option<(&str, &Path)>) -> std::process::Output {
    let mut command = assert_cmd::Command::cargo_bin("obol").unwrap();
    match env {
        Some((name, value)) => command.env(name, value),
        None => command.arg("--config").arg(config),
    };
    command.arg(fixture("program.folded"));
    command.output().unwrap()
}

fn one_line_error(output: &std::process::Output) -> String {
    assert_eq!(output.status.code(), Some(2));
    let err = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.len() <= 300 + "obol: error: \n".len(), "{err}");
    assert!(output.stdout.is_empty(), "nothing drawn");
    err
}

#[test]
fn bad_configs_are_one_line_naming_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "pane = \"sandwich\"\n\n[keys]\nquit = \"x\"\nfly = \"z\"\n",
            "line 5",
            "\"fly\" is not an action",
        ),
        (
            "[keys]\nhelp = [\"F1\", \"Ctrl-\"]\n",
            "line 2",
            "\"Ctrl-\" is not a key",
        ),
        (
            "[keys]\nhelp = \"q\"\nquit = \"q\"\n",
            "line",
            "q is given to both",
        ),
        ("sort = \"total\"\ncolour = \"none\"\n", "line 2", "colour"),
        (
            "pane = \"sandwich\"\nsort = \"weight\"\n",
            "line 2",
            "\"weight\" is not a column",
        ),
        (
            "hide = [\"ok\",\n  \"(\"]\n",
            "line 2",
            "not a regular expression",
        ),
        ("pane = sandwich\n", "line 1", ""),
    ];
    for (i, (text, line, why)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("config{i}.toml"));
        std::fs::write(&path, text).unwrap();
        let err = one_line_error(&obol_with_config(&path, None));
        assert!(
            err.contains(&format!("config{i}.toml: config file {line}")),
            "{err}"
        );
        assert!(err.contains(why), "{err}");
    }
    // OBOL_CONFIG and XDG_CONFIG_HOME are read as --config is.
    let bad = dir.path().join("config0.toml");
    let err = one_line_error(&obol_with_config(&bad, Some(("OBOL_CONFIG", &bad))));
    assert!(err.contains("config0.toml: config file line 5"), "{err}");
    let xdg = dir.path().join("xdg");
    std::fs::create_dir_all(xdg.join("obol")).unwrap();
    std::fs::copy(&bad, xdg.join("obol/config.toml")).unwrap();
    let err = one_line_error(&obol_with_config(&bad, Some(("XDG_CONFIG_HOME", &xdg))));
    assert!(
        err.contains("obol/config.toml: config file line 5"),
        "{err}"
    );
    // A config file asked for by name must be there.
    let err = one_line_error(&obol_with_config(&dir.path().join("none.toml"), None));
    assert!(
        err.contains("none.toml: cannot read the config file"),
        "{err}"
    );
}

#[test]
fn a_config_moves_keys_and_picks_the_start_pane_and_sort() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "pane = \"sandwich\"\nsort = \"total\"\nhide = [\"^run_round$\"]\n\n[keys]\nhelp = \"z\"\nquit = [\"x\"]\n",
    )
    .unwrap();
    let path = folded_path();
    let config = config.to_str().unwrap();
    let argv = through_shell(&["--config", config, &path]);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let Some(tmux) = Tmux::start("config", &argv) else {
        return;
    };
    // Sandwich, sorted by total: the header marks the column; the config's hidden frames are
    // nowhere, and the status line says so.
    let screen = tmux.wait_for("Sandwich sorted by total", |s| {
        s.lines()
            .any(|l| l.contains("total▼") && l.contains("function"))
            && s.contains("1 pattern always hidden")
    });
    assert!(!screen.contains("run_round"), "{screen}");
    // `z` shows the help, which lists the keys as the config left them.
    tmux.send(&["z"]);
    let screen = tmux.wait_for_text("this help");
    let line_of = |what: &str| {
        screen
            .lines()
            .find(|l| l.contains(what))
            .unwrap_or_else(|| panic!("{what} in {screen}"))
            .to_owned()
    };
    let help = line_of("this help");
    let keys = help[..help.find("this help").unwrap()].trim_end();
    assert!(
        keys.ends_with(" z") || keys.ends_with("│z"),
        "help's key for help: {help}"
    );
    assert!(
        screen
            .lines()
            .any(|l| l.contains("x Ctrl-C") && l.contains("quit")),
        "{screen}"
    );
    // `q` quits no more (the help opens again after it); `x` does.
    tmux.send(&["z"]);
    tmux.wait_for("help closed", |s| !s.contains("this help"));
    tmux.send(&["q", "z"]);
    tmux.wait_for_text("this help");
    tmux.send(&["x"]);
    tmux.wait_for_text("obol exited with 0");
    tmux.assert_terminal_restored();
}

/// The config's editor command wins over `$EDITOR`, with `{file}` and `{line}` filled in.
#[test]
fn the_config_editor_opens_the_selected_function() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("args.txt");
    let editor = dir.path().join("editor.sh");
    std::fs::write(
        &editor,
        format!("#!/bin/sh\nprintf '%s\\n' \"$@\" > '{}'\n", out.display()),
    )
    .unwrap();
    std::process::Command::new("chmod")
        .args(["+x", editor.to_str().unwrap()])
        .status()
        .unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!("editor = \"{} --at {{line}} {{file}}\"\n", editor.display()),
    )
    .unwrap();
    let fixture = fixture("program.threads.speedscope.json");
    let sources = common::fixture("program");
    let Some(tmux) = Tmux::start_sized(
        "configeditor",
        120,
        40,
        &[
            "env",
            "-u",
            "VISUAL",
            "EDITOR=false",
            obol(),
            "--config",
            config.to_str().unwrap(),
            "--source-root",
            sources.to_str().unwrap(),
            fixture.to_str().unwrap(),
        ],
    ) else {
        return;
    };
    tmux.wait_for_text("speedscope JSON: seconds");
    tmux.send(&["2", "j", "j", "j", "j", "j", "j"]);
    tmux.wait_for("price_all selected", |s| {
        s.lines()
            .nth(38)
            .is_some_and(|l| l.starts_with("price_all "))
    });
    tmux.send(&["e"]);
    tmux.wait_for_text("edited ");
    let args = std::fs::read_to_string(&out).unwrap();
    let args: Vec<&str> = args.lines().collect();
    assert_eq!(args.len(), 3, "{args:?}");
    assert_eq!(args[0], "--at");
    assert!(
        args[1].parse::<u32>().is_ok_and(|n| (45..=48).contains(&n)),
        "{args:?}"
    );
    assert!(args[2].ends_with("shop/pricing.py"), "{args:?}");
    tmux.send(&["q"]);
}
