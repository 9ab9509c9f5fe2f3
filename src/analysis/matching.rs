//! Which function of one profile is which function of another, when the two were recorded from
//! different checkouts, after an edit, or by different profilers.
//!
//! Functions are matched in steps, each among those the earlier steps left unmatched:
//!
//! 1. the same identity (what the formats key functions by: name and file, and the definition
//!    line when both sides are pstats; a memory address in a name is no part of it);
//! 2. the same name and file, the line ignored (an edit above a function moves its definition);
//! 3. the same name and the same path tail: the longest run of whole path components both files
//!    end with (`/ci/a/shop/pricing.py`, `/home/me/shop/pricing.py` and py-spy's short
//!    `shop/pricing.py` share `shop/pricing.py`);
//! 4. a bare name against its qualified form (cProfile's `encode` against py-spy's
//!    `JSONEncoder.encode`), in files with the same path tail.
//!
//! Steps 3 and 4 take the pair with the longest shared tail first, and match only pairs that are
//! unambiguous at that length: a function with two equally good partners stays unmatched rather
//! than matched by chance.

use std::collections::{BTreeMap, HashMap};

/// The step that matched a function of one profile to one of the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MatchStep {
    Identity,
    NameAndFile,
    PathTail,
    QualifiedName,
}

impl MatchStep {
    pub const ALL: [MatchStep; 4] = [
        MatchStep::Identity,
        MatchStep::NameAndFile,
        MatchStep::PathTail,
        MatchStep::QualifiedName,
    ];

    /// The name JSON output uses.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchStep::Identity => "identity",
            MatchStep::NameAndFile => "name_and_file",
            MatchStep::PathTail => "path_tail",
            MatchStep::QualifiedName => "qualified_name",
        }
    }

    /// What the step compares, for people.
    pub fn description(self) -> &'static str {
        match self {
            MatchStep::Identity => "same identity",
            MatchStep::NameAndFile => "same name and file, line ignored",
            MatchStep::PathTail => "same name and path tail",
            MatchStep::QualifiedName => "bare name against qualified name, same path tail",
        }
    }
}

/// What the matcher compares of a function (or of a group of them, such as a file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate<'a> {
    pub name: &'a str,
    pub file: Option<&'a str>,
    pub line: Option<u32>,
}

/// Candidates of the base (`base`) and of the new profile (`new`), by index into the slices
/// given to [`match_candidates`], that are one row of a comparison. One side is empty when
/// nothing matched; a side holds several candidates when they are one function to the other
/// side (the same name and file on several lines against one sampled function).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    pub base: Vec<usize>,
    pub new: Vec<usize>,
    /// `None` when one side is empty.
    pub step: Option<MatchStep>,
}

/// Candidates with one identity on one side, the unit the steps match.
struct Unit {
    members: Vec<usize>,
    name: String,
    file: Option<String>,
    /// The lowest line of the members.
    line: Option<u32>,
}

