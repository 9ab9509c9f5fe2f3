//! Issue 11, point by point, on real files: differential folded files, flamegraph.pl's pixel
//! drawings and old SVGs, detection, pipes, gzip, py-spy's `--threads`, pstats' primitive calls
//! and shared tuples, and what special files, hostile input and failed writes do.

mod common;

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{Json, fixture, run_obol};

fn obol() -> Command {
    Command::new(env!("CARGO_BIN_EXE_obol"))
}

/// `obol ARGS` with `input` on standard input.
fn with_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = obol()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    // Written from a thread: obol may stop reading (and the pipe fill) before the end.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    output
}

fn json_of(output: &Output) -> Json {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Json::parse(&String::from_utf8_lossy(&output.stdout)).unwrap()
}

fn summary(path: &Path) -> Json {
    json_of(&run_obol(["summary".as_ref(), path.as_os_str(), "--json".as_ref()]).0)
}

/// What a summary says regardless of where the bytes came from: its total and its functions.
fn figures(doc: &Json) -> (String, Json) {
    (
        doc.get("total").f64().to_string(),
        doc.get("functions").clone(),
    )
}

/// One line on stderr, exit 2, nothing on stdout: how every bad input ends.
fn assert_refused(output: &Output, says: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(output.stdout.is_empty());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(says), "{stderr} (wanted {says:?})");
    assert!(!stderr.contains("panicked"));
}

const FORMATS: [&str; 4] = [
    "program.folded",
    "program.prof",
    "program.speedscope.json",
    "program.pyspy.svg",
];

/// (frames, first count or none, last count) of a folded line, by flamegraph.pl's reading.
fn counts(line: &str) -> Option<(String, Option<f64>, f64)> {
    let (rest, last) = line.trim_end().rsplit_once([' ', '\t'])?;
    let last: f64 = last.parse().ok()?;
    match rest.rsplit_once([' ', '\t']) {
        Some((frames, first)) if first.parse::<f64>().is_ok() => {
            Some((frames.to_owned(), first.parse().ok(), last))
        }
        _ => Some((rest.to_owned(), None, last)),
    }
}

// 1. Differential folded files.

#[test]
fn differential_folded_files_weigh_the_last_count_and_compare_with_the_first() {
    let Some(corpus) = common::corpus("") else {
        return;
    };
    for rel in [
        "inferno/diff-folded/results/default.txt",
        "inferno/diff-folded/results/fractionals.txt",
        "inferno/flamegraph/differential/perf-cycles-instructions-01-collapsed-all-diff.txt",
    ] {
        let path = corpus.join(rel);
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<_> = text.lines().filter_map(counts).collect();
        let first: f64 = lines.iter().map(|l| l.1.unwrap()).sum();
        let last: f64 = lines.iter().map(|l| l.2).sum();
        assert!(
            first != last,
            "{rel}: a differential file whose sides agree tests nothing"
        );
        let doc = summary(&path);
        assert_eq!(doc.get("total").f64(), last, "{rel}");
        // No count is left in a name (`__fdget_pos_[k] 11`).
        for f in doc.get("functions").array() {
            let name = f.get("name").str();
            assert!(
                counts(name).is_none(),
                "{rel}: a count in the name {name:?}"
            );
        }
        let (output, _) = run_obol(["diff".as_ref(), path.as_os_str(), "--json".as_ref()]);
        let diff = json_of(&output);
        assert_eq!(diff.get("base").get("total").f64(), first, "{rel}");
        assert_eq!(diff.get("new").get("total").f64(), last, "{rel}");
    }
    // One file that holds one side only cannot be compared.
    let (output, _) = run_obol(["diff", fixture("program.folded").to_str().unwrap()]);
    assert_refused(&output, "one file compares only when it holds both sides");
}

// 2 and 3. flamegraph.pl drawings: pixel positions, and the 2012–13 ones.

