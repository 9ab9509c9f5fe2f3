//! A large file shown from its figures while it is read whole. A folded file's function figures
//! are counted on every core in a fifth of the time its call trees take to read
//! (`import::load_figures_first`): the first frame is its Sandwich table, with Flamegraph, Left
//! Heavy, Source and Priority saying how far the reading is; the whole file then takes the
//! figures' place, numbered the same, and the view is made again from it in two steps, filling
//! in the table the user is in.
//!
//! Until then nothing that changes the view is taken (a filter, focus, another thread, a
//! comparison): the figures cannot answer it, and the answer would be asked for again anyway.

use std::sync::Arc;

use super::action::Pane;
use super::app::{App, drop_elsewhere};
use super::selection::Selection;
use crate::import::Loaded;
use crate::profile::{FrameId, FrameTable};

/// How [`App::trees_pending`]'s line starts: it is taken away once the files are read.
const TREES_PENDING: &str = "the call tree is ";

/// The files read whole while their figures are shown.
#[derive(Default)]
pub struct Reading {
    /// The files (by index in the session) not read whole yet.
    waiting: Vec<usize>,
    /// How far the whole reading of the file being read is, in percent.
    pub percent: u8,
    /// Files read whole, waiting for the workers to let go of the files they replace.
    arrived: Vec<(usize, Loaded)>,
}

impl Reading {
    /// The reading of `files` shown from their figures, if any are.
    pub fn of(files: &[Loaded]) -> Option<Reading> {
        let waiting: Vec<usize> = files
            .iter()
            .enumerate()
            .filter(|(_, f)| f.set.profiles.iter().any(|p| p.is_figures_only()))
            .map(|(i, _)| i)
            .collect();
        (!waiting.is_empty()).then(|| Reading {
            waiting,
            ..Reading::default()
        })
    }
}

impl App {
    /// How far the whole reading of a file shown from its figures is, in percent; `None` when
    /// every file is read whole.
    pub fn reading_percent(&self) -> Option<u8> {
        self.reading.as_ref().map(|r| r.percent)
    }

    /// The line for something that waits for the call trees: how far they are read (a file
    /// shown from its figures) or made (a view shown as its table).
    pub(super) fn trees_pending(&mut self) {
        let (percent, how) = match self.reading_percent() {
            Some(percent) => (percent, "read"),
            None => (self.tree_progress, "made"),
        };
        self.message = Some(format!(
            "{TREES_PENDING}{percent}% {how}: the table (3) is ready now; q quits"
        ));
    }

    /// The whole reading of file `file` is `percent` done; whether that changes the screen.
    pub(super) fn read_so_far(&mut self, file: usize, percent: u8) -> bool {
        match &mut self.reading {
            Some(reading)
                if reading.waiting.first() == Some(&file) && reading.percent < percent =>
            {
                reading.percent = percent;
                true
            }
            _ => false,
        }
    }

    /// File `file`, read whole, takes its figures' place as soon as no worker holds the files.
    pub(super) fn read_whole(&mut self, file: usize, loaded: Loaded) {
        if let Some(reading) = &mut self.reading {
            reading.arrived.push((file, loaded));
        }
        self.fill_in();
    }

    /// Puts the files read whole in place, when no worker holds the session's files (each
    /// lets go of them before it says it is done, so this is tried again on every result).
    pub(super) fn fill_in(&mut self) {
        let Some(reading) = &mut self.reading else {
            return;
        };
        if reading.arrived.is_empty() {
            return;
        }
        let Some(files) = Arc::get_mut(&mut self.session.files) else {
            return;
        };
        let mut renumbered = false;
        // Whether the file shown was read (another file's trees change nothing shown yet).
        let shown = self.view.as_ref().map(|v| v.file);
        let mut shown_read = shown.is_none();
        for (index, loaded) in reading.arrived.drain(..) {
            let Some(slot) = files.get_mut(index) else {
                continue;
            };
            renumbered |= !numbered_alike(&slot.set.frames, &loaded.set.frames)
                || slot.set.profiles.len() != loaded.set.profiles.len();
            shown_read |= shown == Some(index);
            let figures = std::mem::replace(slot, loaded);
            drop_elsewhere(figures);
            reading.waiting.retain(|&i| i != index);
            reading.percent = 0;
        }
        if reading.waiting.is_empty() {
            self.reading = None;
            if self
                .message
                .as_deref()
                .is_some_and(|m| m.starts_with(TREES_PENDING))
            {
                self.message = None;
            }
        }
        // The figures' table stays until the trees come, the user's place in it kept; it
        // cannot where the whole reading numbered the functions otherwise (it never has).
        if renumbered {
            self.session.list_profiles();
            self.selection = Selection::default();
            self.session.options.focus = None;
            self.session.options.current = 0;
            if let Some(view) = self.view.take() {
                drop_elsewhere(view);
            }
        }
        if renumbered || shown_read {
            self.tree_progress = 0;
            self.ask_view();
        } else if self.reading.is_none() && self.pane == Pane::Priority {
            // The ranking waited for the last file.
            self.relayout();
        }
        self.rerank();
    }
}

