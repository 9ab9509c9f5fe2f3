//! The Sandwich pane in the difference view: every function of both files with its base and
//! new shares and the change, as `obol diff` lists them, and each side's total weight when the
//! two files weigh in one unit.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::flame::fit;
use crate::text::escape_control;
use crate::text::signed_percent;
use crate::tui::difference::{Difference, TableSort};
use crate::tui::theme::Theme;

pub fn render(d: &Difference, area: Rect, theme: &Theme, buf: &mut Buffer) {
    let area = area.intersection(buf.area);
    if area.height < 2 {
        return;
    }
    let width = usize::from(area.width);
    let mark = |s: TableSort| if d.sort == s { "▼" } else { " " };
    // Values beside the shares when both sides are in one unit (two runs of one profiler).
    let value = |side: Option<crate::analysis::diff::Side>| match (d.unit, side) {
        (Some(unit), Some(s)) => format!("{:>9} ", unit.format_weight(s.total_weight)),
        (Some(_), None) => format!("{:>9} ", "-"),
        (None, _) => String::new(),
    };
    let values_header = if d.unit.is_some() {
        format!("{:>9} {:>9} ", "base tot", "new tot")
    } else {
        String::new()
    };
    let header = format!(
        "{:>6} {:>6} {:>7}{} {:>6} {:>6} {:>7}{}  {values_header}function{}",
        "base",
        "new",
        "Δtotal",
        mark(TableSort::TotalShare),
        "base",
        "new",
        "Δself",
        mark(TableSort::SelfShare),
        mark(TableSort::Name),
    );
    buf.set_stringn(area.x, area.y, fit(&header, width), width, theme.header());
    let percent =
        |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{:.1}%", 100.0 * v));
    let rows = usize::from(area.height - 1);
    for (line, (index, row)) in d
        .rows
        .iter()
        .enumerate()
        .skip(d.offset)
        .take(rows)
        .enumerate()
    {
        // Each side's share of its own total; an absent side is "-".
        let (base_total, new_total) = (d.share(row, false, true), d.share(row, true, true));
        let (base_self, new_self) = (d.share(row, false, false), d.share(row, true, false));
        let text = format!(
            "{:>6} {:>6} {:>7}  {:>6} {:>6} {:>7}   {}{}{}",
            percent(base_total),
            percent(new_total),
            signed_percent(row.delta_total_share),
            percent(base_self),
            percent(new_self),
            signed_percent(row.delta_self_share),
            value(row.base),
            value(row.new),
            escape_control(&row.name)
        );
        let style = if index == d.selected {
            theme.selected()
        } else {
            theme.delta(
                row.delta_total_share / d.largest.max(f64::MIN_POSITIVE),
                false,
            )
        };
        buf.set_stringn(
            area.x,
            area.y + 1 + line as u16,
            fit(&text, width),
            width,
            style,
        );
    }
}
