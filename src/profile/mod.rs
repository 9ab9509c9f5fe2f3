//! The in-memory model every importer produces and every view reads. No UI code here.

pub mod frame;
pub(crate) mod id_table;
#[cfg(test)]
pub(crate) mod test_rng;
pub mod tree;
pub mod unit;

use std::sync::LazyLock;

pub use frame::{Frame, FrameId, FrameTable, FuncId, Function, FunctionKey};
pub use tree::{CallTree, CallTreeBuilder, NodeId, OrderedTreeBuilder, ShapedTree, SummedTree};
pub use unit::Unit;

/// One sample or interval in the order the profiler recorded it, as a leaf of the merged tree
/// (which names the whole stack). Consecutive samples of one stack are what Time Order draws as
/// one wide frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimelineSample {
    pub leaf: NodeId,
    pub weight: f64,
}

/// Caller → callee figures from a pstats file, in its own order: (calls, primitive calls, self,
/// cumulative) as they were spent under this caller.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EdgeStats {
    pub calls: Option<u64>,
    pub primitive_calls: Option<u64>,
    pub self_weight: f64,
    pub total_weight: f64,
}

/// A function's figures exactly as the file gives them (pstats states them; folded files let the
/// importer count them line by line), not derived from the call tree, which may be an estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionStats {
    pub func: FuncId,
    pub calls: Option<u64>,
    pub primitive_calls: Option<u64>,
    pub self_weight: f64,
    pub total_weight: f64,
    pub callers: Vec<(FuncId, EdgeStats)>,
}

impl FunctionStats {
    /// A sampled format's figures: weights counted while reading, no calls, no caller edges.
    pub fn sampled(func: FuncId, self_weight: f64, total_weight: f64) -> FunctionStats {
        FunctionStats {
            func,
            calls: None,
            primitive_calls: None,
            self_weight,
            total_weight,
            callers: Vec::new(),
        }
    }
}

/// One profile: a thread of a py-spy run, one entry of a speedscope file, or a whole pstats file.
#[derive(Debug)]
pub struct Profile {
    pub name: String,
    pub unit: Unit,
    /// The weight of the whole profile. For pstats this is `total_tt`, which the call tree (an
    /// estimate rebuilt from caller edges) need not match exactly.
    pub total: f64,
    /// Read through [`Profile::tree`]. `None` for a profile whose tree is an estimate not made
    /// yet (pstats, read for its function table only): see [`Profile::set_tree`].
    tree: Option<CallTree>,
    /// Samples in recorded order, where the format keeps it (speedscope).
    pub timeline: Option<Vec<TimelineSample>>,
    /// The timeline replays timed open/close events (speedscope's evented profiles, Chrome
    /// trace events) rather than samples: written back as events.
    pub evented: bool,
    /// speedscope's `startValue`/`endValue`, where given.
    pub start_value: Option<f64>,
    pub end_value: Option<f64>,
    /// Exact per-function figures where the format has them (pstats).
    pub function_stats: Option<Vec<FunctionStats>>,
    /// What the profile counts, where a file holds several measures of one run in one unit
    /// (callgrind's events, perf's): such profiles are views of the same run, never added up.
    pub event: Option<String>,
    /// The tree was estimated from calls between functions (pstats, callgrind), not recorded
    /// as stacks: the function table is exact, the stacks are not.
    pub estimated_tree: bool,
    /// A profile read for its figures alone ([`Profile::figures_only`]) whose whole reading
    /// will bring a timeline (speedscope's sampled profiles keep their samples' order): the
    /// UI names its first pane Time Order from the first frame.
    pub timeline_to_come: bool,
}

impl Profile {
    /// A profile whose total is its tree's, with no timeline and no exact function figures.
    pub fn from_tree(name: impl Into<String>, unit: Unit, tree: CallTree) -> Profile {
        Profile {
            name: name.into(),
            unit,
            total: tree.total(),
            tree: Some(tree),
            timeline: None,
            evented: false,
            start_value: None,
            end_value: None,
            function_stats: None,
            event: None,
            estimated_tree: false,
            timeline_to_come: false,
        }
    }

