//! The tab bar and the two status lines: what is selected, then the search, prompt, message,
//! work in progress or view options. Everything here reads the view, as the panes do, so the
//! figures agree with the pane's.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;

use super::flame::fit;
use crate::analysis::place::short_file;
use crate::analysis::summary::calls_column;
use crate::profile::{FuncId, NodeId, Unit};
use crate::text::{escape_control, fit_path, middle_ellipsis, signed_percent};
use crate::tui::action::Pane;
use crate::tui::app::{App, Comparison};
use crate::tui::side_by_side::SideBySide;

pub fn tab_bar(app: &App, area: Rect, buf: &mut Buffer) {
    let files = app.files();
    let r = app.profile_ref();
    let file = file_name(&files[r.file].path);
    let set = app.set();
    let count = app.session.profiles.len();
    // Formats without profile names are named after their file: say it once.
    let name = &app.profile().name;
    let which = if app.session.merges() {
        format!(" [all {} threads merged]", set.profiles.len())
    } else {
        match (count > 1, *name == file) {
            (false, _) => String::new(),
            (true, true) => format!(" [{}/{count}]", app.options().current + 1),
            (true, false) => format!(" [{}/{count}] {name}", app.options().current + 1),
        }
    };
    let right = match &app.comparison {
        Comparison::Difference(d) => format!(
            "difference: {} → {}  ? help",
            file_name(&files[d.base_file].path),
            file_name(&files[d.new_file].path)
        ),
        // Two files are a comparison: name both, base first.
        _ if files.len() == 2 => format!(
            "{} ⇄ {}{which}  ? help",
            file_name(&files[0].path),
            file_name(&files[1].path)
        ),
        _ => format!("{file}{which}  ? help"),
    };
    let right = escape_control(&right).into_owned();
    // Where the tabs and the file names do not both fit, the tabs not shown keep their number
    // only.
    let labels: Vec<String> = Pane::ALL
        .iter()
        .enumerate()
        .map(|(i, pane)| {
            let name = match pane {
                Pane::TimeOrder if app.has_time_order() => "Time Order",
                Pane::TimeOrder => "Flamegraph",
                Pane::LeftHeavy => "Left Heavy",
                Pane::Sandwich => "Sandwich",
                Pane::Priority => "Priority",
                Pane::Source => "Source",
            };
            format!(" {} {name} ", i + 1)
        })
        .collect();
    let full: usize = labels.iter().map(|l| l.chars().count() + 1).sum();
    let compact = full + right.chars().count() + 1 > usize::from(area.width);
    let mut x = area.x;
    for (i, (pane, label)) in Pane::ALL.iter().zip(&labels).enumerate() {
        let text = if compact && *pane != app.pane {
            format!(" {} ", i + 1)
        } else {
            label.clone()
        };
        let width = text.chars().count() as u16;
        if x + width > area.right() {
            break;
        }
        buf.set_string(x, area.y, &text, app.theme.tab(*pane == app.pane));
        x += width + 1;
    }
    let room = usize::from(area.right().saturating_sub(x + 1));
    if room > 4 {
        let shown = fit(&right, room);
        let start = area.right() - shown.chars().count() as u16;
        buf.set_string(start, area.y, &shown, Style::new());
    }
}

/// The selected call path on each side: its share of that side's total.
fn side_by_side_text(app: &App, sbs: &SideBySide) -> String {
    let (Some(node), Some((base, new))) = (sbs.base.view.selected, sbs.shares) else {
        return String::new();
    };
    let frames = &app.files()[sbs.base.file].set.frames;
    let Some(frame) = sbs.base.tree.frame(node) else {
        return String::new();
    };
    let name = &frames.frame(frame).name;
    let text = match new {
        Some(new) => format!(
            "{name} · base {:.1}% → new {:.1}% of total · {}",
            100.0 * base,
            100.0 * new,
            signed_percent(new - base)
        ),
        None => format!(
            "{name} · base {:.1}% of total · this call path is not in the new profile",
            100.0 * base
        ),
    };
    escape_control(&text).into_owned()
}

