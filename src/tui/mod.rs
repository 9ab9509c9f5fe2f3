//! The terminal UI: one event loop (app.rs) turning keys into Actions (keymap.rs) that update
//! the state the panes draw.

pub mod action;
pub mod app;
pub mod difference;
pub mod effects;
pub mod input;
pub mod keymap;
pub mod loading;
pub mod panes;
pub mod search;
pub mod side_by_side;
pub mod terminal;
pub mod theme;
pub mod trees;

pub use app::run;
