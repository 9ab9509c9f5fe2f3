//! Installing a derived view, whole or in two steps. On a large file the trees take several
//! times as long as the figures read with the file: the Sandwich table (the file's own figures)
//! is shown first, with Time Order, Left Heavy and Source saying how far the trees are, and the
//! whole view of the same request then fills them in where the user is: the pane, the table's
//! row, sort and search are kept.

use super::action::Pane;
use super::app::App;
use super::panes::sandwich::{SandwichView, SortColumn};
use super::view::View;
use super::work::{Job, Prepared};
use crate::analysis::flame::ChildOrder;

impl App {
    /// Whether the view shown is its table alone, its trees still being made.
    pub fn building(&self) -> bool {
        self.view.as_ref().is_some_and(|v| v.building)
    }

    /// Whether `pane` needs the trees the view shown is still making.
    pub fn waits_for_trees(&self, pane: Pane) -> bool {
        (self.building() && matches!(pane, Pane::TimeOrder | Pane::LeftHeavy | Pane::Source))
            // Modules are ranked by their calls too, which no file's figures hold.
            || (pane == Pane::Priority && self.reading.is_some())
    }

    /// Shows a view's table while its trees are made (`Done::ViewTable`).
    pub(super) fn install_table(&mut self, view: View) {
        self.tree_progress = 0;
        self.new_table(&view);
        self.view = Some(view);
        self.computing = None;
        self.after_install();
    }

    /// Shows a whole view: in place of the one before, or filling in its own table shown
    /// meanwhile, whose rows (made by the same derivation) and the user's place in them stay.
    pub(super) fn install_view(&mut self, generation: u64, view: View, prepared: Prepared) {
        self.view_in_flight = false;
        let filling = self.building();
        self.time_order.order = if view.time_order.is_some() {
            ChildOrder::Stored
        } else {
            ChildOrder::Alphabetical
        };
        self.time_order.clear();
        self.left_heavy.clear();
        let Prepared {
            time_order,
            left_heavy,
        } = prepared;
        self.time_order.adopt(time_order);
        self.left_heavy.adopt(left_heavy);
        if !filling {
            self.new_table(&view);
        }
        if let Some(tree) = &view.time_order {
            self.push_job(Job::TimeIndex {
                generation,
                files: self.session.files.clone(),
                file: view.file,
                tree: tree.clone(),
            });
        }
        if let Some(table_only) = self.view.replace(view) {
            super::app::drop_elsewhere(table_only);
        }
        self.source.invalidate();
        self.computing = None;
        self.after_install();
    }

    /// Sandwich's table for a new view, in the sort the user chose.
    fn new_table(&mut self, view: &View) {
        let keep_sort = self.sandwich.sort;
        self.sandwich = SandwichView::new(&view.table);
        let set = &self.session.files[view.file].set;
        let unit = set.profiles[view.profile.profile].unit;
        self.sandwich.measure(&view.table, &set.frames, unit);
        // Another file may count no calls: its table cannot be sorted by them.
        let keep_sort =
            if keep_sort == SortColumn::Calls && self.sandwich.facts.calls_width.is_none() {
                SortColumn::SelfWeight
            } else {
                keep_sort
            };
        if self.sandwich.sort != keep_sort {
            self.sandwich.sort_by(keep_sort, &view.table, set);
        }
    }

    fn after_install(&mut self) {
        if let Some(search) = &self.search {
            let regex = search.regex.clone();
            self.apply_search(Some(regex));
        }
        self.relayout();
        self.place_selection();
        if self.live.is_some() {
            self.show_pending();
        }
    }
}
