//! The application state and `update(Action)`.
//!
//! The state is a session (files and options, session.rs), the one view derived from it
//! (view.rs) and what each pane keeps of its own (zoom, scroll, sort). Changing an option asks
//! for a new view: `update` leaves a [`Job`] that the event loop (event_loop.rs) runs on a
//! worker, and `finish` installs its result. `update` changes state only; what reaches outside
//! (the clipboard, the editor) is left as an [`Effect`] for the loop to carry out.

use crossterm::event::Event as TermEvent;
use ratatui::layout::Rect;

use super::action::{Action, Pane};
pub use super::comparison::Comparison;
use super::difference::Difference;
use super::effects::Effect;
use super::panes::flame::FlameView;
use super::panes::priority::PriorityView;
use super::panes::sandwich::SandwichView;
use super::search::{Prompt, PromptKind, Search};
use super::selection::Selection;
use super::session::{FunctionRef, ProfileRef, Session};
use super::side_by_side::SideBySide;
use super::source::SourceView;
use super::theme::Theme;
use super::view::{Compare, Options, View};
use super::work::{Done, Job};
use crate::analysis::flame::ChildOrder;
use crate::import::{LoadError, Loaded};
use crate::profile::{CallTree, Profile, ProfileSet};

/// Below this the UI says so instead of drawing.
pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 10;

pub struct App {
    pub session: Session,
    /// Derived from the session; `None` while a new one is computed.
    pub view: Option<View>,
    /// What is being computed, for the status line ("computing …").
    pub computing: Option<&'static str>,
    /// Counts view requests: a result for an older one is dropped.
    generation: u64,
    /// The same for comparisons.
    pub(super) compare_generation: u64,
    /// Work asked for by the last update, for the event loop to start.
    pub(super) jobs: Vec<Job>,
    pub pane: Pane,
    /// The flame pane Enter in Sandwich or Priority returns to.
    pub flame_pane: Pane,
    /// The function selected, and the call path to it: shared by every pane.
    pub selection: Selection,
    pub time_order: FlameView,
    pub left_heavy: FlameView,
    pub sandwich: SandwichView,
    pub priority: Option<PriorityView>,
    pub source: SourceView,
    priority_asked: bool,
    pub comparison: Comparison,
    pub search: Option<Search>,
    pub prompt: Option<Prompt>,
    pub help: bool,
    /// The first row of the help shown, where it does not fit.
    pub help_scroll: u16,
    pub heat: bool,
    pub theme: Theme,
    /// The size the layout was made for; drawing at another size lays out again first.
    pub size: Rect,
    pub quit: bool,
    /// A one-line message for the status bar (a bad regex, say).
    pub message: Option<String>,
    /// Left for the event loop by the last update.
    pub effect: Option<Effect>,
    /// A recording being made (`obol record`, `obol attach`): its progress and what is not
    /// shown yet.
    pub live: Option<super::live::LiveState>,
    /// A view is being derived for the latest request.
    pub(super) view_in_flight: bool,
    /// A priority ranking is being computed.
    pub(super) priority_in_flight: bool,
    /// Sandwich's callers and callees being made: for which view and function.
    pub(super) sandwich_in_flight: Option<(u64, crate::profile::FuncId)>,
    /// How far the trees of a view shown as its table alone are made, in percent.
    pub tree_progress: u8,
    /// Files shown from their figures while they are read whole (see `reading.rs`).
    pub(super) reading: Option<super::reading::Reading>,
}

impl App {
    /// The app for `files`; the first view is asked for, not yet derived (see [`App::settle`]).
    pub fn new(files: Vec<Loaded>, theme: Theme, size: Rect) -> App {
        App::with_options(files, theme, size, Options::default())
    }

    /// [`App::new`] starting with `options` instead of the defaults.
    pub fn with_options(files: Vec<Loaded>, theme: Theme, size: Rect, options: Options) -> App {
        let message = files
            .iter()
            .flat_map(|f| {
                f.warnings
                    .iter()
                    .map(move |w| format!("{}: {w}", f.path.display()))
            })
            .next();
        let reading = super::reading::Reading::of(&files);
        let mut app = App {
            session: Session::with_options(files, options),
            view: None,
            computing: None,
            generation: 0,
            compare_generation: 0,
            jobs: Vec::new(),
            pane: Pane::TimeOrder,
            flame_pane: Pane::LeftHeavy,
            selection: Selection::default(),
            time_order: FlameView::new(ChildOrder::Alphabetical),
            left_heavy: FlameView::new(ChildOrder::HeaviestFirst),
            sandwich: SandwichView::new(&[]),
            priority: None,
            source: SourceView::default(),
            priority_asked: false,
            comparison: Comparison::Off,
            search: None,
            prompt: None,
            help: false,
            help_scroll: 0,
            heat: false,
            theme,
            size,
            quit: false,
            message,
            effect: None,
            live: None,
            view_in_flight: false,
            priority_in_flight: false,
            sandwich_in_flight: None,
            tree_progress: 0,
            reading,
        };
        app.rederive();
        app
    }

