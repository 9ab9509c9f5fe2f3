//! A large profile is shown in two steps, through the real binary in tmux: the first frame comes
//! with the file's own figures (the total in the status line, the heaviest functions in the
//! body) while the call trees are still being made, and says how far they are; the Sandwich
//! table is usable meanwhile; then the trees fill the panes in, and the user's place in the
//! table (its row) is kept.
//!
//! The file is a speedscope profile whose samples jump between a few thousand deep stacks that
//! part at the root, so that its Time Order tree (a node wherever consecutive samples differ,
//! some three million) takes seconds to make in a test build, against a merged tree of about
//! 100,000 nodes read with the file. The oracle is in the names: `hot_leaf` ends a quarter of
//! the samples, which makes it the heaviest function by self time; every other leaf ends a
//! thousandth or less.

mod common;
#[path = "common/tmux.rs"]
mod tmux;

use std::io::Write;
use std::time::{Duration, Instant};

use common::Lcg;
use tmux::*;

const STACKS: u64 = 4_000;
const DEPTH: u64 = 24;
const SAMPLES: u64 = 160_000;
/// Functions each frame of a stack is drawn from (apart from the leaf).
const NAMES: u64 = 400;
const HEIGHT: u16 = 40;

/// Frame 0 is `hot_leaf`, frames 1..=NAMES are `f_i`, then one `leaf_s` per stack.
fn write_profile(path: &std::path::Path) {
    let mut rng = Lcg(23);
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    write!(
        out,
        "{{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\","
    )
    .unwrap();
    write!(
        out,
        "\"shared\":{{\"frames\":[{{\"name\":\"hot_leaf\",\"file\":\"hot.py\"}}"
    )
    .unwrap();
    for i in 0..NAMES {
        write!(out, ",{{\"name\":\"f_{i}\",\"file\":\"m{}.py\"}}", i % 7).unwrap();
    }
    for s in 0..STACKS {
        write!(out, ",{{\"name\":\"leaf_{s}\",\"file\":\"leaves.py\"}}").unwrap();
    }
    write!(
        out,
        "]}},\"profiles\":[{{\"type\":\"sampled\",\"name\":\"main\","
    )
    .unwrap();
    write!(
        out,
        "\"unit\":\"seconds\",\"startValue\":0,\"endValue\":{SAMPLES},"
    )
    .unwrap();
    let stacks: Vec<Vec<u64>> = (0..STACKS)
        .map(|_| (0..DEPTH - 1).map(|_| 1 + rng.next(NAMES)).collect())
        .collect();
    write!(out, "\"samples\":[").unwrap();
    for n in 0..SAMPLES {
        let s = rng.next(STACKS);
        let leaf = if n % 4 == 0 { 0 } else { 1 + NAMES + s };
        let frames: Vec<String> = stacks[s as usize]
            .iter()
            .chain(std::iter::once(&leaf))
            .map(u64::to_string)
            .collect();
        let comma = if n == 0 { "" } else { "," };
        write!(out, "{comma}[{}]", frames.join(",")).unwrap();
    }
    write!(out, "],\"weights\":[").unwrap();
    for n in 0..SAMPLES {
        let comma = if n == 0 { "" } else { "," };
        write!(out, "{comma}1").unwrap();
    }
    writeln!(out, "]}}]}}").unwrap();
}

fn status(screen: &str) -> &str {
    line_from_bottom(screen, HEIGHT, 1)
}

fn selection(screen: &str) -> &str {
    line_from_bottom(screen, HEIGHT, 2)
}

