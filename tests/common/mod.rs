//! Helpers shared by the whole-program tests: where the fixtures are, running the binary, and a
//! small JSON reader that keeps numbers as written.
//!
//! Why not serde_json for reading numbers: without its `float_roundtrip` feature (not enabled
//! here) it may parse a float one ULP away from the nearest double, so "obol prints exactly
//! pstats' number" could not be asserted. Here a number keeps its text and is converted with
//! `str::parse::<f64>`, which rounds correctly.

// Each test crate uses a different part of this module.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// A folded time profile of three modules of an app whose sources are nowhere: main calls
/// core.work (6 samples) and core.store (2).
pub const TIME_FOLDED: &str = "main (/nonexistent/app/main.py:3);work (/nonexistent/app/core/work.py:10) 6\n\
     main (/nonexistent/app/main.py:3);save (/nonexistent/app/core/store.py:4) 2\n";

/// A fixture's path as the status line shortens it, by hand: `…/lib/python3.11/json/x.py` →
/// `json/x.py`, `/tmp/obol-fixture-program/shop/x.py` → `shop/x.py`.
pub fn short_place(file: &str) -> &str {
    if let Some(at) = file.find("/lib/python3.") {
        let rest = &file[at + "/lib/python3.".len()..];
        return &rest[rest.find('/').map_or(0, |i| i + 1)..];
    }
    file.strip_prefix("/tmp/obol-fixture-program/")
        .unwrap_or(file)
}

pub fn fixture(name: &str) -> PathBuf {
    fixtures().join(name)
}

/// Runs the built `obol` with `args`, returning its output and how long it took.
pub fn run_obol<I, S>(args: I) -> (Output, Duration)
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut command = assert_cmd::Command::cargo_bin("obol").expect("the obol binary is built");
    command.args(args);
    let start = Instant::now();
    let output = command.output().expect("obol runs");
    (output, start.elapsed())
}

/// A parsed JSON value whose numbers are still text.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    pub fn parse(text: &str) -> Result<Json, String> {
        let mut reader = Reader {
            bytes: text.as_bytes(),
            at: 0,
        };
        let value = reader.value()?;
        reader.skip_space();
        if reader.at != reader.bytes.len() {
            return Err(format!("trailing text at byte {}", reader.at));
        }
        Ok(value)
    }

    /// The member `key` of an object; panics naming the key when there is none, since a test
    /// can do nothing else with a document of the wrong shape.
    pub fn get(&self, key: &str) -> &Json {
        match self {
            Json::Object(members) => members
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v)
                .unwrap_or_else(|| panic!("no member {key:?} in {self:?}")),
            _ => panic!("not an object, looking for {key:?}: {self:?}"),
        }
    }

    pub fn has(&self, key: &str) -> bool {
        matches!(self, Json::Object(members) if members.iter().any(|(k, _)| k == key))
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Json::Null)
    }

    pub fn array(&self) -> &[Json] {
        match self {
            Json::Array(items) => items,
            _ => panic!("not an array: {self:?}"),
        }
    }

    pub fn str(&self) -> &str {
        match self {
            Json::String(s) => s,
            _ => panic!("not a string: {self:?}"),
        }
    }

    pub fn opt_str(&self) -> Option<&str> {
        match self {
            Json::Null => None,
            _ => Some(self.str()),
        }
    }

    /// The number, correctly rounded to the nearest double.
    pub fn f64(&self) -> f64 {
        match self {
            Json::Number(text) => text
                .parse()
                .unwrap_or_else(|e| panic!("bad number {text}: {e}")),
            _ => panic!("not a number: {self:?}"),
        }
    }

    pub fn opt_u64(&self) -> Option<u64> {
        match self {
            Json::Null => None,
            Json::Number(text) => Some(
                text.parse()
                    .unwrap_or_else(|e| panic!("not an integer {text}: {e}")),
            ),
            _ => panic!("not a number: {self:?}"),
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn skip_space(&mut self) {
        while self.at < self.bytes.len() && self.bytes[self.at].is_ascii_whitespace() {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_space();
        self.bytes.get(self.at).copied()
    }

    fn expect(&mut self, byte: u8) -> Result<(), String> {
        if self.peek() == Some(byte) {
            self.at += 1;
            Ok(())
        } else {
            Err(format!("expected {:?} at byte {}", byte as char, self.at))
        }
    }

    fn literal(&mut self, word: &str, value: Json) -> Result<Json, String> {
        if self.bytes[self.at..].starts_with(word.as_bytes()) {
            self.at += word.len();
            Ok(value)
        } else {
            Err(format!("unknown literal at byte {}", self.at))
        }
    }

    fn value(&mut self) -> Result<Json, String> {
        match self.peek() {
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => self.string().map(Json::String),
            Some(b't') => self.literal("true", Json::Bool(true)),
            Some(b'f') => self.literal("false", Json::Bool(false)),
            Some(b'n') => self.literal("null", Json::Null),
            Some(b'-' | b'0'..=b'9') => Ok(self.number()),
            _ => Err(format!("unexpected input at byte {}", self.at)),
        }
    }

    fn object(&mut self) -> Result<Json, String> {
        self.expect(b'{')?;
        let mut members = Vec::new();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(Json::Object(members));
        }
        loop {
            if self.peek() != Some(b'"') {
                return Err(format!("expected a key at byte {}", self.at));
            }
            let key = self.string()?;
            self.expect(b':')?;
            members.push((key, self.value()?));
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    return Ok(Json::Object(members));
                }
                _ => return Err(format!("expected , or }} at byte {}", self.at)),
            }
        }
    }

    fn array(&mut self) -> Result<Json, String> {
        self.expect(b'[')?;
        let mut items = Vec::new();
        if self.peek() == Some(b']') {
            self.at += 1;
            return Ok(Json::Array(items));
        }
        loop {
            items.push(self.value()?);
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    return Ok(Json::Array(items));
                }
                _ => return Err(format!("expected , or ] at byte {}", self.at)),
            }
        }
    }

    fn number(&mut self) -> Json {
        let start = self.at;
        while self.at < self.bytes.len()
            && matches!(
                self.bytes[self.at],
                b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'
            )
        {
            self.at += 1;
        }
        Json::Number(String::from_utf8_lossy(&self.bytes[start..self.at]).into_owned())
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let digits = self
            .bytes
            .get(self.at..self.at + 4)
            .and_then(|d| std::str::from_utf8(d).ok())
            .and_then(|d| u32::from_str_radix(d, 16).ok())
            .ok_or_else(|| format!("bad \\u escape at byte {}", self.at))?;
        self.at += 4;
        Ok(digits)
    }

    fn string(&mut self) -> Result<String, String> {
        self.expect(b'"')?;
        let mut out = Vec::new();
        loop {
            let byte = *self
                .bytes
                .get(self.at)
                .ok_or_else(|| "unterminated string".to_owned())?;
            self.at += 1;
            match byte {
                b'"' => return String::from_utf8(out).map_err(|e| e.to_string()),
                b'\\' => {
                    let escape = *self.bytes.get(self.at).ok_or("unterminated escape")?;
                    self.at += 1;
                    let c = match escape {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let high = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&high) {
                                if !self.bytes[self.at..].starts_with(b"\\u") {
                                    return Err(format!("lone surrogate at byte {}", self.at));
                                }
                                self.at += 2;
                                let low = self.hex4()?;
                                0x10000 + ((high - 0xD800) << 10) + (low.wrapping_sub(0xDC00))
                            } else {
                                high
                            };
                            char::from_u32(code)
                                .ok_or_else(|| format!("bad code point at byte {}", self.at))?
                        }
                        _ => return Err(format!("bad escape at byte {}", self.at)),
                    };
                    let mut buf = [0; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                _ => out.push(byte),
            }
        }
    }
}

