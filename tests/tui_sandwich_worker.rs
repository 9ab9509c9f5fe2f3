//! Sandwich's callers and callees are made on a worker: through the real binary in tmux, keys
//! moving the selection in bursts never show one function's callers or callees under another
//! function's row, and once the keys stop the selected function's own are shown.
//!
//! The file is made so that the oracle is in the names: every `f_i` is called by `c_i` alone
//! and calls `d_i` alone, each under many different random prefixes (so each function has
//! thousands of occurrences, and making its trees takes some 80 ms in a test build).

mod common;
#[path = "common/tmux.rs"]
mod tmux;

use std::io::Write;
use std::time::{Duration, Instant};

use common::Lcg;
use tmux::*;

const GROUPS: u64 = 20;
const WIDTH: u16 = 120;
const HEIGHT: u16 = 40;
/// Where the right half starts: the table takes 3/5 of the width, then a gap column.
const RIGHT: usize = (WIDTH as usize) * 3 / 5 + 1;
/// Rows of the right half (the body is rows 1 to 37; see `SandwichView::relayout`): the
/// callers' root (the function, the inverted graph's bottom row) with its direct callers above
/// it, and the callees' root with its direct callees below it.
const CALLERS_TITLE: usize = 1;
const CALLER_ROW: usize = 17;
const CALLERS_ROOT: usize = 18;
const CALLEES_TITLE: usize = 19;
const CALLEES_ROOT: usize = 20;
const CALLEE_ROW: usize = 21;
/// The first status line: the selected row's function first.
const STATUS: usize = HEIGHT as usize - 2;

/// `n_*;c_i;f_i W` and `n_*;c_i;f_i;d_i 1`, 6,000 random prefixes per group (6 MB in all):
/// f_i's self weight puts the f rows first in the table (by self), the d rows next.
fn write_groups(path: &std::path::Path) {
    let mut rng = Lcg(17);
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for line in 0..GROUPS * 6_000 {
        let i = line % GROUPS;
        let prefix: Vec<String> = (0..1 + rng.next(4))
            .map(|_| format!("n_{}", rng.next(30)))
            .collect();
        let prefix = prefix.join(";");
        writeln!(out, "{prefix};c_{i};f_{i} {}", 3 + i % 5).unwrap();
        writeln!(out, "{prefix};c_{i};f_{i};d_{i} 1").unwrap();
    }
}

fn cells(screen: &[&str], row: usize) -> String {
    screen
        .get(row)
        .map(|l| l.chars().skip(RIGHT).collect::<String>())
        .unwrap_or_default()
}

/// The first word of the right half's row: the leftmost frame's label.
fn first_label(screen: &[&str], row: usize) -> String {
    cells(screen, row)
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_owned()
}

/// What a screen shows: the selected function, and whether its callers and callees are drawn
/// (`None` while they are being made). Panics where they are drawn and are not the selected
/// function's, as the names' oracle says.
fn check(screen: &str) -> (String, Option<()>) {
    let lines: Vec<&str> = screen.lines().collect();
    let selected = lines
        .get(STATUS)
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or("")
        .to_owned();
    let titles = (cells(&lines, CALLERS_TITLE), cells(&lines, CALLEES_TITLE));
    let pending = (titles.0.contains('…'), titles.1.contains('…'));
    assert!(
        titles.0.contains("callers ▲") && titles.1.contains("callees ▼"),
        "no titles:\n{screen}"
    );
    assert_eq!(
        pending.0, pending.1,
        "callers and callees of different states:\n{screen}"
    );
    if pending.0 {
        for row in CALLERS_TITLE + 1..CALLEES_TITLE {
            assert!(
                cells(&lines, row).trim().is_empty(),
                "drawn while made:\n{screen}"
            );
        }
        return (selected, None);
    }
    assert_eq!(
        first_label(&lines, CALLERS_ROOT),
        selected,
        "callers' root:\n{screen}"
    );
    assert_eq!(
        first_label(&lines, CALLEES_ROOT),
        selected,
        "callees' root:\n{screen}"
    );
    let (kind, i) = selected.split_at(2);
    let (caller, callee) = match kind {
        "f_" => (Some(format!("c_{i}")), Some(format!("d_{i}"))),
        "d_" => (Some(format!("f_{i}")), None),
        "c_" => (None, Some(format!("f_{i}"))),
        _ => (None, None),
    };
    if let Some(caller) = caller {
        assert_eq!(
            first_label(&lines, CALLER_ROW),
            caller,
            "{selected}'s caller:\n{screen}"
        );
    }
    match callee {
        Some(callee) => {
            assert_eq!(
                first_label(&lines, CALLEE_ROW),
                callee,
                "{selected}'s callee:\n{screen}"
            )
        }
        None if kind == "d_" => assert!(
            cells(&lines, CALLEE_ROW).trim().is_empty(),
            "{selected} calls nothing:\n{screen}"
        ),
        None => {}
    }
    (selected, Some(()))
}

/// Sends `keys` at once and checks every steady screen until the selection's own trees are
/// shown and stay; returns the function then selected and how many screens were checked.
fn burst(tmux: &Tmux, keys: &[&str]) -> (String, usize) {
    tmux.send(keys);
    let start = Instant::now();
    let mut checked = 0;
    let mut shown_since: Option<(String, Instant)> = None;
    loop {
        // Two captures alike, 30 ms apart: not a frame tmux has read half of (a stale pane
        // lasts for a whole making of trees, some 80 ms here, so it is still seen).
        let screen = tmux.capture();
        std::thread::sleep(Duration::from_millis(30));
        if screen != tmux.capture() {
            continue;
        }
        let (selected, drawn) = check(&screen);
        checked += 1;
        match (&shown_since, drawn) {
            (Some((s, since)), Some(()))
                if *s == selected && since.elapsed() > Duration::from_millis(300) =>
            {
                return (selected, checked);
            }
            (Some((s, _)), Some(())) if *s == selected => {}
            (_, Some(())) => shown_since = Some((selected, Instant::now())),
            (_, None) => shown_since = None,
        }
        assert!(
            start.elapsed() < WAIT,
            "the selection's callers and callees never came:\n{screen}"
        );
    }
}

#[test]
fn sandwich_callers_and_callees_follow_the_selection_through_bursts_of_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("groups.folded");
    write_groups(&path);
    let Some(tmux) = Tmux::start_sized(
        "sandwichworker",
        WIDTH,
        HEIGHT,
        &[obol(), path.to_str().unwrap()],
    ) else {
        return;
    };
    tmux.wait_for("the first view", |s| s.contains("folded stacks"));
    tmux.send(&["3"]);
    tmux.wait_for("Sandwich", |s| s.contains("callers ▲"));
    let (first, _) = burst(&tmux, &[]);
    assert!(
        first.starts_with("f_"),
        "the heaviest self is an f: {first}"
    );
    let mut seen = vec![first];
    let mut checked = 0;
    for keys in [
        &["j"; 25][..],
        &["k"; 7][..],
        &["PageDown", "PageDown", "j", "j"][..],
        &["PageUp", "k", "k", "k", "PageDown"][..],
        &["PageDown"; 3][..],
    ] {
        let (selected, n) = burst(&tmux, keys);
        checked += n;
        seen.push(selected);
    }
    // The moves went through f, d and c rows alike.
    for kind in ["d_", "c_"] {
        assert!(seen.iter().any(|s| s.starts_with(kind)), "{seen:?}");
    }
    assert!(
        seen.windows(2).all(|w| w[0] != w[1]),
        "every burst moved: {seen:?}"
    );
    assert!(checked > seen.len(), "screens checked: {checked}");
}