/// Whether two readings of a file numbered its frames and functions the same: their counts,
/// and each frame (at most a thousand of them, spread over the table, on a large one: this runs
/// on the UI thread).
fn numbered_alike(a: &FrameTable, b: &FrameTable) -> bool {
    let count = a.frame_count();
    if count != b.frame_count() || a.function_count() != b.function_count() {
        return false;
    }
    let step = (count / 1000).max(1);
    (0..count)
        .step_by(step)
        .chain(count.checked_sub(1))
        .all(|i| a.frame(FrameId(i as u32)) == b.frame(FrameId(i as u32)))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use ratatui::layout::Rect;

    use super::*;
    use crate::import::Format;
    use crate::tui::action::Action;
    use crate::tui::theme::{ColorSupport, Theme};

    /// `main` calls `a` and `b`; `a` calls `leaf`, which takes 60 of 100 samples.
    const FOLDED: &str = "main;a;leaf 60\nmain;b 25\nmain;a 10\nmain 5\n";

    fn figures(path: &Path) -> Loaded {
        let head = std::fs::read(path).unwrap();
        let set = crate::import::folded::read_figures(path, head.len() as u64, &head, &mut vec![])
            .unwrap()
            .unwrap();
        Loaded {
            path: path.to_owned(),
            format: Format::Folded,
            set,
            warnings: Vec::new(),
            base: None,
        }
    }

    /// The app of [`FOLDED`], written at `path`, shown from its figures.
    fn shown_from_figures(path: &Path) -> App {
        std::fs::write(path, FOLDED).unwrap();
        let mut app = App::new(
            vec![figures(path)],
            Theme::new(ColorSupport::TrueColor),
            Rect::new(0, 0, 100, 30),
        );
        app.settle();
        app
    }

    fn name_of(app: &App) -> String {
        let f = app.selected_function().unwrap();
        app.session.files[f.file]
            .set
            .frames
            .function(f.func)
            .name
            .to_owned()
    }

    #[test]
    fn the_figures_table_is_filled_in_by_the_file_read_whole_keeping_the_row() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("small.folded");
        let mut app = shown_from_figures(&path);
        // The table of the figures, the trees (and the ranking, which needs calls) waited for.
        assert!(app.building());
        assert_eq!(app.reading_percent(), Some(0));
        assert!(app.waits_for_trees(Pane::Priority) && app.waits_for_trees(Pane::LeftHeavy));
        assert!(app.tree_for(Pane::LeftHeavy).is_none());
        assert_eq!(app.shown_total(), 100.0);
        app.update(Action::ShowPane(Pane::Sandwich));
        assert_eq!(name_of(&app), "leaf");
        app.update(Action::Down);
        assert_eq!(name_of(&app), "b");
        // What the figures cannot answer is not taken meanwhile.
        assert!(app.read_so_far(0, 40));
        app.update(Action::Focus);
        assert!(app.session.options.focus.is_none());
        assert_eq!(app.pane, Pane::Sandwich);
        assert!(app.message.as_deref().unwrap().contains("40% read"));
        app.update(Action::ShowPane(Pane::Priority));
        app.settle();
        assert!(app.priority.is_none());

        app.update(Action::ShowPane(Pane::Sandwich));
        app.update(Action::Focus);
        assert!(app.message.is_some());
        app.read_whole(0, crate::import::load_path(&path).unwrap());
        app.settle();
        assert_eq!(app.reading_percent(), None);
        assert_eq!(app.message, None, "the refusal outlived the reading");
        assert!(!app.building());
        assert_eq!(name_of(&app), "b");
        assert_eq!(app.shown_total(), 100.0);
        // The trees are the file's: main (100) over a (70) and b (25).
        let tree = app.tree_for(Pane::LeftHeavy).unwrap();
        assert_eq!(tree.total(), 100.0);
        app.update(Action::Focus);
        app.settle();
        assert!(app.session.options.focus.is_some());
    }

    #[test]
    fn a_file_read_whole_waits_for_the_workers_to_let_go_of_the_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("small.folded");
        let mut app = shown_from_figures(&path);
        let held = app.session.files.clone();
        app.read_whole(0, crate::import::load_path(&path).unwrap());
        assert_eq!(app.reading_percent(), Some(0), "filled in under a worker");
        drop(held);
        app.fill_in();
        app.settle();
        assert_eq!(app.reading_percent(), None);
        assert!(app.tree_for(Pane::LeftHeavy).is_some());
    }

    #[test]
    fn two_files_each_read_whole_in_turn_and_the_ranking_waits_for_the_last() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.folded"), dir.path().join("b.folded"));
        std::fs::write(&a, FOLDED).unwrap();
        std::fs::write(&b, "main;b;leaf 3\n").unwrap();
        // Opened as `obol A B`, both from their figures.
        let mut app = App::new(
            vec![figures(&a), figures(&b)],
            Theme::new(ColorSupport::TrueColor),
            Rect::new(0, 0, 100, 30),
        );
        app.settle();
        app.update(Action::ShowPane(Pane::Priority));
        app.settle();
        assert!(app.priority.is_none());
        app.read_whole(0, crate::import::load_path(&a).unwrap());
        app.settle();
        // The file shown is whole; the ranking, over both files, still waits.
        assert!(!app.building() && app.tree_for(Pane::LeftHeavy).is_some());
        assert!(app.waits_for_trees(Pane::Priority));
        assert!(app.priority.is_none());
        app.read_whole(1, crate::import::load_path(&b).unwrap());
        app.settle();
        assert_eq!(app.reading_percent(), None);
        assert!(app.priority.is_some(), "the ranking was not asked for");
    }
}
