//! The priority ranking of loaded files: the sources found on disk beside the profiles' own
//! figures. Shared by `obol priority` and the Priority pane.

use std::path::PathBuf;

use crate::analysis::modules::{ModuleNamer, find_source};
use crate::analysis::priority::{
    ModuleScope, PriorityInput, PriorityReport, Source, Weights, rank,
};
use crate::import::Loaded;
use crate::profile::Unit;

/// Only memory (bytes) profiles were given: there is no time to rank by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("priority needs a time profile; only memory (bytes) profiles were given")]
pub struct NoTimeProfile;

/// Ranks the project's modules of the loaded files: bytes profiles are memory, all others time.
pub fn priority_report(
    loaded: &[Loaded],
    source_roots: &[PathBuf],
    weights: Weights,
) -> Result<PriorityReport, NoTimeProfile> {
    priority_report_in(loaded, source_roots, weights, ModuleScope::Project)
}

/// [`priority_report`] over the modules `scope` names.
pub fn priority_report_in(
    loaded: &[Loaded],
    source_roots: &[PathBuf],
    weights: Weights,
    scope: ModuleScope,
) -> Result<PriorityReport, NoTimeProfile> {
    let is_memory = |l: &&Loaded| l.set.unit() == Unit::Bytes;
    let time: Vec<_> = loaded
        .iter()
        .filter(|l| !is_memory(l))
        .map(|l| &l.set)
        .collect();
    let memory: Vec<_> = loaded.iter().filter(is_memory).map(|l| &l.set).collect();
    if time.is_empty() {
        return Err(NoTimeProfile);
    }
    let files = loaded
        .iter()
        .flat_map(|l| l.set.frames.functions().filter_map(|f| f.file));
    let input = PriorityInput {
        time,
        memory,
        namer: ModuleNamer::new(source_roots, files),
        scope,
    };
    Ok(rank(&input, weights, |file| {
        let path = find_source(file, source_roots)?;
        let text = std::fs::read_to_string(&path).ok()?;
        let is_package = path.file_name().is_some_and(|n| n == "__init__.py");
        Some(Source { text, is_package })
    }))
}
