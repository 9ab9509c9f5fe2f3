//! The UI of a live recording (`obol record`, `obol attach`): the sampler's copies of the
//! recording come through the event loop's one channel and replace the session's file, every
//! pane following, unless the view is frozen (`p`); a badge shows how sampling goes. On the way
//! out the terminal is restored first, then sampling stops and the recording is saved.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use crossterm::event::Event as TermEvent;
use ratatui::layout::Rect;

use super::action::Action;
use super::app::{App, Event};
use super::event_loop::{Exit, UiError};
use super::input::{self, InputControl};
use super::session::ProfileRef;
use super::theme::Theme;
use super::view::Options as ViewOptions;
use super::work::Job;
use super::{keymap, terminal};
use crate::import::Loaded;
use crate::live::{Options, Progress, Target, Update};

/// What `obol record` and `obol attach` start the UI with.
pub struct LiveStart {
    pub target: Target,
    pub options: Options,
    /// Where the recording is saved, on exit and on `w`.
    pub output: PathBuf,
    /// `--config`.
    pub config: Option<PathBuf>,
}

/// The recording behind the session.
pub struct LiveState {
    pub progress: Progress,
    /// The view stays as it is; samples keep coming into `pending`.
    pub frozen: bool,
    /// The latest copy of the recording not shown yet.
    pending: Option<Arc<Vec<Loaded>>>,
    /// Samples in the copy shown.
    shown_samples: u64,
    /// Why sampling ended, once it has.
    pub ended: Option<String>,
    /// `record`'s program's output.
    pub log: Option<PathBuf>,
    pub output: PathBuf,
    /// When the view being derived for new samples was asked for, and when the next may be
    /// (see [`PACE`]); the same for the priority ranking.
    view_asked: Option<Instant>,
    next_view: Option<Instant>,
    rank_asked: Option<Instant>,
    next_rank: Option<Instant>,
    /// Pacing on (see [`PACE`]); benches turn it off to time every refresh.
    pub paced: bool,
}

/// Re-deriving the view (and ranking modules) for new samples waits this many times what it
/// cost last: at most 1/PACE of a core, whatever the size of the recording.
const PACE: u32 = 20;

impl LiveState {
    /// The state of a recording at `rate` saved to `output`, the program's output in `log`.
    pub fn new(rate: u64, output: PathBuf, log: Option<PathBuf>) -> LiveState {
        LiveState {
            progress: Progress {
                rate,
                ..Progress::default()
            },
            frozen: false,
            pending: None,
            shown_samples: 0,
            ended: None,
            log,
            output,
            view_asked: None,
            next_view: None,
            rank_asked: None,
            next_rank: None,
            paced: true,
        }
    }
}

impl App {
    /// Takes the sampler's latest: the progress at once, the samples when the view is not
    /// frozen and no view is being derived (else as soon as it is).
    pub fn live_update(&mut self, update: Update) {
        let Some(live) = &mut self.live else {
            return;
        };
        live.progress = update.progress;
        if let Some(recording) = update.recording {
            live.pending = Some(Arc::new(vec![recording]));
        }
        if let Some(ended) = update.ended {
            self.message = Some(format!(
                "{ended}: sampling ended, the view stays ({} saves, q quits)",
                keymap::key_label(Action::SaveRecording)
            ));
            live.ended = Some(ended);
        }
        self.show_pending();
    }