/// The `all` frames' counts of a flamegraph.pl drawing, read from its titles (or its rects'
/// `onmouseover`, for the old ones), never from obol.
fn all_count(svg: &str) -> f64 {
    let mut total = 0.0;
    for piece in svg.split("<title>all (").skip(1) {
        total += first_count(piece);
    }
    for piece in svg.split("<rect").skip(1) {
        let tag = &piece[..piece.find('>').unwrap()];
        if let Some(at) = tag.find("s('all (") {
            total += first_count(&tag[at + 8..]);
        }
    }
    total
}

fn first_count(text: &str) -> f64 {
    let text = match text.find(" sample weight, ") {
        Some(at) if at < 20 => &text[at + 16..],
        _ => text,
    };
    let word: String = text
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ',' || *c == '.')
        .filter(|&c| c != ',')
        .collect();
    word.parse().unwrap()
}

#[test]
fn flamegraph_pl_pixel_drawings_total_their_all_frame() {
    let Some(corpus) = common::corpus("flamegraph") else {
        return;
    };
    for rel in [
        "demos/palette-example-working.svg",
        "demos/mallocbytes-bash.svg",
        "demos/off-mysql-idle.svg",
        "demos/cpu-illumos-tcpfuse.svg",
        "example-dtrace.svg",
    ] {
        let path = corpus.join(rel);
        let expected = all_count(&std::fs::read_to_string(&path).unwrap());
        let (output, _) = run_obol(["summary".as_ref(), path.as_os_str(), "--json".as_ref()]);
        let doc = json_of(&output);
        assert_eq!(doc.get("total").f64(), expected, "{rel}");
        // Hung on the callers they overlap most, no callee outweighs its caller.
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !stderr.contains("narrower than the callees"),
            "{rel}: {stderr}"
        );
    }
}

#[test]
fn old_flamegraph_pl_drawings_and_a_nameattr_drawing_are_read() {
    let Some(corpus) = common::corpus("") else {
        return;
    };
    for rel in [
        "flamegraph/demos/cpu-linux-tcpsend.svg",
        "flamegraph/demos/hotcold-kernelthread.svg",
        "flamegraph/demos/cpu-ipnet-diff.svg",
    ] {
        let path = corpus.join(rel);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            !text.contains("<title>"),
            "{rel}: not one of the old drawings"
        );
        let doc = summary(&path);
        // cpu-linux-tcpsend.svg has no `all` frame: its root level is its first functions'.
        let expected = match all_count(&text) {
            0.0 => match oracle(&path) {
                Some(want) => want.get("total").f64(),
                None => return,
            },
            all => all,
        };
        assert_eq!(doc.get("total").f64(), expected, "{rel}");
        assert!(doc.get("functions").array().len() > 10, "{rel}");
    }
    // A frame titled `foo` (no count) and labelled `main` weighs its fg:w under its label's
    // name; one whose label is cut short (`c..`) is left out, with a warning.
    let path = corpus.join("inferno/flamegraph/nameattr/nameattr_duplicate_attributes.svg");
    let (output, _) = run_obol(["summary".as_ref(), path.as_os_str(), "--json".as_ref()]);
    let doc = json_of(&output);
    assert_eq!(doc.get("total").f64(), 333.0);
    let main = doc
        .get("functions")
        .array()
        .iter()
        .find(|f| f.get("name").str() == "main")
        .expect("main, named by its label");
    assert!(main.get("total").f64() > 300.0);
    assert!(String::from_utf8_lossy(&output.stderr).contains("titled without a count"));
}

// 4. Detection.

