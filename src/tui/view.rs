//! The session's options and the one view derived from them. Every pane and the status line
//! read the view, so they cannot disagree: the flame trees, the Sandwich table with what its
//! callers and callees are built from, and the total every percentage divides by all come from
//! one derivation, made again (off the UI thread) whenever an option changes.

use std::sync::Arc;

use super::session::ProfileRef;
pub use crate::analysis::filter::Hidden;
use crate::analysis::filter::{Filters, FrameFilter, filter_tree, hidden_self_share};
use crate::analysis::sandwich::{FunctionIndex, callees};
use crate::analysis::source_lines::focus_keeping_lines;
use crate::analysis::summary::{FunctionRow, SortKey, function_table, tree_function_weights};
use crate::analysis::timeline::time_order_tree_telling;
use crate::analysis::transform::{
    Siblings, collapse_recursion, group_by_function, has_line_frames, merge, sampled_lines,
};
use crate::import::Loaded;
use crate::profile::{CallTree, CallTreeBuilder, FuncId, Profile, ProfileSet};

/// How the first two files are compared, if at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compare {
    #[default]
    Off,
    /// One flame graph of both, coloured by the change (`d`).
    Difference,
    /// Both in the flame pane, side by side (`s`).
    SideBySide,
}

/// What the user chose to see. The view is a function of the files and these.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Index into the session's profiles: the profile shown (with threads merged, its file).
    pub current: usize,
    /// All profiles of the file as one (`t`).
    pub merge_threads: bool,
    /// What `H` hides (`--only-mine` or `--hide` at the start).
    pub hidden: Option<Hidden>,
    /// The command line's `--focus` (Esc leaves it) and `--ignore`, and the frames hidden
    /// whatever `H` says (the config file's `hide`): applied before everything else.
    pub filters: Filters,
    pub collapse_recursion: bool,
    /// Every stack through this function, re-rooted at it (`f`).
    pub focus: Option<FuncId>,
    /// Frames as the file has them, one per line sampled (`L`), instead of one per function.
    pub by_line: bool,
    pub compare: Compare,
    /// Keep a tree of line-level frames beside the grouped one, for the Source pane's per-line
    /// figures (asked for when that pane is first shown).
    pub line_figures: bool,
}

impl Options {
    /// Whether threads are merged in fact: only where the file has several profiles that add
    /// up with `current` (same unit, same event).
    pub fn merges(&self, set: &ProfileSet, current: &Profile) -> bool {
        self.merge_threads && set.profiles.iter().filter(|p| p.adds_to(current)).count() > 1
    }
}

/// Everything the panes draw, derived from the files under the options.
pub struct View {
    /// The profile shown (with threads merged, the first of its file).
    pub profile: ProfileRef,
    /// Index into the session's files of the file shown.
    pub file: usize,
    /// The merged tree (Left Heavy, Flamegraph, Sandwich's callers and callees), or `None` for
    /// the profile's own tree unchanged: no copy of a large tree is made when nothing asks for
    /// one. Shared, so that work on it can run on a worker (see [`SharedTree`]).
    tree: Option<Arc<CallTree>>,
    /// In recorded order, where the profile keeps one and threads are not merged.
    pub time_order: Option<Arc<CallTree>>,
    /// Each function's nodes in `time_order`, for placing a function chosen in a table: made on
    /// a worker after the view is shown (`None` until then; the tree is walked meanwhile).
    pub time_index: Option<FunctionIndex>,
    /// The weight every share is of: the profile's, or with threads merged the whole file's.
    pub total: f64,
    /// Share of the total that hidden frames held themselves (given to their callers).
    pub hidden_share: f64,
    /// The Sandwich table: every function of the view, by self weight.
    pub table: Vec<FunctionRow>,
    /// Each function's nodes in the tree, for Sandwich's callers and callees.
    pub index: Arc<FunctionIndex>,
    /// Frames grouped by function: per function, the lines its frames were sampled at (lowest,
    /// highest), for the status line. Empty when frames are shown by line.
    pub lines: Vec<Option<(u32, u32)>>,
    /// Whether the trees hold one frame per function (frames of a function's lines grouped).
    pub grouped: bool,
    /// With frames grouped and `line_figures` asked for: the same tree, frames kept by line.
    line_tree: Option<Arc<CallTree>>,
    /// The directory the file's project sources share, which places are shown from.
    pub root: Option<String>,
    /// Only the table and the totals are made yet (see [`derive_table`]): the trees are empty
    /// stand-ins until the whole view of the same request replaces this one.
    pub building: bool,
}

