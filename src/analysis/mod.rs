//! Pure functions over the model: what the views and commands show.

pub mod complexity;
pub mod diff;
pub mod diff_tree;
pub mod edges;
pub mod filter;
pub mod flame;
pub mod imports;
pub mod matching;
pub mod modules;
pub mod place;
pub mod priority;
pub mod priority_report;
pub mod python;
pub mod regression;
pub mod runs;
pub mod sandwich;
pub mod source_file;
pub mod source_lines;
pub mod stdlib;
pub mod summary;
#[cfg(test)]
mod test_support;
pub mod timeline;
pub mod transform;