    /// A profile of exact function figures whose tree is yet to be estimated from them
    /// (pstats'): an explicit step, [`Profile::set_tree`], for those who need the tree.
    pub fn without_tree(
        name: impl Into<String>,
        unit: Unit,
        total: f64,
        function_stats: Vec<FunctionStats>,
    ) -> Profile {
        Profile {
            name: name.into(),
            unit,
            total,
            tree: None,
            timeline: None,
            evented: false,
            start_value: None,
            end_value: None,
            function_stats: Some(function_stats),
            event: None,
            estimated_tree: true,
            timeline_to_come: false,
        }
    }

    /// A profile read for its function figures and total only (`obol summary` of a format that
    /// counts them while reading): it has no call tree, and none can be estimated for it.
    pub fn figures_only(
        name: impl Into<String>,
        unit: Unit,
        total: f64,
        function_stats: Vec<FunctionStats>,
    ) -> Profile {
        Profile {
            estimated_tree: false,
            ..Profile::without_tree(name, unit, total, function_stats)
        }
    }

    /// Whether the weights of the two profiles add up: same unit, same event.
    pub fn adds_to(&self, other: &Profile) -> bool {
        self.unit == other.unit && self.event == other.event
    }

    /// The call tree; empty for a profile whose estimated tree was not made (it was read for
    /// its function table only).
    pub fn tree(&self) -> &CallTree {
        static EMPTY: LazyLock<CallTree> = LazyLock::new(|| CallTreeBuilder::new().finish());
        self.tree.as_ref().unwrap_or(&EMPTY)
    }

    /// Whether the tree exists (an estimated tree is made only when asked for).
    pub fn has_tree(&self) -> bool {
        self.tree.is_some()
    }

    /// Whether the profile was read for its figures alone ([`Profile::figures_only`]): its
    /// call tree, if any, is had only by reading the file whole.
    pub fn is_figures_only(&self) -> bool {
        self.tree.is_none() && !self.estimated_tree
    }

    /// Gives the profile its tree, once estimated.
    pub fn set_tree(&mut self, tree: CallTree) {
        self.tree = Some(tree);
    }
}

/// Everything one file held: its frames, shared by its one or more profiles.
#[derive(Debug)]
pub struct ProfileSet {
    pub frames: FrameTable,
    pub profiles: Vec<Profile>,
}

impl ProfileSet {
    /// The unit of the file: that of its first profile (speedscope files may mix units; the
    /// summary of a mixed file names the first).
    pub fn unit(&self) -> Unit {
        self.profiles.first().map_or(Unit::None, |p| p.unit)
    }

    /// Weight of the whole file: all its profiles in the file's unit. Profiles in another unit
    /// (pprof's other sample types: CPU time beside sample counts) or of another event
    /// (callgrind's) are not added in.
    pub fn total(&self) -> f64 {
        self.summed().map(|p| p.total).sum()
    }

    /// The profiles whose weights add up with the first's (its threads), which the file's total,
    /// its summary and a comparison of two files cover.
    pub fn summed(&self) -> impl Iterator<Item = &Profile> {
        let first = self.profiles.first();
        self.profiles
            .iter()
            .filter(move |p| first.is_some_and(|f| p.adds_to(f)))
    }

    /// The name of a frame, file and line as `name (file:line)`, the way py-spy writes them.
    pub fn describe_frame(&self, frame: FrameId) -> String {
        let frame = self.frames.frame(frame);
        match (&frame.file, frame.line) {
            (Some(file), Some(line)) => format!("{} ({file}:{line})", frame.name),
            (Some(file), None) => format!("{} ({file})", frame.name),
            _ => frame.name.to_owned(),
        }
    }
}
