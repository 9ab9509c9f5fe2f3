//! The Sandwich table, Priority's jump into it, small terminals and escaped names.

use super::*;

#[test]
fn o_cycles_the_sandwich_sort_column() {
    let (mut ui, folded) = folded_ui(120, 40);
    ui.chars("3");
    // The table takes 3/5 of 120 columns; 36 go to the numbers, 36 are left for the name.
    // The table's name column: a sampled file has no calls column, and repeated names
    // (`<module>`) bring the file column.
    let name_width = ui.app.sandwich.columns.name;
    assert!(ui.app.sandwich.columns.calls.is_none());
    assert!(ui.app.sandwich.columns.file.is_some());
    let header = |ui: &Ui| ui.row(1);
    let by_self = functions_by_self(&folded);
    let mut totals: Vec<f64> = by_self.iter().map(|f| f.2).collect();
    totals.sort_by(|a, b| b.total_cmp(a));
    let mut names: Vec<String> = by_self.iter().map(|f| f.0.0.clone()).collect();
    names.sort();

    let shown = table_rows(&ui);
    let n = shown.len();
    assert_eq!(
        n,
        usize::from(ui.app.body().height) - 1,
        "rows between the header and the badge and status lines"
    );
    assert!(
        header(&ui).starts_with(" self▼     %  total     % function "),
        "{}",
        header(&ui)
    );
    let expected: Vec<(f64, f64, String, String)> = by_self[..n]
        .iter()
        .map(|f| (f.1, f.2, "-".to_owned(), cut(&f.0.0, name_width)))
        .collect();
    assert_eq!(shown, expected, "sorted by self, then total, then name");

    // A sort keeps the selected function, scrolling the table to it.
    let selected = ui.status();
    ui.chars("o");
    assert!(
        header(&ui).starts_with("  self     % total▼     % function "),
        "{}",
        header(&ui)
    );
    let offset = ui.app.sandwich.offset;
    assert_eq!(
        table_rows(&ui).iter().map(|r| r.1).collect::<Vec<_>>(),
        totals[offset..offset + n]
    );
    assert_eq!(ui.status(), selected);
    // No calls column (a sampled file counts none): no sort by calls either.
    ui.chars("o");
    assert!(header(&ui).contains("function▼"), "{}", header(&ui));
    assert_eq!(ui.status(), selected);
    let offset = ui.app.sandwich.offset;
    let cut_names: Vec<String> = names[offset..offset + n]
        .iter()
        .map(|n| cut(n, name_width))
        .collect();
    assert_eq!(
        table_rows(&ui)
            .iter()
            .map(|r| r.3.clone())
            .collect::<Vec<_>>(),
        cut_names
    );
    ui.chars("o");
    assert!(header(&ui).starts_with(" self▼ "), "{}", header(&ui));
    assert_eq!(table_rows(&ui), expected);
    // The status line names the selected row, in full; j moves down.
    ui.chars("j");
    let (second, file) = &by_self[1].0;
    assert!(status_names(&ui.status(), second, file), "{}", ui.status());
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
    assert!(status_names(
        &ui.status(),
        &expected[1].2,
        "shop/pricing.py"
    ));
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
            .map(|f| format!("{} {}", f.0.0, f.0.1))
            .collect();
        assert_eq!(ui.app.pane, Pane::Sandwich, "{module}");
        assert_eq!(highlighted_tabs(&ui), [TABS[2]]);
        assert!(
            own.iter()
                .filter(|f| f.1 == most)
                .any(|f| status_names(&ui.status(), &f.0.0, &f.0.1)),
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
    // Short of room, the tabs not shown keep their number only.
    assert!(
        ui.tab_bar().starts_with(" 1   2 Left Heavy   3 "),
        "{}",
        ui.tab_bar()
    );
    ui.resize(120, 40);
    assert_eq!(ui.size(), (120, 40));
    assert_eq!(ui.row(38), selected);
    assert!(ui.row(39).starts_with(&format!(
        "folded stacks: samples · total {} ·",
        folded.total
    )));
    assert!(ui.tab_bar().ends_with("program.folded  ? help"));
    // The flame graph fills the new width: <module> covers its share of the 120 cells.
    assert!(ui.row(1).starts_with("<module>"));
    let module = folded
        .children(&[])
        .into_iter()
        .find(|path| path[0].starts_with("<module> "))
        .expect("a <module> root frame");
    let cells = (folded.get(&module).total / folded.total * 120.0).floor() as usize;
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
    let mut ui = Ui::open_by_line(&[&path], 120, 40);
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
            ui.status().starts_with("evil\\x1b[2J · self 5 (83.3%)")
                && ui.status().ends_with(" · evil.py:2"),
            "{}",
            ui.status()
        );
        assert!(ui.row(2).starts_with("evil\\x1b[2J"), "{}", ui.row(2));
        no_control(&ui);
    }
    ui.chars("3");
    assert!(status_names(&ui.status(), "evil\\x1b[2J", "evil.py"));
    assert!(ui.row(2).contains(" evil\\x1b[2J"), "{}", ui.row(2));
    no_control(&ui);
    // A search for it shows the regex as typed, and the count.
    ui.search("evil.\\[2J");
    assert!(
        ui.message()
            .starts_with("/evil.\\[2J: 1 match among functions, 83.3% of the file"),
        "{}",
        ui.message()
    );
    ui.chars("4");
    no_control(&ui);
}
