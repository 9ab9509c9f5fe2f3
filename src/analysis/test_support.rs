//! What the analysis tests share: a small frame table and a tree's shape to compare.

use crate::profile::{CallTree, FrameId, FrameTable, FunctionKey};

/// `main`, `f` and `g` of a project and the standard library's `json.loads`.
pub fn setup() -> (FrameTable, [FrameId; 4]) {
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

pub fn shape(tree: &CallTree, frames: &FrameTable) -> Vec<(usize, String, f64, f64)> {
    tree.preorder()
        .skip(1)
        .map(|n| {
            let name = frames.frame(tree.frame(n).unwrap()).name.to_owned();
            (
                tree.depth(n),
                name,
                tree.self_weight(n),
                tree.total_weight(n),
            )
        })
        .collect()
}
