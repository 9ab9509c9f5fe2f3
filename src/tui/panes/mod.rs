//! Drawing: the tab bar, the pane shown, the status line and overlays. Reads the app's state
//! and never changes it.

pub mod difference;
pub mod flame;
pub mod help;
pub mod priority;
pub mod sandwich;

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::widgets::Paragraph;

use super::action::Pane;
use super::app::{App, MIN_HEIGHT, MIN_WIDTH};
use crate::profile::NodeId;
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
        return;
    }
    let buf = frame.buffer_mut();
    tab_bar(app, area, buf);
    match app.pane {
        Pane::TimeOrder | Pane::LeftHeavy if app.side_by_side.is_some() => {
            if let Some(sbs) = &app.side_by_side {
                for (label, side) in [("base", &sbs.base), ("new", &sbs.new)] {
                    let area = side.view.area;
                    let title = format!("{label}: {}", file_name(&app.files[side.file].path));
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
                        frames: &app.files[side.file].set.frames,
                        theme: &app.theme,
                        heat: app.heat,
                        matches: None,
                        deltas: None,
                    };
                    flame::render(&side.view, &paint, buf);
                }
            }
        }
        Pane::TimeOrder | Pane::LeftHeavy if app.difference.is_some() => {
            if let Some(d) = &app.difference {
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
        }
        Pane::TimeOrder | Pane::LeftHeavy => {
            let view = if app.pane == Pane::TimeOrder {
                &app.time_order
            } else {
                &app.left_heavy
            };
            let paint = Paint {
                tree: app.tree_for(app.pane),
                frames: &app.set().frames,
                theme: &app.theme,
                heat: app.heat,
                matches: app.search.as_ref().map(|s| s.frame_matches.as_slice()),
                deltas: None,
            };
            flame::render(view, &paint, buf);
        }
        Pane::Sandwich if app.difference.is_some() => {
            if let Some(d) = &app.difference {
                difference::render(d, app.body(), &app.theme, buf);
            }
        }
        Pane::Sandwich => {
            let profile = app.profile();
            sandwich::render(
                &app.sandwich,
                app.set(),
                profile.unit,
                profile.total,
                &app.theme,
                app.heat,
                buf,
            );
        }
        Pane::Priority => {
            if let Some(view) = &app.priority {
                priority::render(view, &app.theme, buf);
            }
        }
    }
    status_line(app, area, buf);
    if app.help {
        help::render(app.body(), &app.theme, buf);
    }
}

