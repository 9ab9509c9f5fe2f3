//! Scripted key sequences through the real key table and `App::update`, checked on the rendered
//! screen against oracles computed here from the fixtures' text.

mod common;
#[path = "common/tui.rs"]
mod tui;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyEventState, KeyModifiers};
use obol::tui::action::{Action, Pane};
use obol::tui::effects::Effect;
use ratatui::style::Modifier;
use tui::{Folded, TimeOrder, Ui, function_of, speedscope, split_frame};

fn folded_ui(width: u16, height: u16) -> (Ui, Folded) {
    let path = common::fixture("program.folded");
    (Ui::open(&[&path], width, height), Folded::read(&path))
}

/// The four tab labels as the issue asks for them: each pane named with its key.
const TABS: [&str; 4] = [
    " 1 Flamegraph ",
    " 2 Left Heavy ",
    " 3 Sandwich ",
    " 4 Priority ",
];

/// Which tabs are drawn reversed (the active one).
fn highlighted_tabs(ui: &Ui) -> Vec<&'static str> {
    let line = ui.tab_bar();
    let buffer = ui.terminal.backend().buffer();
    TABS.iter()
        .copied()
        .filter(|tab| {
            let at = line
                .find(tab)
                .unwrap_or_else(|| panic!("tab {tab:?} missing from {line:?}"));
            let x = line[..at].chars().count() as u16;
            (x..x + tab.chars().count() as u16)
                .all(|x| buffer[(x, 0)].modifier.contains(Modifier::REVERSED))
        })
        .collect()
}

