//! Flame graphs drawn at test time by inferno (and py-spy) from folded stacks whose figures are
//! worked out here independently, plus hand-written drawings in flamegraph.pl's style.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use super::*;
use crate::analysis::summary::{SortKey, function_table};
use crate::import::Location;
use crate::profile::test_rng::xorshift;
use crate::profile::{NodeId, Profile};

mod errors;
mod figures;

type Weights = BTreeMap<(String, Option<String>), (f64, f64)>;

/// The function a py-spy frame `name (file:line)` belongs to: (name, file). Written apart from
/// `folded::split_frame` on purpose, as the oracle.
fn function_of(frame: &str) -> (String, Option<String>) {
    if let Some(body) = frame.strip_suffix(')')
        && let Some((name, location)) = body.rsplit_once(" (")
        && !name.is_empty()
    {
        let file = match location.rsplit_once(':') {
            Some((file, line)) if line.parse::<u32>().is_ok() => file,
            _ => location,
        };
        return (name.to_owned(), Some(file.to_owned()));
    }
    (frame.to_owned(), None)
}

/// Self and total samples per function straight from folded text: a line's count is self time
/// of its last frame and total time, once, of every function on its stack.
fn oracle(folded: &str) -> Weights {
    let mut weights = Weights::new();
    for line in folded.lines().filter(|l| !l.trim().is_empty()) {
        let (stack, count) = line.rsplit_once(' ').expect("oracle input is well formed");
        let count: f64 = count.parse().expect("oracle counts are numbers");
        // py-spy writes samples with no Python frame as a line with an empty stack; inferno
        // draws no frame for them.
        let functions: Vec<_> = stack
            .split(';')
            .filter(|f| !f.is_empty())
            .map(function_of)
            .collect();
        let mut seen = Vec::new();
        for function in &functions {
            if !seen.contains(function) {
                seen.push(function.clone());
                weights.entry(function.clone()).or_default().1 += count;
            }
        }
        if let Some(last) = functions.last() {
            weights.entry(last.clone()).or_default().0 += count;
        }
    }
    weights
}

fn imported(set: &ProfileSet) -> Weights {
    let profiles: Vec<&Profile> = set.profiles.iter().collect();
    function_table(set, &profiles, SortKey::SelfWeight)
        .into_iter()
        .map(|row| {
            let f = set.frames.function(row.func);
            (
                (f.name.to_owned(), f.file.map(str::to_owned)),
                (row.self_weight, row.total_weight),
            )
        })
        .collect()
}

fn inferno_path() -> Option<PathBuf> {
    let home = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/bin"));
    let candidates = home
        .into_iter()
        .map(|d| d.join("inferno-flamegraph"))
        .chain(std::iter::once(PathBuf::from("inferno-flamegraph")));
    for candidate in candidates {
        let ran = Command::new(&candidate)
            .arg("--help")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if ran.is_ok_and(|s| s.success()) {
            return Some(candidate);
        }
    }
    None
}

/// The SVG inferno draws from `folded` with `args`, or `None` (said on stderr) without inferno.
fn draw(folded: &str, args: &[&str]) -> Option<Vec<u8>> {
    let Some(inferno) = inferno_path() else {
        crate::test_env::skip("inferno-flamegraph");
        return None;
    };
    let mut child = Command::new(inferno)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("inferno starts");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(folded.as_bytes())
        .expect("inferno reads");
    let out = child.wait_with_output().expect("inferno finishes");
    assert!(out.status.success(), "inferno failed on {folded:?}");
    Some(out.stdout)
}

fn load(svg: &[u8]) -> (ProfileSet, Vec<String>) {
    let mut warnings = Vec::new();
    let set = parse(svg, &mut warnings).unwrap_or_else(|e| panic!("parse failed: {e}"));
    (set, warnings)
}

