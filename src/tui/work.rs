//! Work that can take long, run off the UI thread: deriving the view (which builds pstats'
//! estimated tree, merges threads, rewrites trees), the comparison of two files and the
//! priority ranking. The UI shows
//! "computing …" meanwhile and stays responsive; a result for options changed since is dropped.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::mpsc::Sender;

use ratatui::layout::Rect;

use super::app::{Comparison, Event};
use super::callers::{SandwichRequest, SandwichTrees};
use super::panes::flame::FlameView;
use super::search::{CountKey, Counts};
use super::session::{FunctionRef, ProfileRef};
use super::source::SourceFigures;
use super::view::{
    Compare, Options, SharedTree, View, derive_table, derive_telling, joined, shows_figures_only,
};
use crate::analysis::flame::ChildOrder;
use crate::analysis::priority::{GraphSource, PriorityReport, Weights};
use crate::analysis::sandwich::FunctionIndex;
use crate::import::Loaded;

/// A computation asked for by `App::update`, started by the event loop.
pub enum Job {
    View {
        /// Which request this answers: only the latest one's result is used.
        generation: u64,
        files: Arc<Vec<Loaded>>,
        profiles: Vec<ProfileRef>,
        options: Options,
        /// The area the flame panes draw in, for their first layouts.
        body: Rect,
        /// The table may come first, on its own, where the trees take a while (see
        /// [`super::view::derive_table`]): for the first view of a file; not for a live
        /// recording's refreshes, which keep the view shown until the next one is whole.
        two_steps: bool,
    },
    Priority {
        files: Arc<Vec<Loaded>>,
        source_roots: Vec<PathBuf>,
    },
    /// The Source pane's annotation of a function.
    Source {
        /// The view it is made for.
        generation: u64,
        files: Arc<Vec<Loaded>>,
        tree: SharedTree,
        shown: Vec<usize>,
        target: FunctionRef,
        source_roots: Vec<PathBuf>,
    },
    /// A search's matches counted in a tree.
    Count {
        key: CountKey,
        regex: String,
        files: Arc<Vec<Loaded>>,
        tree: SharedTree,
        /// With a focus: the profiles whose whole trees the share of the file is counted in.
        whole: Option<Vec<ProfileRef>>,
        frame_matches: Vec<bool>,
        file_total: f64,
    },
    Compare {
        generation: u64,
        files: Arc<Vec<Loaded>>,
        compare: Compare,
        order: ChildOrder,
        by_line: bool,
    },
    /// The function index of a view's time-order tree.
    TimeIndex {
        generation: u64,
        files: Arc<Vec<Loaded>>,
        file: usize,
        tree: Arc<crate::profile::CallTree>,
    },
    /// Sandwich's callers and callees of a function.
    Sandwich {
        /// The view they are made for.
        generation: u64,
        files: Arc<Vec<Loaded>>,
        request: Box<SandwichRequest>,
    },
    /// A live recording's samples so far (its one file) written to `path` as speedscope JSON.
    Save {
        files: Arc<Vec<Loaded>>,
        path: PathBuf,
    },
}

/// A job's result.
pub enum Done {
    View(u64, Box<View>, Box<Prepared>),
    /// The first of a view's two steps: its table and totals, its trees still being made.
    ViewTable(u64, Box<View>),
    /// How far the trees of the view asked for are made, in percent.
    Building(u64, u8),
    Priority(Box<PriorityReport>),
    Compare(u64, Box<Comparison>),
    Source(u64, Box<SourceFigures>),
    Sandwich(u64, Box<SandwichTrees>),
    TimeIndex(u64, Box<FunctionIndex>),
    Count(Box<Counts>),
    /// What saving said: the line to show.
    Saved(String),
}

/// The flame panes' layouts of a new view's whole trees, made on the worker with the view so that
/// neither its first frame nor the first switch to the other flame pane lays out a large tree on
/// the UI thread.
pub struct Prepared {
    pub time_order: FlameView,
    pub left_heavy: FlameView,
}

impl Prepared {
    fn of(view: &View, files: &[Loaded], body: Rect) -> Prepared {
        let frames = &files[view.file].set.frames;
        let (order, area) = match view.time_order {
            // The bottom row is Time Order's time axis.
            Some(_) => (
                ChildOrder::Stored,
                Rect::new(body.x, body.y, body.width, body.height.saturating_sub(1)),
            ),
            None => (ChildOrder::Alphabetical, body),
        };
        // One pane on each core.
        std::thread::scope(|scope| {
            let left_heavy = scope.spawn(|| {
                let mut left_heavy = FlameView::new(ChildOrder::HeaviestFirst);
                left_heavy.relayout(view.tree(files), frames, body);
                left_heavy
            });
            let mut time_order = FlameView::new(order);
            time_order.relayout(view.time_order_tree(files), frames, area);
            let left_heavy = joined(left_heavy);
            Prepared {
                time_order,
                left_heavy,
            }
        })
    }
}