#[test]
fn release_events_and_modifiers_map_as_a_terminal_sends_them() {
    let release = KeyEvent::new_with_kind_and_state(
        KeyCode::Char('q'),
        KeyModifiers::NONE,
        KeyEventKind::Release,
        KeyEventState::NONE,
    );
    assert_eq!(obol::tui::keymap::action_for(&release, false), None);
    let (mut ui, _) = folded_ui(80, 24);
    assert_eq!(
        ui.press(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
        Some(Action::Quit)
    );
    assert!(ui.app.quit);
    let (mut ui, _) = folded_ui(80, 24);
    // In the prompt, q is text and Ctrl-C still quits.
    ui.chars("/q");
    assert!(ui.app.prompt.is_some());
    assert!(!ui.app.quit);
    assert!(ui.message().starts_with("/q▏"), "{}", ui.message());
    ui.press(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert!(ui.app.quit);
    let (mut ui, _) = folded_ui(80, 24);
    assert_eq!(ui.key(KeyCode::Char('q')), Some(Action::Quit));
    assert!(ui.app.quit);
}

#[test]
fn pane_keys_tab_and_shift_tab_switch_the_highlighted_tab() {
    let (mut ui, _) = folded_ui(80, 24);
    assert_eq!(highlighted_tabs(&ui), [TABS[0]]);
    assert!(ui.tab_bar().ends_with("program.folded  ? help"));
    for (key, index) in [('2', 1), ('3', 2), ('4', 3), ('1', 0), ('4', 3)] {
        ui.chars(&key.to_string());
        assert_eq!(ui.app.pane, Pane::ALL[index]);
        assert_eq!(highlighted_tabs(&ui), [TABS[index]], "after {key}");
    }
    // From 4, Tab wraps to 1, then 2; Shift-Tab goes back 1, then wraps to 4.
    for (code, index) in [
        (KeyCode::Tab, 0),
        (KeyCode::Tab, 1),
        (KeyCode::BackTab, 0),
        (KeyCode::BackTab, 3),
        (KeyCode::BackTab, 2),
    ] {
        ui.key(code);
        assert_eq!(highlighted_tabs(&ui), [TABS[index]], "after {code:?}");
    }
    // Sandwich's status names the table's first row: the heaviest function by self time.
    assert!(
        ui.status()
            .starts_with("apply_tax shop/pricing.py:13 · self 201 (49.6%)")
    );
}

#[test]
fn j_and_k_follow_the_heaviest_callee_and_the_caller() {
    let (mut ui, folded) = folded_ui(120, 40);
    ui.chars("2");
    let chain = folded.heaviest_chain();
    assert!(chain.len() >= 7, "{chain:?}");
    // The heaviest root child is selected first.
    assert_eq!(ui.status(), folded.describe(&chain[0]));
    for path in &chain[1..] {
        ui.chars("j");
        assert_eq!(ui.status(), folded.describe(path));
    }
    // At a leaf, j stays.
    ui.chars("j");
    assert_eq!(ui.status(), folded.describe(chain.last().unwrap()));
    for path in chain.iter().rev().skip(1) {
        ui.key(KeyCode::Up);
        assert_eq!(ui.status(), folded.describe(path));
    }
    // At the top, k stays.
    ui.chars("k");
    assert_eq!(ui.status(), folded.describe(&chain[0]));
    // Arrows are the same keys.
    ui.key(KeyCode::Down);
    assert_eq!(ui.status(), folded.describe(&chain[1]));
}

#[test]
fn h_and_l_walk_a_row_left_to_right() {
    for depth in [1, 5, 6] {
        let (mut ui, folded) = folded_ui(120, 40);
        ui.chars("2");
        for _ in 1..depth {
            ui.chars("j");
        }
        assert_eq!(current_depth(&ui), depth);
        let row = folded.row(depth);
        assert!(row.len() > 1);
        for _ in 0..row.len() {
            ui.chars("h");
        }
        assert_eq!(ui.status(), folded.describe(&row[0]), "row {depth}");
        let mut seen = vec![ui.status()];
        let mut at = ui.app.left_heavy.selected;
        for _ in 0..row.len() {
            ui.chars("l");
            if ui.app.left_heavy.selected != at {
                at = ui.app.left_heavy.selected;
                seen.push(ui.status());
            }
        }
        let expected: Vec<String> = row.iter().map(|p| folded.describe(p)).collect();
        assert_eq!(seen, expected, "row {depth}");
        // Arrows are the same keys.
        ui.key(KeyCode::Left);
        assert_eq!(ui.status(), expected[expected.len() - 2]);
        ui.key(KeyCode::Right);
        assert_eq!(ui.status(), expected[expected.len() - 1]);
    }
}

/// Depth (1 = a root child) of the Left Heavy selection, from the tree obol shows.
fn current_depth(ui: &Ui) -> usize {
    let tree = ui.app.tree_for(Pane::LeftHeavy);
    ui.app.left_heavy.selected.map_or(0, |n| tree.depth(n))
}

/// Where `label` starts on screen row `y`, and whether the rest of the row is blank.
fn label_at(ui: &Ui, y: u16, label: &str) -> Option<(usize, bool)> {
    let row = ui.lines()[usize::from(y)].clone();
    let at = row.find(label)?;
    let x = row[..at].chars().count();
    let rest_blank = row[at + label.len()..].trim().is_empty();
    Some((x, rest_blank))
}

#[test]
fn enter_zooms_escape_and_backspace_go_back_zero_resets() {
    let (mut ui, folded) = folded_ui(120, 40);
    ui.chars("2");
    let chain = folded.heaviest_chain();
    // chain: <module> main work genexpr run_round price_all apply_tax; zoom to price_all
    // (depth 6, screen row 6 under the tab bar).
    let price_all = chain
        .iter()
        .position(|p| split_frame(p.last().unwrap()).0 == "price_all")
        .expect("price_all on the heaviest path");
    for _ in 0..price_all {
        ui.chars("j");
    }
    let price_row = price_all as u16 + 1;
    assert_ne!(label_at(&ui, price_row, "price_all"), Some((0, true)));
    ui.enter();
    assert_eq!(ui.status(), folded.describe(&chain[price_all]));
    // The zoomed frame and its callers span the width, alone on their rows.
    for (depth, path) in chain[..=price_all].iter().enumerate() {
        let name = split_frame(path.last().unwrap()).0;
        assert_eq!(
            label_at(&ui, depth as u16 + 1, &name),
            Some((0, true)),
            "{name} spans the width:\n{}",
            ui.text()
        );
    }
    // Its children share the width in proportion: apply_tax gets 201 of price_all's total.
    let child = &chain[price_all + 1];
    let share = folded.get(child).total / folded.get(&chain[price_all]).total;
    let row = ui.lines()[usize::from(price_row + 1)].clone();
    assert!(row.starts_with("apply_tax"), "{row}");
    // Zooming to the same frame again changes nothing.
    ui.enter();
    assert_eq!(ui.app.left_heavy.zoom.len(), 1);
    // Its width in cells: up to the first cell where another label or a gap starts.
    let cells = (share * 120.0).floor() as usize;
    assert!(
        row.chars()
            .take(cells - 1)
            .skip("apply_tax".len())
            .all(|c| c == ' '),
        "apply_tax should cover {cells} cells: {row:?}"
    );
    ui.chars("j");
    assert_eq!(ui.status(), folded.describe(child));
    ui.enter();
    assert_eq!(ui.app.left_heavy.zoom.len(), 2);
    assert_eq!(label_at(&ui, price_row + 1, "apply_tax"), Some((0, true)));
    // Esc: back to price_all's zoom, the selection on the frame zoomed out of.
    ui.esc();
    assert_eq!(ui.app.left_heavy.zoom.len(), 1);
    assert_eq!(ui.status(), folded.describe(child));
    assert_eq!(label_at(&ui, price_row, "price_all"), Some((0, true)));
    assert_ne!(label_at(&ui, price_row + 1, "apply_tax"), Some((0, true)));
    ui.key(KeyCode::Backspace);
    assert!(ui.app.left_heavy.zoom.is_empty());
    assert_eq!(ui.status(), folded.describe(&chain[price_all]));
    assert_ne!(label_at(&ui, price_row, "price_all"), Some((0, true)));
    // Two zooms, then 0: the whole tree again, the selection kept.
    ui.enter();
    ui.chars("j");
    ui.enter();
    assert_eq!(ui.app.left_heavy.zoom.len(), 2);
    ui.chars("0");
    assert!(ui.app.left_heavy.zoom.is_empty());
    assert_eq!(ui.status(), folded.describe(child));
    assert_ne!(label_at(&ui, price_row, "price_all"), Some((0, true)));
}

/// `N matches, P% of total` from the second status line.
fn search_summary(ui: &Ui) -> (usize, String) {
    let line = ui.message();
    let (_, rest) = line
        .split_once(": ")
        .unwrap_or_else(|| panic!("no search summary in {line:?}"));
    let (count, rest) = rest.split_once(" matches, ").expect("N matches");
    let (share, _) = rest.split_once(" of total").expect("P% of total");
    (count.parse().expect("a count"), share.to_owned())
}

/// Whether a frame name matches, as the oracle decides.
type Matcher = dyn Fn(&str) -> bool;

#[test]
fn search_counts_matches_and_their_share_of_the_total() {
    let (mut ui, folded) = folded_ui(120, 40);
    let cases: [(&str, &Matcher); 5] = [
        ("apply_tax", &|n| n.contains("apply_tax")),
        ("discount|surcharge", &|n| {
            n.contains("discount") || n.contains("surcharge")
        }),
        ("iterencode", &|n| n.contains("iterencode")),
        ("^<module>$", &|n| n == "<module>"),
        ("δ_", &|n| n.contains("δ_")),
    ];
    for pane in ["1", "2"] {
        ui.chars(pane);
        for (regex, matches) in &cases {
            ui.search(regex);
            let (count, share) = folded.search(matches);
            assert!(count > 0, "{regex}");
            assert_eq!(
                search_summary(&ui),
                (count, format!("{:.1}%", 100.0 * share)),
                "/{regex}/ in pane {pane}: {}",
                ui.message()
            );
            assert!(ui.message().starts_with(&format!("/{regex}: ")));
        }
    }
    // A regex matching nothing, and a bad one.
    ui.search("no_such_function");
    assert_eq!(search_summary(&ui), (0, "0.0%".into()));
    ui.search("(");
    assert!(ui.message().starts_with("bad regex"), "{}", ui.message());
    // Esc in the prompt cancels: the previous search stays.
    ui.chars("/xyz");
    ui.esc();
    assert!(ui.app.prompt.is_none());
    assert_eq!(search_summary(&ui), (0, "0.0%".into()));
    // Backspace edits the prompt.
    ui.chars("/apply_taxx");
    ui.key(KeyCode::Backspace);
    ui.enter();
    assert_eq!(search_summary(&ui).0, folded.search(|n| n == "apply_tax").0);
}

#[test]
fn n_and_shift_n_cycle_through_matches_in_screen_order() {
    let (mut ui, folded) = folded_ui(120, 40);
    ui.chars("2");
    ui.search("discount|surcharge");
    let hits = folded.matches_in_screen_order(|n| n == "discount" || n == "surcharge");
    assert!(hits.len() > 3);
    let expected: Vec<String> = hits.iter().map(|p| folded.describe(p)).collect();
    let mut forward = Vec::new();
    for _ in 0..hits.len() {
        ui.chars("n");
        forward.push(ui.status());
    }
    assert_eq!(forward, expected);
    // Once more wraps to the first.
    ui.chars("n");
    assert_eq!(ui.status(), expected[0]);
    // N goes back, wrapping to the last.
    ui.chars("N");
    assert_eq!(ui.status(), *expected.last().unwrap());
    ui.chars("N");
    assert_eq!(ui.status(), expected[expected.len() - 2]);
    // The selected match is drawn highlighted on its row: the search keeps its summary line.
    assert!(ui.message().starts_with("/discount|surcharge: "));
}

#[test]
fn brackets_switch_between_two_files() {
    let paths = [
        common::fixture("program.folded"),
        common::fixture("program_slow.folded"),
    ];
    let mut ui = Ui::open(&paths, 120, 40);
    let fast = Folded::read(&paths[0]);
    let slow = Folded::read(&paths[1]);
    let summary = |f: &Folded| format!("folded stacks: samples · total {} ·", f.total);
    // Two files are a comparison: both are named, base first, with the profile shown.
    assert!(
        ui.tab_bar()
            .ends_with("program.folded ⇄ program_slow.folded [1/2]  ? help"),
        "{}",
        ui.tab_bar()
    );
    assert!(ui.message().starts_with(&summary(&fast)));
    ui.chars("2");
    ui.chars("]");
    assert!(
        ui.tab_bar().ends_with("program_slow.folded [2/2]  ? help"),
        "{}",
        ui.tab_bar()
    );
    assert!(
        ui.message().starts_with(&summary(&slow)),
        "{}",
        ui.message()
    );
    assert_eq!(ui.status(), slow.describe(&slow.heaviest_chain()[0]));
    ui.chars("j");
    assert_eq!(ui.status(), slow.describe(&slow.heaviest_chain()[1]));
    // Wraps around both ways.
    ui.chars("]");
    assert!(ui.tab_bar().contains("program_slow.folded [1/2]"));
    assert!(ui.message().starts_with(&summary(&fast)));
    ui.chars("[");
    assert!(ui.tab_bar().contains("program_slow.folded [2/2]"));
    ui.chars("[");
    assert!(ui.tab_bar().contains("program_slow.folded [1/2]"));
    assert_eq!(ui.status(), fast.describe(&fast.heaviest_chain()[0]));
    // A search follows the switch and is counted in the new file.
    ui.search("apply_tax");
    ui.chars("]");
    let (count, share) = slow.search(|n| n == "apply_tax");
    assert_eq!(
        search_summary(&ui),
        (count, format!("{:.1}%", 100.0 * share))
    );
}

#[test]
fn question_mark_shows_help_that_swallows_keys() {
    let (mut ui, folded) = folded_ui(80, 24);
    ui.chars("2");
    let before = ui.status();
    ui.chars("?");
    let text = ui.text();
    assert!(text.contains("keys (? or Esc closes)"), "{text}");
    // Every key the issue names, each at the start of a help cell.
    for key in [
        "1",
        "2",
        "3",
        "4",
        "Tab",
        "Shift-Tab",
        "↑ k",
        "↓ j",
        "← h",
        "→ l",
        "Enter",
        "Esc Backspace",
        "0",
        "/",
        "n",
        "N",
        "[",
        "]",
        "r",
        "f",
        "H",
        "t",
        "o",
        "?",
        "q Ctrl-C",
    ] {
        let shown = ui.lines().iter().any(|line| help_cell(line, key));
        assert!(shown, "help lacks {key:?}:\n{text}");
    }
    // Keys do nothing while it is open, except closing it.
    ui.chars("jj3");
    assert_eq!(ui.app.pane, Pane::LeftHeavy);
    assert!(ui.app.help);
    ui.chars("?");
    assert!(!ui.app.help);
    assert_eq!(ui.status(), before);
    assert_eq!(folded.describe(&folded.heaviest_chain()[0]), before);
    ui.chars("?");
    ui.esc();
    assert!(!ui.app.help);
    assert!(!ui.text().contains("keys (? or Esc closes)"));
}

/// Whether `line` holds `key` as a help cell: after a border or a space, before two spaces.
fn help_cell(line: &str, key: &str) -> bool {
    line.match_indices(key).any(|(at, _)| {
        let before = line[..at].chars().last();
        matches!(before, Some(' ' | '│')) && line[at + key.len()..].starts_with("  ")
    })
}

#[test]
fn r_collapses_recursion_and_back() {
    let (mut ui, folded) = folded_ui(120, 40);
    ui.chars("2");
    let summary = ui.message();
    ui.chars("r");
    assert_eq!(ui.message(), "recursion collapsed (r)");
    // Each stack keeps the first call of every function: discount↔surcharge fold into one
    // discount → surcharge pair.
    let collapsed = folded
        .filter_frames(|kept, frame| !kept.iter().any(|f| function_of(f) == function_of(frame)));
    let matches = |n: &str| n == "discount" || n == "surcharge";
    ui.search("^(discount|surcharge)$");
    let (count, share) = collapsed.search(matches);
    assert!(count < folded.search(matches).0);
    assert_eq!(
        search_summary(&ui),
        (count, format!("{:.1}%", 100.0 * share))
    );
    // Along the heaviest path nothing recurses: the same frames, the same numbers.
    ui.chars("/");
    ui.enter();
    assert_eq!(
        ui.status(),
        collapsed.describe(&collapsed.heaviest_chain()[0])
    );
    ui.chars("r");
    assert_eq!(ui.message(), summary);
    ui.search("^(discount|surcharge)$");
    assert_eq!(search_summary(&ui).0, folded.search(matches).0);
}

#[test]
fn f_focuses_on_a_function_and_escape_leaves() {
    let (mut ui, folded) = folded_ui(120, 40);
    ui.chars("2");
    let summary = ui.message();
    // Select `audit` with a search, then clear the search (empty regex).
    ui.search("^audit$");
    ui.chars("n");
    assert!(ui.status().starts_with("audit shop/pricing.py:"));
    ui.chars("/");
    ui.enter();
    assert!(ui.app.search.is_none());
    ui.chars("f");
    assert_eq!(ui.message(), "focused on audit (Esc leaves)");
    // Every stack through audit, from its outermost call down.
    let audit = ("audit".to_owned(), "shop/pricing.py".to_owned());
    let focused = Folded::from_lines(
        folded
            .lines
            .iter()
            .filter_map(|(stack, count)| {
                let at = stack.iter().position(|f| function_of(f) == audit)?;
                Some((stack[at..].to_vec(), *count))
            })
            .collect(),
    );
    let chain = focused.heaviest_chain();
    assert_eq!(
        ui.status(),
        folded_describe_in(&folded, &focused, &chain[0])
    );
    // audit spans the width on the first row.
    assert_eq!(label_at(&ui, 1, "audit"), Some((0, true)));
    for path in &chain[1..] {
        ui.chars("j");
        assert_eq!(ui.status(), folded_describe_in(&folded, &focused, path));
    }
    ui.esc();
    assert!(ui.app.options.focus.is_none());
    assert_eq!(ui.message(), summary);
    assert_eq!(ui.status(), folded.describe(&folded.heaviest_chain()[0]));
    // Sandwich kept `audit` selected when the search that filtered its table ended; f there
    // focuses on the selected row and shows Left Heavy.
    ui.chars("3");
    assert!(
        ui.status().starts_with("audit shop/pricing.py:"),
        "{}",
        ui.status()
    );
    ui.chars("k");
    let above = ui.status();
    ui.chars("f");
    assert_eq!(ui.app.pane, Pane::LeftHeavy);
    let name = above.split(' ').next().unwrap();
    assert_eq!(ui.message(), format!("focused on {name} (Esc leaves)"));
    assert!(
        ui.status().starts_with(&format!("{name} ")),
        "{}",
        ui.status()
    );
    assert_eq!(label_at(&ui, 1, name), Some((0, true)));
    ui.key(KeyCode::Backspace);
    assert_eq!(ui.message(), summary);
}

/// `describe` for a node of a derived tree, shares still of the whole profile's total.
fn folded_describe_in(whole: &Folded, derived: &Folded, path: &[String]) -> String {
    let scaled = Folded {
        total: whole.total,
        seconds: whole.seconds,
        nodes: derived.nodes.clone(),
        lines: Vec::new(),
    };
    scaled.describe(path)
}

#[test]
fn shift_h_hides_frames_by_regex_giving_their_time_to_callers() {
    let (mut ui, folded) = folded_ui(120, 40);
    ui.chars("2");
    let summary = ui.message();
    ui.chars("H");
    assert!(ui.message().starts_with("hide: ▏"), "{}", ui.message());
    ui.chars("^apply_tax$");
    ui.enter();
    let hidden: f64 = folded
        .nodes
        .iter()
        .filter(|(p, _)| p.last().is_some_and(|f| split_frame(f).0 == "apply_tax"))
        .map(|(_, w)| w.self_weight)
        .sum();
    assert_eq!(
        ui.message(),
        format!(
            "hiding /^apply_tax$/: {:.1}% of the total given to callers (H shows all)",
            100.0 * hidden / folded.total
        )
    );
    let without = folded.filter_frames(|_, f| split_frame(f).0 != "apply_tax");
    let chain = without.heaviest_chain();
    for (i, path) in chain.iter().enumerate() {
        if i > 0 {
            ui.chars("j");
        }
        assert_eq!(ui.status(), without.describe(path));
    }
    // price_all now holds apply_tax's time itself.
    assert!(ui.status().starts_with("price_all "), "{}", ui.status());
    ui.chars("H");
    assert_eq!(ui.message(), summary);
    assert!(ui.app.options.hidden.is_none());
}

/// The program's own files; everything else in the fixtures is the standard library or an
/// installed package (see fixtures/README.md).
fn is_program_file(file: &str) -> bool {
    file == "main.py" || file.starts_with("shop/") || file.contains("/obol-fixture-program/")
}

#[test]
fn shift_h_enter_hides_library_frames_of_a_py_spy_folded_file() {
    let (mut ui, folded) = folded_ui(120, 40);
    ui.chars("2H");
    ui.enter();
    let hidden: f64 = folded
        .nodes
        .iter()
        .filter(|(p, _)| {
            p.last()
                .is_some_and(|f| !is_program_file(&split_frame(f).1))
        })
        .map(|(_, w)| w.self_weight)
        .sum();
    assert_eq!(
        ui.message(),
        format!(
            "only my code: library frames hidden, {:.1}% of the total given to their callers (H shows all)",
            100.0 * hidden / folded.total
        )
    );
}

#[test]
fn t_on_a_single_profile_file_says_there_is_nothing_to_merge() {
    let (mut ui, _) = folded_ui(80, 24);
    ui.chars("t");
    assert_eq!(ui.message(), "this file has one profile: nothing to merge");
    assert!(!ui.app.options.merge_threads);
}

#[test]
fn y_asks_to_copy_the_selected_name_and_place() {
    let (mut ui, folded) = folded_ui(80, 24);
    ui.chars("2");
    for _ in 0..folded.heaviest_chain().len() {
        ui.chars("j");
    }
    let leaf = folded.heaviest_chain().pop().unwrap();
    // The selected frame's own place, as the status line shows it.
    let (name, file, line) = split_frame(leaf.last().unwrap());
    ui.chars("y");
    assert_eq!(
        ui.app.effect,
        Some(Effect::Copy(format!("{name} {file}:{line}")))
    );
}

/// Per function (name, file) of a folded file: (self, total), total counting a stack once.
fn function_weights(folded: &Folded) -> Vec<((String, String), f64, f64)> {
    let mut out: std::collections::BTreeMap<(String, String), (f64, f64)> = Default::default();
    for (stack, count) in &folded.lines {
        let mut seen = std::collections::BTreeSet::new();
        for frame in stack {
            let func = function_of(frame);
            if seen.insert(func.clone()) {
                out.entry(func.clone()).or_default().1 += count;
            }
        }
        if let Some(leaf) = stack.last() {
            out.entry(function_of(leaf)).or_default().0 += count;
        }
    }
    out.into_iter().map(|(k, (s, t))| (k, s, t)).collect()
}

/// The Sandwich table's rows on screen: (self, total, calls, name).
fn table_rows(ui: &Ui) -> Vec<(f64, f64, String, String)> {
    let width = usize::from(ui.app.sandwich.table_area.width);
    ui.lines()[2..usize::from(ui.size().1 - 2)]
        .iter()
        .map(|line| line.chars().take(width).collect::<String>())
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            (
                words[0].trim_end_matches('s').parse().expect("self"),
                words[2].trim_end_matches('s').parse().expect("total"),
                words[4].to_owned(),
                words[5..].join(" "),
            )
        })
        .collect()
}

