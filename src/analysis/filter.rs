//! Filters over stacks, shared by every command (`--focus`, `--ignore`, `--hide`,
//! `--only-mine`, `--thread`, `--merge-threads`) and the UI's `H`: pure functions from a tree to
//! a tree, and from a file's profiles to the ones asked for.
//!
//! The three tree filters are applied in one walk, as pprof applies its own: `ignore` drops
//! every stack through a match (their weight leaves the total), `focus` keeps only the stacks
//! through a match, each rooted at its outermost matching frame, and `hide` removes matching
//! frames, giving their self weight to the nearest kept caller (the total stays). Focus and
//! ignore look at the stacks as recorded, hidden frames included.

use regex::Regex;

use super::transform::{Siblings, is_library_file};
use crate::profile::{
    CallTree, CallTreeBuilder, FrameId, FrameTable, NodeId, ProfileSet, TimelineSample,
};

/// Which frames a hide removes.
#[derive(Debug, Clone)]
pub enum Hidden {
    /// The standard library and installed packages: "only my code".
    Library,
    Matching(Regex),
}

/// The tree filters asked for; empty is "everything as recorded".
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub focus: Option<Regex>,
    pub ignore: Option<Regex>,
    pub hide: Vec<Hidden>,
}

impl Filters {
    pub fn is_empty(&self) -> bool {
        self.focus.is_none() && self.ignore.is_none() && self.hide.is_empty()
    }
}

/// Whether `regex` matches a frame: its function's name, or the function as pstats names it,
/// `file:line(name)` (so `pricing.py` or `catalog.py:23` select a file or a definition), as
/// `obol callers NAME` matches.
pub fn frame_matches(frames: &FrameTable, regex: &Regex, frame: FrameId) -> bool {
    let f = frames.frame(frame);
    regex.is_match(f.name) || regex.is_match(&frames.function(f.func).pstats_label())
}

pub fn is_hidden(frames: &FrameTable, hidden: &Hidden, frame: FrameId) -> bool {
    match hidden {
        Hidden::Library => is_library_file(frames.frame(frame).file),
        Hidden::Matching(regex) => frame_matches(frames, regex, frame),
    }
}

/// The filters decided once per frame of the table, so a walk of a large tree matches no regex.
pub struct FrameFilter {
    ignored: Vec<bool>,
    focused: Option<Vec<bool>>,
    hidden: Vec<bool>,
}

impl FrameFilter {
    /// `filters` and, besides them, the frames `extra_hidden` hides (the UI's `H`).
    pub fn new(frames: &FrameTable, filters: &Filters, extra_hidden: Option<&Hidden>) -> Self {
        let each = |test: &dyn Fn(FrameId) -> bool| -> Vec<bool> {
            (0..frames.frame_count())
                .map(|i| test(FrameId(i as u32)))
                .collect()
        };
        let hides: Vec<&Hidden> = filters.hide.iter().chain(extra_hidden).collect();
        FrameFilter {
            ignored: match &filters.ignore {
                Some(re) => each(&|f| frame_matches(frames, re, f)),
                None => vec![false; frames.frame_count()],
            },
            focused: filters
                .focus
                .as_ref()
                .map(|re| each(&|f| frame_matches(frames, re, f))),
            hidden: each(&|f| hides.iter().any(|h| is_hidden(frames, h, f))),
        }
    }

    /// Whether the filter changes nothing.
    pub fn is_identity(&self) -> bool {
        self.focused.is_none() && !self.ignored.iter().chain(&self.hidden).any(|&b| b)
    }

    pub fn hides(&self, frame: FrameId) -> bool {
        self.hidden[frame.0 as usize]
    }
}

/// A filtered tree, and for each node of the tree it came from the node its self weight went
/// to (`None`: dropped), so that a timeline can follow.
pub struct Filtered {
    pub tree: CallTree,
    pub node_map: Vec<Option<NodeId>>,
}

impl Filtered {
    /// The recorded samples of the source tree, as samples of the filtered one: those whose
    /// weight was dropped leave, and neighbours that now share a leaf stay two samples.
    pub fn timeline(&self, timeline: &[TimelineSample]) -> Vec<TimelineSample> {
        timeline
            .iter()
            .filter_map(|s| {
                let leaf = self.node_map.get(s.leaf.0 as usize).copied().flatten()?;
                Some(TimelineSample {
                    leaf,
                    weight: s.weight,
                })
            })
            .collect()
    }
}