/// Matches `base` against `new` in the steps above. `line_in_identity` says whether the line is
/// part of a function's identity (both sides pstats, where it is the definition line). Every
/// index of both slices is in exactly one returned [`Match`].
pub fn match_candidates(
    base: &[Candidate<'_>],
    new: &[Candidate<'_>],
    line_in_identity: bool,
) -> Vec<Match> {
    let mut base_units = units(base, line_in_identity);
    let mut new_units = units(new, line_in_identity);
    let mut matches = Vec::new();

    // 1: identity.
    let identity = |u: &Unit| (u.name.clone(), u.file.clone(), u.line);
    let key = |u: &Unit| {
        if line_in_identity {
            identity(u)
        } else {
            (u.name.clone(), u.file.clone(), None)
        }
    };
    let new_by_key: HashMap<_, usize> = new_units
        .iter()
        .enumerate()
        .map(|(i, u)| (key(u), i))
        .collect();
    let mut new_taken = vec![false; new_units.len()];
    let mut base_left = Vec::new();
    for unit in base_units.drain(..) {
        match new_by_key.get(&key(&unit)) {
            Some(&i) => {
                new_taken[i] = true;
                matches.push(Match {
                    base: unit.members,
                    new: new_units[i].members.clone(),
                    step: Some(MatchStep::Identity),
                });
            }
            None => base_left.push(unit),
        }
    }
    let mut new_left: Vec<Unit> = new_units
        .drain(..)
        .zip(new_taken)
        .filter_map(|(u, taken)| (!taken).then_some(u))
        .collect();

    // 2: name and file, line ignored.
    let (base_rest, new_rest) = by_name_and_file(base_left, new_left, &mut matches);
    base_left = base_rest;
    new_left = new_rest;

    // 3 and 4: by path tail, the longest first; the functions of one name and file on each side
    // go together, as in step 2.
    for step in [MatchStep::PathTail, MatchStep::QualifiedName] {
        let (base_groups, new_groups) = (by_file(base_left), by_file(new_left));
        // Candidates share the last dotted part of their names: looked up, not paired all with
        // all, which on two unrelated profiles of many functions would be quadratic.
        let mut new_by_last: HashMap<&str, Vec<usize>> = HashMap::new();
        for (n, ng) in new_groups.iter().enumerate() {
            new_by_last
                .entry(last_part(&ng[0].name))
                .or_default()
                .push(n);
        }
        let mut pairs = Vec::new();
        for (b, bg) in base_groups.iter().enumerate() {
            let bu = &bg[0];
            for &n in new_by_last.get(last_part(&bu.name)).into_iter().flatten() {
                let nu = &new_groups[n][0];
                let names_fit = match step {
                    MatchStep::PathTail => bu.name == nu.name,
                    _ => bare_and_qualified(&bu.name, &nu.name),
                };
                let tail = match (&bu.file, &nu.file) {
                    (Some(a), Some(b)) if names_fit => shared_tail(a, b),
                    _ => 0,
                };
                if tail > 0 {
                    pairs.push((tail, b, n));
                }
            }
        }
        let chosen = unambiguous_best(pairs, base_groups.len(), new_groups.len());
        let mut base_groups: Vec<Option<Vec<Unit>>> = base_groups.into_iter().map(Some).collect();
        let mut new_groups: Vec<Option<Vec<Unit>>> = new_groups.into_iter().map(Some).collect();
        for (b, n) in chosen {
            if let (Some(bg), Some(ng)) = (base_groups[b].take(), new_groups[n].take()) {
                pair_up(bg, ng, step, &mut matches);
            }
        }
        base_left = base_groups.into_iter().flatten().flatten().collect();
        new_left = new_groups.into_iter().flatten().flatten().collect();
    }

    for unit in base_left {
        matches.push(Match {
            base: unit.members,
            new: Vec::new(),
            step: None,
        });
    }
    for unit in new_left {
        matches.push(Match {
            base: Vec::new(),
            new: unit.members,
            step: None,
        });
    }
    matches
}

/// One side's candidates grouped by identity, in first-seen order.
fn units(candidates: &[Candidate<'_>], line_in_identity: bool) -> Vec<Unit> {
    let mut units: Vec<Unit> = Vec::new();
    let mut index: HashMap<(String, Option<&str>, Option<u32>), usize> = HashMap::new();
    for (i, c) in candidates.iter().enumerate() {
        let line = if line_in_identity { c.line } else { None };
        let name = without_address(c.name);
        let at = *index
            .entry((name.clone(), c.file, line))
            .or_insert_with(|| {
                units.push(Unit {
                    members: Vec::new(),
                    name: name.clone(),
                    file: c.file.map(str::to_owned),
                    line: c.line,
                });
                units.len() - 1
            });
        let unit = &mut units[at];
        unit.members.push(i);
        unit.line = match (unit.line, c.line) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    units
}

fn by_name_and_file(
    base: Vec<Unit>,
    new: Vec<Unit>,
    matches: &mut Vec<Match>,
) -> (Vec<Unit>, Vec<Unit>) {
    type Key = (String, Option<String>);
    let mut groups: BTreeMap<Key, (Vec<Unit>, Vec<Unit>)> = BTreeMap::new();
    for u in base {
        groups
            .entry((u.name.clone(), u.file.clone()))
            .or_default()
            .0
            .push(u);
    }
    for u in new {
        groups
            .entry((u.name.clone(), u.file.clone()))
            .or_default()
            .1
            .push(u);
    }
    let (mut base_left, mut new_left) = (Vec::new(), Vec::new());
    for (_, (b, n)) in groups {
        if b.is_empty() || n.is_empty() {
            base_left.extend(b);
            new_left.extend(n);
        } else {
            pair_up(b, n, MatchStep::NameAndFile, matches);
        }
    }
    (base_left, new_left)
}

/// One side's units grouped by name and file, in first-seen order; no group is empty.
fn by_file(units: Vec<Unit>) -> Vec<Vec<Unit>> {
    let mut groups: Vec<Vec<Unit>> = Vec::new();
    let mut index: HashMap<(String, Option<String>), usize> = HashMap::new();
    for u in units {
        let at = *index
            .entry((u.name.clone(), u.file.clone()))
            .or_insert_with(|| {
                groups.push(Vec::new());
                groups.len() - 1
            });
        groups[at].push(u);
    }
    groups
}

/// Units of one name and file on each side, matched by `step`: equally many on both sides pair
/// in line order (an edit moves functions but seldom reorders them); otherwise each side's are
/// one row.
fn pair_up(mut base: Vec<Unit>, mut new: Vec<Unit>, step: MatchStep, matches: &mut Vec<Match>) {
    if base.len() == new.len() {
        base.sort_by_key(|u| u.line);
        new.sort_by_key(|u| u.line);
        for (bu, nu) in base.into_iter().zip(new) {
            matches.push(Match {
                base: bu.members,
                new: nu.members,
                step: Some(step),
            });
        }
    } else {
        matches.push(Match {
            base: base.into_iter().flat_map(|u| u.members).collect(),
            new: new.into_iter().flat_map(|u| u.members).collect(),
            step: Some(step),
        });
    }
}

/// A name with the memory address cProfile writes into some (`<built-in method __new__ of type
/// object at 0x7f119645ea00>`, `<function Random.seed at 0x7f11…>`) left out: it changes from
/// run to run, so it is no part of what the function is.
fn without_address(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(at) = rest.find(" at 0x") {
        let digits = rest[at + 6..]
            .bytes()
            .take_while(u8::is_ascii_hexdigit)
            .count();
        out.push_str(&rest[..at]);
        if digits == 0 {
            out.push_str(" at 0x");
        }
        rest = &rest[at + 6 + digits..];
    }
    out.push_str(rest);
    out
}

/// The part of a name after its last dot: `encode` of `JSONEncoder.encode`.
fn last_part(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

/// Whether one name is the last dotted part of the other: `encode` and `JSONEncoder.encode`,
/// `<listcomp>` and `audit.<locals>.<listcomp>`.
fn bare_and_qualified(a: &str, b: &str) -> bool {
    let qualifies = |bare: &str, qualified: &str| {
        !bare.contains('.')
            && qualified
                .strip_suffix(bare)
                .is_some_and(|prefix| prefix.len() > 1 && prefix.ends_with('.'))
    };
    qualifies(a, b) || qualifies(b, a)
}

/// How many whole path components two paths end with (`/` or `\` separate them).
pub fn shared_tail(a: &str, b: &str) -> usize {
    fn parts(path: &str) -> impl DoubleEndedIterator<Item = &str> {
        path.split(['/', '\\']).filter(|c| !c.is_empty())
    }
    parts(a)
        .rev()
        .zip(parts(b).rev())
        .take_while(|(x, y)| x == y)
        .count()
}

/// From `(score, base, new)` pairs, the longest-tail pairs first: a pair is taken when, among
/// the pairs of its score whose two sides are both still free, neither side has another.
fn unambiguous_best(
    mut pairs: Vec<(usize, usize, usize)>,
    base_count: usize,
    new_count: usize,
) -> Vec<(usize, usize)> {
    pairs.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut base_used = vec![false; base_count];
    let mut new_used = vec![false; new_count];
    let mut chosen = Vec::new();
    let mut start = 0;
    while start < pairs.len() {
        let score = pairs[start].0;
        let end = start + pairs[start..].iter().take_while(|p| p.0 == score).count();
        let free: Vec<(usize, usize)> = pairs[start..end]
            .iter()
            .filter(|&&(_, b, n)| !base_used[b] && !new_used[n])
            .map(|&(_, b, n)| (b, n))
            .collect();
        let mut base_partners: HashMap<usize, usize> = HashMap::new();
        let mut new_partners: HashMap<usize, usize> = HashMap::new();
        for &(b, n) in &free {
            *base_partners.entry(b).or_default() += 1;
            *new_partners.entry(n).or_default() += 1;
        }
        for (b, n) in free {
            if base_partners[&b] == 1 && new_partners[&n] == 1 {
                base_used[b] = true;
                new_used[n] = true;
                chosen.push((b, n));
            }
        }
        start = end;
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c<'a>(name: &'a str, file: &'a str, line: u32) -> Candidate<'a> {
        Candidate {
            name,
            file: Some(file),
            line: Some(line),
        }
    }

    fn step_of(matches: &[Match], base: usize) -> Option<(Vec<usize>, Option<MatchStep>)> {
        matches
            .iter()
            .find(|m| m.base.contains(&base))
            .map(|m| (m.new.clone(), m.step))
    }

    fn assert_matched(matches: &[Match], base: usize, new: &[usize], step: MatchStep) {
        assert_eq!(
            step_of(matches, base),
            Some((new.to_vec(), Some(step))),
            "{matches:?}"
        );
    }

    #[test]
    fn addresses_in_names_are_left_out() {
        assert_eq!(
            without_address("<built-in method __new__ of type object at 0x7f119645ea00>"),
            "<built-in method __new__ of type object>"
        );
        assert_eq!(without_address("odd at 0xyz"), "odd at 0xyz");
        let base = [c("<function f at 0x7f11>", "~", 0)];
        let new = [c("<function f at 0x7f7f>", "~", 0)];
        let matches = match_candidates(&base, &new, true);
        assert_matched(&matches, 0, &[0], MatchStep::Identity);
    }

    #[test]
    fn tails_count_whole_components() {
        assert_eq!(shared_tail("/a/shop/pricing.py", "shop/pricing.py"), 2);
        assert_eq!(shared_tail("/a/shop/pricing.py", "/b/shop/pricing.py"), 2);
        assert_eq!(shared_tail("/a/xshop/pricing.py", "/b/shop/pricing.py"), 1);
        assert_eq!(shared_tail("/a/pricing.py", "/a/xpricing.py"), 0);
        assert_eq!(
            shared_tail(r"C:\work\shop\pricing.py", "shop/pricing.py"),
            2
        );
    }

    #[test]
    fn qualified_names_end_with_a_dotted_bare_name() {
        assert!(bare_and_qualified("encode", "JSONEncoder.encode"));
        assert!(bare_and_qualified(
            "audit.<locals>.<listcomp>",
            "<listcomp>"
        ));
        assert!(!bare_and_qualified("encode", "JSONEncoder.reencode"));
        assert!(!bare_and_qualified("encode", "encode"));
        assert!(!bare_and_qualified("A.encode", "B.encode"));
    }

    #[test]
    fn each_step_takes_what_the_earlier_left() {
        let base = [
            c("main", "/ci/a/main.py", 10), // 0: identity below? no: other checkout
            c("fib", "/srv/app.py", 3),     // 1: line moved
            c("dumps", "/usr/lib/json/__init__.py", 183), // 2: identity
            c("encode", "/usr/lib/json/encoder.py", 183), // 3: qualified in new
            c("gone", "/srv/app.py", 40),   // 4: nowhere
        ];
        let new = [
            c("fib", "/srv/app.py", 5),
            c("main", "/ci/b/main.py", 10),
            c("dumps", "/usr/lib/json/__init__.py", 183),
            c("JSONEncoder.encode", "json/encoder.py", 200),
            c("fresh", "/srv/app.py", 50),
        ];
        let matches = match_candidates(&base, &new, true);
        assert_matched(&matches, 0, &[1], MatchStep::PathTail);
        assert_matched(&matches, 1, &[0], MatchStep::NameAndFile);
        assert_matched(&matches, 2, &[2], MatchStep::Identity);
        assert_matched(&matches, 3, &[3], MatchStep::QualifiedName);
        assert_eq!(step_of(&matches, 4), Some((vec![], None)));
        assert!(
            matches
                .iter()
                .any(|m| m.new == [4] && m.base.is_empty() && m.step.is_none())
        );
        assert_eq!(matches.len(), 6);
    }

    #[test]
    fn same_name_and_file_pair_in_line_order_or_as_one_row() {
        let base = [c("<listcomp>", "a.py", 10), c("<listcomp>", "a.py", 20)];
        let new = [c("<listcomp>", "a.py", 22), c("<listcomp>", "a.py", 12)];
        let matches = match_candidates(&base, &new, true);
        assert_eq!(step_of(&matches, 0).unwrap().0, [1]);
        assert_eq!(step_of(&matches, 1).unwrap().0, [0]);
        // Three against two: one row of all.
        let base = [c("f", "a.py", 1), c("f", "a.py", 5), c("f", "a.py", 9)];
        let new = [c("f", "a.py", 2), c("f", "a.py", 6)];
        let matches = match_candidates(&base, &new, true);
        assert_eq!(matches.len(), 1);
        assert_eq!(matches[0].base, [0, 1, 2]);
        assert_eq!(matches[0].new, [0, 1]);
    }

    #[test]
    fn functions_of_one_name_in_a_file_move_checkouts_together() {
        let base = [
            c("<listcomp>", "/ci/a/shop/report.py", 12),
            c("<listcomp>", "/ci/a/shop/report.py", 30),
        ];
        let new = [
            c("<listcomp>", "/ci/b/shop/report.py", 32),
            c("<listcomp>", "/ci/b/shop/report.py", 14),
        ];
        let matches = match_candidates(&base, &new, true);
        assert_matched(&matches, 0, &[1], MatchStep::PathTail);
        assert_matched(&matches, 1, &[0], MatchStep::PathTail);
    }

    #[test]
    fn the_longest_tail_wins_and_ties_stay_unmatched() {
        let base = [c("f", "/x/pkg/a/util.py", 1), c("g", "/x/one/util.py", 1)];
        let new = [
            c("f", "/y/pkg/a/util.py", 1),
            c("f", "/y/pkg/b/util.py", 1),
            c("g", "/y/two/util.py", 1),
            c("g", "/y/three/util.py", 1),
        ];
        let matches = match_candidates(&base, &new, true);
        // f: a/util.py shares 3 components with one, 1 with the other.
        assert_eq!(step_of(&matches, 0).unwrap().0, [0]);
        // g: two partners sharing only `util.py`: ambiguous.
        assert_eq!(step_of(&matches, 1).unwrap().0, Vec::<usize>::new());
    }

    #[test]
    fn without_lines_in_identity_duplicates_are_one_unit() {
        // A pstats side (two `<genexpr>` in one file) against a sampled side keyed by name and
        // file: identity ignores the line, so both are one row with the sampled function.
        let base = [c("<genexpr>", "/a/m.py", 3), c("<genexpr>", "/a/m.py", 9)];
        let new = [c("<genexpr>", "/a/m.py", 4)];
        let matches = match_candidates(&base, &new, false);
        assert_eq!(matches.len(), 1);
        assert_eq!(matches[0].base, [0, 1]);
        assert_eq!(matches[0].step, Some(MatchStep::Identity));
    }
}