    /// Runs the work asked for here and now, as the tests and benches want it; what a job
    /// says early is installed first, as the event loop would.
    pub fn settle(&mut self) {
        while let Some(job) = self.take_job() {
            let early = std::sync::Mutex::new(Vec::new());
            let done = job.run(&|said| {
                early
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(said)
            });
            let early = early
                .into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for said in early {
                self.finish(said);
            }
            self.finish(done);
        }
    }

    /// The next job for the event loop to start.
    pub fn take_job(&mut self) -> Option<Job> {
        (!self.jobs.is_empty()).then(|| self.jobs.remove(0))
    }

    /// Which view request the view shown answers: a new view has a new number.
    pub fn view_generation(&self) -> u64 {
        self.generation
    }

    pub fn files(&self) -> &[Loaded] {
        &self.session.files
    }

    pub fn options(&self) -> &Options {
        &self.session.options
    }

    pub fn profile_ref(&self) -> ProfileRef {
        self.session.profile_ref()
    }

    pub fn loaded(&self) -> &Loaded {
        self.session.loaded()
    }

    pub fn set(&self) -> &ProfileSet {
        self.session.set()
    }

    pub fn profile(&self) -> &Profile {
        self.session.profile()
    }

    /// The weight every share is of.
    pub fn shown_total(&self) -> f64 {
        self.view.as_ref().map_or(0.0, |v| v.total)
    }

    /// Whether pane 1 shows Time Order (the profile keeps sample order) or the Flamegraph.
    pub fn has_time_order(&self) -> bool {
        // A profile shown from its figures whose whole reading brings a timeline has the tab's
        // name from the first frame.
        let to_come = self.profile().is_figures_only() && self.profile().timeline_to_come;
        match &self.view {
            Some(view) if !to_come => view.time_order.is_some(),
            _ => (to_come || self.profile().timeline.is_some()) && !self.session.merges(),
        }
    }

    /// The tree a flame pane shows (`None` while the view is computed).
    pub fn tree_for(&self, pane: Pane) -> Option<&CallTree> {
        let view = self.view.as_ref().filter(|v| !v.building)?;
        Some(match pane {
            Pane::TimeOrder => view.time_order_tree(&self.session.files),
            _ => view.tree(&self.session.files),
        })
    }

    /// The flame view of a flame pane.
    pub fn flame(&self, pane: Pane) -> &FlameView {
        if pane == Pane::TimeOrder {
            &self.time_order
        } else {
            &self.left_heavy
        }
    }

    /// The area panes draw in: everything but the tab bar, the badges (when a mode is on) and
    /// the two status lines.
    pub fn body(&self) -> Rect {
        let below = if self.has_badges() { 4 } else { 3 };
        Rect::new(
            0,
            1,
            self.size.width,
            self.size.height.saturating_sub(below),
        )
    }

    /// Whether a comparison takes the flame panes.
    pub fn comparing_in_flame(&self) -> bool {
        !matches!(self.comparison, Comparison::Off)
            && matches!(self.pane, Pane::TimeOrder | Pane::LeftHeavy)
    }

    pub fn difference(&self) -> Option<&Difference> {
        match &self.comparison {
            Comparison::Difference(d) => Some(d),
            _ => None,
        }
    }

    pub fn side_by_side(&self) -> Option<&SideBySide> {
        match &self.comparison {
            Comparison::SideBySide(s) => Some(s),
            _ => None,
        }
    }

    /// Changes the options and asks for the view they give.
    pub(super) fn set_options(&mut self, change: impl FnOnce(&mut Options)) {
        if self.reading.is_some() {
            // The figures cannot answer it, and the files read whole will be asked anyway.
            self.trees_pending();
            return;
        }
        change(&mut self.session.options);
        self.rederive();
    }

    /// Asks for the view of the current options; the one shown is dropped meanwhile.
    fn rederive(&mut self) {
        if let Some(old) = self.view.take() {
            drop_elsewhere(old);
        }
        self.ask_view();
        self.computing = Some(if self.session.options.collapse_recursion {
            "collapsing recursion"
        } else if self.session.merges() {
            "merging threads"
        } else {
            "deriving the view"
        });
    }