/// Whether a missing corpus or tool must fail the test rather than skip it: under CI
/// (`.ci/run` exports `OBOL_REQUIRE_CORPUS=1`; `CI=true` means the same), where everything the
/// tests need is installed, a skip would only hide that a check never ran.
pub fn required() -> bool {
    std::env::var_os("OBOL_REQUIRE_CORPUS").is_some_and(|v| v != "0")
        || std::env::var("CI").is_ok_and(|v| v == "true")
}

/// `folded` drawn by `inferno-flamegraph --minwidth 0` into `svg`; false without inferno (a
/// skip locally, a failure under CI).
pub fn draw_with_inferno(folded: &Path, svg: &Path) -> bool {
    // (It has no `--version`.)
    let found = std::process::Command::new("inferno-flamegraph")
        .arg("--help")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        skip("inferno-flamegraph");
        return false;
    }
    let drawn = std::process::Command::new("inferno-flamegraph")
        .args(["--minwidth", "0"])
        .arg(folded)
        .stdout(std::fs::File::create(svg).unwrap())
        .status()
        .unwrap();
    assert!(drawn.success());
    true
}

/// Skips a test for want of `what` (a corpus, a tool): a note on stderr locally, a failure
/// under CI.
pub fn skip(what: &str) {
    assert!(!required(), "required under CI but missing: {what}");
    eprintln!("SKIPPED: {what}");
}

