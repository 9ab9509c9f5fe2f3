//! The Sandwich pane: the function table on the left; for the selected function, its callers as
//! an inverted flame graph above and its callees below, on the right.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;

use super::flame::{FlameView, Paint, fit};
use crate::analysis::flame::ChildOrder;
use crate::analysis::place::short_file;
use crate::analysis::summary::calls_column;
use crate::analysis::summary::{FunctionRow, SortKey, sort_rows};
use crate::profile::{CallTree, FrameTable, FuncId, ProfileSet, Unit};
use crate::text::{escape_control, fit_path, middle_ellipsis};
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
    /// The callers and callees shown, of [`SandwichView::built_for`]: made on a worker (see
    /// `tui/callers.rs`) and drawn only while that function is the one selected.
    pub caller_tree: CallTree,
    pub callee_tree: CallTree,
    pub callers: FlameView,
    pub callees: FlameView,
    /// The function the two trees were made for.
    built_for: Option<FuncId>,
    filter: Option<regex::Regex>,
    /// What the table's columns need, from the whole table (see [`SandwichView::measure`]).
    pub facts: TableFacts,
    /// The columns for the present width.
    pub columns: Columns,
}

/// What decides the table's columns, measured once per view.
#[derive(Debug, Clone, Copy, Default)]
pub struct TableFacts {
    /// The widest weight as written.
    pub value_width: usize,
    /// The widest calls figure (`nc/cc` included); `None` when the format counts no calls.
    pub calls_width: Option<usize>,
    /// Whether two functions have the same name: the file column then always shows.
    pub repeated_names: bool,
}

/// The widths of the table's columns; every column is followed by a space.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Columns {
    pub value: usize,
    /// The two share columns, unless the width is too small for them and a name.
    pub percent: bool,
    pub calls: Option<usize>,
    pub name: usize,
    /// The file (or module) column, where shown.
    pub file: Option<usize>,
}

/// The narrowest name and file columns worth drawing (`pricing.py:10`).
const MIN_NAME: usize = 12;
const MIN_FILE: usize = 14;

impl Columns {
    /// The columns of a table `width` cells wide. The name always gets room: where there is
    /// too little, the calls column goes first (the status line still gives the selected
    /// row's), then the shares.
    pub fn fit(facts: &TableFacts, width: usize) -> Columns {
        // A sorted column's header carries its mark (`total▼`): values are at least as wide.
        let mut c = Columns {
            value: facts.value_width.max(6),
            percent: true,
            calls: facts.calls_width.map(|w| w.max(6)),
            name: 0,
            file: None,
        };
        let need = MIN_NAME
            + if facts.repeated_names {
                MIN_FILE + 1
            } else {
                0
            };
        if c.calls.is_some() && width.saturating_sub(c.name_at()) < need {
            c.calls = None;
        }
        if width.saturating_sub(c.name_at()) < need {
            c.percent = false;
        }
        let rest = width.saturating_sub(c.name_at());
        // Room for a useful file column beside a useful name, or names that need one (then
        // half of what is left, however little).
        c.file = if facts.repeated_names && rest >= 13 {
            Some((rest / 2).min(48))
        } else if rest >= 44 {
            Some((rest * 2 / 5).min(48))
        } else {
            None
        };
        c.name = rest.saturating_sub(c.file.map_or(0, |f| f + 1));
        c
    }

    /// Where the name column starts: after the figures, each followed by a space.
    pub fn name_at(&self) -> usize {
        2 * (self.value + 1)
            + if self.percent { 2 * (PERCENT + 1) } else { 0 }
            + self.calls.map_or(0, |w| w + 1)
    }
}

