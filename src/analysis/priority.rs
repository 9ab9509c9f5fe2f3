//! Which module to optimize first: the seed document's score,
//!
//! ```text
//! score = (0.40 time + 0.30 coupling + 0.15 complexity + 0.10 memory + 0.05 calls) × boost
//! ```
//!
//! over factors each normalized by the largest module's value. A factor unknown for a module
//! (no source for complexity, no memory profile, no call counts) has its weight left out and the
//! rest rescaled, so a score never rests on a guess.

use std::collections::{BTreeMap, BTreeSet};

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use serde::Serialize;

use super::complexity::module_complexity;
use super::imports::imports;
use super::modules::{ModuleNamer, Owner};
use crate::profile::{FuncId, NodeId, Profile, ProfileSet};

/// The factors' nominal weights.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Weights {
    pub time: f64,
    pub coupling: f64,
    pub complexity: f64,
    pub memory: f64,
    pub calls: f64,
}

impl Default for Weights {
    /// The seed document's weights.
    fn default() -> Self {
        Weights {
            time: 0.40,
            coupling: 0.30,
            complexity: 0.15,
            memory: 0.10,
            calls: 0.05,
        }
    }
}

impl Weights {
    /// Parses `time=0.5,coupling=0.2`: the factors named replace the seed's weights.
    pub fn parse(spec: &str) -> Result<Weights, String> {
        let mut weights = Weights::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| format!("`{part}` is not FACTOR=WEIGHT"))?;
            let value: f64 = value
                .trim()
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| {
                    format!(
                        "weight of `{}` must be a number ≥ 0, not `{value}`",
                        key.trim()
                    )
                })?;
            let slot = match key.trim() {
                "time" => &mut weights.time,
                "coupling" => &mut weights.coupling,
                "complexity" => &mut weights.complexity,
                "memory" => &mut weights.memory,
                "calls" => &mut weights.calls,
                other => {
                    return Err(format!(
                        "unknown factor `{other}` (the factors are time, coupling, complexity, memory, calls)"
                    ));
                }
            };
            *slot = value;
        }
        if weights.as_array().iter().all(|w| *w == 0.0) {
            return Err("all weights are zero".into());
        }
        Ok(weights)
    }

    fn as_array(&self) -> [f64; 5] {
        [
            self.time,
            self.coupling,
            self.complexity,
            self.memory,
            self.calls,
        ]
    }
}

/// Where the module graph's edges came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GraphSource {
    /// The `import` statements of the modules' sources.
    Imports,
    /// Caller → callee edges between modules in the profile.
    Calls,
}

/// A module's figures before normalization.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RawFactors {
    pub self_time: f64,
    pub fan_in: usize,
    pub fan_out: usize,
    pub complexity: Option<u32>,
    pub bytes: Option<f64>,
    pub calls: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModuleScore {
    pub module: String,
    pub score: f64,
    pub tier: &'static str,
    pub time: Option<f64>,
    pub coupling: Option<f64>,
    pub complexity: Option<f64>,
    pub memory: Option<f64>,
    pub calls: Option<f64>,
    pub boost: f64,
    pub reasons: Vec<String>,
    pub raw: RawFactors,
    /// The module's heaviest function by self time, for jumping to it.
    #[serde(skip)]
    pub heaviest_function: Option<(usize, FuncId)>,
}

