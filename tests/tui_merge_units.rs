//! `t` merges only profiles that add up: a callgrind file's events (instructions, data reads,
//! cache misses…) are not threads. Through the real binary in tmux; the oracle is the `totals:`
//! line valgrind wrote into the file.

mod common;
#[path = "common/tmux.rs"]
mod tmux;

use common::fixture;
use tmux::*;

#[test]
fn t_leaves_a_callgrind_files_events_apart() {
    let path = fixture("walk.instr.callgrind");
    let text = std::fs::read_to_string(&path).unwrap();
    let totals = text
        .lines()
        .find_map(|l| l.strip_prefix("totals:"))
        .expect("valgrind writes a totals line");
    let first_event: u64 = totals.split_whitespace().next().unwrap().parse().unwrap();
    let all_events: u64 = totals
        .split_whitespace()
        .map(|n| n.parse::<u64>().unwrap())
        .sum();
    assert!(all_events > first_event);

    let path = path.to_str().unwrap().to_owned();
    let argv = through_shell(&[&path]);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let Some(tmux) = Tmux::start("mergeunits", &argv) else {
        return;
    };
    let total = format!("total {first_event}");
    tmux.wait_for_text(&total);
    // callgrind records calls, not stacks: once the load's message gives way, the flame panes
    // say their stacks are an estimate.
    tmux.send(&["2"]);
    tmux.wait_for_text("stacks estimated");
    tmux.send(&["t"]);
    tmux.send(&["3"]);
    // The pane and its status are drawn in one frame, but a capture may fall between frames.
    let screen = tmux.wait_for("Sandwich with its total", |s| {
        s.contains("3 Sandwich") && s.contains(&total)
    });
    assert!(!screen.contains("threads merged"), "{screen}");
    assert!(!screen.contains(&format!("total {all_events}")), "{screen}");
    tmux.send(&["q"]);
    tmux.wait_for_text("obol exited with 0");
}

/// The difference view compares each file's first event (as `obol diff` and `summary` do), not
/// the sum of all its events: no function's total passes the file's total for that event.
#[test]
fn the_difference_view_compares_one_event_of_each_callgrind_file() {
    let base = fixture("walk.instr.callgrind");
    let first_event = |path: &std::path::Path| -> u64 {
        let text = std::fs::read_to_string(path).unwrap();
        let totals = text
            .lines()
            .find_map(|l| l.strip_prefix("totals:"))
            .unwrap();
        totals.split_whitespace().next().unwrap().parse().unwrap()
    };
    let new = fixture("walk.callgrind");
    let limit = first_event(&base).max(first_event(&new));

    let paths = [base.to_str().unwrap(), new.to_str().unwrap()];
    let argv = through_shell(&paths);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let Some(tmux) = Tmux::start("diffunits", &argv) else {
        return;
    };
    tmux.wait_for_text("? help");
    tmux.send(&["d"]);
    tmux.send(&["3"]);
    // A capture may fall while a frame is being written (the table's first rows over the
    // flame graph's last ones): the table is judged once a capture shows it whole, every row's
    // weights numbers. A table that never shows them fails here too.
    let table_rows = |screen: &str| -> Vec<(String, Vec<String>)> {
        screen
            .lines()
            .map(|l| {
                (
                    l.to_string(),
                    l.split_whitespace().map(String::from).collect(),
                )
            })
            .filter(|(_, f): &(String, Vec<String>)| f.len() > 8 && f[0].ends_with('%'))
            .collect()
    };
    let screen = tmux.wait_for("the difference table drawn whole", |s| {
        let rows = table_rows(s);
        s.contains("Δtotal")
            && rows.len() >= 10
            && rows
                .iter()
                .all(|(_, f)| f[6..8].iter().all(|w| w.parse::<u64>().is_ok()))
    });
    let mut rows = 0;
    for (line, fields) in table_rows(&screen) {
        for share in &fields[..6] {
            let value: f64 = share.trim_end_matches('%').parse().unwrap();
            assert!(value <= 100.0, "a share above 100%: {line}\n{screen}");
        }
        for weight in &fields[6..8] {
            let value: u64 = weight
                .parse()
                .unwrap_or_else(|e| panic!("{weight:?} is not a weight ({e}): {line}\n{screen}"));
            assert!(
                value <= limit,
                "{value} passes the first event's total {limit}: {line}"
            );
        }
        rows += 1;
    }
    assert!(rows >= 10, "{screen}");
    tmux.send(&["q"]);
    tmux.wait_for_text("obol exited with 0");
}
