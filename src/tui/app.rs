//! The application state, `update(Action)`, and the one event loop.
//!
//! One channel carries everything that can happen: terminal input (from an input thread),
//! signals (from a signal thread) and finished loads. The loop draws only after something
//! changed, and blocks otherwise.

use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver};

use crossterm::event::Event as TermEvent;
use ratatui::layout::Rect;
use regex::Regex;

use super::action::{Action, Pane};
use super::panes::flame::{FlameView, Step};
use super::panes::priority::PriorityView;
use super::panes::sandwich::SandwichView;
use super::terminal;
use super::theme::{ColorSupport, Theme};
use super::{input, keymap};
use crate::analysis::flame::ChildOrder;
use crate::analysis::priority::Weights;
use crate::analysis::summary::{SortKey, function_table};
use crate::analysis::timeline::{count_matches, time_order_tree};
use crate::import::{LoadError, Loaded};
use crate::profile::{CallTree, NodeId, Profile, ProfileSet};

/// Below this the UI says so instead of drawing.
pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 10;

/// One profile among all loaded files: a thread of a file, or a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProfileRef {
    pub file: usize,
    pub profile: usize,
}

/// An active search.
#[derive(Debug, Clone)]
pub struct Search {
    pub regex: Regex,
    /// Per frame id of the current file: whether its name matches.
    pub frame_matches: Vec<bool>,
    /// Matching nodes in the tree shown.
    pub count: usize,
    /// Their share of the total, each sample counted once.
    pub share: f64,
}

pub struct App {
    pub files: Vec<Loaded>,
    pub profiles: Vec<ProfileRef>,
    pub current: usize,
    pub pane: Pane,
    /// Time-order trees, built on first view, by index into `profiles`.
    time_trees: HashMap<usize, CallTree>,
    pub time_order: FlameView,
    pub left_heavy: FlameView,
    pub sandwich: SandwichView,
    pub priority: Option<PriorityView>,
    pub search: Option<Search>,
    /// The search prompt's text while it is open.
    pub prompt: Option<String>,
    pub help: bool,
    pub heat: bool,
    pub theme: Theme,
    pub size: Rect,
    pub quit: bool,
    /// A one-line message for the status bar (a bad regex, say).
    pub message: Option<String>,
}

impl App {
    pub fn new(files: Vec<Loaded>, theme: Theme, size: Rect) -> App {
        let profiles = files
            .iter()
            .enumerate()
            .flat_map(|(file, l)| {
                (0..l.set.profiles.len()).map(move |profile| ProfileRef { file, profile })
            })
            .collect();
        let mut app = App {
            files,
            profiles,
            current: 0,
            pane: Pane::TimeOrder,
            time_trees: HashMap::new(),
            time_order: FlameView::new(ChildOrder::Alphabetical),
            left_heavy: FlameView::new(ChildOrder::HeaviestFirst),
            sandwich: SandwichView::new(Vec::new()),
            priority: None,
            search: None,
            prompt: None,
            help: false,
            heat: false,
            theme,
            size,
            quit: false,
            message: None,
        };
        app.switch_profile(0);
        app
    }

    pub fn profile_ref(&self) -> ProfileRef {
        self.profiles[self.current]
    }

    pub fn loaded(&self) -> &Loaded {
        &self.files[self.profile_ref().file]
    }

    pub fn set(&self) -> &ProfileSet {
        &self.loaded().set
    }

    pub fn profile(&self) -> &Profile {
        let r = self.profile_ref();
        &self.files[r.file].set.profiles[r.profile]
    }

    /// Whether pane 1 shows Time Order (the file keeps sample order) or the Flamegraph.
    pub fn has_time_order(&self) -> bool {
        self.profile().timeline.is_some()
    }

    /// The tree a flame pane shows.
    pub fn tree_for(&self, pane: Pane) -> &CallTree {
        match pane {
            Pane::TimeOrder => self
                .time_trees
                .get(&self.current)
                .unwrap_or(&self.profile().tree),
            _ => &self.profile().tree,
        }
    }

    /// The area panes draw in: everything but the tab bar and the status line.
    pub fn body(&self) -> Rect {
        Rect::new(0, 1, self.size.width, self.size.height.saturating_sub(3))
    }

    fn switch_profile(&mut self, index: usize) {
        self.current = index;
        let timeline = self.profile().timeline.is_some();
        if timeline && !self.time_trees.contains_key(&index) {
            let tree = time_order_tree(self.profile());
            self.time_trees.insert(index, tree);
        }
        self.time_order.order = if timeline {
            ChildOrder::Stored
        } else {
            ChildOrder::Alphabetical
        };
        self.time_order.clear();
        self.left_heavy.clear();
        let profile = self.profile();
        let rows = function_table(self.set(), &[profile], SortKey::SelfWeight);
        self.sandwich = SandwichView::new(rows);
        self.priority = None;
        if let Some(search) = &self.search {
            let regex = search.regex.clone();
            self.apply_search(Some(regex));
        }
        self.relayout();
    }