#[test]
fn other_formats_are_refused_and_folded_files_accepted() {
    let Some(corpus) = common::corpus("") else {
        return;
    };
    let mut refused = 0;
    let mut stack = vec![corpus.join("other-formats")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path
                .strip_prefix(&corpus)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if common::READ_BY_THEIR_OWN_TESTS
                .iter()
                .any(|(prefix, _, _)| rel.starts_with(prefix))
            {
                continue;
            }
            let (output, _) = run_obol(["summary".as_ref(), path.as_os_str()]);
            // Chrome trace events are read now (tests/trace_event.rs checks them); the rest of
            // other-formats is not.
            let name = path.to_string_lossy();
            if name.contains("/trace-event/") || name.ends_with(".chrometrace.json") {
                continue;
            }
            assert_eq!(output.status.code(), Some(2), "{}", path.display());
            assert_eq!(output.stderr.iter().filter(|&&b| b == b'\n').count(), 1);
            refused += 1;
        }
    }
    // Some 65 since perf script and callgrind files are read (tests/perf_script.rs and
    // tests/callgrind.rs hold them to their oracles).
    assert!(
        refused >= 60,
        "only {refused} files of other-formats refused"
    );
    // callgrind's `version: 1` is a line ending in a number, but the lines after it are not; and
    // with no `events:` line this is no callgrind file either.
    let dir = tempfile::tempdir().unwrap();
    let callgrind = dir.path().join("callgrind.out");
    std::fs::write(
        &callgrind,
        "version: 1\ncreator: valgrind\ncmd: ./a\n\nfn=main 3\n",
    )
    .unwrap();
    let (output, _) = run_obol(["summary", callgrind.to_str().unwrap()]);
    assert_refused(
        &output,
        "line 2 is not a stack with a count: \"creator: valgrind\"",
    );
    // A first line that is no stack decides it, however many stacks follow.
    let late = dir.path().join("late.txt");
    std::fs::write(
        &late,
        format!("Analysis of sampling\n{}", "a;b 1\n".repeat(50)),
    )
    .unwrap();
    let (output, _) = run_obol(["summary", late.to_str().unwrap()]);
    assert_refused(&output, "line 1 is not a stack");
    // Every folded file of the corpus is folded.
    for sub in ["flamegraph/test/results", "speedscope/stackcollapse"] {
        for entry in std::fs::read_dir(corpus.join(sub)).unwrap() {
            let path = entry.unwrap().path();
            let (output, _) = run_obol(["summary".as_ref(), path.as_os_str(), "--json".as_ref()]);
            assert_eq!(
                json_of(&output).get("format").str(),
                "folded",
                "{}",
                path.display()
            );
        }
    }
}

// 5. Pipes.

#[test]
fn every_format_reads_from_stdin_dev_stdin_a_fifo_and_process_substitution() {
    let dir = tempfile::tempdir().unwrap();
    for name in FORMATS {
        let path = fixture(name);
        let bytes = std::fs::read(&path).unwrap();
        let want = figures(&summary(&path));
        let dash = with_stdin(&["summary", "-", "--json"], &bytes);
        assert_eq!(figures(&json_of(&dash)), want, "{name} from -");
        let dev = with_stdin(&["summary", "/dev/stdin", "--json"], &bytes);
        assert_eq!(figures(&json_of(&dev)), want, "{name} from /dev/stdin");

        let fifo = dir.path().join(format!("{name}.fifo"));
        let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success());
        let writer = {
            let (fifo, bytes) = (fifo.clone(), bytes.clone());
            std::thread::spawn(move || std::fs::write(fifo, bytes).unwrap())
        };
        let (output, _) = run_obol(["summary".as_ref(), fifo.as_os_str(), "--json".as_ref()]);
        writer.join().unwrap();
        assert_eq!(figures(&json_of(&output)), want, "{name} from a FIFO");

        let substituted = Command::new("bash")
            .arg("-c")
            .arg(format!(
                "\"{}\" summary <(cat \"{}\") --json",
                env!("CARGO_BIN_EXE_obol"),
                path.display()
            ))
            .output()
            .unwrap();
        assert_eq!(figures(&json_of(&substituted)), want, "{name} from <(...)");
    }
    // `-` works for diff (one side) and priority too.
    let base = std::fs::read(fixture("program.folded")).unwrap();
    let slow = fixture("program_slow.folded");
    let output = with_stdin(&["diff", "-", slow.to_str().unwrap(), "--json"], &base);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = with_stdin(&["priority", "-", "--json"], &base);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

