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
    save_terminal_mode();
    crate::import::bus_error::set_before_exit(restore_in_signal_handler);
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

/// The terminal's mode before raw mode, for [`restore_in_signal_handler`], which cannot ask
/// crossterm (it takes a lock).
static SAVED_MODE: std::sync::OnceLock<libc::termios> = std::sync::OnceLock::new();

fn save_terminal_mode() {
    // SAFETY: tcgetattr only fills the zeroed struct it is given.
    let mut mode: libc::termios = unsafe { std::mem::zeroed() };
    if unsafe { libc::tcgetattr(libc::STDOUT_FILENO, &mut mode) } == 0 {
        let _ = SAVED_MODE.set(mode);
    }
}

/// [`restore`] from inside a signal handler (a mapped file cut short: `import::bus_error`),
/// with only async-signal-safe calls. The UI thread may be drawing meanwhile, and a frame
/// written after the restore would hide the cursor again, so standard output is first pointed
/// at /dev/null and the restore written to a copy of it. The escapes are those of
/// `DisableMouseCapture`, `LeaveAlternateScreen` and `Show`.
fn restore_in_signal_handler() {
    if !ACTIVE.load(Ordering::SeqCst) {
        return;
    }
    const ESCAPES: &[u8] =
        b"\x1b[?1006l\x1b[?1015l\x1b[?1003l\x1b[?1002l\x1b[?1000l\x1b[?1049l\x1b[?25h";
    // SAFETY: dup, open, dup2, write and tcsetattr on descriptors and a NUL-terminated path;
    // ESCAPES is a live buffer of its length; SAVED_MODE, once set, is never written.
    unsafe {
        let terminal = libc::dup(libc::STDOUT_FILENO);
        if terminal < 0 {
            return;
        }
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY);
        if null >= 0 {
            libc::dup2(null, libc::STDOUT_FILENO);
        }
        let _ = libc::write(terminal, ESCAPES.as_ptr().cast(), ESCAPES.len());
        if let Some(mode) = SAVED_MODE.get() {
            let _ = libc::tcsetattr(terminal, libc::TCSANOW, mode);
        }
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
