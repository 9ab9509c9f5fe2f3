//! Scripted key sequences through the real key table and `App::update`, checked on the rendered
//! screen against oracles computed here from the fixtures' text.

#[path = "../common/mod.rs"]
mod common;
#[path = "../common/tui.rs"]
mod tui;

mod labels;
mod moves;
mod pstats;
mod sandwich;
mod search_help;
mod speedscope;
mod views;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyEventState, KeyModifiers};
use obol::tui::action::{Action, Pane};
use obol::tui::effects::Effect;
use ratatui::style::Modifier;
use tui::{Folded, TimeOrder, Ui, function_of, speedscope, split_frame};

/// Asserts that the badge line shows `text` as one of its badges.
fn assert_badge(ui: &Ui, text: &str) {
    assert!(has_badge(ui, text), "{text:?} among {:?}", ui.badges());
}

/// Whether the badge line shows `text` as one of its badges.
fn has_badge(ui: &Ui, text: &str) -> bool {
    ui.badges().split("  ").any(|b| b.trim() == text.trim())
}

/// Whether the status line names `name` in `file` (shortened as the status line shortens it):
/// the name first, the place last.
fn status_names(status: &str, name: &str, file: &str) -> bool {
    status.starts_with(&format!("{name} · "))
        && status.contains(&format!(" · {}:", tui::short_place(file)))
}

fn folded_ui(width: u16, height: u16) -> (Ui, Folded) {
    let path = common::fixture("program.folded");
    (
        Ui::open_by_line(&[&path], width, height),
        Folded::read(&path),
    )
}

/// The four tab labels as the issue asks for them: each pane named with its key.
const TABS: [&str; 5] = [
    " 1 Flamegraph ",
    " 2 Left Heavy ",
    " 3 Sandwich ",
    " 4 Priority ",
    " 5 Source ",
];

/// Which tabs are drawn reversed (the active one). Where the bar is short of room the others
/// show their number only (` 2 `).
fn highlighted_tabs(ui: &Ui) -> Vec<&'static str> {
    let line = ui.tab_bar();
    let buffer = ui.terminal.backend().buffer();
    TABS.iter()
        .copied()
        .filter(|tab| {
            let number = &tab[..3];
            let Some(at) = line.find(tab) else {
                assert!(line.contains(number), "tab {tab:?} missing from {line:?}");
                return false;
            };
            let x = line[..at].chars().count() as u16;
            (x..x + tab.chars().count() as u16)
                .all(|x| buffer[(x, 0)].modifier.contains(Modifier::REVERSED))
        })
        .collect()
}

/// Depth (1 = a root child) of the Left Heavy selection, from the tree obol shows.
fn current_depth(ui: &Ui) -> usize {
    let tree = ui
        .app
        .tree_for(Pane::LeftHeavy)
        .expect("the view is derived");
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

/// `N matches among frames, P% of the file` from the second status line (`1 match`, and
/// `functions` in Sandwich).
fn search_summary(ui: &Ui) -> (usize, String) {
    let line = ui.message();
    let (_, rest) = line
        .split_once(": ")
        .unwrap_or_else(|| panic!("no search summary in {line:?}"));
    let (count, rest) = rest.split_once(" match").expect("N matches");
    let rest = rest.strip_prefix("es").unwrap_or(rest);
    assert_eq!(count == "1", !line.contains(" matches "), "{line}");
    let (_, rest) = rest.split_once(", ").expect("among frames or functions, ");
    let (share, _) = rest.split_once(" of the file").expect("P% of the file");
    (count.parse().expect("a count"), share.to_owned())
}

/// Whether a frame name matches, as the oracle decides.
type Matcher = dyn Fn(&str) -> bool;

/// Whether `line` holds `key` as a help cell: after a border or a space, before two spaces.
fn help_cell(line: &str, key: &str) -> bool {
    line.match_indices(key).any(|(at, _)| {
        let before = line[..at].chars().last();
        matches!(before, Some(' ' | '│')) && line[at + key.len()..].starts_with("  ")
    })
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

/// The program's own files; everything else in the fixtures is the standard library or an
/// installed package (see fixtures/README.md).
fn is_program_file(file: &str) -> bool {
    file == "main.py" || file.starts_with("shop/") || file.contains("/obol-fixture-program/")
}

/// Self weight of the frames outside the program: what "only my code" hides.
fn library_self_weight(tree: &Folded) -> f64 {
    tree.nodes
        .iter()
        .filter(|(p, _)| {
            p.last()
                .is_some_and(|f| !is_program_file(&split_frame(f).1))
        })
        .map(|(_, w)| w.self_weight)
        .sum()
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

/// [`function_weights`] in the Sandwich table's default order: self, then total, heaviest
/// first, then by name.
fn functions_by_self(folded: &Folded) -> Vec<((String, String), f64, f64)> {
    let mut functions = function_weights(folded);
    functions.sort_by(|a, b| {
        b.1.total_cmp(&a.1)
            .then(b.2.total_cmp(&a.2))
            .then(a.0.cmp(&b.0))
    });
    functions
}

/// The Sandwich table's rows on screen: (self, total, calls, name); calls `-` where the table
/// has no calls column, the name as shown in the `function` column.
fn table_rows(ui: &Ui) -> Vec<(f64, f64, String, String)> {
    let width = usize::from(ui.app.sandwich.table_area.width);
    let columns = ui.app.sandwich.columns;
    let name_at = columns.name_at();
    ui.lines()[2..usize::from(ui.app.body().bottom())]
        .iter()
        .map(|line| line.chars().take(width).collect::<String>())
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let name: String = line.chars().skip(name_at).take(columns.name).collect();
            (
                words[0].trim_end_matches('s').parse().expect("self"),
                words[2].trim_end_matches('s').parse().expect("total"),
                if columns.calls.is_some() {
                    words[4].to_owned()
                } else {
                    "-".to_owned()
                },
                name.trim_end().to_owned(),
            )
        })
        .collect()
}

/// `text` cut to `width` characters in the middle, as the Sandwich table cuts names.
fn cut(text: &str, width: usize) -> String {
    let count = text.chars().count();
    if count <= width {
        return text.to_owned();
    }
    let keep = width - 1;
    let head = keep.div_ceil(2);
    let mut out: String = text.chars().take(head).collect();
    out.push('…');
    out.extend(text.chars().skip(count - (keep - head)));
    out
}

fn time_order_depth(ui: &Ui) -> usize {
    let tree = ui
        .app
        .tree_for(Pane::TimeOrder)
        .expect("the view is derived");
    ui.app.time_order.selected.map_or(0, |n| tree.depth(n))
}

const THREADS_TAB: &str = "program.threads.speedscope.json";

/// pstats' own numbers for program.prof (fixtures/oracle, made by Python's pstats).
struct PstatsFunction {
    name: String,
    file: String,
    line: u64,
    self_time: f64,
    total: f64,
    calls: u64,
    primitive_calls: u64,
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
            primitive_calls: f.get("primitive_calls").opt_u64().expect("primitive calls"),
        })
        .collect();
    (doc.get("total").f64(), functions)
}

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
    let tree = ui.app.tree_for(pane).expect("the view is derived");
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
        let whole = label == *name;
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
