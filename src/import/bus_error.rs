//! A mapped file ([`super::source::Mapped`]) that another program cuts short while obol reads it
//! makes the kernel stop obol with SIGBUS at the first page past the new end. Left alone, that
//! kills obol without a word and, in the UI, leaves the terminal raw. While a mapping is read,
//! SIGBUS instead ends obol as any other bad input does: the terminal put back (the hook set by
//! [`set_before_exit`]), one line naming the file and the format, exit status 2.
//!
//! Everything the handler touches is prepared beforehand, and it calls only `write` and
//! `_exit` (and the hook, which must keep to such calls too).

use std::sync::Once;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};

/// A mapping being read: its addresses and the line to print should a read there fault.
struct Slot {
    /// Taken by a reading (set before the rest, cleared after).
    taken: AtomicBool,
    start: AtomicUsize,
    end: AtomicUsize,
    /// The line, leaked while the mapping is read (null otherwise); set last, cleared first.
    line: AtomicPtr<Box<[u8]>>,
}

/// As many mappings as may be read at once: one in the program (the UI's loader and the
/// commands read their files one after another), several in the tests, which load files on
/// many threads of one process. Past that many, a reading has no line: SIGBUS then stops
/// obol as it would have without this module.
const SLOTS: usize = 32;

static READINGS: [Slot; SLOTS] = [const {
    Slot {
        taken: AtomicBool::new(false),
        start: AtomicUsize::new(0),
        end: AtomicUsize::new(0),
        line: AtomicPtr::new(std::ptr::null_mut()),
    }
}; SLOTS];
/// What to run before the line: an `fn()` as a pointer (null when none).
static BEFORE_EXIT: AtomicPtr<()> = AtomicPtr::new(std::ptr::null_mut());
static INSTALL: Once = Once::new();

/// Sets what the handler runs before it prints: the UI's terminal restore. It runs inside a
/// signal handler, so it must call only async-signal-safe functions (`write`, `tcsetattr`).
pub fn set_before_exit(hook: fn()) {
    BEFORE_EXIT.store(hook as *mut (), Ordering::SeqCst);
}

/// While the returned guard lives, SIGBUS at an address of `mapping` ends obol with `line`
/// (which ends in a newline) and exit status 2. Readings of several mappings at once each have
/// their own line: the faulting address tells which.
pub(crate) fn while_reading(mapping: &[u8], line: String) -> Reading {
    INSTALL.call_once(install);
    let Some(slot) = READINGS.iter().position(|slot| {
        slot.taken
            .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }) else {
        return Reading(None);
    };
    let at = &READINGS[slot];
    let start = mapping.as_ptr() as usize;
    at.start.store(start, Ordering::SeqCst);
    at.end.store(start + mapping.len(), Ordering::SeqCst);
    let line = Box::into_raw(Box::new(line.into_bytes().into_boxed_slice()));
    at.line.store(line, Ordering::SeqCst);
    Reading(Some(slot))
}

/// Ends the SIGBUS handling of [`while_reading`] when dropped.
pub(crate) struct Reading(Option<usize>);

impl Drop for Reading {
    fn drop(&mut self) {
        if let Some(slot) = self.0 {
            let at = &READINGS[slot];
            free(at.line.swap(std::ptr::null_mut(), Ordering::SeqCst));
            at.taken.store(false, Ordering::SeqCst);
        }
    }
}

fn free(line: *mut Box<[u8]>) {
    if !line.is_null() {
        // SAFETY: `line` came from `Box::into_raw` in `while_reading`, and swapping it out of
        // its slot made this the only place that still holds it.
        drop(unsafe { Box::from_raw(line) });
    }
}

/// The line of the reading whose mapping holds `address`, if any.
fn line_at(address: usize) -> Option<&'static [u8]> {
    READINGS.iter().find_map(|slot| {
        let line = slot.line.load(Ordering::SeqCst);
        let (start, end) = (
            slot.start.load(Ordering::SeqCst),
            slot.end.load(Ordering::SeqCst),
        );
        // SAFETY: a slot's line lives until its guard is dropped, and the guard lives as long
        // as the mapping whose reading faulted at `address`, which is inside it.
        (!line.is_null() && (start..end).contains(&address)).then(|| unsafe { &**line })
    })
}

/// Makes [`on_bus_error`] SIGBUS's handler, in the place of the one Rust's runtime installs.
/// Not through `signal_hook_registry`, which runs the handler it replaces first: Rust's, which
/// sets SIGBUS back to its default for any address outside a thread's stack guard, so that a
/// second thread faulting in the same mapping a moment later (a file read in two halves, cut
/// short) was stopped by SIGBUS itself, exit status 135, before the first could end obol.
fn install() {
    // SAFETY: a zeroed `sigaction` is a valid start; the handler calls only async-signal-safe
    // functions (see `on_bus_error`), and runs on the alternate stack where one is set.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = bus_error_action as *const () as usize;
        action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut());
    }
}

extern "C" fn bus_error_action(
    _signal: libc::c_int,
    info: *mut libc::siginfo_t,
    _context: *mut std::ffi::c_void,
) {
    // SAFETY: the kernel passes SIGBUS's siginfo to an SA_SIGINFO handler.
    match unsafe { info.as_ref() } {
        Some(info) => on_bus_error(info),
        None => {
            let _ = signal_hook::low_level::emulate_default_handler(signal_hook::consts::SIGBUS);
        }
    }
}

fn on_bus_error(info: &libc::siginfo_t) {
    // SAFETY: SIGBUS's siginfo carries the faulting address.
    let address = unsafe { info.si_addr() } as usize;
    let Some(line) = line_at(address) else {
        // Not a mapped file's doing: SIGBUS's own default, the process stopped.
        let _ = signal_hook::low_level::emulate_default_handler(signal_hook::consts::SIGBUS);
        return;
    };
    // Two threads reading one mapping (a file read in two halves) fault at once when it is cut
    // short: the first ends obol, the others wait for that instead of restoring the terminal
    // and exiting beside it (seen to end obol by SIGBUS itself, exit status 135).
    static ENDING: AtomicBool = AtomicBool::new(false);
    if ENDING.swap(true, Ordering::SeqCst) {
        loop {
            // SAFETY: `pause` is async-signal-safe; the process ends from the first handler.
            unsafe { libc::pause() };
        }
    }
    let hook = BEFORE_EXIT.load(Ordering::SeqCst);
    if !hook.is_null() {
        // SAFETY: only `set_before_exit` stores here, and it stores an `fn()`.
        let hook: fn() = unsafe { std::mem::transmute::<*mut (), fn()>(hook) };
        hook();
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_at_once_each_keep_their_line() {
        let (a, b) = (vec![0u8; 64], vec![0u8; 64]);
        let first = while_reading(&a, "a\n".into());
        let second = while_reading(&b, "b\n".into());
        let at = |v: &[u8], i: usize| v.as_ptr() as usize + i;
        assert_eq!(line_at(at(&a, 0)), Some(&b"a\n"[..]));
        assert_eq!(line_at(at(&a, 63)), Some(&b"a\n"[..]));
        assert_eq!(line_at(at(&b, 10)), Some(&b"b\n"[..]));
        drop(first);
        assert_eq!(line_at(at(&a, 0)), None);
        assert_eq!(line_at(at(&b, 63)), Some(&b"b\n"[..]));
        drop(second);
        assert_eq!(line_at(at(&b, 0)), None);
    }
}
