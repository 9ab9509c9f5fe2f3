//! The comparison of the first two files (`d`, `s`): what is shown, and asking a worker for it.

use super::action::Pane;
use super::app::App;
use super::difference::Difference;
use super::side_by_side::SideBySide;
use super::view::Compare;
use super::work::Job;
use crate::analysis::flame::ChildOrder;
use crate::import::Loaded;

/// The comparison shown, as `Options::compare` asks.
pub enum Comparison {
    Off,
    /// Asked for, and being computed on a worker.
    Computing,
    Difference(Box<Difference>),
    SideBySide(Box<SideBySide>),
}

impl Comparison {
    /// The comparison `compare` asks for of the first two files, the flame pane's trees in
    /// `order`; side by side groups frames by function unless `by_line`.
    pub fn of(files: &[Loaded], compare: Compare, order: ChildOrder, by_line: bool) -> Comparison {
        match compare {
            Compare::Off => Comparison::Off,
            Compare::Difference => Difference::new(files)
                .map_or(Comparison::Off, |d| Comparison::Difference(Box::new(d))),
            Compare::SideBySide => SideBySide::new(files, order, by_line)
                .map_or(Comparison::Off, |s| Comparison::SideBySide(Box::new(s))),
        }
    }
}

impl App {
    /// Turns a comparison on (the other one off), or off when it is the one shown.
    pub(super) fn toggle_compare(&mut self, compare: Compare) {
        if self.session.options.compare == compare {
            self.session.options.compare = Compare::Off;
            // A comparison still being computed is dropped when it arrives.
            self.compare_generation += 1;
            self.comparison = Comparison::Off;
            self.relayout();
            return;
        }
        if self.reading.is_some() {
            self.trees_pending();
            return;
        }
        if self.session.files.len() < 2 {
            self.message = Some(match compare {
                Compare::SideBySide => "side by side needs two files: obol BASE NEW".into(),
                _ => "the difference view needs two files: obol BASE NEW".into(),
            });
            return;
        }
        if !matches!(self.pane, Pane::TimeOrder | Pane::LeftHeavy) {
            self.pane = Pane::LeftHeavy;
        }
        self.session.options.compare = compare;
        self.ask_comparison();
    }

    /// Asks a worker for the comparison the options ask for, in the flame pane's order.
    pub(super) fn ask_comparison(&mut self) {
        let options = &self.session.options;
        if options.compare == Compare::Off {
            self.comparison = Comparison::Off;
            return;
        }
        self.compare_generation += 1;
        self.comparison = Comparison::Computing;
        self.computing = Some("comparing the two files");
        self.jobs.push(Job::Compare {
            generation: self.compare_generation,
            files: self.session.files.clone(),
            compare: options.compare,
            order: if self.pane == Pane::TimeOrder {
                ChildOrder::Alphabetical
            } else {
                ChildOrder::HeaviestFirst
            },
            by_line: options.by_line,
        });
    }
}