/// `text` cut to `width` characters with an ellipsis, as tables cut names.
fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(width - 1).collect();
    out.push('…');
    out
}

#[test]
fn o_cycles_the_sandwich_sort_column() {
    let (mut ui, folded) = folded_ui(120, 40);
    ui.chars("3");
    // The table takes 3/5 of 120 columns; 36 go to the numbers, 36 are left for the name.
    let name_width = 72 - 36;
    let mut functions = function_weights(&folded);
    let header = |ui: &Ui| ui.row(1);
    let by_self = {
        functions.sort_by(|a, b| {
            b.1.total_cmp(&a.1)
                .then(b.2.total_cmp(&a.2))
                .then(a.0.cmp(&b.0))
        });
        functions.clone()
    };
    let mut totals: Vec<f64> = functions.iter().map(|f| f.2).collect();
    totals.sort_by(|a, b| b.total_cmp(a));
    let mut names: Vec<String> = functions.iter().map(|f| f.0.0.clone()).collect();
    names.sort();

    let shown = table_rows(&ui);
    let n = shown.len();
    assert_eq!(n, 36, "rows between the header and the status lines");
    assert!(header(&ui).starts_with("   self▼    %   total     %  calls  function "));
    let expected: Vec<(f64, f64, String, String)> = by_self[..n]
        .iter()
        .map(|f| (f.1, f.2, "-".to_owned(), cut(&f.0.0, name_width)))
        .collect();
    assert_eq!(shown, expected, "sorted by self, then total, then name");

    ui.chars("o");
    assert!(header(&ui).starts_with("   self     %   total▼    %  calls  function "));
    assert_eq!(
        table_rows(&ui).iter().map(|r| r.1).collect::<Vec<_>>(),
        totals[..n]
    );
    ui.chars("o");
    assert!(header(&ui).starts_with("   self     %   total     %  calls▼ function "));
    ui.chars("o");
    assert!(header(&ui).contains("function▼"), "{}", header(&ui));
    let cut_names: Vec<String> = names[..n].iter().map(|n| cut(n, name_width)).collect();
    assert_eq!(
        table_rows(&ui)
            .iter()
            .map(|r| r.3.clone())
            .collect::<Vec<_>>(),
        cut_names
    );
    ui.chars("o");
    assert!(header(&ui).starts_with("   self▼"));
    assert_eq!(table_rows(&ui), expected);
    // The status line names the selected row, in full; j moves down.
    ui.chars("j");
    let (second, file) = &by_self[1].0;
    assert!(
        ui.status().starts_with(&format!("{second} {file}:")),
        "{}",
        ui.status()
    );
}