/// The files of the corpus's `other-formats/` that obol now reads, each held to an oracle of its
/// own by the test named beside it; the rest of `other-formats/` must be refused.
pub const READ_BY_THEIR_OWN_TESTS: [(&str, &str, &str); 13] = [
    (
        "inferno/flamegraph/austin/flames.txt",
        "tests/austin.rs",
        "austin",
    ),
    (
        "other-formats/speedscope/source-maps/firefox-79-webpack.json",
        "tests/firefox.rs",
        "firefox",
    ),
    (
        "other-formats/speedscope/trace-event/",
        "tests/trace_event.rs",
        "trace-event",
    ),
    (
        "other-formats/generated/pyspy_cpu_mix.chrometrace.json",
        "tests/trace_event.rs",
        "trace-event",
    ),
    ("other-formats/speedscope/pprof/", "tests/pprof.rs", "pprof"),
    (
        "other-formats/speedscope/Chrome/141/no-arg-data.json",
        "tests/trace_event.rs",
        "trace-event",
    ),
    (
        "other-formats/speedscope/Firefox/",
        "tests/firefox.rs",
        "firefox",
    ),
    (
        "other-formats/speedscope/Chrome/65/simple.cpuprofile",
        "tests/cpuprofile.rs",
        "cpuprofile",
    ),
    (
        "other-formats/flamegraph/test/perf-",
        "tests/perf_script.rs",
        "perf-script",
    ),
    (
        "other-formats/inferno/collapse-perf/",
        "tests/perf_script.rs",
        "perf-script",
    ),
    (
        "other-formats/speedscope/linux-perf/",
        "tests/perf_script.rs",
        "perf-script",
    ),
    (
        "other-formats/generated/perf_cpu_mix_py312.perf-script.txt.gz",
        "tests/perf_script.rs",
        "perf-script",
    ),
    (
        "other-formats/speedscope/callgrind/",
        "tests/callgrind.rs",
        "callgrind",
    ),
];

/// `../shared/corpus/SUB` beside the clone, or `None` (after [`skip`]) when it is absent.
pub fn corpus(sub: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus")
        .join(sub);
    if dir.exists() {
        Some(dir)
    } else {
        skip(&format!("the corpus at {}", dir.display()));
        None
    }
}

/// Whether `program --version` runs; if not, [`skip`]s naming it.
pub fn have(program: &str) -> bool {
    let found = std::process::Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        skip(program);
    }
    found
}

/// `fixtures/oracle.py KIND PATH`: a file's oracle, computed by Python when the test runs.
pub fn python_oracle(kind: &str, path: &Path) -> Json {
    let out = tempfile::NamedTempFile::new().expect("a temp file");
    let output = std::process::Command::new("python3")
        .arg(fixtures().join("oracle.py"))
        .args([kind.as_ref(), path.as_os_str(), out.path().as_os_str()])
        .output()
        .expect("python3 runs (CI installs it; it is the oracle)");
    assert!(
        output.status.success(),
        "oracle.py {kind} {}: {}",
        path.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    Json::parse(&std::fs::read_to_string(out.path()).expect("the oracle's output"))
        .expect("the oracle writes JSON")
}

/// `obol summary PATH --json ARGS…`, which must succeed.
pub fn summary_json(path: &Path, args: &[&str]) -> Json {
    let mut all: Vec<&std::ffi::OsStr> =
        vec!["summary".as_ref(), path.as_os_str(), "--json".as_ref()];
    all.extend(args.iter().map(std::ffi::OsStr::new));
    let (output, _) = run_obol(&all);
    assert!(
        output.status.success(),
        "obol summary {}: {}",
        path.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    Json::parse(&String::from_utf8_lossy(&output.stdout)).expect("obol prints JSON")
}

/// (self, total, line) per (name, file) of a summary's or an oracle's `functions`.
pub type FunctionWeights =
    std::collections::BTreeMap<(String, Option<String>), (f64, f64, Option<u64>)>;

pub fn function_weights(functions: &Json) -> FunctionWeights {
    functions
        .array()
        .iter()
        .map(|f| {
            let key = (
                f.get("name").str().to_owned(),
                f.get("file").opt_str().map(str::to_owned),
            );
            (
                key,
                (
                    f.get("self").f64(),
                    f.get("total").f64(),
                    f.get("line").opt_u64(),
                ),
            )
        })
        .collect()
}

/// Equal but for the order of a sum: to a part in 10^12.
pub fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0)
}

/// Every function of `got` as in `want` (same functions, lines; weights [`close`]).
pub fn assert_same_functions(what: &str, got: &FunctionWeights, want: &FunctionWeights) {
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "{what}: the functions"
    );
    for (key, (s, t, line)) in want {
        let (gs, gt, gl) = got[key];
        assert!(
            close(*s, gs) && close(*t, gt) && *line == gl,
            "{what} {key:?}: self {gs} total {gt} line {gl:?}, oracle {s} {t} {line:?}"
        );
    }
}

/// A file read as `format` matches `fixtures/oracle.py KIND` in total and function by function.
pub fn assert_matches_python_oracle(kind: &str, format: &str, path: &Path) -> FunctionWeights {
    let got = summary_json(path, &[]);
    let want = python_oracle(kind, path);
    let what = path.display().to_string();
    assert_eq!(got.get("format").str(), format, "{what}");
    let (g, w) = (got.get("total").f64(), want.get("total").f64());
    assert!(close(g, w), "{what}: total {g}, oracle {w}");
    let want = function_weights(want.get("functions"));
    assert_same_functions(&what, &function_weights(got.get("functions")), &want);
    want
}

/// speedscope's file-format schema, from its npm package (.ci/run fetches it).
pub fn speedscope_schema() -> Option<PathBuf> {
    let path = std::env::var_os("OBOL_SPEEDSCOPE_SCHEMA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("target/oracle/file-format-schema.json")
        });
    path.exists().then_some(path)
}

/// A small random generator, so that a failure can be replayed.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below
    }
}
