//! The help overlay, built from the key table so that it cannot disagree with it.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::widgets::{Block, Borders, Clear, Widget};

use crate::tui::keymap::help_lines;
use crate::tui::theme::Theme;

pub fn render(area: Rect, theme: &Theme, buf: &mut Buffer) {
    let lines = help_lines();
    let key_width = lines
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let width = (key_width + 4 + lines.iter().map(|(_, d)| d.len()).max().unwrap_or(0)) as u16 + 4;
    let height = lines.len() as u16 + 2;
    let popup = Rect::new(
        area.x + area.width.saturating_sub(width) / 2,
        area.y + area.height.saturating_sub(height) / 2,
        width.min(area.width),
        height.min(area.height),
    );
    Clear.render(popup, buf);
    let block = Block::new()
        .borders(Borders::ALL)
        .title(" keys (? or Esc closes) ");
    let inner = block.inner(popup);
    block.render(popup, buf);
    for (i, (keys, description)) in lines.iter().enumerate().take(usize::from(inner.height)) {
        let y = inner.y + i as u16;
        buf.set_stringn(
            inner.x + 1,
            y,
            keys,
            usize::from(inner.width),
            theme.header(),
        );
        let x = inner.x + 1 + key_width as u16 + 2;
        if x < inner.right() {
            buf.set_stringn(
                x,
                y,
                *description,
                usize::from(inner.right() - x),
                Style::new(),
            );
        }
    }
}
