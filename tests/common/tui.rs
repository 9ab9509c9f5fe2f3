//! Drives the real UI without a terminal: files loaded by the real importers, keys mapped by the
//! real key table (`keymap::action_for`), applied by `App::update` and drawn by
//! `panes::render` into ratatui's `TestBackend`, as the event loop does.
//!
//! Also an oracle for folded files computed here from the text, independent of obol's importer.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use obol::tui::action::Action;
use obol::tui::app::App;
use obol::tui::keymap;
use obol::tui::panes;
use obol::tui::theme::{ColorSupport, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;

/// The app and a test terminal of the same size.
pub struct Ui {
    pub app: App,
    pub terminal: Terminal<TestBackend>,
}

impl Ui {
    /// Loads `paths` with obol's loader and draws the first frame at `width`×`height`, without
    /// colours.
    pub fn open<P: AsRef<Path>>(paths: &[P], width: u16, height: u16) -> Ui {
        Ui::open_with(paths, width, height, ColorSupport::None)
    }

    /// [`Ui::open`] with the colours of `support`.
    pub fn open_with<P: AsRef<Path>>(
        paths: &[P],
        width: u16,
        height: u16,
        support: ColorSupport,
    ) -> Ui {
        let files = paths
            .iter()
            .map(|p| {
                obol::import::load_path(p.as_ref())
                    .unwrap_or_else(|e| panic!("{} does not load: {e}", p.as_ref().display()))
            })
            .collect();
        let mut app = App::new(files, Theme::new(support), Rect::new(0, 0, width, height));
        // The event loop runs the view's derivation on a worker; here it runs at once.
        app.settle();
        let terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
        let mut ui = Ui { app, terminal };
        ui.draw();
        ui
    }

    /// [`Ui::open`] with frames by line sampled (`L`), as the file has them, rather than grouped
    /// by function: for oracles that count the file's frames as written.
    pub fn open_by_line<P: AsRef<Path>>(paths: &[P], width: u16, height: u16) -> Ui {
        let mut ui = Ui::open(paths, width, height);
        ui.chars("L");
        assert!(
            ui.message().starts_with("frames by line"),
            "{}",
            ui.message()
        );
        // Any next action clears the message; a resize to the same size changes nothing else.
        ui.resize(width, height);
        ui
    }

    pub fn draw(&mut self) {
        let app = &self.app;
        self.terminal
            .draw(|frame| panes::render(app, frame))
            .expect("draw");
    }

    /// One key press through the real key table; returns the action it mapped to.
    pub fn press(&mut self, event: KeyEvent) -> Option<Action> {
        let action = keymap::action_for(&event, self.app.prompt.is_some());
        if let Some(action) = action {
            self.app.update(action);
            self.app.settle();
        }
        self.draw();
        action
    }

    pub fn key(&mut self, code: KeyCode) -> Option<Action> {
        let modifiers = if code == KeyCode::BackTab {
            KeyModifiers::SHIFT
        } else {
            KeyModifiers::NONE
        };
        self.press(KeyEvent::new(code, modifiers))
    }

    /// Types each character as a key press, upper case with Shift as terminals send it.
    pub fn chars(&mut self, text: &str) {
        for c in text.chars() {
            let modifiers = if c.is_uppercase() {
                KeyModifiers::SHIFT
            } else {
                KeyModifiers::NONE
            };
            self.press(KeyEvent::new(KeyCode::Char(c), modifiers));
        }
    }

    /// Like [`Ui::chars`] without drawing after each key, for long walks; draw before reading
    /// the screen.
    pub fn chars_undrawn(&mut self, text: &str) {
        for c in text.chars() {
            let event = KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
            if let Some(action) = keymap::action_for(&event, self.app.prompt.is_some()) {
                self.app.update(action);
                self.app.settle();
            }
        }
    }

    pub fn enter(&mut self) {
        self.key(KeyCode::Enter);
    }

    pub fn esc(&mut self) {
        self.key(KeyCode::Esc);
    }

    /// `/` + `regex` + Enter.
    pub fn search(&mut self, regex: &str) {
        self.chars("/");
        self.chars(regex);
        self.enter();
    }

    /// Resizes the terminal and tells the app, as the event loop does on a resize event.
    pub fn resize(&mut self, width: u16, height: u16) {
        self.terminal.backend_mut().resize(width, height);
        self.app.update(Action::Resize { width, height });
        self.app.settle();
        self.draw();
    }

    pub fn size(&self) -> (u16, u16) {
        let area = self.terminal.backend().buffer().area;
        (area.width, area.height)
    }

    /// The screen as lines of symbols, trailing spaces kept.
    pub fn lines(&self) -> Vec<String> {
        let buffer = self.terminal.backend().buffer();
        let area = buffer.area;
        (area.y..area.bottom())
            .map(|y| {
                (area.x..area.right())
                    .map(|x| buffer[(x, y)].symbol())
                    .collect()
            })
            .collect()
    }

    /// The screen with its styles: each row as runs of text, a run starting with its style
    /// `⟦fg bg modifiers⟧` wherever the style changes, so that a snapshot holds the colours too.
    pub fn styled(&self) -> String {
        let buffer = self.terminal.backend().buffer();
        let area = buffer.area;
        let mut out = String::new();
        for y in area.y..area.bottom() {
            let mut last = None;
            for x in area.x..area.right() {
                let cell = &buffer[(x, y)];
                let style = (cell.fg, cell.bg, cell.modifier);
                if last != Some(style) {
                    out.push_str(&format!("⟦{:?} {:?} {:?}⟧", style.0, style.1, style.2));
                    last = Some(style);
                }
                out.push_str(cell.symbol());
            }
            out.push('\n');
        }
        out
    }

    pub fn text(&self) -> String {
        self.lines().join("\n")
    }

    pub fn row(&self, y: u16) -> String {
        self.lines()[usize::from(y)].trim_end().to_owned()
    }

    pub fn tab_bar(&self) -> String {
        self.row(0)
    }

    /// The first status line: what is selected.
    pub fn status(&self) -> String {
        self.row(self.size().1 - 2)
    }

    /// The line of badges above the status line (blank when no mode is on).
    pub fn badges(&self) -> String {
        self.row(self.size().1 - 3)
    }

    /// The second status line: search, prompt, message or file summary.
    pub fn message(&self) -> String {
        self.row(self.size().1 - 1)
    }
}

/// A folded file's call tree computed from its text: nodes are paths of frames as written
/// (`name (file:line)`), with self and total counts.
pub struct Folded {
    pub total: f64,
    /// Weights are seconds (speedscope, pstats) rather than sample counts.
    pub seconds: bool,
    /// Every node by its path from the root; the root is the empty path.
    pub nodes: BTreeMap<Vec<String>, Weights>,
    /// (stack, count) per line, the stack root first.
    pub lines: Vec<(Vec<String>, f64)>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Weights {
    pub self_weight: f64,
    pub total: f64,
}

impl Folded {
    pub fn parse(text: &str) -> Folded {
        let mut lines = Vec::new();
        for line in text.lines() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let (stack, count) = line.rsplit_once(' ').expect("stack count");
            let count: f64 = count.parse().expect("a count");
            let frames: Vec<String> = if stack.is_empty() {
                Vec::new()
            } else {
                stack.split(';').map(str::to_owned).collect()
            };
            lines.push((frames, count));
        }
        Folded::from_lines(lines)
    }

    /// The tree of (stack, count) lines, stacks root first.
    pub fn from_lines(lines: Vec<(Vec<String>, f64)>) -> Folded {
        let mut nodes: BTreeMap<Vec<String>, Weights> = BTreeMap::new();
        let mut total = 0.0;
        nodes.entry(Vec::new()).or_default();
        for (frames, count) in &lines {
            total += count;
            for depth in 0..=frames.len() {
                nodes.entry(frames[..depth].to_vec()).or_default().total += count;
            }
            nodes.entry(frames.clone()).or_default().self_weight += count;
        }
        Folded {
            total,
            seconds: false,
            nodes,
            lines,
        }
    }

    /// How obol writes a weight: samples as integers, seconds with three decimals.
    pub fn weight(&self, w: f64) -> String {
        if self.seconds {
            format!("{w:.3}s")
        } else {
            format!("{w}")
        }
    }

    /// Each stack with `keep(ancestors kept so far, frame)` deciding which frames stay; a
    /// removed frame's time goes to its caller.
    pub fn filter_frames(&self, keep: impl Fn(&[String], &str) -> bool) -> Folded {
        let lines = self
            .lines
            .iter()
            .map(|(stack, count)| {
                let mut kept: Vec<String> = Vec::new();
                for frame in stack {
                    if keep(&kept, frame) {
                        kept.push(frame.clone());
                    }
                }
                (kept, *count)
            })
            .collect();
        Folded::from_lines(lines)
    }

    pub fn read(path: &Path) -> Folded {
        Folded::parse(&std::fs::read_to_string(path).expect("fixture reads"))
    }

    pub fn get(&self, path: &[String]) -> Weights {
        self.nodes[path]
    }

    /// Children of `path` as full paths.
    pub fn children(&self, path: &[String]) -> Vec<Vec<String>> {
        self.nodes
            .keys()
            .filter(|k| k.len() == path.len() + 1 && k.starts_with(path))
            .cloned()
            .collect()
    }

    /// Children heaviest first, ties by frame text (Left Heavy's order).
    pub fn heaviest_first(&self, path: &[String]) -> Vec<Vec<String>> {
        let mut children = self.children(path);
        children.sort_by(|a, b| {
            self.nodes[b]
                .total
                .total_cmp(&self.nodes[a].total)
                .then_with(|| split_frame(a.last().unwrap()).cmp(&split_frame(b.last().unwrap())))
        });
        children
    }

    /// How the status line describes the node at `path`: `name file:line · self S (p%) · total
    /// T (q%)`, numbers in samples.
    pub fn describe(&self, path: &[String]) -> String {
        let w = self.nodes[path];
        describe_frame(path.last().expect("not the root"), w, self.total, |x| {
            self.weight(x)
        })
    }

    /// Nodes `depth` frames below the root, left to right as Left Heavy draws them.
    pub fn row(&self, depth: usize) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        let mut stack = vec![Vec::new()];
        while let Some(path) = stack.pop() {
            if path.len() == depth {
                out.push(path);
                continue;
            }
            let mut children = self.heaviest_first(&path);
            children.reverse();
            stack.extend(children);
        }
        out
    }

    /// From the root, the heaviest child at each step down to a leaf.
    pub fn heaviest_chain(&self) -> Vec<Vec<String>> {
        let mut chain = Vec::new();
        let mut at: Vec<String> = Vec::new();
        while let Some(child) = self.heaviest_first(&at).into_iter().next() {
            chain.push(child.clone());
            at = child;
        }
        chain
    }

    /// Every node whose frame name satisfies `matches`, in Left Heavy's screen order: top row
    /// first, left to right.
    pub fn matches_in_screen_order(&self, matches: impl Fn(&str) -> bool) -> Vec<Vec<String>> {
        let deepest = self.nodes.keys().map(Vec::len).max().unwrap_or(0);
        (1..=deepest)
            .flat_map(|depth| self.row(depth))
            .filter(|p| matches(&split_frame(p.last().unwrap()).0))
            .collect()
    }

    /// Search oracle: distinct tree nodes whose frame name matches, and the share of the total
    /// in stacks holding at least one match.
    pub fn search(&self, matches: impl Fn(&str) -> bool) -> (usize, f64) {
        let count = self
            .nodes
            .keys()
            .filter(|k| k.last().is_some_and(|f| matches(&split_frame(f).0)))
            .count();
        let matched: f64 = self
            .lines
            .iter()
            .filter(|(stack, _)| stack.iter().any(|f| matches(&split_frame(f).0)))
            .map(|(_, c)| c)
            .sum();
        (count, matched / self.total)
    }
}

