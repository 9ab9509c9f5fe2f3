//! The Source pane's state: the selected function's annotated source (analysis/source_lines.rs)
//! as rows, the row selected, and the functions Enter went through (Esc goes back). The
//! annotation is made when the pane is shown, the selection changes or a new view arrives,
//! never while drawing; the file is read then.

use std::collections::BTreeMap;
use std::path::PathBuf;

use ratatui::layout::Rect;

use super::action::Action;
use super::app::App;
use super::selection::Selection;
use super::session::FunctionRef;
use super::work::Job;
use crate::analysis::source_lines::{Annotation, annotate, other_hot_lines};
use crate::import::Loaded;
use crate::profile::{CallTree, FuncId, Profile};

/// One row of the pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    /// A line of the file (from 1).
    Line(u32),
    /// pstats: the `i`-th callee edge placed on line `line`, shown under it.
    Edge { line: u32, index: usize },
    /// pstats: the `i`-th callee no line of the function was found to call, under the function.
    Unplaced(usize),
}

#[derive(Debug, Clone, Default)]
pub struct SourceView {
    /// The function shown, and the annotation made for it.
    pub shown: Option<FunctionRef>,
    pub annotation: Option<Annotation>,
    /// Self weight on the lines of the file's other functions.
    pub others: BTreeMap<u32, f64>,
    pub rows: Vec<Row>,
    /// Index into `rows`.
    pub selected: usize,
    /// First row drawn.
    pub offset: usize,
    /// Where the rows are drawn (the body but its header line).
    pub area: Rect,
    /// The largest total of a line of the function, for the heat bars.
    pub hottest: f64,
    /// Functions left by Enter, for Esc.
    pub history: Vec<FuncId>,
    /// The function whose annotation a worker is making (it walks the whole tree).
    pub pending: Option<FunctionRef>,
}

/// A function's annotated source, made on a worker.
pub struct SourceFigures {
    pub target: FunctionRef,
    pub annotation: Annotation,
    pub others: BTreeMap<u32, f64>,
}

impl SourceFigures {
    /// The annotation of `target` over `tree` (whose frames keep their lines), with pstats'
    /// stated edges from the file's profiles numbered `shown`.
    pub fn make(
        files: &[Loaded],
        tree: &CallTree,
        shown: &[usize],
        target: FunctionRef,
        source_roots: &[PathBuf],
    ) -> SourceFigures {
        let set = &files[target.file].set;
        let profiles: Vec<&Profile> = shown.iter().map(|&i| &set.profiles[i]).collect();
        let trees = [tree];
        let annotation = annotate(set, &profiles, &trees, target.func, source_roots);
        let others = match &set.frames.function(target.func).file {
            Some(file) if !annotation.stated => {
                other_hot_lines(&trees, &set.frames, file, target.func)
            }
            _ => BTreeMap::new(),
        };
        SourceFigures {
            target,
            annotation,
            others,
        }
    }
}

impl SourceView {
    /// Forgets the annotation: the view it was made from is gone.
    pub fn invalidate(&mut self) {
        self.shown = None;
        self.annotation = None;
        self.pending = None;
    }

    fn load(
        &mut self,
        annotation: Annotation,
        others: BTreeMap<u32, f64>,
        shown: FunctionRef,
        body: Rect,
    ) {
        let mut rows = Vec::new();
        let numbers: Vec<u32> = if annotation.text.is_empty() {
            annotation.listed_lines()
        } else {
            (1..=annotation.text.len() as u32).collect()
        };
        for n in numbers {
            rows.push(Row::Line(n));
            if let Some(figures) = annotation.lines.get(&n) {
                rows.extend((0..figures.edges.len()).map(|index| Row::Edge { line: n, index }));
            }
            let end = annotation.extent.map(|e| e.1);
            if end == Some(n)
                || (end.is_none() && n == *annotation.lines.keys().last().unwrap_or(&0))
            {
                rows.extend((0..annotation.unplaced.len()).map(Row::Unplaced));
            }
        }
        if !annotation.unplaced.is_empty() && !rows.iter().any(|r| matches!(r, Row::Unplaced(_))) {
            rows.extend((0..annotation.unplaced.len()).map(Row::Unplaced));
        }
        let target = annotation
            .hottest_line()
            .or_else(|| annotation.lines.keys().next().copied())
            .or(annotation.extent.map(|e| e.0));
        self.selected = target
            .and_then(|t| rows.iter().position(|&r| r == Row::Line(t)))
            .unwrap_or(0);
        self.hottest = annotation
            .lines
            .values()
            .map(|f| f.total_weight)
            .fold(0.0, f64::max);
        self.rows = rows;
        self.annotation = Some(annotation);
        self.others = others;
        self.shown = Some(shown);
        self.layout(body);
        // The selected line a third of the way down, as an editor jumping to it would.
        self.offset = self
            .selected
            .saturating_sub(usize::from(self.area.height) / 3);
        self.scroll_to_selected();
    }

    /// Rows below a one-line header.
    pub fn layout(&mut self, body: Rect) {
        self.area = Rect::new(
            body.x,
            body.y + 1,
            body.width,
            body.height.saturating_sub(1),
        );
        self.scroll_to_selected();
    }

    fn scroll_to_selected(&mut self) {
        let height = usize::from(self.area.height).max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + height {
            self.offset = self.selected + 1 - height;
        }
    }

