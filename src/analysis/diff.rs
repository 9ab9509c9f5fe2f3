//! Two profiles compared function by function (or module by module, file by file): what each
//! spent, and how each one's share of its own profile's total moved. Which function of one is
//! which of the other is [`super::matching`]'s business.

use std::collections::HashMap;

use crate::analysis::matching::{Candidate, MatchStep, match_candidates};
use crate::analysis::modules::{ModuleNamer, Owner};
use crate::analysis::summary::{SortKey, function_table, tree_group_weights};
use crate::import::Loaded;
use crate::profile::{FunctionKey, NodeId, Profile, ProfileSet, Unit};

/// One side's figures for a function.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Side {
    pub self_weight: f64,
    pub total_weight: f64,
    pub calls: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DiffRow {
    /// The base side's name, file and line where it has the row, else the new side's.
    pub name: String,
    pub file: Option<String>,
    pub line: Option<u32>,
    pub base: Option<Side>,
    pub new: Option<Side>,
    /// New self share minus base self share (shares of each profile's own total; an absent side
    /// counts as 0).
    pub delta_self_share: f64,
    pub delta_total_share: f64,
    /// The matching step that paired the two sides; `None` when one side is absent.
    pub matched_by: Option<MatchStep>,
    /// How each side names the row (they differ when matched by path tail or qualified name);
    /// `None` where the side is absent.
    pub base_function: Option<Identity>,
    pub new_function: Option<Identity>,
}

/// A function (or module, or file) as one profile names it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    pub name: String,
    pub file: Option<String>,
    pub line: Option<u32>,
}

impl DiffRow {
    pub fn self_change(&self) -> f64 {
        self.new.map_or(0.0, |s| s.self_weight) - self.base.map_or(0.0, |s| s.self_weight)
    }

    pub fn total_change(&self) -> f64 {
        self.new.map_or(0.0, |s| s.total_weight) - self.base.map_or(0.0, |s| s.total_weight)
    }
}

/// How rows are ordered: largest absolute change first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DiffSort {
    /// By the change of total share.
    #[default]
    Share,
    /// By the change of self time (of self share when comparing by shares).
    SelfWeight,
    /// By the change of total time (of total share when comparing by shares).
    TotalWeight,
}

/// One profile side: a file's set and the profiles of it taken together.
pub struct DiffInput<'a> {
    pub set: &'a ProfileSet,
    pub profiles: Vec<&'a Profile>,
}

/// A loaded file as one side of a comparison: all its profiles together.
pub fn input(loaded: &Loaded) -> DiffInput<'_> {
    DiffInput {
        set: &loaded.set,
        profiles: loaded.set.summed().collect(),
    }
}

/// Profiles in different units or formats (a cProfile run against a py-spy run) can only be
/// compared by each function's share of its own total.
pub fn compares_by_shares(base: &Loaded, new: &Loaded) -> bool {
    base.format != new.format || base.set.unit() != new.set.unit()
}

impl DiffInput<'_> {
    fn total(&self) -> f64 {
        self.profiles.iter().map(|p| p.total).sum()
    }
}

/// The functions of both sides, matched as [`compare`] matches them, by function, without the
/// summary of the matching.
pub fn diff(
    base: &DiffInput<'_>,
    new: &DiffInput<'_>,
    by_shares: bool,
    sort: DiffSort,
) -> Vec<DiffRow> {
    compare(base, new, by_shares, sort, Grouping::Function).rows
}

/// What is compared: functions, or the modules or files they are in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Grouping {
    #[default]
    Function,
    Module,
    File,
}

impl Grouping {
    pub fn as_str(self) -> &'static str {
        match self {
            Grouping::Function => "function",
            Grouping::Module => "module",
            Grouping::File => "file",
        }
    }
}

/// How one step of the matching did: how many rows it matched, and what share of each side's
/// weight (self weight, which adds up to the total) those rows hold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepFigures {
    pub step: MatchStep,
    pub rows: usize,
    pub base_share: f64,
    pub new_share: f64,
}