/// `name (file:line)` split at the last ` (` and the last `:`.
pub fn split_frame(frame: &str) -> (String, String, u32) {
    let (name, place) = frame.rsplit_once(" (").expect("name (file:line)");
    let place = place.strip_suffix(')').expect("closing parenthesis");
    let (file, line) = place.rsplit_once(':').expect("file:line");
    (
        name.to_owned(),
        file.to_owned(),
        line.parse().expect("line"),
    )
}

/// The function a frame belongs to: (name, file).
pub fn function_of(frame: &str) -> (String, String) {
    let (name, file, _) = split_frame(frame);
    (name, file)
}

/// The status line for a frame: `name · self S (p%) · total T (q%) · file:line`, shares of
/// `total`; no place for a frame without a file. Places are shortened as the issue asks:
/// standard-library paths from the library directory, the fixture program's files from its
/// directory (where `fixtures/regenerate.sh` ran it).
pub fn describe_frame(
    frame: &str,
    w: Weights,
    total: f64,
    weight: impl Fn(f64) -> String,
) -> String {
    let (name, file, line) = split_frame(frame);
    let place = if file.is_empty() {
        String::new()
    } else {
        format!(" · {}:{line}", short_place(&file))
    };
    let pct = |x: f64| format!("{:.1}", 100.0 * x / total);
    format!(
        "{name} · self {} ({}%) · total {} ({}%){place}",
        weight(w.self_weight),
        pct(w.self_weight),
        weight(w.total),
        pct(w.total)
    )
}

