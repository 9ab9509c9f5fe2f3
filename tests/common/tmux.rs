//! The built binary in a real terminal: tmux on a private socket, keys sent with `send-keys`,
//! the screen read with `capture-pane`. Shared by the tests that drive the real event loop.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub const WAIT: Duration = Duration::from_secs(10);

/// A tmux server of our own, killed when dropped, even when the test fails.
pub struct Tmux {
    socket: String,
    /// The socket file, removed with the server.
    socket_path: Option<String>,
}

impl Tmux {
    /// A server running `command` (argv, run directly, no shell) in a detached 100×30 session
    /// whose pane stays after the command exits. `None` when tmux is missing.
    pub fn start(test: &str, command: &[&str]) -> Option<Tmux> {
        Tmux::start_sized(test, 100, 30, command)
    }

    /// [`Tmux::start`] at `width`×`height`.
    pub fn start_sized(test: &str, width: u16, height: u16, command: &[&str]) -> Option<Tmux> {
        if Command::new("tmux").arg("-V").output().is_err() {
            crate::common::skip("tmux");
            return None;
        }
        let mut tmux = Tmux {
            socket: format!("obol-test-{}-{test}", std::process::id()),
            socket_path: None,
        };
        let (width, height) = (width.to_string(), height.to_string());
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
            // The UI draws Unicode only under a UTF-8 locale: say so whatever the test's
            // environment is (a test wanting ASCII sets LC_ALL itself, closer to obol).
            "set-environment",
            "-g",
            "LC_ALL",
            "C.UTF-8",
            ";",
            "new-session",
            "-d",
            "-s",
            "obol",
            "-x",
            &width,
            "-y",
            &height,
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

    pub fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("tmux runs")
    }

    /// A format variable of the pane, e.g. `#{pane_pid}`.
    pub fn display(&self, format: &str) -> String {
        let out = self.run(&["display-message", "-p", "-t", "obol", format]);
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    pub fn capture(&self) -> String {
        let out = self.run(&["capture-pane", "-p", "-t", "obol"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Keys as tmux names them (`q`, `Enter`, `C-c`); `-l` sends text literally.
    pub fn send(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "obol"];
        args.extend_from_slice(keys);
        let out = self.run(&args);
        assert!(out.status.success(), "send-keys {keys:?}");
    }

    pub fn type_text(&self, text: &str) {
        self.send(&["-l", text]);
    }

    /// Esc on its own, then a pause, so that the next key is not read as Alt-key.
    pub fn escape(&self) {
        self.send(&["Escape"]);
        std::thread::sleep(Duration::from_millis(100));
    }

    /// Polls the screen until `ready` holds; panics with the last screen after [`WAIT`].
    pub fn wait_for(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        self.wait_up_to(what, WAIT, ready)
    }

    /// [`Tmux::wait_for`] for up to `limit` (a large file loads for a while).
    pub fn wait_up_to(&self, what: &str, limit: Duration, ready: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.capture();
            if ready(&screen) {
                return screen;
            }
            if start.elapsed() > limit {
                panic!("timed out waiting for {what}; the screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn wait_for_text(&self, text: &str) -> String {
        self.wait_for(text, |s| s.contains(text))
    }

    /// Waits for the pane's process `pid` to end; returns its exit status as tmux reports it,
    /// or `None` when it has ended but tmux has not collected it: under load tmux sometimes
    /// leaves an exited child unreaped (a zombie) for many seconds, with no status to report.
    /// Exit codes are checked reliably by the tests that run obol under a wrapper shell.
    pub fn wait_for_exit(&self, pid: u32) -> Option<String> {
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

    pub fn assert_terminal_restored(&self) {
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

    pub fn assert_cursor_shown(&self) {
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

pub fn obol() -> &'static str {
    env!("CARGO_BIN_EXE_obol")
}

pub fn folded_path() -> String {
    crate::common::fixture("program.folded")
        .to_str()
        .expect("a UTF-8 path")
        .to_owned()
}

/// A shell that runs obol on `args`, then says how it exited and stays, so that the terminal
/// obol left behind can be inspected in a live pane.
pub fn through_shell(args: &[&str]) -> Vec<String> {
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
pub fn child_pid(tmux: &Tmux) -> u32 {
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
pub fn obol_pid(tmux: &Tmux) -> u32 {
    let pid: u32 = tmux.display("#{pane_pid}").parse().expect("a pane pid");
    // Right after the session starts the pane's process can still be tmux's fork, before it
    // executes obol: wait for the exec.
    let start = Instant::now();
    loop {
        let exe = std::fs::read_link(format!("/proc/{pid}/exe")).expect("the pane's process");
        if exe.file_name() == Path::new(obol()).file_name() {
            return pid;
        }
        assert!(
            start.elapsed() < WAIT,
            "the pane runs obol directly, not {exe:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

pub fn process_gone(pid: u32) -> bool {
    !Path::new(&format!("/proc/{pid}")).exists()
}

/// Gone, or a zombie: the process has ended either way.
pub fn exited(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |stat| {
        stat.rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z'))
    })
}

/// Line `n` of a screen counted from its last (1): the status line, the selection's line above.
pub fn line_from_bottom(screen: &str, height: u16, n: u16) -> &str {
    screen
        .lines()
        .nth(usize::from(height.saturating_sub(n)))
        .unwrap_or("")
}
