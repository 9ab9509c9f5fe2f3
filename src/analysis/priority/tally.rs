//! What the profiles say about each module: its self time (with the time of code that is no
//! module of its own charged to its callers), calls, allocated bytes, the calls between modules,
//! and the hottest path.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::rc::Rc;

use crate::analysis::modules::{ModuleNamer, Owner};
use crate::analysis::transform::is_library_file;
use crate::profile::{CallTree, EdgeStats, FuncId, FunctionStats, NodeId, ProfileSet};

/// Which modules are ranked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ModuleScope {
    /// The project's own: the standard library and installed packages (the files the UI's
    /// "only my code" hides) are charged to the project module that called them, as C
    /// built-ins are.
    #[default]
    Project,
    /// Every module the profiles spend time in.
    All,
}

#[derive(Default)]
pub(super) struct Tally {
    pub self_time: BTreeMap<String, f64>,
    pub calls: BTreeMap<String, u64>,
    pub bytes: BTreeMap<String, f64>,
    pub call_edges: BTreeSet<(String, String)>,
    pub hot_path: BTreeSet<String>,
    /// Some file of each module, to find its source.
    pub files: BTreeMap<String, String>,
    /// Each module's own function with the most self time: (time, set, function).
    pub heaviest: BTreeMap<String, (f64, usize, FuncId)>,
    pub has_call_counts: bool,
}

/// Adds up the time profiles (`time`) and the memory profiles (`memory`) by module.
pub(super) fn tally(
    time: &[&ProfileSet],
    memory: &[&ProfileSet],
    namer: &ModuleNamer,
    scope: ModuleScope,
) -> Tally {
    let mut tally = Tally::default();
    let mut ids = ModuleIds::default();
    for (set_index, set) in time.iter().enumerate() {
        let owners = owners(set, namer, scope);
        for (owner, function) in owners.iter().zip(set.frames.functions()) {
            if let (Owner::Module(m), Some(file)) = (owner, &function.file) {
                tally
                    .files
                    .entry(m.clone())
                    .or_insert_with(|| file.to_string());
            }
        }
        let module_of_func = ids.number(&owners);
        let heaviest = set
            .profiles
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total.total_cmp(&b.1.total))
            .map(|(i, _)| i);
        for (i, profile) in set.profiles.iter().enumerate() {
            let counted = profile
                .function_stats
                .as_ref()
                .filter(|stats| stats.iter().any(|s| s.calls.is_some()));
            let modules = if counted.is_none() || Some(i) == heaviest {
                tree_modules(set, profile.tree(), &module_of_func)
            } else {
                Vec::new()
            };
            match counted {
                Some(stats) => tally_counted(&mut tally, set_index, stats, &owners),
                None => {
                    let tree = profile.tree();
                    tally_tree(
                        &mut tally,
                        &ids,
                        set,
                        set_index,
                        tree,
                        &module_of_func,
                        &modules,
                    )
                }
            }
            if Some(i) == heaviest {
                for module in hot_path(profile.tree(), &modules) {
                    tally.hot_path.insert(ids.names[module as usize].clone());
                }
            }
        }
    }
    for set in memory {
        let owners = owners(set, namer, scope);
        let module_of_func = ids.number(&owners);
        for profile in &set.profiles {
            let tree = profile.tree();
            let modules = tree_modules(set, tree, &module_of_func);
            let mut bytes = Sums::starting_from(&tally.bytes, &ids);
            for node in tree.ids() {
                bytes.add(modules[node.0 as usize], tree.self_weight(node));
            }
            bytes.write_back(&mut tally.bytes, &ids);
        }
    }
    tally
}

/// No module: the node's code and every caller's is charged to nobody.
const NO_MODULE: u32 = u32::MAX;

/// Modules by number, for the passes over every node of a tree: a node's module as a `u32`
/// rather than a `String` makes those passes a load and a compare per node on trees of tens of
/// millions of nodes.
#[derive(Default)]
struct ModuleIds {
    names: Vec<String>,
    by_name: HashMap<String, u32>,
}

impl ModuleIds {
    /// Each function's module number (`NO_MODULE` for code charged to its callers).
    fn number(&mut self, owners: &[Owner]) -> Vec<u32> {
        owners
            .iter()
            .map(|owner| match owner {
                Owner::Module(m) => *self.by_name.entry(m.clone()).or_insert_with(|| {
                    self.names.push(m.clone());
                    (self.names.len() - 1) as u32
                }),
                Owner::Builtin => NO_MODULE,
            })
            .collect()
    }
}