fn assert_same(got: &Weights, want: &Weights) {
    for (function, want) in want {
        let got = got.get(function).copied().unwrap_or_default();
        assert!(
            (got.0 - want.0).abs() < 1e-9 && (got.1 - want.1).abs() < 1e-9,
            "{function:?}: imported (self, total) {got:?}, folded says {want:?}"
        );
    }
    assert_eq!(got.len(), want.len(), "functions: {got:?} vs {want:?}");
}

/// Stacks for the first tests, counted by hand: 30+10+25+5+7+4+3 = 84 samples in all; `main`
/// holds 81 of them (self 0); `parse` 40 (self 10), `render` 30 (self 5), `walk` 4 once
/// although it recurses (self 4 on its deepest frame).
const HAND: &str = "main;parse;tokenize 30
main;parse 10
main;render;layout;text 25
main;render 5
main;idle 7
main;walk;walk;walk 4
cleanup 3
";

#[test]
fn inferno_drawing_gives_back_the_folded_figures() {
    for args in [
        &[][..],
        &["--minwidth", "0"],
        &["--inverted"],
        &["--flamechart"],
        &["--reverse"],
    ] {
        let Some(svg) = draw(HAND, args) else { return };
        assert_eq!(sniff(&svg), Sniff::Yes);
        let (set, warnings) = load(&svg);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(set.total(), 84.0);
        if args == ["--reverse"] {
            // Stacks drawn leaf first: every function's self weight is now that of the frames
            // drawn at the root, so only the total is comparable, which is check enough that a
            // reversed drawing loads.
            continue;
        }
        let got = imported(&set);
        assert_same(&got, &oracle(HAND));
        assert_eq!(got[&("main".into(), None)], (0.0, 81.0));
        assert_eq!(got[&("walk".into(), None)], (4.0, 4.0));
    }
}

#[test]
fn a_flame_chart_repeats_frames_side_by_side() {
    // A flame chart keeps input order and does not merge: `b` is drawn twice under `a`, and the
    // two must become one node of 4 samples.
    let folded = "a;b 1\na;c 2\na;b 3\n";
    let Some(svg) = draw(folded, &["--flamechart"]) else {
        return;
    };
    assert_eq!(
        String::from_utf8_lossy(&svg).matches("<title>b (").count(),
        2
    );
    let (set, _) = load(&svg);
    assert_same(&imported(&set), &oracle(folded));
    assert_eq!(set.profiles[0].tree().len(), 1 + 3);
}

#[test]
fn escaped_and_unicode_names_in_an_inverted_drawing() {
    let folded = "<module> (app.py:1);a&b (app.py:3);δ_checksum (app.py:9) 6
<module> (app.py:1);a&b (app.py:4) 2
<module> (app.py:1);with space;q\"uote 'x' 3
<module> (app.py:1);[1 < 2 > 0] 1
";
    for args in [&["--inverted"][..], &["--pretty-xml"]] {
        let Some(svg) = draw(folded, args) else {
            return;
        };
        let text = String::from_utf8_lossy(&svg);
        assert!(text.contains("&lt;module&gt;") && text.contains("a&amp;b"));
        let (set, _) = load(&svg);
        assert_same(&imported(&set), &oracle(folded));
        let names: Vec<&str> = set.frames.frames().map(|f| f.name).collect();
        for name in [
            "<module>",
            "a&b",
            "δ_checksum",
            "q\"uote 'x'",
            "[1 < 2 > 0]",
        ] {
            assert!(names.contains(&name), "{name} not among {names:?}");
        }
        // Lines 3 and 4 of `a&b` are two frames of one function.
        let lines: Vec<_> = set
            .frames
            .frames()
            .filter(|f| f.name == "a&b")
            .map(|f| f.line)
            .collect();
        assert_eq!(lines.len(), 2);
    }
}

/// Deterministic stacks of varied depth and width, in py-spy's `name (file:line)` form.
fn generated(lines: usize) -> String {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |n: u64| xorshift(&mut state) % n;
    let mut out = String::new();
    for _ in 0..lines {
        let depth = 1 + next(9);
        let frames: Vec<String> = (0..depth)
            .map(|_| {
                let f = next(12);
                format!("f{f} (m{}.py:{})", f % 3, 1 + next(4))
            })
            .collect();
        out.push_str(&format!("{} {}\n", frames.join(";"), 1 + next(50)));
    }
    out
}

