//! The screen shown while files load, so a large file shows progress rather than a blank
//! terminal. Quitting works here too.

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use crossterm::event::Event as TermEvent;
use ratatui::layout::Rect;
use ratatui::widgets::Paragraph;

use super::action::Action;
use super::app::Event;
use super::event_loop::{Exit, UiError};
use super::keymap;
use super::terminal::Tui;
use super::theme::Theme;
use crate::import::Loaded;

/// How often the elapsed time is redrawn while loading.
const TICK: Duration = Duration::from_millis(250);

/// One line of text in the middle of the screen: progress while waiting.
pub fn draw_centered(tui: &mut Tui, theme: &Theme, text: String) -> std::io::Result<()> {
    tui.draw(|frame| {
        let area = frame.area();
        let line = Rect::new(area.x, area.y + area.height / 2, area.width, 1);
        frame.render_widget(Paragraph::new(text).style(theme.header()).centered(), line);
        if theme.ascii {
            super::panes::asciify(frame.buffer_mut());
        }
    })?;
    Ok(())
}

/// Waits for `expected` files. `Ok(Err(exit))` when the user quit first, or a signal came.
pub fn wait_for_files(
    tui: &mut Tui,
    receiver: &Receiver<Event>,
    expected: usize,
    theme: &Theme,
) -> Result<Result<Vec<Loaded>, Exit>, UiError> {
    let started = Instant::now();
    let mut files = Vec::with_capacity(expected);
    // A differential file opens as two files (its base, then itself): loads are counted, not
    // files.
    let mut loads = 0;
    while loads < expected {
        let elapsed = started.elapsed();
        // Drawn only after a moment, so fast loads go straight to the first real frame.
        if elapsed >= TICK {
            let text = format!(
                "loading {} of {} … {:.1} s  (q quits)",
                loads + 1,
                expected,
                elapsed.as_secs_f64()
            );
            draw_centered(tui, theme, text)?;
        }
        match receiver.recv_timeout(TICK) {
            Ok(Event::Loaded(result)) => {
                files.extend((*result)?.into_files());
                loads += 1;
            }
            Ok(Event::Signal(signal)) => return Ok(Err(Exit::Signal(signal))),
            Ok(Event::Hangup) | Err(RecvTimeoutError::Disconnected) => return Ok(Err(Exit::Quit)),
            Ok(Event::Terminal(TermEvent::Key(key))) => {
                if keymap::action_for(&key, false) == Some(Action::Quit) {
                    return Ok(Err(Exit::Quit));
                }
            }
            // A file's whole reading comes after every file is loaded (`spawn_loader`).
            Ok(Event::Terminal(_) | Event::Done(..) | Event::Live(_) | Event::Reading(..))
            | Ok(Event::Read(..))
            | Err(RecvTimeoutError::Timeout) => {}
        }
    }
    Ok(Ok(files))
}