#[test]
fn the_table_comes_first_and_the_trees_fill_in_where_the_user_is() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jumpy.speedscope.json");
    write_profile(&path);
    let Some(tmux) = start("progressive", &path) else {
        return;
    };
    // The first frame with the file's total: the trees are not made yet, and it says so.
    let first = tmux.wait_up_to("the first frame", Duration::from_secs(120), |s| {
        status(s).contains("· total ")
    });
    assert!(
        first.contains("building the call tree"),
        "the first frame waited for the trees:\n{first}"
    );
    assert!(status(&first).contains("% made"), "{first}");
    // It already shows where the time went: the heaviest function first, at a quarter.
    let heaviest = first
        .lines()
        .find(|l| l.contains("hot_leaf") || l.contains("leaf_"))
        .unwrap_or("");
    assert!(
        heaviest.contains("hot_leaf") && heaviest.contains("25.00"),
        "{first}"
    );
    // The table is usable before the trees are made: moved to its second row.
    tmux.send(&["3"]);
    let table = tmux.wait_up_to("Sandwich", Duration::from_secs(10), |s| {
        selection(s).starts_with("hot_leaf")
    });
    tmux.send(&["j"]);
    let moved = tmux.wait_up_to("the second row", Duration::from_secs(10), |s| {
        selection(s).starts_with("leaf_")
    });
    assert!(
        status(&moved).contains("% made") && status(&table).contains("% made"),
        "the trees were made before the table was used; make the file larger:\n{moved}"
    );
    let second = selection(&moved)
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    // The trees come: the status line no longer says they are being made, the row stays, and
    // its callers (the stack's frames) are drawn beside it.
    let filled = tmux.wait_up_to("the trees", Duration::from_secs(300), |s| {
        !status(s).contains("% made") && s.contains(" f_")
    });
    assert_eq!(
        selection(&filled).split_whitespace().next(),
        Some(second.as_str()),
        "the selected row moved when the trees came:\n{filled}"
    );
    // Time Order draws its tree now (too many samples for labels): its selected frame, at the
    // root, is one of the stacks' first frames.
    tmux.send(&["1"]);
    let time_order = tmux.wait_up_to("Time Order", Duration::from_secs(10), |s| {
        selection(s).starts_with("f_") && s.lines().nth(1).is_some_and(|r| r.contains('▏'))
    });
    assert!(
        !time_order.contains("building the call tree"),
        "{time_order}"
    );
    tmux.send(&["q"]);
    tmux.wait_up_to("obol to quit", Duration::from_secs(10), |s| {
        s.contains("obol exited with 0")
    });
}

#[test]
fn quitting_while_the_trees_are_made_restores_the_terminal_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jumpy.speedscope.json");
    write_profile(&path);
    if let Some(tmux) = start("progressivequit", &path) {
        quits_at_once_when(&tmux, "% made");
    }
}

/// q once the status line says `marker` (the trees are read or made): obol quits and gives the
/// terminal back at once.
fn quits_at_once_when(tmux: &Tmux, marker: &str) {
    tmux.wait_up_to("the first frame", Duration::from_secs(120), |s| {
        status(s).contains(marker)
    });
    let asked = Instant::now();
    tmux.send(&["q"]);
    tmux.wait_up_to("obol to quit", Duration::from_secs(10), |s| {
        s.contains("obol exited with 0")
    });
    // tmux's polling and the shell's echo included: far below the seconds the trees take.
    assert!(
        asked.elapsed() < Duration::from_secs(2),
        "{:?}",
        asked.elapsed()
    );
    tmux.assert_terminal_restored();
}

fn start(name: &str, path: &std::path::Path) -> Option<Tmux> {
    let argv = through_shell(&[path.to_str().unwrap()]);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    Tmux::start_sized(name, 120, HEIGHT, &argv)
}

// A large folded file is shown from its function figures while it is read whole, through the
// real binary in tmux: the first frame has the file's total and its heaviest functions and says
// how far the reading is; the Sandwich table is usable meanwhile, and what the figures cannot
// answer (focus) is refused with a line saying so; then the file read whole fills the panes in,
// the user's row kept.
//
// The file is written here, over `import::FIGURES_FIRST_FROM` (32 MB), with a hand count for
// the oracle: every line counts 7, one line in four ends in `hot_leaf`, so that `hot_leaf` has
// a quarter of the total as its self time, and the total is 7 times the lines.

const LINES: u64 = 64_000;
const FOLDED_DEPTH: u64 = 40;
const FOLDED_NAMES: u64 = 300;
const COUNT: u64 = 7;

fn write_folded(path: &std::path::Path) {
    write_folded_lines(path, LINES);
    let size = std::fs::metadata(path).unwrap().len();
    assert!(
        size > 32 << 20,
        "the file is too small to be read twice: {size}"
    );
}