    fn move_by(&mut self, delta: isize) {
        if self.rows.is_empty() {
            return;
        }
        let last = self.rows.len() as isize - 1;
        self.selected = (self.selected as isize + delta).clamp(0, last) as usize;
        self.scroll_to_selected();
    }

    /// Whether row `i` is a line with samples (or, for pstats, with callees placed on it).
    pub fn is_hot(&self, i: usize) -> bool {
        let (Some(a), Some(Row::Line(n))) = (&self.annotation, self.rows.get(i)) else {
            return false;
        };
        a.lines
            .get(n)
            .is_some_and(|f| f.self_weight > 0.0 || f.total_weight > 0.0 || !f.edges.is_empty())
    }

    /// The next (or previous) hot line, wrapping around.
    fn jump(&mut self, forward: bool) -> bool {
        let n = self.rows.len();
        let found = (1..=n)
            .map(|step| {
                if forward {
                    (self.selected + step) % n
                } else {
                    (self.selected + n * 2 - step) % n
                }
            })
            .find(|&i| self.is_hot(i));
        if let Some(i) = found {
            self.selected = i;
            self.scroll_to_selected();
        }
        found.is_some()
    }

    /// The line of the selected row.
    pub fn selected_line(&self) -> Option<u32> {
        match self.rows.get(self.selected)? {
            Row::Line(n) | Row::Edge { line: n, .. } => Some(*n),
            Row::Unplaced(_) => None,
        }
    }

    /// The callee Enter moves to: the edge selected, else the heaviest callee of the line.
    fn callee(&self) -> Option<FuncId> {
        let a = self.annotation.as_ref()?;
        match *self.rows.get(self.selected)? {
            Row::Edge { line, index } => Some(a.lines.get(&line)?.edges.get(index)?.func),
            Row::Unplaced(i) => Some(a.unplaced.get(i)?.func),
            Row::Line(n) => {
                let figures = a.lines.get(&n)?;
                figures.callees.first().map(|c| c.0).or_else(|| {
                    figures
                        .edges
                        .iter()
                        .max_by(|x, y| x.total_weight.total_cmp(&y.total_weight))
                        .map(|e| e.func)
                })
            }
        }
    }
}

impl App {
    /// Installs an annotation a worker made, if it is still the one wanted.
    pub(super) fn finish_source(&mut self, generation: u64, figures: SourceFigures) {
        if generation != self.view_generation() || self.source.pending != Some(figures.target) {
            return;
        }
        self.source.pending = None;
        if self.view.is_some() {
            self.computing = None;
        }
        let body = self.body();
        self.source
            .load(figures.annotation, figures.others, figures.target, body);
    }

    /// Shows the selected function's source (or the heaviest function's, with nothing
    /// selected), asking first for a view that keeps lines where the one shown groups them.
    pub(super) fn place_source(&mut self) {
        let Some(view) = &self.view else {
            return;
        };
        if view.line_tree(&self.session.files).is_none() {
            if !self.session.options.line_figures {
                self.set_options(|o| o.line_figures = true);
            }
            return;
        }
        let func = self
            .selection
            .func
            .or_else(|| view.table.first().map(|row| row.func));
        let Some(func) = func else {
            return;
        };
        let target = FunctionRef {
            file: view.file,
            func,
        };
        if self.source.shown == Some(target) {
            self.source.layout(self.body());
            return;
        }
        if self.source.pending == Some(target) {
            return;
        }
        // Annotating walks the whole tree: a worker does it, the pane says so meanwhile.
        let Some(tree) = view.shared_line_tree() else {
            return;
        };
        self.source.pending = Some(target);
        self.computing = Some("reading the function's lines");
        self.jobs.retain(|j| !matches!(j, Job::Source { .. }));
        self.jobs.push(Job::Source {
            generation: self.view_generation(),
            files: self.session.files.clone(),
            tree,
            shown: self.session.shown_profiles(),
            target,
            source_roots: self.session.source_roots.clone(),
        });
    }

    pub(super) fn update_source(&mut self, action: Action) {
        let page = (self.source.area.height as isize).max(1);
        match action {
            Action::Up | Action::ScrollUp => self.source.move_by(-1),
            Action::Down | Action::ScrollDown => self.source.move_by(1),
            Action::PageUp => self.source.move_by(-page),
            Action::PageDown => self.source.move_by(page),
            Action::NextMatch | Action::PrevMatch
                if !self.source.jump(action == Action::NextMatch) =>
            {
                self.message = Some("no line of this function was sampled".into());
            }
            Action::Click { column, row } => {
                let area = self.source.area;
                if column >= area.x && column < area.right() && row >= area.y && row < area.bottom()
                {
                    let target = self.source.offset + usize::from(row - area.y);
                    if target < self.source.rows.len() {
                        self.source.selected = target;
                    }
                }
            }
            Action::Zoom => match (self.source.callee(), self.source.shown) {
                (Some(callee), Some(shown)) => {
                    self.source.history.push(shown.func);
                    self.selection = Selection {
                        func: Some(callee),
                        path: Vec::new(),
                    };
                    self.place_source();
                }
                _ => self.message = Some("this line calls nothing that was sampled".into()),
            },
            Action::Back => match self.source.history.pop() {
                Some(caller) => {
                    self.selection = Selection {
                        func: Some(caller),
                        path: Vec::new(),
                    };
                    self.place_source();
                }
                None => self.show(self.flame_pane),
            },
            _ => {}
        }
    }
}
