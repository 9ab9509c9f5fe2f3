//! The session: the files loaded and the options chosen. The view (view.rs) is derived from it.

use std::path::PathBuf;
use std::sync::Arc;

use super::view::Options;
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
}

impl Session {
    pub fn new(files: Vec<Loaded>) -> Session {
        let profiles = files
            .iter()
            .enumerate()
            .flat_map(|(file, l)| {
                (0..l.set.profiles.len()).map(move |profile| ProfileRef { file, profile })
            })
            .collect();
        Session {
            files: Arc::new(files),
            profiles,
            options: Options::default(),
            source_roots: Vec::new(),
        }
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

    /// Whether threads are merged in fact (the file has several).
    pub fn merges(&self) -> bool {
        self.options.merges(self.set())
    }
}