    /// Asks for the view of the current options, keeping the one shown until it comes: for
    /// new samples of a live recording, where blanking the panes four times a second would
    /// leave nothing to read.
    pub(super) fn ask_view(&mut self) {
        self.generation += 1;
        self.view_in_flight = true;
        self.jobs.retain(|j| !matches!(j, Job::View { .. }));
        self.jobs.push(Job::View {
            generation: self.generation,
            files: self.session.files.clone(),
            profiles: self.session.profiles.clone(),
            options: self.session.options.clone(),
            body: self.body(),
            // The first view only (the file just loaded, or read whole after its figures were
            // shown): a view asked for later shows what it is computing, in place of the one
            // before.
            two_steps: self.live.is_none() && (self.generation == 1 || self.building()),
        });
    }

    /// Ranks the modules again (live samples came), where the ranking was asked for and none
    /// is being computed; the ranking shown stays meanwhile.
    pub(super) fn rerank(&mut self) {
        if self.priority_asked && !self.priority_in_flight {
            self.priority_in_flight = true;
            self.jobs.push(Job::Priority {
                files: self.session.files.clone(),
                source_roots: self.session.source_roots.clone(),
            });
        }
    }

    /// Asks for the job left to the event loop, for the live recording's `w`.
    pub(super) fn push_job(&mut self, job: Job) {
        self.jobs.push(job);
    }

    /// Installs a finished job's result.
    pub fn finish(&mut self, done: Done) {
        match done {
            Done::View(generation, view, prepared) if generation == self.generation => {
                self.install_view(generation, *view, *prepared);
            }
            Done::ViewTable(generation, view)
                if generation == self.generation && self.view.is_none() =>
            {
                self.install_table(*view);
            }
            Done::ViewTable(_, stale) => drop_elsewhere(stale),
            Done::Building(generation, percent) => {
                if generation == self.generation {
                    self.tree_progress = percent;
                }
            }
            // For options changed since: not wanted, and freed where it costs the UI nothing.
            Done::View(_, stale, _) => drop_elsewhere(stale),
            Done::Compare(generation, comparison) if generation == self.compare_generation => {
                self.comparison = *comparison;
                if self.view.is_some() {
                    self.computing = None;
                }
                self.relayout();
            }
            Done::Compare(_, stale) => drop_elsewhere(stale),
            Done::Source(generation, figures) => self.finish_source(generation, *figures),
            Done::Sandwich(generation, made) => self.finish_sandwich(generation, *made),
            Done::TimeIndex(generation, index) => {
                if let Some(view) = self.view.as_mut().filter(|_| generation == self.generation) {
                    view.time_index = Some(*index);
                }
            }
            Done::Count(counts) => self.finish_counts(*counts),
            Done::Saved(line) => self.message = Some(line),
            Done::Priority(report) => {
                self.priority_in_flight = false;
                self.priority = Some(PriorityView::new(*report, &self.session.files));
                if self.view.is_some() {
                    self.computing = None;
                }
                self.relayout();
            }
        }
        // The worker let go of the session's files: a file read whole may take their place.
        self.fill_in();
    }

    pub(super) fn switch_profile(&mut self, index: usize) {
        let same_file = self.session.profiles[index].file == self.profile_ref().file;
        if !same_file {
            self.selection = Selection::default();
        }
        self.set_options(|o| {
            o.current = index;
            o.focus = None;
        });
    }

    /// Recomputes the layout of the pane shown; called after anything that changes it.
    pub(super) fn relayout(&mut self) {
        let body = self.body();
        let files = &self.session.files;
        match (&mut self.comparison, self.pane) {
            (Comparison::SideBySide(sbs), Pane::TimeOrder | Pane::LeftHeavy) => {
                sbs.relayout(files, body);
                return;
            }
            (Comparison::Difference(d), Pane::TimeOrder | Pane::LeftHeavy) => {
                d.view.relayout(&d.diff.tree, &d.diff.frames, body);
                return;
            }
            _ => {}
        }
        if self.pane == Pane::Priority {
            if let Some(view) = &mut self.priority {
                view.relayout(body);
            } else if !self.priority_asked && self.reading.is_none() {
                self.priority_asked = true;
                self.priority_in_flight = true;
                self.computing = Some("ranking modules");
                self.jobs.push(Job::Priority {
                    files: files.clone(),
                    source_roots: self.session.source_roots.clone(),
                });
            }
            return;
        }
        let Some(view) = &self.view else {
            return;
        };
        if self.waits_for_trees(self.pane) {
            return;
        }
        let frames = &files[view.file].set.frames;
        match self.pane {
            Pane::TimeOrder if view.time_order.is_some() => {
                // The bottom row is the time axis.
                let tree = view.time_order_tree(files);
                let area = Rect::new(body.x, body.y, body.width, body.height.saturating_sub(1));
                self.time_order.relayout(tree, frames, area);
                self.refresh_axis();
            }
            Pane::TimeOrder => {
                self.time_order.axis.clear();
                self.time_order
                    .relayout(view.time_order_tree(files), frames, body)
            }
            Pane::LeftHeavy => self.left_heavy.relayout(view.tree(files), frames, body),
            Pane::Sandwich => {
                if let Comparison::Difference(_) = self.comparison {
                    return;
                }
                self.sandwich.relayout(&view.table, frames, body);
                self.ask_sandwich();
            }
            Pane::Priority => {}
            Pane::Source => self.source.layout(body),
        }
        self.update_search_counts();
    }

