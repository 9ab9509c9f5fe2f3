//! Comparing two runs of the fixture program, the second made slower in `apply_tax`: the
//! difference view (`d`): both files named, the selected frame's share in each (checked against
//! sums over the folded texts), growth marked, frames present on one side only still laid out,
//! and the table of changes; side by side (`s`): selection and zoom on the same path in both.

mod common;
#[path = "common/tui.rs"]
mod tui;

use std::collections::BTreeMap;

use obol::tui::theme::ColorSupport;
use ratatui::style::Modifier;
use tui::{Folded, Ui, split_frame};

/// Share of the total under each call path of functions (name, file): lines dropped, as the
/// difference view merges paths.
fn function_paths(folded: &Folded) -> BTreeMap<Vec<(String, String)>, f64> {
    let mut shares = BTreeMap::new();
    for (stack, count) in &folded.lines {
        let path: Vec<(String, String)> = stack
            .iter()
            .map(|frame| {
                let (name, file, _) = split_frame(frame);
                (name.to_owned(), file.to_owned())
            })
            .collect();
        for depth in 1..=path.len() {
            *shares.entry(path[..depth].to_vec()).or_insert(0.0) += count / folded.total;
        }
    }
    shares
}

fn open() -> (Ui, Folded, Folded) {
    let paths = [
        common::fixture("program.folded"),
        common::fixture("program_slow.folded"),
    ];
    let ui = Ui::open(&paths, 120, 40);
    (ui, Folded::read(&paths[0]), Folded::read(&paths[1]))
}

#[test]
fn d_shows_both_files_and_the_change_of_the_selected_frame() {
    let (mut ui, base, new) = open();
    ui.chars("d");
    assert!(
        ui.tab_bar()
            .ends_with("difference: program.folded → program_slow.folded  ? help"),
        "{}",
        ui.tab_bar()
    );
    // Down the widest frames to apply_tax, which the slow run made slower.
    ui.chars("jjjjjj");
    let status = ui.status();
    assert!(
        status.starts_with("apply_tax shop/pricing.py · "),
        "{status}"
    );
    let (base_paths, new_paths) = (function_paths(&base), function_paths(&new));
    let path: Vec<(String, String)> = [
        ("<module>", "main.py"),
        ("main", "main.py"),
        ("work", "main.py"),
        ("work.<locals>.<genexpr>", "main.py"),
        ("run_round", "main.py"),
        ("price_all", "shop/pricing.py"),
        ("apply_tax", "shop/pricing.py"),
    ]
    .iter()
    .map(|(n, f)| (n.to_string(), f.to_string()))
    .collect();
    let (b, n) = (base_paths[&path], new_paths[&path]);
    assert!(n > b, "the slow run spends a larger share in apply_tax");
    let expected = format!(
        "apply_tax shop/pricing.py · base {:.1}% → new {:.1}% of total · {:+.1}%",
        100.0 * b,
        100.0 * n,
        100.0 * (n - b)
    );
    assert_eq!(status, expected);
    // Without colour, growth is bold; move off the frame (selection has its own style) and
    // check a cell of it.
    let d = ui.app.difference().unwrap();
    let rect = *d.view.layout.find(d.view.selected.unwrap()).unwrap();
    ui.chars("k");
    let cell = &ui.terminal.backend().buffer()[((rect.x0 / 8 + 1) as u16, 1 + rect.depth)];
    assert!(cell.modifier.contains(Modifier::BOLD), "{cell:?}");
    // `d` again leaves the view.
    ui.chars("d");
    assert!(ui.app.difference().is_none());
    assert!(
        ui.tab_bar()
            .ends_with("program.folded ⇄ program_slow.folded [1/2]  ? help")
    );
}

