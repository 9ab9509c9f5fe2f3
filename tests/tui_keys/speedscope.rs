//! Speedscope: Time Order and threads.

use super::*;

#[test]
fn time_order_rows_keep_the_recorded_order() {
    let path = common::fixture("program.speedscope.json");
    let profiles = speedscope(&path);
    assert_eq!(profiles.len(), 1);
    let timeline = TimeOrder::build(&profiles[0].stacks);
    // Wide enough for the status lines' long paths.
    let mut ui = Ui::open_by_line(&[&path], 200, 40);
    assert!(
        ui.tab_bar().starts_with(" 1 Time Order "),
        "{}",
        ui.tab_bar()
    );
    assert!(
        ui.message().starts_with(&format!(
            "speedscope JSON: seconds · total {:.3}s ·",
            timeline.total
        )),
        "{}",
        ui.message()
    );
    assert_eq!(ui.status(), timeline.describe(timeline.row(1)[0]));
    // Rows with more than one frame, top down.
    let depths: Vec<usize> = (1..=10).filter(|&d| timeline.row(d).len() > 1).collect();
    assert!(depths.len() >= 4, "{depths:?}");
    for &depth in &depths[..4] {
        while time_order_depth(&ui) < depth {
            ui.chars("j");
        }
        while time_order_depth(&ui) > depth {
            ui.chars("k");
        }
        let row = timeline.row(depth);
        assert!(row.len() > 1, "row {depth}");
        ui.chars_undrawn(&"h".repeat(row.len()));
        ui.draw();
        // One status per frame stepped onto (neighbours may read the same).
        let mut seen = vec![ui.status()];
        loop {
            let at = ui.app.time_order.selected;
            ui.chars_undrawn("l");
            if ui.app.time_order.selected == at {
                break;
            }
            ui.draw();
            seen.push(ui.status());
        }
        let expected: Vec<String> = row.iter().map(|&n| timeline.describe(n)).collect();
        assert_eq!(seen, expected, "row {depth} in recorded order");
        // Back to the left for the next, deeper row.
        ui.chars_undrawn(&"h".repeat(row.len()));
    }
    // Zoom to the second frame of the first row that has two: it spans the width, alone.
    let depth = depths[0];
    while time_order_depth(&ui) > depth {
        ui.chars("k");
    }
    for _ in 0..timeline.row(depth).len() {
        ui.chars("h");
    }
    ui.chars("l");
    let second = timeline.row(depth)[1];
    assert_eq!(ui.status(), timeline.describe(second));
    ui.enter();
    let name = split_frame(&timeline.nodes[second].frame).0;
    assert_eq!(
        label_at(&ui, depth as u16, &name),
        Some((0, true)),
        "{}",
        ui.text()
    );
    ui.esc();
    assert!(ui.app.time_order.zoom.is_empty());
}

#[test]
fn search_counts_time_order_nodes_in_pane_1_and_merged_ones_in_pane_2() {
    let path = common::fixture("program.speedscope.json");
    let profiles = speedscope(&path);
    let timeline = TimeOrder::build(&profiles[0].stacks);
    let merged = profiles[0].tree();
    let mut ui = Ui::open_by_line(&[&path], 120, 40);
    for regex in ["apply_tax", "iterencode", "discount|surcharge"] {
        let matches = |n: &str| regex.split('|').any(|r| n.contains(r));
        ui.chars("1");
        ui.search(regex);
        let (count, share) = timeline.search(&profiles[0].stacks, matches);
        assert_eq!(
            search_summary(&ui),
            (count, format!("{:.1}%", 100.0 * share)),
            "Time Order, /{regex}/"
        );
        ui.chars("2");
        let (merged_count, merged_share) = merged.search(matches);
        assert_eq!(merged_share, share);
        assert!(merged_count < count, "{regex}: the timeline repeats frames");
        assert_eq!(
            search_summary(&ui),
            (merged_count, format!("{:.1}%", 100.0 * merged_share)),
            "Left Heavy, /{regex}/"
        );
    }
}