#[test]
fn drawn_coordinates_without_sample_attributes() {
    // An older inferno wrote only percent x and width; taking fg:x/fg:w out of a new drawing
    // gives the same SVG, and the title counts must then carry the weights.
    let folded = generated(300);
    for args in [&["--minwidth", "0"][..], &["--minwidth", "0", "--inverted"]] {
        let Some(svg) = draw(&folded, args) else {
            return;
        };
        let text = String::from_utf8(svg).expect("inferno writes UTF-8");
        let mut stripped = String::with_capacity(text.len());
        let mut rest = text.as_str();
        while let Some(at) = rest.find(" fg:") {
            stripped.push_str(&rest[..at]);
            let value_end = rest[at..]
                .match_indices('"')
                .nth(1)
                .map(|(i, _)| at + i + 1)
                .expect("fg attributes are quoted");
            rest = &rest[value_end..];
        }
        stripped.push_str(rest);
        assert!(!stripped.contains("fg:w=") && stripped.contains("width=\""));
        let want = oracle(&folded);
        for svg in [text.as_bytes(), stripped.as_bytes()] {
            let (set, warnings) = load(svg);
            assert!(warnings.is_empty(), "{warnings:?}");
            assert_same(&imported(&set), &want);
        }
    }
}

#[test]
fn two_halves_agree_with_one_pass() {
    let folded = generated(400);
    let Some(svg) = draw(&folded, &["--minwidth", "0"]) else {
        return;
    };
    let want = oracle(&folded);
    // With no size floor the file is split at its middle, which lies among the frames.
    let split = split_point(&svg).expect("a <g> after the middle");
    assert!(split > svg.len() / 2);
    for parallel_min in [0, usize::MAX] {
        let mut warnings = Vec::new();
        let set = parse_with(&svg, parallel_min, &mut warnings).expect("parses");
        assert_same(&imported(&set), &want);
    }
    // A comment and a CDATA section holding frame-like markup across the middle: the split
    // point falls inside them, and the result must not change.
    let text = String::from_utf8(svg).expect("UTF-8");
    let at = text.len() / 2 + text[text.len() / 2..].find("<g>").expect("a frame");
    let fake = "<g><title>fake (99 samples, 1%)</title><rect x=\"0\" y=\"0\" width=\"1\" fg:x=\"0\" fg:w=\"99\"/></g>";
    for (open, close) in [("<!--", "-->"), ("<![CDATA[", "]]>")] {
        let block = format!("{open}{}{close}", fake.repeat(2000));
        let hidden = format!("{}{block}{}", &text[..at], &text[at..]);
        let split = split_point(hidden.as_bytes()).expect("a <g> after the middle");
        assert!(
            split > at && split < at + block.len(),
            "the split at {split} is not inside the hidden markup"
        );
        let mut warnings = Vec::new();
        let set = parse_with(hidden.as_bytes(), 0, &mut warnings).expect("parses");
        assert_same(&imported(&set), &want);
    }
    // The split inside a quoted attribute value (`<` is not allowed there, but a value is
    // skipped whole, as the one pass skips it): the first half's reading does not land on the
    // split, and the file is read again in one pass.
    let block = format!("<text data-x=\"{}\">label</text>", "<g > ".repeat(20_000));
    let hidden = format!("{}{block}{}", &text[..at], &text[at..]);
    let split = split_point(hidden.as_bytes()).expect("a <g> after the middle");
    assert!(split > at && split < at + block.len(), "split at {split}");
    for parallel_min in [0, usize::MAX] {
        let set = parse_with(hidden.as_bytes(), parallel_min, &mut Vec::new()).expect("parses");
        assert_same(&imported(&set), &want);
    }
}