#[test]
fn a_search_filters_the_sandwich_table_and_escape_clears_it() {
    let (mut ui, folded) = folded_ui(120, 40);
    ui.chars("3");
    let functions = function_weights(&folded);
    ui.search("discount|surcharge|δ");
    let mut expected: Vec<(f64, f64, String)> = functions
        .iter()
        .filter(|f| {
            ["discount", "surcharge", "δ"]
                .iter()
                .any(|s| f.0.0.contains(s))
        })
        .map(|f| (f.1, f.2, f.0.0.clone()))
        .collect();
    expected.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then(b.1.total_cmp(&a.1))
            .then(a.2.cmp(&b.2))
    });
    let shown: Vec<(f64, f64, String)> = table_rows(&ui)
        .into_iter()
        .map(|r| (r.0, r.1, r.3))
        .collect();
    assert_eq!(shown, expected);
    assert_eq!(ui.app.sandwich.visible.len(), expected.len());
    ui.chars("j");
    assert!(
        ui.status()
            .starts_with(&format!("{} shop/pricing.py:", expected[1].2))
    );
    ui.search("no_such_function");
    assert!(
        ui.row(2).starts_with("no function matches"),
        "{}",
        ui.row(2)
    );
    ui.esc();
    assert!(ui.app.search.is_none());
    assert_eq!(ui.app.sandwich.visible.len(), functions.len());
    assert!(ui.message().starts_with("folded stacks: "));
}

