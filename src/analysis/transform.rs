//! Trees rewritten for viewing: recursion collapsed, threads merged, frames of one function
//! grouped (filters are in filter.rs). Each keeps the total: weight under a removed frame goes to the nearest
//! frame kept above it.

use crate::profile::{CallTree, CallTreeBuilder, FrameId, FrameTable, FuncId, NodeId};

/// How a rebuilt tree's siblings are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Siblings {
    /// Siblings of one frame are one node (a merged tree).
    Merged,
    /// Only consecutive siblings of one frame are one node: a tree in recorded order (Time
    /// Order) keeps a frame repeated where the stack left it and came back.
    InOrder,
}

/// What [`rebuild`] does with one frame.
enum Keep {
    /// Drop the frame: its self weight goes to the nearest kept ancestor, its children attach
    /// there.
    Drop,
    /// Keep it, as this frame (itself, or another standing for it).
    As(FrameId),
}

/// Rebuilds `tree` frame by frame. `keep` sees, per function, how many frames of it are kept on
/// the path above (so a test of "already on the path" costs one look-up, and the whole rebuild
/// is linear in the tree's size), and the candidate.
fn rebuild(
    tree: &CallTree,
    frames: &FrameTable,
    siblings: Siblings,
    mut keep: impl FnMut(&[u32], FrameId) -> Keep,
) -> CallTree {
    let mut builder = CallTreeBuilder::new();
    builder.add_self(NodeId::ROOT, tree.self_weight(NodeId::ROOT));
    let mut on_path = vec![0u32; frames.function_count()];
    // The functions of the kept path, outermost first.
    let mut path: Vec<FuncId> = Vec::new();
    // (old node, new parent, length of the kept path at the new parent)
    let mut stack: Vec<(NodeId, NodeId, usize)> = tree
        .children(NodeId::ROOT)
        .iter()
        .rev()
        .map(|&c| (c, NodeId::ROOT, 0))
        .collect();
    while let Some((node, parent, depth)) = stack.pop() {
        let Some(frame) = tree.frame(node) else {
            continue;
        };
        for func in path.drain(depth..) {
            on_path[func.0 as usize] -= 1;
        }
        let (target, target_depth) = match keep(&on_path, frame) {
            Keep::As(shown) => {
                let func = frames.func_of(frame);
                on_path[func.0 as usize] += 1;
                path.push(func);
                let child = match siblings {
                    Siblings::Merged => builder.child(parent, shown),
                    Siblings::InOrder => builder.last_child_or_new(parent, shown),
                };
                (child, depth + 1)
            }
            Keep::Drop => (parent, depth),
        };
        builder.add_self(target, tree.self_weight(node));
        stack.extend(
            tree.children(node)
                .iter()
                .rev()
                .map(|&c| (c, target, target_depth)),
        );
    }
    builder.finish()
}

/// Every recursive call folded into the outermost call of the same function (speedscope's `r`).
/// Linear in the tree's size, however deep the recursion.
pub fn collapse_recursion(tree: &CallTree, frames: &FrameTable, siblings: Siblings) -> CallTree {
    rebuild(tree, frames, siblings, |on_path, frame| {
        if on_path[frames.func_of(frame).0 as usize] == 0 {
            Keep::As(frame)
        } else {
            Keep::Drop
        }
    })
}

/// The first frame of each function, which stands for all its frames when they are grouped.
pub fn function_frames(frames: &FrameTable) -> Vec<FrameId> {
    let mut first = vec![None; frames.function_count()];
    for (i, frame) in frames.frames().enumerate() {
        first[frame.func.0 as usize].get_or_insert(FrameId(i as u32));
    }
    first.into_iter().map(|f| f.unwrap_or(FrameId(0))).collect()
}

/// Whether the frames of some function differ by line only (a sampled format writes one frame
/// per executing line): only then does [`group_by_function`] change anything.
pub fn has_line_frames(frames: &FrameTable) -> bool {
    frames.frame_count() > frames.function_count()
}