    /// Recomputes the layout of the pane shown; called after anything that changes it.
    fn relayout(&mut self) {
        let body = self.body();
        match self.pane {
            Pane::TimeOrder | Pane::LeftHeavy => {
                let pane = self.pane;
                let r = self.profile_ref();
                let tree = match pane {
                    Pane::TimeOrder => self.time_trees.get(&self.current),
                    _ => None,
                }
                .unwrap_or(&self.files[r.file].set.profiles[r.profile].tree);
                let frames = &self.files[r.file].set.frames;
                let view = if pane == Pane::TimeOrder {
                    &mut self.time_order
                } else {
                    &mut self.left_heavy
                };
                view.relayout(tree, frames, body);
            }
            Pane::Sandwich => {
                let r = self.profile_ref();
                let set = &self.files[r.file].set;
                self.sandwich
                    .relayout(&set.profiles[r.profile].tree, &set.frames, body);
            }
            Pane::Priority => {
                if self.priority.is_none() {
                    self.priority = Some(PriorityView::new(self.priority_report()));
                }
                if let Some(view) = &mut self.priority {
                    view.relayout(body);
                }
            }
        }
        self.update_search_counts();
    }

    fn priority_report(&self) -> crate::analysis::priority::PriorityReport {
        crate::cli::priority::priority_report(&self.files, &[], Weights::default()).unwrap_or_else(
            |_| crate::analysis::priority::PriorityReport {
                weights: Weights::default(),
                graph_source: crate::analysis::priority::GraphSource::Calls,
                modules: Vec::new(),
            },
        )
    }

    /// Applies one action. Everything the user can do goes through here.
    pub fn update(&mut self, action: Action) {
        self.message = None;
        if self.prompt.is_some() {
            self.update_prompt(action);
            return;
        }
        if self.help && !matches!(action, Action::Resize { .. } | Action::Quit) {
            if matches!(action, Action::Help | Action::Back) {
                self.help = false;
            }
            return;
        }
        match action {
            Action::Quit => self.quit = true,
            Action::Help => self.help = true,
            Action::ShowPane(pane) => self.show(pane),
            Action::NextPane => self.show(Pane::ALL[(self.pane.index() + 1) % Pane::ALL.len()]),
            Action::PrevPane => {
                self.show(Pane::ALL[(self.pane.index() + Pane::ALL.len() - 1) % Pane::ALL.len()])
            }
            Action::PrevProfile | Action::NextProfile => {
                let n = self.profiles.len();
                let next = if action == Action::NextProfile {
                    (self.current + 1) % n
                } else {
                    (self.current + n - 1) % n
                };
                if next != self.current {
                    self.switch_profile(next);
                }
            }
            Action::Resize { width, height } => {
                self.size = Rect::new(0, 0, width, height);
                self.relayout();
            }
            Action::Search => self.prompt = Some(String::new()),
            Action::ToggleColors => self.heat = !self.heat,
            Action::FlipOrientation => {
                let icicle = !self.time_order.icicle;
                self.time_order.icicle = icicle;
                self.left_heavy.icicle = icicle;
            }
            _ => match self.pane {
                Pane::TimeOrder | Pane::LeftHeavy => self.update_flame(action),
                Pane::Sandwich => self.update_sandwich(action),
                Pane::Priority => self.update_priority(action),
            },
        }
    }

    fn show(&mut self, pane: Pane) {
        self.pane = pane;
        self.relayout();
    }