/// `tree` under `filter`, in one walk, linear in the tree's size.
pub fn filter_tree(tree: &CallTree, siblings: Siblings, filter: &FrameFilter) -> Filtered {
    let mut builder = CallTreeBuilder::new();
    let mut node_map = vec![None; tree.len()];
    let focusing = filter.focused.is_some();
    // Samples with an empty stack went through no frame, so through no focused one.
    if !focusing {
        builder.add_self(NodeId::ROOT, tree.self_weight(NodeId::ROOT));
        node_map[0] = Some(NodeId::ROOT);
    }
    // (old node, new parent, whether a focused frame is on the path above)
    let mut stack: Vec<(NodeId, NodeId, bool)> = tree
        .children(NodeId::ROOT)
        .iter()
        .rev()
        .map(|&c| (c, NodeId::ROOT, !focusing))
        .collect();
    while let Some((node, parent, inside)) = stack.pop() {
        let Some(frame) = tree.frame(node) else {
            continue;
        };
        let i = frame.0 as usize;
        if filter.ignored[i] {
            continue;
        }
        let inside = inside || filter.focused.as_ref().is_some_and(|f| f[i]);
        let target = if !inside {
            // Above every focused frame: its own weight is of no stack through one.
            None
        } else if filter.hidden[i] {
            Some(parent)
        } else {
            Some(match siblings {
                Siblings::Merged => builder.child(parent, frame),
                Siblings::InOrder => builder.last_child_or_new(parent, frame),
            })
        };
        if let Some(target) = target {
            builder.add_self(target, tree.self_weight(node));
            node_map[node.0 as usize] = Some(target);
        }
        let next = target.unwrap_or(parent);
        stack.extend(tree.children(node).iter().rev().map(|&c| (c, next, inside)));
    }
    Filtered {
        tree: builder.finish(),
        node_map,
    }
}

/// Share of `tree`'s total that the frames `filter` hides held themselves (given to callers).
pub fn hidden_self_share(tree: &CallTree, filter: &FrameFilter) -> f64 {
    let total = tree.total();
    if total <= 0.0 {
        return 0.0;
    }
    let hidden: f64 = tree
        .ids()
        .filter(|&n| tree.frame(n).is_some_and(|f| filter.hides(f)))
        .map(|n| tree.self_weight(n))
        .sum();
    hidden / total
}

