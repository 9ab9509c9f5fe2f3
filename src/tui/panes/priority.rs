//! The Priority pane: the `obol priority` table with a bar per factor, tier and reasons.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;

use super::flame::fit;
use crate::analysis::priority::{PriorityReport, of_known};
use crate::import::Loaded;
use crate::profile::Unit;
use crate::text::{bar, escape_control};
use crate::tui::session::FunctionRef;
use crate::tui::theme::Theme;

#[derive(Debug, Clone)]
pub struct PriorityView {
    pub report: PriorityReport,
    /// Per row: its module's heaviest function, named by the session's file it belongs to.
    pub targets: Vec<Option<FunctionRef>>,
    pub selected: usize,
    pub offset: usize,
    pub area: Rect,
}

impl PriorityView {
    /// The report's rows name a function by its place among the time files only (memory files
    /// are left out of that list): each is turned here into the session's own file.
    pub fn new(report: PriorityReport, files: &[Loaded]) -> PriorityView {
        let time_files: Vec<usize> = files
            .iter()
            .enumerate()
            .filter(|(_, l)| l.set.unit() != Unit::Bytes)
            .map(|(i, _)| i)
            .collect();
        let targets = report
            .modules
            .iter()
            .map(|m| {
                let (time_file, func) = m.heaviest_function?;
                let file = *time_files.get(time_file)?;
                let known = (func.0 as usize) < files[file].set.frames.function_count();
                known.then_some(FunctionRef { file, func })
            })
            .collect();
        PriorityView {
            report,
            targets,
            selected: 0,
            offset: 0,
            area: Rect::default(),
        }
    }

    /// The selected row's heaviest function.
    pub fn selected_target(&self) -> Option<FunctionRef> {
        self.targets.get(self.selected).copied().flatten()
    }

    pub fn move_by(&mut self, delta: isize) {
        let last = self.report.modules.len().saturating_sub(1) as isize;
        self.selected = (self.selected as isize + delta).clamp(0, last.max(0)) as usize;
        self.keep_visible();
    }

    pub fn relayout(&mut self, area: Rect) {
        self.area = area;
        self.keep_visible();
    }

    fn keep_visible(&mut self) {
        let rows = usize::from(self.area.height.saturating_sub(2)).max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + rows {
            self.offset = self.selected + 1 - rows;
        }
    }
}

pub fn render(view: &PriorityView, theme: &Theme, buf: &mut Buffer) {
    let area = view.area.intersection(buf.area);
    if area.height < 2 {
        return;
    }
    let width = usize::from(area.width);
    let report = &view.report;
    let source = match report.graph_source {
        crate::analysis::priority::GraphSource::Imports => "imports",
        crate::analysis::priority::GraphSource::Calls => "calls",
    };
    let title = format!(
        "{} modules · coupling from {source} · time {} coupling {} complexity {} memory {} calls {} · Enter: heaviest function",
        report.modules.len(),
        report.weights.time,
        report.weights.coupling,
        report.weights.complexity,
        report.weights.memory,
        report.weights.calls,
    );
    buf.set_stringn(area.x, area.y, fit(&title, width), width, theme.header());
    // A factor unknown for every module gets no column.
    let known = report.known_factors();
    let columns: String = of_known(known, ["time", "coup", "cplx", "mem", "call"])
        .map(|c| format!("{c:<4} "))
        .collect();
    let header = format!(
        "{:>3} {:<2} {:>5} {columns}{}",
        "#", "P", "score", "module · reasons"
    );
    buf.set_stringn(
        area.x,
        area.y + 1,
        fit(&header, width),
        width,
        theme.header(),
    );
    let rows = usize::from(area.height - 2);
    for (line, (rank, m)) in report
        .modules
        .iter()
        .enumerate()
        .skip(view.offset)
        .take(rows)
        .enumerate()
    {
        let bars: String = of_known(known, m.factors())
            .map(|f| bar(f, 4) + " ")
            .collect();
        let text = format!(
            "{:>3} {:<2} {:>5.2} {bars}{}{}{}",
            rank + 1,
            m.tier,
            m.score,
            escape_control(&m.module),
            if m.reasons.is_empty() { "" } else { " · " },
            escape_control(&m.reasons.join("; "))
        );
        let style = if rank == view.selected {
            theme.selected()
        } else {
            Style::new()
        };
        buf.set_stringn(
            area.x,
            area.y + 2 + line as u16,
            fit(&text, width),
            width,
            style,
        );
    }
}
