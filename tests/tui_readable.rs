//! Issue 12, "readable at 80×24 over SSH", through the real key table, `App::update` and
//! `panes::render`: the status line's figures stay whole, search (smart case, name or path,
//! what it counts, whose share), the badges, the help at 80×24 and Time Order's start.

mod common;
#[path = "common/tui.rs"]
mod tui;

use std::collections::BTreeSet;

use obol::tui::action::Pane;
use tui::{Folded, TimeOrder, Ui, speedscope, split_frame};

/// The figures of a status line: from ` · self` up to the place (the last ` · ` part, when
/// the line names one).
fn figures(status: &str, has_place: bool) -> String {
    let at = status.find(" · self ").expect("self");
    let end = if has_place {
        status.rfind(" · ").unwrap()
    } else {
        status.len()
    };
    status[at..end].to_owned()
}

/// At 60 columns every row's status line keeps the figures a wide terminal shows, whole, and
/// fits the width: the place and then the name give way.
#[test]
fn the_status_line_keeps_its_figures_whole_down_to_60_columns() {
    for fixture in ["program.prof", "program.speedscope.json", "program.folded"] {
        let path = common::fixture(fixture);
        let mut wide = Ui::open(&[&path], 220, 40);
        let mut narrow = Ui::open(&[&path], 60, 24);
        for ui in [&mut wide, &mut narrow] {
            ui.chars("3");
        }
        for row in 0..15 {
            let (wide_status, narrow_status) = (wide.status(), narrow.status());
            let selected = wide
                .app
                .sandwich
                .selected_function(&wide.app.view.as_ref().unwrap().table)
                .unwrap();
            let file = wide.app.set().frames.function(selected).file;
            let has_place = file.is_some_and(|f| !f.is_empty() && f != "~");
            // Self and total whole; the calls too, or none of them.
            let whole = figures(&wide_status, has_place);
            let (weights, calls) = match whole.rfind(" · ") {
                Some(at) if whole[at..].ends_with(" calls") => whole.split_at(at),
                _ => (whole.as_str(), ""),
            };
            assert!(
                narrow_status.contains(weights),
                "{fixture} row {row}: {weights:?} not whole in {narrow_status:?}"
            );
            let after = &narrow_status[narrow_status.find(weights).unwrap() + weights.len()..];
            assert!(
                after.is_empty() || after.starts_with(calls),
                "{fixture} row {row}: {calls:?} cut in {narrow_status:?}"
            );
            // A place, where shown, shows at least its file's own name.
            if let Some(place) = after.get(calls.len()..).and_then(|a| a.strip_prefix(" · ")) {
                assert!(
                    !place.starts_with('…') || place.starts_with("…/"),
                    "{narrow_status}"
                );
            }
            assert!(narrow_status.chars().count() <= 60, "{narrow_status}");
            // The name comes first, whole or cut in the middle.
            let name = wide_status.split(" · self ").next().unwrap();
            let shown = narrow_status.split(" · self ").next().unwrap();
            match shown.split_once('…') {
                None => assert_eq!(shown, name),
                Some((head, tail)) => {
                    assert!(name.starts_with(head) && name.ends_with(tail), "{shown}")
                }
            }
            wide.chars("j");
            narrow.chars("j");
        }
    }
}

/// The frames and functions of the folded fixture whose name or file satisfies `matches`.
fn matching(folded: &Folded, matches: impl Fn(&str) -> bool) -> (usize, usize, f64) {
    let hit = |frame: &str| {
        let (name, file, _) = split_frame(frame);
        matches(&name) || matches(&file)
    };
    let frames = folded
        .nodes
        .keys()
        .filter(|path| path.last().is_some_and(|f| hit(f)))
        .count();
    let functions: BTreeSet<(String, String)> = folded
        .nodes
        .keys()
        .filter_map(|path| path.last())
        .filter(|f| hit(f))
        .map(|f| {
            let (name, file, _) = split_frame(f);
            (name, file)
        })
        .collect();
    let weight: f64 = folded
        .lines
        .iter()
        .filter(|(stack, _)| stack.iter().any(|f| hit(f)))
        .map(|(_, w)| w)
        .sum();
    // An empty sum is -0.0.
    (frames, functions.len(), weight / folded.total + 0.0)
}

