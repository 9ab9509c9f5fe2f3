//! obol: a terminal profile explorer for cProfile and py-spy output.
//!
//! The library holds everything; the binary only parses arguments and dispatches.

pub mod analysis;
pub mod cli;
pub mod demo;
pub mod export;
pub mod import;
pub mod profile;
pub mod text;
pub mod tui;
