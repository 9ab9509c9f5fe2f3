//! Search, switching files and the help overlay.

use super::*;

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
    let mut ui = Ui::open_by_line(&paths, 120, 40);
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
    assert!(text.contains("(? or Esc closes)"), "{text}");
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
    assert!(!ui.text().contains("(? or Esc closes)"));
}

#[test]
fn r_collapses_recursion_and_back() {
    let (mut ui, folded) = folded_ui(120, 40);
    ui.chars("2");
    let summary = ui.message();
    ui.chars("r");
    assert_badge(&ui, " r recursion collapsed");
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