/// Per-module sums by number, started from the tally's sums so far so that each module's
/// weights are added in the same order as one map entry per node would add them.
struct Sums {
    sum: Vec<f64>,
    touched: Vec<bool>,
}

impl Sums {
    fn starting_from(map: &BTreeMap<String, f64>, ids: &ModuleIds) -> Sums {
        Sums {
            sum: ids
                .names
                .iter()
                .map(|n| map.get(n).copied().unwrap_or(0.0))
                .collect(),
            touched: vec![false; ids.names.len()],
        }
    }

    fn add(&mut self, module: u32, weight: f64) {
        if module != NO_MODULE {
            self.sum[module as usize] += weight;
            self.touched[module as usize] = true;
        }
    }

    fn write_back(self, map: &mut BTreeMap<String, f64>, ids: &ModuleIds) {
        for (m, sum) in self.sum.into_iter().enumerate() {
            if self.touched[m] {
                map.insert(ids.names[m].clone(), sum);
            }
        }
    }
}

/// The calls between modules seen, as (caller, callee) numbers: a bit matrix while the modules
/// are few enough for one (every node of a tree tests it), a hash set beyond.
enum EdgeSet {
    Dense { modules: usize, bits: Vec<u64> },
    Sparse(HashSet<(u32, u32)>),
}

impl EdgeSet {
    const DENSE_UP_TO: usize = 8192;

    fn new(modules: usize) -> EdgeSet {
        if modules <= Self::DENSE_UP_TO {
            EdgeSet::Dense {
                modules,
                bits: vec![0; (modules * modules).div_ceil(64)],
            }
        } else {
            EdgeSet::Sparse(HashSet::new())
        }
    }

    fn insert(&mut self, from: u32, to: u32) {
        match self {
            EdgeSet::Dense { modules, bits } => {
                let i = from as usize * *modules + to as usize;
                bits[i / 64] |= 1 << (i % 64);
            }
            EdgeSet::Sparse(set) => {
                set.insert((from, to));
            }
        }
    }

    fn pairs(&self) -> Vec<(u32, u32)> {
        match self {
            EdgeSet::Dense { modules, bits } => (0..modules * modules)
                .filter(|i| bits[i / 64] & (1 << (i % 64)) != 0)
                .map(|i| ((i / modules) as u32, (i % modules) as u32))
                .collect(),
            EdgeSet::Sparse(set) => set.iter().copied().collect(),
        }
    }
}

/// Each function's owner; out of the project scope, library code owns nothing and is charged
/// to its callers.
fn owners(set: &ProfileSet, namer: &ModuleNamer, scope: ModuleScope) -> Vec<Owner> {
    set.frames
        .functions()
        .map(|f| {
            let file = f.file;
            if scope == ModuleScope::Project && is_library_file(file) {
                Owner::Builtin
            } else {
                namer.owner(file, f.name)
            }
        })
        .collect()
}

fn module_of(owners: &[Owner], func: FuncId) -> Option<&str> {
    match &owners[func.0 as usize] {
        Owner::Module(m) => Some(m),
        Owner::Builtin => None,
    }
}

/// Each tree node's module number: its own function's, or for code charged to callers the
/// nearest caller's.
fn tree_modules(set: &ProfileSet, tree: &CallTree, module_of_func: &[u32]) -> Vec<u32> {
    let mut modules = vec![NO_MODULE; tree.len()];
    // Parents come before children, so one forward pass sees every caller's module first.
    for node in tree.ids().skip(1) {
        let own = tree.frame(node).map_or(NO_MODULE, |frame| {
            module_of_func[set.frames.func_of(frame).0 as usize]
        });
        modules[node.0 as usize] = if own != NO_MODULE {
            own
        } else {
            tree.parent(node)
                .map_or(NO_MODULE, |p| modules[p.0 as usize])
        };
    }
    modules
}

/// A pstats profile: its exact per-function figures, with code charged to callers split
/// among them.
fn tally_counted(tally: &mut Tally, set_index: usize, stats: &[FunctionStats], owners: &[Owner]) {
    tally.has_call_counts = true;
    let mut charges = Charges::new(stats, owners);
    for stat in stats {
        let own = module_of(owners, stat.func);
        for (module, share) in charges.of_self(stat.func).iter() {
            *tally.self_time.entry(module.clone()).or_default() += share * stat.self_weight;
            *tally.calls.entry(module.clone()).or_default() +=
                (share * stat.calls.unwrap_or(0) as f64).round() as u64;
        }
        if let Some(module) = own {
            note_heaviest(tally, module, stat.self_weight, set_index, stat.func);
            for (caller, _) in &stat.callers {
                if let Some(caller) = module_of(owners, *caller)
                    && caller != module
                {
                    tally
                        .call_edges
                        .insert((caller.to_owned(), module.to_owned()));
                }
            }
        }
    }
}

