//! The Source pane (5) through the real key table, `App::update` and `panes::render`: figures
//! against sums this test makes from the folded file's lines, n/N between sampled lines, Enter to
//! the heaviest callee and Esc back, a missing source, pstats' callee edges, and snapshots (one
//! with colours, where the heat bars carry meaning).

mod common;
#[path = "common/tmux.rs"]
mod tmux;
#[path = "common/tui.rs"]
mod tui;

use std::collections::BTreeMap;

use obol::tui::theme::ColorSupport;
use tui::Ui;

/// Per line of `name`: (self, total) from the folded file, a stack counted once at the
/// function's outermost frame for total and at its leaf for self.
fn folded_lines(name: &str) -> BTreeMap<u32, (f64, f64)> {
    folded_lines_hiding(name, &[])
}

/// [`folded_lines`] with the frames of the functions `hidden` taken out of every stack.
fn folded_lines_hiding(name: &str, hidden: &[&str]) -> BTreeMap<u32, (f64, f64)> {
    let text = std::fs::read_to_string(common::fixture("program.folded")).unwrap();
    let mut lines: BTreeMap<u32, (f64, f64)> = BTreeMap::new();
    for row in text.lines() {
        let (stack, count) = row.rsplit_once(' ').unwrap();
        let count: f64 = count.parse().unwrap();
        let frames: Vec<(String, u32)> = stack
            .split(';')
            .filter(|f| !f.is_empty())
            .map(|f| {
                let (n, place) = f.rsplit_once(" (").unwrap();
                let line = place.trim_end_matches(')').rsplit_once(':').unwrap().1;
                (n.to_owned(), line.parse().unwrap())
            })
            .filter(|(n, _)| !hidden.contains(&n.as_str()))
            .collect();
        if let Some((_, line)) = frames.iter().find(|(n, _)| n == name) {
            lines.entry(*line).or_default().1 += count;
        }
        if let Some((n, line)) = frames.last()
            && n == name
        {
            lines.entry(*line).or_default().0 += count;
        }
    }
    lines
}

/// The program's folded profile with its sources found, Left Heavy walked down to run_round.
fn at_run_round(support: ColorSupport) -> Ui {
    let mut ui = Ui::open_with(&[common::fixture("program.folded")], 120, 40, support);
    ui.app.session.source_roots = vec![common::fixture("program")];
    ui.chars("2jjjj");
    assert!(ui.status().starts_with("run_round"), "{}", ui.status());
    ui
}

/// The screen row drawing line `n` of the file.
fn line_row(ui: &Ui, n: u32) -> String {
    let mark = format!("{n:>6} │");
    ui.lines()
        .into_iter()
        .find(|l| l.contains(&mark))
        .unwrap_or_else(|| panic!("line {n} on screen:\n{}", ui.text()))
}

/// Line `line`'s row shows self (when not zero) and total, each with its share of `total`.
fn assert_line_figures(ui: &Ui, line: u32, s: f64, t: f64, total: f64) {
    let row = line_row(ui, line);
    let cells: Vec<&str> = row.split('│').next().unwrap().split_whitespace().collect();
    let mut expected = Vec::new();
    if s > 0.0 {
        expected.push(format!("{s}"));
        expected.push(format!("{:.1}%", 100.0 * s / total));
    }
    expected.push(format!("{t}"));
    expected.push(format!("{:.1}%", 100.0 * t / total));
    // The heat bar's cells and the line number follow the figures.
    assert_eq!(
        &cells[..expected.len()],
        expected.as_slice(),
        "line {line}: {row}"
    );
}

