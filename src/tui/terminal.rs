//! Entering and leaving the full-screen terminal, on every way out: quit, panic and signals.

use std::io::{self, Stdout, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::cursor::{Hide, Show};
use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

pub type Tui = Terminal<CrosstermBackend<Stdout>>;

/// Whether the terminal is in obol's state, so that restoring twice (panic hook, then the
/// guard's drop) writes nothing the second time.
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Whether the UI can start here: standard output must be a terminal that can move its cursor.
/// Otherwise the UI does not start (drawing into a file or a dumb terminal helps no one) and
/// the error points to the commands that print instead.
pub fn check_usable() -> Result<(), String> {
    use std::io::IsTerminal;
    let term = std::env::var("TERM").unwrap_or_default();
    let why = if !io::stdout().is_terminal() {
        "standard output is not a terminal"
    } else if term == "dumb" {
        "TERM=dumb cannot draw the UI"
    } else {
        return Ok(());
    };
    Err(format!(
        "{why}: `obol summary FILE` prints the function table (`--json` for scripts)"
    ))
}

/// Raw mode, the alternate screen, mouse reporting on and the cursor hidden; undone by
/// [`restore`] or when the returned guard drops.
pub fn enter() -> io::Result<(Tui, RestoreGuard)> {
    install_panic_hook();
    enable_raw_mode()?;
    ACTIVE.store(true, Ordering::SeqCst);
    let guard = RestoreGuard;
    execute!(io::stdout(), EnterAlternateScreen, EnableMouseCapture, Hide)?;
    let terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    Ok((terminal, guard))
}

/// Puts the terminal back as it was: mouse reporting off, the alternate screen left, the cursor
/// shown and raw mode off. Errors are ignored: after a dropped SSH session there is no terminal
/// to write to, and nothing better to do.
pub fn restore() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let mut out = io::stdout();
        let _ = execute!(out, DisableMouseCapture, LeaveAlternateScreen, Show);
        let _ = disable_raw_mode();
        let _ = out.flush();
    }
}

/// Hands the terminal to another program (the editor) for a while.
pub fn suspend() {
    restore();
}

/// Takes the terminal back after [`suspend`] and forces a full redraw.
pub fn resume(tui: &mut Tui) -> io::Result<()> {
    enable_raw_mode()?;
    ACTIVE.store(true, Ordering::SeqCst);
    execute!(io::stdout(), EnterAlternateScreen, EnableMouseCapture, Hide)?;
    tui.clear()
}

/// Restores the terminal when dropped, so an early return or an error still leaves it usable.
pub struct RestoreGuard;

impl Drop for RestoreGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Restores the terminal before the panic message prints, so it lands on the normal screen.
fn install_panic_hook() {
    static INSTALLED: AtomicBool = AtomicBool::new(false);
    if INSTALLED.swap(true, Ordering::SeqCst) {
        return;
    }
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_restores_the_terminal_before_the_message() {
        install_panic_hook();
        ACTIVE.store(true, Ordering::SeqCst);
        // The hook runs before the default one prints the message; the terminal is then
        // restored, which clears the flag.
        let result = std::panic::catch_unwind(|| panic!("boom (expected by this test)"));
        assert!(result.is_err());
        assert!(
            !ACTIVE.load(Ordering::SeqCst),
            "the panic hook did not restore"
        );
    }
}
