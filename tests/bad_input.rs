//! Malformed input: every file in `fixtures/bad/` (made by `fixtures/make_bad.py`), JSON nested
//! 200,000 deep, a missing path and a directory each end `obol summary` with exit 2 and one line
//! on stderr naming the file (and, for a format error, the format it was read as and where it
//! broke), quickly and without a panic. A property test mutates every good fixture and feeds it
//! to the library, which must return rather than panic.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{fixture, fixtures, run_obol};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// What the error line must say besides the path.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Read as this format (its description in messages) and broke at a `byte N` or `line N`.
    Format(&'static str),
    /// No importer claims it.
    Unrecognized,
    /// Either of the above: for input whose best reading is a judgement call.
    Rejected,
    /// No format is involved (empty, missing, a directory).
    Plain,
}

const FORMATS: [&str; 9] = [
    "cProfile pstats",
    "speedscope JSON",
    "Chrome trace events",
    "flamegraph SVG",
    "folded stacks",
    "perf script text",
    "callgrind profile",
    "pyinstrument session",
    "CPython collapsed stacks",
];

/// A sanity bound, far above what a good run takes; not a benchmark.
const QUICK: Duration = Duration::from_secs(1);

/// `byte N`, `line N` or `event N` somewhere in the message.
fn names_a_location(message: &str) -> bool {
    ["byte ", "line ", "event "].iter().any(|word| {
        message
            .match_indices(word)
            .any(|(at, _)| message[at + word.len()..].starts_with(|c: char| c.is_ascii_digit()))
    })
}