/// A sampled profile: every node's self weight to its module (`modules`, by node), the calls
/// between modules along the tree's edges, and each module's heaviest node of its own code.
fn tally_tree(
    tally: &mut Tally,
    ids: &ModuleIds,
    set: &ProfileSet,
    set_index: usize,
    tree: &CallTree,
    module_of_func: &[u32],
    modules: &[u32],
) {
    let mut self_time = Sums::starting_from(&tally.self_time, ids);
    let mut heaviest: Vec<Option<(f64, FuncId)>> = vec![None; ids.names.len()];
    let mut edges = EdgeSet::new(ids.names.len());
    for node in tree.ids().skip(1) {
        let module = modules[node.0 as usize];
        if module == NO_MODULE {
            continue;
        }
        let weight = tree.self_weight(node);
        self_time.add(module, weight);
        if let Some(frame) = tree.frame(node) {
            let func = set.frames.func_of(frame);
            if module_of_func[func.0 as usize] == module {
                // The first of the heaviest, as `note_heaviest` keeps it.
                let best = &mut heaviest[module as usize];
                if best.is_none_or(|(w, _)| weight > w) {
                    *best = Some((weight, func));
                }
            }
        }
        if let Some(parent) = tree.parent(node) {
            let caller = modules[parent.0 as usize];
            if caller != NO_MODULE && caller != module {
                edges.insert(caller, module);
            }
        }
    }
    self_time.write_back(&mut tally.self_time, ids);
    for (module, best) in heaviest.into_iter().enumerate() {
        if let Some((weight, func)) = best {
            note_heaviest(tally, &ids.names[module], weight, set_index, func);
        }
    }
    for (from, to) in edges.pairs() {
        let name = |m: u32| ids.names[m as usize].clone();
        tally.call_edges.insert((name(from), name(to)));
    }
}

fn note_heaviest(tally: &mut Tally, module: &str, weight: f64, set: usize, func: FuncId) {
    let entry = tally
        .heaviest
        .entry(module.to_owned())
        .or_insert((weight, set, func));
    if weight > entry.0 {
        *entry = (weight, set, func);
    }
}

/// How many library callers deep charging follows a chain before giving up on it.
const MAX_CHAIN: usize = 256;

/// How modules share a figure: (module, fraction) with fractions adding up to 1, or to nothing
/// when no module is above.
type Split = Rc<Vec<(String, f64)>>;

/// How a pstats function's figures split among modules: all to its own module, or for code
/// charged to callers, among its callers, following such callers up until a module is reached.
///
/// A function's own self time splits by the self time spent under each caller (exact: pstats
/// records it per edge); further up, a caller's share splits by the cumulative time under each
/// of its callers (an estimate: which of its calls led to the function is not recorded), by
/// calls when no time was recorded. Callers that lead to no module are left out and the rest
/// rescaled; a cycle of such callers is cut where it repeats.
struct Charges<'a> {
    stats: &'a [FunctionStats],
    by_func: HashMap<FuncId, usize>,
    owners: &'a [Owner],
    /// The split of each function as a caller, once known for good (not cut by a cycle).
    memo: HashMap<FuncId, Split>,
    on_path: Vec<FuncId>,
}

impl<'a> Charges<'a> {
    fn new(stats: &'a [FunctionStats], owners: &'a [Owner]) -> Self {
        Charges {
            stats,
            by_func: stats.iter().enumerate().map(|(i, s)| (s.func, i)).collect(),
            owners,
            memo: HashMap::new(),
            on_path: Vec::new(),
        }
    }

    /// Where `func`'s own figures go.
    fn of_self(&mut self, func: FuncId) -> Split {
        if let Some(module) = module_of(self.owners, func) {
            return Rc::new(vec![(module.to_owned(), 1.0)]);
        }
        self.on_path.push(func);
        let (split, _) = self.through_callers(func, |e| e.self_weight);
        self.on_path.pop();
        split
    }

    /// Where time spent in `func` as a caller goes, and whether a cycle was cut to know it.
    fn as_caller(&mut self, func: FuncId) -> (Split, bool) {
        if let Some(module) = module_of(self.owners, func) {
            return (Rc::new(vec![(module.to_owned(), 1.0)]), false);
        }
        if let Some(split) = self.memo.get(&func) {
            return (split.clone(), false);
        }
        // A cycle is cut where it repeats; a chain deeper than any real one (a file made to
        // recurse without end) is cut too rather than overflow the stack.
        if self.on_path.len() >= MAX_CHAIN || self.on_path.contains(&func) {
            return (Rc::new(Vec::new()), true);
        }
        self.on_path.push(func);
        let (split, cut) = self.through_callers(func, |e| e.total_weight);
        self.on_path.pop();
        if !cut {
            self.memo.insert(func, split.clone());
        }
        (split, cut)
    }