    /// Shows the latest samples, if the view may change now: not frozen, no view being
    /// derived, and the last derivation's cost paced out.
    pub(super) fn show_pending(&mut self) {
        let Some(live) = &mut self.live else {
            return;
        };
        let now = Instant::now();
        if let Some(asked) = live.view_asked.filter(|_| !self.view_in_flight) {
            live.view_asked = None;
            live.next_view = Some(now + asked.elapsed() * PACE);
        }
        if let Some(asked) = live.rank_asked.filter(|_| !self.priority_in_flight) {
            live.rank_asked = None;
            live.next_rank = Some(now + asked.elapsed() * PACE);
        }
        let paced = live.paced && live.next_view.is_some_and(|at| now < at);
        if live.frozen || self.view_in_flight || paced {
            return;
        }
        let Some(files) = live.pending.take() else {
            return;
        };
        live.shown_samples = files
            .first()
            .map_or(0, |f| f.set.profiles.iter().map(samples_of).sum());
        live.view_asked = Some(now);
        let rank =
            live.rank_asked.is_none() && (!live.paced || live.next_rank.is_none_or(|at| now >= at));
        let session = &mut self.session;
        let count = files.first().map_or(0, |f| f.set.profiles.len());
        if count != session.profiles.len() {
            // Threads only ever join, after those seen before: the one shown keeps its index.
            session.profiles = (0..count)
                .map(|profile| ProfileRef { file: 0, profile })
                .collect();
        }
        session.files = files;
        self.ask_view();
        if rank {
            self.rerank();
            if self.priority_in_flight
                && let Some(live) = &mut self.live
            {
                live.rank_asked = Some(now);
            }
        }
    }

    pub(super) fn toggle_freeze(&mut self) {
        let Some(live) = &mut self.live else {
            self.message = Some(not_recording());
            return;
        };
        live.frozen = !live.frozen;
        if live.frozen {
            self.message = Some(format!(
                "view frozen, sampling goes on ({} resumes)",
                keymap::key_label(Action::Freeze)
            ));
        } else {
            self.show_pending();
        }
    }

    pub(super) fn save_recording(&mut self) {
        let Some(live) = &self.live else {
            self.message = Some(not_recording());
            return;
        };
        let files = live
            .pending
            .clone()
            .unwrap_or_else(|| self.session.files.clone());
        let path = live.output.clone();
        self.message = Some(format!("saving to {} …", path.display()));
        self.push_job(Job::Save { files, path });
    }

    /// The live badges: how sampling goes, where the program's output and the recording go.
    pub(super) fn live_badges(&self) -> Vec<String> {
        let Some(live) = &self.live else {
            return Vec::new();
        };
        let p = &live.progress;
        let state = if live.ended.is_some() {
            "■ ended"
        } else {
            "● rec"
        };
        let mut badges = vec![format!(
            "{state} {} Hz · {} samples · {:.1} s · {} lost",
            p.rate,
            p.samples,
            p.elapsed.as_secs_f64(),
            p.lost
        )];
        if p.behind > Duration::from_secs(1) {
            badges.push(format!(
                "{:.1} s behind: lower --rate",
                p.behind.as_secs_f64()
            ));
        }
        if live.frozen {
            let new = p.samples.saturating_sub(live.shown_samples);
            badges.push(format!(
                "{} frozen (+{new} samples)",
                keymap::key_label(Action::Freeze)
            ));
        }
        if let Some(log) = &live.log {
            badges.push(format!(
                "log {}",
                crate::text::escape_control(&file_name(log))
            ));
        }
        badges.push(format!(
            "{} save {}",
            keymap::key_label(Action::SaveRecording),
            crate::text::escape_control(&file_name(&live.output))
        ));
        badges
    }
}

fn file_name(path: &Path) -> String {
    path.display().to_string()
}

fn samples_of(profile: &crate::profile::Profile) -> u64 {
    profile.timeline.as_ref().map_or(0, |t| t.len() as u64)
}

fn not_recording() -> String {
    "p and w work while recording: obol record -- python prog.py".into()
}

/// The line `w` shows: where the samples so far went, or why they could not.
pub fn save_line(files: &[Loaded], path: &Path) -> String {
    let Some(loaded) = files.first() else {
        return "nothing recorded yet".into();
    };
    let samples: u64 = loaded.set.profiles.iter().map(samples_of).sum();
    match crate::live::save(path, loaded) {
        Ok(()) => format!("saved {samples} samples to {}", path.display()),
        Err(e) => format!("cannot save to {}: {e}", path.display()),
    }
}

