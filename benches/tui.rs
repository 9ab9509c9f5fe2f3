//! Frame and key-press times of the terminal UI on a tree of about 1,000,000 nodes, drawn into
//! ratatui's TestBackend at 200×60. Run with `cargo bench --bench tui`; prints medians.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use obol::import::{Format, Loaded};
use obol::profile::{CallTreeBuilder, FrameTable, FunctionKey, NodeId, Profile, ProfileSet, Unit};
use obol::tui::action::{Action, Pane};
use obol::tui::app::App;
use obol::tui::theme::{ColorSupport, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;

/// A tree of 10 × 10 × ... levels with uneven weights: 1 + 10 + ... + 10^6 ≈ 1.1 M nodes.
fn big_profile() -> Loaded {
    let mut frames = FrameTable::new(FunctionKey::NameFile);
    let ids: Vec<_> = (0..1000)
        .map(|i| {
            frames.intern(
                &format!("function_{i}"),
                Some(&format!("pkg{}/mod{}.py", i % 17, i % 5)),
                Some(i),
            )
        })
        .collect();
    let mut builder = CallTreeBuilder::new();
    let mut level = vec![NodeId::ROOT];
    let mut seed: u32 = 1;
    for depth in 0..6 {
        let mut next = Vec::with_capacity(level.len() * 10);
        for &parent in &level {
            for k in 0..10 {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                let frame = ids[((seed >> 8) as usize + k + depth * 7) % ids.len()];
                let child = builder.child(parent, frame);
                builder.add_self(child, f64::from(1 + (seed >> 20) % 50));
                next.push(child);
            }
        }
        level = next;
    }
    let tree = builder.finish();
    eprintln!("tree: {} nodes", tree.len());
    Loaded {
        path: PathBuf::from("bench"),
        format: Format::Folded,
        set: ProfileSet {
            profiles: vec![Profile::from_tree("bench", Unit::Samples, tree)],
            frames,
        },
        warnings: Vec::new(),
        base: None,
    }
}

/// Applies `action` (if any) and draws: the time from a key press to its redrawn frame.
fn timed(app: &mut App, terminal: &mut Terminal<TestBackend>, action: Option<Action>) -> Duration {
    let t = Instant::now();
    if let Some(action) = action {
        app.update(action);
    }
    terminal
        .draw(|f| obol::tui::panes::render(app, f))
        .expect("draw");
    t.elapsed()
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let (width, height) = (200, 60);
    let started = Instant::now();
    let mut app = App::new(
        vec![big_profile()],
        Theme::new(ColorSupport::TrueColor),
        Rect::new(0, 0, width, height),
    );
    app.settle();
    eprintln!("app ready in {:?}", started.elapsed());
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test backend");
    for pane in [Pane::TimeOrder, Pane::LeftHeavy, Pane::Sandwich] {
        app.update(Action::ShowPane(pane));
        let frames: Vec<Duration> = (0..30)
            .map(|_| timed(&mut app, &mut terminal, None))
            .collect();
        let keys = [
            Action::Down,
            Action::Right,
            Action::Right,
            Action::Left,
            Action::Up,
        ];
        let presses: Vec<Duration> = (0..30)
            .map(|i| timed(&mut app, &mut terminal, Some(keys[i % keys.len()])))
            .collect();
        println!(
            "{pane:?}: one frame at {width}x{height}: median {:.2} ms; key press to redrawn frame: median {:.2} ms",
            median(frames).as_secs_f64() * 1e3,
            median(presses).as_secs_f64() * 1e3
        );
    }
    app.update(Action::ShowPane(Pane::Sandwich));
    let rows: Vec<Duration> = (0..20)
        .map(|i| {
            timed(
                &mut app,
                &mut terminal,
                Some(if i % 2 == 0 { Action::Down } else { Action::Up }),
            )
        })
        .collect();
    println!(
        "Sandwich: another function selected (callers and callees rebuilt) to redrawn frame: median {:.2} ms",
        median(rows).as_secs_f64() * 1e3
    );
    let zoom: Vec<Duration> = (0..20)
        .map(|i| {
            app.update(Action::ShowPane(Pane::LeftHeavy));
            let action = if i % 2 == 0 {
                Action::Zoom
            } else {
                Action::Back
            };
            timed(&mut app, &mut terminal, Some(action))
        })
        .collect();
    println!(
        "LeftHeavy: zoom or back to redrawn frame: median {:.2} ms",
        median(zoom).as_secs_f64() * 1e3
    );
}
