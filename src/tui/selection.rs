//! The selection every pane shares: a function and the call path that led to it. Moving in a
//! flame pane sets both; moving in Sandwich sets the function. Showing a pane (or a new view)
//! puts its own cursor there: a flame pane on the same call path, or on the function's
//! heaviest occurrence; Sandwich on the function's row.

use super::action::{Action, Pane};
use super::app::{App, Comparison};
use super::effects::Effect;
use super::panes::flame::FlameView;
use crate::analysis::sandwich::FunctionIndex;
use crate::profile::{CallTree, FrameTable, FuncId, NodeId};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    pub func: Option<FuncId>,
    /// The functions from the root's child down to the selected one, where a flame pane chose
    /// it; empty where a table did (any occurrence will do: the heaviest is taken).
    pub path: Vec<FuncId>,
}

impl Selection {
    /// The selection a flame node stands for.
    pub fn of_node(tree: &CallTree, frames: &FrameTable, node: NodeId) -> Selection {
        let mut path = Vec::new();
        let mut at = Some(node);
        while let Some(n) = at {
            if let Some(frame) = tree.frame(n) {
                path.push(frames.func_of(frame));
            }
            at = tree.parent(n);
        }
        path.reverse();
        Selection {
            func: path.last().copied(),
            path,
        }
    }
}

/// The node at the end of `path` (the heaviest, where a function has several frames under one
/// caller), or `None` where the tree has no such path. A path that does not start at the root
/// (chosen in a focused view, which starts at the focused function) is looked for below every
/// node of its first function.
fn follow(tree: &CallTree, frames: &FrameTable, path: &[FuncId]) -> Option<NodeId> {
    let is = |n: NodeId, func: FuncId| tree.frame(n).is_some_and(|f| frames.func_of(f) == func);
    let (&first, rest) = path.split_first()?;
    let from_root: Vec<NodeId> = tree
        .children(NodeId::ROOT)
        .iter()
        .copied()
        .filter(|&c| is(c, first))
        .collect();
    let starts = if from_root.is_empty() {
        tree.ids().filter(|&n| is(n, first)).collect()
    } else {
        from_root
    };
    let mut frontier = starts;
    for &func in rest {
        frontier = frontier
            .iter()
            .flat_map(|&n| tree.children(n).iter().copied())
            .filter(|&c| is(c, func))
            .collect();
        if frontier.is_empty() {
            return None;
        }
    }
    frontier
        .into_iter()
        .max_by(|a, b| tree.total_weight(*a).total_cmp(&tree.total_weight(*b)))
}

/// The heaviest node of `func` in `tree`: among the nodes `index` lists, where it is the tree's
/// index, else found by walking the whole tree.
fn heaviest(
    tree: &CallTree,
    frames: &FrameTable,
    index: Option<&FunctionIndex>,
    func: FuncId,
) -> Option<NodeId> {
    let heavier = |a: &NodeId, b: &NodeId| tree.total_weight(*a).total_cmp(&tree.total_weight(*b));
    match index.and_then(|i| i.of(func)) {
        Some(nodes) => nodes.iter().copied().max_by(heavier),
        None => tree
            .ids()
            .filter(|&n| tree.frame(n).is_some_and(|f| frames.func_of(f) == func))
            .max_by(heavier),
    }
}

/// Puts a flame view's cursor on `selection`, leaving the zoom where the node is drawn.
fn place_in_flame(
    flame: &mut FlameView,
    tree: &CallTree,
    frames: &FrameTable,
    index: Option<&FunctionIndex>,
    selection: &Selection,
) {
    let Some(func) = selection.func else {
        return;
    };
    if let Some(current) = flame.selected
        && Selection::of_node(tree, frames, current).func == Some(func)
        && (selection.path.is_empty()
            || Selection::of_node(tree, frames, current).path == selection.path)
    {
        return;
    }
    let Some(node) =
        follow(tree, frames, &selection.path).or_else(|| heaviest(tree, frames, index, func))
    else {
        return;
    };
    if flame.layout.find(node).is_none() && !flame.zoom.is_empty() {
        flame.zoom.clear();
        flame.relayout(tree, frames, flame.area);
    }
    // Too narrow to draw: the deepest drawn frame on its path.
    let mut shown = node;
    while shown != NodeId::ROOT && flame.layout.find(shown).is_none() {
        shown = tree.parent(shown).unwrap_or(NodeId::ROOT);
    }
    if shown != NodeId::ROOT {
        flame.select(shown);
    }
}

