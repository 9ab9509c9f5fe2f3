//! One view for every pane, through the real binary and event loop in tmux: after each view
//! option (`t`, `H`, `f`, `r`, `L`) the Sandwich table, the callers and callees and the status
//! line agree with sums computed here from the fixture's own samples. Skipped, saying so, where
//! tmux is not installed.

mod common;
#[path = "common/tmux.rs"]
mod tmux;
#[path = "common/tui.rs"]
mod tui;

use std::collections::BTreeMap;

use tmux::*;
use tui::{Sampled, speedscope};

const WIDTH: u16 = 160;
const HEIGHT: u16 = 50;
/// The table takes 3/5 of the width.
const TABLE: usize = WIDTH as usize * 3 / 5;
const THREADS: &str = "program.threads.speedscope.json";

/// Names with a weight, heaviest first.
type Weighted = Vec<(String, f64)>;

/// A frame as the file writes it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Frame {
    name: String,
    file: String,
    line: u32,
}

impl Frame {
    fn parse(text: &str) -> Frame {
        let (name, file, line) = tui::split_frame(text);
        Frame { name, file, line }
    }

    fn function(&self) -> (String, String) {
        (self.name.clone(), self.file.clone())
    }

    /// The standard library of the interpreter that ran the fixture (pyenv's).
    fn is_library(&self) -> bool {
        self.file.contains("/lib/python")
    }
}

/// Samples as (stack root first, weight), the oracle's only input.
#[derive(Clone)]
struct Samples {
    stacks: Vec<(Vec<Frame>, f64)>,
}

/// A function's figures: self, total (each sample once), lines its frames were sampled at.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Figures {
    self_weight: f64,
    total: f64,
    lines: (u32, u32),
}

impl Samples {
    fn of(profiles: &[&Sampled]) -> Samples {
        Samples {
            stacks: profiles
                .iter()
                .flat_map(|p| p.stacks.iter())
                .map(|(stack, w)| (stack.iter().map(|f| Frame::parse(f)).collect(), *w))
                .collect(),
        }
    }

    fn total(&self) -> f64 {
        self.stacks.iter().map(|(_, w)| w).sum()
    }

    /// Frames for which `drop` says yes removed, as `H` does.
    fn without(&self, drop: impl Fn(&Frame) -> bool) -> Samples {
        Samples {
            stacks: self
                .stacks
                .iter()
                .map(|(s, w)| (s.iter().filter(|f| !drop(f)).cloned().collect(), *w))
                .collect(),
        }
    }

    /// Every stack through `func`, from its outermost call down, as `f` does.
    fn focused(&self, func: &(String, String)) -> Samples {
        Samples {
            stacks: self
                .stacks
                .iter()
                .filter_map(|(s, w)| {
                    let at = s.iter().position(|f| f.function() == *func)?;
                    Some((s[at..].to_vec(), *w))
                })
                .collect(),
        }
    }

    /// Per function (name, file): self, total and lines.
    fn functions(&self) -> BTreeMap<(String, String), Figures> {
        let mut out: BTreeMap<(String, String), Figures> = BTreeMap::new();
        for (stack, w) in &self.stacks {
            let mut seen = Vec::new();
            for frame in stack {
                let f = out.entry(frame.function()).or_insert(Figures {
                    self_weight: 0.0,
                    total: 0.0,
                    lines: (frame.line, frame.line),
                });
                f.lines = (f.lines.0.min(frame.line), f.lines.1.max(frame.line));
                if !seen.contains(&frame.function()) {
                    f.total += w;
                    seen.push(frame.function());
                }
            }
            if let Some(leaf) = stack.last() {
                out.get_mut(&leaf.function()).unwrap().self_weight += w;
            }
        }
        out
    }

    /// The Sandwich table's rows as obol prints them: (self, self %, total, total %, name),
    /// shares of `of`, sorted (the order of equal rows is not the oracle's business).
    fn table(&self, of: f64) -> Vec<[String; 5]> {
        let mut rows: Vec<[String; 5]> = self
            .functions()
            .iter()
            .filter(|(_, f)| f.self_weight > 0.0 || f.total > 0.0)
            .map(|((name, _), f)| row_text(f, of, name))
            .collect();
        rows.sort();
        rows
    }