/// A tree of a view that a worker can hold: one the view made (shared with it), or a profile's
/// own, found again in the session's files.
#[derive(Clone)]
pub enum SharedTree {
    Made(Arc<CallTree>),
    Profile(ProfileRef),
}

impl SharedTree {
    pub fn get<'a>(&'a self, files: &'a [Loaded]) -> &'a CallTree {
        match self {
            SharedTree::Made(tree) => tree,
            SharedTree::Profile(r) => files[r.file].set.profiles[r.profile].tree(),
        }
    }
}

impl View {
    /// The merged tree every flame pane but Time Order draws.
    pub fn tree<'a>(&'a self, files: &'a [Loaded]) -> &'a CallTree {
        match &self.tree {
            Some(tree) => tree,
            None => files[self.file].set.profiles[self.profile.profile].tree(),
        }
    }

    /// The tree Time Order (or, without a timeline, the Flamegraph) draws.
    pub fn time_order_tree<'a>(&'a self, files: &'a [Loaded]) -> &'a CallTree {
        self.time_order
            .as_deref()
            .unwrap_or_else(|| self.tree(files))
    }

    /// The tree whose frames keep their lines (the Source pane's), if the view has one.
    pub fn line_tree<'a>(&'a self, files: &'a [Loaded]) -> Option<&'a CallTree> {
        if self.grouped {
            self.line_tree.as_deref()
        } else {
            Some(self.tree(files))
        }
    }

    /// [`View::tree`], for a worker.
    pub fn shared_tree(&self) -> SharedTree {
        match &self.tree {
            Some(tree) => SharedTree::Made(tree.clone()),
            None => SharedTree::Profile(self.profile),
        }
    }

    /// [`View::time_order_tree`], for a worker.
    pub fn shared_time_order_tree(&self) -> SharedTree {
        match &self.time_order {
            Some(tree) => SharedTree::Made(tree.clone()),
            None => self.shared_tree(),
        }
    }

    /// [`View::line_tree`], for a worker.
    pub fn shared_line_tree(&self) -> Option<SharedTree> {
        if self.grouped {
            self.line_tree.clone().map(SharedTree::Made)
        } else {
            Some(self.shared_tree())
        }
    }

    /// The lines a function's frames were sampled at, where they were grouped.
    pub fn lines_of(&self, func: FuncId) -> Option<(u32, u32)> {
        self.lines.get(func.0 as usize).copied().flatten()
    }
}

/// Derives the view. Can take long on a large file (the pstats estimate is built here, trees
/// are rewritten): the event loop runs it on a worker.
pub fn derive(files: &[Loaded], profiles: &[ProfileRef], options: &Options) -> View {
    derive_telling(files, profiles, options, None, &|_| {})
}

/// How much of the view's making is done, in percent, as its steps end; the flame layouts made
/// after [`derive_telling`] take the rest. Where the profile has a timeline, its time-order tree
/// takes most of the time (on the 947 MB speedscope file: 8 s, against 1.6 s for the function
/// index beside it and 0.6 s for the layouts): the share of its samples walked is told, up to
/// [`steps::TIME_ORDER_WALKED`]. Otherwise the rewritten tree, then the function index.
pub mod steps {
    pub const REWRITTEN: u8 = 30;
    pub const INDEXED: u8 = 80;
    pub const TIME_ORDER_WALKED: u8 = 85;
    pub const TIME_ORDERED: u8 = 90;
}

/// From this many nodes (the profile's tree and its timeline's samples) a view is worth showing
/// in two steps: its table first (see [`derive_table`]), then its trees.
pub const TWO_STEPS_FROM: usize = 250_000;

