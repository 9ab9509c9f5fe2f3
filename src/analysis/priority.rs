//! Which module to optimize first: the seed document's score,
//!
//! ```text
//! score = (0.40 time + 0.30 coupling + 0.15 complexity + 0.10 memory + 0.05 calls) × boost
//! ```
//!
//! over factors each normalized by the largest module's value. A factor unknown for a module
//! (no source for complexity, no memory profile, no call counts) has its weight left out and the
//! rest rescaled, so a score never rests on a guess.

mod tally;
mod weights;

use std::collections::{BTreeMap, BTreeSet};

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use serde::Serialize;

use super::complexity::module_complexity;
use super::imports::imports;
use super::modules::ModuleNamer;
use crate::profile::{FuncId, ProfileSet};
pub use tally::ModuleScope;
pub use weights::Weights;

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

impl PriorityReport {
    /// Which factors, in [`ModuleScore::factors`]' order, are known for some module: a factor
    /// unknown for every one (no memory profile, a format without call counts, no sources
    /// found) says nothing about any module, and the tables give it no column.
    pub fn known_factors(&self) -> [bool; 5] {
        let mut known = [false; 5];
        for m in &self.modules {
            for (k, f) in known.iter_mut().zip(m.factors()) {
                *k |= f.is_some();
            }
        }
        known
    }
}

/// Of `items`, one per factor in the score's order, those of the factors `known` keeps (see
/// [`PriorityReport::known_factors`]).
pub fn of_known<T>(known: [bool; 5], items: [T; 5]) -> impl Iterator<Item = T> {
    items
        .into_iter()
        .zip(known)
        .filter_map(|(item, k)| k.then_some(item))
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
    /// The project's modules only (the default), or every module.
    pub scope: ModuleScope,
}

const CYCLE_BOOST: f64 = 1.2;
const HOT_PATH_BOOST: f64 = 1.1;
const BOTTLENECK_BOOST: f64 = 1.25;

/// Ranks every module the profiles spend time in. `read_source` is given a file as the profile
/// names it and returns its source when it can be found.
pub fn rank(
    input: &PriorityInput<'_>,
    weights: Weights,
    read_source: impl Fn(&str) -> Option<Source>,
) -> PriorityReport {
    let tally = tally::tally(&input.time, &input.memory, &input.namer, input.scope);
    let has_memory = !input.memory.is_empty();

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
