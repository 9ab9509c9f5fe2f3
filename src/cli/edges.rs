//! `obol callers NAME FILE` and `obol callees NAME FILE`: for every function matching NAME, the
//! functions at the other end of its calls with the figures of each edge, as `python -m pstats`'
//! `callers` and `callees` print them.

use std::io::{self, BufWriter, Write};
use std::path::Path;

use regex::Regex;
use serde::Serialize;

use super::summary::select_profiles;
use super::{CliError, EdgesArgs, FilterArgs};
use crate::analysis::edges::{Direction, edges};
use crate::analysis::summary::{FunctionRow, SortKey, function_table};
use crate::import::Loaded;
use crate::profile::{FuncId, Profile, Unit};
use crate::text::escape_control;

pub fn run(args: &EdgesArgs, direction: Direction) -> Result<(), CliError> {
    let (loaded, matched) = load_matching(&args.name, &args.file, &args.filters)?;
    let profiles = select_profiles(&loaded);
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    if args.json {
        write_json(&mut out, &loaded, &profiles, &matched, direction)?;
    } else {
        write_table(&mut out, &loaded, &profiles, &matched, direction)?;
    }
    out.flush()?;
    Ok(())
}

/// The file, filtered, and its functions whose name or `file:line(name)` matches the regex
/// `name`, heaviest first (`callers`, `callees` and `source` take NAME so); none is an error.
pub(super) fn load_matching(
    name: &str,
    file: &Path,
    filters: &FilterArgs,
) -> Result<(Loaded, Vec<FunctionRow>), CliError> {
    let pattern = Regex::new(name).map_err(|e| {
        let first = e.to_string();
        let first = first.lines().last().unwrap_or_default().to_owned();
        CliError::Usage(format!(
            "NAME is not a valid regular expression: {}",
            escape_control(&first)
        ))
    })?;
    let loaded = filters.load(file, true)?;
    let profiles = select_profiles(&loaded);
    let set = &loaded.set;
    let matched: Vec<FunctionRow> = function_table(set, &profiles, SortKey::TotalWeight)
        .into_iter()
        .filter(|row| {
            let f = set.frames.function(row.func);
            pattern.is_match(f.name) || pattern.is_match(&f.pstats_label())
        })
        .collect();
    if matched.is_empty() {
        return Err(CliError::Usage(format!(
            "{}: no function matches \"{}\"",
            escape_control(&loaded.path.display().to_string()),
            escape_control(name)
        )));
    }
    Ok((loaded, matched))
}

/// pstats prints `calls/primitive` when they differ (recursion), else the one count.
fn calls_cell(calls: Option<u64>, primitive: Option<u64>) -> String {
    match (calls, primitive) {
        (Some(n), Some(p)) if n != p => format!("{n}/{p}"),
        (Some(n), _) => n.to_string(),
        (None, _) => "-".into(),
    }
}

fn write_table(
    out: &mut impl Write,
    loaded: &Loaded,
    profiles: &[&Profile],
    matched: &[FunctionRow],
    direction: Direction,
) -> io::Result<()> {
    let set = &loaded.set;
    let unit: Unit = set.unit();
    writeln!(
        out,
        "{}: {}, {} function{} matching",
        escape_control(&loaded.path.display().to_string()),
        loaded.format.description(),
        matched.len(),
        if matched.len() == 1 { "" } else { "s" }
    )?;
    for row in matched {
        let f = set.frames.function(row.func);
        let calls = match row.calls {
            Some(_) => format!("  calls {}", calls_cell(row.calls, row.primitive_calls)),
            None => String::new(),
        };
        writeln!(
            out,
            "\n{}  self {}  total {}{calls}",
            escape_control(&f.pstats_label()),
            unit.format_weight(row.self_weight),
            unit.format_weight(row.total_weight),
        )?;
        let rows = edges(set, profiles, row.func, direction);
        let heading = match direction {
            Direction::Callers => "was called by",
            Direction::Callees => "called",
        };
        if rows.is_empty() {
            writeln!(out, "  {heading}: nothing")?;
            continue;
        }
        writeln!(out, "  {heading}:")?;
        // Sampled formats count no calls: no column of dashes for them.
        let has_calls = rows.iter().any(|e| e.calls.is_some());
        if has_calls {
            writeln!(
                out,
                "  {:>13} {:>11} {:>11}  function",
                "ncalls", "self", "total"
            )?;
        } else {
            writeln!(out, "  {:>11} {:>11}  function", "self", "total")?;
        }
        for edge in &rows {
            let other = escape_control(&set.frames.function(edge.func).pstats_label()).into_owned();
            let (s, t) = (
                unit.format_weight(edge.self_weight),
                unit.format_weight(edge.total_weight),
            );
            if has_calls {
                let calls = calls_cell(edge.calls, edge.primitive_calls);
                writeln!(out, "  {calls:>13} {s:>11} {t:>11}  {other}")?;
            } else {
                writeln!(out, "  {s:>11} {t:>11}  {other}")?;
            }
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct JsonFigures<'a> {
    name: &'a str,
    file: Option<&'a str>,
    line: Option<u32>,
    calls: Option<u64>,
    primitive_calls: Option<u64>,
    #[serde(rename = "self")]
    self_weight: f64,
    total: f64,
}

#[derive(Serialize)]
struct JsonFunction<'a> {
    #[serde(flatten)]
    figures: JsonFigures<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    callers: Option<Vec<JsonFigures<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    callees: Option<Vec<JsonFigures<'a>>>,
}

#[derive(Serialize)]
struct JsonEdges<'a> {
    path: String,
    format: &'static str,
    unit: &'static str,
    functions: Vec<JsonFunction<'a>>,
}

fn write_json(
    out: &mut impl Write,
    loaded: &Loaded,
    profiles: &[&Profile],
    matched: &[FunctionRow],
    direction: Direction,
) -> Result<(), CliError> {
    let set = &loaded.set;
    let figures = |func: FuncId, calls, primitive_calls, self_weight, total| {
        let f = set.frames.function(func);
        JsonFigures {
            name: f.name,
            file: f.file,
            line: f.line,
            calls,
            primitive_calls,
            self_weight,
            total,
        }
    };
    let functions = matched
        .iter()
        .map(|row| {
            let rows: Vec<JsonFigures> = edges(set, profiles, row.func, direction)
                .iter()
                .map(|e| {
                    figures(
                        e.func,
                        e.calls,
                        e.primitive_calls,
                        e.self_weight,
                        e.total_weight,
                    )
                })
                .collect();
            let (callers, callees) = match direction {
                Direction::Callers => (Some(rows), None),
                Direction::Callees => (None, Some(rows)),
            };
            JsonFunction {
                figures: figures(
                    row.func,
                    row.calls,
                    row.primitive_calls,
                    row.self_weight,
                    row.total_weight,
                ),
                callers,
                callees,
            }
        })
        .collect();
    let doc = JsonEdges {
        path: loaded.path.display().to_string(),
        format: loaded.format.as_str(),
        unit: set.unit().as_str(),
        functions,
    };
    crate::text::write_json(&mut *out, &doc).map_err(io::Error::from)?;
    writeln!(out)?;
    Ok(())
}
