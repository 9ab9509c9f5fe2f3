//! A pane that needs the call trees while they are still being read or made (the view shown is
//! its table alone): how far they are, and meanwhile the heaviest functions by self time, from the
//! table the file's own figures made, so that the first frame already says where time went.

use ratatui::buffer::Buffer;

use super::flame::fit;
use crate::text::escape_control;
use crate::tui::app::App;
use crate::tui::view::View;

pub fn render(app: &App, view: &View, buf: &mut Buffer) {
    let body = app.body().intersection(buf.area);
    if body.height == 0 {
        return;
    }
    let width = usize::from(body.width);
    let mut line = |row: u16, text: &str, style| {
        if row < body.height {
            buf.set_stringn(body.x, body.y + row, fit(text, width), width, style);
        }
    };
    let (doing, percent) = match app.reading_percent() {
        Some(percent) => ("reading", percent),
        None => ("building", app.tree_progress),
    };
    line(
        0,
        &format!(
            "{doing} the call tree … {percent}%  (3: the function table, ready now · q quits)"
        ),
        app.theme.header(),
    );
    line(
        2,
        "Heaviest functions meanwhile:   self %   total %   function",
        app.theme.header(),
    );
    let set = &app.files()[view.file].set;
    let share = |w: f64| {
        if view.total > 0.0 {
            100.0 * w / view.total
        } else {
            0.0
        }
    };
    let rows = usize::from(body.height.saturating_sub(3));
    for (i, row) in view.table.iter().take(rows).enumerate() {
        let function = set.frames.function(row.func);
        let place = function
            .file
            .filter(|f| !f.is_empty())
            .map_or_else(String::new, |f| format!("  {f}"));
        let text = format!(
            "{:>40.2} {:>9.2}   {}{place}",
            share(row.self_weight),
            share(row.total_weight),
            function.name
        );
        line(
            3 + i as u16,
            &escape_control(&text),
            ratatui::style::Style::new(),
        );
    }
}
