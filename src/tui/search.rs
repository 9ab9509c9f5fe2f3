//! The prompt (search and hide) and searching: flame panes highlight matching frames, the
//! Sandwich table keeps only matching functions.

use regex::Regex;

use super::action::{Action, Pane};
use super::app::App;
use super::session::ProfileRef;
use super::view::Hidden;
use super::work::Job;
use crate::analysis::timeline::count_matches;
use crate::profile::{CallTree, NodeId};

/// What the prompt's text is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    Search,
    Hide,
}

#[derive(Debug, Clone)]
pub struct Prompt {
    pub kind: PromptKind,
    pub text: String,
}

impl Prompt {
    pub fn new(kind: PromptKind) -> Prompt {
        Prompt {
            kind,
            text: String::new(),
        }
    }

    /// What the status line shows while the prompt is open.
    pub fn line(&self) -> String {
        match self.kind {
            PromptKind::Search => format!("/{}▏  (regex; Enter search, Esc cancel)", self.text),
            PromptKind::Hide => format!(
                "hide: {}▏  (regex; empty hides the standard library and site-packages)",
                self.text
            ),
        }
    }
}

/// An active search.
#[derive(Debug, Clone)]
pub struct Search {
    pub regex: Regex,
    /// Per frame id of the current file: whether its name or file matches.
    pub frame_matches: Vec<bool>,
    /// Matching nodes in the tree shown.
    pub count: usize,
    /// The weight under them (each sample counted once), as a share of the file's total.
    pub share: f64,
    /// With a function focused: the same weight as a share of the focus's.
    pub focus_share: Option<f64>,
    /// What the counts were made for: Time Order's tree or not, and which view. Counting walks
    /// the whole tree, so it is done once per tree (on a worker) rather than at every layout.
    pub counted_for: Option<CountKey>,
    /// The counts asked of a worker and not yet back.
    pub counting: Option<CountKey>,
}

/// Which tree matches were counted in: Time Order's own (or the merged one), of which view.
pub type CountKey = (bool, u64);

/// A search's counts, made on a worker.
pub struct Counts {
    pub key: CountKey,
    /// The search counted, so that counts of a search since replaced are dropped.
    pub regex: String,
    pub count: usize,
    pub share: f64,
    pub focus_share: Option<f64>,
}

impl Counts {
    /// Matches in `tree`, their share of `file_total`, and with a focus (`whole`: the profiles'
    /// own trees) the share of the whole file too.
    pub fn make(
        key: CountKey,
        regex: String,
        tree: &CallTree,
        whole: Option<Vec<&CallTree>>,
        frame_matches: &[bool],
        file_total: f64,
    ) -> Counts {
        let (count, matched) = count_matches(tree, frame_matches);
        let of = |weight: f64, total: f64| if total > 0.0 { weight / total } else { 0.0 };
        let (share, focus_share) = match whole {
            Some(trees) => {
                let whole: f64 = trees
                    .iter()
                    .map(|t| count_matches(t, frame_matches).1)
                    .sum();
                (of(whole, file_total), Some(of(matched, tree.total())))
            }
            None => (of(matched, file_total), None),
        };
        Counts {
            key,
            regex,
            count,
            share,
            focus_share,
        }
    }
}

impl Search {
    /// The status line's account of the search: what is counted (functions in Sandwich, frames
    /// in the flame panes), and whose share it is.
    pub fn summary(&self, pane: Pane, functions: usize) -> String {
        let (count, what) = if pane == Pane::Sandwich {
            (functions, "functions")
        } else {
            (self.count, "frames")
        };
        if self.counting.is_some() && pane != Pane::Sandwich {
            return format!(
                "/{}: counting the matches …  (n/N next/previous, Esc clears)",
                self.regex.as_str()
            );
        }
        let matches = if count == 1 { "match" } else { "matches" };
        let focus = self
            .focus_share
            .map_or_else(String::new, |s| format!(", {:.1}% of the focus", 100.0 * s));
        format!(
            "/{}: {count} {matches} among {what}, {:.1}% of the file{focus}  (n/N next/previous, Esc clears)",
            self.regex.as_str(),
            100.0 * self.share
        )
    }
}

/// A regex with smart case, as less and ripgrep take it: without an upper-case letter it
/// ignores case. The error, when it is not one, is the last line of the regex crate's
/// explanation, which says what is wrong (the lines above repeat the pattern).
pub fn smart_regex(text: &str) -> Result<Regex, String> {
    regex::RegexBuilder::new(text)
        .case_insensitive(!text.chars().any(char::is_uppercase))
        .build()
        .map_err(|e| {
            let explained = e.to_string();
            let reason = explained.lines().last().unwrap_or("").trim();
            let reason = reason.strip_prefix("error: ").unwrap_or(reason);
            format!("bad regex /{text}/: {reason}")
        })
}

/// Whether a frame (or function) of `name` in `file` is a match: by name or by file path.
pub fn is_match(regex: &Regex, name: &str, file: Option<&str>) -> bool {
    regex.is_match(name) || file.is_some_and(|f| regex.is_match(f))
}

