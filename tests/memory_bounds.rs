//! Peak memory of `obol summary` on files shaped to cost the most per byte (issue 11,
//! point 9): stacks a million frames deep, a million distinct names, and a drawing of one-frame
//! rows. The peak is the child's own `ru_maxrss`, read by a Python parent whose only child is
//! obol, so other tests' processes never count.

use std::io::Write;
use std::path::Path;
use std::process::Command;

/// Peak resident set of `obol summary FILE ARGS…`, in bytes.
fn peak_rss(file: &Path, args: &[&str]) -> u64 {
    let script = "import resource, subprocess, sys\n\
                  r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)\n\
                  assert r.returncode == 0, r.returncode\n\
                  print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)";
    let output = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_obol"))
        .arg("summary")
        .arg(file)
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "obol summary failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let kib: u64 = String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .expect("ru_maxrss in KiB");
    kib * 1024
}

/// Peak RSS of `obol summary FILE` and of `obol summary FILE --json`, each under `times`× the
/// file's size.
fn assert_within(file: &Path, times: u64) {
    let size = std::fs::metadata(file).unwrap().len();
    for args in [&[][..], &["--json"][..]] {
        let peak = peak_rss(file, args);
        eprintln!(
            "{} {args:?}: {size} bytes, peak RSS {peak} bytes ({:.1}×)",
            file.display(),
            peak as f64 / size as f64
        );
        assert!(
            peak < times * size,
            "summary {args:?}: peak RSS {peak} is not under {times}× the file's {size} bytes"
        );
    }
}

#[test]
fn stacks_a_million_frames_deep_stay_under_16_times_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deep.folded");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    // Ten lines of a million frames each (the deepest obol reads), each its own path: ten
    // million nodes from a 20 MB file.
    for line in 0..10 {
        write!(out, "root{line}").unwrap();
        for i in 0..1_000_000 - 1 {
            out.write_all(if i % 2 == 0 { b";a" } else { b";b" })
                .unwrap();
        }
        writeln!(out, " {}", line + 1).unwrap();
    }
    drop(out);
    assert_within(&path, 16);
}

/// A million lines, each one distinct name under a shared root (`line` writes line `i`): a
/// million functions and a million and one nodes, checked under 16× the file.
fn assert_million_names_within_16_times(file_name: &str, line: impl Fn(&mut dyn Write, u32)) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(file_name);
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    for i in 0..1_000_000 {
        line(&mut out, i);
    }
    drop(out);
    assert_within(&path, 16);
}

#[test]
fn a_million_distinct_names_stay_within_bounds() {
    // 22 MB. Each distinct name costs about 220 bytes at the peak: under 11× this file in a
    // release build (13× before the frame table's indices were freed after reading and the
    // reader's batches were handed on when full; 20× before names shared one string).
    assert_million_names_within_16_times("names.folded", |out, i| {
        writeln!(out, "main;pkg.fn_{i:07} 1").unwrap();
    });
}

#[test]
fn the_issues_million_names_in_16_mb_stay_under_16_times_the_file() {
    // Issue 11's own example: 16 bytes a line, so about 220 bytes of memory a name is 14× the
    // file (17× before the indices were freed after reading). Shorter lines still cost more per
    // byte: `a;fNNNNNN 1` (12 MB) is 18×, see benches/HISTORY.md.
    assert_million_names_within_16_times("names16.folded", |out, i| {
        writeln!(out, "main;f_{i:06} 1").unwrap();
    });
}

/// A drawing of 20 MB whose every frame is on a row of its own (each `y` its own): a row made
/// with room for many frames writes a page from the start, so such rows must be few (one such
/// version took 1.1 GB for this file).
#[test]
fn a_drawing_of_one_frame_rows_stays_under_16_times_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rows.svg");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(out, "<svg xmlns=\"http://www.w3.org/2000/svg\">").unwrap();
    let mut written = 0;
    for i in 0u64.. {
        if written >= 20 << 20 {
            break;
        }
        let frame = format!(
            "<g><title>f{} (1 samples, 0.01%)</title><rect x=\"{i}\" y=\"{}\" width=\"1\" \
             height=\"15\" fg:x=\"{i}\" fg:w=\"1\"/></g>\n",
            i % 50,
            i * 16
        );
        out.write_all(frame.as_bytes()).unwrap();
        written += frame.len();
    }
    writeln!(out, "</svg>").unwrap();
    drop(out);
    assert_within(&path, 16);
}
