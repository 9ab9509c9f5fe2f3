//! Writers: a loaded profile written in a format other tools read (speedscope JSON, folded stacks,
//! pstats). The model in, bytes out; no UI and no reading of files.

pub mod folded;
mod marshal;
pub mod pstats;
pub mod speedscope;

use crate::profile::{CallTree, FrameId};

/// Every node with weight of its own, with the stack from the root to it: what a sampled format
/// writes when the file kept no sample order. The root's own weight (samples with an empty
/// stack, as py-spy writes for a thread caught outside Python) comes first, with no frames.
pub(crate) fn weighted_stacks(tree: &CallTree) -> impl Iterator<Item = (Vec<FrameId>, f64)> + '_ {
    tree.ids()
        .filter(move |&node| tree.self_weight(node) != 0.0)
        .map(move |node| (tree.stack(node), tree.self_weight(node)))
}
