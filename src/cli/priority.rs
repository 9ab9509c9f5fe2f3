//! `obol priority`: modules ranked by the seed's score, as a table or JSON.

use std::io::{self, BufWriter, Write};

use super::{CliError, PriorityArgs};
use crate::analysis::priority::{GraphSource, PriorityReport, Weights};
use crate::analysis::priority_report::priority_report;
use crate::text::{bar, escape_control};

pub fn run(args: &PriorityArgs) -> Result<(), CliError> {
    let weights = match &args.weights {
        Some(spec) => {
            Weights::parse(spec).map_err(|e| CliError::Usage(format!("--weights: {e}")))?
        }
        None => Weights::default(),
    };
    let loaded = args
        .files
        .iter()
        .map(|path| super::load(path))
        .collect::<Result<Vec<_>, _>>()?;
    let report = priority_report(&loaded, &args.source_root, weights)
        .map_err(|e| CliError::Usage(e.to_string()))?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    if args.json {
        serde_json::to_writer(&mut out, &report).map_err(io::Error::from)?;
        writeln!(out)?;
    } else {
        print_table(&mut out, &report, args.top)?;
    }
    out.flush()?;
    Ok(())
}

fn print_table(
    out: &mut impl Write,
    report: &PriorityReport,
    top: Option<usize>,
) -> io::Result<()> {
    let w = &report.weights;
    let known = |f: fn(&crate::analysis::priority::ModuleScore) -> bool| {
        report.modules.iter().filter(|m| f(m)).count()
    };
    let total = report.modules.len();
    writeln!(
        out,
        "{total} modules; weights time {} coupling {} complexity {} memory {} calls {}",
        w.time, w.coupling, w.complexity, w.memory, w.calls
    )?;
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
    writeln!(
        out,
        "{:>4} {:<4} {:>6}  {:<5} {:<5} {:<5} {:<5} {:<5}  {:<32} reasons",
        "rank", "tier", "score", "time", "coupl", "cmplx", "mem", "calls", "module"
    )?;
    for (i, m) in report
        .modules
        .iter()
        .take(top.unwrap_or(usize::MAX))
        .enumerate()
    {
        writeln!(
            out,
            "{:>4} {:<4} {:>6.3}  {}  {:<32} {}",
            i + 1,
            m.tier,
            m.score,
            m.factors().map(|f| bar(f, 5)).join(" "),
            escape_control(&m.module),
            m.reasons.join("; ")
        )?;
    }
    if let Some(top) = top
        && top < total
    {
        writeln!(out, "... {} more", total - top)?;
    }
    Ok(())
}