/// Samples `start.target` and shows it until the user quits or a signal comes; then, the
/// terminal restored, stops sampling (and `record`'s program), saves the recording and says
/// where on stderr. After a signal the process exits with 128 + its number.
#[cfg(all(feature = "live", target_os = "linux"))]
pub fn run(start: LiveStart) -> Result<(), UiError> {
    let mut config = super::config::load(start.config.clone()).map_err(UiError::Usage)?;
    terminal::check_usable().map_err(UiError::Usage)?;
    let (sender, receiver) = mpsc::channel::<Event>();
    let to_loop = sender.clone();
    let live = crate::live::sampler::start(
        &start.target,
        &start.options,
        start.output.clone(),
        move |update| to_loop.send(Event::Live(Box::new(update))).is_ok(),
    )
    .map_err(|e| UiError::Usage(e.0))?;
    if let Some(bindings) = config.bindings.take() {
        keymap::install(bindings);
    }
    let exit = run_ui(&start, config, sender, receiver);
    let saved = live.finish(&start.target, &start.output);
    let exit = exit?;
    match saved {
        Ok(line) => eprintln!("{line}"),
        Err(e) => return Err(UiError::Usage(e.0)),
    }
    if let Exit::Signal(signal) = exit {
        std::process::exit(128 + signal);
    }
    Ok(())
}

#[cfg(all(feature = "live", target_os = "linux"))]
fn run_ui(
    start: &LiveStart,
    config: super::config::Config,
    sender: mpsc::Sender<Event>,
    receiver: Receiver<Event>,
) -> Result<Exit, UiError> {
    let (tui, guard) = terminal::enter()?;
    // As in event_loop.rs: never dropped, the guard restores the terminal.
    let mut tui = std::mem::ManuallyDrop::new(tui);
    let control = InputControl::default();
    input::spawn_input(sender.clone(), control.clone());
    input::spawn_signals(sender.clone());
    let mut theme = Theme::detect();
    if let Some(support) = config.color {
        theme.support = support;
    }
    let (first, ended) = match wait_for_samples(&mut tui, &receiver, start, &theme)? {
        Ok(first) => first,
        Err(exit) => {
            drop(guard);
            return Ok(exit);
        }
    };
    let area = tui.size()?;
    let size = Rect::new(0, 0, area.width, area.height);
    let mut app = App::with_options(vec![first], theme, size, ViewOptions::default());
    super::event_loop::configure(&mut app, config);
    let log = match &start.target {
        Target::Run { log, .. } => Some(log.clone()),
        Target::Attach(_) => None,
    };
    app.live = Some(LiveState::new(
        start.options.rate,
        start.output.clone(),
        log,
    ));
    if let Some(update) = ended {
        app.live_update(update);
    }
    let mut timing = super::timing::Timing::from_env();
    let exit = super::event_loop::event_loop(
        &mut tui,
        &receiver,
        &sender,
        &control,
        &mut app,
        &mut timing,
    );
    drop(guard);
    std::mem::forget(app);
    exit
}

