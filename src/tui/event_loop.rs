//! The one event loop. One channel carries everything that can happen: terminal input (from
//! an input thread), signals (from a signal thread), finished loads and finished work. The loop
//! draws only after something changed, and blocks otherwise; it never computes for long itself,
//! so q, Ctrl-C, SIGTERM and SIGHUP are answered at once, whatever is being computed.

use std::io;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, Sender};

use crossterm::event::Event as TermEvent;
use ratatui::layout::Rect;

use super::action::Action;
use super::app::{App, Event};
use super::config::Config;
use super::effects;
use super::input::{self, InputControl};
use super::keymap;
use super::session::Start;
use super::terminal;
use super::theme::Theme;
use super::timing::{Mark, Timing};
use super::view::Hidden;
use crate::import::LoadError;

/// What the UI can fail with.
#[derive(Debug, thiserror::Error)]
pub enum UiError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("terminal: {0}")]
    Terminal(#[from] io::Error),
    /// A bad config file or a start option no file can take (`--thread` no file has).
    #[error("{0}")]
    Usage(String),
}

/// How the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The user quit (q, Ctrl-C as a key) or the terminal went away.
    Quit,
    /// A signal asked obol to end: the process exits with 128 + its number.
    Signal(i32),
}

/// Loads `paths` (and the demo, if asked) while showing progress, then runs the UI until quit.
/// Returns the first load error, after restoring the terminal. After a signal the terminal is
/// restored and the process exits with 128 + the signal's number, as a shell reports it.
/// `start` is what the command line's filters ask for; `config` the `--config` file, if given.
pub fn run(
    paths: Vec<PathBuf>,
    demo: bool,
    source_roots: Vec<PathBuf>,
    mut start: Start,
    config: Option<PathBuf>,
) -> Result<(), UiError> {
    // Read before the terminal is taken: a bad file is one line on a normal screen.
    let config = super::config::load(config).map_err(UiError::Usage)?;
    terminal::check_usable().map_err(UiError::Usage)?;
    start
        .filters
        .hide
        .extend(config.hide.iter().cloned().map(Hidden::Matching));
    let exit = run_until_exit(paths, demo, source_roots, start, config)?;
    if let Exit::Signal(signal) = exit {
        std::process::exit(128 + signal);
    }
    Ok(())
}

fn run_until_exit(
    paths: Vec<PathBuf>,
    demo: bool,
    mut source_roots: Vec<PathBuf>,
    start: Start,
    mut config: Config,
) -> Result<Exit, UiError> {
    if let Some(bindings) = config.bindings.take() {
        keymap::install(bindings);
    }
    // The demo's program, for `e` and Priority to read; removed when obol ends (after a signal
    // too: run_until_exit returns before the process exits).
    let demo_sources = demo.then(crate::demo::DemoSources::write).transpose()?;
    if let Some(sources) = &demo_sources {
        source_roots.push(sources.dir.clone());
    }
    let mut timing = Timing::from_env();
    let (sender, receiver) = mpsc::channel::<Event>();
    let (tui, guard) = terminal::enter()?;
    // Never dropped: the guard restores the terminal (cursor included), and ratatui's drop
    // would print to stderr that the cursor could not be shown on a terminal that is gone
    // (tmux kill-session, a dropped SSH session), a failed print that panics.
    let mut tui = std::mem::ManuallyDrop::new(tui);
    let control = InputControl::default();
    input::spawn_input(sender.clone(), control.clone());
    input::spawn_signals(sender.clone());
    let expected = paths.len() + usize::from(demo);
    // A file shown from its figures first only where the first view is the file's own
    // figures: nothing hidden or focused from the start.
    let figures_first = start.filters.is_empty() && start.hidden.is_none();
    input::spawn_loader(paths, demo, figures_first, sender.clone());
    // The config's colour mode over the environment's; the character set is the locale's.
    let mut theme = Theme::detect();
    if let Some(support) = config.color {
        theme.support = support;
    }
    let files = match super::loading::wait_for_files(&mut tui, &receiver, expected, &theme)? {
        Ok(files) => files,
        Err(exit) => {
            drop(guard);
            return Ok(exit);
        }
    };
    timing.note("loaded", None, "");
    let options = match start.options(&files) {
        Ok(options) => options,
        Err(e) => {
            drop(guard);
            return Err(UiError::Usage(e));
        }
    };
    let area = tui.size()?;
    let size = Rect::new(0, 0, area.width, area.height);
    let mut app = App::with_options(files, theme, size, options);
    app.session.source_roots = source_roots;
    configure(&mut app, config);
    let exit = event_loop(
        &mut tui,
        &receiver,
        &sender,
        &control,
        &mut app,
        &mut timing,
    );
    drop(guard);
    // Freeing the trees of a large file takes seconds, and the process is ending: the system
    // takes the memory back at once.
    std::mem::forget(app);
    exit
}

