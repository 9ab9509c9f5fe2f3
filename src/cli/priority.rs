//! `obol priority`: modules ranked by the seed's score, as a table or JSON.

use std::io::{self, BufWriter, Write};

use super::{CliError, PriorityArgs};
use crate::analysis::modules::{ModuleNamer, find_source};
use crate::analysis::priority::{
    GraphSource, PriorityInput, PriorityReport, Source, Weights, rank,
};
use crate::import::Loaded;
use crate::profile::Unit;
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
    let report = priority_report(&loaded, &args.source_root, weights)?;
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

/// Ranks the modules of the loaded files: bytes profiles are memory, all others time.
pub fn priority_report(
    loaded: &[Loaded],
    source_roots: &[std::path::PathBuf],
    weights: Weights,
) -> Result<PriorityReport, CliError> {
    let is_memory = |l: &&Loaded| l.set.unit() == Unit::Bytes;
    let time: Vec<_> = loaded
        .iter()
        .filter(|l| !is_memory(l))
        .map(|l| &l.set)
        .collect();
    let memory: Vec<_> = loaded.iter().filter(is_memory).map(|l| &l.set).collect();
    if time.is_empty() {
        return Err(CliError::Usage(
            "priority needs a time profile; only memory (bytes) profiles were given".into(),
        ));
    }
    let files = loaded.iter().flat_map(|l| {
        l.set
            .frames
            .functions()
            .iter()
            .filter_map(|f| f.file.as_deref())
    });
    let input = PriorityInput {
        time,
        memory,
        namer: ModuleNamer::new(source_roots, files),
    };
    Ok(rank(&input, weights, |file| {
        let path = find_source(file, source_roots)?;
        let text = std::fs::read_to_string(&path).ok()?;
        let is_package = path.file_name().is_some_and(|n| n == "__init__.py");
        Some(Source { text, is_package })
    }))
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
