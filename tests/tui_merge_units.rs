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
    tmux.send(&["t"]);
    tmux.send(&["3"]);
    let screen = tmux.wait_for_text("Sandwich");
    assert!(!screen.contains("threads merged"), "{screen}");
    assert!(screen.contains(&total), "{screen}");
    assert!(!screen.contains(&format!("total {all_events}")), "{screen}");
    tmux.send(&["q"]);
    tmux.wait_for_text("obol exited with 0");
}