#[test]
fn enter_in_priority_opens_the_modules_heaviest_function_in_sandwich() {
    let (mut ui, folded) = folded_ui(120, 40);
    let functions = function_weights(&folded);
    ui.chars("4");
    let mut checked = Vec::new();
    for _ in 0..6 {
        let module = ui
            .status()
            .split(" · ")
            .next()
            .expect("module name")
            .to_owned();
        // A module's file as py-spy writes it.
        let path = module.replace('.', "/");
        let files = [
            format!("{path}.py"),
            format!("{path}/__init__.py"),
            format!("<frozen {module}>"),
        ];
        let own: Vec<_> = functions
            .iter()
            .filter(|f| files.contains(&f.0.1))
            .collect();
        ui.enter();
        if own.is_empty() {
            // `<string>` and the like: no file to find.
            ui.chars("4j");
            continue;
        }
        let most = own.iter().map(|f| f.1).fold(f64::MIN, f64::max);
        let heaviest: Vec<String> = own
            .iter()
            .filter(|f| f.1 == most)
            .map(|f| format!("{} {}:", f.0.0, f.0.1))
            .collect();
        assert_eq!(ui.app.pane, Pane::Sandwich, "{module}");
        assert_eq!(highlighted_tabs(&ui), [TABS[2]]);
        assert!(
            heaviest.iter().any(|h| ui.status().starts_with(h)),
            "{module}: expected one of {heaviest:?}, got {}",
            ui.status()
        );
        checked.push(module);
        ui.chars("4j");
    }
    assert!(checked.len() >= 4, "{checked:?}");
    assert_eq!(checked[0], "shop.pricing");
}

