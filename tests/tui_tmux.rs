//! The built binary in a real terminal: tmux on a private socket, keys sent with `send-keys`,
//! the screen read with `capture-pane`. Checks the panes by their text, that `q`, Ctrl-C and
//! SIGTERM end the process, and that the terminal is given back (alternate screen left, cursor
//! shown, mouse reporting off). Skipped, saying so, where tmux is not installed.

mod common;
#[path = "common/tui.rs"]
mod tui;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use tui::Folded;

const WAIT: Duration = Duration::from_secs(10);

/// A tmux server of our own, killed when dropped, even when the test fails.
struct Tmux {
    socket: String,
    /// The socket file, removed with the server.
    socket_path: Option<String>,
}

impl Tmux {
    /// A server running `command` (argv, run directly, no shell) in a detached 100×30 session
    /// whose pane stays after the command exits. `None` when tmux is missing.
    fn start(test: &str, command: &[&str]) -> Option<Tmux> {
        if Command::new("tmux").arg("-V").output().is_err() {
            common::skip("tmux");
            return None;
        }
        let mut tmux = Tmux {
            socket: format!("obol-test-{}-{test}", std::process::id()),
            socket_path: None,
        };
        // One invocation: the options are set before the command can exit.
        let mut args = vec![
            "start-server",
            ";",
            "set-option",
            "-g",
            "escape-time",
            "0",
            ";",
            "set-option",
            "-wg",
            "remain-on-exit",
            "on",
            ";",
            "new-session",
            "-d",
            "-s",
            "obol",
            "-x",
            "100",
            "-y",
            "30",
            "--",
        ];
        args.extend_from_slice(command);
        let out = tmux.run(&args);
        assert!(
            out.status.success(),
            "tmux new-session failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        tmux.socket_path = Some(tmux.display("#{socket_path}"));
        Some(tmux)
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("tmux runs")
    }

    /// A format variable of the pane, e.g. `#{pane_pid}`.
    fn display(&self, format: &str) -> String {
        let out = self.run(&["display-message", "-p", "-t", "obol", format]);
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    fn capture(&self) -> String {
        let out = self.run(&["capture-pane", "-p", "-t", "obol"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Keys as tmux names them (`q`, `Enter`, `C-c`); `-l` sends text literally.
    fn send(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "obol"];
        args.extend_from_slice(keys);
        let out = self.run(&args);
        assert!(out.status.success(), "send-keys {keys:?}");
    }

    fn type_text(&self, text: &str) {
        self.send(&["-l", text]);
    }

    /// Esc on its own, then a pause, so that the next key is not read as Alt-key.
    fn escape(&self) {
        self.send(&["Escape"]);
        std::thread::sleep(Duration::from_millis(100));
    }

    /// Polls the screen until `ready` holds; panics with the last screen after [`WAIT`].
    fn wait_for(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.capture();
            if ready(&screen) {
                return screen;
            }
            if start.elapsed() > WAIT {
                panic!("timed out waiting for {what}; the screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn wait_for_text(&self, text: &str) -> String {
        self.wait_for(text, |s| s.contains(text))
    }

    /// Waits for the pane's process `pid` to end; returns its exit status as tmux reports it,
    /// or `None` when it has ended but tmux has not collected it: under load tmux sometimes
    /// leaves an exited child unreaped (a zombie) for many seconds, with no status to report.
    /// Exit codes are checked reliably by the tests that run obol under a wrapper shell.
    fn wait_for_exit(&self, pid: u32) -> Option<String> {
        let start = Instant::now();
        loop {
            let status = self.display("#{pane_dead}:#{pane_dead_status}:#{pane_dead_signal}");
            if let Some(rest) = status.strip_prefix("1:")
                && let Some((code, _signal)) = rest.split_once(':')
                && !code.is_empty()
            {
                return Some(code.to_owned());
            }
            if status.starts_with("1:") && exited(pid) && start.elapsed() > Duration::from_secs(2) {
                return None;
            }
            if start.elapsed() > WAIT {
                panic!(
                    "obol did not exit normally ({status}); the screen:\n{}",
                    self.capture()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn assert_terminal_restored(&self) {
        assert_eq!(
            self.display("#{alternate_on}"),
            "0",
            "alternate screen left"
        );
        for flag in [
            "mouse_any_flag",
            "mouse_button_flag",
            "mouse_all_flag",
            "mouse_standard_flag",
            "mouse_sgr_flag",
        ] {
            assert_eq!(
                self.display(&format!("#{{{flag}}}")),
                "0",
                "{flag}: mouse reporting off"
            );
        }
    }

    fn assert_cursor_shown(&self) {
        assert_eq!(self.display("#{cursor_flag}"), "1", "cursor shown again");
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
        if let Some(path) = &self.socket_path {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn obol() -> &'static str {
    env!("CARGO_BIN_EXE_obol")
}

fn folded_path() -> String {
    common::fixture("program.folded")
        .to_str()
        .expect("a UTF-8 path")
        .to_owned()
}

/// A shell that runs obol on `args`, then says how it exited and stays, so that the terminal
/// obol left behind can be inspected in a live pane.
fn through_shell(args: &[&str]) -> Vec<String> {
    let mut argv = vec![
        "sh".to_owned(),
        "-c".to_owned(),
        "\"$0\" \"$@\"; echo \"obol exited with $?\"; exec sleep 60".to_owned(),
        obol().to_owned(),
    ];
    argv.extend(args.iter().map(|a| (*a).to_owned()));
    argv
}

/// The only child of the pane's shell: obol.
fn child_pid(tmux: &Tmux) -> u32 {
    let shell = tmux.display("#{pane_pid}");
    let start = Instant::now();
    loop {
        let children = std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children"))
            .unwrap_or_default();
        if let Some(pid) = children.split_whitespace().next() {
            return pid.parse().expect("a pid");
        }
        assert!(start.elapsed() < WAIT, "the shell started no obol");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The pane's process, checked to be obol itself (tmux ran the argv without a shell).
fn obol_pid(tmux: &Tmux) -> u32 {
    let pid: u32 = tmux.display("#{pane_pid}").parse().expect("a pane pid");
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).expect("the pane's process");
    assert_eq!(
        exe.file_name(),
        Path::new(obol()).file_name(),
        "the pane runs obol directly"
    );
    pid
}

fn process_gone(pid: u32) -> bool {
    !Path::new(&format!("/proc/{pid}")).exists()
}

/// Gone, or a zombie: the process has ended either way.
fn exited(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |stat| {
        stat.rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z'))
    })
}

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

    // Left Heavy: the heaviest path down the left edge, one frame per row.
    tmux.send(&["2"]);
    let chain = folded.heaviest_chain();
    let names: Vec<String> = chain
        .iter()
        .map(|p| tui::split_frame(p.last().unwrap()).0)
        .collect();
    let screen = tmux.wait_for("Left Heavy's left edge", |s| {
        s.lines()
            .skip(1)
            .zip(&names)
            .all(|(line, name)| line.starts_with(name.as_str()))
    });
    assert!(
        screen.contains(&folded.describe(&chain[0])),
        "status names the selection: {screen}"
    );
    tmux.send(&["j"]);
    tmux.wait_for_text(&folded.describe(&chain[1]));

    tmux.send(&["3"]);
    tmux.wait_for_text("   self▼    %   total     %  calls  function");
    tmux.send(&["4"]);
    tmux.wait_for_text("modules · coupling from calls");

    tmux.send(&["?"]);
    tmux.wait_for_text("keys (? or Esc closes)");
    tmux.escape();
    tmux.wait_for("help closed", |s| !s.contains("keys (? or Esc closes)"));

    tmux.send(&["2", "/"]);
    tmux.type_text("apply_tax");
    tmux.send(&["Enter"]);
    let (count, share) = folded.search(|n| n == "apply_tax");
    tmux.wait_for_text(&format!(
        "/apply_tax: {count} matches, {:.1}% of total",
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
    tmux.wait_for_text("   self▼    %   total     %  calls  function");
    let pid = obol_pid(&tmux);
    tmux.send(&["q"]);
    let status = tmux.wait_for_exit(pid);
    assert!(status.as_deref().is_none_or(|s| s == "0"), "{status:?}");
    tmux.assert_terminal_restored();
}

/// Opens the folded fixture with the search prompt open, sends `signal` to obol, and checks
/// that it ends and leaves the terminal as it found it.
fn signal_quits_and_restores_the_terminal(name: &str, signal: &str) {
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
    let status = tmux.wait_for_exit(pid);
    assert!(status.as_deref().is_none_or(|s| s == "0"), "{status:?}");
    assert!(exited(pid));
    tmux.assert_terminal_restored();
}

#[test]
fn sigterm_quits_and_restores_the_terminal() {
    signal_quits_and_restores_the_terminal("term", "-TERM");
}

/// A dropped SSH session: the terminal's controlling process gets SIGHUP.
#[test]
fn sighup_quits_and_restores_the_terminal() {
    signal_quits_and_restores_the_terminal("hup", "-HUP");
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

#[test]
fn sigterm_through_a_shell_restores_the_cursor_too() {
    let path = folded_path();
    let argv = through_shell(&[&path]);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let Some(tmux) = Tmux::start("termsh", &argv) else {
        return;
    };
    tmux.wait_for_text("folded stacks: samples");
    tmux.send(&["?"]);
    tmux.wait_for_text("keys (? or Esc closes)");
    let pid = child_pid(&tmux);
    let killed = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    tmux.wait_for_text("obol exited with 0");
    tmux.assert_terminal_restored();
    tmux.assert_cursor_shown();
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
    tmux.wait_for_text("   self▼    %   total     %  calls  function");
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
