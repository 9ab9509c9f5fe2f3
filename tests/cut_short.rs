//! A large speedscope, SVG (or uncompressed pprof) file is mapped, not read
//! (`import::source::Mapped`). When another program
//! cuts it short while obol reads it, the kernel raises SIGBUS at the first page past the new
//! end; obol must end as for any bad input: one line naming the file and the format, exit 2,
//! and in the UI the terminal put back.

mod common;
#[path = "common/tmux.rs"]
mod tmux;

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tmux::{Tmux, child_pid, obol, through_shell};

/// A sampled speedscope profile of about 40 MB: big enough to be mapped, and for its reading
/// (in a debug build) to last well past the moment the test cuts it.
fn big_speedscope(dir: &Path) -> PathBuf {
    let path = dir.join("big.speedscope.json");
    let mut out = BufWriter::new(std::fs::File::create(&path).unwrap());
    write!(
        out,
        r#"{{"$schema":"https://www.speedscope.app/file-format-schema.json","shared":{{"frames":["#
    )
    .unwrap();
    for i in 0..1000 {
        let comma = if i == 0 { "" } else { "," };
        write!(
            out,
            r#"{comma}{{"name":"f{i}","file":"m{i}.py","line":{i}}}"#
        )
        .unwrap();
    }
    let samples = 1_000_000u64;
    write!(
        out,
        r#"]}},"profiles":[{{"type":"sampled","name":"t","unit":"none","startValue":0,"endValue":{samples},"samples":["#
    )
    .unwrap();
    let mut rng = common::Lcg(7);
    for i in 0..samples {
        let comma = if i == 0 { "" } else { "," };
        write!(out, "{comma}[").unwrap();
        for depth in 0..10 {
            let frame = rng.next(1000);
            let comma = if depth == 0 { "" } else { "," };
            write!(out, "{comma}{frame}").unwrap();
        }
        write!(out, "]").unwrap();
    }
    write!(out, r#"],"weights":["#).unwrap();
    for i in 0..samples {
        let comma = if i == 0 { "" } else { "," };
        write!(out, "{comma}1").unwrap();
    }
    writeln!(out, "]}}]}}").unwrap();
    out.into_inner().unwrap().sync_all().unwrap();
    path
}

/// Waits until process `pid` has `path` mapped, then cuts the file to 100 bytes.
fn cut_once_mapped(pid: u32, path: &Path) {
    let start = Instant::now();
    let name = path.to_str().unwrap();
    loop {
        let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap_or_default();
        if maps.contains(name) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "obol never mapped {name}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    let file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    file.set_len(100).unwrap();
}

/// An uncompressed pprof profile of about 40 MB: a million samples of 32 locations, each of
/// one function (the wire format written by hand).
fn big_pprof(dir: &Path) -> PathBuf {
    use prost::encoding::encode_varint;
    fn field(out: &mut Vec<u8>, number: u64, body: &[u8]) {
        encode_varint(number << 3 | 2, out);
        encode_varint(body.len() as u64, out);
        out.extend_from_slice(body);
    }
    let path = dir.join("big.pprof");
    let mut out = Vec::new();
    // Sample type cpu/nanoseconds; strings "", "cpu", "nanoseconds", then one per function.
    field(&mut out, 1, &[0x08, 1, 0x10, 2]);
    let functions = 100u64;
    for id in 1..=functions {
        let mut location = vec![0x08, id as u8];
        field(&mut location, 4, &[0x08, id as u8]);
        field(&mut out, 4, &location);
        field(&mut out, 5, &[0x08, id as u8, 0x10, 2 + id as u8]);
    }
    for text in ["", "cpu", "nanoseconds"] {
        field(&mut out, 6, text.as_bytes());
    }
    for id in 1..=functions {
        field(&mut out, 6, format!("f{id}").as_bytes());
    }
    let mut rng = common::Lcg(7);
    let mut file = BufWriter::new(std::fs::File::create(&path).unwrap());
    file.write_all(&out).unwrap();
    for _ in 0..1_000_000 {
        let mut ids = Vec::new();
        for _ in 0..32 {
            encode_varint(1 + rng.next(functions), &mut ids);
        }
        let mut sample = Vec::new();
        field(&mut sample, 1, &ids);
        field(&mut sample, 2, &[1]);
        let mut bytes = Vec::new();
        field(&mut bytes, 2, &sample);
        file.write_all(&bytes).unwrap();
    }
    file.into_inner().unwrap().sync_all().unwrap();
    path
}

fn assert_one_line_naming(text: &str, path: &Path, read_as: &str) {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line: {text:?}");
    let line = lines[0];
    assert!(
        line.chars().count() <= 300,
        "at most 300 characters: {line}"
    );
    for part in [path.to_str().unwrap(), read_as, "cut short"] {
        assert!(line.contains(part), "{part:?} in {line:?}");
    }
}

/// `obol summary FILE` with the file cut short once obol has it mapped: exit 2 and one line
/// naming the file, `read_as` and the cut.
fn assert_summary_cut_short_is_one_line(path: &Path, read_as: &str) {
    let child = Command::new(obol())
        .args(["summary", path.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    cut_once_mapped(child.id(), path);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert_one_line_naming(&stderr, path, read_as);
}

#[test]
fn a_mapped_file_cut_short_while_summarised_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = big_speedscope(dir.path());
    assert_summary_cut_short_is_one_line(&path, "read as speedscope JSON");
}

/// A flamegraph of about 40 MB drawn by `inferno-flamegraph --minwidth 0` from random stacks
/// (SVGs from 16 MB on are mapped and scanned in two halves); `None` without inferno (a failure
/// under CI).
fn big_svg(dir: &Path) -> Option<PathBuf> {
    let folded = dir.join("stacks.folded");
    let mut out = BufWriter::new(std::fs::File::create(&folded).unwrap());
    let mut rng = common::Lcg(11);
    for _ in 0..20_000 {
        let stack: Vec<String> = (0..12).map(|_| format!("f{}", rng.next(500))).collect();
        writeln!(out, "{} {}", stack.join(";"), 1 + rng.next(9)).unwrap();
    }
    out.into_inner().unwrap().sync_all().unwrap();
    let path = dir.join("big.svg");
    if !common::draw_with_inferno(&folded, &path) {
        return None;
    }
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size > 16 << 20, "too small to be mapped: {size}");
    Some(path)
}

#[test]
fn a_mapped_svg_cut_short_while_summarised_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    if let Some(path) = big_svg(dir.path()) {
        assert_summary_cut_short_is_one_line(&path, "read as flamegraph SVG");
    }
}

#[test]
fn a_mapped_pprof_file_cut_short_while_summarised_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = big_pprof(dir.path());
    assert_summary_cut_short_is_one_line(&path, "read as pprof profile.proto");
}