pub fn file_name(path: &std::path::Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// The modes in force, one badge each, on the line above the status line.
pub fn badge_line(app: &App, area: Rect, buf: &mut Buffer) {
    let badges = app.badges();
    if badges.is_empty() {
        return;
    }
    let y = area.bottom().saturating_sub(3);
    let mut x = area.x;
    for badge in badges {
        let room = usize::from(area.right().saturating_sub(x));
        if room < 4 {
            break;
        }
        let text = fit(&format!(" {badge} "), room);
        buf.set_stringn(x, y, &text, room, app.theme.tab(true));
        x += text.chars().count() as u16 + 1;
    }
}

/// Two lines: what is selected, then the search, prompt or message.
pub fn status_line(app: &App, area: Rect, buf: &mut Buffer) {
    badge_line(app, area, buf);
    let width = usize::from(area.width);
    let y = area.bottom().saturating_sub(2);
    buf.set_stringn(
        area.x,
        y,
        fit(&selection_text(app, width), width),
        width,
        app.theme.header(),
    );
    let second = if let Some(prompt) = &app.prompt {
        prompt.line()
    } else if let Some(message) = &app.message {
        message.clone()
    } else if let Some(what) = app.computing {
        format!("computing … {what}  (q quits)")
    } else if let Some(search) = &app.search {
        search.summary(app.pane, app.sandwich.visible.len())
    } else if let Some(line) = app
        .comparing_in_flame()
        .then(|| compare_line(app))
        .flatten()
    {
        line.to_owned()
    } else {
        let profile = app.profile();
        // pstats and callgrind record calls between functions: their table is exact, the
        // stacks the flame panes draw are an estimate, which should not pass for a measurement.
        let estimated =
            profile.estimated_tree && matches!(app.pane, Pane::TimeOrder | Pane::LeftHeavy);
        // A recording being made is kept as speedscope JSON, but is no file read.
        let source = if app.live.is_some() {
            "py-spy live"
        } else {
            app.loaded().format.description()
        };
        format!(
            "{}: {} · total {} · {} frames{}{}",
            source,
            profile.unit,
            profile.unit.format_weight(app.shown_total()),
            app.set().frames.frame_count(),
            if estimated {
                " · stacks estimated"
            } else {
                ""
            },
            if let Some(percent) = app.reading_percent() {
                format!(" · call tree {percent}% read")
            } else if app.building() {
                format!(" · call tree {}% made", app.tree_progress)
            } else {
                String::new()
            }
        )
    };
    let second = escape_control(&second).into_owned();
    buf.set_stringn(area.x, y + 1, fit(&second, width), width, Style::new());
}

/// How to read the comparison in the flame pane.
fn compare_line(app: &App) -> Option<&'static str> {
    match app.comparison {
        Comparison::SideBySide(_) => Some(
            "side by side: keys move on the base (left); the new side follows the same call path · s leaves",
        ),
        Comparison::Difference(_) => Some(
            "difference: red grew, blue shrank (share of each file's total) · widths are the mean of both shares, so vanished frames stay · d leaves",
        ),
        Comparison::Off | Comparison::Computing => None,
    }
}

/// `name · self S (p%) · total T (q%) · N calls · place`, shares of the view's total, fitted
/// to `width`: the place gives way first (shortened in the middle, then left out), then the
/// name (in the middle too), so that the figures stay whole down to 60 columns.
fn describe(
    app: &App,
    name: &str,
    place: Option<(&str, String)>,
    self_w: f64,
    total_w: f64,
    calls: (Option<u64>, Option<u64>),
    width: usize,
) -> String {
    let unit = app.profile().unit;
    let total = app.shown_total();
    let share = |w: f64| if total > 0.0 { 100.0 * w / total } else { 0.0 };
    let root = app.view.as_ref().and_then(|v| v.root.as_deref());
    // py-spy gives its thread frames an empty file and line 0, pstats its built-ins `~`: no
    // place to show.
    let place = match place.filter(|(file, _)| *file != "~") {
        Some((file, lines)) if !file.is_empty() && !lines.is_empty() => {
            format!("{}:{lines}", short_file(file, root))
        }
        Some((file, _)) if !file.is_empty() => short_file(file, root).to_owned(),
        _ => String::new(),
    };
    let calls = match calls {
        (None, _) => String::new(),
        (Some(1), None) => " · 1 call".to_owned(),
        (nc, cc) => format!(" · {} calls", calls_column(nc, cc)),
    };
    let weights = format!(
        " · self {} ({:.1}%) · total {} ({:.1}%)",
        unit.format_weight(self_w),
        share(self_w),
        unit.format_weight(total_w),
        share(total_w),
    );
    let figures = format!("{weights}{calls}");
    let name = escape_control(name);
    let place = escape_control(&place);
    let (name_len, figures_len) = (name.chars().count(), figures.chars().count());
    let place_room = width.saturating_sub(name_len + figures_len + 3);
    // The place where at least its file's own name fits (`…/encoder.py:342`).
    let shown = fit_path(&place, place_room);
    if !shown.is_empty() && (!shown.starts_with('…') || shown.starts_with("…/")) {
        return format!("{name}{figures} · {shown}");
    }
    // No room for the place: the name gives way, then the calls; a figure is never cut.
    const MIN_NAME: usize = 8;
    let figures = if figures_len + MIN_NAME <= width {
        figures
    } else {
        weights
    };
    let name_room = width.saturating_sub(figures.chars().count()).max(MIN_NAME);
    format!("{}{figures}", middle_ellipsis(&name, name_room))
}