    fn update_flame(&mut self, action: Action) {
        let pane = self.pane;
        let r = self.profile_ref();
        let tree = match pane {
            Pane::TimeOrder => self.time_trees.get(&self.current),
            _ => None,
        }
        .unwrap_or(&self.files[r.file].set.profiles[r.profile].tree);
        let frames = &self.files[r.file].set.frames;
        let view = if pane == Pane::TimeOrder {
            &mut self.time_order
        } else {
            &mut self.left_heavy
        };
        // Arrows follow the picture: with the root at the bottom, up is towards the callees.
        let (up, down) = if view.icicle {
            (Step::Parent, Step::Child)
        } else {
            (Step::Child, Step::Parent)
        };
        match action {
            Action::Up => view.step(tree, up),
            Action::Down => view.step(tree, down),
            Action::Left => view.step(tree, Step::PrevSibling),
            Action::Right => view.step(tree, Step::NextSibling),
            Action::Zoom => {
                view.zoom_in(tree, frames);
            }
            Action::Back => {
                view.zoom_out(tree, frames);
            }
            Action::ResetZoom => view.reset(tree, frames),
            Action::ScrollUp | Action::PageUp => {
                view.scroll_by(if action == Action::PageUp { -10 } else { -3 })
            }
            Action::ScrollDown | Action::PageDown => {
                view.scroll_by(if action == Action::PageDown { 10 } else { 3 })
            }
            Action::Click { column, row } => {
                if let Some(node) = view.hit(column, row) {
                    view.select(node);
                }
            }
            Action::DoubleClick { column, row } => {
                if let Some(node) = view.hit(column, row) {
                    view.select(node);
                    view.zoom_in(tree, frames);
                }
            }
            Action::NextMatch | Action::PrevMatch => {
                self.jump_to_match(action == Action::NextMatch)
            }
            _ => {}
        }
    }

    fn update_sandwich(&mut self, action: Action) {
        let page = (self.sandwich.table_area.height.saturating_sub(2) as isize).max(1);
        match action {
            Action::Up | Action::ScrollUp => self.sandwich.move_by(-1),
            Action::Down | Action::ScrollDown => self.sandwich.move_by(1),
            Action::PageUp => self.sandwich.move_by(-page),
            Action::PageDown => self.sandwich.move_by(page),
            Action::NextMatch => self.sandwich.move_by(1),
            Action::PrevMatch => self.sandwich.move_by(-1),
            Action::CycleSort => {
                let r = self.profile_ref();
                self.sandwich.cycle_sort(&self.files[r.file].set);
            }
            Action::Click { column, row } => {
                let area = self.sandwich.table_area;
                if column >= area.x && column < area.right() && row > area.y && row < area.bottom()
                {
                    let target = self.sandwich.offset + usize::from(row - area.y - 1);
                    if target < self.sandwich.visible.len() {
                        self.sandwich.selected = target;
                    }
                }
            }
            Action::Back => {
                let r = self.profile_ref();
                self.sandwich.set_filter(&self.files[r.file].set, None);
                self.search = None;
            }
            _ => {}
        }
        self.relayout();
    }

    fn update_priority(&mut self, action: Action) {
        let Some(view) = &mut self.priority else {
            return;
        };
        match action {
            Action::Up | Action::ScrollUp => view.move_by(-1),
            Action::Down | Action::ScrollDown => view.move_by(1),
            Action::PageUp => view.move_by(-10),
            Action::PageDown => view.move_by(10),
            Action::Zoom => {
                let target = view
                    .report
                    .modules
                    .get(view.selected)
                    .and_then(|m| m.heaviest_function);
                if let Some((file_index, func)) = target {
                    // The report indexes time files in load order; find that file's first profile.
                    if let Some(profile) = self.profiles.iter().position(|p| p.file == file_index) {
                        if self.profile_ref().file != file_index {
                            self.switch_profile(profile);
                        }
                        self.sandwich.select_function(func);
                        self.show(Pane::Sandwich);
                    }
                }
            }
            _ => {}
        }
    }

    fn update_prompt(&mut self, action: Action) {
        let Some(text) = &mut self.prompt else {
            return;
        };
        match action {
            Action::PromptInput(c) => text.push(c),
            Action::PromptBackspace => {
                text.pop();
            }
            Action::PromptCancel => self.prompt = None,
            Action::Quit => self.quit = true,
            Action::PromptSubmit => {
                let pattern = std::mem::take(text);
                self.prompt = None;
                if pattern.is_empty() {
                    self.apply_search(None);
                } else {
                    match Regex::new(&pattern) {
                        Ok(regex) => self.apply_search(Some(regex)),
                        Err(e) => {
                            let first =
                                e.to_string().lines().last().unwrap_or("").trim().to_owned();
                            self.message = Some(format!("bad regex: {first}"));
                        }
                    }
                }
            }
            Action::Resize { width, height } => {
                self.size = Rect::new(0, 0, width, height);
                self.relayout();
            }
            _ => {}
        }
    }

    /// Starts (or with `None` ends) a search: flame panes highlight matches, the Sandwich
    /// table shows only matching functions.
    fn apply_search(&mut self, regex: Option<Regex>) {
        let r = self.profile_ref();
        let set = &self.files[r.file].set;
        self.sandwich.set_filter(set, regex.clone());
        self.search = regex.map(|regex| Search {
            frame_matches: set
                .frames
                .frames()
                .iter()
                .map(|f| regex.is_match(&f.name))
                .collect(),
            regex,
            count: 0,
            share: 0.0,
        });
        self.update_search_counts();
        if self.pane == Pane::Sandwich {
            self.relayout();
        }
    }

