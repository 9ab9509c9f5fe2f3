//! The threads that feed the event loop's channel: terminal input, signals and file loads.

use std::path::PathBuf;
use std::sync::mpsc::Sender;

use super::app::Event;

pub fn spawn_input(sender: Sender<Event>) {
    std::thread::spawn(move || {
        loop {
            let event = match crossterm::event::read() {
                Ok(event) => Event::Terminal(event),
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
        for _ in signals.forever() {
            if sender.send(Event::Signal).is_err() {
                return;
            }
        }
    });
}

pub fn spawn_loader(paths: Vec<PathBuf>, demo: bool, sender: Sender<Event>) {
    std::thread::spawn(move || {
        if demo {
            let loaded = crate::demo::load();
            if sender.send(Event::Loaded(Box::new(loaded))).is_err() {
                return;
            }
        }
        for path in paths {
            let loaded = crate::import::load_path(&path);
            if sender.send(Event::Loaded(Box::new(loaded))).is_err() {
                return;
            }
        }
    });
}
