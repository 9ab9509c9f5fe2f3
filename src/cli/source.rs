//! `obol source NAME FILE`: the source of every function matching NAME, each line with the
//! samples taken on it, as pprof's `list` prints them; for pstats, each callee's edge figures
//! (as `print_callees` gives them) beside the line that calls it.

use std::io::{self, BufWriter, Write};

use serde::Serialize;

use super::summary::select_profiles;
use super::{CliError, SourceArgs};
use crate::analysis::edges::Edge;
use crate::analysis::source_lines::{Annotation, annotate, printable};
use crate::analysis::summary::FunctionRow;
use crate::import::Loaded;
use crate::profile::{CallTree, Profile, ProfileSet, Unit};
use crate::text::escape_control;

pub fn run(args: &SourceArgs) -> Result<(), CliError> {
    super::check_source_roots(&args.source_root)?;
    let (loaded, matched) = super::edges::load_matching(&args.name, &args.file, &args.filters)?;
    let profiles = select_profiles(&loaded);
    let set = &loaded.set;
    let trees: Vec<&CallTree> = profiles.iter().map(|p| p.tree()).collect();
    let annotated: Vec<(&FunctionRow, Annotation)> = matched
        .iter()
        .map(|row| {
            let a = annotate(set, &profiles, &trees, row.func, &args.source_root);
            (row, a)
        })
        .collect();
    for (_, a) in &annotated {
        if let Some(reason) = &a.missing {
            let file = a.file.as_deref().unwrap_or("?");
            // A failed write to stderr leaves nothing better to do.
            let _ = writeln!(
                io::stderr(),
                "obol: note: {}: source of {} {reason}; its sampled lines are listed without text",
                escape_control(file),
                escape_control(set.frames.function(a.func).name),
            );
        }
    }
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let total: f64 = profiles.iter().map(|p| p.total).sum();
    if args.json {
        write_json(&mut out, &loaded, total, &annotated)?;
    } else {
        write_text(&mut out, &loaded, &profiles, total, &annotated)?;
    }
    out.flush()?;
    Ok(())
}

/// pstats prints `calls/primitive` when they differ (recursion), else the one count.
fn calls_cell(calls: Option<u64>, primitive: Option<u64>) -> String {
    match (calls, primitive) {
        (Some(n), Some(p)) if n != p => format!("{n}/{p}"),
        (Some(n), _) => n.to_string(),
        (None, _) => "-".into(),
    }
}

fn percent(weight: f64, total: f64) -> String {
    if total > 0.0 {
        format!("{:5.1}%", 100.0 * weight / total)
    } else {
        "     -".into()
    }
}

fn edge_row(set: &ProfileSet, unit: Unit, edge: &Edge) -> String {
    format!(
        "{:>13} {:>10} {:>10}  {}",
        calls_cell(edge.calls, edge.primitive_calls),
        unit.format_weight(edge.self_weight),
        unit.format_weight(edge.total_weight),
        escape_control(&set.frames.function(edge.func).pstats_label())
    )
}

fn write_text(
    out: &mut impl Write,
    loaded: &Loaded,
    profiles: &[&Profile],
    total: f64,
    annotated: &[(&FunctionRow, Annotation)],
) -> io::Result<()> {
    let set = &loaded.set;
    let unit = profiles.first().map_or(set.unit(), |p| p.unit);
    writeln!(
        out,
        "{}: {}, {} function{} matching",
        escape_control(&loaded.path.display().to_string()),
        loaded.format.description(),
        annotated.len(),
        if annotated.len() == 1 { "" } else { "s" }
    )?;
    for (row, a) in annotated {
        let f = set.frames.function(row.func);
        let place = match (&a.path, &a.file) {
            (Some(path), _) => path.display().to_string(),
            (None, Some(file)) => format!("{file} (source not found)"),
            (None, None) => "(no file)".into(),
        };
        writeln!(
            out,
            "\nROUTINE {} in {}\n  self {} ({})  total {} ({}) of {}",
            escape_control(f.name),
            escape_control(&place),
            unit.format_weight(row.self_weight),
            percent(row.self_weight, total).trim(),
            unit.format_weight(row.total_weight),
            percent(row.total_weight, total).trim(),
            unit.format_weight(total),
        )?;
        if a.stated {
            writeln!(
                out,
                "  {:>6}  source; below a line, its callees as print_callees gives them: ncalls tottime cumtime function",
                "line"
            )?;
        } else {
            writeln!(
                out,
                "  {:>10} {:>6} {:>10} {:>6} {:>6}  source",
                "self", "", "total", "", "line"
            )?;
        }
        for number in a.listed_lines() {
            let text = a.text_of(number).map(printable).unwrap_or_default();
            let figures = a.lines.get(&number);
            if a.stated {
                writeln!(out, "  {number:>6}  {text}")?;
                for edge in figures.iter().flat_map(|f| &f.edges) {
                    writeln!(out, "  {:>6}  {}", "", edge_row(set, unit, edge))?;
                }
                continue;
            }
            let (s, t) = figures.map_or((0.0, 0.0), |f| (f.self_weight, f.total_weight));
            if s == 0.0 && t == 0.0 {
                writeln!(
                    out,
                    "  {:>10} {:>6} {:>10} {:>6} {number:>6}  {text}",
                    ".", "", ".", ""
                )?;
            } else {
                writeln!(
                    out,
                    "  {:>10} {} {:>10} {} {number:>6}  {text}",
                    unit.format_weight(s),
                    percent(s, total),
                    unit.format_weight(t),
                    percent(t, total),
                )?;
            }
        }
        if a.unlined != (0.0, 0.0) {
            writeln!(
                out,
                "  {:>10} {} {:>10} {} {:>6}  (frames without a line)",
                unit.format_weight(a.unlined.0),
                percent(a.unlined.0, total),
                unit.format_weight(a.unlined.1),
                percent(a.unlined.1, total),
                "?"
            )?;
        }
        if !a.unplaced.is_empty() {
            writeln!(out, "  callees not found on a line of the function:")?;
            for edge in &a.unplaced {
                writeln!(out, "  {:>6}  {}", "", edge_row(set, unit, edge))?;
            }
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct JsonCallee<'a> {
    name: &'a str,
    file: Option<&'a str>,
    line: Option<u32>,
    /// Sampled profiles: the weight spent in the callee from this line.
    #[serde(skip_serializing_if = "Option::is_none")]
    weight: Option<f64>,
    /// pstats: the edge as `print_callees` gives it.
    #[serde(skip_serializing_if = "Option::is_none")]
    calls: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    primitive_calls: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tottime: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cumtime: Option<f64>,
}

#[derive(Serialize)]
struct JsonLine<'a> {
    number: u32,
    text: Option<&'a str>,
    /// `null` for pstats, which samples no lines.
    #[serde(rename = "self")]
    self_weight: Option<f64>,
    total: Option<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    callees: Vec<JsonCallee<'a>>,
}

#[derive(Serialize)]
struct JsonFunction<'a> {
    name: &'a str,
    file: Option<&'a str>,
    /// Where the source was found, `null` when it was not.
    path: Option<String>,
    #[serde(rename = "self")]
    self_weight: f64,
    total: f64,
    lines: Vec<JsonLine<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    callees_not_placed: Vec<JsonCallee<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    missing: Option<&'a str>,
}