impl App {
    /// Moves the pane shown to the shared selection.
    pub(super) fn place_selection(&mut self) {
        if !matches!(self.comparison, Comparison::Off) || self.waits_for_trees(self.pane) {
            return;
        }
        if self.pane == Pane::Source {
            // Another function chosen elsewhere: Esc has nothing to go back to.
            if self.source.shown.map(|s| s.func) != self.selection.func {
                self.source.history.clear();
            }
            self.place_source();
            return;
        }
        let Some(view) = &self.view else {
            return;
        };
        let files = &self.session.files;
        let frames = &files[view.file].set.frames;
        match self.pane {
            // The view's function index is of its merged tree, which Time Order draws too where
            // the profile has no timeline; a timeline's tree has its own once made.
            Pane::TimeOrder => place_in_flame(
                &mut self.time_order,
                view.time_order_tree(files),
                frames,
                match view.time_order {
                    None => Some(&*view.index),
                    Some(_) => view.time_index.as_ref(),
                },
                &self.selection,
            ),
            Pane::LeftHeavy => place_in_flame(
                &mut self.left_heavy,
                view.tree(files),
                frames,
                Some(&*view.index),
                &self.selection,
            ),
            Pane::Sandwich => {
                if let Some(func) = self.selection.func {
                    self.sandwich.select_function(&view.table, func);
                }
                let body = self.body();
                self.sandwich.relayout(&view.table, frames, body);
                self.ask_sandwich();
            }
            Pane::Priority | Pane::Source => {}
        }
    }

    /// Records a flame pane's cursor as the shared selection.
    fn take_flame_selection(&mut self) {
        let Some(view) = &self.view else {
            return;
        };
        let files = &self.session.files;
        let tree = if self.pane == Pane::TimeOrder {
            view.time_order_tree(files)
        } else {
            view.tree(files)
        };
        if let Some(node) = self
            .flame(self.pane)
            .selected
            .filter(|&n| n != NodeId::ROOT)
        {
            self.selection = Selection::of_node(tree, &files[view.file].set.frames, node);
        }
    }

    pub(super) fn update_flame(&mut self, action: Action) {
        let Some(view) = &self.view else {
            return;
        };
        let files = &self.session.files;
        let frames = &files[view.file].set.frames;
        let (tree, flame) = match self.pane {
            Pane::TimeOrder => (view.time_order_tree(files), &mut self.time_order),
            _ => (view.tree(files), &mut self.left_heavy),
        };
        let before = flame.selected;
        match action {
            Action::NextMatch | Action::PrevMatch => {
                self.jump_to_match(action == Action::NextMatch)
            }
            // Out of the zoom history first, then out of focus, then out of `--focus`.
            Action::Back => {
                if !flame.apply(tree, frames, action) {
                    if self.session.options.focus.is_some() {
                        self.set_options(|o| o.focus = None);
                        return;
                    }
                    if self.session.options.filters.focus.is_some() {
                        self.set_options(|o| o.filters.focus = None);
                        return;
                    }
                }
            }
            _ => {
                flame.apply(tree, frames, action);
            }
        }
        if self.pane == Pane::TimeOrder {
            self.refresh_axis();
        }
        // Only a move the user made is a choice: the first frame a pane selects by itself is
        // not, so Sandwich still opens on its heaviest row until something is chosen.
        if self.flame(self.pane).selected != before {
            self.take_flame_selection();
        }
    }