impl ModuleScore {
    /// The normalized factors in the score's order: time, coupling, complexity, memory, calls.
    pub fn factors(&self) -> [Option<f64>; 5] {
        [
            self.time,
            self.coupling,
            self.complexity,
            self.memory,
            self.calls,
        ]
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriorityReport {
    pub weights: Weights,
    pub graph_source: GraphSource,
    pub modules: Vec<ModuleScore>,
}

/// A module's source as found on disk: its text and whether it is a package's `__init__.py`.
pub struct Source {
    pub text: String,
    pub is_package: bool,
}

/// What the ranking reads.
pub struct PriorityInput<'a> {
    /// Time profiles (any unit but bytes): every profile of each file counts.
    pub time: Vec<&'a ProfileSet>,
    /// Memory profiles (unit bytes), if any were loaded.
    pub memory: Vec<&'a ProfileSet>,
    pub namer: ModuleNamer,
}

const CYCLE_BOOST: f64 = 1.2;
const HOT_PATH_BOOST: f64 = 1.1;
const BOTTLENECK_BOOST: f64 = 1.25;

#[derive(Default)]
struct Tally {
    self_time: BTreeMap<String, f64>,
    calls: BTreeMap<String, u64>,
    bytes: BTreeMap<String, f64>,
    call_edges: BTreeSet<(String, String)>,
    hot_path: BTreeSet<String>,
    /// Some file of each module, to find its source.
    files: BTreeMap<String, String>,
    heaviest: BTreeMap<String, (f64, usize, FuncId)>,
    has_call_counts: bool,
}

/// Ranks every module the profiles spend time in. `read_source` is given a file as the profile
/// names it and returns its source when it can be found.
pub fn rank(
    input: &PriorityInput<'_>,
    weights: Weights,
    read_source: impl Fn(&str) -> Option<Source>,
) -> PriorityReport {
    let mut tally = Tally::default();
    for (set_index, set) in input.time.iter().enumerate() {
        let owners = owners(set, &input.namer);
        for (owner, function) in owners.iter().zip(set.frames.functions()) {
            if let (Owner::Module(m), Some(file)) = (owner, &function.file) {
                tally.files.entry(m.clone()).or_insert_with(|| file.clone());
            }
        }
        for profile in &set.profiles {
            tally_time(&mut tally, set, set_index, profile, &owners);
        }
        if let Some(heaviest) = set
            .profiles
            .iter()
            .max_by(|a, b| a.total.total_cmp(&b.total))
        {
            for module in hot_path(heaviest, &tree_modules(set, heaviest, &owners)) {
                tally.hot_path.insert(module);
            }
        }
    }
    let has_memory = !input.memory.is_empty();
    for set in &input.memory {
        let owners = owners(set, &input.namer);
        for profile in &set.profiles {
            let modules = tree_modules(set, profile, &owners);
            let tree = profile.tree();
            for node in tree.ids() {
                if let Some(module) = &modules[node.0 as usize] {
                    *tally.bytes.entry(module.clone()).or_default() += tree.self_weight(node);
                }
            }
        }
    }

    let names: Vec<String> = tally
        .self_time
        .keys()
        .chain(tally.calls.keys())
        .chain(tally.bytes.keys())
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();

    let sources: BTreeMap<&str, Source> = names
        .iter()
        .filter_map(|m| {
            let file = tally.files.get(m)?;
            read_source(file).map(|s| (m.as_str(), s))
        })
        .collect();
    // Imports describe the graph only when some of the project's own sources are at hand: with
    // just the standard library found (a profile from another machine), every project module
    // would have no imports and so no coupling, which says nothing true about it. Code with a
    // pseudo-file (`<string>`, from exec) has no source anywhere and is no project module.
    let is_project = |m: &String| {
        tally.files.get(m).is_some_and(|file| {
            !file.starts_with('<') && !super::transform::is_library_file(Some(file))
        })
    };
    let has_project = names.iter().any(is_project);
    let project_sources = names
        .iter()
        .any(|m| is_project(m) && sources.contains_key(m.as_str()));
    let graph_source = if sources.is_empty() || (has_project && !project_sources) {
        GraphSource::Calls
    } else {
        GraphSource::Imports
    };
    let edges: BTreeSet<(String, String)> = match graph_source {
        GraphSource::Calls => tally.call_edges.clone(),
        GraphSource::Imports => import_edges(&names, &sources),
    };

    let mut graph: DiGraph<&str, ()> = DiGraph::new();
    let index: BTreeMap<&str, NodeIndex> = names
        .iter()
        .map(|m| (m.as_str(), graph.add_node(m.as_str())))
        .collect();
    for (from, to) in &edges {
        if let (Some(&a), Some(&b)) = (index.get(from.as_str()), index.get(to.as_str())) {
            graph.update_edge(a, b, ());
        }
    }
    let mut cycle_of: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for component in tarjan_scc(&graph) {
        if component.len() > 1 {
            let mut members: Vec<&str> = component.iter().map(|&n| graph[n]).collect();
            members.sort_unstable();
            for &m in &members {
                cycle_of.insert(m, members.clone());
            }
        }
    }

    let raws: Vec<RawFactors> = names
        .iter()
        .map(|m| {
            let node = index[m.as_str()];
            let distinct = |dir| {
                graph
                    .neighbors_directed(node, dir)
                    .collect::<BTreeSet<_>>()
                    .len()
            };
            RawFactors {
                self_time: tally.self_time.get(m).copied().unwrap_or(0.0),
                fan_in: distinct(petgraph::Direction::Incoming),
                fan_out: distinct(petgraph::Direction::Outgoing),
                complexity: sources.get(m.as_str()).map(|s| module_complexity(&s.text)),
                bytes: has_memory.then(|| tally.bytes.get(m).copied().unwrap_or(0.0)),
                calls: tally
                    .has_call_counts
                    .then(|| tally.calls.get(m).copied().unwrap_or(0)),
            }
        })
        .collect();

    let max =
        |f: &dyn Fn(&RawFactors) -> Option<f64>| raws.iter().filter_map(f).fold(0.0f64, f64::max);
    let normalize =
        |value: Option<f64>, max: f64| value.map(|v| if max > 0.0 { v / max } else { 0.0 });
    let time_max = max(&|r| Some(r.self_time));
    let coupling_max = max(&|r| Some((r.fan_in + r.fan_out) as f64));
    let complexity_max = max(&|r| r.complexity.map(f64::from));
    let memory_max = max(&|r| r.bytes);
    let calls_max = max(&|r| r.calls.map(|c| c as f64));

    let mut modules: Vec<ModuleScore> = names
        .iter()
        .zip(raws)
        .map(|(module, raw)| {
            let time = normalize(Some(raw.self_time), time_max);
            let coupling = normalize(Some((raw.fan_in + raw.fan_out) as f64), coupling_max);
            let complexity = normalize(raw.complexity.map(f64::from), complexity_max);
            let memory = normalize(raw.bytes, memory_max);
            let calls = normalize(raw.calls.map(|c| c as f64), calls_max);
            let factors = [time, coupling, complexity, memory, calls];
            let (mut sum, mut weight) = (0.0, 0.0);
            for (factor, w) in factors.iter().zip(weights.as_array()) {
                if let Some(f) = factor {
                    sum += w * f;
                    weight += w;
                }
            }
            let base = if weight > 0.0 { sum / weight } else { 0.0 };
            let mut boost = 1.0;
            let mut reasons = Vec::new();
            if let Some(members) = cycle_of.get(module.as_str()) {
                boost *= CYCLE_BOOST;
                reasons.push(format!(
                    "in a dependency cycle with {} (×{CYCLE_BOOST})",
                    cycle_partners(members, module)
                ));
            }
            if tally.hot_path.contains(module) {
                boost *= HOT_PATH_BOOST;
                reasons.push(format!("on the hottest path (×{HOT_PATH_BOOST})"));
            }
            if time.unwrap_or(0.0) >= 0.5 && coupling.unwrap_or(0.0) >= 0.5 {
                boost *= BOTTLENECK_BOOST;
                reasons.push(format!(
                    "bottleneck and highly coupled (×{BOTTLENECK_BOOST})"
                ));
            }
            let score = base * boost;
            ModuleScore {
                module: module.clone(),
                score,
                tier: tier(score),
                time,
                coupling,
                complexity,
                memory,
                calls,
                boost,
                reasons,
                raw,
                heaviest_function: tally
                    .heaviest
                    .get(module)
                    .map(|&(_, set, func)| (set, func)),
            }
        })
        .collect();
    modules.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.module.cmp(&b.module))
    });
    PriorityReport {
        weights,
        graph_source,
        modules,
    }
}