#[test]
fn brackets_switch_threads_of_one_file() {
    let path = common::fixture(THREADS_TAB);
    let profiles = speedscope(&path);
    assert_eq!(profiles.len(), 2);
    let mut ui = Ui::open_by_line(&[&path], 160, 40);
    let check = |ui: &mut Ui, index: usize| {
        let profile = &profiles[index];
        assert!(
            ui.tab_bar().ends_with(&format!(
                "{THREADS_TAB} [{}/2] {}  ? help",
                index + 1,
                profile.name
            )),
            "{}",
            ui.tab_bar()
        );
        assert!(
            ui.message().starts_with(&format!(
                "speedscope JSON: seconds · total {:.3}s ·",
                profile.total()
            )),
            "{}",
            ui.message()
        );
        assert!(ui.tab_bar().starts_with(" 1 Time Order "));
        // The thread's frame, then its one callee.
        let timeline = TimeOrder::build(&profile.stacks);
        let first = timeline.row(1)[0];
        assert_eq!(timeline.nodes[first].children.len(), 1);
        ui.chars("1j");
        assert_eq!(
            ui.status(),
            timeline.describe(timeline.nodes[first].children[0])
        );
    };
    check(&mut ui, 0);
    ui.chars("]");
    check(&mut ui, 1);
    ui.chars("]");
    check(&mut ui, 0);
    ui.chars("[");
    check(&mut ui, 1);
    ui.chars("[");
    check(&mut ui, 0);
}

#[test]
fn t_merges_threads_and_splits_them_again() {
    let path = common::fixture(THREADS_TAB);
    let merged = threads_merged(&path);
    let mut ui = Ui::open_by_line(&[&path], 160, 40);
    let summary = ui.message();
    ui.chars("t");
    assert_badge(&ui, " t threads merged (2)");
    assert!(
        ui.tab_bar().starts_with(" 1 Flamegraph "),
        "{}",
        ui.tab_bar()
    );
    ui.chars("2");
    // Both threads' frames share the top row.
    let names: Vec<String> = merged
        .row(1)
        .iter()
        .map(|p| split_frame(p.last().unwrap()).0)
        .collect();
    assert_eq!(names.len(), 2);
    for name in &names {
        assert!(ui.row(1).contains(name.as_str()), "{name}: {}", ui.row(1));
    }
    for regex in ["apply_tax", "^run_round$"] {
        ui.search(regex);
        let (count, share) = merged.search(|n| regex.trim_matches(['^', '$']) == n);
        assert_eq!(
            search_summary(&ui),
            (count, format!("{:.1}%", 100.0 * share)),
            "/{regex}/ over both threads"
        );
    }
    ui.chars("/");
    ui.enter();
    ui.chars("t");
    assert_eq!(ui.message(), summary);
    assert!(ui.tab_bar().starts_with(" 1 Time Order "));
}

#[test]
fn merged_threads_shares_are_of_the_merged_total() {
    let path = common::fixture(THREADS_TAB);
    let merged = threads_merged(&path);
    let mut ui = Ui::open_by_line(&[&path], 160, 40);
    ui.chars("t2j");
    let row = merged.row(2);
    assert_eq!(ui.status(), merged.describe(&row[0]));
    ui.chars("l");
    assert_eq!(ui.status(), merged.describe(&row[1]));
}

#[test]
fn a_frame_without_a_file_shows_no_place() {
    let path = common::fixture(THREADS_TAB);
    let profiles = speedscope(&path);
    let timeline = TimeOrder::build(&profiles[0].stacks);
    let ui = Ui::open_by_line(&[&path], 160, 40);
    assert_eq!(ui.status(), timeline.describe(timeline.row(1)[0]));
}

/// Every thread's samples of a speedscope file as one tree: what `t` should show.
fn threads_merged(path: &std::path::Path) -> Folded {
    let all = speedscope(path)
        .into_iter()
        .flat_map(|p| p.stacks)
        .collect();
    let mut merged = Folded::from_lines(all);
    merged.seconds = true;
    merged
}