#[test]
fn frames_on_one_side_only_stay_in_the_picture() {
    let (mut ui, base, new) = open();
    ui.chars("d");
    let (base_paths, new_paths) = (function_paths(&base), function_paths(&new));
    // A path the slow run never sampled, wide enough to be drawn (its mean share is at least
    // one eighth of a cell of 120).
    let (vanished, share) = base_paths
        .iter()
        .filter(|(p, _)| !new_paths.contains_key(*p))
        .max_by(|a, b| a.1.total_cmp(b.1))
        .expect("some path vanished");
    assert!(
        share / 2.0 >= 1.0 / 960.0,
        "{vanished:?} too narrow to test"
    );
    let d = ui.app.difference().unwrap();
    let laid_out = d.view.layout.rects.iter().any(|r| {
        let mut names = Vec::new();
        let mut at = Some(r.node);
        while let Some(node) = at {
            if let Some(frame) = d.diff.tree.frame(node) {
                let f = d.diff.frames.frame(frame);
                names.push((f.name.to_owned(), f.file.unwrap_or_default().to_owned()));
            }
            at = d.diff.tree.parent(node);
        }
        names.reverse();
        &names == vanished
    });
    assert!(laid_out, "{vanished:?} is not in the difference view");
}

#[test]
fn d_with_one_file_says_what_it_needs() {
    let mut ui = Ui::open(&[common::fixture("program.folded")], 100, 30);
    ui.chars("d");
    assert!(ui.app.difference().is_none());
    assert_eq!(
        ui.message(),
        "the difference view needs two files: obol BASE NEW"
    );
}

#[test]
fn snapshot_of_the_difference_view() {
    let (mut ui, _, _) = open();
    ui.chars("d");
    ui.chars("jjjjjj");
    insta::assert_snapshot!("difference_120x40", ui.terminal.backend());
}

/// The difference view's colours, which carry its meaning (red grew, blue shrank), in 256
/// colours: the flame graph and its table.
#[test]
fn snapshot_of_the_difference_view_with_colours() {
    let paths = [
        common::fixture("program.folded"),
        common::fixture("program_slow.folded"),
    ];
    let mut ui = Ui::open_with(&paths, 100, 24, ColorSupport::Indexed);
    ui.chars("d");
    ui.chars("jjjj");
    insta::assert_snapshot!("difference_100x24_colours", ui.styled());
    ui.chars("3");
    insta::assert_snapshot!("difference_100x24_table_colours", ui.styled());
}

/// A function's (name, file) total share of a folded file: the lines it appears in.
fn function_total_share(folded: &Folded, name: &str, file: &str) -> f64 {
    let hits: f64 = folded
        .lines
        .iter()
        .filter(|(stack, _)| {
            stack.iter().any(|f| {
                let (n, fl, _) = split_frame(f);
                n == name && fl == file
            })
        })
        .map(|(_, count)| count)
        .sum();
    hits / folded.total
}

#[test]
fn the_sandwich_table_gains_base_new_and_change_columns() {
    let (mut ui, base, new) = open();
    ui.chars("d3");
    let header = ui.row(1);
    assert!(
        header.contains("base") && header.contains("Δtotal▼") && header.contains("Δself"),
        "{header}"
    );
    // The slowed function leads, with both sides' shares of their own totals.
    let (b, n) = (
        function_total_share(&base, "apply_tax", "shop/pricing.py"),
        function_total_share(&new, "apply_tax", "shop/pricing.py"),
    );
    let first = ui.row(2);
    assert!(first.trim_end().ends_with("apply_tax"), "{first}");
    let expected = format!(
        "{:>6} {:>6} {:>7}",
        format!("{:.1}%", 100.0 * b),
        format!("{:.1}%", 100.0 * n),
        format!("{:+.1}%", 100.0 * (n - b))
    );
    assert!(first.starts_with(&expected), "{first} / {expected}");
    // Both files count samples: each side's samples beside the shares.
    let values = format!(
        "{:>9} {:>9} apply_tax",
        (b * base.total).round(),
        (n * new.total).round()
    );
    assert!(first.trim_end().ends_with(&values), "{first} / {values}");
    assert!(
        ui.status().starts_with(&format!(
            "apply_tax shop/pricing.py · total base {} ({:.1}%)",
            (b * base.total).round(),
            100.0 * b
        )),
        "{}",
        ui.status()
    );
    // `o` sorts by the change of self share, then by name.
    ui.chars("o");
    assert!(ui.row(1).contains("Δself▼"), "{}", ui.row(1));
    ui.chars("o");
    assert!(ui.row(1).contains("function▼"), "{}", ui.row(1));
    let name_at = ui
        .row(1)
        .find("function")
        .expect("the header names the column");
    let names: Vec<String> = (2..8)
        .map(|y| ui.row(y).get(name_at..).unwrap_or("").trim().to_owned())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
}