/// The other members of a cycle, named in full when there are few.
fn cycle_partners(members: &[&str], module: &str) -> String {
    let others: Vec<&str> = members.iter().copied().filter(|m| *m != module).collect();
    if others.len() <= 3 {
        others.join(", ")
    } else {
        format!(
            "{} other modules ({}, …)",
            others.len(),
            others[..3].join(", ")
        )
    }
}

/// P1 from 0.5, P2 from 0.25, else P3.
pub fn tier(score: f64) -> &'static str {
    if score >= 0.5 {
        "P1"
    } else if score >= 0.25 {
        "P2"
    } else {
        "P3"
    }
}

fn owners(set: &ProfileSet, namer: &ModuleNamer) -> Vec<Owner> {
    set.frames
        .functions()
        .iter()
        .map(|f| namer.owner(f.file.as_deref(), &f.name))
        .collect()
}

fn module_of(owners: &[Owner], func: FuncId) -> Option<&str> {
    match &owners[func.0 as usize] {
        Owner::Module(m) => Some(m),
        Owner::Builtin => None,
    }
}

/// Each tree node's module: its own function's, or for built-ins the nearest caller's.
fn tree_modules(set: &ProfileSet, profile: &Profile, owners: &[Owner]) -> Vec<Option<String>> {
    let tree = profile.tree();
    let mut modules: Vec<Option<String>> = vec![None; tree.len()];
    // Parents come before children, so one forward pass sees every caller's module first.
    for node in tree.ids().skip(1) {
        let own = tree
            .frame(node)
            .and_then(|frame| module_of(owners, set.frames.func_of(frame)));
        modules[node.0 as usize] = match own {
            Some(m) => Some(m.to_owned()),
            None => tree
                .parent(node)
                .and_then(|p| modules[p.0 as usize].clone()),
        };
    }
    modules
}