// 6. gzip.

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn every_format_reads_gzipped_from_a_file_and_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    for name in FORMATS {
        let path = fixture(name);
        let want = figures(&summary(&path));
        let packed = gzip(&std::fs::read(&path).unwrap());
        // Known by its magic bytes, whatever its name.
        let file = dir.path().join(format!("{name}.data"));
        std::fs::write(&file, &packed).unwrap();
        assert_eq!(figures(&summary(&file)), want, "{name} gzipped");
        let piped = with_stdin(&["summary", "-", "--json"], &packed);
        assert_eq!(figures(&json_of(&piped)), want, "{name} gzipped on stdin");

        let mut cut = packed.clone();
        cut.truncate(packed.len() * 2 / 3);
        let output = with_stdin(&["summary", "-"], &cut);
        assert_refused(&output, "gzip");
        let mut corrupt = packed.clone();
        for i in (20..corrupt.len() - 8).step_by(97) {
            corrupt[i] ^= 0x5a;
        }
        std::fs::write(&file, &corrupt).unwrap();
        let (output, _) = run_obol(["summary", file.to_str().unwrap()]);
        assert_refused(&output, "gzip");
    }
}

// 7. py-spy --threads.

fn oracle(path: &Path) -> Option<Json> {
    let output = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/corpus_oracle.py"))
        .arg(path)
        .output();
    match output {
        Ok(output) if output.status.success() => {
            Some(Json::parse(&String::from_utf8_lossy(&output.stdout)).unwrap())
        }
        _ => {
            common::skip("python3, for corpus_oracle.py");
            None
        }
    }
}

fn profiles(doc: &Json) -> Vec<(String, f64)> {
    let mut list: Vec<(String, f64)> = doc
        .get("profiles")
        .array()
        .iter()
        .map(|p| (p.get("name").str().to_owned(), p.get("total").f64()))
        .collect();
    list.sort_by(|a, b| a.0.cmp(&b.0));
    list
}

#[test]
fn py_spy_threads_become_profiles() {
    for name in ["program.threads.folded", "program.threads.pyspy.svg"] {
        let path = fixture(name);
        let text = std::fs::read_to_string(&path).unwrap();
        // py-spy wrote both forms of a thread's frame; each thread is one profile.
        assert!(text.contains("thread (") && text.contains("): MainThread"));
        let Some(want) = oracle(&path) else { return };
        let doc = summary(&path);
        let got = profiles(&doc);
        assert_eq!(got.len(), 2, "{name}: {got:?}");
        assert_eq!(got, profiles(&want), "{name}");
        assert!(got.iter().any(|(n, _)| n.ends_with("\"worker\"")));
        for f in doc.get("functions").array() {
            let fname = f.get("name").str();
            assert!(
                !fname.starts_with("thread"),
                "{name}: a thread frame as a function"
            );
        }
        let (output, _) = run_obol(["summary", path.to_str().unwrap(), "--thread", "worker"]);
        assert!(output.status.success());
        assert!(String::from_utf8_lossy(&output.stdout).contains(", 1 profile,"));
    }
}

// 8. pstats.