/// The profile of `set` that `wanted` names: a name, its number counted from 1 as the UI's
/// status line numbers them, or a unique part of a name (py-spy's threads read
/// `Thread 123 "MainThread"`: `MainThread`, or the id `123` when it is no profile's number). The
/// error lists the profiles there are.
pub fn find_profile(set: &ProfileSet, wanted: &str) -> Result<usize, String> {
    let profiles = &set.profiles;
    if let Some(i) = profiles.iter().position(|p| p.name == wanted) {
        return Ok(i);
    }
    if let Ok(n) = wanted.parse::<usize>()
        && (1..=profiles.len()).contains(&n)
    {
        return Ok(n - 1);
    }
    let partial: Vec<usize> = (0..profiles.len())
        .filter(|&i| profiles[i].name.contains(wanted))
        .collect();
    if let [one] = partial[..] {
        return Ok(one);
    }
    // One line however many profiles there are: the first few, and how many more.
    let mut names: Vec<String> = Vec::new();
    let mut length = 0;
    for (i, p) in profiles.iter().enumerate() {
        let name = format!("{} \"{}\"", i + 1, crate::text::escape_control(&p.name));
        if length + name.len() > 160 {
            names.push(format!("and {} more", profiles.len() - i));
            break;
        }
        length += name.len() + 2;
        names.push(name);
    }
    let wanted = crate::text::escape_control(wanted);
    let wanted: String = wanted.chars().take(60).collect();
    Err(format!(
        "{} profile named \"{}\"; it has {}",
        if partial.is_empty() {
            "no"
        } else {
            "more than one"
        },
        wanted,
        names.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::test_support::{setup, shape};

    fn filters(focus: Option<&str>, ignore: Option<&str>, hide: &[Hidden]) -> Filters {
        Filters {
            focus: focus.map(|r| Regex::new(r).unwrap()),
            ignore: ignore.map(|r| Regex::new(r).unwrap()),
            hide: hide.to_vec(),
        }
    }

    fn sample_tree() -> (FrameTable, CallTree) {
        let (frames, [main, f, loads, g]) = setup();
        let mut b = CallTreeBuilder::new();
        b.add_stack(&[main, loads, g], 2.0);
        b.add_stack(&[main, loads], 5.0);
        b.add_stack(&[main, f, g], 1.0);
        b.add_stack(&[main, f], 3.0);
        b.add_stack(&[g], 7.0);
        b.add_self(NodeId::ROOT, 4.0);
        (frames, b.finish())
    }

    fn run(frames: &FrameTable, tree: &CallTree, filters: &Filters) -> CallTree {
        let filter = FrameFilter::new(frames, filters, None);
        filter_tree(tree, Siblings::Merged, &filter).tree
    }

    #[test]
    fn hidden_library_frames_give_their_time_to_the_caller() {
        let (frames, tree) = sample_tree();
        let only_mine = run(&frames, &tree, &filters(None, None, &[Hidden::Library]));
        assert_eq!(only_mine.total(), tree.total());
        assert_eq!(
            shape(&only_mine, &frames),
            vec![
                (1, "main".into(), 5.0, 11.0),
                (2, "g".into(), 2.0, 2.0),
                (2, "f".into(), 3.0, 4.0),
                (3, "g".into(), 1.0, 1.0),
                (1, "g".into(), 7.0, 7.0),
            ]
        );
    }

    #[test]
    fn focus_roots_every_stack_through_a_match_at_its_outermost_match() {
        let (frames, tree) = sample_tree();
        let focused = run(&frames, &tree, &filters(Some("^g$"), None, &[]));
        // g under loads (2), under f (1), at the top (7); the root's own 4 went through no g.
        assert_eq!(focused.total(), 10.0);
        assert_eq!(shape(&focused, &frames), vec![(1, "g".into(), 10.0, 10.0)]);
        // A regex on the file: every frame of json/.
        let focused = run(&frames, &tree, &filters(Some("json/"), None, &[]));
        assert_eq!(
            shape(&focused, &frames),
            vec![(1, "loads".into(), 5.0, 7.0), (2, "g".into(), 2.0, 2.0)]
        );
    }

    #[test]
    fn ignore_drops_every_stack_through_a_match() {
        let (frames, tree) = sample_tree();
        let kept = run(&frames, &tree, &filters(None, Some("^loads$"), &[]));
        assert_eq!(kept.total(), tree.total() - 7.0);
        assert_eq!(kept.self_weight(NodeId::ROOT), 4.0);
        // Ignore wins over focus; hidden frames still count as stacks through them.
        let both = run(
            &frames,
            &tree,
            &filters(
                Some("^g$"),
                Some("^f$"),
                &[Hidden::Matching(Regex::new("^g$").unwrap())],
            ),
        );
        assert_eq!(both.total(), 9.0);
        assert_eq!(both.self_weight(NodeId::ROOT), 9.0);
    }

    #[test]
    fn a_timeline_follows_its_samples_to_where_their_weight_went() {
        let (frames, [main, f, loads, _]) = setup();
        let mut b = CallTreeBuilder::new();
        let m = b.last_child_or_new(NodeId::ROOT, main);
        let l = b.last_child_or_new(m, loads);
        let x = b.last_child_or_new(m, f);
        b.add_self(l, 2.0);
        b.add_self(x, 1.0);
        let tree = b.finish();
        let timeline = [
            TimelineSample {
                leaf: l,
                weight: 2.0,
            },
            TimelineSample {
                leaf: x,
                weight: 1.0,
            },
        ];
        let filter = FrameFilter::new(&frames, &filters(None, None, &[Hidden::Library]), None);
        let out = filter_tree(&tree, Siblings::InOrder, &filter);
        let moved = out.timeline(&timeline);
        assert_eq!(moved.len(), 2);
        assert_eq!(out.tree.frame(moved[0].leaf), Some(main));
        assert_eq!(out.tree.frame(moved[1].leaf), Some(f));
    }
}