fn tally_time(
    tally: &mut Tally,
    set: &ProfileSet,
    set_index: usize,
    profile: &Profile,
    owners: &[Owner],
) {
    let counted = profile
        .function_stats
        .as_ref()
        .filter(|stats| stats.iter().any(|s| s.calls.is_some()));
    if let Some(stats) = counted {
        tally.has_call_counts = true;
        let by_func: BTreeMap<FuncId, usize> =
            stats.iter().enumerate().map(|(i, s)| (s.func, i)).collect();
        for stat in stats {
            let mut shares = Vec::new();
            charge(stats, &by_func, owners, stat.func, 1.0, 0, &mut shares);
            for (module, share) in shares {
                *tally.self_time.entry(module.clone()).or_default() += share * stat.self_weight;
                *tally.calls.entry(module.clone()).or_default() +=
                    (share * stat.calls.unwrap_or(0) as f64).round() as u64;
                note_heaviest(
                    tally,
                    &module,
                    share * stat.self_weight,
                    set_index,
                    stat.func,
                );
            }
            if let Some(callee) = module_of(owners, stat.func) {
                for (caller, _) in &stat.callers {
                    if let Some(caller) = module_of(owners, *caller)
                        && caller != callee
                    {
                        tally
                            .call_edges
                            .insert((caller.to_owned(), callee.to_owned()));
                    }
                }
            }
        }
    } else {
        let modules = tree_modules(set, profile, owners);
        let tree = profile.tree();
        for node in tree.ids().skip(1) {
            let Some(module) = &modules[node.0 as usize] else {
                continue;
            };
            let weight = tree.self_weight(node);
            *tally.self_time.entry(module.clone()).or_default() += weight;
            if let Some(frame) = tree.frame(node) {
                note_heaviest(tally, module, weight, set_index, set.frames.func_of(frame));
            }
            if let Some(Some(parent_module)) = tree.parent(node).map(|p| &modules[p.0 as usize])
                && parent_module != module
            {
                tally
                    .call_edges
                    .insert((parent_module.clone(), module.clone()));
            }
        }
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

/// How a function's figures split among modules: all to its own module, or for a built-in,
/// among its callers in proportion to the time spent under each (by calls when no time was
/// recorded), following built-in callers up a few levels.
fn charge(
    stats: &[crate::profile::FunctionStats],
    by_func: &BTreeMap<FuncId, usize>,
    owners: &[Owner],
    func: FuncId,
    share: f64,
    depth: usize,
    out: &mut Vec<(String, f64)>,
) {
    if let Some(module) = module_of(owners, func) {
        out.push((module.to_owned(), share));
        return;
    }
    let Some(stat) = by_func.get(&func).map(|&i| &stats[i]) else {
        return;
    };
    if depth >= 8 || stat.callers.is_empty() {
        return;
    }
    let by_time: f64 = stat.callers.iter().map(|(_, e)| e.self_weight).sum();
    let by_calls: f64 = stat
        .callers
        .iter()
        .map(|(_, e)| e.calls.unwrap_or(0) as f64)
        .sum();
    for (caller, edge) in &stat.callers {
        let part = if by_time > 0.0 {
            edge.self_weight / by_time
        } else if by_calls > 0.0 {
            edge.calls.unwrap_or(0) as f64 / by_calls
        } else {
            1.0 / stat.callers.len() as f64
        };
        if part > 0.0 && *caller != func {
            charge(
                stats,
                by_func,
                owners,
                *caller,
                share * part,
                depth + 1,
                out,
            );
        }
    }
}

/// Modules on the heaviest root-to-leaf path: from the root, always the heaviest child.
fn hot_path(profile: &Profile, modules: &[Option<String>]) -> BTreeSet<String> {
    let tree = profile.tree();
    let mut on_path = BTreeSet::new();
    let mut node = NodeId::ROOT;
    while let Some(&next) = tree
        .children(node)
        .iter()
        .max_by(|a, b| tree.total_weight(**a).total_cmp(&tree.total_weight(**b)))
    {
        if let Some(m) = &modules[next.0 as usize] {
            on_path.insert(m.clone());
        }
        node = next;
    }
    on_path
}

/// Dependency edges between the profiled modules from their imports: `from pkg import mod` is an
/// edge to `pkg.mod` when that is a profiled module, else to `pkg`; `import a.b.c` to the
/// longest profiled prefix.
fn import_edges(names: &[String], sources: &BTreeMap<&str, Source>) -> BTreeSet<(String, String)> {
    let known: BTreeSet<&str> = names.iter().map(String::as_str).collect();
    let longest_known = |dotted: &str| -> Option<String> {
        let mut candidate = dotted;
        loop {
            if known.contains(candidate) {
                return Some(candidate.to_owned());
            }
            candidate = &candidate[..candidate.rfind('.')?];
        }
    };
    let mut edges = BTreeSet::new();
    for (&module, source) in sources {
        for import in imports(&source.text, module, source.is_package) {
            let mut targets = Vec::new();
            for name in &import.names {
                let sub = format!("{}.{name}", import.module);
                if known.contains(sub.as_str()) {
                    targets.push(sub);
                }
            }
            if targets.is_empty()
                && let Some(t) = longest_known(&import.module)
            {
                targets.push(t);
            }
            for target in targets {
                if target != module {
                    edges.insert((module.to_owned(), target));
                }
            }
        }
    }
    edges
}