#[test]
fn files_in_different_units_compare_by_shares_alone() {
    // A cProfile run (seconds) against a py-spy run (samples): no values side by side.
    let paths = [
        common::fixture("program.prof"),
        common::fixture("program.folded"),
    ];
    let mut ui = Ui::open(&paths, 120, 40);
    ui.chars("d3");
    let header = ui.row(1);
    assert!(header.contains("Δtotal▼"), "{header}");
    assert!(!header.contains("base tot"), "{header}");
}

/// The chain of (name, file) from the root to `node` in one side of the side-by-side view.
fn names_to(ui: &Ui, base: bool, node: obol::profile::NodeId) -> Vec<(String, String)> {
    let sbs = ui.app.side_by_side().unwrap();
    let side = if base { &sbs.base } else { &sbs.new };
    let frames = &ui.app.files()[side.file].set.frames;
    let mut names = Vec::new();
    let mut at = Some(node);
    while let Some(n) = at {
        if let Some(frame) = side.tree.frame(n) {
            let f = frames.frame(frame);
            names.push((f.name.to_owned(), f.file.unwrap_or_default().to_owned()));
        }
        at = side.tree.parent(n);
    }
    names.reverse();
    names
}

#[test]
fn s_keeps_selection_and_zoom_on_the_same_path_in_both() {
    let (mut ui, base, new) = open();
    ui.chars("2s");
    let titles = ui.row(1);
    assert!(
        titles.starts_with("base: program.folded") && titles.contains("new: program_slow.folded"),
        "{titles}"
    );
    ui.chars("jjjjjj");
    let (left, right) = {
        let sbs = ui.app.side_by_side().unwrap();
        (
            sbs.base.view.selected.unwrap(),
            sbs.new.view.selected.unwrap(),
        )
    };
    let path = names_to(&ui, true, left);
    assert_eq!(path.last().map(|p| p.0.as_str()), Some("apply_tax"));
    assert_eq!(
        names_to(&ui, false, right),
        path,
        "the new side selects the same path"
    );
    let (b, n) = (function_paths(&base)[&path], function_paths(&new)[&path]);
    assert_eq!(
        ui.status(),
        format!(
            "apply_tax · base {:.1}% → new {:.1}% of total · {:+.1}%",
            100.0 * b,
            100.0 * n,
            100.0 * (n - b)
        )
    );
    // Zoom to price_all (one up): both sides zoom to it; back out: both unzoom.
    ui.chars("k");
    ui.enter();
    {
        let sbs = ui.app.side_by_side().unwrap();
        assert_eq!(sbs.base.view.zoom.len(), 1);
        assert_eq!(sbs.new.view.zoom.len(), 1);
        let (l, r) = (sbs.base.view.zoom[0], sbs.new.view.zoom[0]);
        assert_eq!(names_to(&ui, true, l), names_to(&ui, false, r));
        assert_eq!(names_to(&ui, true, l).last().unwrap().0, "price_all");
        // Zoomed, price_all spans each side's full width.
        let full = u32::from(sbs.new.view.area.width) * 8;
        assert!(
            sbs.new
                .view
                .layout
                .rects
                .iter()
                .any(|rect| rect.node == r && rect.x1 == full)
        );
    }
    ui.esc();
    let sbs = ui.app.side_by_side().unwrap();
    assert!(sbs.base.view.zoom.is_empty() && sbs.new.view.zoom.is_empty());
    ui.chars("s");
    assert!(ui.app.side_by_side().is_none());
}

#[test]
fn snapshot_side_by_side() {
    let (mut ui, _, _) = open();
    ui.chars("2sjjjjj");
    insta::assert_snapshot!("side_by_side_120x40", ui.terminal.backend());
}
