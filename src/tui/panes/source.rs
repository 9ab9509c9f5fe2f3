//! The Source pane: the selected function's file, each line with its self and total weight
//! (value and share of the view's total) and a heat bar; the file's other hot lines marked
//! dimmer; for pstats, each callee's edge under the line that calls it.

use ratatui::buffer::Buffer;
use ratatui::style::{Modifier, Style};

use super::flame::fit;
use crate::analysis::edges::Edge;
use crate::analysis::source_lines::printable;
use crate::profile::{ProfileSet, Unit};
use crate::text::{bar, escape_control};
use crate::tui::app::App;
use crate::tui::source::{Row, SourceView};

const BAR: usize = 8;

fn share(weight: f64, total: f64) -> String {
    if total > 0.0 {
        format!("{:5.1}%", 100.0 * weight / total)
    } else {
        "     -".into()
    }
}

/// `value share%` in a column of fixed width, or blank.
fn figure(unit: Unit, weight: Option<f64>, total: f64) -> String {
    match weight {
        Some(w) if w != 0.0 => format!("{:>8}{}", unit.format_weight(w), share(w, total)),
        _ => format!("{:>14}", ""),
    }
}

/// `value (share%)`, zero included.
fn value(unit: Unit, weight: f64, total: f64) -> String {
    format!(
        "{} ({})",
        unit.format_weight(weight),
        share(weight, total).trim()
    )
}

fn calls_cell(edge: &Edge) -> String {
    match (edge.calls, edge.primitive_calls) {
        (Some(n), Some(p)) if n != p => format!("{n}/{p}"),
        (Some(n), _) => n.to_string(),
        (None, _) => "-".into(),
    }
}

fn edge_text(set: &ProfileSet, unit: Unit, edge: &Edge) -> String {
    format!(
        "{} calls  tottime {}  cumtime {}  {}",
        calls_cell(edge),
        unit.format_weight(edge.self_weight),
        unit.format_weight(edge.total_weight),
        set.frames.function(edge.func).pstats_label()
    )
}