fn check_rejected(path: &Path, expect: Expect) {
    let (output, elapsed) = run_obol(["summary".as_ref(), path.as_os_str()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let shown = path.display().to_string();
    assert_eq!(output.status.code(), Some(2), "{shown}: {stderr}");
    assert!(output.stdout.is_empty(), "{shown}: printed to stdout");
    assert!(!stderr.contains("panicked"), "{shown}: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{shown}: not one line: {stderr}");
    let line = lines[0];
    assert!(line.starts_with("obol: error: "), "{line}");
    assert!(line.contains(&shown), "{line} does not name {shown}");
    let read_as = |format: &str| line.contains(format) && names_a_location(line);
    let unrecognized = line.contains("not a recognized profile");
    match expect {
        Expect::Format(format) => assert!(
            read_as(format),
            "{line}: should say it was read as {format} and where it broke"
        ),
        Expect::Unrecognized => assert!(unrecognized, "{line}: should be unrecognized"),
        Expect::Rejected => assert!(
            unrecognized || FORMATS.iter().any(|f| read_as(f)),
            "{line}: should name a format and a place, or say it is not recognized"
        ),
        Expect::Plain => {}
    }
    assert!(elapsed < QUICK, "{shown}: took {elapsed:?}");
}

/// One test per file in fixtures/bad/, with what its error must say besides the path; `BAD`
/// lists the files so that one added there without a test here is noticed.
macro_rules! bad_fixtures {
    ($($test:ident: $file:literal => $expect:expr,)*) => {
        const BAD: &[&str] = &[$($file),*];
        $(
            #[test]
            fn $test() {
                check_rejected(&fixture("bad").join($file), $expect);
            }
        )*
    };
}

bad_fixtures! {
    empty_file: "empty.prof" => Expect::Plain,
    truncated_pstats: "truncated.prof" => Expect::Format("cProfile pstats"),
    truncated_speedscope: "truncated.speedscope.json" => Expect::Format("speedscope JSON"),
    truncated_svg: "truncated.svg" => Expect::Format("flamegraph SVG"),
    // Noise whose first line holds a NUL and whose first byte opens nothing.
    random_bytes: "random.bin" => Expect::Unrecognized,
    marshal_string_claiming_2_gib: "huge_string.prof" => Expect::Format("cProfile pstats"),
    // A marshalled list is no pstats dict, and has NUL bytes, so it is no text either.
    marshal_list_instead_of_dict: "wrong_shape_list.prof" => Expect::Unrecognized,
    pstats_values_of_the_wrong_shape: "wrong_shape_value.prof" => Expect::Format("cProfile pstats"),
    pstats_callers_of_the_wrong_shape: "wrong_shape_callers.prof" => Expect::Format("cProfile pstats"),
    speedscope_schema_with_wrong_shape: "wrong_shape.speedscope.json" => Expect::Format("speedscope JSON"),
    // JSON of no profiler (a package manifest): reading it as speedscope or as (invalid)
    // folded text, or not at all, are all fair.
    json_that_is_not_speedscope: "other.json" => Expect::Rejected,
    trace_ending_an_event_that_is_not_innermost: "out_of_order.trace.json" => Expect::Format("Chrome trace events"),
    speedscope_sample_naming_a_missing_frame: "bad_frame_index.speedscope.json" => Expect::Format("speedscope JSON"),
    svg_that_is_not_a_flame_graph: "not_flamegraph.svg" => Expect::Format("flamegraph SVG"),
    // Not folded by the detection rule: unrecognized, naming the first line that is not a stack.
    folded_without_a_valid_line: "no_valid_line.folded" => Expect::Unrecognized,
    perf_script_events_without_stacks: "no_stack.perf-script.txt" => Expect::Format("perf script text"),
    callgrind_name_used_before_defined: "undefined_name.callgrind" => Expect::Format("callgrind profile"),
    callgrind_cost_line_with_too_many_costs: "too_many_costs.callgrind" => Expect::Format("callgrind profile"),
    callgrind_cut_after_a_call: "truncated.callgrind" => Expect::Format("callgrind profile"),
    pyinstrument_record_of_the_wrong_shape: "wrong_shape.pyisession" => Expect::Format("pyinstrument session"),
    pyinstrument_session_cut_short: "truncated.pyisession" => Expect::Format("pyinstrument session"),
    cpython_collapsed_without_a_count: "no_count.cpython-collapsed.txt" => Expect::Format("CPython collapsed stacks"),
}

#[test]
fn every_bad_fixture_has_an_expectation() {
    let mut on_disk: Vec<String> = std::fs::read_dir(fixture("bad"))
        .expect("fixtures/bad exists")
        .map(|e| {
            e.expect("a readable entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = BAD.iter().map(|n| (*n).to_owned()).collect();
    listed.sort();
    assert_eq!(on_disk, listed);
}

/// Speedscope's schema, then arrays nested 200,000 deep where the profiles go: a parser that
/// recurses per level would overflow its stack. Built here rather than committed (400 KB).
#[test]
fn json_nested_200000_deep() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("deep.speedscope.json");
    let depth = 200_000;
    let mut text = String::from(
        r#"{"$schema":"https://www.speedscope.app/file-format-schema.json","shared":{"frames":[]},"profiles":"#,
    );
    text.extend(std::iter::repeat_n('[', depth));
    text.extend(std::iter::repeat_n(']', depth));
    text.push('}');
    std::fs::write(&path, text).expect("write");
    check_rejected(&path, Expect::Format("speedscope JSON"));
}

#[test]
fn missing_path() {
    let dir = tempfile::tempdir().expect("a temp dir");
    check_rejected(&dir.path().join("no-such-profile.prof"), Expect::Plain);
}

#[test]
fn directory() {
    let dir = tempfile::tempdir().expect("a temp dir");
    check_rejected(dir.path(), Expect::Plain);
}

/// Every good fixture, for the mutation test.
const GOOD: &[&str] = &[
    "program.prof",
    "program_slow.prof",
    "program.profile.prof",
    "program.speedscope.json",
    "program.threads.speedscope.json",
    "program.folded",
    "program_slow.folded",
    "program.pyspy.svg",
    "program.inferno.svg",
    "program.pyspy.chrometrace.json",
    "program.viztracer.json",
    "program.austin.pprof",
    "program.austin",
    "program.perf-script.txt",
    "walk.callgrind",
    "program.yappi.callgrind",
    "program.pyisession",
    "program.cpython-collapsed.txt",
];

#[derive(Debug, Clone)]
enum Mutation {
    Truncate(usize),
    /// (offset, non-zero mask) pairs, each xor-ed into the byte at offset.
    Flip(Vec<(usize, u8)>),
    FlipThenTruncate(Vec<(usize, u8)>, usize),
}

impl Mutation {
    fn apply(&self, original: &[u8]) -> Vec<u8> {
        let mut bytes = original.to_vec();
        let (flips, cut): (&[(usize, u8)], usize) = match self {
            Mutation::Truncate(cut) => (&[], *cut),
            Mutation::Flip(flips) => (flips, bytes.len()),
            Mutation::FlipThenTruncate(flips, cut) => (flips, *cut),
        };
        for &(at, mask) in flips {
            bytes[at] ^= mask;
        }
        bytes.truncate(cut);
        bytes
    }
}

fn mutations(len: usize) -> impl Strategy<Value = Mutation> {
    let flips = proptest::collection::vec((0..len, 1u8..=255), 1..=4);
    prop_oneof![
        (0..=len).prop_map(Mutation::Truncate),
        flips.clone().prop_map(Mutation::Flip),
        (flips, 0..=len).prop_map(|(f, cut)| Mutation::FlipThenTruncate(f, cut)),
    ]
}

#[test]
fn mutated_fixtures_never_panic() {
    for name in GOOD {
        let original = std::fs::read(fixtures().join(name)).expect("a good fixture");
        let mut runner = TestRunner::new(Config {
            cases: 64,
            failure_persistence: None,
            ..Config::default()
        });
        // A panic inside is caught by the runner, shrunk, and reported as the failure.
        let result = runner.run(&mutations(original.len()), |mutation| {
            let bytes = mutation.apply(&original);
            let _ = obol::import::load_bytes(Path::new("x"), &bytes);
            Ok(())
        });
        if let Err(failure) = result {
            panic!("{name}: {failure}");
        }
    }
}

/// The README's example error is one obol really prints: a marshal string claiming 2 GiB in an
/// 11-byte file, named `broken.prof` and read from its own folder.
#[test]
fn readme_error_example_is_what_obol_prints() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let shown = readme
        .lines()
        .find(|l| l.starts_with("obol: error: broken.prof:"))
        .expect("the README shows an error line for broken.prof");
    let dir = tempfile::tempdir().expect("a temp dir");
    // A dict, a 3-tuple key, then a str whose length field says 2^31 - 1 bytes.
    let mut bytes = vec![b'{', b')', 3, b'u', 0xFF, 0xFF, 0xFF, 0x7F];
    bytes.extend(b"abc");
    std::fs::write(dir.path().join("broken.prof"), bytes).expect("write");
    let output = assert_cmd::Command::cargo_bin("obol")
        .expect("the obol binary is built")
        .current_dir(dir.path())
        .args(["summary", "broken.prof"])
        .output()
        .expect("obol runs");
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&output.stderr).trim_end(), shown);
}

/// Every good fixture's plain (text) summary, which places files relative to the project's
/// root, as well as its JSON: exit 0 and no panic. (pyinstrument's session, naming files in `/`
/// beside relative ones, once panicked there.)
#[test]
fn every_good_fixture_prints_its_text_summary() {
    let mut checked = 0;
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("program") || !path.is_file() {
            continue;
        }
        let (output, _) = run_obol(["summary".as_ref(), path.as_os_str()]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{name}: {stderr}");
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.contains("function"), "{name}: {stdout}");
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} fixtures");
}