/// A share as the table writes it: `100.0` at most.
const PERCENT: usize = 5;

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
            facts: TableFacts::default(),
            columns: Columns::default(),
        }
    }

    /// Measures what the columns of `table` need: done once per view, since a large file's
    /// table has tens of thousands of rows.
    pub fn measure(&mut self, table: &[FunctionRow], frames: &FrameTable, unit: Unit) {
        let width = |s: String| s.chars().count();
        let value_width = table
            .iter()
            .map(|r| {
                width(unit.format_weight(r.self_weight))
                    .max(width(unit.format_weight(r.total_weight)))
            })
            .max()
            .unwrap_or(0);
        let calls_width = table
            .iter()
            .filter(|r| r.calls.is_some())
            .map(|r| width(calls_column(r.calls, r.primitive_calls)))
            .max();
        let mut names = std::collections::HashSet::with_capacity(table.len());
        let repeated_names = !table
            .iter()
            .all(|r| names.insert(frames.function(r.func).name));
        self.facts = TableFacts {
            value_width,
            calls_width,
            repeated_names,
        };
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
                filter.is_none_or(|re| {
                    let f = set.frames.function(table[i].func);
                    crate::tui::search::is_match(re, f.name, f.file)
                })
            })
            .collect();
        self.selected = keep
            .and_then(|f| self.visible.iter().position(|&i| table[i].func == f))
            .unwrap_or(0);
    }

    pub fn cycle_sort(&mut self, table: &[FunctionRow], set: &ProfileSet) {
        let mut next = self.sort.next();
        // A table without calls has no calls column to sort by.
        if next == SortColumn::Calls && self.facts.calls_width.is_none() {
            next = next.next();
        }
        self.sort_by(next, table, set);
    }

    /// The table in the order of `column` (one the table has).
    pub fn sort_by(&mut self, column: SortColumn, table: &[FunctionRow], set: &ProfileSet) {
        self.sort = column;
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

    /// Whether the callers and callees held are the selected function's: they are drawn only
    /// then, never under another function's row.
    pub fn shows_trees(&self, table: &[FunctionRow]) -> bool {
        self.built_for.is_some() && self.built_for == self.selected_function(table)
    }

    /// The selected function, where its callers and callees are still to be made.
    pub fn wanted(&self, table: &[FunctionRow]) -> Option<FuncId> {
        self.selected_function(table)
            .filter(|&f| self.built_for != Some(f))
    }

    /// Takes the callers and callees made for `func` (with their first layouts, made beside
    /// them), keeping the name order and colours the flame views had made.
    pub fn install(
        &mut self,
        func: FuncId,
        (caller_tree, callee_tree): (CallTree, CallTree),
        (callers, callees): (FlameView, FlameView),
    ) {
        self.built_for = Some(func);
        self.caller_tree = caller_tree;
        self.callee_tree = callee_tree;
        for (mine, made) in [(&mut self.callers, callers), (&mut self.callees, callees)] {
            mine.clear();
            mine.adopt(made);
        }
    }

    /// Lays the pane out in `area`: the table, and the callers and callees where they are the
    /// selected function's.
    pub fn relayout(&mut self, table: &[FunctionRow], frames: &FrameTable, area: Rect) {
        // Narrow terminals give the table more: below 60 columns all of it, callers and
        // callees being reached by Enter in a flame pane.
        let table_width = if area.width < 60 {
            area.width
        } else if area.width < 100 {
            area.width * 3 / 4
        } else {
            area.width * 3 / 5
        };
        self.columns = Columns::fit(&self.facts, usize::from(table_width));
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
        self.callers.area = upper;
        self.callees.area = lower;
        if self.shows_trees(table) {
            self.callers.relayout(&self.caller_tree, frames, upper);
            self.callees.relayout(&self.callee_tree, frames, lower);
        }
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
    let c = view.columns;
    let label = |text: &str, column: SortColumn| {
        if view.sort == column {
            format!("{text}▼")
        } else {
            text.to_owned()
        }
    };
    let percent = |text: String| {
        if c.percent {
            format!("{text:>PERCENT$} ")
        } else {
            String::new()
        }
    };
    let mut header = format!(
        "{:>vw$} {}{:>vw$} {}",
        label("self", SortColumn::SelfWeight),
        percent("%".into()),
        label("total", SortColumn::TotalWeight),
        percent("%".into()),
        vw = c.value,
    );
    if let Some(w) = c.calls {
        header.push_str(&format!("{:>w$} ", label("calls", SortColumn::Calls)));
    }
    header.push_str(&format!(
        "{:<nw$}",
        label("function", SortColumn::Name),
        nw = c.name
    ));
    if c.file.is_some() {
        header.push_str(" file");
    }
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
        let mut text = format!(
            "{:>vw$} {}{:>vw$} {}",
            unit.format_weight(row.self_weight),
            percent(format!("{:.1}", share(row.self_weight))),
            unit.format_weight(row.total_weight),
            percent(format!("{:.1}", share(row.total_weight))),
            vw = c.value,
        );
        if let Some(w) = c.calls {
            let calls = calls_column(row.calls, row.primitive_calls);
            text.push_str(&format!("{calls:>w$} "));
        }
        let name = escape_control(function.name);
        text.push_str(&format!(
            "{:<nw$}",
            middle_ellipsis(&name, c.name),
            nw = c.name
        ));
        if let Some(w) = c.file {
            // pstats' built-ins (`~`) have no place.
            let file = function.file.filter(|f| *f != "~");
            let place = match (file, shown.lines_of(row.func), function.line) {
                (Some(file), Some((lo, _)), _) | (Some(file), None, Some(lo))
                    if !file.is_empty() =>
                {
                    format!("{}:{lo}", short_file(file, shown.root.as_deref()))
                }
                (Some(file), _, _) => short_file(file, shown.root.as_deref()).to_owned(),
                (None, _, _) => String::new(),
            };
            text.push(' ');
            text.push_str(&fit_path(&escape_control(&place), w));
        }
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
    // Another function's callers and callees are never drawn under this one's row: while the
    // selected one's are made, the titles say so.
    let ready = view.shows_trees(table);
    for (title, flame, tree, y) in [
        (
            if ready {
                "callers ▲"
            } else {
                "callers ▲ …"
            },
            &view.callers,
            &view.caller_tree,
            view.callers.area.y.saturating_sub(1),
        ),
        (
            if ready {
                "callees ▼"
            } else {
                "callees ▼ …"
            },
            &view.callees,
            &view.callee_tree,
            view.callees.area.y.saturating_sub(1),
        ),
    ] {
        let a = flame.area.intersection(buf.area);
        if a.width > 0 && y < buf.area.bottom() {
            buf.set_stringn(a.x, y, title, usize::from(a.width), theme.header());
        }
        if !ready {
            continue;
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