#[test]
fn a_mapped_file_cut_short_while_the_ui_loads_restores_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let path = big_speedscope(dir.path());
    let argv = through_shell(&[path.to_str().unwrap()]);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let Some(tmux) = Tmux::start("cut-short", &argv) else {
        return;
    };
    let pid = child_pid(&tmux);
    cut_once_mapped(pid, &path);
    let screen = tmux.wait_for_text("obol exited with");
    assert!(screen.contains("obol exited with 2"), "{screen}");
    // The line (which tmux may wrap), then the terminal as obol found it: main screen, mouse
    // reporting off, cursor shown, and out of raw mode.
    let joined = screen.replace('\n', "");
    assert!(
        joined.contains("read as speedscope JSON") && joined.contains("cut short"),
        "{screen}"
    );
    tmux.assert_terminal_restored();
    tmux.assert_cursor_shown();
    let tty = tmux.display("#{pane_tty}");
    let stty = Command::new("stty")
        .args(["-F", &tty, "-a"])
        .output()
        .unwrap();
    let modes = String::from_utf8_lossy(&stty.stdout);
    for mode in ["icanon", "echo", "icrnl"] {
        assert!(
            modes.split_whitespace().any(|m| m == mode),
            "{mode} back on after raw mode: {modes}"
        );
    }
}
