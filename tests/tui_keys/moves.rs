//! Moving the selection, switching panes and zooming.

use super::*;

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
    let (mut ui, folded) = folded_ui(80, 24);
    assert_eq!(highlighted_tabs(&ui), [TABS[0]]);
    assert!(ui.tab_bar().ends_with("program.folded  ? help"));
    for (key, index) in [('2', 1), ('3', 2), ('4', 3), ('1', 0), ('4', 3)] {
        ui.chars(&key.to_string());
        assert_eq!(ui.app.pane, Pane::ALL[index]);
        assert_eq!(highlighted_tabs(&ui), [TABS[index]], "after {key}");
    }
    // From 4, Tab goes to 5 and wraps to 1, then 2; Shift-Tab goes back 1, then wraps to 5.
    for (code, index) in [
        (KeyCode::Tab, 4),
        (KeyCode::Tab, 0),
        (KeyCode::Tab, 1),
        (KeyCode::BackTab, 0),
        (KeyCode::BackTab, 4),
        (KeyCode::BackTab, 3),
        (KeyCode::BackTab, 2),
    ] {
        ui.key(code);
        assert_eq!(highlighted_tabs(&ui), [TABS[index]], "after {code:?}");
    }
    // Sandwich's status names the table's first row: the heaviest function by self time,
    // counted from the fixture's lines.
    let ((name, file), self_weight, _) = &functions_by_self(&folded)[0];
    let share = 100.0 * self_weight / folded.total;
    let status = ui.status();
    assert!(status_names(&status, name, file), "{status}");
    assert!(
        status.contains(&format!(" · self {self_weight} ({share:.1}%)")),
        "{status}"
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
    // Its children share the width in proportion to their totals.
    let child = &chain[price_all + 1];
    let share = folded.get(child).total / folded.get(&chain[price_all]).total;
    let row = ui.lines()[usize::from(price_row + 1)].clone();
    let child_name = split_frame(child.last().unwrap()).0;
    assert!(row.starts_with(&child_name), "{row}");
    // Zooming to the same frame again changes nothing.
    ui.enter();
    assert_eq!(ui.app.left_heavy.zoom.len(), 1);
    // Its width in cells: up to the first cell where another label or a gap starts.
    let cells = (share * 120.0).floor() as usize;
    assert!(
        row.chars()
            .take(cells - 1)
            .skip(child_name.chars().count())
            .all(|c| c == ' '),
        "{child_name} should cover {cells} cells: {row:?}"
    );
    ui.chars("j");
    assert_eq!(ui.status(), folded.describe(child));
    ui.enter();
    assert_eq!(ui.app.left_heavy.zoom.len(), 2);
    assert_eq!(label_at(&ui, price_row + 1, &child_name), Some((0, true)));
    // Esc: back to price_all's zoom, the selection on the frame zoomed out of.
    ui.esc();
    assert_eq!(ui.app.left_heavy.zoom.len(), 1);
    assert_eq!(ui.status(), folded.describe(child));
    assert_eq!(label_at(&ui, price_row, "price_all"), Some((0, true)));
    assert_ne!(label_at(&ui, price_row + 1, &child_name), Some((0, true)));
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
