//! The difference view (`d`): with two files open, one flame graph of both merged by call
//! path, each frame coloured by how its share of the total moved from the first file (base) to
//! the second (new). Frames present on one side only stay in the picture.

use super::action::Action;
use super::panes::flame::FlameView;
use crate::analysis::diff::{self as function_diff, DiffRow, DiffSort};
use crate::analysis::diff_tree::{DiffTree, diff_tree};
use crate::analysis::flame::ChildOrder;
use crate::import::Loaded;
use crate::profile::{NodeId, Unit};

/// The order of the difference table: largest change first, or by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableSort {
    TotalShare,
    SelfShare,
    Name,
}

pub struct Difference {
    pub diff: DiffTree,
    /// The function table of both files, as `obol diff` prints it.
    pub rows: Vec<DiffRow>,
    pub sort: TableSort,
    /// Each file's total, which the table's shares are of.
    pub totals: (f64, f64),
    /// The unit both files weigh in, when they share one: the table then shows values beside
    /// shares.
    pub unit: Option<Unit>,
    /// Selected row and first row shown of the table.
    pub selected: usize,
    pub offset: usize,
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
    /// so that files with different thread ids still compare; other units and events left out).
    pub fn new(files: &[Loaded]) -> Option<Difference> {
        let (base, new) = (files.first()?, files.get(1)?);
        let merged = |set: &crate::profile::ProfileSet| match set.summed().collect::<Vec<_>>()[..] {
            [one] => one.tree().clone(),
            ref many => crate::analysis::transform::merge(
                &many.iter().map(|p| p.tree()).collect::<Vec<_>>(),
            ),
        };
        let (base_tree, new_tree) = (merged(&base.set), merged(&new.set));
        let diff = diff_tree((&base.set, &base_tree), (&new.set, &new_tree));
        let deltas: Vec<f64> = diff.tree.ids().map(|n| diff.delta(n)).collect();
        let side = crate::analysis::diff::input;
        let by_shares = crate::analysis::diff::compares_by_shares(base, new);
        let rows = function_diff::diff(&side(base), &side(new), by_shares, DiffSort::Share);
        let largest = deltas.iter().skip(1).fold(0.0f64, |m, d| m.max(d.abs()));
        Some(Difference {
            diff,
            rows,
            sort: TableSort::TotalShare,
            totals: (base.set.total(), new.set.total()),
            unit: crate::analysis::diff::shared_unit(base, new),
            selected: 0,
            offset: 0,
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

    /// A row's share of one side's total (`new` or base; `total` or self), `None` where the
    /// function is absent on that side.
    pub fn share(&self, row: &DiffRow, new: bool, total: bool) -> Option<f64> {
        let (side, file_total) = if new {
            (row.new, self.totals.1)
        } else {
            (row.base, self.totals.0)
        };
        let side = side?;
        let value = if total {
            side.total_weight
        } else {
            side.self_weight
        };
        Some(if file_total > 0.0 {
            value / file_total
        } else {
            0.0
        })
    }

    /// The table's keys: rows, pages, and `o` to sort by the change of total share, of self
    /// share, or by name.
    pub fn update_table(&mut self, action: Action, page: usize) {
        let last = self.rows.len().saturating_sub(1);
        match action {
            Action::Up | Action::ScrollUp => self.selected = self.selected.saturating_sub(1),
            Action::Down | Action::ScrollDown => self.selected = (self.selected + 1).min(last),
            Action::PageUp => self.selected = self.selected.saturating_sub(page),
            Action::PageDown => self.selected = (self.selected + page).min(last),
            Action::CycleSort => {
                self.sort = match self.sort {
                    TableSort::TotalShare => TableSort::SelfShare,
                    TableSort::SelfShare => TableSort::Name,
                    TableSort::Name => TableSort::TotalShare,
                };
                let key = |r: &DiffRow| match self.sort {
                    TableSort::TotalShare => r.delta_total_share.abs(),
                    TableSort::SelfShare => r.delta_self_share.abs(),
                    TableSort::Name => 0.0,
                };
                self.rows.sort_by(|a, b| {
                    key(b)
                        .total_cmp(&key(a))
                        .then_with(|| (&a.name, &a.file).cmp(&(&b.name, &b.file)))
                });
                self.selected = 0;
            }
            _ => {}
        }
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + page {
            self.offset = self.selected + 1 - page;
        }
    }

    /// Moves, zooms and clicks, as in the other flame panes.
    pub fn update(&mut self, action: Action) {
        self.view.apply(&self.diff.tree, &self.diff.frames, action);
    }
}
