//! Sandwich's callers and callees of the selected function, made on a worker: on a tree of tens
//! of millions of nodes a function has thousands of occurrences, and gathering their callers
//! and callees took longer than a frame. Meanwhile the pane shows the table at once, with the
//! right half's titles saying the trees are being made: never another function's trees under
//! the selected row. At most one is made at a time; a selection moved meanwhile asks for its
//! own when that one is done.

use std::sync::Arc;

use ratatui::layout::Rect;

use super::action::Pane;
use super::app::App;
use super::panes::flame::FlameView;
use super::view::SharedTree;
use super::work::Job;
use crate::analysis::sandwich::FunctionIndex;
use crate::import::Loaded;
use crate::profile::{CallTree, FuncId};

/// One function's callers and callees, laid out for the pane's two halves.
pub struct SandwichTrees {
    pub func: FuncId,
    pub trees: (CallTree, CallTree),
    pub layouts: (FlameView, FlameView),
}

/// What a worker needs to make [`SandwichTrees`].
pub struct SandwichRequest {
    pub func: FuncId,
    pub file: usize,
    pub tree: SharedTree,
    pub index: Arc<FunctionIndex>,
    /// Empty views sharing the pane's name order and colours (see [`FlameView::fresh`]).
    pub layouts: (FlameView, FlameView),
}

impl SandwichTrees {
    pub fn make(files: &[Loaded], request: SandwichRequest) -> SandwichTrees {
        let SandwichRequest {
            func,
            file,
            tree,
            index,
            layouts: (mut callers, mut callees),
        } = request;
        let frames = &files[file].set.frames;
        let (up, down) = index.callers_and_callees(tree.get(files), frames, func);
        let (upper, lower): (Rect, Rect) = (callers.area, callees.area);
        callers.relayout(&up, frames, upper);
        callees.relayout(&down, frames, lower);
        SandwichTrees {
            func,
            trees: (up, down),
            layouts: (callers, callees),
        }
    }
}

impl App {
    /// Asks for the selected function's callers and callees where Sandwich lacks them and
    /// none are being made for this view.
    pub(super) fn ask_sandwich(&mut self) {
        // Without the trees yet, the titles say the callers and callees are being made.
        let Some(view) = self.view.as_ref().filter(|v| !v.building) else {
            return;
        };
        let generation = self.view_generation();
        let Some(func) = self.sandwich.wanted(&view.table) else {
            return;
        };
        if self
            .sandwich_in_flight
            .is_some_and(|(asked, _)| asked == generation)
        {
            return;
        }
        self.sandwich_in_flight = Some((generation, func));
        let mut layouts = (self.sandwich.callers.fresh(), self.sandwich.callees.fresh());
        layouts.0.area = self.sandwich.callers.area;
        layouts.1.area = self.sandwich.callees.area;
        let request = SandwichRequest {
            func,
            file: view.file,
            tree: view.shared_tree(),
            index: view.index.clone(),
            layouts,
        };
        self.push_job(Job::Sandwich {
            generation,
            files: self.session.files.clone(),
            request: Box::new(request),
        });
    }

    /// Installs callers and callees made for the view `generation`; then asks for the
    /// selection's, if it moved meanwhile.
    pub(super) fn finish_sandwich(&mut self, generation: u64, made: SandwichTrees) {
        if self
            .sandwich_in_flight
            .is_some_and(|(asked, _)| asked == generation)
        {
            self.sandwich_in_flight = None;
        }
        // Installed even where the selection moved on (it is drawn only under its own row):
        // a move back then shows it at once.
        if generation == self.view_generation() {
            self.sandwich.install(made.func, made.trees, made.layouts);
        }
        if self.pane == Pane::Sandwich {
            self.relayout();
        }
    }
}