fn write_folded_lines(path: &std::path::Path, lines: u64) {
    let mut rng = Lcg(41);
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for n in 0..lines {
        write!(out, "main").unwrap();
        for _ in 0..FOLDED_DEPTH {
            write!(
                out,
                ";package_{0}.module.function_{0}",
                rng.next(FOLDED_NAMES)
            )
            .unwrap();
        }
        if n % 4 == 0 {
            writeln!(out, ";hot_leaf {COUNT}").unwrap();
        } else {
            writeln!(out, ";leaf_{} {COUNT}", rng.next(FOLDED_NAMES)).unwrap();
        }
    }
    out.flush().unwrap();
}

/// Lines of `write_folded_lines` drawn by `inferno-flamegraph --minwidth 0` into an SVG of about
/// 50 MB (nearly every frame its own: the stacks share only `main`).
const SVG_LINES: u64 = 5_000;

/// The drawing of [`SVG_LINES`] folded lines; `None` without inferno (a failure under CI).
fn drawn_svg(dir: &std::path::Path) -> Option<std::path::PathBuf> {
    let folded = dir.join("stacks.folded");
    write_folded_lines(&folded, SVG_LINES);
    let path = dir.join("large.svg");
    if !common::draw_with_inferno(&folded, &path) {
        return None;
    }
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(
        size > 32 << 20,
        "the drawing is too small to be read twice: {size}"
    );
    Some(path)
}