    /// Time Order's axis for its zoom: laid out with the pane, and again after a zoom.
    pub(super) fn refresh_axis(&mut self) {
        let Some(view) = &self.view else {
            return;
        };
        let files = &self.session.files;
        if view.time_order.is_none() {
            self.time_order.axis.clear();
            return;
        }
        let unit = files[view.file].set.profiles[view.profile.profile].unit;
        self.time_order.axis = crate::tui::panes::flame::time_axis(
            view.time_order_tree(files),
            self.time_order.zoom_root(),
            unit,
            self.time_order.area.width,
        );
    }

    /// Applies one action. Everything the user can do goes through here.
    pub fn update(&mut self, action: Action) {
        self.message = None;
        if let Action::Resize { width, height } = action {
            self.resize(width, height);
            return;
        }
        if action == Action::Redraw {
            self.effect = Some(Effect::Repaint);
            return;
        }
        if self.prompt.is_some() {
            self.update_prompt(action);
            return;
        }
        if self.help && action != Action::Quit {
            let help = super::panes::help::area(self.size);
            let most = super::panes::help::max_scroll(help) as u16;
            let by = |delta: i32| (i32::from(self.help_scroll) + delta).clamp(0, i32::from(most));
            match action {
                Action::Help | Action::Back => self.help = false,
                Action::Up | Action::ScrollUp => self.help_scroll = by(-1) as u16,
                Action::Down | Action::ScrollDown => self.help_scroll = by(1) as u16,
                Action::PageUp => self.help_scroll = by(-10) as u16,
                Action::PageDown => self.help_scroll = by(10) as u16,
                _ => {}
            }
            return;
        }
        match action {
            Action::Quit => self.quit = true,
            Action::Help => {
                self.help = true;
                self.help_scroll = 0;
            }
            Action::ShowPane(pane) => self.show(pane),
            Action::NextPane => self.show(Pane::ALL[(self.pane.index() + 1) % Pane::ALL.len()]),
            Action::PrevPane => {
                let n = Pane::ALL.len();
                self.show(Pane::ALL[(self.pane.index() + n - 1) % n]);
            }
            Action::PrevProfile | Action::NextProfile => {
                let n = self.session.profiles.len();
                let current = self.session.options.current;
                let next = if action == Action::NextProfile {
                    (current + 1) % n
                } else {
                    (current + n - 1) % n
                };
                if next != current {
                    self.switch_profile(next);
                }
            }
            Action::Search => self.prompt = Some(Prompt::new(PromptKind::Search)),
            Action::Hide => {
                if self.session.options.hidden.is_some() {
                    self.set_options(|o| o.hidden = None);
                } else {
                    self.prompt = Some(Prompt::new(PromptKind::Hide));
                }
            }
            Action::ToggleColors => {
                self.heat = !self.heat;
                // The badge line comes or goes.
                self.relayout();
            }
            Action::FlipOrientation => {
                let icicle = !self.time_order.icicle;
                self.time_order.icicle = icicle;
                self.left_heavy.icicle = icicle;
            }
            Action::CollapseRecursion => {
                self.set_options(|o| o.collapse_recursion = !o.collapse_recursion)
            }
            Action::ByLine => {
                self.set_options(|o| o.by_line = !o.by_line);
                if self.session.options.compare == Compare::SideBySide {
                    self.ask_comparison();
                }
                self.message = Some(if self.session.options.by_line {
                    "frames by line sampled (L groups them by function again)".into()
                } else {
                    "frames grouped by function (L shows them by line)".into()
                });
            }
            Action::MergeThreads => {
                if self.set().profiles.len() > 1 {
                    self.set_options(|o| o.merge_threads = !o.merge_threads);
                } else {
                    self.message = Some("this file has one profile: nothing to merge".into());
                }
            }
            // Focus also leaves the table: neither while the figures are all there is.
            Action::Focus if self.reading.is_some() => self.trees_pending(),
            Action::Focus => match self.selected_function() {
                Some(f) if f.file == self.profile_ref().file => {
                    self.set_options(|o| o.focus = Some(f.func));
                    if matches!(self.pane, Pane::Sandwich | Pane::Priority | Pane::Source) {
                        self.show(Pane::LeftHeavy);
                    }
                }
                _ => self.message = Some("nothing selected to focus on".into()),
            },
            Action::Copy | Action::OpenEditor => self.request_effect(action),
            // Esc ends a search first, in every pane; then it zooms back or leaves focus.
            Action::Back if self.search.is_some() => self.apply_search(None),
            Action::SideBySide => self.toggle_compare(Compare::SideBySide),
            Action::Freeze => self.toggle_freeze(),
            Action::SaveRecording => self.save_recording(),
            Action::Difference => self.toggle_compare(Compare::Difference),
            _ if self.comparing_in_flame() => match &mut self.comparison {
                Comparison::SideBySide(sbs) => sbs.update(&self.session.files, action),
                Comparison::Difference(d) => d.update(action),
                Comparison::Computing => {
                    self.message = Some("still computing: q quits".into());
                }
                Comparison::Off => {}
            },
            _ if self.pane == Pane::Sandwich && self.difference().is_some() => {
                let page = usize::from(self.body().height.saturating_sub(2)).max(1);
                if let Comparison::Difference(d) = &mut self.comparison {
                    d.update_table(action, page);
                }
            }
            _ if self.view.is_none() && self.pane != Pane::Priority => {
                self.message = Some("still computing: q quits".into());
            }
            _ if self.waits_for_trees(self.pane) => self.trees_pending(),
            _ => match self.pane {
                Pane::TimeOrder | Pane::LeftHeavy => self.update_flame(action),
                Pane::Sandwich => self.update_sandwich(action),
                Pane::Priority => self.update_priority(action),
                Pane::Source => self.update_source(action),
            },
        }
    }

