//! A live recording after 10 minutes at 100 Hz, fed synthetic samples (60,000 stacks of a
//! made-up program of 400 functions, 20,000 distinct stacks, 3 to 30 frames deep, two samples
//! in three in the stack of the one before): what each
//! redraw tick costs (the sampler's copy of the recording, the worker's view), and the time from
//! a key press to its redrawn frame in every pane at 200×60. `cargo bench --bench live`;
//! `LIVE_MINUTES=N` for another length. Prints medians and maxima.

use std::time::{Duration, Instant};

use obol::live::{Recording, SampledFrame, Update};
use obol::tui::action::{Action, Pane};
use obol::tui::app::App;
use obol::tui::live::LiveState;
use obol::tui::theme::{ColorSupport, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// The made-up program's distinct stacks, innermost frame first as py-spy gives them: each a
/// walk down a call graph where every function calls a few others.
fn stacks(names: &[(String, String)], rng: &mut Rng) -> Vec<Vec<(usize, u32)>> {
    (0..20_000)
        .map(|_| {
            let depth = 3 + rng.below(28) as usize;
            let mut at = rng.below(8) as usize;
            let mut stack = Vec::with_capacity(depth);
            for _ in 0..depth {
                stack.push((at, 10 + rng.below(40) as u32));
                at = (at * 7 + 1 + rng.below(5) as usize) % names.len();
            }
            stack.reverse();
            stack
        })
        .collect()
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let minutes: u64 = std::env::var("LIVE_MINUTES")
        .ok()
        .and_then(|m| m.parse().ok())
        .unwrap_or(10);
    let rate = 100;
    let names: Vec<(String, String)> = (0..400)
        .map(|i| {
            (
                format!("function_{i}"),
                format!("/srv/app/pkg{}/mod{}.py", i % 13, i % 7),
            )
        })
        .collect();
    let mut rng = Rng(7);
    let stacks = stacks(&names, &mut rng);
    let mut recording = Recording::new(rate);
    let samples = minutes * 60 * rate;
    let started = Instant::now();
    for _ in 0..samples {
        // Hot stacks come back often, as in a real program: a skewed pick.
        let pick = rng
            .below(stacks.len() as u64)
            .min(rng.below(stacks.len() as u64));
        let stack = &stacks[pick as usize];
        let frames = stack.iter().map(|&(f, line)| SampledFrame {
            name: &names[f].0,
            file: &names[f].1,
            line,
        });
        recording.add((1, 1), || "Thread 1 \"MainThread\"".into(), frames);
    }
    let fed = started.elapsed();
    println!(
        "{samples} samples ({minutes} min at {rate} Hz) appended in {} ({:.2} µs a sample)",
        ms(fed),
        fed.as_secs_f64() * 1e6 / samples as f64
    );
    let snapshots: Vec<Duration> = (0..9)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(recording.snapshot("live.json".into()));
            t.elapsed()
        })
        .collect();
    let snapshot = median(snapshots);
    println!(
        "the sampler's copy of the recording (each tick): median {}",
        ms(snapshot)
    );

    let (width, height) = (200, 60);
    let first = recording.snapshot("live.json".into());
    let nodes = first.set.profiles[0].tree().len();
    let mut app = App::new(
        vec![first],
        Theme::new(ColorSupport::TrueColor),
        Rect::new(0, 0, width, height),
    );
    let mut live = LiveState::new(rate, "live.json".into(), None);
    // Every tick timed: the UI paces refreshes by their cost (printed below).
    live.paced = false;
    app.live = Some(live);
    app.settle();
    // Ticks as the event loop takes them: a new copy in, the view derived on a worker (here
    // inline), measured per pane shown.
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test backend");
    let mut tick_report = Vec::new();
    for pane in [
        Pane::TimeOrder,
        Pane::LeftHeavy,
        Pane::Sandwich,
        Pane::Priority,
    ] {
        app.update(Action::ShowPane(pane));
        app.settle();
        let ticks: Vec<Duration> = (0..7)
            .map(|_| {
                let update = Update {
                    recording: Some(recording.snapshot("live.json".into())),
                    progress: recording.progress,
                    ended: None,
                };
                let t = Instant::now();
                app.live_update(update);
                app.settle();
                terminal
                    .draw(|f| obol::tui::panes::render(&app, f))
                    .expect("draw");
                t.elapsed()
            })
            .collect();
        tick_report.push((pane, median(ticks)));
    }
    println!("tree: {nodes} nodes; a tick (view derived, priority ranked where shown, drawn):");
    let pace = f64::from(obol::live::sampler::PACE);
    for (pane, tick) in &tick_report {
        let every = (tick.as_secs_f64() * pace).max(0.25);
        let copy_every = (snapshot.as_secs_f64() * pace).max(0.25);
        println!(
            "  {pane:?}: median {}; paced, the view follows every {every:.1} s: {:.1}% of a \
             core (+ {:.1}% for the copies, one every {copy_every:.1} s)",
            ms(*tick),
            100.0 * tick.as_secs_f64() / every,
            100.0 * snapshot.as_secs_f64() / copy_every
        );
    }
    let keys = [
        Action::Down,
        Action::Right,
        Action::Left,
        Action::Up,
        Action::Down,
    ];
    println!("key press to redrawn frame at {width}x{height} after {minutes} min:");
    for pane in [
        Pane::TimeOrder,
        Pane::LeftHeavy,
        Pane::Sandwich,
        Pane::Priority,
    ] {
        app.update(Action::ShowPane(pane));
        app.settle();
        let presses: Vec<Duration> = (0..40)
            .map(|i| {
                let t = Instant::now();
                app.update(keys[i % keys.len()]);
                terminal
                    .draw(|f| obol::tui::panes::render(&app, f))
                    .expect("draw");
                t.elapsed()
            })
            .collect();
        let worst = presses.iter().max().copied().unwrap_or_default();
        println!(
            "  {pane:?}: median {}, max {} (target 16 ms)",
            ms(median(presses)),
            ms(worst)
        );
    }
    let freeze: Vec<Duration> = (0..20)
        .map(|_| {
            let t = Instant::now();
            app.update(Action::Freeze);
            terminal
                .draw(|f| obol::tui::panes::render(&app, f))
                .expect("draw");
            t.elapsed()
        })
        .collect();
    println!("  p (freeze/resume): median {}", ms(median(freeze)));
}
