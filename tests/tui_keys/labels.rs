//! Flame labels, an inferno SVG, the mouse and the editor.

use super::*;

#[test]
fn flame_labels_are_names_or_cut_with_an_ellipsis_in_colour() {
    labels_case(obol::tui::theme::ColorSupport::Indexed);
    labels_case(obol::tui::theme::ColorSupport::TrueColor);
}

#[test]
fn flame_labels_are_names_or_cut_with_an_ellipsis_without_colour() {
    labels_case(obol::tui::theme::ColorSupport::None);
}

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
    let mut ui = Ui::open_by_line(&[common::fixture("program.inferno.svg")], 120, 40);
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
    // Frames by line, so that `e` opens the frame's own line.
    ui.chars("L2");
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
    let tree = ui
        .app
        .tree_for(Pane::LeftHeavy)
        .expect("the view is derived");
    let frame = ui.app.set().frames.frame(tree.frame(rect.node).unwrap());
    let (file, line) = (frame.file.unwrap().to_owned(), frame.line);
    ui.chars("e");
    assert_eq!(
        ui.app.effect,
        Some(Effect::Edit {
            file,
            line,
            source_roots: Vec::new(),
            editor: None,
        })
    );
}
