//! The Sandwich pane: the function table on the left; for the selected function, its callers as
//! an inverted flame graph above and its callees below, on the right.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;

use super::flame::{FlameView, Paint, fit};
use crate::analysis::flame::ChildOrder;
use crate::analysis::sandwich::{FunctionIndex, callees_of, callers_of};
use crate::analysis::summary::{FunctionRow, SortKey, sort_rows};
use crate::profile::{CallTree, FrameTable, FuncId, ProfileSet, Unit};
use crate::text::escape_control;
use crate::tui::theme::Theme;
use crate::tui::view::View;

/// Table columns the rows can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortColumn {
    SelfWeight,
    TotalWeight,
    Calls,
    Name,
}

impl SortColumn {
    pub fn next(self) -> SortColumn {
        match self {
            SortColumn::SelfWeight => SortColumn::TotalWeight,
            SortColumn::TotalWeight => SortColumn::Calls,
            SortColumn::Calls => SortColumn::Name,
            SortColumn::Name => SortColumn::SelfWeight,
        }
    }
}

#[derive(Debug, Clone)]
pub struct SandwichView {
    /// Indices into the view's table in the current sort order.
    order: Vec<usize>,
    /// Indices into the view's table that pass the filter, in sort order.
    pub visible: Vec<usize>,
    pub sort: SortColumn,
    /// Index into `visible`.
    pub selected: usize,
    /// First visible row shown.
    pub offset: usize,
    pub table_area: Rect,
    pub caller_tree: CallTree,
    pub callee_tree: CallTree,
    pub callers: FlameView,
    pub callees: FlameView,
    /// The function the two trees were built for.
    built_for: Option<FuncId>,
    filter: Option<regex::Regex>,
}

impl SandwichView {
    /// A view of `table` (the view's, sorted by self weight).
    pub fn new(table: &[FunctionRow]) -> SandwichView {
        let empty = crate::profile::CallTreeBuilder::new().finish();
        let mut callers = FlameView::new(ChildOrder::HeaviestFirst);
        callers.icicle = false;
        let order: Vec<usize> = (0..table.len()).collect();
        SandwichView {
            visible: order.clone(),
            order,
            sort: SortColumn::SelfWeight,
            selected: 0,
            offset: 0,
            table_area: Rect::default(),
            caller_tree: empty.clone(),
            callee_tree: empty,
            callers,
            callees: FlameView::new(ChildOrder::HeaviestFirst),
            built_for: None,
            filter: None,
        }
    }

    pub fn selected_function(&self, table: &[FunctionRow]) -> Option<FuncId> {
        self.visible.get(self.selected).map(|&i| table[i].func)
    }

    /// The selected row of `table`.
    pub fn selected_row<'a>(&self, table: &'a [FunctionRow]) -> Option<&'a FunctionRow> {
        self.visible.get(self.selected).map(|&i| &table[i])
    }

    /// Shows only functions whose name matches `filter` (all when `None`).
    pub fn set_filter(
        &mut self,
        table: &[FunctionRow],
        set: &ProfileSet,
        filter: Option<regex::Regex>,
    ) {
        self.filter = filter;
        self.apply_filter(table, set);
    }

    /// Recomputes the visible rows, keeping the selection on the same function where it is
    /// still shown.
    fn apply_filter(&mut self, table: &[FunctionRow], set: &ProfileSet) {
        let keep = self.selected_function(table);
        let filter = self.filter.as_ref();
        self.visible = self
            .order
            .iter()
            .copied()
            .filter(|&i| {
                filter.is_none_or(|re| re.is_match(&set.frames.function(table[i].func).name))
            })
            .collect();
        self.selected = keep
            .and_then(|f| self.visible.iter().position(|&i| table[i].func == f))
            .unwrap_or(0);
    }

    pub fn cycle_sort(&mut self, table: &[FunctionRow], set: &ProfileSet) {
        self.sort = self.sort.next();
        let mut rows: Vec<FunctionRow> = table.to_vec();
        match self.sort {
            SortColumn::SelfWeight => sort_rows(&mut rows, set, SortKey::SelfWeight),
            SortColumn::TotalWeight => sort_rows(&mut rows, set, SortKey::TotalWeight),
            SortColumn::Calls => sort_rows(&mut rows, set, SortKey::Calls),
            SortColumn::Name => rows.sort_by(|a, b| {
                let (fa, fb) = (set.frames.function(a.func), set.frames.function(b.func));
                (&fa.name, &fa.file, fa.line).cmp(&(&fb.name, &fb.file, fb.line))
            }),
        }
        // The table holds each function once: its position by id gives the new order.
        let mut at = vec![0usize; set.frames.function_count()];
        for (i, row) in table.iter().enumerate() {
            at[row.func.0 as usize] = i;
        }
        self.order = rows.iter().map(|r| at[r.func.0 as usize]).collect();
        self.apply_filter(table, set);
    }

    /// Moves the selection by `delta` rows.
    pub fn move_by(&mut self, delta: isize) {
        if self.visible.is_empty() {
            return;
        }
        let last = self.visible.len() as isize - 1;
        self.selected = (self.selected as isize + delta).clamp(0, last) as usize;
    }

    pub fn select_function(&mut self, table: &[FunctionRow], func: FuncId) {
        if let Some(i) = self.visible.iter().position(|&i| table[i].func == func) {
            self.selected = i;
        } else if let Some(row) = self.order.iter().position(|&i| table[i].func == func) {
            // Asked for a function the filter hides: show everything rather than nothing.
            self.filter = None;
            self.visible = self.order.clone();
            self.selected = row;
        }
    }

    /// Lays the pane out in `area` and rebuilds the callers and callees for the selection,
    /// from the view's tree.
    pub fn relayout(
        &mut self,
        table: &[FunctionRow],
        tree: &CallTree,
        index: &FunctionIndex,
        frames: &FrameTable,
        area: Rect,
    ) {
        let table_width = area.width * 3 / 5;
        self.table_area = Rect::new(area.x, area.y, table_width, area.height);
        let right = Rect::new(
            area.x + table_width + 1,
            area.y,
            area.width.saturating_sub(table_width + 1),
            area.height,
        );
        let upper = Rect::new(
            right.x,
            right.y + 1,
            right.width,
            right.height.saturating_sub(2) / 2,
        );
        let lower = Rect::new(
            right.x,
            upper.y + upper.height + 1,
            right.width,
            right.height.saturating_sub(upper.height + 2),
        );
        let func = self.selected_function(table);
        if func != self.built_for {
            self.built_for = func;
            let empty = || crate::profile::CallTreeBuilder::new().finish();
            let occurrences = func
                .map(|f| index.outermost(tree, frames, f))
                .unwrap_or_default();
            self.caller_tree =
                func.map_or_else(empty, |f| callers_of(tree, frames, f, &occurrences));
            self.callee_tree =
                func.map_or_else(empty, |f| callees_of(tree, frames, f, &occurrences));
            self.callers.clear();
            self.callees.clear();
        }
        self.callers.relayout(&self.caller_tree, frames, upper);
        self.callees.relayout(&self.callee_tree, frames, lower);
        let rows = usize::from(self.table_area.height.saturating_sub(1)).max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + rows {
            self.offset = self.selected + 1 - rows;
        }
    }
}

