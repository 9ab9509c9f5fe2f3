//! Drawing: the tab bar, the pane shown, the status line and overlays. Reads the app's state
//! and never changes it.

pub mod building;
pub mod difference;
pub mod flame;
pub mod help;
pub mod priority;
pub mod sandwich;
pub mod source;
pub mod status;

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::widgets::Paragraph;

use super::action::Pane;
use super::app::{App, Comparison, MIN_HEIGHT, MIN_WIDTH};
use crate::text::escape_control;
use flame::{Paint, fit};

pub fn render(app: &App, frame: &mut Frame<'_>) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let text = format!(
            "terminal too small: {}×{}, obol needs {MIN_WIDTH}×{MIN_HEIGHT}",
            area.width, area.height
        );
        frame.render_widget(
            Paragraph::new(text).wrap(ratatui::widgets::Wrap { trim: true }),
            area,
        );
        if app.theme.ascii {
            asciify(frame.buffer_mut());
        }
        return;
    }
    // Laid out for another size (a resize not read yet): draw nothing rather than draw
    // outside; the loop lays out again and redraws.
    if area.width != app.size.width || area.height != app.size.height {
        return;
    }
    let buf = frame.buffer_mut();
    status::tab_bar(app, area, buf);
    match (&app.comparison, app.pane) {
        (Comparison::SideBySide(sbs), Pane::TimeOrder | Pane::LeftHeavy) => {
            for (label, side) in [("base", &sbs.base), ("new", &sbs.new)] {
                let area = side.view.area;
                let title = format!(
                    "{label}: {}",
                    status::file_name(&app.files()[side.file].path)
                );
                let title = escape_control(&title).into_owned();
                if area.y > 0 {
                    buf.set_stringn(
                        area.x,
                        area.y - 1,
                        fit(&title, usize::from(area.width)),
                        usize::from(area.width),
                        app.theme.header(),
                    );
                }
                let paint = Paint {
                    tree: &side.tree,
                    frames: &app.files()[side.file].set.frames,
                    theme: &app.theme,
                    heat: app.heat,
                    matches: None,
                    deltas: None,
                };
                flame::render(&side.view, &paint, buf);
            }
        }
        (Comparison::Difference(d), Pane::TimeOrder | Pane::LeftHeavy) => {
            let paint = Paint {
                tree: &d.diff.tree,
                frames: &d.diff.frames,
                theme: &app.theme,
                heat: false,
                matches: None,
                deltas: Some((&d.deltas, d.largest)),
            };
            flame::render(&d.view, &paint, buf);
        }
        (Comparison::Computing, Pane::TimeOrder | Pane::LeftHeavy) => {
            computing(app, buf, "comparing the two files")
        }
        (Comparison::Difference(d), Pane::Sandwich) => {
            difference::render(d, app.body(), &app.theme, buf);
        }
        (_, Pane::Priority) if app.waits_for_trees(Pane::Priority) => {
            if let Some(view) = &app.view {
                building::render(app, view, buf);
            }
        }
        (_, Pane::Priority) => match &app.priority {
            Some(view) => priority::render(view, &app.theme, buf),
            None => computing(app, buf, "ranking modules"),
        },
        (_, pane) => match &app.view {
            None => computing(app, buf, app.computing.unwrap_or("the view")),
            Some(view) => {
                let frames = &app.files()[view.file].set.frames;
                if app.waits_for_trees(pane) {
                    building::render(app, view, buf);
                } else if pane == Pane::Sandwich {
                    sandwich::render(
                        &app.sandwich,
                        view,
                        &app.files()[view.file].set,
                        app.profile().unit,
                        &app.theme,
                        app.heat,
                        buf,
                    );
                } else if pane == Pane::Source && app.source.pending.is_some() {
                    computing(app, buf, "reading the function's lines");
                } else if pane == Pane::Source {
                    source::render(app, buf);
                } else if let Some(tree) = app.tree_for(pane) {
                    let paint = Paint {
                        tree,
                        frames,
                        theme: &app.theme,
                        heat: app.heat,
                        matches: app.search.as_ref().map(|s| s.frame_matches.as_slice()),
                        deltas: None,
                    };
                    flame::render(app.flame(pane), &paint, buf);
                }
            }
        },
    }
    status::status_line(app, area, buf);
    if app.help {
        help::render(app, buf);
    }
    if app.theme.ascii {
        asciify(buf);
    }
}

/// Replaces every symbol outside ASCII with its nearest ASCII character, for a terminal whose
/// locale is not UTF-8: done once, on the finished frame, so that no pane can forget it.
pub fn asciify(buf: &mut Buffer) {
    for cell in &mut buf.content {
        if !cell.symbol().is_ascii() {
            let ascii = crate::tui::theme::ascii_symbol(cell.symbol());
            cell.set_symbol(ascii);
        }
    }
}

/// The body while the view is computed: what, and that q still quits.
fn computing(app: &App, buf: &mut Buffer, what: &str) {
    let body = app.body();
    let text = format!("computing … {what}  (q quits)");
    let y = body.y + body.height / 2;
    let width = usize::from(body.width);
    let shown = fit(&text, width);
    let x = body.x + (body.width.saturating_sub(shown.chars().count() as u16)) / 2;
    buf.set_stringn(x, y, &shown, width, app.theme.header());
}
