//! Work that can take long, run off the UI thread: deriving the view (which builds pstats'
//! estimated tree, merges threads, rewrites trees), the comparison of two files and the
//! priority ranking. The UI shows
//! "computing …" meanwhile and stays responsive; a result for options changed since is dropped.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::Sender;

use super::app::{Comparison, Event};
use super::session::ProfileRef;
use super::view::{Compare, Options, View, derive};
use crate::analysis::flame::ChildOrder;
use crate::analysis::priority::{GraphSource, PriorityReport, Weights};
use crate::import::Loaded;

/// A computation asked for by `App::update`, started by the event loop.
pub enum Job {
    View {
        /// Which request this answers: only the latest one's result is used.
        generation: u64,
        files: Arc<Vec<Loaded>>,
        profiles: Vec<ProfileRef>,
        options: Options,
    },
    Priority {
        files: Arc<Vec<Loaded>>,
        source_roots: Vec<PathBuf>,
    },
    Compare {
        generation: u64,
        files: Arc<Vec<Loaded>>,
        compare: Compare,
        order: ChildOrder,
        by_line: bool,
    },
    /// A live recording's samples so far (its one file) written to `path` as speedscope JSON.
    Save {
        files: Arc<Vec<Loaded>>,
        path: PathBuf,
    },
}

/// A job's result.
pub enum Done {
    View(u64, Box<View>),
    Priority(Box<PriorityReport>),
    Compare(u64, Box<Comparison>),
    /// What saving said: the line to show.
    Saved(String),
}

impl Job {
    pub fn run(self) -> Done {
        match self {
            Job::View {
                generation,
                files,
                profiles,
                options,
            } => Done::View(generation, Box::new(derive(&files, &profiles, &options))),
            Job::Priority {
                files,
                source_roots,
            } => {
                let report = crate::analysis::priority_report::priority_report(
                    &files,
                    &source_roots,
                    Weights::default(),
                )
                .unwrap_or_else(|_| PriorityReport {
                    weights: Weights::default(),
                    graph_source: GraphSource::Calls,
                    modules: Vec::new(),
                });
                Done::Priority(Box::new(report))
            }
            Job::Compare {
                generation,
                files,
                compare,
                order,
                by_line,
            } => Done::Compare(
                generation,
                Box::new(Comparison::of(&files, compare, order, by_line)),
            ),
            Job::Save { files, path } => Done::Saved(super::live::save_line(&files, &path)),
        }
    }

    /// Runs the job on a thread of its own; the result comes back on the loop's channel.
    pub fn spawn(self, sender: Sender<Event>) {
        std::thread::spawn(move || {
            // The loop may have quit meanwhile: nobody left to tell.
            let _ = sender.send(Event::Done(self.run()));
        });
    }
}
