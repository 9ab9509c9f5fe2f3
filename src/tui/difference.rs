//! The difference view (`d`): with two files open, one flame graph of both merged by call
//! path, each frame coloured by how its share of the total moved from the first file (base) to
//! the second (new). Frames present on one side only stay in the picture.

use super::action::Action;
use super::app::App;
use super::panes::flame::FlameView;
use crate::analysis::diff_tree::{DiffTree, diff_tree};
use crate::analysis::flame::ChildOrder;
use crate::profile::NodeId;

pub struct Difference {
    pub diff: DiffTree,
    /// Per node: new share minus base share.
    pub deltas: Vec<f64>,
    /// The largest change, which the colours are scaled to.
    pub largest: f64,
    pub view: FlameView,
    /// Index into `App::files` of each side.
    pub base_file: usize,
    pub new_file: usize,
}

impl Difference {
    /// The first two files, each with its first profile (all threads merged when it has several,
    /// so that files with different thread ids still compare).
    pub fn new(app: &App) -> Option<Difference> {
        let (base, new) = (app.files.first()?, app.files.get(1)?);
        let merged = |set: &crate::profile::ProfileSet| match set.profiles.as_slice() {
            [one] => one.tree.clone(),
            many => {
                crate::analysis::transform::merge(&many.iter().map(|p| &p.tree).collect::<Vec<_>>())
            }
        };
        let (base_tree, new_tree) = (merged(&base.set), merged(&new.set));
        let diff = diff_tree((&base.set, &base_tree), (&new.set, &new_tree));
        let deltas: Vec<f64> = diff.tree.ids().map(|n| diff.delta(n)).collect();
        let largest = deltas.iter().skip(1).fold(0.0f64, |m, d| m.max(d.abs()));
        Some(Difference {
            diff,
            deltas,
            largest,
            view: FlameView::new(ChildOrder::HeaviestFirst),
            base_file: 0,
            new_file: 1,
        })
    }

    /// The selected node's base and new shares and its change.
    pub fn selected_shares(&self) -> Option<(NodeId, f64, f64, f64)> {
        let node = self.view.selected?;
        let i = node.0 as usize;
        Some((node, self.diff.base[i], self.diff.new[i], self.deltas[i]))
    }

    /// Moves, zooms and clicks, as in the other flame panes.
    pub fn update(&mut self, action: Action) {
        self.view.apply(&self.diff.tree, &self.diff.frames, action);
    }
}