#[test]
fn a_terminal_too_small_says_so_and_resizing_back_redraws() {
    let (mut ui, folded) = folded_ui(80, 24);
    ui.chars("2j");
    let selected = folded.describe(&folded.heaviest_chain()[1]);
    assert_eq!(ui.status(), selected);
    ui.resize(39, 9);
    // The message wraps at 39 columns.
    let text = ui
        .lines()
        .iter()
        .map(|l| l.trim())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        text.contains("terminal too small: 39×9, obol needs 40×10"),
        "{text}"
    );
    // Keys still work while too small; nothing panics.
    ui.chars("jklh123?");
    ui.chars("?2");
    ui.resize(40, 9);
    assert!(ui.text().contains("too small"));
    ui.resize(39, 10);
    assert!(ui.text().contains("too small"));
    ui.resize(40, 10);
    assert!(!ui.text().contains("too small"));
    assert!(ui.tab_bar().starts_with(" 1 Flamegraph "));
    ui.resize(120, 40);
    assert_eq!(ui.size(), (120, 40));
    assert_eq!(ui.row(38), selected);
    assert!(
        ui.row(39)
            .starts_with("folded stacks: samples · total 405 ·")
    );
    assert!(ui.tab_bar().ends_with("program.folded  ? help"));
    // The flame graph fills the new width: <module> (393 of 405) covers 116 of 120 cells.
    assert!(ui.row(1).starts_with("<module>"));
    let cells = (393.0_f64 / 405.0 * 120.0).floor() as usize;
    assert!(
        ui.lines()[1]
            .chars()
            .skip(8)
            .take(cells - 8)
            .all(|c| c == ' '),
        "{}",
        ui.lines()[1]
    );
    // The frames after it (too narrow for labels) reach across the new width, up to the
    // root's own weight (py-spy's empty stacks) in the last cell.
    let tree = ui.app.profile().tree();
    let stacked = tree.total() - tree.self_weight(obol::profile::NodeId::ROOT);
    let expected = (stacked / tree.total() * f64::from(120 * 8)).floor() as u32;
    let layout = &ui.app.left_heavy.layout;
    let right_edge = layout
        .rects
        .iter()
        .filter(|r| r.depth == 0)
        .map(|r| r.x1)
        .max();
    assert_eq!(right_edge, Some(expected));
    // Resizing with the prompt open keeps it open.
    ui.chars("/ab");
    ui.resize(100, 30);
    assert!(ui.message().starts_with("/ab▏"));
}

#[test]
fn control_characters_in_names_are_escaped_on_screen() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("evil\x1b]0;title\x07.folded");
    std::fs::write(
        &path,
        "main (app.py:1);evil\x1b[2J (evil.py:2) 5\nmain (app.py:1);other (app.py:9) 1\n",
    )
    .expect("write");
    let mut ui = Ui::open(&[&path], 120, 40);
    let no_control = |ui: &Ui| {
        for line in ui.lines() {
            assert!(
                !line.chars().any(char::is_control),
                "a control character reached the screen: {line:?}"
            );
        }
    };
    no_control(&ui);
    assert!(
        ui.tab_bar().contains("evil\\x1b]0;title\\x07.folded"),
        "{}",
        ui.tab_bar()
    );
    for pane in ["1", "2"] {
        ui.chars(pane);
        ui.chars("0kkj");
        assert!(
            ui.status()
                .starts_with("evil\\x1b[2J evil.py:2 · self 5 (83.3%)"),
            "{}",
            ui.status()
        );
        assert!(ui.row(2).starts_with("evil\\x1b[2J"), "{}", ui.row(2));
        no_control(&ui);
    }
    ui.chars("3");
    assert!(ui.status().starts_with("evil\\x1b[2J evil.py:2"));
    assert!(ui.row(2).contains(" evil\\x1b[2J"), "{}", ui.row(2));
    no_control(&ui);
    // A search for it shows the regex as typed, and the count.
    ui.search("evil.\\[2J");
    assert!(
        ui.message()
            .starts_with("/evil.\\[2J: 1 matches, 83.3% of total"),
        "{}",
        ui.message()
    );
    ui.chars("4");
    no_control(&ui);
}

// Speedscope: Time Order and threads.

fn time_order_depth(ui: &Ui) -> usize {
    let tree = ui.app.tree_for(Pane::TimeOrder);
    ui.app.time_order.selected.map_or(0, |n| tree.depth(n))
}