#[test]
fn pieces_read_one_after_another_agree_with_one_pass() {
    let folded = generated(400);
    let Some(svg) = draw(&folded, &["--minwidth", "0"]) else {
        return;
    };
    let want = oracle(&folded);
    let whole = scan::scan(&svg, 0, svg.len()).expect("scans");
    // Pieces from a few frames long to longer than the file, and markup that hides frame-like
    // text across where pieces are cut, which makes a piece be read again, longer.
    let text = String::from_utf8(svg.clone()).expect("UTF-8");
    let at = text.len() / 3 + text[text.len() / 3..].find("<g>").expect("a frame");
    let fake = "<g><title>fake (99 samples, 1%)</title><rect x=\"0\" y=\"0\" width=\"1\" fg:x=\"0\" fg:w=\"99\"/></g>";
    let hidden = format!("{}<!--{}-->{}", &text[..at], fake.repeat(300), &text[at..]);
    for bytes in [svg.as_slice(), hidden.as_bytes()] {
        for piece in [200, 4096, 50_000, 1 << 24] {
            let found = scan_stream(bytes, piece).expect("scans in pieces");
            if bytes.len() == svg.len() {
                assert_eq!(found.names, whole.names, "piece {piece}");
                assert_eq!(found.rows, whole.rows, "piece {piece}");
            }
            let set = parse_found(found, false, &mut Vec::new()).expect("parses");
            assert_same(&imported(&set), &want);
        }
    }
    // A file cut short fails the same way read whole or in pieces.
    let cut = &svg[..svg.len() - 40];
    let whole_error = error_of(cut);
    let piece_error = scan_stream(cut, 4096).expect_err("a truncated file");
    assert_eq!(piece_error.to_string(), whole_error.to_string());
}

#[test]
fn frames_too_narrow_to_draw_leave_their_weight_with_the_caller() {
    // 100,000 + 1 + 2 + 5 = 100,008 samples. inferno's default minimum width (0.01%, about 10
    // samples here) drops `tiny`, `tiny2` and `deeper`; their 3 samples stay in `main`'s self
    // weight next to its own 5.
    let folded = "main;big 100000\nmain;tiny 1\nmain;tiny2;deeper 2\nmain 5\n";
    let Some(svg) = draw(folded, &[]) else { return };
    assert!(!String::from_utf8_lossy(&svg).contains("tiny"));
    let (set, _) = load(&svg);
    assert_eq!(set.total(), 100_008.0);
    let got = imported(&set);
    assert_eq!(got[&("main".into(), None)], (8.0, 100_008.0));
    assert_eq!(got[&("big".into(), None)], (100_000.0, 100_000.0));
    assert_eq!(got.len(), 2);
}

