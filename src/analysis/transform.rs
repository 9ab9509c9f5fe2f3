//! Trees rewritten for viewing: recursion collapsed, frames hidden, threads merged. Each keeps
//! the total: weight under a removed frame goes to the nearest frame kept above it.

use crate::profile::{CallTree, CallTreeBuilder, FrameId, FrameTable, NodeId};

/// Rebuilds `tree` keeping only the frames `keep` accepts; `keep` sees the frames kept so far
/// on the path (outermost first) and the candidate. A dropped frame's self weight goes to the
/// nearest kept ancestor, and its children attach there.
fn rebuild(tree: &CallTree, mut keep: impl FnMut(&[FrameId], FrameId) -> bool) -> CallTree {
    let mut builder = CallTreeBuilder::new();
    builder.add_self(NodeId::ROOT, tree.self_weight(NodeId::ROOT));
    // (old node, new parent, depth of the kept path at the new parent)
    let mut stack: Vec<(NodeId, NodeId, usize)> = tree
        .children(NodeId::ROOT)
        .iter()
        .rev()
        .map(|&c| (c, NodeId::ROOT, 0))
        .collect();
    let mut path: Vec<FrameId> = Vec::new();
    while let Some((node, parent, depth)) = stack.pop() {
        let Some(frame) = tree.frame(node) else {
            continue;
        };
        path.truncate(depth);
        let (target, target_depth) = if keep(&path, frame) {
            path.push(frame);
            (builder.child(parent, frame), depth + 1)
        } else {
            (parent, depth)
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
pub fn collapse_recursion(tree: &CallTree, frames: &FrameTable) -> CallTree {
    rebuild(tree, |path, frame| {
        let func = frames.func_of(frame);
        !path.iter().any(|&f| frames.func_of(f) == func)
    })
}

/// Frames for which `hidden` says yes removed, their time merged into their callers.
pub fn hide(tree: &CallTree, hidden: impl Fn(FrameId) -> bool) -> CallTree {
    rebuild(tree, |_, frame| !hidden(frame))
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
    use crate::profile::FunctionKey;

    fn setup() -> (FrameTable, [FrameId; 4]) {
        let mut frames = FrameTable::new(FunctionKey::NameFile);
        let ids = [
            frames.intern("main", Some("/srv/app/main.py"), Some(1)),
            frames.intern("f", Some("/srv/app/f.py"), Some(2)),
            frames.intern(
                "loads",
                Some("/usr/lib/python3.11/json/__init__.py"),
                Some(3),
            ),
            frames.intern("g", Some("/srv/app/g.py"), Some(4)),
        ];
        (frames, ids)
    }

    fn shape(tree: &CallTree, frames: &FrameTable) -> Vec<(usize, String, f64, f64)> {
        tree.preorder()
            .skip(1)
            .map(|n| {
                let name = frames.frame(tree.frame(n).unwrap()).name.clone();
                (
                    tree.depth(n),
                    name,
                    tree.self_weight(n),
                    tree.total_weight(n),
                )
            })
            .collect()
    }

    #[test]
    fn recursion_collapses_into_the_outermost_call() {
        let (frames, [main, f, _, g]) = setup();
        let mut b = CallTreeBuilder::new();
        b.add_stack(&[main, f, f, f, g], 2.0);
        b.add_stack(&[main, f, f], 3.0);
        b.add_stack(&[main, f], 1.0);
        let tree = collapse_recursion(&b.finish(), &frames);
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
    fn hidden_library_frames_give_their_time_to_the_caller() {
        let (frames, [main, f, loads, g]) = setup();
        let mut b = CallTreeBuilder::new();
        b.add_stack(&[main, loads, g], 2.0);
        b.add_stack(&[main, loads], 5.0);
        b.add_stack(&[main, f], 1.0);
        let tree = b.finish();
        let only_mine = hide(&tree, |fr| {
            is_library_file(frames.frame(fr).file.as_deref())
        });
        assert_eq!(only_mine.total(), tree.total());
        assert_eq!(
            shape(&only_mine, &frames),
            vec![
                (1, "main".into(), 5.0, 8.0),
                (2, "g".into(), 2.0, 2.0),
                (2, "f".into(), 1.0, 1.0),
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
}