#[test]
fn time_order_rows_keep_the_recorded_order() {
    let path = common::fixture("program.speedscope.json");
    let profiles = speedscope(&path);
    assert_eq!(profiles.len(), 1);
    let timeline = TimeOrder::build(&profiles[0].stacks);
    // Wide enough for the status lines' long paths.
    let mut ui = Ui::open(&[&path], 200, 40);
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
    let mut ui = Ui::open(&[&path], 120, 40);
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

const THREADS_TAB: &str = "program.threads.speedscope.json";

#[test]
fn brackets_switch_threads_of_one_file() {
    let path = common::fixture(THREADS_TAB);
    let profiles = speedscope(&path);
    assert_eq!(profiles.len(), 2);
    let mut ui = Ui::open(&[&path], 160, 40);
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
    let profiles = speedscope(&path);
    let mut all: Vec<(Vec<String>, f64)> = Vec::new();
    for p in &profiles {
        all.extend(p.stacks.iter().cloned());
    }
    let mut merged = Folded::from_lines(all);
    merged.seconds = true;
    let mut ui = Ui::open(&[&path], 160, 40);
    let summary = ui.message();
    ui.chars("t");
    assert_eq!(ui.message(), "all threads merged (t)");
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
    let profiles = speedscope(&path);
    let mut all: Vec<(Vec<String>, f64)> = Vec::new();
    for p in &profiles {
        all.extend(p.stacks.iter().cloned());
    }
    let mut merged = Folded::from_lines(all);
    merged.seconds = true;
    let mut ui = Ui::open(&[&path], 160, 40);
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
    let ui = Ui::open(&[&path], 160, 40);
    assert_eq!(ui.status(), timeline.describe(timeline.row(1)[0]));
}

// pstats: calls, and the oracle pstats itself wrote.

/// pstats' own numbers for program.prof (fixtures/oracle, made by Python's pstats).
struct PstatsFunction {
    name: String,
    file: String,
    line: u64,
    self_time: f64,
    total: f64,
    calls: u64,
}

fn pstats_oracle() -> (f64, Vec<PstatsFunction>) {
    let text = std::fs::read_to_string(common::fixtures().join("oracle/program.prof.json"))
        .expect("oracle reads");
    let doc = common::Json::parse(&text).expect("oracle parses");
    let functions = doc
        .get("functions")
        .array()
        .iter()
        .map(|f| PstatsFunction {
            name: f.get("name").str().to_owned(),
            file: f.get("file").str().to_owned(),
            line: f.get("line").opt_u64().expect("a line"),
            self_time: f.get("self").f64(),
            total: f.get("total").f64(),
            calls: f.get("calls").opt_u64().expect("calls"),
        })
        .collect();
    (doc.get("total").f64(), functions)
}

#[test]
fn sandwich_shows_pstats_numbers_and_calls() {
    let (total, mut functions) = pstats_oracle();
    // Wide enough for the longest status line.
    let mut ui = Ui::open(&[common::fixture("program.prof")], 200, 40);
    ui.chars("3");
    functions.sort_by(|a, b| {
        b.self_time
            .total_cmp(&a.self_time)
            .then(b.total.total_cmp(&a.total))
            .then((&a.name, &a.file, a.line).cmp(&(&b.name, &b.file, b.line)))
    });
    let pct = |x: f64| format!("{:.1}", 100.0 * x / total);
    let width = usize::from(ui.app.sandwich.table_area.width);
    let rows: Vec<String> = ui.lines()[2..38]
        .iter()
        .map(|l| {
            l.chars()
                .take(width)
                .collect::<String>()
                .trim_end()
                .to_owned()
        })
        .collect();
    let expected: Vec<String> = functions[..36]
        .iter()
        .map(|f| {
            format!(
                "{:>8}{:>5} {:>8}{:>5} {:>7} {}",
                format!("{:.3}s", f.self_time),
                pct(f.self_time),
                format!("{:.3}s", f.total),
                pct(f.total),
                f.calls,
                cut(&f.name, width - 36)
            )
        })
        .collect();
    assert_eq!(rows, expected);
    for f in &functions[..12] {
        assert_eq!(
            ui.status(),
            format!(
                "{} {}:{} · self {:.3}s ({}%) · total {:.3}s ({}%) · {} calls",
                f.name,
                f.file,
                f.line,
                f.self_time,
                pct(f.self_time),
                f.total,
                pct(f.total),
                f.calls
            )
        );
        ui.chars("j");
    }
    // Sorted by calls: most called first, ties by total.
    ui.chars("oo");
    assert!(ui.row(1).contains("calls▼"));
    let mut calls: Vec<u64> = functions.iter().map(|f| f.calls).collect();
    calls.sort_by(|a, b| b.cmp(a));
    let shown: Vec<u64> = table_rows(&ui)
        .iter()
        .map(|r| r.2.parse().expect("calls"))
        .collect();
    assert_eq!(shown, calls[..36]);
}

#[test]
fn enter_in_priority_opens_apply_tax_for_pricing() {
    let (_, functions) = pstats_oracle();
    let mut ui = Ui::open(&[common::fixture("program.prof")], 120, 40);
    ui.chars("4");
    // The profile names shop/__init__.py, so pricing.py is known to sit in package `shop`.
    assert!(
        ui.status().starts_with("shop.pricing · "),
        "{}",
        ui.status()
    );
    let heaviest = functions
        .iter()
        .filter(|f| f.file.ends_with("/shop/pricing.py"))
        .max_by(|a, b| a.self_time.total_cmp(&b.self_time))
        .unwrap();
    ui.enter();
    assert_eq!(ui.app.pane, Pane::Sandwich);
    assert!(
        ui.status().starts_with(&format!(
            "{} {}:{} ·",
            heaviest.name, heaviest.file, heaviest.line
        )),
        "{}",
        ui.status()
    );
}

#[test]
fn shift_h_enter_hides_library_frames_with_full_paths() {
    // pstats: library = every function outside the program (builtins `~`, the standard
    // library under /lib/python3.11, <frozen ...>).
    let (total, functions) = pstats_oracle();
    let hidden: f64 = functions
        .iter()
        .filter(|f| !is_program_file(&f.file) && f.file != "<string>")
        .map(|f| f.self_time)
        .sum();
    let mut ui = Ui::open(&[common::fixture("program.prof")], 120, 40);
    ui.chars("2H");
    ui.enter();
    let only_my_code = |share: f64| {
        format!(
            "only my code: library frames hidden, {:.1}% of the total given to their callers (H shows all)",
            100.0 * share
        )
    };
    assert_eq!(ui.message(), only_my_code(hidden / total));
    // speedscope: the same, over samples.
    let path = common::fixture("program.speedscope.json");
    let tree = speedscope(&path)[0].tree();
    let hidden: f64 = tree
        .nodes
        .iter()
        .filter(|(p, _)| {
            p.last()
                .is_some_and(|f| !is_program_file(&split_frame(f).1))
        })
        .map(|(_, w)| w.self_weight)
        .sum();
    let mut ui = Ui::open(&[&path], 120, 40);
    ui.chars("2H");
    ui.enter();
    assert_eq!(ui.message(), only_my_code(hidden / tree.total));
    // What is left is the program's own frames only.
    ui.search("^_find_and_load$|^dumps$|encode");
    assert_eq!(search_summary(&ui).0, 0);
}

// Labels.

const BLOCKS: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/// Checks that every frame covering at least four whole cells on screen is labelled with its name, or a
/// prefix of it cut with `…`, within its own cells: no neighbour or mark writes over it.
fn assert_labels_whole(ui: &Ui, what: &str) {
    let pane = ui.app.pane;
    let view = if pane == Pane::TimeOrder {
        &ui.app.time_order
    } else {
        &ui.app.left_heavy
    };
    let tree = ui.app.tree_for(pane);
    let frames = &ui.app.set().frames;
    let lines: Vec<Vec<char>> = ui.lines().iter().map(|l| l.chars().collect()).collect();
    let mut checked = 0;
    for rect in &view.layout.rects {
        let (first, last) = rect.cells();
        let whole_cells = (rect.x1 / 8).saturating_sub(rect.x0.div_ceil(8));
        if whole_cells < 4 || rect.depth < view.scroll {
            continue;
        }
        let y = view.area.y + rect.depth - view.scroll;
        if y >= view.area.bottom() {
            continue;
        }
        let name = &frames.frame(tree.frame(rect.node).unwrap()).name;
        let cells: String = lines[usize::from(y)]
            [first as usize..=(last as usize).min(lines[0].len() - 1)]
            .iter()
            .collect();
        let label = cells.trim_matches(|c| BLOCKS.contains(&c));
        let whole = label == name.as_str();
        let cut = label
            .strip_suffix('…')
            .is_some_and(|prefix| !prefix.is_empty() && name.starts_with(prefix));
        assert!(
            whole || cut,
            "{what}: the frame {name:?} (cells {first}..={last}, row {y}) reads {cells:?}"
        );
        checked += 1;
    }
    assert!(checked > 10, "{what}: only {checked} frames checked");
}

fn labels_case(support: obol::tui::theme::ColorSupport) {
    for (fixture, width, height) in [("program.folded", 120, 40), ("program.prof", 80, 24)] {
        let mut ui = Ui::open_with(&[common::fixture(fixture)], width, height, support);
        for pane in ["1", "2"] {
            ui.chars(pane);
            assert_labels_whole(&ui, &format!("{fixture} pane {pane} {support:?}"));
        }
    }
}

#[test]
fn flame_labels_are_names_or_cut_with_an_ellipsis_in_colour() {
    labels_case(obol::tui::theme::ColorSupport::Indexed);
    labels_case(obol::tui::theme::ColorSupport::TrueColor);
}

#[test]
fn flame_labels_are_names_or_cut_with_an_ellipsis_without_colour() {
    labels_case(obol::tui::theme::ColorSupport::None);
}

// SVG: inferno's drawing of program.folded.

#[test]
fn an_inferno_svg_shows_the_folded_file_it_was_drawn_from() {
    // inferno leaves out py-spy's empty stacks (samples taken as the process exits).
    let folded = Folded::read(&common::fixture("program.folded"));
    let drawn = Folded::from_lines(
        folded
            .lines
            .iter()
            .filter(|(stack, _)| !stack.is_empty())
            .cloned()
            .collect(),
    );
    let mut ui = Ui::open(&[common::fixture("program.inferno.svg")], 120, 40);
    assert!(
        ui.message().starts_with(&format!(
            "flamegraph SVG: samples · total {} ·",
            drawn.total
        )),
        "{}",
        ui.message()
    );
    ui.chars("2");
    let chain = drawn.heaviest_chain();
    assert_eq!(ui.status(), drawn.describe(&chain[0]));
    for path in &chain[1..] {
        ui.chars("j");
        assert_eq!(ui.status(), drawn.describe(path));
    }
    ui.search("discount|surcharge");
    let (count, share) = drawn.search(|n| n == "discount" || n == "surcharge");
    assert_eq!(
        search_summary(&ui),
        (count, format!("{:.1}%", 100.0 * share))
    );
}

#[test]
fn mouse_click_selects_double_click_zooms_and_e_asks_for_the_editor() {
    let (mut ui, _) = folded_ui(120, 40);
    ui.chars("2");
    // A frame of the fifth row (depth 4), clicked in the middle of the cells it covers.
    let rect = *ui
        .app
        .left_heavy
        .layout
        .rects
        .iter()
        .find(|r| r.depth == 4 && r.x1 - r.x0 >= 16)
        .expect("a frame wide enough to click");
    let area = ui.app.left_heavy.area;
    let column = area.x + ((rect.x0 + rect.x1) / 16) as u16;
    let row = area.y + rect.depth - ui.app.left_heavy.scroll;
    ui.app.update(Action::Click { column, row });
    assert_eq!(ui.app.left_heavy.selected, Some(rect.node));
    ui.app.update(Action::DoubleClick { column, row });
    assert_eq!(ui.app.left_heavy.zoom, vec![rect.node]);
    // `e` asks the loop to open the selected frame's file at its own line.
    let tree = ui.app.profile().tree();
    let frame = ui
        .app
        .set()
        .frames
        .frame(tree.frame(rect.node).unwrap())
        .clone();
    ui.chars("e");
    assert_eq!(
        ui.app.effect,
        Some(Effect::Edit {
            file: frame.file.unwrap(),
            line: frame.line
        })
    );
}