/// The view's table and totals alone, where they can be had without its trees (no frames hidden,
/// no function focused: the table is the file's own figures) and the trees are large enough to
/// take a while: the Sandwich table is usable while the trees are made. Its trees are empty
/// stand-ins, and `building` says so.
pub fn derive_table(files: &[Loaded], profiles: &[ProfileRef], options: &Options) -> Option<View> {
    let r = profiles[options.current];
    let set = &files[r.file].set;
    let profile = &set.profiles[r.profile];
    let merges = options.merges(set, profile);
    let shown = shown_profiles(set, profile, merges);
    let size: usize = shown
        .iter()
        .map(|p| p.tree().len() + p.timeline.as_ref().map_or(0, Vec::len))
        .sum();
    // A file shown from its figures while it is read whole (`reading.rs`) has no trees yet,
    // whatever its size.
    let figures_only = shows_figures_only(files, profiles, options);
    let filter = FrameFilter::new(&set.frames, &options.filters, options.hidden.as_ref());
    if (size < TWO_STEPS_FROM && !figures_only) || !filter.is_identity() || options.focus.is_some()
    {
        return None;
    }
    let empty = || Arc::new(CallTreeBuilder::new().finish());
    let tree = empty();
    let index = FunctionIndex::new(&tree, &set.frames);
    Some(View {
        profile: r,
        file: r.file,
        tree: Some(tree),
        time_order: (!merges && profile.timeline.is_some()).then(empty),
        time_index: None,
        total: shown.iter().map(|p| p.total).sum(),
        hidden_share: 0.0,
        table: function_table(set, &shown, SortKey::SelfWeight),
        index: Arc::new(index),
        lines: Vec::new(),
        grouped: !options.by_line && has_line_frames(&set.frames),
        line_tree: None,
        root: crate::analysis::place::project_root(&set.frames),
        building: true,
    })
}

/// Whether the view of `options` is of a file shown from its figures while it is read whole
/// (`reading.rs`): it has no trees to make yet.
pub fn shows_figures_only(files: &[Loaded], profiles: &[ProfileRef], options: &Options) -> bool {
    let r = profiles[options.current];
    files[r.file]
        .set
        .profiles
        .iter()
        .any(|p| p.is_figures_only())
}

/// [`derive`], told the table already made for these options (by [`derive_table`]), and telling
/// `progress` how far it is (see [`steps`]).
pub fn derive_telling(
    files: &[Loaded],
    profiles: &[ProfileRef],
    options: &Options,
    made_table: Option<Vec<FunctionRow>>,
    progress: &(dyn Fn(u8) + Sync),
) -> View {
    let r = profiles[options.current];
    let set = &files[r.file].set;
    let frames = &set.frames;
    let profile = &set.profiles[r.profile];
    let merges = options.merges(set, profile);
    let shown = shown_profiles(set, profile, merges);
    let total = shown.iter().map(|p| p.total).sum();
    let merged_threads = merges.then(|| merge(&shown.iter().map(|p| p.tree()).collect::<Vec<_>>()));
    // In recorded order, where the profile keeps one and threads are not merged.
    let time_order = merged_threads.is_none() && profile.timeline.is_some();
    let base = merged_threads.as_ref().unwrap_or(profile.tree());
    let filter = FrameFilter::new(frames, &options.filters, options.hidden.as_ref());
    let filters = !filter.is_identity();
    let hidden_share = if filters {
        hidden_self_share(base, &filter)
    } else {
        0.0
    };
    let grouped = !options.by_line && has_line_frames(frames);
    let lines = if grouped {
        sampled_lines(base, frames)
    } else {
        Vec::new()
    };
    let rewrites = grouped || filters || options.collapse_recursion || options.focus.is_some();
    // `focus_by_line`: the Source pane's tree, whose frames (the focused function's too) keep
    // their lines.
    let rewrite = |tree: &CallTree, siblings: Siblings, group: bool, focus_by_line: bool| {
        let mut tree = if filters {
            filter_tree(tree, siblings, &filter).tree
        } else {
            tree.clone()
        };
        if group {
            tree = group_by_function(&tree, frames, siblings);
        }
        if options.collapse_recursion {
            tree = collapse_recursion(&tree, frames, siblings);
        }
        if let Some(func) = options.focus {
            tree = if focus_by_line {
                focus_keeping_lines(&tree, frames, func)
            } else {
                callees(&tree, frames, func)
            };
        }
        tree
    };
    let apply = |tree: &CallTree, siblings: Siblings| rewrite(tree, siblings, grouped, false);
    // The time-order tree (a node per sample where stacks change, the largest tree of a long
    // recording) is made on the second core while this one makes the rest.
    let (rewritten, line_tree, table, index, time_order) = std::thread::scope(|scope| {
        let time_order = time_order.then(|| {
            scope.spawn(|| {
                let samples = profile.timeline.as_ref().map_or(0, Vec::len).max(1);
                let walked = |done: usize| {
                    progress((done * usize::from(steps::TIME_ORDER_WALKED) / samples) as u8)
                };
                let tree = time_order_tree_telling(profile, &walked);
                if rewrites {
                    apply(&tree, Siblings::InOrder)
                } else {
                    tree
                }
            })
        });
        let rewritten = rewrites.then(|| apply(base, Siblings::Merged));
        if time_order.is_none() {
            progress(steps::REWRITTEN);
        }
        let line_tree = (grouped && options.line_figures).then(|| {
            if filters || options.collapse_recursion || options.focus.is_some() {
                rewrite(base, Siblings::Merged, false, true)
            } else {
                base.clone()
            }
        });
        let shown_tree = rewritten.as_ref().unwrap_or(base);
        // Two passes over the whole tree, on both cores once the time order is made.
        let (table, index) = std::thread::scope(|inner| {
            let index = inner.spawn(|| FunctionIndex::new(shown_tree, frames));
            let table = made_table
                .unwrap_or_else(|| function_rows(set, &shown, shown_tree, options, filters));
            (table, joined(index))
        });
        if time_order.is_none() {
            progress(steps::INDEXED);
        }
        let time_order = time_order.map(joined);
        if time_order.is_some() {
            progress(steps::TIME_ORDERED);
        }
        (rewritten, line_tree, table, index, time_order)
    });
    let tree = rewritten.or(merged_threads).map(Arc::new);
    View {
        profile: r,
        file: r.file,
        tree,
        time_order: time_order.map(Arc::new),
        time_index: None,
        total,
        hidden_share,
        table,
        index: Arc::new(index),
        lines,
        grouped,
        line_tree: line_tree.map(Arc::new),
        root: crate::analysis::place::project_root(frames),
        building: false,
    }
}