#[test]
fn lines_carry_the_folded_sums_and_the_hottest_self_line_is_selected() {
    let mut ui = at_run_round(ColorSupport::None);
    ui.chars("5");
    let want = folded_lines("run_round");
    let total = 405.0;
    assert!(ui.row(1).starts_with("run_round  "), "{}", ui.row(1));
    for (&line, &(s, t)) in &want {
        assert_line_figures(&ui, line, s, t, total);
    }
    let hottest = want
        .iter()
        .max_by(|a, b| a.1.0.total_cmp(&b.1.0).then(b.0.cmp(a.0)))
        .map(|(&l, _)| l)
        .unwrap();
    assert!(
        ui.status()
            .starts_with(&format!("run_round line {hottest} ")),
        "{}",
        ui.status()
    );
    insta::assert_snapshot!("source_folded_120x40_run_round", ui.terminal.backend());
    // n and N go from sampled line to sampled line.
    let sampled: Vec<u32> = want.keys().copied().collect();
    let at = sampled.iter().position(|&l| l == hottest).unwrap();
    ui.chars("n");
    let next = sampled[(at + 1) % sampled.len()];
    assert!(ui.status().starts_with(&format!("run_round line {next} ")));
    ui.chars("NN");
    let before = sampled[(at + sampled.len() - 1) % sampled.len()];
    assert!(
        ui.status()
            .starts_with(&format!("run_round line {before} "))
    );
}

#[test]
fn enter_opens_the_heaviest_callee_and_esc_comes_back() {
    let mut ui = at_run_round(ColorSupport::None);
    ui.chars("5");
    // Line 35 (`report.to_json(...)`) is the line with the most self weight; it calls to_json.
    assert!(
        ui.status().starts_with("run_round line 35 "),
        "{}",
        ui.status()
    );
    ui.enter();
    assert!(ui.row(1).starts_with("to_json  "), "{}", ui.row(1));
    // to_json has no self weight: the line with the most total is selected.
    let want = folded_lines("to_json");
    assert!(want.values().all(|f| f.0 == 0.0));
    let hottest = want
        .iter()
        .max_by(|a, b| a.1.1.total_cmp(&b.1.1).then(b.0.cmp(a.0)))
        .map(|(&l, _)| l)
        .unwrap();
    assert!(ui.status().starts_with(&format!("to_json line {hottest} ")));
    // Other functions of report.py that were sampled are marked too.
    let others = folded_lines("totals");
    let (&line, &(s, _)) = others.iter().find(|(_, f)| f.0 > 0.0).unwrap();
    let row = line_row(&ui, line);
    assert!(row.trim_start().starts_with(&format!("{s} ")), "{row}");
    ui.esc();
    assert!(ui.row(1).starts_with("run_round  "), "{}", ui.row(1));
}

/// Hiding frames (H) changes the lines' figures as it changes the other panes': apply_tax's
/// own weight goes to the line of price_all that called it.
#[test]
fn hidden_frames_move_their_weight_to_the_calling_line() {
    let mut ui = at_run_round(ColorSupport::None);
    ui.chars("5");
    ui.chars("N");
    assert!(
        ui.status().starts_with("run_round line 34 "),
        "{}",
        ui.status()
    );
    ui.chars("NN");
    assert!(
        ui.status().starts_with("run_round line 32 "),
        "{}",
        ui.status()
    );
    ui.enter();
    assert!(ui.row(1).starts_with("price_all  "), "{}", ui.row(1));
    ui.chars("H");
    ui.chars("^apply_tax$");
    ui.enter();
    let want = folded_lines_hiding("price_all", &["apply_tax"]);
    assert_ne!(want, folded_lines("price_all"));
    let (s, t) = want[&48];
    assert_line_figures(&ui, 48, s, t, 405.0);
}

/// Focused on run_round (`f`), its own lines keep their figures (every one of its samples is
/// in the focus), though the flame panes draw it as one root.
#[test]
fn a_focused_function_keeps_its_lines() {
    let mut ui = at_run_round(ColorSupport::None);
    ui.chars("f5");
    assert!(ui.row(1).starts_with("run_round  "), "{}", ui.row(1));
    for (&line, &(s, t)) in &folded_lines("run_round") {
        assert_line_figures(&ui, line, s, t, 405.0);
    }
}

#[test]
fn the_heat_bars_in_colour() {
    let mut ui = at_run_round(ColorSupport::Indexed);
    ui.chars("5");
    insta::assert_snapshot!("source_folded_120x40_styled", ui.styled());
}

