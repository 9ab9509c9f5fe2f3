//! The session: the files loaded and the options chosen. The view (view.rs) is derived from it.

use std::path::PathBuf;
use std::sync::Arc;

use super::view::{Hidden, Options};
use crate::analysis::filter::{Filters, find_profile};
use crate::import::Loaded;
use crate::profile::{FuncId, Profile, ProfileSet};

/// One profile among all loaded files: a thread of a file, or a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProfileRef {
    pub file: usize,
    pub profile: usize,
}

/// A function of one of the session's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FunctionRef {
    pub file: usize,
    pub func: FuncId,
}

pub struct Session {
    /// Shared with the workers that derive views from them.
    pub files: Arc<Vec<Loaded>>,
    /// Every profile of every file, in load order.
    pub profiles: Vec<ProfileRef>,
    pub options: Options,
    /// `--source-root`: where Priority and `e` look for the profiled sources.
    pub source_roots: Vec<PathBuf>,
    /// The config file's editor command, for `e` (else `$VISUAL`, `$EDITOR`).
    pub editor: Option<String>,
}

/// What the command line's filters (and the config file's `hide`) ask the UI to start with.
/// Each becomes an option the user can change: `H` shows what `--only-mine` or `--hide` hid,
/// Esc leaves `--focus`, `[`/`]` leave `--thread`, `t` splits `--merge-threads`. `--ignore` and
/// the config's `hide` stay for the session.
#[derive(Debug, Clone, Default)]
pub struct Start {
    /// `--focus`, `--ignore`, and the frames hidden whatever `H` says.
    pub filters: Filters,
    /// What `H` hides at the start.
    pub hidden: Option<Hidden>,
    pub thread: Option<String>,
    pub merge_threads: bool,
}

impl Start {
    /// The options `self` asks for over `files` (`--thread` is looked for in each file in
    /// turn), or why there are none.
    pub fn options(&self, files: &[Loaded]) -> Result<Options, String> {
        let mut options = Options {
            merge_threads: self.merge_threads,
            hidden: self.hidden.clone(),
            filters: self.filters.clone(),
            ..Options::default()
        };
        if let Some(wanted) = &self.thread {
            let mut first_error = None;
            let mut offset = 0;
            for loaded in files {
                match find_profile(&loaded.set, wanted) {
                    Ok(i) => {
                        options.current = offset + i;
                        first_error = None;
                        break;
                    }
                    Err(e) => {
                        first_error.get_or_insert_with(|| {
                            format!(
                                "{}: {e}",
                                crate::text::escape_control(&loaded.path.display().to_string())
                            )
                        });
                    }
                }
                offset += loaded.set.profiles.len();
            }
            if let Some(e) = first_error {
                return Err(e);
            }
        }
        Ok(options)
    }
}

impl Session {
    pub fn new(files: Vec<Loaded>) -> Session {
        Session::with_options(files, Options::default())
    }

    /// A session starting with `options` (from [`Start::options`]).
    pub fn with_options(files: Vec<Loaded>, options: Options) -> Session {
        let profiles = profiles_of(&files);
        Session {
            files: Arc::new(files),
            profiles,
            options,
            source_roots: Vec::new(),
            editor: None,
        }
    }

    /// Lists the profiles of the files again, after a file was replaced.
    pub fn list_profiles(&mut self) {
        self.profiles = profiles_of(&self.files);
    }

    pub fn profile_ref(&self) -> ProfileRef {
        self.profiles[self.options.current]
    }

    pub fn loaded(&self) -> &Loaded {
        &self.files[self.profile_ref().file]
    }

    pub fn set(&self) -> &ProfileSet {
        &self.loaded().set
    }

    pub fn profile(&self) -> &Profile {
        let r = self.profile_ref();
        &self.files[r.file].set.profiles[r.profile]
    }

    /// The profiles `t` merges with the current one: those of its file in its unit and of its
    /// event (a pprof's `samples (count)` does not add to its `cpu (nanoseconds)`).
    pub fn merged_profiles(&self) -> Vec<&Profile> {
        let current = self.profile();
        let r = self.profile_ref();
        self.files[r.file]
            .set
            .profiles
            .iter()
            .filter(|p| p.adds_to(current))
            .collect()
    }

    /// The profiles shown, by number in their file: those `t` merges, with threads merged,
    /// else the current one.
    pub fn shown_profiles(&self) -> Vec<usize> {
        let r = self.profile_ref();
        if self.merges() {
            let current = self.profile();
            let set = self.set();
            (0..set.profiles.len())
                .filter(|&i| set.profiles[i].adds_to(current))
                .collect()
        } else {
            vec![r.profile]
        }
    }

    /// Whether threads are merged in fact (the file has several).
    pub fn merges(&self) -> bool {
        self.options.merges(self.set(), self.profile())
    }
}

/// Every profile of every file, in load order.
fn profiles_of(files: &[Loaded]) -> Vec<ProfileRef> {
    files
        .iter()
        .enumerate()
        .flat_map(|(file, l)| {
            (0..l.set.profiles.len()).map(move |profile| ProfileRef { file, profile })
        })
        .collect()
}
