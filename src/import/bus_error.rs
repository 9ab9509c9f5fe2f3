//! A mapped file ([`super::source::Mapped`]) that another program cuts short while obol reads it
//! makes the kernel stop obol with SIGBUS at the first page past the new end. Left alone, that
//! kills obol without a word and, in the UI, leaves the terminal raw. While a mapping is read,
//! SIGBUS instead ends obol as any other bad input does: the terminal put back (the hook set by
//! [`set_before_exit`]), one line naming the file and the format, exit status 2.
//!
//! Everything the handler touches is prepared beforehand, and it calls only `write` and
//! `_exit` (and the hook, which must keep to such calls too).

use std::sync::Once;
use std::sync::atomic::{AtomicPtr, Ordering};

/// The line to print, leaked while a mapping is read (null otherwise).
static MESSAGE: AtomicPtr<Box<[u8]>> = AtomicPtr::new(std::ptr::null_mut());
/// What to run before the line: an `fn()` as a pointer (null when none).
static BEFORE_EXIT: AtomicPtr<()> = AtomicPtr::new(std::ptr::null_mut());
static INSTALL: Once = Once::new();

/// Sets what the handler runs before it prints: the UI's terminal restore. It runs inside a
/// signal handler, so it must call only async-signal-safe functions (`write`, `tcsetattr`).
pub fn set_before_exit(hook: fn()) {
    BEFORE_EXIT.store(hook as *mut (), Ordering::SeqCst);
}

/// While the returned guard lives, SIGBUS ends obol with `line` (which ends in a newline) and
/// exit status 2. One mapping is read at a time (the UI's loader and the commands read their
/// files one after another); a second reading while one is under way would take over the line.
pub(crate) fn while_reading(line: String) -> Reading {
    INSTALL.call_once(|| {
        // SAFETY: the action calls only async-signal-safe functions (see `on_bus_error`).
        let _ =
            unsafe { signal_hook::low_level::register(signal_hook::consts::SIGBUS, on_bus_error) };
    });
    let line = Box::into_raw(Box::new(line.into_bytes().into_boxed_slice()));
    let previous = MESSAGE.swap(line, Ordering::SeqCst);
    debug_assert!(previous.is_null(), "mapped readings do not nest");
    free(previous);
    Reading(())
}

/// Ends the SIGBUS handling of [`while_reading`] when dropped.
pub(crate) struct Reading(());

impl Drop for Reading {
    fn drop(&mut self) {
        free(MESSAGE.swap(std::ptr::null_mut(), Ordering::SeqCst));
    }
}

fn free(line: *mut Box<[u8]>) {
    if !line.is_null() {
        // SAFETY: `line` came from `Box::into_raw` in `while_reading`, and swapping it out of
        // MESSAGE made this the only place that still holds it.
        drop(unsafe { Box::from_raw(line) });
    }
}

fn on_bus_error() {
    let line = MESSAGE.load(Ordering::SeqCst);
    if line.is_null() {
        // Not a mapped file's doing: SIGBUS's own default, the process stopped.
        let _ = signal_hook::low_level::emulate_default_handler(signal_hook::consts::SIGBUS);
        return;
    }
    let hook = BEFORE_EXIT.load(Ordering::SeqCst);
    if !hook.is_null() {
        // SAFETY: only `set_before_exit` stores here, and it stores an `fn()`.
        let hook: fn() = unsafe { std::mem::transmute::<*mut (), fn()>(hook) };
        hook();
    }
    // SAFETY: MESSAGE holds a live box until a guard's drop swaps it out, and a guard lives
    // as long as the mapping whose reading can raise SIGBUS.
    let line: &[u8] = unsafe { &*line };
    let mut at = 0;
    while at < line.len() {
        // SAFETY: `at < line.len()`, so `line.len() - at` bytes from `at` are readable.
        let written = unsafe { write_stderr(line[at..].as_ptr(), line.len() - at) };
        if written <= 0 {
            break;
        }
        at += written as usize;
    }
    signal_hook::low_level::exit(2);
}

/// `write(2)` on standard error, which is async-signal-safe where `eprintln!` (a lock) is not.
unsafe fn write_stderr(bytes: *const u8, len: usize) -> isize {
    // SAFETY: the caller gives `len` readable bytes at `bytes`.
    unsafe { libc::write(2, bytes.cast(), len) }
}
