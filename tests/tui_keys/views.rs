//! Derived views: recursion collapsed, focus, hidden frames, merged threads, copy.

use super::*;

#[test]
fn f_focuses_on_a_function_and_escape_leaves() {
    let (mut ui, folded) = folded_ui(120, 40);
    ui.chars("2");
    let summary = ui.message();
    // Select `audit` with a search, then clear the search (empty regex).
    ui.search("^audit$");
    ui.chars("n");
    assert!(status_names(&ui.status(), "audit", "shop/pricing.py"));
    ui.chars("/");
    ui.enter();
    assert!(ui.app.search.is_none());
    ui.chars("f");
    assert_badge(&ui, " f focus: audit");
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
    assert!(ui.app.options().focus.is_none());
    assert_eq!(ui.message(), summary);
    // The selection outlives the focus: the same call path from audit down, at its heaviest
    // place in the whole tree.
    let last = chain.last().unwrap();
    let same_path = folded
        .nodes
        .iter()
        .filter(|(path, _)| path.ends_with(last))
        .max_by(|a, b| a.1.total.total_cmp(&b.1.total))
        .map(|(path, _)| path.clone())
        .unwrap();
    assert_eq!(ui.status(), folded.describe(&same_path));
    // Sandwich opens on the function selected in Left Heavy; f there focuses on the selected
    // row and shows Left Heavy.
    ui.chars("3");
    let (name, file) = function_of(same_path.last().unwrap());
    assert!(status_names(&ui.status(), &name, &file), "{}", ui.status());
    ui.chars("k");
    let above = ui.status();
    ui.chars("f");
    assert_eq!(ui.app.pane, Pane::LeftHeavy);
    let name = above.split(' ').next().unwrap();
    assert_badge(&ui, &format!(" f focus: {}", cut(name, 30)));
    assert!(
        ui.status().starts_with(&format!("{name} ")),
        "{}",
        ui.status()
    );
    assert_eq!(label_at(&ui, 1, name), Some((0, true)));
    ui.key(KeyCode::Backspace);
    assert_eq!(ui.message(), summary);
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
    assert_badge(
        &ui,
        &format!(
            " H hiding /^apply_tax$/ ({:.1}% to callers)",
            100.0 * hidden / folded.total
        ),
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
    assert!(!ui.badges().contains(" H "), "{}", ui.badges());
    assert!(ui.app.options().hidden.is_none());
}

#[test]
fn shift_h_enter_hides_library_frames_of_a_py_spy_folded_file() {
    let (mut ui, folded) = folded_ui(120, 40);
    ui.chars("2H");
    ui.enter();
    let hidden = library_self_weight(&folded);
    assert_badge(
        &ui,
        &format!(
            " H only my code ({:.1}% to callers)",
            100.0 * hidden / folded.total
        ),
    );
}

#[test]
fn t_on_a_single_profile_file_says_there_is_nothing_to_merge() {
    let (mut ui, _) = folded_ui(80, 24);
    ui.chars("t");
    assert_eq!(ui.message(), "this file has one profile: nothing to merge");
    assert!(!ui.app.options().merge_threads);
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
