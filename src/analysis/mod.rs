//! Pure functions over the model: what the views and commands show.

pub mod complexity;
pub mod summary;