impl Done {
    /// Which work this is the result of, for the timing log.
    pub fn kind(&self) -> &'static str {
        match self {
            // Of a file shown from its figures: the whole view comes once it is read.
            Done::View(_, view, _) if view.building => "view-figures",
            Done::View(..) => "view",
            Done::ViewTable(..) => "view-table",
            Done::Building(..) => "building",
            Done::Priority(_) => "priority",
            Done::Compare(..) => "compare",
            Done::Source(..) => "source",
            Done::Sandwich(..) => "sandwich",
            Done::TimeIndex(..) => "time-index",
            Done::Count(_) => "count",
            Done::Saved(_) => "saved",
        }
    }
}

impl Job {
    /// Runs the job; what it has to say before it is done (a view's table, how far its trees
    /// are) is handed to `early` meanwhile.
    pub fn run(self, early: &(dyn Fn(Done) + Sync)) -> Done {
        match self {
            Job::View {
                generation,
                files,
                profiles,
                options,
                body,
                two_steps,
            } => {
                let table = two_steps
                    .then(|| derive_table(&files, &profiles, &options))
                    .flatten();
                // Of a file shown from its figures while it is read whole, the table is all
                // there is to show until then.
                let table = match table {
                    Some(view) if shows_figures_only(&files, &profiles, &options) => {
                        let prepared = Prepared::of(&view, &files, body);
                        return Done::View(generation, Box::new(view), Box::new(prepared));
                    }
                    table => table,
                };
                let table = table.map(|view| {
                    let table = view.table.clone();
                    early(Done::ViewTable(generation, Box::new(view)));
                    table
                });
                let building = table.is_some();
                // Told from two threads, in no set order: only a higher figure is passed on.
                let told = AtomicU8::new(0);
                let progress = |percent| {
                    if building && told.fetch_max(percent, Ordering::Relaxed) < percent {
                        early(Done::Building(generation, percent));
                    }
                };
                let view = derive_telling(&files, &profiles, &options, table, &progress);
                let prepared = Prepared::of(&view, &files, body);
                Done::View(generation, Box::new(view), Box::new(prepared))
            }
            Job::Priority {
                files,
                source_roots,
            } => {
                let report = crate::analysis::priority_report::priority_report(
                    &files,
                    &source_roots,
                    Weights::default(),
                )
                .unwrap_or_else(|_| PriorityReport {
                    weights: Weights::default(),
                    graph_source: GraphSource::Calls,
                    modules: Vec::new(),
                });
                Done::Priority(Box::new(report))
            }
            Job::Source {
                generation,
                files,
                tree,
                shown,
                target,
                source_roots,
            } => Done::Source(
                generation,
                Box::new(SourceFigures::make(
                    &files,
                    tree.get(&files),
                    &shown,
                    target,
                    &source_roots,
                )),
            ),
            Job::Count {
                key,
                regex,
                files,
                tree,
                whole,
                frame_matches,
                file_total,
            } => {
                let whole = whole.map(|refs| {
                    refs.iter()
                        .map(|r| files[r.file].set.profiles[r.profile].tree())
                        .collect()
                });
                Done::Count(Box::new(Counts::make(
                    key,
                    regex,
                    tree.get(&files),
                    whole,
                    &frame_matches,
                    file_total,
                )))
            }
            Job::Compare {
                generation,
                files,
                compare,
                order,
                by_line,
            } => Done::Compare(
                generation,
                Box::new(Comparison::of(&files, compare, order, by_line)),
            ),
            Job::TimeIndex {
                generation,
                files,
                file,
                tree,
            } => Done::TimeIndex(
                generation,
                Box::new(FunctionIndex::new(&tree, &files[file].set.frames)),
            ),
            Job::Sandwich {
                generation,
                files,
                request,
            } => Done::Sandwich(generation, Box::new(SandwichTrees::make(&files, *request))),
            Job::Save { files, path } => Done::Saved(super::live::save_line(&files, &path)),
        }
    }

    /// Runs the job on a thread of its own; the result comes back on the loop's channel.
    pub fn spawn(self, sender: Sender<Event>) {
        std::thread::spawn(move || {
            super::input::yield_to_the_screen();
            let start = std::time::Instant::now();
            let done = self.run(&|early| {
                let _ = sender.send(Event::Done(early, start.elapsed()));
            });
            // The loop may have quit meanwhile: nobody left to tell.
            let _ = sender.send(Event::Done(done, start.elapsed()));
        });
    }
}
