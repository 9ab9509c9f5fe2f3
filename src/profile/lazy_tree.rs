//! A call tree that may be built only when first looked at. pstats files hold no stacks: their
//! tree is an estimate that costs about as much as reading the file, and `obol summary`, which
//! reads the exact function table, never looks at it.

use std::fmt;
use std::sync::{Mutex, OnceLock, PoisonError};

use super::{CallTree, CallTreeBuilder, FunctionStats};

/// Builds a profile's tree from its exact function figures, with warnings for the user.
pub type TreeRecipe = Box<dyn FnOnce(&[FunctionStats]) -> (CallTree, Vec<String>) + Send>;

pub(super) struct LazyTree {
    built: OnceLock<BuiltTree>,
    recipe: Mutex<Option<TreeRecipe>>,
}

struct BuiltTree {
    tree: CallTree,
    warnings: Vec<String>,
}

impl LazyTree {
    pub(super) fn built(tree: CallTree) -> LazyTree {
        LazyTree {
            built: OnceLock::from(BuiltTree {
                tree,
                warnings: Vec::new(),
            }),
            recipe: Mutex::new(None),
        }
    }

    pub(super) fn pending(recipe: TreeRecipe) -> LazyTree {
        LazyTree {
            built: OnceLock::new(),
            recipe: Mutex::new(Some(recipe)),
        }
    }

    pub(super) fn is_built(&self) -> bool {
        self.built.get().is_some()
    }

    /// The tree and the warnings its building gave, built now if it was not yet.
    pub(super) fn get(&self, stats: &[FunctionStats]) -> (&CallTree, &[String]) {
        let built = self.built.get_or_init(|| {
            // `get_or_init` runs one initializer at a time, so the recipe is taken once; a
            // panic while building leaves it taken, and the next caller gets an empty tree.
            let recipe = self
                .recipe
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            let (tree, warnings) = match recipe {
                Some(recipe) => recipe(stats),
                None => (CallTreeBuilder::new().finish(), Vec::new()),
            };
            BuiltTree { tree, warnings }
        });
        (&built.tree, &built.warnings)
    }
}

impl fmt::Debug for LazyTree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.built.get() {
            Some(built) => built.tree.fmt(f),
            None => f.write_str("LazyTree(not built yet)"),
        }
    }
}