pub use crate::common::short_place;

/// One sampled profile of a speedscope file, read here from the JSON: each sample's stack as
/// frame strings `name (file:line)`, root first, with its weight.
pub struct Sampled {
    pub name: String,
    pub stacks: Vec<(Vec<String>, f64)>,
}

impl Sampled {
    pub fn total(&self) -> f64 {
        self.stacks.iter().map(|(_, w)| w).sum()
    }

    /// The merged call tree, in seconds.
    pub fn tree(&self) -> Folded {
        let mut tree = Folded::from_lines(self.stacks.clone());
        tree.seconds = true;
        tree
    }
}

pub fn speedscope(path: &Path) -> Vec<Sampled> {
    let text = std::fs::read_to_string(path).expect("fixture reads");
    let doc = crate::common::Json::parse(&text).expect("valid JSON");
    let frames: Vec<String> = doc
        .get("shared")
        .get("frames")
        .array()
        .iter()
        .map(|f| {
            let file = if f.has("file") {
                f.get("file").opt_str().unwrap_or("")
            } else {
                ""
            };
            let line = if f.has("line") {
                f.get("line").opt_u64().unwrap_or(0)
            } else {
                0
            };
            format!("{} ({file}:{line})", f.get("name").str())
        })
        .collect();
    doc.get("profiles")
        .array()
        .iter()
        .map(|p| {
            assert_eq!(p.get("type").str(), "sampled");
            let stacks = p
                .get("samples")
                .array()
                .iter()
                .zip(p.get("weights").array())
                .map(|(sample, weight)| {
                    let stack = sample
                        .array()
                        .iter()
                        .map(|i| frames[i.opt_u64().expect("a frame index") as usize].clone())
                        .collect();
                    (stack, weight.f64())
                })
                .collect();
            Sampled {
                name: p.get("name").str().to_owned(),
                stacks,
            }
        })
        .collect()
}

