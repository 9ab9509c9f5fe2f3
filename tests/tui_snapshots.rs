//! Every pane and the help overlay drawn from real fixtures at 40×12, 80×24 and 120×40, through the
//! real key table, `App::update` and `panes::render`, as insta snapshots of the screen's text.
//! Colours are off (`ColorSupport::None`) and TestBackend's text shows symbols only, so the
//! snapshots hold what is written, not how it is coloured.
//!
//! New snapshots: `INSTA_UPDATE=always cargo test --test tui_snapshots`, then read every
//! `tests/snapshots/*.snap.new` by eye before accepting it.

mod common;
#[path = "common/tui.rs"]
mod tui;

use tui::Ui;

const SIZES: [(u16, u16); 3] = [(40, 12), (80, 24), (120, 40)];

/// Snapshots panes 1 to 4 and the help overlay of `fixture` at both sizes, named
/// `{prefix}_{width}x{height}_{pane}`.
fn snapshot_panes(fixture: &str, prefix: &str) {
    for (width, height) in SIZES {
        let mut ui = Ui::open(&[common::fixture(fixture)], width, height);
        for (key, pane) in [
            ("1", "1_first"),
            ("2", "2_left_heavy"),
            ("3", "3_sandwich"),
            ("4", "4_priority"),
        ] {
            ui.chars(key);
            insta::assert_snapshot!(
                format!("{prefix}_{width}x{height}_{pane}"),
                ui.terminal.backend()
            );
        }
        ui.chars("2?");
        insta::assert_snapshot!(
            format!("{prefix}_{width}x{height}_help"),
            ui.terminal.backend()
        );
    }
}

#[test]
fn folded_panes() {
    snapshot_panes("program.folded", "folded");
}

#[test]
fn folded_search_and_zoom() {
    let mut ui = Ui::open(&[common::fixture("program.folded")], 120, 40);
    ui.chars("2");
    ui.search("discount|surcharge");
    ui.chars("n");
    ui.enter();
    insta::assert_snapshot!("folded_120x40_search_zoom", ui.terminal.backend());
    ui.chars("3");
    insta::assert_snapshot!("folded_120x40_search_sandwich", ui.terminal.backend());
}

/// Under a locale that is not UTF-8 (`LC_ALL=C`): ASCII only, in every pane and the help, on
/// the speedscope fixture, whose names hold `δ` and whose Sandwich has sort marks.
#[test]
fn ascii_only() {
    let mut ui = Ui::open(&[common::fixture("program.speedscope.json")], 80, 24);
    ui.app.theme.ascii = true;
    for (key, pane) in [
        ("1", "1_first"),
        ("2", "2_left_heavy"),
        ("3", "3_sandwich"),
        ("4", "4_priority"),
        ("2?", "help"),
    ] {
        ui.chars(key);
        let text = ui.text();
        let other: Vec<char> = text.chars().filter(|c| !c.is_ascii()).collect();
        assert!(other.is_empty(), "{pane}: {other:?}\n{text}");
        insta::assert_snapshot!(format!("ascii_80x24_{pane}"), ui.terminal.backend());
        if key == "2?" {
            ui.chars("?");
        }
    }
}

#[test]
fn too_small() {
    let mut ui = Ui::open(&[common::fixture("program.folded")], 80, 24);
    ui.resize(39, 9);
    insta::assert_snapshot!("too_small_39x9", ui.terminal.backend());
}

#[test]
fn speedscope_panes() {
    snapshot_panes("program.speedscope.json", "speedscope");
}

#[test]
fn pstats_panes() {
    snapshot_panes("program.prof", "pstats");
}

#[test]
fn threads_time_order_second_thread_and_merged() {
    let mut ui = Ui::open(
        &[common::fixture("program.threads.speedscope.json")],
        120,
        40,
    );
    insta::assert_snapshot!("threads_120x40_time_order", ui.terminal.backend());
    ui.chars("]");
    insta::assert_snapshot!("threads_120x40_time_order_worker", ui.terminal.backend());
    ui.chars("t2");
    insta::assert_snapshot!("threads_120x40_merged_left_heavy", ui.terminal.backend());
}