/// Draws the table of `shown` (the view) with the pane's sort and selection, and the callers
/// and callees of the selected function.
pub fn render(
    view: &SandwichView,
    shown: &View,
    set: &ProfileSet,
    unit: Unit,
    theme: &Theme,
    heat: bool,
    buf: &mut Buffer,
) {
    let (table, total) = (&shown.table, shown.total);
    let area = view.table_area.intersection(buf.area);
    if area.height == 0 {
        return;
    }
    let mark = |c: SortColumn| if view.sort == c { "▼" } else { " " };
    let header = format!(
        "{:>7}{}{:>5} {:>7}{}{:>5} {:>6}{} {}{}",
        "self",
        mark(SortColumn::SelfWeight),
        "%",
        "total",
        mark(SortColumn::TotalWeight),
        "%",
        "calls",
        mark(SortColumn::Calls),
        "function",
        mark(SortColumn::Name),
    );
    buf.set_stringn(
        area.x,
        area.y,
        &header,
        usize::from(area.width),
        theme.header(),
    );
    let share = |w: f64| if total > 0.0 { 100.0 * w / total } else { 0.0 };
    let rows = usize::from(area.height.saturating_sub(1));
    for (line, &index) in view.visible.iter().skip(view.offset).take(rows).enumerate() {
        let row = &table[index];
        let function = set.frames.function(row.func);
        let calls = row.calls.map_or_else(|| "-".to_owned(), |c| c.to_string());
        let text = format!(
            "{:>8}{:>5.1} {:>8}{:>5.1} {:>7} {}",
            fit(&unit.format_weight(row.self_weight), 8),
            share(row.self_weight),
            fit(&unit.format_weight(row.total_weight), 8),
            share(row.total_weight),
            fit(&calls, 7),
            escape_control(&function.name)
        );
        let style = if view.offset + line == view.selected {
            theme.selected()
        } else {
            Style::new()
        };
        let y = area.y + 1 + line as u16;
        buf.set_stringn(
            area.x,
            y,
            fit(&text, usize::from(area.width)),
            usize::from(area.width),
            style,
        );
    }
    if view.visible.is_empty() {
        buf.set_stringn(
            area.x,
            area.y + 1,
            "no function matches",
            usize::from(area.width),
            theme.dimmed(),
        );
    }
    for (title, flame, tree, y) in [
        (
            "callers ▲",
            &view.callers,
            &view.caller_tree,
            view.callers.area.y.saturating_sub(1),
        ),
        (
            "callees ▼",
            &view.callees,
            &view.callee_tree,
            view.callees.area.y.saturating_sub(1),
        ),
    ] {
        let a = flame.area.intersection(buf.area);
        if a.width > 0 && y < buf.area.bottom() {
            buf.set_stringn(a.x, y, title, usize::from(a.width), theme.header());
        }
        let paint = Paint {
            tree,
            frames: &set.frames,
            theme,
            heat,
            matches: None,
            deltas: None,
        };
        super::flame::render(flame, &paint, buf);
    }
}
