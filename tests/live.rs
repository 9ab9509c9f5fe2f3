//! `obol record` and `obol attach` on a real Python program (fixtures/live/hot.py, whose `hot`
//! holds about three quarters of the time): the share of `hot` that obol shows live in the
//! Sandwich pane and saves to its file is held to a cProfile run's (fixtures/live/oracle.py,
//! pstats), the saved file is read back by Python's json as speedscope reads it (and checked
//! against speedscope's schema) and reopened by obol with the same totals; errors for PIDs
//! that are no Python program.

#![cfg(all(feature = "live", target_os = "linux"))]

mod common;
#[path = "common/tmux.rs"]
mod tmux;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use common::{Json, run_obol};
use tmux::{Tmux, exited, obol, obol_pid};

/// Points by which a share may differ from cProfile's: sampling at 500 Hz for 2 s gives about
/// 1,000 samples, whose share of `hot` (~75%) has a standard error of 1.4 points.
const TOLERANCE: f64 = 5.0;

/// `hot`'s share, `how` it was measured, within [`TOLERANCE`] of cProfile's `expected`.
fn assert_near_cprofile(share: f64, expected: f64, how: &str) {
    assert!(
        (share - expected).abs() <= TOLERANCE,
        "hot: {share:.1} % {how}, {expected:.1} % under cProfile"
    );
}

fn hot_py() -> PathBuf {
    common::fixture("live/hot.py")
}

/// The interpreter itself (not a shim that execs it): py-spy reads the process it is given.
fn python() -> Option<String> {
    let output = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .ok()?;
    let path = String::from_utf8(output.stdout).ok()?.trim().to_owned();
    (!path.is_empty()).then_some(path)
}

