//! Two profiles compared function by function: what each spent, and how each function's share of
//! its own profile's total moved.

use std::collections::HashMap;

use crate::analysis::summary::{FunctionRow, SortKey, function_table};
use crate::import::Loaded;
use crate::profile::{FunctionKey, Profile, ProfileSet};

/// One side's figures for a function.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Side {
    pub self_weight: f64,
    pub total_weight: f64,
    pub calls: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DiffRow {
    pub name: String,
    pub file: Option<String>,
    pub line: Option<u32>,
    pub base: Option<Side>,
    pub new: Option<Side>,
    /// New self share minus base self share (shares of each profile's own total; an absent side
    /// counts as 0).
    pub delta_self_share: f64,
    pub delta_total_share: f64,
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
        profiles: loaded.set.profiles.iter().collect(),
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

/// The functions of both sides, matched by identity: (file, line, name) when both sides key
/// functions that way (pstats), else (name, file), since a sampled profile's line is not the
/// definition line.
pub fn diff(
    base: &DiffInput<'_>,
    new: &DiffInput<'_>,
    by_shares: bool,
    sort: DiffSort,
) -> Vec<DiffRow> {
    let with_line = base.set.frames.function_key() == FunctionKey::NameFileLine
        && new.set.frames.function_key() == FunctionKey::NameFileLine;
    type Key = (String, Option<String>, Option<u32>);
    let key = |set: &ProfileSet, row: &FunctionRow| -> Key {
        let f = set.frames.function(row.func);
        (
            f.name.clone(),
            f.file.clone(),
            if with_line { f.line } else { None },
        )
    };
    let mut rows: Vec<DiffRow> = Vec::new();
    let mut index: HashMap<Key, usize> = HashMap::new();
    for (is_new, input) in [(false, base), (true, new)] {
        let total = input.total();
        for row in function_table(input.set, &input.profiles, SortKey::TotalWeight) {
            let k = key(input.set, &row);
            let side = Side {
                self_weight: row.self_weight,
                total_weight: row.total_weight,
                calls: row.calls,
            };
            let at = *index.entry(k.clone()).or_insert_with(|| {
                let function = input.set.frames.function(row.func);
                rows.push(DiffRow {
                    name: k.0.clone(),
                    file: k.1.clone(),
                    line: function.line,
                    base: None,
                    new: None,
                    delta_self_share: 0.0,
                    delta_total_share: 0.0,
                });
                rows.len() - 1
            });
            let entry = &mut rows[at];
            let (self_share, total_share) = if total > 0.0 {
                (side.self_weight / total, side.total_weight / total)
            } else {
                (0.0, 0.0)
            };
            // Two functions of one side can share a key when lines are dropped; add them up.
            let slot = if is_new {
                &mut entry.new
            } else {
                &mut entry.base
            };
            *slot = Some(match *slot {
                Some(seen) => Side {
                    self_weight: seen.self_weight + side.self_weight,
                    total_weight: seen.total_weight + side.total_weight,
                    calls: match (seen.calls, side.calls) {
                        (Some(a), Some(b)) => Some(a + b),
                        (a, b) => a.or(b),
                    },
                },
                None => side,
            });
            let sign = if is_new { 1.0 } else { -1.0 };
            entry.delta_self_share += sign * self_share;
            entry.delta_total_share += sign * total_share;
        }
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
    rows
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
