//! The help overlay, built from the key table so that it cannot disagree with it.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::widgets::{Block, Borders, Clear, Widget};

use super::flame::fit;
use crate::tui::keymap::help_lines;
use crate::tui::theme::Theme;

pub fn render(area: Rect, theme: &Theme, buf: &mut Buffer) {
    let lines = help_lines();
    let key_width = lines
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let text_width = lines
        .iter()
        .map(|(_, d)| d.chars().count())
        .max()
        .unwrap_or(0);
    let column_width = key_width + 2 + text_width + 2;
    // As many columns as the height needs, so that every key shows even at 80×24.
    let rows_available = usize::from(area.height.saturating_sub(2)).max(1);
    let columns = lines.len().div_ceil(rows_available).max(1);
    let rows = lines.len().div_ceil(columns);
    let width = (column_width * columns + 2).min(usize::from(area.width)) as u16;
    let height = (rows + 2).min(usize::from(area.height)) as u16;
    let popup = Rect::new(
        area.x + area.width.saturating_sub(width) / 2,
        area.y + area.height.saturating_sub(height) / 2,
        width,
        height,
    );
    Clear.render(popup, buf);
    let block = Block::new()
        .borders(Borders::ALL)
        .title(" keys (? or Esc closes) ");
    let inner = block.inner(popup);
    block.render(popup, buf);
    let cell_width = usize::from(inner.width) / columns;
    for (i, (keys, description)) in lines.iter().enumerate() {
        let (column, row) = (i / rows, i % rows);
        if row >= usize::from(inner.height) {
            continue;
        }
        let x = inner.x + (column * cell_width) as u16;
        let y = inner.y + row as u16;
        let keys_shown = fit(keys, key_width.min(cell_width));
        buf.set_stringn(x, y, &keys_shown, cell_width, theme.header());
        let text_x = x + key_width as u16 + 2;
        let room = (x as usize + cell_width).saturating_sub(text_x as usize + 1);
        if room > 0 {
            buf.set_stringn(text_x, y, fit(description, room), room, Style::new());
        }
    }
}