/// Frames that differ only by line made one frame, their function's first: the tree Sandwich
/// counts in, where a function called from one place is one node whatever lines it ran.
pub fn group_by_function(tree: &CallTree, frames: &FrameTable, siblings: Siblings) -> CallTree {
    let first = function_frames(frames);
    rebuild(tree, frames, siblings, |_, frame| {
        Keep::As(first[frames.func_of(frame).0 as usize])
    })
}

/// Per function: the lowest and highest line its frames in `tree` were sampled at.
pub fn sampled_lines(tree: &CallTree, frames: &FrameTable) -> Vec<Option<(u32, u32)>> {
    let mut lines: Vec<Option<(u32, u32)>> = vec![None; frames.function_count()];
    for node in tree.ids() {
        let Some(frame) = tree.frame(node) else {
            continue;
        };
        let f = frames.frame(frame);
        if let Some(line) = f.line {
            let span = &mut lines[f.func.0 as usize];
            *span = Some(span.map_or((line, line), |(lo, hi)| (lo.min(line), hi.max(line))));
        }
    }
    lines
}

/// Whether a file belongs to the standard library or an installed package, for "only my code".
pub fn is_library_file(file: Option<&str>) -> bool {
    let Some(file) = file else {
        return true;
    };
    file == "~"
        || file.starts_with("<frozen ")
        || super::stdlib::is_relative_stdlib_path(file)
        || file.contains("/site-packages/")
        || file.contains("/dist-packages/")
        || file.find("/lib/python").is_some_and(|at| {
            file[at + "/lib/python".len()..].starts_with(|c: char| c.is_ascii_digit())
        })
}

/// Several trees over one frame table merged into one, as if one thread had run them all.
pub fn merge(trees: &[&CallTree]) -> CallTree {
    let mut builder = CallTreeBuilder::new();
    for tree in trees {
        builder.add_self(NodeId::ROOT, tree.self_weight(NodeId::ROOT));
        copy_below(&mut builder, tree, NodeId::ROOT, NodeId::ROOT);
    }
    builder.finish()
}