#[cfg(all(feature = "live", target_os = "linux"))]
/// Waits for the first samples (a program may sleep before it runs), showing what is sampled
/// and for how long. `Ok(Err(exit))` when the user quit or a signal came first, or sampling
/// ended with no sample at all. With the first samples, the update that ended sampling, if it
/// did at once.
#[allow(clippy::type_complexity)]
fn wait_for_samples(
    tui: &mut terminal::Tui,
    receiver: &Receiver<Event>,
    start: &LiveStart,
    theme: &Theme,
) -> Result<Result<(Loaded, Option<Update>), Exit>, UiError> {
    const TICK: Duration = Duration::from_millis(250);
    let started = Instant::now();
    let what = match &start.target {
        Target::Run { command, .. } => command
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" "),
        Target::Attach(pid) => format!("process {pid}"),
    };
    let mut ended: Option<String> = None;
    loop {
        let text = match &ended {
            Some(why) => format!("{why} before any sample (q quits)"),
            None => format!(
                "sampling {} … {:.1} s, no Python running yet  (q quits)",
                crate::text::escape_control(&what),
                started.elapsed().as_secs_f64()
            ),
        };
        super::loading::draw_centered(tui, theme, text)?;
        match receiver.recv_timeout(TICK) {
            Ok(Event::Live(update)) => {
                let mut update = *update;
                if let Some(first) = update
                    .recording
                    .take()
                    .filter(|r| !r.set.profiles.is_empty())
                {
                    let rest = update.ended.is_some().then_some(update);
                    return Ok(Ok((first, rest)));
                }
                if let Some(why) = update.ended {
                    ended = Some(why);
                }
            }
            Ok(Event::Signal(signal)) => return Ok(Err(Exit::Signal(signal))),
            Ok(Event::Hangup) | Err(RecvTimeoutError::Disconnected) => return Ok(Err(Exit::Quit)),
            Ok(Event::Terminal(TermEvent::Key(key))) => {
                if keymap::action_for(&key, false) == Some(Action::Quit) {
                    return Ok(Err(Exit::Quit));
                }
            }
            Ok(_) | Err(RecvTimeoutError::Timeout) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::{Recording, SampledFrame};
    use crate::tui::theme::{ColorSupport, Theme};

    fn add(recording: &mut Recording, thread: u64, names: &[&str]) {
        let frames = names.iter().rev().map(|name| SampledFrame {
            name,
            file: "prog.py",
            line: 1,
        });
        recording.add((1, thread), || format!("Thread {thread}"), frames);
    }

    fn update(recording: &Recording, ended: Option<&str>) -> Update {
        Update {
            recording: Some(recording.snapshot("rec.json".into())),
            progress: recording.progress,
            ended: ended.map(str::to_owned),
        }
    }

    /// An update as the event loop takes it; progress-only updates come every 250 ms and show
    /// what pacing held back: here, until it is shown.
    fn take(app: &mut App, update: Update) {
        app.live_update(update);
        app.settle();
        while app.live.as_ref().unwrap().pending.is_some() && !app.live.as_ref().unwrap().frozen {
            std::thread::sleep(Duration::from_millis(5));
            app.show_pending();
            app.settle();
        }
    }

    fn app(recording: &Recording) -> App {
        let mut app = App::new(
            vec![recording.snapshot("rec.json".into())],
            Theme::new(ColorSupport::TrueColor),
            Rect::new(0, 0, 100, 30),
        );
        app.live = Some(LiveState::new(100, "rec.json".into(), None));
        app.settle();
        app
    }

    #[test]
    fn new_samples_and_threads_reach_every_pane_unless_frozen() {
        let mut recording = Recording::new(100);
        add(&mut recording, 1, &["main", "hot"]);
        let mut app = app(&recording);
        assert!((app.shown_total() - 0.01).abs() < 1e-12);
        add(&mut recording, 1, &["main", "cold"]);
        add(&mut recording, 2, &["worker"]);
        take(&mut app, update(&recording, None));
        assert!((app.shown_total() - 0.02).abs() < 1e-12);
        assert_eq!(app.session.profiles.len(), 2, "the new thread is a profile");
        assert_eq!(app.view.as_ref().unwrap().table.len(), 3, "main, hot, cold");
        // Frozen: the view stays, the badge counts on.
        app.update(Action::Freeze);
        add(&mut recording, 1, &["main", "hot"]);
        app.live_update(update(&recording, None));
        app.settle();
        assert!((app.shown_total() - 0.02).abs() < 1e-12);
        assert!(
            app.badges()
                .iter()
                .any(|b| b.contains("frozen (+1 samples)"))
        );
        app.update(Action::Freeze);
        app.settle();
        take(
            &mut app,
            Update {
                recording: None,
                progress: recording.progress,
                ended: None,
            },
        );
        assert!((app.shown_total() - 0.03).abs() < 1e-12);
        // The end: the view stays, with a message naming how to save.
        take(
            &mut app,
            update(&recording, Some("the program exited with status 0")),
        );
        assert!(app.badges()[0].starts_with("■ ended 100 Hz · 4 samples"));
        assert!(app.message.as_deref().unwrap().contains("w saves"));
    }

    #[test]
    fn w_saves_the_samples_so_far_as_speedscope() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("saved.json");
        let mut recording = Recording::new(100);
        add(&mut recording, 1, &["main", "hot"]);
        add(&mut recording, 1, &["main", "hot"]);
        let line = save_line(&[recording.snapshot(path.clone())], &path);
        assert!(line.starts_with("saved 2 samples"), "{line}");
        let loaded = crate::import::load_path(&path).unwrap();
        assert_eq!(loaded.set.profiles.len(), 1);
        assert!((loaded.set.total() - 0.02).abs() < 1e-12);
    }
}