/// A py-spy-like speedscope file over 32 MB: every sample 0.01 s, one in four ending in
/// `hot_leaf` (frame 0), the others in one of `FOLDED_NAMES` leaves, under `FOLDED_DEPTH` frames
/// of `package_i.module.function_i`. Counted without a tree for the first frame.
fn write_speedscope(path: &std::path::Path) {
    let mut rng = Lcg(43);
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    write!(
        out,
        r#"{{"shared":{{"frames":[{{"name":"hot_leaf","file":"hot.py"}}"#
    )
    .unwrap();
    for i in 0..FOLDED_NAMES {
        write!(
            out,
            r#",{{"name":"package_{i}.module.function_{i}","file":"p.py"}}"#
        )
        .unwrap();
    }
    for i in 0..FOLDED_NAMES {
        write!(out, r#",{{"name":"leaf_{i}","file":"leaves.py"}}"#).unwrap();
    }
    write!(
        out,
        r#"]}},"profiles":[{{"type":"sampled","name":"main","unit":"seconds","#
    )
    .unwrap();
    write!(out, r#""samples":["#).unwrap();
    for n in 0..SAMPLES_LARGE {
        let comma = if n == 0 { "" } else { "," };
        write!(out, "{comma}[").unwrap();
        for d in 0..FOLDED_DEPTH {
            let comma = if d == 0 { "" } else { "," };
            write!(out, "{comma}{}", 1 + rng.next(FOLDED_NAMES)).unwrap();
        }
        let leaf = if n % 4 == 0 {
            0
        } else {
            1 + FOLDED_NAMES + rng.next(FOLDED_NAMES)
        };
        write!(out, ",{leaf}]").unwrap();
    }
    write!(out, r#"],"weights":["#).unwrap();
    for n in 0..SAMPLES_LARGE {
        write!(out, "{}0.01", if n == 0 { "" } else { "," }).unwrap();
    }
    writeln!(out, "]}}]}}").unwrap();
    out.flush().unwrap();
    let size = std::fs::metadata(path).unwrap().len();
    assert!(
        size > 32 << 20,
        "the file is too small to be read twice: {size}"
    );
}

const SAMPLES_LARGE: u64 = 240_000;

#[test]
fn the_figures_come_first_and_the_file_read_whole_fills_in_where_the_user_is() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("large.folded");
    write_folded(&path);
    figures_first_then_whole(
        "figuresfirst",
        &path,
        &format!("· total {} ·", LINES * COUNT),
        "1 Flamegraph",
    );
}

#[test]
fn a_speedscope_file_with_alike_weights_comes_from_its_figures_first() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("large.speedscope.json");
    write_speedscope(&path);
    // 240,000 samples of 0.01 s: 2,400 s, one rounding of the count times the weight.
    figures_first_then_whole(
        "figuresfirstss",
        &path,
        "· total 2400.000s ·",
        "1 Time Order",
    );
}

#[test]
fn an_inferno_drawing_comes_from_its_figures_first() {
    let dir = tempfile::tempdir().unwrap();
    let Some(path) = drawn_svg(dir.path()) else {
        return;
    };
    // Each line's count once, at its leaf: the total is the hand count of the folded lines.
    figures_first_then_whole(
        "figuresfirstsvg",
        &path,
        &format!("· total {} ·", SVG_LINES * COUNT),
        "1 Flamegraph",
    );
}

/// The first frame from the figures (`total` in the status line, `hot_leaf` at a quarter), the
/// table usable and focus refused while the file is read whole, then the whole file filling in
/// on the user's row; pane 1's tab named `pane_one` throughout (a sampled file keeps its time
/// order, a folded one has none).
fn figures_first_then_whole(name: &str, path: &std::path::Path, total: &str, pane_one: &str) {
    let Some(tmux) = start(name, path) else {
        return;
    };
    let first = tmux.wait_up_to("the first frame", Duration::from_secs(120), |s| {
        status(s).contains("· total ")
    });
    assert!(status(&first).contains(total), "{first}");
    let tabs = |screen: &str| screen.lines().next().unwrap_or("").to_owned();
    assert!(tabs(&first).contains(pane_one), "{first}");
    assert!(
        status(&first).contains("% read") && first.contains("reading the call tree"),
        "the first frame waited for the whole file:\n{first}"
    );
    let heaviest = first.lines().find(|l| l.contains("leaf")).unwrap_or("");
    assert!(
        heaviest.contains("hot_leaf") && heaviest.contains("25.00"),
        "{first}"
    );
    // The table is usable meanwhile.
    tmux.send(&["3"]);
    tmux.wait_up_to("Sandwich", Duration::from_secs(10), |s| {
        selection(s).starts_with("hot_leaf")
    });
    tmux.send(&["j"]);
    let moved = tmux.wait_up_to("the second row", Duration::from_secs(10), |s| {
        !selection(s).starts_with("hot_leaf") && !selection(s).is_empty()
    });
    let second = selection(&moved)
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    // Focus needs the call tree: refused while it is read, with a line saying so.
    tmux.send(&["f"]);
    let refused = tmux.wait_up_to("the refusal", Duration::from_secs(10), |s| {
        s.contains("% read: the table (3) is ready now") || !status(s).contains("% read")
    });
    assert!(
        refused.contains("% read: the table (3) is ready now"),
        "the file was read whole before the table was used; make it larger:\n{refused}"
    );
    // Down and back up: the row again, and the refusal's line (in the status line's place)
    // gone.
    tmux.send(&["j", "k"]);
    // The file read whole: neither read nor made any more, the row kept, the trees drawn.
    let filled = tmux.wait_up_to("the whole file", Duration::from_secs(300), |s| {
        !s.contains("% read") && !s.contains("% made")
    });
    assert!(status(&filled).contains(total), "{filled}");
    assert!(tabs(&filled).contains(pane_one), "{filled}");
    assert_eq!(
        selection(&filled).split_whitespace().next(),
        Some(second.as_str()),
        "the selected row moved when the file came:\n{filled}"
    );
    tmux.send(&["2"]);
    let left_heavy = tmux.wait_up_to("Left Heavy", Duration::from_secs(10), |s| {
        s.lines()
            .nth(1)
            .is_some_and(|r| r.contains("main") || r.contains("package_") || r.contains('▍'))
    });
    assert!(!left_heavy.contains("the call tree …"), "{left_heavy}");
    tmux.send(&["q"]);
    tmux.wait_up_to("obol to quit", Duration::from_secs(10), |s| {
        s.contains("obol exited with 0")
    });
}

#[test]
fn quitting_while_the_file_is_read_whole_restores_the_terminal_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("large.folded");
    write_folded(&path);
    if let Some(tmux) = start("figuresfirstquit", &path) {
        quits_at_once_when(&tmux, "% read");
    }
}