/// Merges everything below `from` in `tree` under `onto` in `builder`, keeping first-seen order.
pub fn copy_below(builder: &mut CallTreeBuilder, tree: &CallTree, from: NodeId, onto: NodeId) {
    let mut stack: Vec<(NodeId, NodeId)> = tree
        .children(from)
        .iter()
        .rev()
        .map(|&c| (c, onto))
        .collect();
    while let Some((node, parent)) = stack.pop() {
        let Some(frame) = tree.frame(node) else {
            continue;
        };
        let copy = builder.child(parent, frame);
        builder.add_self(copy, tree.self_weight(node));
        stack.extend(tree.children(node).iter().rev().map(|&c| (c, copy)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::test_support::{setup, shape};
    use crate::profile::FunctionKey;

    #[test]
    fn recursion_collapses_into_the_outermost_call() {
        let (frames, [main, f, _, g]) = setup();
        let mut b = CallTreeBuilder::new();
        b.add_stack(&[main, f, f, f, g], 2.0);
        b.add_stack(&[main, f, f], 3.0);
        b.add_stack(&[main, f], 1.0);
        let tree = collapse_recursion(&b.finish(), &frames, Siblings::Merged);
        assert_eq!(
            shape(&tree, &frames),
            vec![
                (1, "main".into(), 0.0, 6.0),
                (2, "f".into(), 4.0, 6.0),
                (3, "g".into(), 2.0, 2.0),
            ]
        );
    }

    #[test]
    fn merged_threads_add_up() {
        let (frames, [main, f, _, g]) = setup();
        let mut a = CallTreeBuilder::new();
        a.add_stack(&[main, f], 2.0);
        let mut b = CallTreeBuilder::new();
        b.add_stack(&[main, f], 3.0);
        b.add_stack(&[g], 1.0);
        let (a, b) = (a.finish(), b.finish());
        let merged = merge(&[&a, &b]);
        assert_eq!(
            shape(&merged, &frames),
            vec![
                (1, "main".into(), 0.0, 5.0),
                (2, "f".into(), 5.0, 5.0),
                (1, "g".into(), 1.0, 1.0),
            ]
        );
        assert!(is_library_file(Some("/usr/lib/python3.11/os.py")));
        assert!(!is_library_file(Some("/srv/app/python/x.py")));
        // py-spy's paths relative to sys.path.
        assert!(is_library_file(Some("json/encoder.py")));
        assert!(!is_library_file(Some("shop/pricing.py")));
    }

    #[test]
    fn frames_of_one_function_at_several_lines_are_grouped() {
        let mut frames = FrameTable::new(FunctionKey::NameFile);
        let main = frames.intern("main", Some("/srv/app/main.py"), Some(1));
        let parse_6 = frames.intern("parse", Some("/srv/app/parse.py"), Some(6));
        let parse_9 = frames.intern("parse", Some("/srv/app/parse.py"), Some(9));
        let parse_12 = frames.intern("parse", Some("/srv/app/parse.py"), Some(12));
        let g = frames.intern("g", Some("/srv/app/g.py"), Some(4));
        let mut b = CallTreeBuilder::new();
        b.add_stack(&[main, parse_6], 2.0);
        b.add_stack(&[main, parse_9, g], 3.0);
        b.add_stack(&[main, parse_12], 1.0);
        let tree = b.finish();
        assert!(has_line_frames(&frames));
        let grouped = group_by_function(&tree, &frames, Siblings::Merged);
        assert_eq!(
            shape(&grouped, &frames),
            vec![
                (1, "main".into(), 0.0, 6.0),
                (2, "parse".into(), 3.0, 6.0),
                (3, "g".into(), 3.0, 3.0),
            ]
        );
        let lines = sampled_lines(&tree, &frames);
        assert_eq!(lines[frames.func_of(parse_9).0 as usize], Some((6, 12)));
        assert_eq!(lines[frames.func_of(main).0 as usize], Some((1, 1)));
    }

    #[test]
    fn in_recorded_order_only_consecutive_siblings_merge() {
        let mut frames = FrameTable::new(FunctionKey::NameFile);
        let main = frames.intern("main", Some("m.py"), Some(1));
        let a_1 = frames.intern("a", Some("a.py"), Some(1));
        let a_2 = frames.intern("a", Some("a.py"), Some(2));
        let b = frames.intern("b", Some("b.py"), Some(1));
        // main: a (line 1), a (line 2), b, a (line 1): recorded order.
        let mut builder = CallTreeBuilder::new();
        let m = builder.last_child_or_new(NodeId::ROOT, main);
        for frame in [a_1, a_2, b, a_1] {
            let n = builder.last_child_or_new(m, frame);
            builder.add_self(n, 1.0);
        }
        let tree = builder.finish();
        let grouped = group_by_function(&tree, &frames, Siblings::InOrder);
        let names: Vec<(String, f64)> = shape(&grouped, &frames)
            .into_iter()
            .skip(1)
            .map(|(_, name, _, total)| (name, total))
            .collect();
        assert_eq!(
            names,
            vec![("a".into(), 2.0), ("b".into(), 1.0), ("a".into(), 1.0)]
        );
    }

    /// 200,000 frames deep: the quadratic rebuild took minutes on this (every node scanned its
    /// path); counting functions on the path takes milliseconds.
    #[test]
    fn collapsing_a_very_deep_recursion_is_linear() {
        let mut frames = FrameTable::new(FunctionKey::NameFile);
        let main = frames.intern("main", Some("m.py"), Some(1));
        let walk = frames.intern("walk", Some("w.py"), Some(1));
        let leaf = frames.intern("leaf", Some("l.py"), Some(1));
        let mut stack = vec![main];
        stack.extend(std::iter::repeat_n(walk, 200_000));
        stack.push(leaf);
        let mut b = CallTreeBuilder::new();
        b.add_stack(&stack, 5.0);
        b.add_stack(&stack[..1000], 1.0);
        let started = std::time::Instant::now();
        let tree = collapse_recursion(&b.finish(), &frames, Siblings::Merged);
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        assert_eq!(
            shape(&tree, &frames),
            vec![
                (1, "main".into(), 0.0, 6.0),
                (2, "walk".into(), 1.0, 6.0),
                (3, "leaf".into(), 5.0, 5.0),
            ]
        );
    }
}