/// How much of the two sides found its counterpart.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchSummary {
    /// Every step, in order, also those that matched nothing.
    pub steps: Vec<StepFigures>,
    /// Rows present on one side only.
    pub base_only: usize,
    pub new_only: usize,
}

impl MatchSummary {
    pub fn rows(&self) -> usize {
        self.steps.iter().map(|s| s.rows).sum()
    }

    pub fn base_share(&self) -> f64 {
        self.steps.iter().map(|s| s.base_share).sum()
    }

    pub fn new_share(&self) -> f64 {
        self.steps.iter().map(|s| s.new_share).sum()
    }

    /// Less than half of either side's weight matched: the comparison says little.
    pub fn is_poor(&self) -> bool {
        self.base_share() < 0.5 || self.new_share() < 0.5
    }
}

/// Both sides compared: the rows and how they were matched.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub rows: Vec<DiffRow>,
    pub matched: MatchSummary,
}

/// Whether two files' weights are in one unit, so that values, not only shares, compare (the
/// difference view shows values beside shares then). `Some(unit)` when they are.
pub fn shared_unit(base: &Loaded, new: &Loaded) -> Option<Unit> {
    let unit = base.set.unit();
    (unit == new.set.unit()).then_some(unit)
}

/// One thing compared on one side: a function, or a module's or file's functions together.
struct Entity {
    name: String,
    file: Option<String>,
    line: Option<u32>,
    side: Side,
}

/// Both sides aggregated by `grouping`, matched step by step (see [`super::matching`]), each
/// row with its figures on both sides and the change of its shares; sorted by `sort`.
pub fn compare(
    base: &DiffInput<'_>,
    new: &DiffInput<'_>,
    by_shares: bool,
    sort: DiffSort,
    grouping: Grouping,
) -> Comparison {
    let line_in_identity = grouping == Grouping::Function
        && base.set.frames.function_key() == FunctionKey::NameFileLine
        && new.set.frames.function_key() == FunctionKey::NameFileLine;
    let (base_entities, new_entities) = (entities(base, grouping), entities(new, grouping));
    let matches = match_candidates(
        &candidates(&base_entities, grouping),
        &candidates(&new_entities, grouping),
        line_in_identity,
    );
    let (base_total, new_total) = (base.total(), new.total());
    let share = |weight: f64, total: f64| if total > 0.0 { weight / total } else { 0.0 };
    let mut summary = MatchSummary {
        steps: MatchStep::ALL
            .iter()
            .map(|&step| StepFigures {
                step,
                rows: 0,
                base_share: 0.0,
                new_share: 0.0,
            })
            .collect(),
        base_only: 0,
        new_only: 0,
    };
    let mut rows = Vec::with_capacity(matches.len());
    for m in matches {
        let base_side = sum_sides(m.base.iter().map(|&i| &base_entities[i]));
        let new_side = sum_sides(m.new.iter().map(|&i| &new_entities[i]));
        let base_function = m
            .base
            .first()
            .map(|&i| identity(&base_entities[i], &m.base, &base_entities));
        let new_function = m
            .new
            .first()
            .map(|&i| identity(&new_entities[i], &m.new, &new_entities));
        match m.step {
            Some(step) => {
                let figures = &mut summary.steps[step as usize];
                figures.rows += 1;
                figures.base_share += share(base_side.map_or(0.0, |s| s.self_weight), base_total);
                figures.new_share += share(new_side.map_or(0.0, |s| s.self_weight), new_total);
            }
            None if m.new.is_empty() => summary.base_only += 1,
            None => summary.new_only += 1,
        }
        let shares = |side: Option<Side>, total: f64| {
            side.map_or((0.0, 0.0), |s| {
                (share(s.self_weight, total), share(s.total_weight, total))
            })
        };
        let (base_self, base_total_share) = shares(base_side, base_total);
        let (new_self, new_total_share) = shares(new_side, new_total);
        let shown = base_function
            .clone()
            .or_else(|| new_function.clone())
            .unwrap_or_default();
        rows.push(DiffRow {
            name: shown.name,
            file: shown.file,
            line: shown.line,
            base: base_side,
            new: new_side,
            delta_self_share: new_self - base_self,
            delta_total_share: new_total_share - base_total_share,
            matched_by: m.step,
            base_function,
            new_function,
        });
    }
    let magnitude = |r: &DiffRow| -> f64 {
        match (sort, by_shares) {
            (DiffSort::Share, _) | (DiffSort::TotalWeight, true) => r.delta_total_share.abs(),
            (DiffSort::SelfWeight, true) => r.delta_self_share.abs(),
            (DiffSort::SelfWeight, false) => r.self_change().abs(),
            (DiffSort::TotalWeight, false) => r.total_change().abs(),
        }
    };
    rows.sort_by(|a, b| {
        magnitude(b)
            .total_cmp(&magnitude(a))
            .then_with(|| (&a.name, &a.file, a.line).cmp(&(&b.name, &b.file, b.line)))
    });
    Comparison {
        rows,
        matched: summary,
    }
}

