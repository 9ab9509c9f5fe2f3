//! The threads that feed the event loop's channel: terminal input, signals and file loads.
//!
//! The input thread can be paused: while another program (the editor) has the terminal, obol
//! must not read a single key of it. It reads only after `poll` says a key is there, and checks
//! between polls whether it is asked to stop; [`InputControl::pause`] returns once it has.

use std::path::PathBuf;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use super::app::Event;

/// How long the input thread waits for a key before looking whether it should pause: the
/// longest a pause can take (the editor starts that much later at worst), and ten wake-ups a
/// second while idle.
const POLL: Duration = Duration::from_millis(100);

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum State {
    #[default]
    Reading,
    /// Asked to stop reading.
    PauseAsked,
    /// Not reading until resumed.
    Paused,
}

/// Pauses and resumes the input thread.
#[derive(Debug, Default, Clone)]
pub struct InputControl {
    state: Arc<(Mutex<State>, Condvar)>,
}

impl InputControl {
    /// Stops the input thread reading the terminal; returns once it no longer reads (or after
    /// a second, should it be gone).
    pub fn pause(&self) {
        let (lock, changed) = &*self.state;
        let mut state = lock.lock().unwrap_or_else(PoisonError::into_inner);
        *state = State::PauseAsked;
        let deadline = std::time::Instant::now() + Duration::from_secs(1);
        while *state != State::Paused {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return;
            }
            state = changed
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Lets the input thread read again.
    pub fn resume(&self) {
        let (lock, changed) = &*self.state;
        *lock.lock().unwrap_or_else(PoisonError::into_inner) = State::Reading;
        changed.notify_all();
    }

    /// Called by the input thread between polls: acknowledges a pause and waits it out.
    fn wait_while_paused(&self) {
        let (lock, changed) = &*self.state;
        let mut state = lock.lock().unwrap_or_else(PoisonError::into_inner);
        if *state == State::PauseAsked {
            *state = State::Paused;
            changed.notify_all();
        }
        while *state == State::Paused {
            state = changed.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
    }
}

pub fn spawn_input(sender: Sender<Event>, control: InputControl) {
    std::thread::spawn(move || {
        loop {
            control.wait_while_paused();
            let event = match crossterm::event::poll(POLL) {
                Ok(false) => continue,
                Ok(true) => match crossterm::event::read() {
                    Ok(event) => Event::Terminal(event),
                    Err(_) => Event::Hangup,
                },
                Err(_) => Event::Hangup,
            };
            let hangup = matches!(event, Event::Hangup);
            if sender.send(event).is_err() || hangup {
                return;
            }
        }
    });
}

pub fn spawn_signals(sender: Sender<Event>) {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGTERM, SIGHUP, SIGINT]) else {
        return;
    };
    std::thread::spawn(move || {
        for signal in signals.forever() {
            if sender.send(Event::Signal(signal)).is_err() {
                return;
            }
        }
    });
}

/// Loads the files in a thread of its own, each as one `Event::Loaded` in order. With
/// `figures_first`, a large file whose function figures are read much faster than its call trees
/// is loaded as its figures (the first frame comes that much sooner: see `reading.rs`), and read
/// whole once every file is loaded, telling how far (`Event::Reading`) and ending in
/// `Event::Read`.
pub fn spawn_loader(paths: Vec<PathBuf>, demo: bool, figures_first: bool, sender: Sender<Event>) {
    std::thread::spawn(move || {
        let send = |event| sender.send(event).is_ok();
        if demo && !send(Event::Loaded(Box::new(crate::demo::load()))) {
            return;
        }
        // The files loaded as their figures, by index in the session, to be read whole.
        let mut later = Vec::new();
        let mut index = usize::from(demo);
        for path in paths {
            let loaded = match figures_first.then(|| crate::import::load_figures_first(&path)) {
                Some(Ok(Some(figures))) => {
                    if figures.set.profiles.iter().any(|p| p.is_figures_only()) {
                        later.push((index, path));
                    }
                    Ok(figures)
                }
                Some(Err(error)) => Err(error),
                Some(Ok(None)) | None => crate::import::load_path(&path),
            };
            // A differential file opens as two files, its base first.
            index += loaded
                .as_ref()
                .map_or(1, |l| 1 + usize::from(l.base.is_some()));
            if !send(Event::Loaded(Box::new(loaded))) {
                return;
            }
        }
        if !later.is_empty() {
            yield_to_the_screen();
        }
        for (index, path) in later {
            let to_loop = sender.clone();
            let tell: crate::import::source::Tell = Arc::new(move |percent| {
                let _ = to_loop.send(Event::Reading(index, percent));
            });
            let loaded = crate::import::load_path_telling(&path, Some(tell));
            if !send(Event::Read(index, Box::new(loaded))) {
                return;
            }
        }
    });
}

/// Lowers this thread's priority, and that of the threads it starts from now on (Linux gives
/// each thread its own nice value, inherited by the threads it starts): the whole reading of
/// files shown from their figures, and the workers' jobs, are background work, which takes
/// both cores while the first frame is drawn and shown, and while keys are answered. The UI
/// thread and the terminal come first; on an idle machine the work loses nothing. Linux only;
/// a refusal changes nothing.
pub(super) fn yield_to_the_screen() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority reads its arguments only; `who` 0 is the calling thread on Linux.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, 5);
    }
}