fn tab_bar(app: &App, area: Rect, buf: &mut Buffer) {
    let mut x = area.x;
    for (i, pane) in Pane::ALL.iter().enumerate() {
        let name = match pane {
            Pane::TimeOrder if app.has_time_order() => "Time Order",
            Pane::TimeOrder => "Flamegraph",
            Pane::LeftHeavy => "Left Heavy",
            Pane::Sandwich => "Sandwich",
            Pane::Priority => "Priority",
        };
        let text = format!(" {} {name} ", i + 1);
        let width = text.chars().count() as u16;
        if x + width > area.right() {
            break;
        }
        buf.set_string(x, area.y, &text, app.theme.tab(*pane == app.pane));
        x += width + 1;
    }
    let r = app.profile_ref();
    let file = app.files[r.file].path.file_name().map_or_else(
        || app.files[r.file].path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    // Formats without profile names are named after their file: say it once.
    let name = &app.profile().name;
    let which = match (app.profiles.len() > 1, *name == file) {
        (false, _) => String::new(),
        (true, true) => format!(" [{}/{}]", app.current + 1, app.profiles.len()),
        (true, false) => format!(" [{}/{}] {name}", app.current + 1, app.profiles.len()),
    };
    let right = match &app.difference {
        Some(d) => format!(
            "difference: {} → {}  ? help",
            file_name(&app.files[d.base_file].path),
            file_name(&app.files[d.new_file].path)
        ),
        // Two files are a comparison: name both, base first.
        None if app.files.len() == 2 => format!(
            "{} ⇄ {}{which}  ? help",
            file_name(&app.files[0].path),
            file_name(&app.files[1].path)
        ),
        None => format!("{file}{which}  ? help"),
    };
    let right = escape_control(&right).into_owned();
    let room = usize::from(area.right().saturating_sub(x + 1));
    if room > 4 {
        let shown = fit(&right, room);
        let start = area.right() - shown.chars().count() as u16;
        buf.set_string(start, area.y, &shown, Style::new());
    }
}

/// The selected call path on each side: its share of that side's total.
fn side_by_side_text(app: &App, sbs: &super::side_by_side::SideBySide) -> String {
    let (Some(node), Some((base, new))) = (sbs.base.view.selected, sbs.shares) else {
        return String::new();
    };
    let frames = &app.files[sbs.base.file].set.frames;
    let Some(frame) = sbs.base.tree.frame(node) else {
        return String::new();
    };
    let name = &frames.frame(frame).name;
    let text = match new {
        Some(new) => format!(
            "{name} · base {:.1}% → new {:.1}% of total · {}",
            100.0 * base,
            100.0 * new,
            crate::text::signed_percent(new - base)
        ),
        None => format!(
            "{name} · base {:.1}% of total · this call path is not in the new profile",
            100.0 * base
        ),
    };
    escape_control(&text).into_owned()
}

fn file_name(path: &std::path::Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Two lines: what is selected, then the search, prompt or message.
fn status_line(app: &App, area: Rect, buf: &mut Buffer) {
    let width = usize::from(area.width);
    let y = area.bottom().saturating_sub(2);
    buf.set_stringn(
        area.x,
        y,
        fit(&selection_text(app), width),
        width,
        app.theme.header(),
    );
    let second = if let Some(prompt) = &app.prompt {
        prompt.line()
    } else if let Some(message) = &app.message {
        message.clone()
    } else if let Some(search) = &app.search {
        format!(
            "/{}: {} matches, {:.1}% of total  (n/N next/previous, Esc in Sandwich clears)",
            search.regex.as_str(),
            search.count,
            100.0 * search.share
        )
    } else if app.side_by_side.is_some() && matches!(app.pane, Pane::TimeOrder | Pane::LeftHeavy) {
        "side by side: keys move on the base (left); the new side follows the same call path · s leaves".to_owned()
    } else if app.difference.is_some() && matches!(app.pane, Pane::TimeOrder | Pane::LeftHeavy) {
        "difference: red grew, blue shrank (share of each file's total) · widths are the mean of both shares, so vanished frames stay · d leaves".to_owned()
    } else if let Some(view) = view_options_line(app) {
        view
    } else {
        let file = &app.files[app.profile_ref().file];
        let profile = app.profile();
        format!(
            "{}: {} · total {} · {} frames",
            file.format.description(),
            profile.unit,
            profile.unit.format_weight(profile.total),
            app.set().frames.frame_count()
        )
    };
    let second = escape_control(&second).into_owned();
    buf.set_stringn(area.x, y + 1, fit(&second, width), width, Style::new());
}

/// The view options in force, if any: what the picture leaves out.
fn view_options_line(app: &App) -> Option<String> {
    let o = &app.options;
    let mut parts = Vec::new();
    if let Some(func) = o.focus {
        parts.push(format!(
            "focused on {} (Esc leaves)",
            app.set().frames.function(func).name
        ));
    }
    match &o.hidden {
        Some(super::trees::Hidden::Library) => parts.push(format!(
            "only my code: library frames hidden, {:.1}% of the total given to their callers (H shows all)",
            100.0 * app.trees.hidden_share
        )),
        Some(super::trees::Hidden::Matching(re)) => parts.push(format!(
            "hiding /{}/: {:.1}% of the total given to callers (H shows all)",
            re.as_str(),
            100.0 * app.trees.hidden_share
        )),
        None => {}
    }
    if o.collapse_recursion {
        parts.push("recursion collapsed (r)".into());
    }
    if o.merge_threads {
        parts.push("all threads merged (t)".into());
    }
    (!parts.is_empty()).then(|| parts.join(" · "))
}

/// The selected frame or function: name, file:line, self and total with shares, calls.
fn selection_text(app: &App) -> String {
    let set = app.set();
    let profile = app.profile();
    let unit = profile.unit;
    let total = app.shown_total();
    let share = |w: f64| if total > 0.0 { 100.0 * w / total } else { 0.0 };
    let describe = |name: &str,
                    file: Option<&str>,
                    line: Option<u32>,
                    self_w: f64,
                    total_w: f64,
                    calls: Option<u64>| {
        // py-spy gives its thread frames an empty file and line 0: no place to show.
        let place = match (file.filter(|f| !f.is_empty()), line) {
            (Some(f), Some(l)) => format!(" {f}:{l}"),
            (Some(f), None) => format!(" {f}"),
            _ => String::new(),
        };
        let calls = calls.map_or_else(String::new, |c| format!(" · {c} calls"));
        escape_control(&format!(
            "{name}{place} · self {} ({:.1}%) · total {} ({:.1}%){calls}",
            unit.format_weight(self_w),
            share(self_w),
            unit.format_weight(total_w),
            share(total_w),
        ))
        .into_owned()
    };
    match app.pane {
        Pane::TimeOrder | Pane::LeftHeavy if app.side_by_side.is_some() => app
            .side_by_side
            .as_ref()
            .map(|sbs| side_by_side_text(app, sbs))
            .unwrap_or_default(),
        Pane::TimeOrder | Pane::LeftHeavy if app.difference.is_some() => app
            .difference
            .as_ref()
            .and_then(|d| {
                let (node, base, new, delta) = d.selected_shares()?;
                let frame = d.diff.frames.frame(d.diff.tree.frame(node)?);
                let place = frame
                    .file
                    .as_deref()
                    .filter(|f| !f.is_empty())
                    .map_or_else(String::new, |f| format!(" {f}"));
                Some(
                    escape_control(&format!(
                        "{}{place} · base {:.1}% → new {:.1}% of total · {}",
                        frame.name,
                        100.0 * base,
                        100.0 * new,
                        crate::text::signed_percent(delta)
                    ))
                    .into_owned(),
                )
            })
            .unwrap_or_default(),
        Pane::TimeOrder | Pane::LeftHeavy => {
            let view = if app.pane == Pane::TimeOrder {
                &app.time_order
            } else {
                &app.left_heavy
            };
            let tree = app.tree_for(app.pane);
            let Some(node) = view.selected.filter(|&n| n != NodeId::ROOT) else {
                return String::new();
            };
            let Some(frame) = tree.frame(node) else {
                return String::new();
            };
            let f = set.frames.frame(frame);
            let calls = profile
                .function_stats
                .as_ref()
                .and_then(|s| s.iter().find(|st| st.func == f.func))
                .and_then(|st| st.calls);
            describe(
                &f.name,
                f.file.as_deref(),
                f.line,
                tree.self_weight(node),
                tree.total_weight(node),
                calls,
            )
        }
        Pane::Sandwich if app.difference.is_some() => app
            .difference
            .as_ref()
            .and_then(|d| {
                let row = d.rows.get(d.selected)?;
                let place = row
                    .file
                    .as_deref()
                    .filter(|f| !f.is_empty())
                    .map_or_else(String::new, |f| format!(" {f}"));
                let percent = |v: Option<f64>| {
                    v.map_or_else(|| "absent".to_owned(), |v| format!("{:.1}%", 100.0 * v))
                };
                Some(
                    escape_control(&format!(
                        "{}{place} · total base {} → new {} ({}) · self base {} → new {} ({})",
                        row.name,
                        percent(d.share(row, false, true)),
                        percent(d.share(row, true, true)),
                        crate::text::signed_percent(row.delta_total_share),
                        percent(d.share(row, false, false)),
                        percent(d.share(row, true, false)),
                        crate::text::signed_percent(row.delta_self_share),
                    ))
                    .into_owned(),
                )
            })
            .unwrap_or_default(),
        Pane::Sandwich => {
            let Some(row) = app
                .sandwich
                .visible
                .get(app.sandwich.selected)
                .map(|&i| &app.sandwich.rows[i])
            else {
                return String::new();
            };
            let f = set.frames.function(row.func);
            describe(
                &f.name,
                f.file.as_deref(),
                f.line,
                row.self_weight,
                row.total_weight,
                row.calls,
            )
        }
        Pane::Priority => app
            .priority
            .as_ref()
            .and_then(|p| p.report.modules.get(p.selected))
            .map_or_else(String::new, |m| {
                escape_control(&format!(
                    "{} · {} · score {:.3} · boost ×{:.3} · self time {}",
                    m.module,
                    m.tier,
                    m.score,
                    m.boost,
                    unit.format_weight(m.raw.self_time)
                ))
                .into_owned()
            }),
    }
}