#[test]
fn a_missing_source_still_lists_the_sampled_lines() {
    let mut ui = Ui::open(&[common::fixture("program.folded")], 120, 40);
    ui.chars("2jjjj5");
    assert!(
        ui.row(1).contains("main.py: source not found"),
        "{}",
        ui.row(1)
    );
    for line in folded_lines("run_round").keys() {
        line_row(&ui, *line);
    }
    insta::assert_snapshot!("source_folded_120x40_missing", ui.terminal.backend());
}

#[test]
fn pstats_shows_callee_edges_under_their_lines() {
    let mut ui = Ui::open(&[common::fixture("program.prof")], 120, 40);
    ui.app.session.source_roots = vec![common::fixture("program")];
    ui.chars("2");
    for _ in 0..8 {
        if ui.status().starts_with("run_round") {
            break;
        }
        ui.chars("j");
    }
    assert!(ui.status().starts_with("run_round"), "{}", ui.status());
    ui.chars("5");
    let text = ui.text();
    assert!(
        text.contains("↳ 70 calls  tottime 0.104s  cumtime 1.784s  ")
            && text.contains("(price_all)"),
        "{text}"
    );
    insta::assert_snapshot!("source_pstats_120x40_run_round", ui.terminal.backend());
}

/// The real binary in tmux: 5 shows the source, n moves to the next sampled line, Enter opens
/// the heaviest callee's source and Esc comes back; q quits.
#[test]
fn source_pane_by_keys_in_a_real_terminal() {
    let Some(tmux) = program_folded_in_tmux("source") else {
        return;
    };
    tmux.wait_for_text("folded stacks: samples");
    tmux.send(&["2", "j", "j", "j", "j"]);
    tmux.wait_for_text("run_round · self");
    tmux.send(&["5"]);
    tmux.wait_for_text("run_round line 35 · self 3 (0.7%) · total 93 (23.0%) · calls to_json");
    let want = folded_lines("run_round");
    let next = *want.range(36..).next().unwrap().0;
    tmux.send(&["n"]);
    tmux.wait_for_text(&format!("run_round line {next} "));
    tmux.send(&["N", "Enter"]);
    // The whole frame, not its first lines drawn (a capture can land mid-frame).
    tmux.wait_for("to_json's source down to line 21", |s| {
        s.contains("to_json  shop/report.py") && s.contains("    21 │     return json.dumps(")
    });
    tmux.escape();
    tmux.wait_for_text("run_round  main.py");
    tmux.send(&["q"]);
    tmux.wait_for("obol to quit", |_| tmux.display("#{pane_dead}") == "1");
}

/// A search in Sandwich moves the row under the cursor; `5` then shows that row's function, not
/// the one selected before the search. The oracle: the one function the pattern names, with its
/// file from the folded file's own frames.
#[test]
fn source_after_a_search_in_sandwich_shows_the_row_found() {
    let path = common::fixture("program.folded");
    let text = std::fs::read_to_string(&path).unwrap();
    let file = text
        .split([';', '\n'])
        .find_map(|frame| frame.strip_prefix("format_line ("))
        .and_then(|rest| rest.split(':').next())
        .unwrap()
        .to_owned();
    let Some(tmux) = program_folded_in_tmux("sourcesearch") else {
        return;
    };
    tmux.wait_for_text("folded stacks: samples");
    tmux.send(&["3"]);
    let screen = tmux.wait_for_text("Sandwich");
    tmux.send(&["/"]);
    tmux.type_text("format_line");
    tmux.send(&["Enter"]);
    tmux.wait_for_text("1 match");
    assert!(!screen.contains("format_line ·"), "{screen}");
    tmux.send(&["5"]);
    tmux.wait_for_text(&format!("format_line  {file}"));
    tmux.send(&["q"]);
    tmux.wait_for("obol to quit", |_| tmux.display("#{pane_dead}") == "1");
}

/// `program.folded` in obol at 120×40 in tmux, its sources found under `fixtures/program`.
fn program_folded_in_tmux(test: &str) -> Option<tmux::Tmux> {
    let path = common::fixture("program.folded");
    let roots = common::fixture("program");
    tmux::Tmux::start_sized(
        test,
        120,
        40,
        &[
            tmux::obol(),
            path.to_str().unwrap(),
            "--source-root",
            roots.to_str().unwrap(),
        ],
    )
}