    /// Lays out for a new terminal size.
    pub fn resize(&mut self, width: u16, height: u16) {
        self.size = Rect::new(0, 0, width, height);
        self.relayout();
    }

    pub(super) fn show(&mut self, pane: Pane) {
        let from = self.pane;
        self.pane = pane;
        if matches!(pane, Pane::TimeOrder | Pane::LeftHeavy) {
            self.flame_pane = pane;
        }
        // Side by side lives in the flame panes, each in its own order.
        if self.session.options.compare == Compare::SideBySide
            && from != pane
            && matches!(pane, Pane::TimeOrder | Pane::LeftHeavy)
        {
            self.ask_comparison();
        }
        self.relayout();
        self.place_selection();
    }

    /// The function under the selection of the pane shown.
    pub fn selected_function(&self) -> Option<FunctionRef> {
        if self.pane == Pane::Priority {
            return self.priority.as_ref().and_then(|p| p.selected_target());
        }
        if self.pane == Pane::Source {
            return self.source.shown;
        }
        let view = self.view.as_ref()?;
        let func = match self.pane {
            Pane::TimeOrder | Pane::LeftHeavy => {
                let tree = self.tree_for(self.pane)?;
                let frame = self.flame(self.pane).selected.and_then(|n| tree.frame(n))?;
                self.session.files[view.file].set.frames.func_of(frame)
            }
            _ => self.sandwich.selected_function(&view.table)?,
        };
        Some(FunctionRef {
            file: view.file,
            func,
        })
    }
}

/// Frees `value` on a thread of its own: a large file's trees take a while to free, which the
/// UI thread should not wait for.
pub(super) fn drop_elsewhere<T: Send + 'static>(value: T) {
    std::thread::spawn(move || drop(value));
}

/// Everything the loop waits for.
pub enum Event {
    Terminal(TermEvent),
    /// SIGTERM, SIGHUP or SIGINT, by number.
    Signal(i32),
    /// The terminal went away (input failed).
    Hangup,
    Loaded(Box<Result<Loaded, LoadError>>),
    /// How far the whole reading of file `.0`, shown from its figures meanwhile, is (percent).
    Reading(usize, u8),
    /// File `.0` read whole, after it was shown from its figures.
    Read(usize, Box<Result<Loaded, LoadError>>),
    /// A worker finished, after working for so long (for the timing log).
    Done(Done, std::time::Duration),
    /// The live sampler's samples so far and progress.
    Live(Box<crate::live::Update>),
}