#[test]
fn pstats_primitive_calls_shared_tuples_and_large_lines() {
    let oracle_file = fixture("oracle/program.prof.json");
    let want = Json::parse(&std::fs::read_to_string(oracle_file).unwrap()).unwrap();
    let doc = summary(&fixture("program.prof"));
    let mut recursive = 0;
    for f in want.get("functions").array() {
        let got = doc
            .get("functions")
            .array()
            .iter()
            .find(|g| {
                g.get("name").str() == f.get("name").str()
                    && g.get("file").opt_str() == f.get("file").opt_str()
                    && g.get("line").opt_u64() == f.get("line").opt_u64()
            })
            .unwrap();
        let (nc, cc) = (f.get("calls").opt_u64(), f.get("primitive_calls").opt_u64());
        assert_eq!(got.get("primitive_calls").opt_u64(), cc);
        recursive += usize::from(nc != cc);
    }
    assert!(
        recursive > 0,
        "the fixture's recursion gives calls that are not primitive"
    );
    // pstats prints `ncalls` as nc/cc when they differ.
    let (output, _) = run_obol([
        "summary",
        fixture("program.prof").to_str().unwrap(),
        "--sort",
        "calls",
    ]);
    let table = String::from_utf8_lossy(&output.stdout);
    let discount = want
        .get("functions")
        .array()
        .iter()
        .find(|f| f.get("name").str() == "discount")
        .unwrap();
    let shown = format!(
        "{}/{}",
        discount.get("calls").opt_u64().unwrap(),
        discount.get("primitive_calls").opt_u64().unwrap()
    );
    assert!(
        table
            .lines()
            .any(|l| l.contains(&shown) && l.contains("discount")),
        "{table}"
    );

    if !common::have("python3") {
        return;
    }
    // Tuples written once and referred to after (marshal's references), and lines past 2^31
    // and past i64, made by Python's marshal and checked against Python's pstats.
    let dir = tempfile::tempdir().unwrap();
    let script = r#"
import marshal, sys
a, b = ("a.py", 2**31 + 5, "f"), ("b.py", 2**70, "g")
edge = (2, 1, 0.5, 0.75)
stats = {a: (3, 3, 1.0, 2.0, {b: edge}), b: (2, 1, 0.5, 0.75, {a: edge, b: edge})}
open(sys.argv[1], "wb").write(marshal.dumps(stats))
"#;
    let file = dir.path().join("shared.prof");
    let made = Command::new("python3")
        .args(["-c", script])
        .arg(&file)
        .status()
        .unwrap();
    assert!(made.success());
    let bytes = std::fs::read(&file).unwrap();
    assert!(
        bytes.iter().filter(|&&b| b == b'r').count() >= 2,
        "no references written"
    );
    let doc = summary(&file);
    let Some(want) = oracle(&file) else { return };
    assert_eq!(doc.get("total").f64(), want.get("total").f64());
    let lines: Vec<Option<u64>> = doc
        .get("functions")
        .array()
        .iter()
        .map(|f| f.get("line").opt_u64())
        .collect();
    assert!(lines.contains(&Some((1 << 31) + 5)), "{lines:?}");
    // 2^70 fits no line number obol keeps: read, without one.
    assert!(lines.contains(&None), "{lines:?}");
}

// 9. Special files, memory, sums, writes and signals.

