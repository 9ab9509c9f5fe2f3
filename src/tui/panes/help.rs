//! The help overlay, built from the key table (keys and mouse) so that it cannot disagree with
//! it. As many columns as the width holds, each column as wide as its own keys and
//! descriptions; what does not fit the height scrolls (↑/↓, the wheel).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::widgets::{Block, Borders, Clear, Widget};

use super::flame::fit;
use crate::tui::app::App;
use crate::tui::keymap::help_lines;

/// Columns of help lines: per column its entries and the width of its keys and texts.
struct Layout {
    columns: Vec<(std::ops::Range<usize>, usize, usize)>,
    rows: usize,
}

/// The fewest rows (most columns) whose columns fit `width`.
fn layout(lines: &[(String, &str)], width: usize) -> Layout {
    let chars = |s: &str| s.chars().count();
    let mut best = None;
    for count in (1..=lines.len().max(1)).rev() {
        let rows = lines.len().div_ceil(count).max(1);
        let columns: Vec<_> = (0..lines.len().div_ceil(rows))
            .map(|c| {
                let range = c * rows..((c + 1) * rows).min(lines.len());
                let keys = lines[range.clone()].iter().map(|l| chars(&l.0)).max();
                let texts = lines[range.clone()].iter().map(|l| chars(l.1)).max();
                (range, keys.unwrap_or(0), texts.unwrap_or(0))
            })
            .collect();
        if columns_width(&columns) <= width || count == 1 {
            best = Some(Layout { columns, rows });
            break;
        }
    }
    best.unwrap_or(Layout {
        columns: Vec::new(),
        rows: 0,
    })
}

/// The width of the columns side by side, two spaces apart.
fn columns_width(columns: &[(std::ops::Range<usize>, usize, usize)]) -> usize {
    let cells: usize = columns.iter().map(|(_, k, t)| k + 2 + t).sum();
    cells + 2 * columns.len().saturating_sub(1)
}

/// The help covers the whole screen: at 80×24 every key fits without scrolling.
pub fn area(size: Rect) -> Rect {
    size
}

/// How far the help can scroll in `area`: the rows that do not fit.
pub fn max_scroll(area: Rect) -> usize {
    let inner_height = usize::from(area.height.saturating_sub(2));
    let lines = help_lines();
    let layout = layout(&lines, usize::from(area.width.saturating_sub(2)));
    layout.rows.saturating_sub(inner_height)
}

pub fn render(app: &App, buf: &mut Buffer) {
    let area = area(app.size);
    let theme = &app.theme;
    let lines = help_lines();
    let layout = layout(&lines, usize::from(area.width.saturating_sub(2)));
    let width = (columns_width(&layout.columns) + 2).min(usize::from(area.width)) as u16;
    let height = (layout.rows + 2).min(usize::from(area.height)) as u16;
    let popup = Rect::new(
        area.x + area.width.saturating_sub(width) / 2,
        area.y + area.height.saturating_sub(height) / 2,
        width,
        height,
    );
    Clear.render(popup, buf);
    let inner_height = usize::from(height.saturating_sub(2));
    let scroll = usize::from(app.help_scroll).min(layout.rows.saturating_sub(inner_height));
    let close = crate::tui::keymap::key_label(crate::tui::action::Action::Help);
    let title = if layout.rows > inner_height {
        format!(
            " keys {}–{} of {}: ↑↓ scroll ({close} or Esc closes) ",
            scroll + 1,
            scroll + inner_height,
            layout.rows
        )
    } else {
        format!(" keys and mouse ({close} or Esc closes) ")
    };
    let block = Block::new().borders(Borders::ALL).title(title);
    let inner = block.inner(popup);
    block.render(popup, buf);
    let mut x = usize::from(inner.x);
    for (range, key_width, text_width) in &layout.columns {
        for (row, (keys, description)) in lines[range.clone()].iter().enumerate() {
            let Some(y) = row.checked_sub(scroll).filter(|&r| r < inner_height) else {
                continue;
            };
            let y = inner.y + y as u16;
            let room = usize::from(inner.right()).saturating_sub(x);
            if room == 0 {
                break;
            }
            buf.set_stringn(x as u16, y, fit(keys, room), room, theme.header());
            let text_x = x + key_width + 2;
            let room = usize::from(inner.right()).saturating_sub(text_x);
            if room > 0 {
                buf.set_stringn(
                    text_x as u16,
                    y,
                    fit(description, room.min(*text_width)),
                    room,
                    Style::new(),
                );
            }
        }
        x += key_width + 2 + text_width + 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// At 80×24 every key and description shows whole, without scrolling.
    #[test]
    fn every_line_fits_80_by_24() {
        let lines = help_lines();
        let layout = layout(&lines, 78);
        assert!(columns_width(&layout.columns) <= 78);
        assert!(layout.rows <= 22, "{} rows", layout.rows);
        assert_eq!(max_scroll(area(Rect::new(0, 0, 80, 24))), 0);
        // Narrow: one column, scrolled.
        assert!(max_scroll(area(Rect::new(0, 0, 40, 12))) > 0);
    }
}