/// What the config file asks of the app: the editor, heat colours, the table's sort, the pane.
pub(super) fn configure(app: &mut App, mut config: Config) {
    app.session.editor = config.editor.take();
    app.heat = config.heat;
    if let Some(sort) = config.sort {
        app.sandwich.sort = sort;
    }
    if let Some(pane) = config.pane {
        app.show(pane);
    }
}

pub(super) fn event_loop(
    tui: &mut terminal::Tui,
    receiver: &Receiver<Event>,
    sender: &Sender<Event>,
    control: &InputControl,
    app: &mut App,
    timing: &mut Timing,
) -> Result<Exit, UiError> {
    let mut clicks = keymap::Clicks::default();
    let mut dirty = true;
    // For the timing log: what the next frame drawn answers, and when it came.
    let mut answering: Option<(String, Mark, String)> = None;
    loop {
        while let Some(job) = app.take_job() {
            job.spawn(sender.clone());
        }
        if dirty {
            draw(tui, app)?;
            dirty = false;
            timing.drawn(app.view.is_some());
            if let Some((what, since, more)) = answering.take() {
                timing.note(&what, Some(since), &more);
            }
        }
        let Ok(event) = receiver.recv() else {
            return Ok(Exit::Quit);
        };
        let received = timing.mark();
        let action = match event {
            Event::Terminal(TermEvent::Key(key)) => {
                let action = keymap::action_for(&key, app.prompt.is_some());
                if let Some(action) = action.filter(|_| timing.is_on()) {
                    let name = format!("{action:?}").replace(' ', "");
                    answering = Some((format!("key {name}"), received, String::new()));
                }
                action
            }
            Event::Terminal(TermEvent::Mouse(mouse)) => clicks.action(mouse),
            Event::Terminal(TermEvent::Resize(width, height)) => {
                Some(Action::Resize { width, height })
            }
            Event::Terminal(_) | Event::Loaded(_) => None,
            Event::Reading(file, percent) => {
                dirty |= app.read_so_far(file, percent);
                None
            }
            // A file read whole after its figures were shown: its error ends the UI as it
            // would have before the first frame.
            Event::Read(file, result) => {
                app.read_whole(file, (*result)?);
                dirty = true;
                None
            }
            Event::Done(done, worked) => {
                if timing.is_on() {
                    answering = Some((
                        format!("done {}", done.kind()),
                        received,
                        format!(" worker {:.3}", worked.as_secs_f64() * 1e3),
                    ));
                }
                app.finish(done);
                dirty = true;
                None
            }
            Event::Live(update) => {
                app.live_update(*update);
                dirty = true;
                None
            }
            Event::Signal(signal) => return Ok(Exit::Signal(signal)),
            Event::Hangup => return Ok(Exit::Quit),
        };
        if let Some(action) = action {
            app.update(action);
            dirty = true;
        }
        if app.quit {
            return Ok(Exit::Quit);
        }
        if let Some(effect) = app.effect.take() {
            if let Some(message) = effects::run(effect, tui, control) {
                app.message = Some(message);
            }
            dirty = true;
        }
    }
}

/// Draws the app at the terminal's present size: when it differs from the size the layout was
/// made for (a resize not yet read), the layout is made again first, so that layout and drawing
/// never disagree.
fn draw(tui: &mut terminal::Tui, app: &mut App) -> io::Result<()> {
    loop {
        let size = tui.size()?;
        if (size.width, size.height) != (app.size.width, app.size.height) {
            app.resize(size.width, size.height);
        }
        let frame = tui.draw(|frame| super::panes::render(app, frame))?;
        // The terminal may have changed size between the look and the drawing: the frame was
        // then left blank (render draws only at the layout's size); lay out and draw again.
        if frame.area.width == app.size.width && frame.area.height == app.size.height {
            return Ok(());
        }
    }
}
