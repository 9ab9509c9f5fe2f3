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

/// Polls the screen until `ready` holds, for up to `limit` (loading takes a while here).
fn wait_long(tmux: &Tmux, what: &str, limit: Duration, ready: impl Fn(&str) -> bool) -> String {
    let start = Instant::now();
    loop {
        let screen = tmux.capture();
        if ready(&screen) {
            return screen;
        }
        assert!(
            start.elapsed() < limit,
            "timed out waiting for {what}; the screen:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn status(screen: &str) -> &str {
    screen.lines().nth(usize::from(HEIGHT) - 1).unwrap_or("")
}

fn selection(screen: &str) -> &str {
    screen.lines().nth(usize::from(HEIGHT) - 2).unwrap_or("")
}

#[test]
fn the_table_comes_first_and_the_trees_fill_in_where_the_user_is() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jumpy.speedscope.json");
    write_profile(&path);
    let path = path.to_str().unwrap();
    let Some(tmux) = Tmux::start_sized(
        "progressive",
        120,
        HEIGHT,
        &through_shell(&[path])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    ) else {
        return;
    };
    // The first frame with the file's total: the trees are not made yet, and it says so.
    let first = wait_long(&tmux, "the first frame", Duration::from_secs(120), |s| {
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
    let table = wait_long(&tmux, "Sandwich", Duration::from_secs(10), |s| {
        selection(s).starts_with("hot_leaf")
    });
    tmux.send(&["j"]);
    let moved = wait_long(&tmux, "the second row", Duration::from_secs(10), |s| {
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
    let filled = wait_long(&tmux, "the trees", Duration::from_secs(300), |s| {
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
    let time_order = wait_long(&tmux, "Time Order", Duration::from_secs(10), |s| {
        selection(s).starts_with("f_") && s.lines().nth(1).is_some_and(|r| r.contains('▏'))
    });
    assert!(
        !time_order.contains("building the call tree"),
        "{time_order}"
    );
    tmux.send(&["q"]);
    wait_long(&tmux, "obol to quit", Duration::from_secs(10), |s| {
        s.contains("obol exited with 0")
    });
}

#[test]
fn quitting_while_the_trees_are_made_restores_the_terminal_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jumpy.speedscope.json");
    write_profile(&path);
    let path = path.to_str().unwrap();
    let argv = through_shell(&[path]);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let Some(tmux) = Tmux::start_sized("progressivequit", 120, HEIGHT, &argv) else {
        return;
    };
    wait_long(&tmux, "the first frame", Duration::from_secs(120), |s| {
        status(s).contains("% made")
    });
    let asked = Instant::now();
    tmux.send(&["q"]);
    wait_long(&tmux, "obol to quit", Duration::from_secs(10), |s| {
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