/// The profiles a view shows: with threads merged, those that add up with the current one (same
/// unit, same event), else the current one.
fn shown_profiles<'a>(set: &'a ProfileSet, profile: &'a Profile, merges: bool) -> Vec<&'a Profile> {
    if merges {
        set.profiles.iter().filter(|p| p.adds_to(profile)).collect()
    } else {
        vec![profile]
    }
}

/// A scoped thread's result; a panic there goes on in the thread that waits for it.
pub(super) fn joined<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// The Sandwich table. The file's own figures (pstats' exact ones, with calls) while the view
/// keeps every function's samples; once frames are hidden or a function focused, the figures of
/// the tree shown, so that the table lists what the flame panes draw.
fn function_rows(
    set: &ProfileSet,
    shown: &[&Profile],
    tree: &CallTree,
    options: &Options,
    filters: bool,
) -> Vec<FunctionRow> {
    if !filters && options.focus.is_none() {
        return function_table(set, shown, SortKey::SelfWeight);
    }
    let (self_weight, total_weight) = tree_function_weights(tree, &set.frames);
    // Calls are the file's; a stack left out took some of them along.
    let calls_known = options.focus.is_none()
        && options.filters.focus.is_none()
        && options.filters.ignore.is_none();
    let mut calls = vec![None; set.frames.function_count()];
    let mut primitive_calls = vec![None; set.frames.function_count()];
    if calls_known {
        let add = |slot: &mut Option<u64>, n: Option<u64>| {
            if let Some(n) = n {
                *slot = Some(slot.unwrap_or(0).saturating_add(n));
            }
        };
        for stats in shown.iter().filter_map(|p| p.function_stats.as_ref()) {
            for stat in stats {
                add(&mut calls[stat.func.0 as usize], stat.calls);
                add(
                    &mut primitive_calls[stat.func.0 as usize],
                    stat.primitive_calls,
                );
            }
        }
    }
    let mut rows: Vec<FunctionRow> = (0..self_weight.len())
        .filter(|&i| self_weight[i] != 0.0 || total_weight[i] != 0.0)
        .map(|i| FunctionRow {
            func: FuncId(i as u32),
            self_weight: self_weight[i],
            total_weight: total_weight[i],
            calls: calls[i],
            primitive_calls: primitive_calls[i],
        })
        .collect();
    crate::analysis::summary::sort_rows(&mut rows, set, SortKey::SelfWeight);
    rows
}
