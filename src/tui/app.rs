//! The application state, `update(Action)`, and the one event loop.
//!
//! One channel carries everything that can happen: terminal input (from an input thread),
//! signals (from a signal thread) and finished loads. The loop draws only after something
//! changed, and blocks otherwise. `update` changes state only; what reaches outside (the
//! clipboard, the editor) is left as an [`Effect`] for the loop to carry out.

use std::io;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver};

use crossterm::event::Event as TermEvent;
use ratatui::layout::Rect;

use super::action::{Action, Pane};
use super::difference::Difference;
use super::effects::{self, Effect};
use super::panes::flame::FlameView;
use super::panes::priority::PriorityView;
use super::panes::sandwich::SandwichView;
use super::search::{Prompt, PromptKind, Search};
use super::side_by_side::SideBySide;
use super::terminal;
use super::theme::{ColorSupport, Theme};
use super::trees::{Trees, ViewOptions, derive};
use super::{input, keymap};
use crate::analysis::flame::ChildOrder;
use crate::analysis::priority::{GraphSource, PriorityReport, Weights};
use crate::analysis::summary::{SortKey, function_table};
use crate::import::{LoadError, Loaded};
use crate::profile::{CallTree, FuncId, Profile, ProfileSet};

/// Below this the UI says so instead of drawing.
pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 10;

/// One profile among all loaded files: a thread of a file, or a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProfileRef {
    pub file: usize,
    pub profile: usize,
}

