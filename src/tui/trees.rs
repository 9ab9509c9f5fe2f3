//! The trees the flame panes show, derived from the profile under the view options: threads
//! merged, frames hidden, recursion collapsed, a function focused. Rebuilt only when the
//! profile or an option changes.

use regex::Regex;

use crate::analysis::sandwich::callees;
use crate::analysis::timeline::time_order_tree;
use crate::analysis::transform::{collapse_recursion, hide, is_library_file, merge};
use crate::profile::{CallTree, FrameTable, FuncId, Profile, ProfileSet};

/// Which frames `H` hides.
#[derive(Debug, Clone)]
pub enum Hidden {
    /// The standard library and installed packages: "only my code".
    Library,
    Matching(Regex),
}

#[derive(Debug, Clone, Default)]
pub struct ViewOptions {
    /// All profiles of the file as one (`t`).
    pub merge_threads: bool,
    pub hidden: Option<Hidden>,
    pub collapse_recursion: bool,
    /// Every stack through this function, re-rooted at it (`f`).
    pub focus: Option<FuncId>,
}

/// What the flame panes draw.
pub struct Trees {
    /// The merged tree (Left Heavy, Flamegraph), or `None` for the profile's own tree
    /// unchanged: no copy of a large tree is made when no option asks for one.
    pub merged: Option<CallTree>,
    /// In recorded order, where the profile keeps one and threads are not merged.
    pub time_order: Option<CallTree>,
    /// Share of the total that hidden frames held themselves (given to their callers).
    pub hidden_share: f64,
}

pub fn derive(set: &ProfileSet, profile: &Profile, options: &ViewOptions) -> Trees {
    let frames = &set.frames;
    let merged_threads = (options.merge_threads && set.profiles.len() > 1).then(|| {
        let trees: Vec<&CallTree> = set.profiles.iter().map(|p| p.tree()).collect();
        merge(&trees)
    });
    let time_order = match merged_threads {
        Some(_) => None,
        None => profile.timeline.as_ref().map(|_| time_order_tree(profile)),
    };
    let base = merged_threads.as_ref().unwrap_or(profile.tree());
    let hidden_share = options
        .hidden
        .as_ref()
        .map_or(0.0, |h| hidden_self_share(base, frames, h));
    let transformed =
        options.hidden.is_some() || options.collapse_recursion || options.focus.is_some();
    let apply = |tree: &CallTree| -> CallTree {
        let mut tree = match &options.hidden {
            Some(hidden) => hide(tree, |f| is_hidden(frames, hidden, f)),
            None => tree.clone(),
        };
        if options.collapse_recursion {
            tree = collapse_recursion(&tree, frames);
        }
        if let Some(func) = options.focus {
            tree = callees(&tree, frames, func);
        }
        tree
    };
    let merged = if transformed {
        Some(apply(base))
    } else {
        merged_threads.clone()
    };
    Trees {
        merged,
        time_order: time_order.map(|t| if transformed { apply(&t) } else { t }),
        hidden_share,
    }
}

fn is_hidden(frames: &FrameTable, hidden: &Hidden, frame: crate::profile::FrameId) -> bool {
    let f = frames.frame(frame);
    match hidden {
        Hidden::Library => is_library_file(f.file.as_deref()),
        Hidden::Matching(regex) => regex.is_match(&f.name),
    }
}

fn hidden_self_share(tree: &CallTree, frames: &FrameTable, hidden: &Hidden) -> f64 {
    let total = tree.total();
    if total <= 0.0 {
        return 0.0;
    }
    let hidden_weight: f64 = tree
        .ids()
        .filter(|&n| tree.frame(n).is_some_and(|f| is_hidden(frames, hidden, f)))
        .map(|n| tree.self_weight(n))
        .sum();
    hidden_weight / total
}