fn wait_with_deadline(mut child: std::process::Child, deadline: Duration) -> Output {
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            panic!("still running after {deadline:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn endless_special_files_end_in_an_error_within_two_seconds() {
    for device in ["/dev/zero", "/dev/urandom"] {
        let child = obol()
            .args(["summary", device])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let output = wait_with_deadline(child, Duration::from_secs(2));
        assert_refused(&output, device);
    }
}

/// Peak resident memory of `obol ARGS` in bytes, from the kernel's account of a finished
/// child (Python's `resource` reads it).
fn peak_rss(args: &[&str]) -> Option<u64> {
    let script = "import resource, subprocess, sys\n\
                  subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n\
                  print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)";
    let output = Command::new("python3")
        .args(["-c", script, env!("CARGO_BIN_EXE_obol")])
        .args(args)
        .output()
        .ok()?;
    let kib: u64 = String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

#[test]
fn a_malformed_pstats_key_is_refused_before_it_is_built() {
    // {("a.py", 1, "f"): (1, 1, 0.1, 0.1, {KEY: ...})} where KEY is a tuple of 10 million
    // references to one small int: 50 MB that would build to gigabytes.
    let mut bytes = vec![b'{'];
    bytes.extend([b')', 3, b'z', 4]);
    bytes.extend(b"a.py");
    bytes.push(b'i');
    bytes.extend(1i32.to_le_bytes());
    bytes.extend([b'z', 1, b'f']);
    bytes.extend([b')', 5, b'i', 1, 0, 0, 0, b'i', 1, 0, 0, 0]);
    bytes.push(b'g');
    bytes.extend(0.1f64.to_le_bytes());
    bytes.push(b'g');
    bytes.extend(0.1f64.to_le_bytes());
    bytes.push(b'{');
    let n = 10_000_000u32;
    bytes.push(b'(');
    bytes.extend(n.to_le_bytes());
    bytes.push(b'i' | 0x80);
    bytes.extend(7i32.to_le_bytes());
    for _ in 1..n {
        bytes.push(b'r');
        bytes.extend(0i32.to_le_bytes());
    }
    bytes.extend(b"00");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hostile.prof");
    std::fs::write(&file, &bytes).unwrap();
    let (output, _) = run_obol(["summary", file.to_str().unwrap()]);
    assert_refused(
        &output,
        "a key should be a (file, line, function) tuple, found tuple of 10000000",
    );
    let Some(peak) = peak_rss(&["summary", file.to_str().unwrap()]) else {
        common::skip("python3, to measure peak memory");
        return;
    };
    let bound = 4 * bytes.len() as u64 + (64 << 20);
    assert!(peak <= bound, "peak {peak} bytes, more than {bound}");
}

#[test]
fn sums_past_the_largest_double_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("huge.folded");
    let count = "9".repeat(308);
    std::fs::write(&file, format!("a;b {count}\na;c {count}\n")).unwrap();
    for args in [vec!["summary", "--json"], vec!["summary"]] {
        let mut args = args.clone();
        args.insert(1, file.to_str().unwrap());
        let (output, _) = run_obol(&args);
        assert_refused(&output, "overflow");
    }
}

#[test]
fn failed_writes_exit_2_and_a_closed_pipe_exits_quietly() {
    let prof = fixture("program.prof");
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let output = obol()
        .args(["summary", prof.to_str().unwrap(), "--json"])
        .stdout(full)
        .output()
        .unwrap();
    assert_refused(&output, "writing output");
    // stderr itself unwritable: still exit 2, no abort.
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let status = obol()
        .args(["summary", "/nonexistent/profile"])
        .stderr(full)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(2));
    // `| head -1`: obol finds the pipe closed; the reader got what it wanted.
    let mut child = obol()
        .args([
            "summary",
            fixture("program.folded").to_str().unwrap(),
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 1];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn sigterm_and_sighup_end_a_command_with_128_plus_n() {
    for (signal, code) in [("TERM", 143), ("HUP", 129)] {
        // Waiting on a stdin that never ends: the signal is what stops it.
        let mut child = obol()
            .args(["summary", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Held open until obol has ended: `wait` would close it, and obol read an empty input.
        let stdin = child.stdin.take();
        // Time to install its handlers, on a loaded machine too.
        std::thread::sleep(Duration::from_secs(1));
        let sent = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let status = child.wait().unwrap();
        drop(stdin);
        assert_eq!(status.code(), Some(code), "SIG{signal}");
    }
}

#[test]
fn a_stack_millions_of_frames_deep_is_refused_within_its_memory_bound() {
    // 10 million empty frames on one line: 10 MB that would be 10 million tree nodes.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("deep.folded");
    let mut text = vec![b';'; 10_000_000];
    text.extend(b" 1\n");
    std::fs::write(&file, &text).unwrap();
    let (output, _) = run_obol(["summary", file.to_str().unwrap()]);
    assert_refused(&output, "a stack 10000001 frames deep");
    let Some(peak) = peak_rss(&["summary", file.to_str().unwrap()]) else {
        common::skip("python3, to measure peak memory");
        return;
    };
    let bound = 16 * text.len() as u64;
    assert!(peak <= bound, "peak {peak} bytes, more than {bound}");
}