pub struct App {
    pub files: Vec<Loaded>,
    pub profiles: Vec<ProfileRef>,
    pub current: usize,
    pub pane: Pane,
    pub options: ViewOptions,
    /// What the flame panes draw, derived from the profile and `options`.
    pub trees: Trees,
    pub time_order: FlameView,
    pub left_heavy: FlameView,
    pub sandwich: SandwichView,
    pub priority: Option<PriorityView>,
    /// `--source-root`: where Priority looks for the profiled sources.
    pub source_roots: Vec<PathBuf>,
    /// The difference view of the first two files, while `d` has it on.
    pub difference: Option<Difference>,
    /// The first two files side by side, while `s` has it on.
    pub side_by_side: Option<SideBySide>,
    pub search: Option<Search>,
    pub prompt: Option<Prompt>,
    pub help: bool,
    pub heat: bool,
    pub theme: Theme,
    pub size: Rect,
    pub quit: bool,
    /// A one-line message for the status bar (a bad regex, say).
    pub message: Option<String>,
    /// Left for the event loop by the last update.
    pub effect: Option<Effect>,
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
        let message = files
            .iter()
            .flat_map(|f| {
                f.warnings
                    .iter()
                    .map(move |w| format!("{}: {w}", f.path.display()))
            })
            .next();
        let empty = Trees {
            merged: None,
            time_order: None,
            hidden_share: 0.0,
        };
        let mut app = App {
            files,
            profiles,
            current: 0,
            pane: Pane::TimeOrder,
            options: ViewOptions::default(),
            trees: empty,
            time_order: FlameView::new(ChildOrder::Alphabetical),
            left_heavy: FlameView::new(ChildOrder::HeaviestFirst),
            sandwich: SandwichView::new(Vec::new()),
            priority: None,
            source_roots: Vec::new(),
            difference: None,
            side_by_side: None,
            search: None,
            prompt: None,
            help: false,
            heat: false,
            theme,
            size,
            quit: false,
            message,
            effect: None,
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

    /// The weight the flame panes' shares are of: the profile's, or with threads merged the
    /// whole file's.
    pub fn shown_total(&self) -> f64 {
        if self.options.merge_threads && self.set().profiles.len() > 1 {
            self.set().total()
        } else {
            self.profile().total
        }
    }

    /// Whether pane 1 shows Time Order (the profile keeps sample order) or the Flamegraph.
    pub fn has_time_order(&self) -> bool {
        self.trees.time_order.is_some()
    }

    /// The tree a flame pane shows.
    pub fn tree_for(&self, pane: Pane) -> &CallTree {
        match (pane, &self.trees.time_order) {
            (Pane::TimeOrder, Some(tree)) => tree,
            _ => self.merged_tree(),
        }
    }

    /// The merged tree shown: derived, or the profile's own.
    pub fn merged_tree(&self) -> &CallTree {
        self.trees.merged.as_ref().unwrap_or(self.profile().tree())
    }

    /// The area panes draw in: everything but the tab bar and the two status lines.
    pub fn body(&self) -> Rect {
        Rect::new(0, 1, self.size.width, self.size.height.saturating_sub(3))
    }

    pub(super) fn switch_profile(&mut self, index: usize) {
        self.current = index;
        self.options.focus = None;
        let profile = self.profile();
        let rows = function_table(self.set(), &[profile], SortKey::SelfWeight);
        self.sandwich = SandwichView::new(rows);
        self.priority = None;
        self.rebuild_trees();
        if let Some(search) = &self.search {
            let regex = search.regex.clone();
            self.apply_search(Some(regex));
        }
    }

    /// Derives the trees again after the profile or a view option changed.
    pub(super) fn rebuild_trees(&mut self) {
        let r = self.profile_ref();
        let set = &self.files[r.file].set;
        self.trees = derive(set, &set.profiles[r.profile], &self.options);
        self.time_order.order = if self.trees.time_order.is_some() {
            ChildOrder::Stored
        } else {
            ChildOrder::Alphabetical
        };
        self.time_order.clear();
        self.left_heavy.clear();
        self.relayout();
    }

    /// Recomputes the layout of the pane shown; called after anything that changes it.
    pub(super) fn relayout(&mut self) {
        let body = self.body();
        let r = self.profile_ref();
        let set = &self.files[r.file].set;
        let merged = self
            .trees
            .merged
            .as_ref()
            .unwrap_or(set.profiles[r.profile].tree());
        match self.pane {
            Pane::TimeOrder | Pane::LeftHeavy if self.side_by_side.is_some() => {
                if let Some(sbs) = &mut self.side_by_side {
                    sbs.relayout(&self.files, body);
                }
            }
            Pane::TimeOrder | Pane::LeftHeavy if self.difference.is_some() => {
                if let Some(d) = &mut self.difference {
                    d.view.relayout(&d.diff.tree, &d.diff.frames, body);
                }
            }
            Pane::TimeOrder => {
                let tree = self.trees.time_order.as_ref().unwrap_or(merged);
                self.time_order.relayout(tree, &set.frames, body);
            }
            Pane::LeftHeavy => self.left_heavy.relayout(merged, &set.frames, body),
            Pane::Sandwich => {
                self.sandwich
                    .relayout(set.profiles[r.profile].tree(), &set.frames, body)
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

    fn priority_report(&self) -> PriorityReport {
        crate::analysis::priority_report::priority_report(
            &self.files,
            &self.source_roots,
            Weights::default(),
        )
        .unwrap_or_else(|_| PriorityReport {
            weights: Weights::default(),
            graph_source: GraphSource::Calls,
            modules: Vec::new(),
        })
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
                let n = Pane::ALL.len();
                self.show(Pane::ALL[(self.pane.index() + n - 1) % n]);
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
            Action::Search => self.prompt = Some(Prompt::new(PromptKind::Search)),
            Action::Hide => {
                if self.options.hidden.take().is_some() {
                    self.rebuild_trees();
                } else {
                    self.prompt = Some(Prompt::new(PromptKind::Hide));
                }
            }
            Action::ToggleColors => self.heat = !self.heat,
            Action::FlipOrientation => {
                let icicle = !self.time_order.icicle;
                self.time_order.icicle = icicle;
                self.left_heavy.icicle = icicle;
            }
            Action::CollapseRecursion => {
                self.options.collapse_recursion = !self.options.collapse_recursion;
                self.rebuild_trees();
            }
            Action::MergeThreads => {
                if self.set().profiles.len() > 1 {
                    self.options.merge_threads = !self.options.merge_threads;
                    self.rebuild_trees();
                } else {
                    self.message = Some("this file has one profile: nothing to merge".into());
                }
            }
            Action::Focus => match self.selected_function() {
                Some(func) => {
                    self.options.focus = Some(func);
                    self.rebuild_trees();
                    if self.pane == Pane::Sandwich || self.pane == Pane::Priority {
                        self.show(Pane::LeftHeavy);
                    }
                }
                None => self.message = Some("nothing selected to focus on".into()),
            },
            Action::Copy | Action::OpenEditor => self.request_effect(action),
            Action::SideBySide => {
                if self.side_by_side.take().is_none() {
                    if !matches!(self.pane, Pane::TimeOrder | Pane::LeftHeavy) {
                        self.pane = Pane::LeftHeavy;
                    }
                    let order = if self.pane == Pane::LeftHeavy {
                        ChildOrder::HeaviestFirst
                    } else {
                        ChildOrder::Alphabetical
                    };
                    self.side_by_side = SideBySide::new(&self.files, order);
                    if self.side_by_side.is_none() {
                        self.message = Some("side by side needs two files: obol BASE NEW".into());
                    } else {
                        self.difference = None;
                    }
                }
                self.relayout();
            }
            Action::Difference => {
                self.side_by_side = None;
                if self.difference.take().is_none() {
                    self.difference = Difference::new(self);
                    if self.difference.is_none() {
                        self.message =
                            Some("the difference view needs two files: obol BASE NEW".into());
                    } else if !matches!(self.pane, Pane::TimeOrder | Pane::LeftHeavy) {
                        self.pane = Pane::LeftHeavy;
                    }
                }
                self.relayout();
            }
            _ if self.side_by_side.is_some()
                && matches!(self.pane, Pane::TimeOrder | Pane::LeftHeavy) =>
            {
                if let Some(sbs) = &mut self.side_by_side {
                    sbs.update(&self.files, action);
                }
            }
            _ if self.difference.is_some() && self.pane == Pane::Sandwich => {
                let page = usize::from(self.body().height.saturating_sub(2)).max(1);
                if let Some(d) = &mut self.difference {
                    d.update_table(action, page);
                }
            }
            _ if self.difference.is_some()
                && matches!(self.pane, Pane::TimeOrder | Pane::LeftHeavy) =>
            {
                if let Some(d) = &mut self.difference {
                    d.update(action);
                }
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
        // Side by side lives in the flame panes, each in its own order.
        if self.side_by_side.is_some() {
            self.side_by_side = match pane {
                Pane::LeftHeavy => SideBySide::new(&self.files, ChildOrder::HeaviestFirst),
                Pane::TimeOrder => SideBySide::new(&self.files, ChildOrder::Alphabetical),
                _ => None,
            };
        }
        self.relayout();
    }

    /// The function under the selection of the pane shown.
    pub fn selected_function(&self) -> Option<FuncId> {
        let frames = &self.set().frames;
        match self.pane {
            Pane::TimeOrder | Pane::LeftHeavy => {
                let view = if self.pane == Pane::TimeOrder {
                    &self.time_order
                } else {
                    &self.left_heavy
                };
                let tree = self.tree_for(self.pane);
                view.selected
                    .and_then(|n| tree.frame(n))
                    .map(|f| frames.func_of(f))
            }
            Pane::Sandwich => self.sandwich.selected_function(),
            Pane::Priority => self
                .priority
                .as_ref()
                .and_then(|p| p.report.modules.get(p.selected))
                .and_then(|m| m.heaviest_function)
                .filter(|(file, _)| *file == self.profile_ref().file)
                .map(|(_, func)| func),
        }
    }

    fn request_effect(&mut self, action: Action) {
        let Some(func) = self.selected_function() else {
            self.message = Some("nothing selected".into());
            return;
        };
        let function = self.set().frames.function(func);
        // In a flame pane the selected frame's own line, as the status line shows it.
        let line = match self.pane {
            Pane::TimeOrder | Pane::LeftHeavy => {
                let view = if self.pane == Pane::TimeOrder {
                    &self.time_order
                } else {
                    &self.left_heavy
                };
                let tree = self.tree_for(self.pane);
                view.selected
                    .and_then(|n| tree.frame(n))
                    .and_then(|f| self.set().frames.frame(f).line)
            }
            _ => function.line,
        };
        let place = match (&function.file, line) {
            (Some(file), Some(line)) => format!("{file}:{line}"),
            (Some(file), None) => file.clone(),
            _ => String::new(),
        };
        self.effect = match (action, &function.file) {
            (Action::Copy, _) => Some(Effect::Copy(
                format!("{} {place}", function.name).trim().to_owned(),
            )),
            (_, Some(file)) => Some(Effect::Edit {
                file: file.clone(),
                line,
            }),
            (_, None) => {
                self.message = Some(format!("{} has no file", function.name));
                None
            }
        };
    }

    fn update_flame(&mut self, action: Action) {
        let r = self.profiles[self.current];
        let set = &self.files[r.file].set;
        let merged = self
            .trees
            .merged
            .as_ref()
            .unwrap_or(set.profiles[r.profile].tree());
        let (tree, view) = match self.pane {
            Pane::TimeOrder => (
                self.trees.time_order.as_ref().unwrap_or(merged),
                &mut self.time_order,
            ),
            _ => (merged, &mut self.left_heavy),
        };
        match action {
            Action::NextMatch | Action::PrevMatch => {
                self.jump_to_match(action == Action::NextMatch)
            }
            // Out of the zoom history first, then out of focus.
            Action::Back => {
                if !view.apply(tree, &set.frames, action) && self.options.focus.take().is_some() {
                    self.rebuild_trees();
                }
            }
            _ => {
                view.apply(tree, &set.frames, action);
            }
        }
    }

    fn update_sandwich(&mut self, action: Action) {
        let page = (self.sandwich.table_area.height.saturating_sub(2) as isize).max(1);
        match action {
            Action::Up | Action::ScrollUp | Action::PrevMatch => self.sandwich.move_by(-1),
            Action::Down | Action::ScrollDown | Action::NextMatch => self.sandwich.move_by(1),
            Action::PageUp => self.sandwich.move_by(-page),
            Action::PageDown => self.sandwich.move_by(page),
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
            Action::Back => self.apply_search(None),
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
                // The report numbers time files in load order; its first profile stands for it.
                if let Some((file, func)) = target
                    && let Some(profile) = self.profiles.iter().position(|p| p.file == file)
                {
                    if self.profile_ref().file != file {
                        self.switch_profile(profile);
                    }
                    self.sandwich.select_function(func);
                    self.show(Pane::Sandwich);
                }
            }
            _ => {}
        }
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
pub fn run(
    paths: Vec<PathBuf>,
    demo: bool,
    source_roots: Vec<PathBuf>,
) -> Result<(), crate::cli::CliError> {
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
    app.source_roots = source_roots;
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
        if let Some(effect) = app.effect.take() {
            app.message = Some(effects::run(effect, tui));
        }
        if app.quit {
            return Ok(());
        }
    }
}
