//! `obol priority`: modules ranked by the seed's score, as a table or JSON.

use std::io::{self, BufWriter, Write};

use serde::Serialize;

use super::{CliError, PriorityArgs};
use crate::analysis::priority::{GraphSource, ModuleScope, PriorityReport, Weights, of_known};
use crate::analysis::priority_report::priority_report_in;
use crate::text::{bar, escape_control};

/// The report with the scope it covers.
#[derive(Serialize)]
struct JsonReport<'a> {
    /// `project` (the default) or `all` (`--all-modules`).
    scope: &'static str,
    #[serde(flatten)]
    report: &'a PriorityReport,
}

pub fn run(args: &PriorityArgs) -> Result<(), CliError> {
    let weights = match &args.weights {
        Some(spec) => {
            Weights::parse(spec).map_err(|e| CliError::Usage(format!("--weights: {e}")))?
        }
        None => Weights::default(),
    };
    super::check_source_roots(&args.source_root)?;
    let scope = if args.all_modules {
        ModuleScope::All
    } else {
        ModuleScope::Project
    };
    let loaded = args
        .files
        .iter()
        .map(|path| args.filters.load(path, false))
        .collect::<Result<Vec<_>, _>>()?;
    let report = priority_report_in(&loaded, &args.source_root, weights, scope)
        .map_err(|e| CliError::Usage(e.to_string()))?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    if args.json {
        let doc = JsonReport {
            scope: match scope {
                ModuleScope::Project => "project",
                ModuleScope::All => "all",
            },
            report: &report,
        };
        crate::text::write_json(&mut out, &doc).map_err(io::Error::from)?;
        writeln!(out)?;
    } else {
        print_table(&mut out, &report, scope, args.top)?;
    }
    out.flush()?;
    Ok(())
}

/// The table's factor columns, in the score's order.
const COLUMNS: [&str; 5] = ["time", "coupl", "cmplx", "mem", "calls"];

fn print_table(
    out: &mut impl Write,
    report: &PriorityReport,
    scope: ModuleScope,
    top: Option<usize>,
) -> io::Result<()> {
    let w = &report.weights;
    let known = |f: fn(&crate::analysis::priority::ModuleScore) -> bool| {
        report.modules.iter().filter(|m| f(m)).count()
    };
    let total = report.modules.len();
    writeln!(
        out,
        "{total} modules{}; weights time {} coupling {} complexity {} memory {} calls {}",
        match scope {
            ModuleScope::Project => {
                " of the project (the standard library's and packages' time charged to their \
                 callers; --all-modules ranks them too)"
            }
            ModuleScope::All => "",
        },
        w.time,
        w.coupling,
        w.complexity,
        w.memory,
        w.calls
    )?;
    if total == 0 && scope == ModuleScope::Project {
        writeln!(
            out,
            "no project module: every function is in the standard library or installed packages"
        )?;
    }
    writeln!(
        out,
        "coupling from {}; complexity known for {} of {total}; memory {}; calls {}",
        match report.graph_source {
            GraphSource::Imports => "import statements",
            GraphSource::Calls => {
                "caller→callee edges in the profile (the project's sources not found; --source-root DIR)"
            }
        },
        known(|m| m.complexity.is_some()),
        if known(|m| m.memory.is_some()) > 0 {
            "known"
        } else {
            "unknown (no bytes profile)"
        },
        if known(|m| m.calls.is_some()) > 0 {
            "known"
        } else {
            "unknown (format has no counts)"
        },
    )?;
    let known = report.known_factors();
    let columns: String = of_known(known, COLUMNS)
        .map(|c| format!("{c:<5} "))
        .collect();
    writeln!(
        out,
        "{:>4} {:<4} {:>6}  {columns} {:<32} reasons",
        "rank", "tier", "score", "module"
    )?;
    for (i, m) in report
        .modules
        .iter()
        .take(top.unwrap_or(usize::MAX))
        .enumerate()
    {
        let bars: String = of_known(known, m.factors())
            .map(|f| bar(f, 5) + " ")
            .collect();
        writeln!(
            out,
            "{:>4} {:<4} {:>6.3}  {bars} {:<32} {}",
            i + 1,
            m.tier,
            m.score,
            escape_control(&m.module),
            escape_control(&m.reasons.join("; "))
        )?;
    }
    if let Some(top) = top
        && top < total
    {
        writeln!(out, "... {} more", total - top)?;
    }
    Ok(())
}