pub fn render(app: &App, buf: &mut Buffer) {
    let view = &app.source;
    let body = app.body();
    let width = usize::from(body.width);
    let (Some(a), Some(shown)) = (&view.annotation, view.shown) else {
        let text = if app.view.is_some() {
            "no function to show: select one in another pane"
        } else {
            "computing …"
        };
        buf.set_stringn(body.x, body.y, text, width, app.theme.header());
        return;
    };
    let set = &app.files()[shown.file].set;
    let unit = app.profile().unit;
    let total = app.shown_total();
    let function = set.frames.function(shown.func);
    let (self_all, total_all) = a
        .lines
        .values()
        .fold((a.unlined.0, a.unlined.1), |(s, t), f| {
            (s + f.self_weight, t + f.total_weight)
        });
    let place = match (&a.path, &a.file, &a.missing) {
        (_, Some(file), Some(reason)) => {
            format!("{file}: source {reason}; the sampled lines without their text")
        }
        // Found under a source root: the name the profile gives is the shorter one to read.
        (Some(path), Some(file), None)
            if app.session.source_roots.iter().any(|r| path.starts_with(r)) =>
        {
            file.clone()
        }
        (Some(path), _, None) => path.display().to_string(),
        _ => String::new(),
    };
    let header = if a.stated {
        format!(
            "{}  {place}  (callees as print_callees gives them)",
            function.name
        )
    } else {
        format!(
            "{}  {place}  self {} total {}",
            function.name,
            value(unit, self_all, total),
            value(unit, total_all, total)
        )
    };
    buf.set_stringn(
        body.x,
        body.y,
        fit(&escape_control(&header), width),
        width,
        app.theme.header(),
    );
    let area = view.area;
    let dim = Style::new().add_modifier(Modifier::DIM);
    for (i, row) in view
        .rows
        .iter()
        .enumerate()
        .skip(view.offset)
        .take(usize::from(area.height))
    {
        let y = area.y + (i - view.offset) as u16;
        let selected = i == view.selected;
        let (line, text, style, bar_style, bar_text) = match *row {
            Row::Line(n) => {
                let figures = a.lines.get(&n);
                let inside = a
                    .extent
                    .map_or(figures.is_some(), |(lo, hi)| (lo..=hi).contains(&n));
                let text = a.text_of(n).map(printable).unwrap_or_default();
                let other = view.others.get(&n).copied().filter(|_| figures.is_none());
                let (cols, bar_style, bar_text) = match (figures, other) {
                    (Some(f), _) if !a.stated => {
                        let heat = if view.hottest > 0.0 {
                            f.total_weight / view.hottest
                        } else {
                            0.0
                        };
                        (
                            format!(
                                "{} {}",
                                figure(unit, Some(f.self_weight), total),
                                figure(unit, Some(f.total_weight), total)
                            ),
                            app.theme.heat(heat, false),
                            bar(Some(heat), BAR),
                        )
                    }
                    // Another function's hot line in the same file: its self weight, dimmer.
                    (None, Some(w)) => (
                        format!(
                            "{} {}",
                            figure(unit, Some(w), total),
                            figure(unit, None, total)
                        ),
                        dim,
                        bar(
                            Some(if view.hottest > 0.0 {
                                w / view.hottest
                            } else {
                                0.0
                            }),
                            BAR,
                        ),
                    ),
                    _ => (
                        format!(
                            "{} {}",
                            figure(unit, None, total),
                            figure(unit, None, total)
                        ),
                        Style::new(),
                        " ".repeat(BAR),
                    ),
                };
                let style = match (other.is_some(), inside) {
                    (true, _) => dim,
                    (false, true) => Style::new(),
                    (false, false) => dim,
                };
                let cols = if a.stated {
                    String::new()
                } else {
                    format!("{cols} ")
                };
                (cols, format!("{n:>6} │ {text}"), style, bar_style, bar_text)
            }
            Row::Edge { line, index } => {
                let edge = a.lines.get(&line).and_then(|f| f.edges.get(index));
                let text = edge.map_or_else(String::new, |e| edge_text(set, unit, e));
                (
                    String::new(),
                    format!("{:>6} │   ↳ {}", "", escape_control(&text)),
                    Style::new().add_modifier(Modifier::ITALIC),
                    Style::new(),
                    " ".repeat(BAR),
                )
            }
            Row::Unplaced(index) => {
                let text = a
                    .unplaced
                    .get(index)
                    .map_or_else(String::new, |e| edge_text(set, unit, e));
                (
                    String::new(),
                    format!("{:>6} │ (no line found) {}", "", escape_control(&text)),
                    Style::new().add_modifier(Modifier::ITALIC),
                    Style::new(),
                    " ".repeat(BAR),
                )
            }
        };
        let row_style = |s: Style| {
            if selected { app.theme.selected() } else { s }
        };
        let x = area.x;
        let w = usize::from(area.width);
        buf.set_stringn(x, y, &line, w, row_style(style));
        let bar_x = x + line.chars().count() as u16;
        if !a.stated && usize::from(bar_x - x) < w {
            buf.set_stringn(bar_x, y, &bar_text, w - usize::from(bar_x - x), bar_style);
        }
        // pstats has no figures per line: no columns for them.
        let bar_width = if a.stated { 0 } else { BAR as u16 };
        let text_x = bar_x + bar_width;
        if usize::from(text_x - x) < w {
            let room = w - usize::from(text_x - x);
            buf.set_stringn(text_x, y, fit(&text, room), room, row_style(style));
        }
        if selected && usize::from(text_x - x) + text.chars().count() < w {
            // The selection spans the row's width.
            let end = text_x + text.chars().count() as u16;
            let pad = w.saturating_sub(usize::from(end - x));
            buf.set_stringn(end, y, " ".repeat(pad), pad, app.theme.selected());
        }
    }
}

/// The status line in the Source pane: the selected line's figures and where Enter goes.
pub fn status_text(app: &App) -> String {
    let view: &SourceView = &app.source;
    let (Some(a), Some(shown), Some(line)) = (&view.annotation, view.shown, view.selected_line())
    else {
        return String::new();
    };
    let set = &app.files()[shown.file].set;
    let unit = app.profile().unit;
    let total = app.shown_total();
    let name = &set.frames.function(shown.func).name;
    let mut text = format!("{name} line {line}");
    if let Some(f) = a.lines.get(&line) {
        if !a.stated {
            text.push_str(&format!(
                " · self {} · total {}",
                value(unit, f.self_weight, total),
                value(unit, f.total_weight, total)
            ));
        }
        let callees: Vec<String> = f
            .callees
            .iter()
            .take(3)
            .map(|&(func, w)| {
                format!(
                    "{} {}",
                    set.frames.function(func).name,
                    unit.format_weight(w)
                )
            })
            .collect();
        if !callees.is_empty() {
            text.push_str(&format!(
                " · calls {} · Enter: its source",
                callees.join(", ")
            ));
        }
    } else if let Some(w) = view.others.get(&line) {
        text.push_str(&format!(
            " · other functions' self {}",
            value(unit, *w, total)
        ));
    }
    escape_control(&text).into_owned()
}
