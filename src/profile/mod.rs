//! The in-memory model every importer produces and every view reads. No UI code here.

pub mod frame;
mod lazy_tree;
pub mod tree;
pub mod unit;

pub use frame::{Frame, FrameId, FrameTable, FuncId, Function, FunctionKey};
use lazy_tree::LazyTree;
pub use lazy_tree::TreeRecipe;
pub use tree::{CallTree, CallTreeBuilder, NodeId, ShapedTree};
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
    /// Read through [`Profile::tree`]: it may be built when first asked for.
    tree: LazyTree,
    /// Samples in recorded order, where the format keeps it (speedscope).
    pub timeline: Option<Vec<TimelineSample>>,
    /// speedscope's `startValue`/`endValue`, where given.
    pub start_value: Option<f64>,
    pub end_value: Option<f64>,
    /// Exact per-function figures where the format has them (pstats).
    pub function_stats: Option<Vec<FunctionStats>>,
}

impl Profile {
    /// A profile whose total is its tree's, with no timeline and no exact function figures.
    pub fn from_tree(name: impl Into<String>, unit: Unit, tree: CallTree) -> Profile {
        Profile {
            name: name.into(),
            unit,
            total: tree.total(),
            tree: LazyTree::built(tree),
            timeline: None,
            start_value: None,
            end_value: None,
            function_stats: None,
        }
    }

    /// A profile whose tree is built from its function figures by `recipe` when first asked
    /// for (pstats' estimate), not before.
    pub fn with_tree_recipe(
        name: impl Into<String>,
        unit: Unit,
        total: f64,
        function_stats: Vec<FunctionStats>,
        recipe: TreeRecipe,
    ) -> Profile {
        Profile {
            name: name.into(),
            unit,
            total,
            tree: LazyTree::pending(recipe),
            timeline: None,
            start_value: None,
            end_value: None,
            function_stats: Some(function_stats),
        }
    }

    /// The call tree, built now if it was left for when it is needed.
    pub fn tree(&self) -> &CallTree {
        self.tree_and_warnings().0
    }

    /// Whether the tree exists yet (a recipe's tree is built on first use).
    pub fn tree_is_built(&self) -> bool {
        self.tree.is_built()
    }

    /// The call tree and what building it had to tell the user (an estimate cut short).
    pub fn tree_and_warnings(&self) -> (&CallTree, &[String]) {
        let stats = self.function_stats.as_deref().unwrap_or_default();
        self.tree.get(stats)
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
    /// (pprof's other sample types: CPU time beside sample counts) are not added in.
    pub fn total(&self) -> f64 {
        let unit = self.unit();
        self.profiles
            .iter()
            .filter(|p| p.unit == unit)
            .map(|p| p.total)
            .sum()
    }

    /// The name of a frame, file and line as `name (file:line)`, the way py-spy writes them.
    pub fn describe_frame(&self, frame: FrameId) -> String {
        let frame = self.frames.frame(frame);
        match (&frame.file, frame.line) {
            (Some(file), Some(line)) => format!("{} ({file}:{line})", frame.name),
            (Some(file), None) => format!("{} ({file})", frame.name),
            _ => frame.name.clone(),
        }
    }
}
