//! The filter flags every command and the UI share, defined once and flattened into each, and
//! their application to a loaded file: the commands then read the filtered profiles as they
//! would read any file's.

use std::io::{self, Write};
use std::path::Path;

use regex::Regex;

use super::CliError;
use crate::analysis::filter::{Filters, FrameFilter, Hidden, filter_tree, find_profile};
use crate::analysis::runs::add_stat;
use crate::analysis::transform::{Siblings, merge};
use crate::import::{Format, Loaded};
use crate::profile::{FuncId, FunctionStats, Profile};
use crate::text::escape_control;

/// Which stacks and frames to look at. A regex matches a frame by its function's name or by
/// `file:line(name)`, as `callers NAME` does.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Filters")]
pub struct FilterArgs {
    /// Only the stacks through a frame matching REGEX, each rooted at its outermost match.
    #[arg(long, value_name = "REGEX")]
    pub focus: Option<String>,
    /// Leave out every stack through a frame matching REGEX (their weight leaves the total).
    #[arg(long, value_name = "REGEX")]
    pub ignore: Option<String>,
    /// Remove the frames matching REGEX; their own weight goes to their callers.
    #[arg(long, value_name = "REGEX")]
    pub hide: Option<String>,
    /// Remove the standard library's and installed packages' frames, as the UI's `H` with an
    /// empty pattern: their weight goes to the project code that called them.
    #[arg(long)]
    pub only_mine: bool,
    /// Only the profile (thread) with this name, a unique part of it, or its number from 1.
    #[arg(long, value_name = "NAME|N")]
    pub thread: Option<String>,
    /// All profiles (threads) of the file as one.
    #[arg(long, conflicts_with = "thread")]
    pub merge_threads: bool,
}

fn regex(flag: &str, pattern: &Option<String>) -> Result<Option<Regex>, CliError> {
    pattern
        .as_deref()
        .map(|p| {
            Regex::new(p).map_err(|e| {
                let reason = e.to_string();
                let reason = reason.lines().last().unwrap_or_default().trim().to_owned();
                CliError::Usage(format!(
                    "--{flag} is not a valid regular expression: {}",
                    escape_control(&reason)
                ))
            })
        })
        .transpose()
}

impl FilterArgs {
    /// The tree filters asked for, the regexes checked.
    pub fn filters(&self) -> Result<Filters, CliError> {
        let mut hide = Vec::new();
        if self.only_mine {
            hide.push(Hidden::Library);
        }
        if let Some(re) = regex("hide", &self.hide)? {
            hide.push(Hidden::Matching(re));
        }
        Ok(Filters {
            focus: regex("focus", &self.focus)?,
            ignore: regex("ignore", &self.ignore)?,
            hide,
        })
    }

    /// Whether the call trees change (so a pstats file needs its estimated tree).
    pub fn rewrites_trees(&self) -> bool {
        self.focus.is_some() || self.ignore.is_some() || self.hide.is_some() || self.only_mine
    }

    /// Loads `path` (through `super::load`, or `super::load_for_table` when `table_only` and
    /// no tree is rewritten) and applies the filters.
    pub fn load(&self, path: &Path, table_only: bool) -> Result<Loaded, CliError> {
        let filters = self.filters()?;
        let mut loaded = if table_only && !self.rewrites_trees() {
            super::load_for_table(path)?
        } else {
            super::load(path)?
        };
        self.apply(&mut loaded, &filters)?;
        Ok(loaded)
    }

    /// [`Filters::load`] for `obol summary`: when nothing rewrites or merges the trees, a format
    /// that counts its function figures while reading keeps no call tree
    /// (`import::load_path_for_summary`).
    pub fn load_for_summary(&self, path: &Path) -> Result<Loaded, CliError> {
        if self.rewrites_trees() || self.merge_threads {
            return self.load(path, true);
        }
        let filters = self.filters()?;
        let mut loaded = super::load_for_summary(path)?;
        self.apply(&mut loaded, &filters)?;
        Ok(loaded)
    }

    /// The profiles of `loaded` narrowed to `--thread`, merged by `--merge-threads`, and their
    /// trees filtered. A differential file's base is filtered the same way.
    pub fn apply(&self, loaded: &mut Loaded, filters: &Filters) -> Result<(), CliError> {
        if let Some(base) = &mut loaded.base {
            self.apply(base, filters)?;
        }
        let path = escape_control(&loaded.path.display().to_string()).into_owned();
        let set = &mut loaded.set;
        if let Some(wanted) = &self.thread {
            let index =
                find_profile(set, wanted).map_err(|e| CliError::Usage(format!("{path}: {e}")))?;
            let kept = set.profiles.swap_remove(index);
            set.profiles = vec![kept];
        }
        if self.merge_threads && set.profiles.len() > 1 {
            if set.profiles.iter().any(|p| !p.has_tree()) {
                loaded.build_trees();
            }
            let set = &mut loaded.set;
            // Weights in different units do not add up: those of the file's unit are merged,
            // the others stay beside them.
            let unit = set.unit();
            let (same, other): (Vec<Profile>, Vec<Profile>) = std::mem::take(&mut set.profiles)
                .into_iter()
                .partition(|p| p.unit == unit);
            let merged = merged_profile(&same, set.frames.function_count());
            set.profiles = std::iter::once(merged).chain(other).collect();
        }
        if filters.is_empty() {
            return Ok(());
        }
        if loaded.set.profiles.iter().any(|p| !p.has_tree()) {
            loaded.build_trees();
        }
        if loaded.format == Format::Pstats {
            // A failed write to stderr leaves nothing better to do.
            let _ = writeln!(
                io::stderr(),
                "obol: note: {path}: pstats records calls, not stacks: the filters apply to its estimated call tree (as the UI draws it), so the times are estimates and call counts are left out"
            );
        }
        let set = &mut loaded.set;
        let filter = FrameFilter::new(&set.frames, filters, None);
        for profile in &mut set.profiles {
            let filtered = filter_tree(profile.tree(), Siblings::Merged, &filter);
            profile.timeline = profile.timeline.as_ref().map(|t| filtered.timeline(t));
            profile.function_stats = None;
            profile.total = filtered.tree.total();
            profile.set_tree(filtered.tree);
        }
        Ok(())
    }
}

/// One profile of `profiles` (threads of one file, in one unit) added together: the trees
/// merged, and where each has the file's exact figures, those added up function by function
/// (every sample is of one thread, so totals add too). No timeline: the threads ran at once.
fn merged_profile(profiles: &[Profile], function_count: usize) -> Profile {
    let trees: Vec<_> = profiles.iter().map(|p| p.tree()).collect();
    let unit = profiles
        .first()
        .map_or(crate::profile::Unit::None, |p| p.unit);
    let mut merged = Profile::from_tree("all threads", unit, merge(&trees));
    merged.total = profiles.iter().map(|p| p.total).sum();
    if profiles.iter().all(|p| p.function_stats.is_some()) {
        merged.function_stats = Some(added_stats(profiles, function_count));
    }
    merged
}

fn added_stats(profiles: &[Profile], function_count: usize) -> Vec<FunctionStats> {
    let identity: Vec<FuncId> = (0..function_count as u32).map(FuncId).collect();
    let mut by_func: Vec<Option<FunctionStats>> = vec![None; function_count];
    for stat in profiles
        .iter()
        .flat_map(|p| p.function_stats.iter().flatten())
    {
        add_stat(&mut by_func, stat, &identity);
    }
    by_func.into_iter().flatten().collect()
}