    /// The direct callers and callees of `func`, by weight, outermost calls only.
    fn neighbours(&self, func: &(String, String)) -> (Weighted, Weighted) {
        let (mut callers, mut callees) = (BTreeMap::new(), BTreeMap::new());
        for (stack, w) in &self.stacks {
            let Some(at) = stack.iter().position(|f| f.function() == *func) else {
                continue;
            };
            if at > 0 {
                *callers.entry(stack[at - 1].name.clone()).or_insert(0.0) += w;
            }
            if let Some(next) = stack.get(at + 1) {
                *callees.entry(next.name.clone()).or_insert(0.0) += w;
            }
        }
        let sorted = |m: BTreeMap<String, f64>| {
            let mut v: Vec<(String, f64)> = m.into_iter().collect();
            v.sort_by(|a, b| b.1.total_cmp(&a.1));
            v
        };
        (sorted(callers), sorted(callees))
    }

    /// The status line for `func` selected in Sandwich.
    fn describe(&self, func: &(String, String), of: f64) -> String {
        let f = self.functions()[func];
        let lines = if f.lines.0 == f.lines.1 {
            f.lines.0.to_string()
        } else {
            format!("{}–{}", f.lines.0, f.lines.1)
        };
        // py-spy's thread frames have no file: no place is shown.
        let place = if func.1.is_empty() {
            String::new()
        } else {
            format!(" · {}:{lines}", tui::short_place(&func.1))
        };
        format!(
            "{} · self {:.3}s ({:.1}%) · total {:.3}s ({:.1}%){place}",
            func.0,
            f.self_weight,
            100.0 * f.self_weight / of,
            f.total,
            100.0 * f.total / of
        )
    }
}

fn row_text(f: &Figures, of: f64, name: &str) -> [String; 5] {
    [
        format!("{:.3}s", f.self_weight),
        format!("{:.1}", 100.0 * f.self_weight / of),
        format!("{:.3}s", f.total),
        format!("{:.1}", 100.0 * f.total / of),
        name.to_owned(),
    ]
}

/// The Sandwich table on screen: four figures, then the name in the `function` column (up to
/// the `file` column, where there is one); sorted as the oracle's is.
fn table_on(screen: &str) -> Vec<[String; 5]> {
    let lines: Vec<Vec<char>> = screen.lines().map(|l| l.chars().collect()).collect();
    let (name_at, name_end) = name_column(screen);
    let mut rows: Vec<[String; 5]> = lines[2..usize::from(HEIGHT) - 2]
        .iter()
        .map(|l| &l[..TABLE.min(l.len())])
        .filter_map(|l| {
            let figures: String = l[..name_at.min(l.len())].iter().collect();
            let figures: Vec<&str> = figures.split_whitespace().collect();
            // The badge line below the table is no row.
            if figures.len() != 4 || !figures[0].ends_with('s') {
                return None;
            }
            let name: String = l[name_at.min(l.len())..name_end.min(l.len())]
                .iter()
                .collect();
            Some([
                figures[0].to_owned(),
                figures[1].to_owned(),
                figures[2].to_owned(),
                figures[3].to_owned(),
                name.trim().to_owned(),
            ])
        })
        .collect();
    rows.sort();
    rows
}

/// Where the header puts the `function` column, and where it ends (the `file` column).
fn name_column(screen: &str) -> (usize, usize) {
    let header: Vec<char> = screen.lines().nth(1).unwrap_or("").chars().collect();
    let find = |word: &str| {
        let text: String = header[..TABLE.min(header.len())].iter().collect();
        text.find(word).map(|at| text[..at].chars().count())
    };
    let at = find("function").unwrap_or(0);
    (at, find(" file").map_or(TABLE, |f| f + 1))
}

/// `name` as the table shows it in `width` cells: cut in the middle, as the issue asks.
fn shortened(name: &str, width: usize) -> String {
    let count = name.chars().count();
    if count <= width {
        return name.to_owned();
    }
    let keep = width - 1;
    let head = keep.div_ceil(2);
    let tail = keep - head;
    let mut out: String = name.chars().take(head).collect();
    out.push('…');
    out.extend(name.chars().skip(count - tail));
    out
}

/// The oracle's rows with names as a table of this screen's columns shows them.
fn as_shown(screen: &str, expected: &[[String; 5]]) -> Vec<[String; 5]> {
    let (at, end) = name_column(screen);
    let mut rows: Vec<[String; 5]> = expected
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r[4] = shortened(&r[4], end - at - 1);
            r
        })
        .collect();
    rows.sort();
    rows
}

/// The callers and callees halves of Sandwich: the row of direct callers (above the selected
/// function, the callers being drawn upside down) and the row of direct callees (below it).
fn neighbour_rows(screen: &str) -> (String, String) {
    let right: Vec<String> = screen
        .lines()
        .map(|l| l.chars().skip(TABLE + 1).collect())
        .collect();
    let title = right
        .iter()
        .position(|l| l.starts_with("callees ▼"))
        .expect("the callees title");
    (right[title - 2].clone(), right[title + 2].clone())
}