/// What the matcher compares of each entity. Files are matched by their path alone: every file
/// entity has the same (empty) name.
fn candidates(entities: &[Entity], grouping: Grouping) -> Vec<Candidate<'_>> {
    entities
        .iter()
        .map(|e| Candidate {
            name: if grouping == Grouping::File {
                ""
            } else {
                &e.name
            },
            file: e.file.as_deref(),
            line: e.line,
        })
        .collect()
}

/// How one side names a row: its first entity's name and file, with the lowest line of all.
fn identity(first: &Entity, members: &[usize], entities: &[Entity]) -> Identity {
    Identity {
        name: first.name.clone(),
        file: first.file.clone(),
        line: members.iter().filter_map(|&i| entities[i].line).min(),
    }
}

/// The figures of entities that are one row on one side, added up; `None` for none.
fn sum_sides<'e>(entities: impl Iterator<Item = &'e Entity>) -> Option<Side> {
    entities.map(|e| e.side).reduce(|a, b| Side {
        self_weight: a.self_weight + b.self_weight,
        total_weight: a.total_weight + b.total_weight,
        calls: match (a.calls, b.calls) {
            (Some(x), Some(y)) => Some(x + y),
            (x, y) => x.or(y),
        },
    })
}

/// One side's functions, or their modules or files.
fn entities(input: &DiffInput<'_>, grouping: Grouping) -> Vec<Entity> {
    let frames = &input.set.frames;
    match grouping {
        Grouping::Function => function_table(input.set, &input.profiles, SortKey::TotalWeight)
            .into_iter()
            .map(|row| {
                let f = frames.function(row.func);
                Entity {
                    name: f.name.to_owned(),
                    file: f.file.map(str::to_owned),
                    line: f.line,
                    side: Side {
                        self_weight: row.self_weight,
                        total_weight: row.total_weight,
                        calls: row.calls,
                    },
                }
            })
            .collect(),
        Grouping::Module => {
            let namer = ModuleNamer::new(&[], frames.functions().filter_map(|f| f.file));
            let groups: Vec<Option<String>> = frames
                .functions()
                .map(|f| match namer.owner(f.file, f.name) {
                    Owner::Module(m) => Some(m),
                    Owner::Builtin => None,
                })
                .collect();
            grouped(input, &groups, |name| (name.to_owned(), None))
        }
        Grouping::File => {
            let namer = ModuleNamer::default();
            let groups: Vec<Option<String>> = frames
                .functions()
                .map(|f| match namer.owner(f.file, f.name) {
                    Owner::Module(_) => f.file.map(str::to_owned),
                    Owner::Builtin => None,
                })
                .collect();
            grouped(input, &groups, |file| {
                (file.to_owned(), Some(file.to_owned()))
            })
        }
    }
}

/// What C code with no module or file is called when nothing calls it.
const UNOWNED: &str = "<built-in>";

