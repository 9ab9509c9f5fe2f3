//! py-spy `--threads` drawings: under `all`, one frame per thread (`thread (ID): NAME` or
//! `thread (ID)`, both for one thread when py-spy learned its name late). Each thread becomes a
//! profile, as in py-spy's speedscope output and its folded files.

use crate::import::folded::threads::{Thread, thread_frame};
use crate::profile::{CallTree, CallTreeBuilder, NodeId, Profile, ProfileSet, Unit};

/// The set with one profile per thread when every frame under the root is a thread's; else as
/// it was.
pub(super) fn split_threads(mut set: ProfileSet) -> ProfileSet {
    let [profile] = &set.profiles[..] else {
        return set;
    };
    let tree = profile.tree();
    let roots = tree.children(NodeId::ROOT);
    let mut threads: Vec<Thread> = Vec::new();
    let mut thread_of = Vec::with_capacity(roots.len());
    for &root in roots {
        let Some(frame) = tree.frame(root) else {
            return set;
        };
        let Some((id, name)) = thread_frame(set.frames.frame(frame).name.as_bytes()) else {
            return set;
        };
        let id = String::from_utf8_lossy(id);
        let index = match threads.iter().position(|t| t.id == id) {
            Some(index) => index,
            None => {
                threads.push(Thread {
                    id: id.into_owned(),
                    name: None,
                });
                threads.len() - 1
            }
        };
        if let Some(name) = name {
            threads[index].name = Some(String::from_utf8_lossy(name).into_owned());
        }
        thread_of.push(index);
    }
    if threads.is_empty() {
        return set;
    }
    let mut builders: Vec<CallTreeBuilder> =
        threads.iter().map(|_| CallTreeBuilder::new()).collect();
    for (&root, &index) in roots.iter().zip(&thread_of) {
        copy_below(tree, root, &mut builders[index]);
    }
    set.profiles = threads
        .iter()
        .zip(builders)
        .map(|(thread, builder)| {
            Profile::from_tree(thread.profile_name(), Unit::Samples, builder.finish())
        })
        .collect();
    set
}

/// Adds what is under `top` (and `top`'s own self weight, at the root) to `builder`.
fn copy_below(tree: &CallTree, top: NodeId, builder: &mut CallTreeBuilder) {
    builder.add_self(NodeId::ROOT, tree.self_weight(top));
    let mut todo: Vec<(NodeId, NodeId)> = tree
        .children(top)
        .iter()
        .map(|&child| (child, NodeId::ROOT))
        .collect();
    while let Some((node, parent)) = todo.pop() {
        let Some(frame) = tree.frame(node) else {
            continue;
        };
        let copy = builder.child(parent, frame);
        builder.add_self(copy, tree.self_weight(node));
        todo.extend(tree.children(node).iter().map(|&child| (child, copy)));
    }
}