    fn through_callers(&mut self, func: FuncId, weight: fn(&EdgeStats) -> f64) -> (Split, bool) {
        let Some(stat) = self.by_func.get(&func).map(|&i| &self.stats[i]) else {
            return (Rc::new(Vec::new()), false);
        };
        let callers: Vec<(FuncId, EdgeStats)> = stat
            .callers
            .iter()
            .filter(|(caller, _)| *caller != func)
            .map(|(caller, edge)| (*caller, *edge))
            .collect();
        let by_weight: f64 = callers.iter().map(|(_, e)| weight(e)).sum();
        let by_calls: f64 = callers
            .iter()
            .map(|(_, e)| e.calls.unwrap_or(0) as f64)
            .sum();
        let mut cut = false;
        let mut parts: Vec<(Split, f64)> = Vec::new();
        for (caller, edge) in &callers {
            let part = if by_weight > 0.0 {
                weight(edge) / by_weight
            } else if by_calls > 0.0 {
                edge.calls.unwrap_or(0) as f64 / by_calls
            } else {
                1.0 / callers.len() as f64
            };
            if part <= 0.0 {
                continue;
            }
            let (split, was_cut) = self.as_caller(*caller);
            cut |= was_cut;
            if !split.is_empty() {
                parts.push((split, part));
            }
        }
        let reached: f64 = parts.iter().map(|(_, part)| part).sum();
        let mut merged: BTreeMap<String, f64> = BTreeMap::new();
        for (split, part) in &parts {
            for (module, fraction) in split.iter() {
                *merged.entry(module.clone()).or_default() += fraction * part / reached;
            }
        }
        (Rc::new(merged.into_iter().collect()), cut)
    }
}

/// Modules (by number) on the heaviest root-to-leaf path: from the root, always the heaviest
/// child.
fn hot_path(tree: &CallTree, modules: &[u32]) -> BTreeSet<u32> {
    let mut on_path = BTreeSet::new();
    let mut node = NodeId::ROOT;
    while let Some(&next) = tree
        .children(node)
        .iter()
        .max_by(|a, b| tree.total_weight(**a).total_cmp(&tree.total_weight(**b)))
    {
        let module = modules[next.0 as usize];
        if module != NO_MODULE {
            on_path.insert(module);
        }
        node = next;
    }
    on_path
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(func: u32, self_weight: f64, callers: &[u32]) -> FunctionStats {
        FunctionStats {
            func: FuncId(func),
            calls: Some(1),
            primitive_calls: Some(1),
            self_weight,
            total_weight: self_weight,
            callers: callers
                .iter()
                .map(|&c| {
                    let edge = EdgeStats {
                        calls: Some(1),
                        primitive_calls: Some(1),
                        self_weight,
                        total_weight: self_weight,
                    };
                    (FuncId(c), edge)
                })
                .collect(),
        }
    }

    #[test]
    fn a_cycle_of_library_callers_is_cut_and_a_deep_chain_does_not_overflow() {
        // 0 is the project's; 1 ↔ 2 call each other, and 1 is called by 0.
        let owners = vec![Owner::Module("app".into()), Owner::Builtin, Owner::Builtin];
        let stats = vec![stat(0, 1.0, &[]), stat(1, 1.0, &[0, 2]), stat(2, 1.0, &[1])];
        let mut charges = Charges::new(&stats, &owners);
        assert_eq!(*charges.of_self(FuncId(2)), [("app".to_owned(), 1.0)]);
        assert_eq!(*charges.of_self(FuncId(1)), [("app".to_owned(), 1.0)]);

        // A chain of 10,000 library functions below the project's: cut, not a crash.
        let depth = 10_000u32;
        let mut owners = vec![Owner::Module("app".into())];
        let mut stats = vec![stat(0, 1.0, &[])];
        for f in 1..=depth {
            owners.push(Owner::Builtin);
            stats.push(stat(f, 1.0, &[f - 1]));
        }
        let mut charges = Charges::new(&stats, &owners);
        assert!(charges.of_self(FuncId(depth)).is_empty());
        assert_eq!(*charges.of_self(FuncId(5)), [("app".to_owned(), 1.0)]);
    }
}