fn oracle(kind: &str, arg: &str) -> Json {
    let out = tempfile::NamedTempFile::new().unwrap();
    let mut command = Command::new("python3");
    command
        .arg(common::fixture("live/oracle.py"))
        .args([kind, arg])
        .arg(out.path());
    if let Some(schema) = common::speedscope_schema() {
        command.env("SCHEMA", schema);
    } else {
        common::skip("speedscope's file-format-schema.json (OBOL_SPEEDSCOPE_SCHEMA)");
    }
    let output = command.output().expect("python3 runs");
    assert!(
        output.status.success(),
        "oracle.py {kind}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Json::parse(&std::fs::read_to_string(out.path()).unwrap()).unwrap()
}

/// `hot`'s share (percent) of the time under cProfile, for a 2-second run (made once).
fn cprofile_share() -> f64 {
    static SHARE: OnceLock<f64> = OnceLock::new();
    *SHARE.get_or_init(|| oracle("cprofile", "2").get("hot_share").f64())
}

/// What a test that runs Python needs: its turn, the interpreter and a folder for files.
fn setup() -> Option<(MutexGuard<'static, ()>, String, tempfile::TempDir)> {
    let turn = serial();
    let Some(python) = python() else {
        common::skip("python3");
        return None;
    };
    Some((turn, python, tempfile::tempdir().unwrap()))
}

/// One test at a time: py-spy samples wall-clock time, and a program that shares its core
/// with other tests' programs is sampled in clumps (several samples of one preempted stack),
/// which widens the spread of its shares well past the binomial one.
fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// The saved file read back: by Python as speedscope reads it, and by obol, whose totals and
/// `hot` share must be the same; `obol diff` of it with itself reopens it too. Returns the
/// file's share of `hot`.
fn check_saved(path: &Path) -> f64 {
    let file = oracle("speedscope", path.to_str().unwrap());
    let (output, _) = run_obol(["summary", path.to_str().unwrap(), "--json"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary = Json::parse(&String::from_utf8_lossy(&output.stdout)).unwrap();
    let theirs: Vec<f64> = file
        .get("profiles")
        .array()
        .iter()
        .map(|p| p.get("total").f64())
        .collect();
    let ours: Vec<f64> = summary
        .get("profiles")
        .array()
        .iter()
        .map(|p| p.get("total").f64())
        .collect();
    assert_eq!(theirs.len(), ours.len(), "one profile per thread");
    for (a, b) in theirs.iter().zip(&ours) {
        assert!((a - b).abs() < 1e-9, "totals {theirs:?} vs {ours:?}");
    }
    let total = summary.get("total").f64();
    let hot = summary
        .get("functions")
        .array()
        .iter()
        .find(|f| f.get("name").str() == "hot")
        .expect("hot was sampled")
        .get("total")
        .f64();
    let share = file.get("hot_share").f64();
    assert!(
        (100.0 * hot / total - share).abs() < 1e-6,
        "obol reads hot at {} %, Python at {share} %",
        100.0 * hot / total
    );
    let (diff, _) = run_obol(["diff", path.to_str().unwrap(), path.to_str().unwrap()]);
    assert!(diff.status.success(), "obol diff reopens the recording");
    share
}

/// `obol record OPTIONS -o OUT -- python -S hot.py SECONDS`, without a terminal.
fn record_hot(python: &str, out: &Path, options: &[&str], seconds: &str) -> std::process::Output {
    let hot = hot_py();
    let mut args: Vec<&str> = vec!["record"];
    args.extend(options);
    args.extend(["-o", out.to_str().unwrap(), "--", python, "-S"]);
    args.extend([hot.to_str().unwrap(), seconds]);
    run_obol(args).0
}

#[test]
fn record_without_a_terminal_saves_a_file_whose_hot_share_is_cprofiles() {
    let Some((_serial, python, dir)) = setup() else {
        return;
    };
    let out = dir.path().join("rec.speedscope.json");
    // No terminal (output captured): the recording goes to the file only.
    let output = record_hot(&python, &out, &["--rate", "500"], "2");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("saved to"), "{stderr}");
    // The status, where py-spy's ptrace did not collect it first.
    assert!(stderr.contains("the program exited"), "{stderr}");
    // The program's output went to the log named on stderr.
    let log = dir.path().join("rec.log");
    assert!(stderr.contains(&log.display().to_string()), "{stderr}");
    assert!(
        std::fs::read_to_string(&log)
            .unwrap()
            .starts_with("rounds ")
    );
    let share = check_saved(&out);
    let expected = cprofile_share();
    assert_near_cprofile(share, expected, "recorded");
    // Sampled for about the program's 2 s at 500 Hz (loaded machines sample late, not less).
    let samples: f64 = oracle("speedscope", out.to_str().unwrap())
        .get("profiles")
        .array()
        .iter()
        .map(|p| p.get("samples").f64())
        .sum();
    assert!(samples > 500.0, "{samples} samples");
}

#[test]
fn attach_samples_a_running_program_for_its_duration() {
    let Some((_serial, python, dir)) = setup() else {
        return;
    };
    let out = dir.path().join("attached.json");
    let mut program = Command::new(&python)
        .args(["-S", hot_py().to_str().unwrap(), "6"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let pid = program.id().to_string();
    let (output, took) = run_obol([
        "attach",
        &pid,
        "--rate",
        "500",
        "--duration",
        "2",
        "-o",
        out.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    // Attaching leaves the program running.
    assert!(program.try_wait().unwrap().is_none(), "the program goes on");
    let share = check_saved(&out);
    let _ = program.kill();
    let _ = program.wait();
    let expected = cprofile_share();
    assert_near_cprofile(share, expected, "attached");
}

/// py-spy's `--threads`: every stack under its thread, `thread (TID)` (and the thread's name
/// where Python has one) as the outermost frame.
#[test]
fn threads_puts_each_stack_under_its_thread() {
    let Some((_serial, python, dir)) = setup() else {
        return;
    };
    let out = dir.path().join("threads.json");
    let output = record_hot(&python, &out, &["--threads", "--rate", "200"], "1");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let file = oracle("speedscope", out.to_str().unwrap());
    let roots = file.get("roots").array();
    assert_eq!(roots.len(), 1, "one thread: {roots:?}");
    assert!(roots[0].str().starts_with("thread ("), "{roots:?}");
    check_saved(&out);
}

fn obol_fails(args: &[&str]) -> String {
    let (output, _) = run_obol(args);
    assert_eq!(output.status.code(), Some(2), "{args:?}");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    stderr
}

#[test]
fn errors_say_what_to_do() {
    let _serial = serial();
    // Above any pid_max Linux allows (2^22).
    let stderr = obol_fails(&["attach", "99999999"]);
    assert!(stderr.contains("no process with PID 99999999"), "{stderr}");
    let mut sleeper = Command::new("sleep").arg("30").spawn().unwrap();
    let pid = sleeper.id().to_string();
    let stderr = obol_fails(&["attach", &pid]);
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    assert!(stderr.contains("is not a Python program"), "{stderr}");
    assert!(
        stderr.contains("give the PID of the python process"),
        "{stderr}"
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.json");
    let stderr = obol_fails(&["record", "-o", out.to_str().unwrap(), "--", "sleep", "5"]);
    assert!(stderr.contains("is it a Python program"), "{stderr}");
    let stderr = obol_fails(&["record", "--", "/nonexistent/python"]);
    assert!(
        stderr.contains("cannot run /nonexistent/python"),
        "{stderr}"
    );
}

/// Without the right to read the program (here: obol as `nobody`, the program root's), obol
/// says what would give it.
#[test]
fn no_permission_says_how_to_get_it() {
    let Some((_serial, python, dir)) = setup() else {
        return;
    };
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !is_root || Command::new("setpriv").arg("--version").output().is_err() {
        common::skip("root and setpriv, to run obol as nobody");
        return;
    }
    // nobody must be able to run the binary: a copy outside the (maybe private) target dir.
    let copy = Path::new("/tmp").join(format!("obol-live-perm-{}", std::process::id()));
    std::fs::copy(obol(), &copy).unwrap();
    let mut program = Command::new(&python)
        .args(["-S", hot_py().to_str().unwrap(), "5"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let output = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
        ])
        .arg(&copy)
        .args(["attach", &program.id().to_string()])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let _ = program.kill();
    let _ = program.wait();
    let _ = std::fs::remove_file(&copy);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no permission to read process"), "{stderr}");
    assert!(stderr.contains("root"), "{stderr}");
}

/// The `hot` row's total share in the Sandwich pane as drawn.
fn sandwich_share(screen: &str) -> Option<f64> {
    let row = screen
        .lines()
        .find(|l| l.split_whitespace().nth(4) == Some("hot"))?;
    row.split_whitespace().nth(3)?.parse().ok()
}

fn badge_samples(screen: &str) -> Option<u64> {
    let line = screen
        .lines()
        .find(|l| l.contains("● rec") || l.contains("■ ended"))?;
    let at = line.find(" samples")?;
    line[..at].rsplit(' ').next()?.parse().ok()
}

/// The whole program in a terminal: samples appear in the Sandwich pane while the program
/// runs, with `hot` at cProfile's share; `p` freezes the table while the badge counts on; the
/// view stays after the program exits; q saves the file and gives the terminal back.
#[test]
fn record_in_the_terminal_shows_the_samples_live_and_saves_them_on_q() {
    let Some((_serial, python, dir)) = setup() else {
        return;
    };
    let out = dir.path().join("live.json");
    let hot = hot_py();
    let Some(tmux) = Tmux::start_sized(
        "liverec",
        120,
        30,
        &[
            obol(),
            "record",
            "--rate",
            "500",
            "-o",
            out.to_str().unwrap(),
            "--",
            &python,
            "-S",
            hot.to_str().unwrap(),
            "4",
        ],
    ) else {
        return;
    };
    let pid = obol_pid(&tmux);
    let first = tmux.wait_for("the live badge", |s| s.contains("● rec 500 Hz"));
    // The program's log and the recording's file are named on screen.
    assert!(
        first.contains("log ") && first.contains("live.log"),
        "{first}"
    );
    assert!(
        first.contains("w save") && first.contains("live.json"),
        "{first}"
    );
    tmux.send(&["3"]);
    // Two seconds of samples in. The status line names a live recording, not the format it is
    // kept in.
    let screen = tmux.wait_for("2 s sampled", |s| {
        badge_samples(s).is_some_and(|n| n >= 1000)
            && sandwich_share(s).is_some()
            && s.contains("py-spy live: seconds")
    });
    assert!(!screen.contains("speedscope JSON"), "{screen}");
    let live = sandwich_share(&screen).unwrap();
    // Frozen: the table stays while the badge counts on.
    tmux.send(&["p"]);
    let frozen = tmux.wait_for("frozen", |s| s.contains("frozen (+"));
    let table = |s: &str| -> Vec<String> {
        s.lines()
            .filter(|l| l.contains("hot.py"))
            .map(str::to_owned)
            .collect()
    };
    std::thread::sleep(Duration::from_millis(800));
    let later = tmux.capture();
    assert_eq!(table(&frozen), table(&later), "the frozen view stays");
    assert!(
        badge_samples(&later) > badge_samples(&frozen),
        "sampling goes on:\n{later}"
    );
    tmux.send(&["p"]);
    // The program exits after 4 s: the view stays, with a message.
    let ended = tmux.wait_for("the program's end", |s| {
        s.contains("■ ended") && s.contains("the program exited")
    });
    assert!(sandwich_share(&ended).is_some(), "{ended}");
    let asked = Instant::now();
    tmux.send(&["q"]);
    while !exited(pid) {
        assert!(asked.elapsed() < Duration::from_secs(2), "q: still running");
        std::thread::sleep(Duration::from_millis(10));
    }
    tmux.assert_terminal_restored();
    let expected = cprofile_share();
    assert_near_cprofile(live, expected, "live in Sandwich");
    let saved = check_saved(&out);
    assert_near_cprofile(saved, expected, "saved");
}

/// SIGTERM (and q) while sampling: obol ends at once, gives the terminal back, saves what it
/// has and stops the program it started (SIGINT to its process group).
#[test]
fn sigterm_while_recording_saves_and_stops_the_program() {
    let Some((_serial, python, dir)) = setup() else {
        return;
    };
    let out = dir.path().join("term.json");
    let hot = hot_py();
    let Some(tmux) = Tmux::start(
        "liveterm",
        &[
            obol(),
            "record",
            "-o",
            out.to_str().unwrap(),
            "--",
            &python,
            "-S",
            hot.to_str().unwrap(),
            "60",
        ],
    ) else {
        return;
    };
    let pid = obol_pid(&tmux);
    tmux.wait_for("samples", |s| badge_samples(s).is_some_and(|n| n >= 50));
    let program = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap()
        .split_whitespace()
        .next()
        .expect("the program")
        .parse::<u32>()
        .unwrap();
    let asked = Instant::now();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    while !exited(pid) {
        assert!(asked.elapsed() < Duration::from_secs(2), "still running");
        std::thread::sleep(Duration::from_millis(5));
    }
    tmux.assert_terminal_restored();
    assert!(exited(program), "the program was stopped");
    let code = tmux.wait_for_exit(pid);
    assert!(code.as_deref().is_none_or(|c| c == "143"), "{code:?}");
    check_saved(&out);
}