fn py_spy_ok() -> bool {
    Command::new("py-spy")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

const PROGRAM: &str = "
import time
def δ_checksum(n):
    s = 0
    for i in range(n):
        s = (s * 31 + i) % 1000003
    return s
def leaf(n):
    return sum(i * i for i in range(n))
def mid(n):
    return leaf(n) + δ_checksum(n)
t = time.time()
while time.time() - t < 0.6:
    mid(20000)
";

/// Runs py-spy on [`PROGRAM`] writing `format`; `None` (said on stderr) where py-spy cannot run.
fn py_spy(format: &str) -> Option<Vec<u8>> {
    if !py_spy_ok() {
        crate::test_env::skip("py-spy");
        return None;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let program = dir.path().join("prog.py");
    let out = dir.path().join("out");
    std::fs::write(&program, PROGRAM).expect("write program");
    let status = Command::new("py-spy")
        .args(["record", "-r", "250", "--format", format, "-o"])
        .arg(&out)
        .args(["--", "python3"])
        .arg(&program)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    match (status, std::fs::read(&out)) {
        (Ok(s), Ok(bytes)) if s.success() && !bytes.is_empty() => Some(bytes),
        _ => {
            crate::test_env::skip("py-spy, which could not record here");
            None
        }
    }
}

#[test]
fn py_spy_stacks_drawn_by_inferno() {
    let Some(raw) = py_spy("raw") else { return };
    let folded = String::from_utf8(raw).expect("py-spy writes UTF-8");
    let Some(svg) = draw(&folded, &["--minwidth", "0"]) else {
        return;
    };
    let (set, _) = load(&svg);
    let want = oracle(&folded);
    assert!(want.keys().any(|(name, _)| name == "δ_checksum"));
    // inferno ignores lines with an empty stack (py-spy's samples outside Python code).
    let samples: f64 = folded
        .lines()
        .filter_map(|l| l.rsplit_once(' '))
        .filter(|(stack, _)| !stack.is_empty())
        .filter_map(|(_, count)| count.parse::<f64>().ok())
        .sum();
    assert_eq!(set.total(), samples);
    assert_same(&imported(&set), &want);
}

#[test]
fn children_of_one_node_drawn_apart_are_merged() {
    // `b` is drawn twice under `a`, with `c` between: the callees of both `b`s are children of
    // one node, met in two runs with `c`'s `x` between them; `x` must become one node under
    // `b`, `y` a new one.
    let folded = "a;b;x 1\na;c;x 2\na;b;x 3\na;b;y 1\na;b;x;z 1\na;c;x;z 1\n";
    let Some(svg) = draw(folded, &["--flamechart"]) else {
        return;
    };
    let (set, _) = load(&svg);
    assert_same(&imported(&set), &oracle(folded));
    // a, b, c, b/x, b/y, c/x, b/x/z, c/x/z, under the root.
    assert_eq!(set.profiles[0].tree().len(), 1 + 8);
}

#[test]
fn py_spy_flamegraph_total_is_its_all_frame() {
    let Some(svg) = py_spy("flamegraph") else {
        return;
    };
    let text = String::from_utf8_lossy(&svg);
    let all = text
        .split("<title>all (")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .map(|n| n.replace(',', "").parse::<f64>().expect("a count"))
        .expect("an `all` frame");
    assert_eq!(sniff(&svg), Sniff::Yes);
    let (set, _) = load(&svg);
    assert_eq!(set.total(), all);
    let got = imported(&set);
    for function in ["<module>", "mid", "leaf", "δ_checksum"] {
        assert!(
            got.keys().any(|(name, _)| name == function),
            "{function} missing from {got:?}"
        );
    }
    // `<module>` is the one root: it holds every sample not on py-spy's own idle frames.
    let module = got
        .iter()
        .find(|((name, _), _)| name == "<module>")
        .map(|(_, w)| w.1)
        .unwrap_or_default();
    assert!(module > 0.0 && module <= all);
}

/// flamegraph.pl's layout: pixel coordinates (xpad 10, 118 px per sample over 10 samples),
/// frames in hash order, a `<g class="func_g">` per frame, one rect inside an `<a>` link, no
/// fg: attributes. Stacks: a;b 4, a;c 3, a 1, d 2.
const FLAMEGRAPH_PL: &str = r#"<?xml version="1.0" standalone="no"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">
<svg version="1.1" width="1200" height="120" onload="init(evt)" viewBox="0 0 1200 120" xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">
<script type="text/ecmascript">
<![CDATA[ function s(info) { if (a < b && c > d) return "<g><title>x (1 samples)</title>"; } ]]>
</script>
<rect x="0.0" y="0" width="1200.0" height="120.0" fill="url(#background)"  />
<g class="func_g" onmouseover="s('c (3 samples, 30.00%)')" onmouseout="c()" onclick="zoom(this)">
<title>c (3 samples, 30.00%)</title><rect x="482.0" y="49.0" width="354.0" height="15.0" fill="rgb(1,2,3)" rx="2" ry="2" />
<text text-anchor="" x="485.0" y="60.0" font-size="12" >c</text>
</g>
<g class="func_g" onmouseover="s('all (10 samples, 100%)')" onmouseout="c()" onclick="zoom(this)">
<title>all (10 samples, 100%)</title><rect x="10.0" y="81.0" width="1180.0" height="15.0" fill="rgb(1,2,3)" rx="2" ry="2" />
<text text-anchor="" x="13.0" y="92.0" font-size="12" ></text>
</g>
<g class="func_g" onmouseover="s('b (4 samples, 40.00%)')" onmouseout="c()" onclick="zoom(this)">
<title>b (4 samples, 40.00%)</title><a xlink:href="http://example.com/b" target="_top"><rect x="10.0" y="49.0" width="472.0" height="15.0" fill="rgb(1,2,3)" rx="2" ry="2" />
<text text-anchor="" x="13.0" y="60.0" font-size="12" >b</text>
</a>
</g>
<g class="func_g" onmouseover="s('d (2 samples, 20.00%)')" onmouseout="c()" onclick="zoom(this)">
<title>d (2 samples, 20.00%)</title><rect x="954.0" y="65.0" width="236.0" height="15.0" fill="rgb(1,2,3)" rx="2" ry="2" />
<text text-anchor="" x="957.0" y="76.0" font-size="12" >d</text>
</g>
<!-- a comment between frames: <g><title>ghost (5 samples, 1%)</title><rect/></g> -->
<g class="func_g" onmouseover="s('a (8 samples, 80.00%)')" onmouseout="c()" onclick="zoom(this)">
<title>a (8 samples, 80.00%)</title><rect x="10.0" y="65.0" width="944.0" height="15.0" fill="rgb(1,2,3)" rx="2" ry="2" />
<text text-anchor="" x="13.0" y="76.0" font-size="12" >a</text>
</g>
</svg>
"#;

#[test]
fn flamegraph_pl_pixels_in_hash_order() {
    assert_eq!(sniff(FLAMEGRAPH_PL.as_bytes()), Sniff::Yes);
    let (set, warnings) = load(FLAMEGRAPH_PL.as_bytes());
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(set.total(), 10.0);
    assert_same(&imported(&set), &oracle("a;b 4\na;c 3\na 1\nd 2\n"));
}

#[test]
fn frames_left_to_the_general_path_amid_batches_keep_their_order() {
    // The quick path records its frames in batches; a frame it leaves to the general path is
    // recorded between them. Swapping two attributes (same length, so every offset stays) sends
    // every few frames there: the scan must find the same rows and names in the same order.
    let folded = generated(400);
    let Some(svg) = draw(&folded, &["--minwidth", "0"]) else {
        return;
    };
    let text = String::from_utf8(svg.clone()).expect("UTF-8");
    let whole = scan::scan(&svg, 0, svg.len()).expect("scans");
    for every in [1, 2, 3, 7, 16, 17] {
        let mut mixed = String::with_capacity(text.len());
        for (i, line) in text.split_inclusive("</g>").enumerate() {
            match (i % every == 0, line.find(" height=\"15\" fill=\"")) {
                (true, Some(at)) => {
                    let fill_end = at + line[at..].find(" fg:x=").expect("fg:x");
                    let fill = &line[at + " height=\"15\"".len()..fill_end];
                    mixed.push_str(&line[..at]);
                    mixed.push_str(fill);
                    mixed.push_str(" height=\"15\"");
                    mixed.push_str(&line[fill_end..]);
                }
                _ => mixed.push_str(line),
            }
        }
        assert_eq!(mixed.len(), text.len());
        assert!(mixed != text, "no frame was changed");
        let found = scan::scan(mixed.as_bytes(), 0, mixed.len()).expect("scans");
        assert_eq!(found.names, whole.names, "every {every}");
        assert_eq!(found.rows, whole.rows, "every {every}");
        assert_eq!(found.ys, whole.ys, "every {every}");
    }
}

fn error_of(svg: &[u8]) -> crate::import::ParseError {
    let mut warnings = Vec::new();
    match parse(svg, &mut warnings) {
        Ok(_) => panic!("parsed: {}", String::from_utf8_lossy(svg)),
        Err(e) => e,
    }
}