/// A tree in recorded order, as speedscope's Time Order draws a timeline: each sample's stack
/// continues the last child at each level when the frame is the same, else starts a new one.
pub struct TimeOrder {
    pub total: f64,
    /// (frame, parent, children, weights); node 0 is the root.
    pub nodes: Vec<OrderedNode>,
}

pub struct OrderedNode {
    pub frame: String,
    pub children: Vec<usize>,
    pub weights: Weights,
}

impl TimeOrder {
    pub fn build(stacks: &[(Vec<String>, f64)]) -> TimeOrder {
        let mut nodes = vec![OrderedNode {
            frame: String::new(),
            children: Vec::new(),
            weights: Weights::default(),
        }];
        let mut total = 0.0;
        for (stack, weight) in stacks {
            total += weight;
            let mut at = 0;
            nodes[0].weights.total += weight;
            for frame in stack {
                let next = match nodes[at].children.last() {
                    Some(&last) if nodes[last].frame == *frame => last,
                    _ => {
                        nodes.push(OrderedNode {
                            frame: frame.clone(),
                            children: Vec::new(),
                            weights: Weights::default(),
                        });
                        let new = nodes.len() - 1;
                        nodes[at].children.push(new);
                        new
                    }
                };
                nodes[next].weights.total += weight;
                at = next;
            }
            nodes[at].weights.self_weight += weight;
        }
        TimeOrder { total, nodes }
    }

    /// Nodes `depth` frames below the root, left to right.
    pub fn row(&self, depth: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut stack = vec![(0, 0)];
        while let Some((node, d)) = stack.pop() {
            if d == depth {
                out.push(node);
                continue;
            }
            stack.extend(self.nodes[node].children.iter().rev().map(|&c| (c, d + 1)));
        }
        out
    }

    pub fn describe(&self, node: usize) -> String {
        let n = &self.nodes[node];
        describe_frame(&n.frame, n.weights, self.total, |w| format!("{w:.3}s"))
    }

    /// Nodes whose frame name matches, and the share of samples holding a match.
    pub fn search(
        &self,
        stacks: &[(Vec<String>, f64)],
        matches: impl Fn(&str) -> bool,
    ) -> (usize, f64) {
        let count = self.nodes[1..]
            .iter()
            .filter(|n| matches(&split_frame(&n.frame).0))
            .count();
        let matched: f64 = stacks
            .iter()
            .filter(|(s, _)| s.iter().any(|f| matches(&split_frame(f).0)))
            .map(|(_, w)| w)
            .sum();
        (count, matched / self.total)
    }
}