/// Whether a flame row shows `name`, whole or cut with an ellipsis.
fn shows(row: &str, name: &str) -> bool {
    row.split(['▏', '▎', '▍', '▌', '▋', '▊', '▉'])
        .flat_map(|part| part.split("  "))
        .map(str::trim)
        .any(|label| {
            label == name
                || label
                    .strip_suffix('…')
                    .is_some_and(|cut| !cut.is_empty() && name.starts_with(cut))
        })
}

fn start(test: &str, fixture: &str) -> Option<Tmux> {
    let path = common::fixture(fixture);
    let path = path.to_str().expect("a UTF-8 path");
    let tmux = Tmux::start_sized(test, WIDTH, HEIGHT, &[obol(), path])?;
    tmux.wait_for_text("speedscope JSON: seconds");
    Some(tmux)
}

/// Waits until the Sandwich table shows what the oracle says, and returns the screen.
fn wait_for_table(tmux: &Tmux, expected: &[[String; 5]]) -> String {
    let start = std::time::Instant::now();
    loop {
        let screen = tmux.capture();
        let expected = as_shown(&screen, expected);
        if table_on(&screen) == expected {
            return screen;
        }
        if start.elapsed() > WAIT {
            let shown = table_on(&screen);
            let missing: Vec<_> = expected.iter().filter(|r| !shown.contains(r)).collect();
            let extra: Vec<_> = shown.iter().filter(|r| !expected.contains(r)).collect();
            panic!(
                "the table differs: missing {missing:?}, extra {extra:?}; the screen:\n{screen}"
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Selects `func` in Sandwich by searching its exact name.
fn select(tmux: &Tmux, func: &(String, String)) {
    tmux.send(&["/"]);
    tmux.type_text(&format!("^{}$", regex_escape(&func.0)));
    tmux.send(&["Enter"]);
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let special = "\\.+*?()|[]{}^$<>".contains(c);
            special.then_some('\\').into_iter().chain([c])
        })
        .collect()
}

/// Checks the selected function's status line and its callers and callees against `samples`.
fn check_selected(tmux: &Tmux, samples: &Samples, func: &(String, String), of: f64) {
    let expected = samples.describe(func, of);
    // Sandwich's status line and its callees' title: a flame pane may show the same status.
    // The title ends in `…` while the callers and callees are made (on a worker).
    let screen = tmux.wait_for("the status line", |s| {
        s.contains(&expected) && s.contains("callees ▼") && !s.contains("callees ▼ …")
    });
    let (callers, callees) = samples.neighbours(func);
    let (above, below) = neighbour_rows(&screen);
    // A frame is labelled when it has room: a few cells of the half's width.
    let total = samples.functions()[func].total;
    let width = f64::from(WIDTH) - TABLE as f64 - 1.0;
    let labelled = |w: f64| width * w / total >= 8.0;
    if let Some((caller, w)) = callers.first().filter(|c| labelled(c.1)) {
        assert!(
            shows(&above, caller),
            "caller {caller} ({w}) in {above:?}\n{screen}"
        );
    }
    if let Some((callee, w)) = callees.first().filter(|c| labelled(c.1)) {
        assert!(
            shows(&below, callee),
            "callee {callee} ({w}) in {below:?}\n{screen}"
        );
    }
}

/// A function of the fixture program's `shop` package.
fn program_function(name: &str, module: &str) -> (String, String) {
    (
        name.to_owned(),
        format!("/tmp/obol-fixture-program/shop/{module}.py"),
    )
}

fn main_thread() -> Samples {
    Samples::of(&[&threads()[0]])
}

fn threads() -> Vec<Sampled> {
    speedscope(&common::fixture(THREADS))
}

/// The heaviest function sampled only in the worker thread.
fn worker_function(profiles: &[Sampled]) -> (String, String) {
    let main = Samples::of(&[&profiles[0]]).functions();
    let worker = Samples::of(&[&profiles[1]]).functions();
    worker
        .into_iter()
        .filter(|(f, _)| !main.contains_key(f))
        .max_by(|a, b| a.1.total.total_cmp(&b.1.total))
        .map(|(f, _)| f)
        .expect("a function of the worker only")
}

#[test]
fn t_merges_threads_in_the_table_callers_callees_and_status_line() {
    let Some(tmux) = start("view-t", THREADS) else {
        return;
    };
    let profiles = threads();
    let main = Samples::of(&[&profiles[0]]);
    let all = Samples::of(&[&profiles[0], &profiles[1]]);
    tmux.send(&["3"]);
    wait_for_table(&tmux, &main.table(main.total()));
    tmux.send(&["t"]);
    let screen = wait_for_table(&tmux, &all.table(all.total()));
    assert!(
        screen
            .lines()
            .next()
            .unwrap()
            .contains("[all 2 threads merged]")
    );
    let worker = worker_function(&profiles);
    select(&tmux, &worker);
    check_selected(&tmux, &all, &worker, all.total());
    // The function most shared by both threads: figures of both, shares of both.
    let shared = main
        .functions()
        .into_iter()
        .max_by(|a, b| a.1.self_weight.total_cmp(&b.1.self_weight))
        .map(|(f, _)| f)
        .unwrap();
    select(&tmux, &shared);
    check_selected(&tmux, &all, &shared, all.total());
    // Split again: the first thread's figures.
    tmux.escape();
    tmux.send(&["t"]);
    wait_for_table(&tmux, &main.table(main.total()));
}

#[test]
fn shift_h_leaves_only_my_code_in_the_table_callers_callees_and_status_line() {
    let Some(tmux) = start("view-h", THREADS) else {
        return;
    };
    let profiles = threads();
    let all = Samples::of(&[&profiles[0], &profiles[1]]);
    let mine = all.without(Frame::is_library);
    tmux.send(&["t", "3", "H", "Enter"]);
    let screen = wait_for_table(&tmux, &mine.table(all.total()));
    assert!(screen.contains("only my code"), "{screen}");
    // Functions that called into the library now hold its time themselves.
    let to_json = program_function("to_json", "report");
    select(&tmux, &to_json);
    check_selected(&tmux, &mine, &to_json, all.total());
    let screen = tmux.capture();
    let (_, below) = neighbour_rows(&screen);
    let library: Vec<String> = all
        .functions()
        .keys()
        .filter(|(_, file)| file.contains("/lib/python"))
        .map(|(name, _)| name.clone())
        .collect();
    for name in &library {
        assert!(
            !shows(&below, name),
            "{name} hidden, yet a callee: {below:?}"
        );
    }
}

#[test]
fn f_focuses_every_pane_on_the_function() {
    let Some(tmux) = start("view-f", THREADS) else {
        return;
    };
    let main = main_thread();
    let to_json = program_function("to_json", "report");
    tmux.send(&["3"]);
    select(&tmux, &to_json);
    tmux.wait_for_text(&main.describe(&to_json, main.total()));
    // Esc ends the search, keeping the row selected.
    tmux.escape();
    tmux.send(&["f"]);
    tmux.wait_for_text("f focus: to_json");
    // Left Heavy starts at to_json; Sandwich lists only what ran under it.
    tmux.send(&["3"]);
    let focused = main.focused(&to_json);
    wait_for_table(&tmux, &focused.table(main.total()));
    let (_, callees) = focused.neighbours(&to_json);
    let callee = focused
        .functions()
        .into_keys()
        .find(|(name, _)| *name == callees[0].0)
        .unwrap();
    select(&tmux, &callee);
    check_selected(&tmux, &focused, &callee, main.total());
}

#[test]
fn r_collapses_recursion_in_sandwich_callees_too() {
    let Some(tmux) = start("view-r", THREADS) else {
        return;
    };
    let main = main_thread();
    let discount = program_function("discount", "pricing");
    tmux.send(&["3"]);
    select(&tmux, &discount);
    check_selected(&tmux, &main, &discount, main.total());
    // discount → surcharge → discount: the inner call is drawn under surcharge.
    let callees = |screen: &str| -> Vec<String> {
        let right: Vec<String> = screen
            .lines()
            .map(|l| l.chars().skip(TABLE + 1).collect())
            .collect();
        let title = right
            .iter()
            .position(|l| l.starts_with("callees ▼"))
            .unwrap();
        right[title + 2..usize::from(HEIGHT) - 2].to_vec()
    };
    let screen = tmux.capture();
    assert!(
        callees(&screen).iter().any(|row| shows(row, "discount")),
        "{screen}"
    );
    tmux.escape();
    tmux.send(&["r"]);
    tmux.wait_for_text("r recursion collapsed");
    // Function figures do not change (recursion is counted once either way); the tree does.
    wait_for_table(&tmux, &main.table(main.total()));
    let screen = tmux.wait_for("the callees rebuilt", |s| {
        s.contains("callees ▼") && !s.contains("callees ▼ …")
    });
    assert!(
        !callees(&screen).iter().any(|row| shows(row, "discount")),
        "{screen}"
    );
}

/// `L` switches the flame panes between frames by line (as py-spy writes them) and frames
/// grouped by function (the default): the heaviest path of Left Heavy, followed with `j`, is
/// one of whole functions, each shown with the lines sampled.
#[test]
fn l_switches_between_frames_by_line_and_by_function() {
    let Some(tmux) = start("view-l", THREADS) else {
        return;
    };
    let main = main_thread();
    let total = main.total();
    let functions = main.functions();
    tmux.send(&["2"]);
    let mut prefix: Vec<(String, String)> = Vec::new();
    for (next, weight) in heaviest_path(&main) {
        prefix.push(next.clone());
        let f = functions[&next];
        let lines = if f.lines.0 == f.lines.1 {
            f.lines.0.to_string()
        } else {
            format!("{}–{}", f.lines.0, f.lines.1)
        };
        let place = if next.1.is_empty() {
            String::new()
        } else {
            format!(" · {}:{lines}", tui::short_place(&next.1))
        };
        let expected = format!("{} · self ", next.0);
        let shown = tmux.wait_for(&format!("{} selected", next.0), |s| {
            status_of(s).starts_with(&expected) && status_of(s).ends_with(&place)
        });
        let status = status_of(&shown);
        assert!(
            status.contains(&format!(
                "total {weight:.3}s ({:.1}%)",
                100.0 * weight / total
            )),
            "{status}"
        );
        tmux.send(&["j"]);
    }
    assert!(prefix.len() > 5, "a path of whole functions: {prefix:?}");
    // By line: the same function, at one of its lines.
    let last = prefix.last().unwrap();
    let lines = functions[last].lines;
    tmux.send(&["L"]);
    let at = format!(" · {}:", tui::short_place(&last.1));
    let screen = tmux.wait_for("the same function by line", |s| {
        s.contains("frames by line sampled")
            && status_of(s).starts_with(&format!("{} · ", last.0))
            && status_of(s).contains(&at)
    });
    let status = status_of(&screen);
    let line: u32 = status[status.rfind(&at).unwrap() + at.len()..]
        .parse()
        .expect("one line, not a span");
    assert!((lines.0..=lines.1).contains(&line), "{line} in {lines:?}");
}

/// From the root, the heaviest child by function at each step, with its weight.
fn heaviest_path(samples: &Samples) -> Vec<((String, String), f64)> {
    let mut path: Vec<((String, String), f64)> = Vec::new();
    loop {
        let prefix: Vec<(String, String)> = path.iter().map(|p| p.0.clone()).collect();
        let mut children: BTreeMap<(String, String), f64> = BTreeMap::new();
        for (stack, w) in &samples.stacks {
            let funcs: Vec<_> = stack.iter().map(Frame::function).collect();
            if funcs.len() > prefix.len() && funcs[..prefix.len()] == prefix[..] {
                *children.entry(funcs[prefix.len()].clone()).or_insert(0.0) += w;
            }
        }
        let Some(next) = children
            .into_iter()
            .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
        else {
            return path;
        };
        path.push(next);
    }
}

/// Select a frame in Left Heavy, press 3: Sandwich shows its function with its callers and
/// callees; Enter there goes back to Left Heavy on the function's heaviest occurrence.
#[test]
fn the_selection_is_shared_between_left_heavy_and_sandwich() {
    let Some(tmux) = start("view-sel", THREADS) else {
        return;
    };
    let main = main_thread();
    let path = heaviest_path(&main);
    tmux.send(&["2"]);
    tmux.wait_for("Left Heavy", |s| status_of(s).starts_with(&path[0].0.0));
    for _ in 1..6 {
        tmux.send(&["j"]);
    }
    let (func, _) = &path[5];
    tmux.wait_for("the sixth frame of the heaviest path", |s| {
        status_of(s).starts_with(&format!("{} · ", func.0))
            && status_of(s).contains(&format!(" · {}:", tui::short_place(&func.1)))
    });
    tmux.send(&["3"]);
    check_selected(&tmux, &main, func, main.total());
    // Another row, then back to the flame pane on it.
    tmux.send(&["j"]);
    let screen = tmux.wait_for("another row", |s| !status_of(s).starts_with(&func.0));
    let name = status_of(&screen).split(' ').next().unwrap().to_owned();
    tmux.send(&["Enter"]);
    let screen = tmux.wait_for("Left Heavy again", |s| {
        s.lines().nth(1).is_some_and(|l| !l.contains("self▼"))
    });
    assert!(
        status_of(&screen).starts_with(&format!("{name} ")),
        "{screen}"
    );
}

fn status_of(screen: &str) -> String {
    screen
        .lines()
        .nth(usize::from(HEIGHT) - 2)
        .unwrap_or("")
        .trim_end()
        .to_owned()
}