impl App {
    pub(super) fn update_prompt(&mut self, action: Action) {
        let Some(prompt) = &mut self.prompt else {
            return;
        };
        match action {
            Action::PromptInput(c) => prompt.text.push(c),
            Action::PromptBackspace => {
                prompt.text.pop();
            }
            Action::PromptCancel => self.prompt = None,
            Action::Quit => self.quit = true,
            Action::PromptSubmit => {
                let Prompt { kind, text } =
                    std::mem::replace(prompt, Prompt::new(PromptKind::Search));
                self.prompt = None;
                let regex = if text.is_empty() {
                    None
                } else {
                    match smart_regex(&text) {
                        Ok(regex) => Some(regex),
                        Err(explained) => {
                            self.message = Some(explained);
                            return;
                        }
                    }
                };
                match kind {
                    PromptKind::Search => self.apply_search(regex),
                    PromptKind::Hide => {
                        let hidden = regex.map_or(Hidden::Library, Hidden::Matching);
                        self.set_options(|o| o.hidden = Some(hidden));
                    }
                }
            }
            _ => {}
        }
    }

    /// Starts (or with `None` ends) a search.
    pub(super) fn apply_search(&mut self, regex: Option<Regex>) {
        let set = self.session.set();
        if let Some(view) = &self.view {
            self.sandwich.set_filter(
                &view.table,
                &self.session.files[view.file].set,
                regex.clone(),
            );
        }
        self.search = regex.map(|regex| Search {
            frame_matches: set
                .frames
                .frames()
                .map(|f| is_match(&regex, f.name, f.file))
                .collect(),
            regex,
            count: 0,
            share: 0.0,
            focus_share: None,
            counted_for: None,
            counting: None,
        });
        if self.pane == Pane::Sandwich {
            self.take_sandwich_selection();
        }
        self.relayout();
    }

    /// Match count and share for the tree of the flame pane shown (Left Heavy's otherwise).
    /// Asks a worker for the search's counts in the tree of the pane shown, unless they are
    /// known or asked for already.
    pub(super) fn update_search_counts(&mut self) {
        // Counted once the trees are made (the whole view applies the search again).
        let (Some(search), Some(view)) = (&self.search, self.view.as_ref().filter(|v| !v.building))
        else {
            return;
        };
        let time_order = self.pane == Pane::TimeOrder && view.time_order.is_some();
        let key = (time_order, self.view_generation());
        if search.counted_for == Some(key) || search.counting == Some(key) {
            return;
        }
        let tree = if time_order {
            view.shared_time_order_tree()
        } else {
            view.shared_tree()
        };
        let whole = self.session.options.focus.is_some().then(|| {
            let file = self.profile_ref().file;
            let numbers = self.session.shown_profiles();
            numbers
                .into_iter()
                .map(|profile| ProfileRef { file, profile })
                .collect()
        });
        self.jobs.retain(|j| !matches!(j, Job::Count { .. }));
        self.jobs.push(Job::Count {
            key,
            regex: search.regex.as_str().to_owned(),
            files: self.session.files.clone(),
            tree,
            whole,
            frame_matches: search.frame_matches.clone(),
            file_total: self.shown_total(),
        });
        if let Some(search) = &mut self.search {
            search.counting = Some(key);
        }
    }

    /// Installs counts a worker made, if they are of the search shown and the tree it is in.
    pub(super) fn finish_counts(&mut self, counts: Counts) {
        let Some(search) = &mut self.search else {
            return;
        };
        if search.regex.as_str() != counts.regex || search.counting != Some(counts.key) {
            return;
        }
        search.count = counts.count;
        search.share = counts.share;
        search.focus_share = counts.focus_share;
        search.counted_for = Some(counts.key);
        search.counting = None;
    }

    pub(super) fn jump_to_match(&mut self, forward: bool) {
        let Some(search) = &self.search else {
            return;
        };
        let Some(shown) = &self.view else {
            return;
        };
        let files = &self.session.files;
        let (tree, view) = match self.pane {
            Pane::TimeOrder => (shown.time_order_tree(files), &mut self.time_order),
            Pane::LeftHeavy => (shown.tree(files), &mut self.left_heavy),
            _ => return,
        };
        let is_match = |node: NodeId| {
            tree.frame(node).is_some_and(|f| {
                search
                    .frame_matches
                    .get(f.0 as usize)
                    .copied()
                    .unwrap_or(false)
            })
        };
        let mut hits: Vec<(u16, u32, NodeId)> = view
            .layout
            .rects
            .iter()
            .filter(|r| is_match(r.node))
            .map(|r| (r.depth, r.x0, r.node))
            .collect();
        hits.sort_unstable();
        if hits.is_empty() {
            self.message = Some("no match on screen".into());
            return;
        }
        let at = view
            .selected
            .and_then(|s| hits.iter().position(|h| h.2 == s));
        let next = match (at, forward) {
            (Some(i), true) => (i + 1) % hits.len(),
            (Some(i), false) => (i + hits.len() - 1) % hits.len(),
            (None, true) => 0,
            (None, false) => hits.len() - 1,
        };
        view.select(hits[next].2);
    }
}