    pub(super) fn update_sandwich(&mut self, action: Action) {
        let Some(view) = &self.view else {
            return;
        };
        let page = (self.sandwich.table_area.height.saturating_sub(2) as isize).max(1);
        match action {
            Action::Up | Action::ScrollUp | Action::PrevMatch => self.sandwich.move_by(-1),
            Action::Down | Action::ScrollDown | Action::NextMatch => self.sandwich.move_by(1),
            Action::PageUp => self.sandwich.move_by(-page),
            Action::PageDown => self.sandwich.move_by(page),
            Action::CycleSort => {
                let set = &self.session.files[view.file].set;
                self.sandwich.cycle_sort(&view.table, set);
            }
            Action::Click { column, row } => {
                let area = self.sandwich.table_area;
                if column >= area.x && column < area.right() && row > area.y && row < area.bottom()
                {
                    let target = self.sandwich.offset + usize::from(row - area.y - 1);
                    if target < self.sandwich.visible.len() {
                        self.sandwich.selected = target;
                    }
                }
            }
            // Back to the flame pane, on the function's heaviest occurrence.
            Action::Zoom => {
                if let Some(func) = self.sandwich.selected_function(&view.table) {
                    self.selection = Selection {
                        func: Some(func),
                        path: Vec::new(),
                    };
                    self.show(self.flame_pane);
                }
                return;
            }
            Action::Back => self.apply_search(None),
            _ => {}
        }
        self.take_sandwich_selection();
        self.relayout();
    }

    /// Records the Sandwich row the user is on as the shared selection: after a move, and after
    /// a search filtered the table under it, so that `5` or `e` act on the row seen.
    pub(super) fn take_sandwich_selection(&mut self) {
        if let Some(view) = &self.view
            && let Some(func) = self.sandwich.selected_function(&view.table)
            && self.selection.func != Some(func)
        {
            self.selection = Selection {
                func: Some(func),
                path: Vec::new(),
            };
        }
    }

    pub(super) fn update_priority(&mut self, action: Action) {
        let Some(priority) = &mut self.priority else {
            return;
        };
        match action {
            Action::Up | Action::ScrollUp => priority.move_by(-1),
            Action::Down | Action::ScrollDown => priority.move_by(1),
            Action::PageUp => priority.move_by(-10),
            Action::PageDown => priority.move_by(10),
            Action::Zoom => {
                let Some(target) = priority.selected_target() else {
                    self.message = Some("no function of this module was sampled".into());
                    return;
                };
                self.selection = Selection {
                    func: Some(target.func),
                    path: Vec::new(),
                };
                if self.profile_ref().file != target.file
                    && let Some(profile) = self
                        .session
                        .profiles
                        .iter()
                        .position(|p| p.file == target.file)
                {
                    self.switch_profile(profile);
                    // The new file's view: its function ids are the target's.
                    self.selection.func = Some(target.func);
                }
                self.show(Pane::Sandwich);
            }
            _ => {}
        }
    }

    pub(super) fn request_effect(&mut self, action: Action) {
        let Some(target) = self.selected_function() else {
            self.message = Some("nothing selected".into());
            return;
        };
        let frames = &self.session.files[target.file].set.frames;
        let function = frames.function(target.func);
        // In a flame pane showing lines, the selected frame's own line, as the status line
        // shows it; else where the function starts.
        let line = match (self.pane, &self.view) {
            (Pane::Source, _) => self.source.selected_line().or(function.line),
            (Pane::TimeOrder | Pane::LeftHeavy, Some(view)) if !view.grouped => self
                .tree_for(self.pane)
                .and_then(|tree| self.flame(self.pane).selected.and_then(|n| tree.frame(n)))
                .and_then(|f| frames.frame(f).line),
            (_, Some(view)) => view
                .lines_of(target.func)
                .map(|(lo, _)| lo)
                .or(function.line),
            _ => function.line,
        };
        let place = match (&function.file, line) {
            (Some(file), Some(line)) => format!("{file}:{line}"),
            (Some(file), None) => file.to_string(),
            _ => String::new(),
        };
        self.effect = match (action, &function.file) {
            // What is pasted is text from the file: escaped as the screen shows it, so that a
            // name cannot carry a command into the shell it is pasted in.
            (Action::Copy, _) => Some(Effect::Copy(
                crate::text::escape_control(format!("{} {place}", function.name).trim())
                    .into_owned(),
            )),
            (_, Some(file)) if !file.is_empty() => Some(Effect::Edit {
                file: file.to_string(),
                line,
                source_roots: self.session.source_roots.clone(),
                editor: self.session.editor.clone(),
            }),
            _ => {
                self.message = Some(format!("{} has no file", function.name));
                None
            }
        };
    }
}