/// The heaviest match at the top level (`path`, `lines`, ...), the other matches in `others`.
#[derive(Serialize)]
struct JsonSource<'a> {
    profile: String,
    format: &'static str,
    unit: &'static str,
    profile_total: f64,
    #[serde(flatten)]
    function: JsonFunction<'a>,
    others: Vec<JsonFunction<'a>>,
}

fn json_edge<'a>(set: &'a ProfileSet, edge: &Edge) -> JsonCallee<'a> {
    let f = set.frames.function(edge.func);
    JsonCallee {
        name: f.name,
        file: f.file,
        line: f.line,
        weight: None,
        calls: edge.calls,
        primitive_calls: edge.primitive_calls,
        tottime: Some(edge.self_weight),
        cumtime: Some(edge.total_weight),
    }
}

fn json_function<'a>(
    set: &'a ProfileSet,
    row: &FunctionRow,
    a: &'a Annotation,
) -> JsonFunction<'a> {
    let f = set.frames.function(row.func);
    let lines = a
        .listed_lines()
        .into_iter()
        .map(|number| {
            let figures = a.lines.get(&number);
            let (s, t) = figures.map_or((0.0, 0.0), |f| (f.self_weight, f.total_weight));
            let mut callees: Vec<JsonCallee> = figures
                .iter()
                .flat_map(|f| &f.edges)
                .map(|e| json_edge(set, e))
                .collect();
            callees.extend(figures.iter().flat_map(|f| &f.callees).map(|&(func, w)| {
                let c = set.frames.function(func);
                JsonCallee {
                    name: c.name,
                    file: c.file,
                    line: c.line,
                    weight: Some(w),
                    calls: None,
                    primitive_calls: None,
                    tottime: None,
                    cumtime: None,
                }
            }));
            JsonLine {
                number,
                text: a.text_of(number),
                self_weight: (!a.stated).then_some(s),
                total: (!a.stated).then_some(t),
                callees,
            }
        })
        .collect();
    JsonFunction {
        name: f.name,
        file: f.file,
        path: a.path.as_ref().map(|p| p.display().to_string()),
        self_weight: row.self_weight,
        total: row.total_weight,
        lines,
        callees_not_placed: a.unplaced.iter().map(|e| json_edge(set, e)).collect(),
        missing: a.missing.as_deref(),
    }
}

fn write_json(
    out: &mut impl Write,
    loaded: &Loaded,
    total: f64,
    annotated: &[(&FunctionRow, Annotation)],
) -> Result<(), CliError> {
    let set = &loaded.set;
    let mut functions = annotated.iter().map(|(row, a)| json_function(set, row, a));
    let Some(function) = functions.next() else {
        return Ok(());
    };
    let doc = JsonSource {
        profile: loaded.path.display().to_string(),
        format: loaded.format.as_str(),
        unit: set.unit().as_str(),
        profile_total: total,
        function,
        others: functions.collect(),
    };
    serde_json::to_writer(&mut *out, &doc).map_err(io::Error::from)?;
    writeln!(out)?;
    Ok(())
}