#[test]
fn search_is_smart_case_on_name_or_path_and_says_what_it_counts() {
    let path = common::fixture("program.folded");
    let folded = Folded::read(&path);
    let mut ui = Ui::open_by_line(&[&path], 120, 40);
    ui.chars("2");
    // `/pricing` finds every function of shop/pricing.py by its path; lower case ignores case.
    for (regex, oracle) in [
        (
            "pricing",
            &(|s: &str| s.contains("pricing")) as &dyn Fn(&str) -> bool,
        ),
        ("APPLY_TAX", &|s: &str| s.contains("APPLY_TAX")),
        ("apply_tax", &|s: &str| {
            s.to_lowercase().contains("apply_tax")
        }),
        ("encoder", &|s: &str| s.contains("encoder")),
        ("Encode", &|s: &str| s.contains("Encode")),
    ] {
        let (frames, functions, share) = matching(&folded, oracle);
        ui.search(regex);
        let counted = |n: usize, what: &str| {
            format!(
                "/{regex}: {n} {} among {what}, {:.1}% of the file  (",
                if n == 1 { "match" } else { "matches" },
                100.0 * share
            )
        };
        assert!(
            ui.message().starts_with(&counted(frames, "frames")),
            "{regex}: {:?} vs {:?}",
            counted(frames, "frames"),
            ui.message()
        );
        ui.chars("3");
        assert!(
            ui.message().starts_with(&counted(functions, "functions")),
            "{regex}: {functions} functions: {}",
            ui.message()
        );
        assert_eq!(ui.app.sandwich.visible.len(), functions);
        ui.chars("2");
    }
    // One function: "1 match".
    ui.chars("3");
    ui.search("^apply_tax$");
    assert!(
        ui.message()
            .starts_with("/^apply_tax$: 1 match among functions, "),
        "{}",
        ui.message()
    );
    // Esc ends the search in every pane.
    for pane in ["1", "2", "3", "4"] {
        ui.chars(pane);
        ui.search("apply");
        assert!(ui.app.search.is_some());
        ui.esc();
        assert!(ui.app.search.is_none(), "pane {pane}");
        assert!(!ui.message().starts_with("/apply"), "{}", ui.message());
    }
    // A bad regex: one line saying what is wrong, once.
    ui.search("(unclosed");
    let message = ui.message();
    assert!(message.starts_with("bad regex /(unclosed/: "), "{message}");
    assert_eq!(message.matches("unclosed").count(), 2, "{message}");
    assert!(!message.contains("regex parse error"), "{message}");
}

/// With a function focused, the search gives both shares, each named.
#[test]
fn a_focused_search_names_the_share_of_the_file_and_of_the_focus() {
    let path = common::fixture("program.folded");
    let folded = Folded::read(&path);
    let mut ui = Ui::open_by_line(&[&path], 120, 40);
    ui.chars("3");
    ui.search("^price_all$");
    ui.esc();
    ui.search("^price_all$");
    ui.chars("f");
    ui.search("apply_tax");
    let is_match = |s: &str| s.contains("apply_tax");
    let (_, _, share) = matching(&folded, is_match);
    // Within the focus: the stacks through price_all.
    let through: Vec<&(Vec<String>, f64)> = folded
        .lines
        .iter()
        .filter(|(stack, _)| stack.iter().any(|f| split_frame(f).0 == "price_all"))
        .collect();
    let focus_total: f64 = through.iter().map(|(_, w)| w).sum();
    let in_focus: f64 = through
        .iter()
        .filter(|(stack, _)| stack.iter().any(|f| is_match(&split_frame(f).0)))
        .map(|(_, w)| w)
        .sum();
    let expected = format!(
        "{:.1}% of the file, {:.1}% of the focus",
        100.0 * share,
        100.0 * in_focus / focus_total
    );
    assert!(
        ui.message().contains(&expected),
        "{expected}: {}",
        ui.message()
    );
}

/// One badge per mode, each naming its key; a message on the line below leaves them.
#[test]
fn badges_name_each_mode_and_its_key() {
    let path = common::fixture("program.threads.speedscope.json");
    let mut ui = Ui::open(&[&path], 120, 40);
    assert!(ui.app.badges().is_empty());
    ui.chars("2tcr");
    let badges = ui.badges();
    for badge in [
        "t threads merged (2)",
        "c heat colours",
        "r recursion collapsed",
    ] {
        assert!(badges.contains(badge), "{badge} in {badges}");
    }
    ui.search("apply_tax");
    assert!(ui.message().starts_with("/apply_tax: "));
    assert_eq!(ui.badges(), badges, "the search leaves the badges");
    ui.chars("tcr");
    assert!(ui.app.badges().is_empty());
}

