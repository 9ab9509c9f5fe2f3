//! The terminal UI: one event loop (event_loop.rs) turning keys into Actions (keymap.rs) that
//! update a session (session.rs); one view derived from it (view.rs) is what every pane draws.

pub mod action;
pub mod app;
mod badges;
mod building;
pub mod callers;
mod comparison;
pub mod config;
pub mod difference;
pub mod effects;
pub mod event_loop;
pub mod input;
pub mod keymap;
pub mod live;
pub mod loading;
pub mod panes;
mod reading;
pub mod search;
pub mod selection;
pub mod session;
pub mod side_by_side;
pub mod source;
pub mod terminal;
pub mod theme;
pub mod timing;
pub mod view;
pub mod work;

pub use event_loop::{UiError, run};