    /// Match count and share for the tree of the pane shown.
    fn update_search_counts(&mut self) {
        let pane = if self.pane == Pane::TimeOrder {
            Pane::TimeOrder
        } else {
            Pane::LeftHeavy
        };
        let Some(search) = &self.search else {
            return;
        };
        let tree = self.tree_for(pane);
        let (count, matched) = count_matches(tree, &search.frame_matches);
        let share = if tree.total() > 0.0 {
            matched / tree.total()
        } else {
            0.0
        };
        if let Some(search) = &mut self.search {
            search.count = count;
            search.share = share;
        }
    }

    /// Selects the next (or previous) matching frame in the layout, left to right, top down.
    fn jump_to_match(&mut self, forward: bool) {
        let Some(search) = &self.search else {
            return;
        };
        let matches = search.frame_matches.clone();
        let pane = self.pane;
        let r = self.profile_ref();
        let tree = match pane {
            Pane::TimeOrder => self.time_trees.get(&self.current),
            _ => None,
        }
        .unwrap_or(&self.files[r.file].set.profiles[r.profile].tree);
        let Some(view) = (match pane {
            Pane::TimeOrder => Some(&mut self.time_order),
            Pane::LeftHeavy => Some(&mut self.left_heavy),
            _ => None,
        }) else {
            return;
        };
        let mut hits: Vec<(u16, u32, NodeId)> = view
            .layout
            .rects
            .iter()
            .filter(|r| {
                tree.frame(r.node)
                    .is_some_and(|f| matches.get(f.0 as usize).copied().unwrap_or(false))
            })
            .map(|r| (r.depth, r.x0, r.node))
            .collect();
        hits.sort_unstable();
        if hits.is_empty() {
            self.message = Some("no match on screen".into());
            return;
        }
        let at = view
            .selected
            .and_then(|s| hits.iter().position(|h| h.2 == s));
        let next = match (at, forward) {
            (Some(i), true) => (i + 1) % hits.len(),
            (Some(i), false) => (i + hits.len() - 1) % hits.len(),
            (None, true) => 0,
            (None, false) => hits.len() - 1,
        };
        view.select(hits[next].2);
    }
}

/// Everything the loop waits for.
pub enum Event {
    Terminal(TermEvent),
    /// SIGTERM, SIGHUP or SIGINT.
    Signal,
    /// The terminal went away (input failed).
    Hangup,
    Loaded(Box<Result<Loaded, LoadError>>),
}

/// Loads `paths` (and the demo, if asked) while showing progress, then runs the UI until quit.
/// Returns the first load error, after restoring the terminal.
pub fn run(paths: Vec<PathBuf>, demo: bool) -> Result<(), crate::cli::CliError> {
    let (sender, receiver) = mpsc::channel::<Event>();
    let (mut tui, guard) = terminal::enter()?;
    input::spawn_input(sender.clone());
    input::spawn_signals(sender.clone());
    let expected = paths.len() + usize::from(demo);
    input::spawn_loader(paths, demo, sender);
    let theme = Theme::new(ColorSupport::detect());
    let files = super::loading::wait_for_files(&mut tui, &receiver, expected, &theme)?;
    let Some(files) = files else {
        drop(guard);
        return Ok(());
    };
    let area = tui.size()?;
    let mut app = App::new(files, theme, Rect::new(0, 0, area.width, area.height));
    event_loop(&mut tui, &receiver, &mut app)?;
    drop(guard);
    Ok(())
}

fn event_loop(
    tui: &mut terminal::Tui,
    receiver: &Receiver<Event>,
    app: &mut App,
) -> io::Result<()> {
    let mut clicks = keymap::Clicks::default();
    let mut dirty = true;
    loop {
        if dirty {
            tui.draw(|frame| super::panes::render(app, frame))?;
            dirty = false;
        }
        let Ok(event) = receiver.recv() else {
            return Ok(());
        };
        let action = match event {
            Event::Terminal(TermEvent::Key(key)) => keymap::action_for(&key, app.prompt.is_some()),
            Event::Terminal(TermEvent::Mouse(mouse)) => clicks.action(mouse),
            Event::Terminal(TermEvent::Resize(width, height)) => {
                Some(Action::Resize { width, height })
            }
            Event::Terminal(_) | Event::Loaded(_) => None,
            Event::Signal | Event::Hangup => Some(Action::Quit),
        };
        if let Some(action) = action {
            app.update(action);
            dirty = true;
        }
        if app.quit {
            return Ok(());
        }
    }
}