/// At 80×24 the help shows every key and mouse gesture of the key table with its text whole.
#[test]
fn the_help_fits_80_by_24_and_lists_the_mouse() {
    let mut ui = Ui::open(&[common::fixture("program.folded")], 80, 24);
    ui.chars("?");
    let screen = ui.text();
    for (keys, description) in obol::tui::keymap::help_lines() {
        let shown = screen
            .lines()
            .any(|l| l.contains(&format!("{keys}  ")) && l.contains(description));
        assert!(shown, "{keys}: {description} not whole:\n{screen}");
    }
    for gesture in ["click", "double-click", "wheel up", "wheel down"] {
        assert!(screen.contains(gesture), "{gesture}");
    }
    // Smaller than that, it scrolls: the last line comes into view.
    ui.chars("?");
    ui.resize(40, 12);
    ui.chars("?");
    assert!(!ui.text().contains("wheel down"));
    for _ in 0..60 {
        ui.chars("j");
    }
    assert!(ui.text().contains("wheel down"), "{}", ui.text());
}

/// Time Order opens on the heaviest frame of its top row (not on what lies at its left edge)
/// with a time axis in seconds from the start, which follows the zoom.
#[test]
fn time_order_starts_on_the_heaviest_frame_with_a_time_axis() {
    let path = common::fixture("program.threads.speedscope.json");
    let profiles = speedscope(&path);
    let order = TimeOrder::build(&profiles[0].stacks);
    let mut ui = Ui::open_by_line(&[&path], 120, 40);
    ui.chars("1");
    assert_eq!(ui.app.pane, Pane::TimeOrder);
    let top = order.row(1);
    let heaviest = top
        .iter()
        .copied()
        .max_by(|&a, &b| {
            order.nodes[a]
                .weights
                .total
                .total_cmp(&order.nodes[b].weights.total)
                .then(b.cmp(&a))
        })
        .unwrap();
    assert_eq!(ui.status(), order.describe(heaviest));
    // The axis: the last row of the pane, 0 s at the left edge.
    let body = ui.app.body();
    let axis = ui.row(body.bottom() - 1);
    assert!(axis.starts_with("╵0"), "{axis}");
    let ticks: Vec<f64> = axis
        .split('╵')
        .filter(|t| !t.trim().is_empty())
        .map(|t| t.trim().trim_end_matches('s').parse().expect("seconds"))
        .collect();
    assert!(
        ticks.len() >= 4 && ticks.windows(2).all(|w| w[1] > w[0]),
        "{axis}"
    );
    assert!(*ticks.last().unwrap() <= order.total, "{axis}");
    // Zoomed on the second frame of the top row: the axis starts where it starts.
    if top.len() > 1 {
        let second = top[1];
        let start = order.nodes[top[0]].weights.total;
        ui.chars("0");
        while ui.status() != order.describe(second) {
            ui.chars("l");
        }
        ui.enter();
        let axis = ui.row(body.bottom() - 1);
        let first: f64 = axis
            .split('╵')
            .find(|t| !t.trim().is_empty())
            .unwrap()
            .trim()
            .trim_end_matches('s')
            .parse()
            .unwrap();
        assert!(first >= start - 1e-9, "{first} < {start}: {axis}");
    }
}

/// A terminal without 256 colours gets the 16 ANSI colours only, in every pane.
#[test]
fn a_16_colour_terminal_gets_only_the_16_colours() {
    use ratatui::style::Color;
    let path = common::fixture("program.speedscope.json");
    let mut ui = Ui::open_with(&[&path], 120, 40, obol::tui::theme::ColorSupport::Basic);
    for keys in ["1", "2", "c", "3", "4", "2c"] {
        ui.chars(keys);
        if keys == "2c" {
            ui.search("apply");
        }
        let buffer = ui.terminal.backend().buffer();
        for cell in &buffer.content {
            for color in [cell.fg, cell.bg] {
                assert!(
                    !matches!(color, Color::Indexed(_) | Color::Rgb(..)),
                    "{color:?} after {keys}"
                );
            }
        }
    }
}