/// Functions added up by group (`groups[func]`; `None` for C built-ins, which are charged to
/// their caller's group, as `obol priority` charges them) over the call trees, each sample
/// counted once per group: a group's total is the weight of the samples with one of its
/// functions on the stack.
fn grouped(
    input: &DiffInput<'_>,
    groups: &[Option<String>],
    entity: impl Fn(&str) -> (String, Option<String>),
) -> Vec<Entity> {
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut names: Vec<&str> = Vec::new();
    let mut group_ids: Vec<Option<usize>> = Vec::with_capacity(groups.len());
    for name in groups.iter().map(Option::as_deref).chain([Some(UNOWNED)]) {
        group_ids.push(name.map(|name| {
            *index.entry(name).or_insert_with(|| {
                names.push(name);
                names.len() - 1
            })
        }));
    }
    // The last id is the one for UNOWNED.
    let unowned = group_ids.pop().flatten().unwrap_or_default();
    let count = names.len();
    let mut self_weight = vec![0.0; count];
    let mut total_weight = vec![0.0; count];
    let mut seen = vec![false; count];
    for profile in &input.profiles {
        let tree = profile.tree();
        let mut node_group = vec![unowned; tree.len()];
        let (s, t) = tree_group_weights(tree, count, |node| {
            let own = tree
                .frame(node)
                .and_then(|frame| group_ids[input.set.frames.func_of(frame).0 as usize]);
            // The parent was given its group first.
            let inherited = || {
                tree.parent(node)
                    .filter(|&p| p != NodeId::ROOT)
                    .map_or(unowned, |p| node_group[p.0 as usize])
            };
            let group = own.unwrap_or_else(inherited);
            node_group[node.0 as usize] = group;
            seen[group] = true;
            Some(group)
        });
        for g in 0..count {
            self_weight[g] += s[g];
            total_weight[g] += t[g];
        }
    }
    (0..count)
        .filter(|&g| seen[g])
        .map(|g| {
            let (name, file) = entity(names[g]);
            Entity {
                name,
                file,
                line: None,
                side: Side {
                    self_weight: self_weight[g],
                    total_weight: total_weight[g],
                    calls: None,
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{CallTreeBuilder, FrameTable, Unit};

    fn set(stacks: &[(&[&str], f64)]) -> ProfileSet {
        let mut frames = FrameTable::new(FunctionKey::NameFile);
        let mut builder = CallTreeBuilder::new();
        for (stack, weight) in stacks {
            let ids: Vec<_> = stack
                .iter()
                .map(|n| frames.intern(n, Some("app.py"), Some(1)))
                .collect();
            builder.add_stack(&ids, *weight);
        }
        ProfileSet {
            profiles: vec![Profile::from_tree("p", Unit::Samples, builder.finish())],
            frames,
        }
    }

    #[test]
    fn shares_move_and_one_sided_functions_appear() {
        // base: main;a 6, main;b 4 (total 10). new: main;a 6, main;c 14 (total 20).
        let base = set(&[(&["main", "a"], 6.0), (&["main", "b"], 4.0)]);
        let new = set(&[(&["main", "a"], 6.0), (&["main", "c"], 14.0)]);
        let run = |sort| {
            let side = |set| DiffInput {
                set,
                profiles: set.profiles.iter().collect(),
            };
            diff(&side(&base), &side(&new), false, sort)
        };
        let rows = run(DiffSort::Share);
        let get = |n: &str| rows.iter().find(|r| r.name == n).unwrap();
        // c: absent in base, 14/20 = 0.7 of new.
        assert!((get("c").delta_total_share - 0.7).abs() < 1e-12);
        assert!(get("c").base.is_none());
        // b: 4/10 = 0.4 of base, gone in new.
        assert!((get("b").delta_self_share + 0.4).abs() < 1e-12);
        assert!(get("b").new.is_none());
        // a: 0.6 → 0.3 although its samples did not change.
        assert!((get("a").delta_total_share + 0.3).abs() < 1e-12);
        assert_eq!(get("a").total_change(), 0.0);
        // main is 100% on both sides: no change; the largest move leads.
        assert_eq!(get("main").delta_total_share, 0.0);
        assert_eq!(rows[0].name, "c");
        let by_total = run(DiffSort::TotalWeight);
        // By samples: c moved most (+14), then main (+10).
        let order: Vec<&str> = by_total.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(&order[..2], ["c", "main"]);
    }
}