/// A function's lines as the view shows them: the span sampled where frames are grouped
/// (`6–12`), else `line`.
fn lines_text(app: &App, func: FuncId, line: Option<u32>) -> String {
    let grouped = app.view.as_ref().filter(|v| v.grouped);
    match grouped.and_then(|v| v.lines_of(func)) {
        Some((lo, hi)) if lo != hi => format!("{lo}–{hi}"),
        Some((lo, _)) => lo.to_string(),
        None => line.map_or_else(String::new, |l| l.to_string()),
    }
}

/// The unit of the time files Priority ranks by (memory files are bytes).
fn time_unit(app: &App) -> Unit {
    app.files()
        .iter()
        .map(|l| l.set.unit())
        .find(|&u| u != Unit::Bytes)
        .unwrap_or_else(|| app.profile().unit)
}

/// A function's calls and primitive calls, from the view's table.
fn calls_of(app: &App, func: FuncId) -> (Option<u64>, Option<u64>) {
    app.view
        .as_ref()
        .and_then(|view| view.table.iter().find(|r| r.func == func))
        .map_or((None, None), |r| (r.calls, r.primitive_calls))
}

/// The selected frame or function: name, file:line, self and total with shares, calls.
fn selection_text(app: &App, width: usize) -> String {
    match (&app.comparison, app.pane) {
        (Comparison::SideBySide(sbs), Pane::TimeOrder | Pane::LeftHeavy) => {
            side_by_side_text(app, sbs)
        }
        (Comparison::Difference(d), Pane::TimeOrder | Pane::LeftHeavy) => d
            .selected_shares()
            .and_then(|(node, base, new, delta)| {
                let frame = d.diff.frames.frame(d.diff.tree.frame(node)?);
                let place = frame
                    .file
                    .filter(|f| !f.is_empty())
                    .map_or_else(String::new, |f| format!(" {f}"));
                Some(
                    escape_control(&format!(
                        "{}{place} · base {:.1}% → new {:.1}% of total · {}",
                        frame.name,
                        100.0 * base,
                        100.0 * new,
                        signed_percent(delta)
                    ))
                    .into_owned(),
                )
            })
            .unwrap_or_default(),
        (Comparison::Difference(d), Pane::Sandwich) => d
            .rows
            .get(d.selected)
            .map(|row| {
                let place = row
                    .file
                    .as_deref()
                    .filter(|f| !f.is_empty())
                    .map_or_else(String::new, |f| format!(" {f}"));
                let percent = |v: Option<f64>| {
                    v.map_or_else(|| "absent".to_owned(), |v| format!("{:.1}%", 100.0 * v))
                };
                // With one unit on both sides, the value before each share.
                let figure = |side: Option<crate::analysis::diff::Side>, share, total: bool| match (
                    d.unit, side,
                ) {
                    (Some(unit), Some(s)) => {
                        let w = if total { s.total_weight } else { s.self_weight };
                        format!("{} ({})", unit.format_weight(w), percent(share))
                    }
                    _ => percent(share),
                };
                escape_control(&format!(
                    "{}{place} · total base {} → new {} ({}) · self base {} → new {} ({})",
                    row.name,
                    figure(row.base, d.share(row, false, true), true),
                    figure(row.new, d.share(row, true, true), true),
                    signed_percent(row.delta_total_share),
                    figure(row.base, d.share(row, false, false), false),
                    figure(row.new, d.share(row, true, false), false),
                    signed_percent(row.delta_self_share),
                ))
                .into_owned()
            })
            .unwrap_or_default(),
        (_, Pane::TimeOrder | Pane::LeftHeavy) => {
            let (Some(view), Some(tree)) = (&app.view, app.tree_for(app.pane)) else {
                return String::new();
            };
            let Some(node) = app.flame(app.pane).selected.filter(|&n| n != NodeId::ROOT) else {
                return String::new();
            };
            let Some(frame) = tree.frame(node) else {
                return String::new();
            };
            let f = app.files()[view.file].set.frames.frame(frame);
            describe(
                app,
                f.name,
                f.file.map(|file| (file, lines_text(app, f.func, f.line))),
                tree.self_weight(node),
                tree.total_weight(node),
                calls_of(app, f.func),
                width,
            )
        }
        (_, Pane::Sandwich) => {
            let Some(view) = &app.view else {
                return String::new();
            };
            let Some(row) = app.sandwich.selected_row(&view.table) else {
                return String::new();
            };
            let f = app.files()[view.file].set.frames.function(row.func);
            describe(
                app,
                f.name,
                f.file.map(|file| (file, lines_text(app, row.func, f.line))),
                row.self_weight,
                row.total_weight,
                (row.calls, row.primitive_calls),
                width,
            )
        }
        (_, Pane::Source) => super::source::status_text(app),
        (_, Pane::Priority) => app
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
                    time_unit(app).format_weight(m.raw.self_time)
                ))
                .into_owned()
            }),
    }
}
