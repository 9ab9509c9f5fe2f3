//! `obol diff BASE NEW`: what moved between two profiles, as a table or JSON.

use std::io::{self, BufWriter, Write};

use serde::Serialize;

use super::{CliError, DiffArgs, DiffSortArg, GroupingArg};
use crate::analysis::diff::{
    Comparison, DiffRow, DiffSort, Grouping, Identity, MatchSummary, Side, compare,
    compares_by_shares, input,
};
use crate::analysis::regression::{Regression, ShareLimit, regressions};
use crate::import::Loaded;
use crate::text::{escape_control, signed_percent};

pub fn run(args: &DiffArgs) -> Result<(), CliError> {
    let limits = args
        .fail_above
        .iter()
        .map(|spec| ShareLimit::parse(spec))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CliError::Usage(format!("--fail-above: {e}")))?;
    let sort = match args.sort {
        DiffSortArg::Share => DiffSort::Share,
        DiffSortArg::SelfWeight => DiffSort::SelfWeight,
        DiffSortArg::TotalWeight => DiffSort::TotalWeight,
    };
    let grouping = match args.by {
        GroupingArg::Function => Grouping::Function,
        GroupingArg::Module => Grouping::Module,
        GroupingArg::File => Grouping::File,
    };
    // Modules and files are added up over the call tree, which pstats files must estimate.
    let table_only = grouping == Grouping::Function;
    let load = |path: &std::path::Path| args.filters.load(path, table_only);
    let (base, new) = match &args.new {
        Some(new) => (load(&args.base)?, load(new)?),
        None => {
            let mut new = load(&args.base)?;
            let base = new.base.take().ok_or_else(|| {
                CliError::Usage(format!(
                    "{}: one file compares only when it holds both sides (a differential folded \
                     file, `stack before after`); give two files: obol diff BASE NEW",
                    args.base.display()
                ))
            })?;
            (*base, new)
        }
    };
    let by_shares = compares_by_shares(&base, &new);
    let comparison = compare(&input(&base), &input(&new), by_shares, sort, grouping);
    let failed = regressions(&comparison.rows, &limits)
        .map_err(|e| CliError::Usage(format!("--fail-above: {e}")))?;
    if comparison.matched.is_poor() {
        warn_poor_match(&comparison.matched, grouping);
    }
    let rows = &comparison.rows;
    let shown = &rows[..rows.len().min(args.top.unwrap_or(usize::MAX))];
    let compared = Compared {
        base: &base,
        new: &new,
        by_shares,
        grouping,
        comparison: &comparison,
    };
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    if args.json {
        write_json(&mut out, &compared, shown)?;
    } else {
        write_table(&mut out, &compared, shown)?;
    }
    out.flush()?;
    if failed.is_empty() {
        Ok(())
    } else {
        Err(CliError::Regression(gate_message(&failed, grouping)))
    }
}

/// What was compared and how, for printing.
struct Compared<'a> {
    base: &'a Loaded,
    new: &'a Loaded,
    by_shares: bool,
    grouping: Grouping,
    comparison: &'a Comparison,
}

/// One line for all the rows over their limits, the largest growth first.
fn gate_message(failed: &[Regression], grouping: Grouping) -> String {
    let shown: Vec<String> = failed
        .iter()
        .take(3)
        .map(|r| {
            format!(
                "{} +{:.1} points (limit {})",
                escape_control(&r.name),
                r.grown_by,
                r.limit
            )
        })
        .collect();
    let more = if failed.len() > 3 {
        format!(" and {} more", failed.len() - 3)
    } else {
        String::new()
    };
    format!(
        "regression gate failed: {} {}{} grew in share of the total past the limit: {}{more}",
        failed.len(),
        grouping.as_str(),
        if failed.len() == 1 { "" } else { "s" },
        shown.join(", ")
    )
}

fn warn_poor_match(matched: &MatchSummary, grouping: Grouping) {
    let mut stderr = io::stderr().lock();
    // A failed write to stderr leaves nothing better to do.
    let _ = writeln!(
        stderr,
        "obol: warning: only {:.1}% of the base's weight and {:.1}% of the new's matched a {} on \
         the other side: the two profiles may be of different programs",
        matched.base_share() * 100.0,
        matched.new_share() * 100.0,
        grouping.as_str()
    );
}

#[derive(Serialize)]
struct JsonFile {
    path: String,
    format: &'static str,
    unit: &'static str,
    total: f64,
}

#[derive(Serialize)]
struct JsonSide<'a> {
    #[serde(rename = "self")]
    self_weight: f64,
    total: f64,
    calls: Option<u64>,
    /// How this side names the row: it differs from the other side's after a path-tail or
    /// qualified-name match.
    name: &'a str,
    file: Option<&'a str>,
    line: Option<u32>,
}

#[derive(Serialize)]
struct JsonRow<'a> {
    name: &'a str,
    file: Option<&'a str>,
    line: Option<u32>,
    base: Option<JsonSide<'a>>,
    new: Option<JsonSide<'a>>,
    delta_self_share: f64,
    delta_total_share: f64,
    /// The matching step that paired the sides, or null for a row on one side only.
    matched_by: Option<&'static str>,
}

#[derive(Serialize)]
struct JsonStep {
    step: &'static str,
    /// Rows this step matched.
    rows: usize,
    /// Their share of each side's weight (self weight, which adds up to the total).
    base_share: f64,
    new_share: f64,
}

#[derive(Serialize)]
struct JsonMatched {
    rows: usize,
    base_share: f64,
    new_share: f64,
    base_only: usize,
    new_only: usize,
    steps: Vec<JsonStep>,
}

#[derive(Serialize)]
struct JsonDiff<'a> {
    base: JsonFile,
    new: JsonFile,
    /// `values` when both sides share a format and unit, else `shares`.
    compared_by: &'static str,
    /// `function`, `module` or `file`: what a row of `functions` is.
    by: &'static str,
    matched: JsonMatched,
    functions: Vec<JsonRow<'a>>,
}

fn file(loaded: &Loaded) -> JsonFile {
    JsonFile {
        path: loaded.path.display().to_string(),
        format: loaded.format.as_str(),
        unit: loaded.set.unit().as_str(),
        total: loaded.set.total(),
    }
}

fn side<'a>(side: Option<Side>, named: Option<&'a Identity>) -> Option<JsonSide<'a>> {
    let (s, named) = (side?, named?);
    Some(JsonSide {
        self_weight: s.self_weight,
        total: s.total_weight,
        calls: s.calls,
        name: &named.name,
        file: named.file.as_deref(),
        line: named.line,
    })
}

fn matched(summary: &MatchSummary) -> JsonMatched {
    JsonMatched {
        rows: summary.rows(),
        base_share: summary.base_share(),
        new_share: summary.new_share(),
        base_only: summary.base_only,
        new_only: summary.new_only,
        steps: summary
            .steps
            .iter()
            .map(|s| JsonStep {
                step: s.step.as_str(),
                rows: s.rows,
                base_share: s.base_share,
                new_share: s.new_share,
            })
            .collect(),
    }
}

fn write_json(
    out: &mut impl Write,
    compared: &Compared<'_>,
    rows: &[DiffRow],
) -> Result<(), CliError> {
    let doc = JsonDiff {
        base: file(compared.base),
        new: file(compared.new),
        compared_by: if compared.by_shares {
            "shares"
        } else {
            "values"
        },
        by: compared.grouping.as_str(),
        matched: matched(&compared.comparison.matched),
        functions: rows
            .iter()
            .map(|r| JsonRow {
                name: &r.name,
                file: r.file.as_deref(),
                line: r.line,
                base: side(r.base, r.base_function.as_ref()),
                new: side(r.new, r.new_function.as_ref()),
                delta_self_share: r.delta_self_share,
                delta_total_share: r.delta_total_share,
                matched_by: r.matched_by.map(|s| s.as_str()),
            })
            .collect(),
    };
    crate::text::write_json(&mut *out, &doc).map_err(io::Error::from)?;
    writeln!(out)?;
    Ok(())
}

fn write_table(out: &mut impl Write, compared: &Compared<'_>, rows: &[DiffRow]) -> io::Result<()> {
    let Compared {
        base,
        new,
        by_shares,
        grouping,
        comparison,
    } = *compared;
    let all = comparison.rows.len();
    let (bu, nu) = (base.set.unit(), new.set.unit());
    writeln!(
        out,
        "base {} ({}, total {})  →  new {} ({}, total {})",
        escape_control(&base.path.display().to_string()),
        base.format.description(),
        bu.format_weight(base.set.total()),
        escape_control(&new.path.display().to_string()),
        new.format.description(),
        nu.format_weight(new.set.total()),
    )?;
    if by_shares {
        writeln!(
            out,
            "different formats or units: compared by each function's share of its own profile"
        )?;
    }
    write_matched(out, &comparison.matched, grouping)?;
    writeln!(
        out,
        "{:>8} {:>8}  {:>11} {:>11}  {:>11} {:>11}  {:>15}  {}",
        "Δtotal%",
        "Δself%",
        "base total",
        "new total",
        "base self",
        "new self",
        "calls",
        grouping.as_str()
    )?;
    let cell = |side: Option<Side>, unit: crate::profile::Unit, pick: fn(&Side) -> f64| {
        side.map_or_else(|| "-".to_owned(), |s| unit.format_weight(pick(&s)))
    };
    for r in rows {
        let calls = match (r.base.and_then(|s| s.calls), r.new.and_then(|s| s.calls)) {
            (None, None) => String::new(),
            (b, n) => format!(
                "{}→{}",
                b.map_or_else(|| "-".into(), |c| c.to_string()),
                n.map_or_else(|| "-".into(), |c| c.to_string())
            ),
        };
        let place = match (&r.file, r.line) {
            // A file row is named by its file already.
            _ if grouping == Grouping::File => String::new(),
            (Some(f), Some(l)) => format!("  {}:{l}", escape_control(f)),
            (Some(f), None) => format!("  {}", escape_control(f)),
            _ => String::new(),
        };
        // The new side's name where a step matched it under another (`encode` → its qualified
        // `JSONEncoder.encode`, a file in another checkout).
        let renamed = match (&r.base_function, &r.new_function) {
            (Some(b), Some(n)) if grouping == Grouping::File && b.file != n.file => {
                format!("  → {}", escape_control(n.file.as_deref().unwrap_or("")))
            }
            (Some(b), Some(n)) if b.name != n.name => {
                format!("  → {}", escape_control(&n.name))
            }
            _ => String::new(),
        };
        writeln!(
            out,
            "{:>8} {:>8}  {:>11} {:>11}  {:>11} {:>11}  {calls:>15}  {}{place}{renamed}",
            signed_percent(r.delta_total_share),
            signed_percent(r.delta_self_share),
            cell(r.base, bu, |s| s.total_weight),
            cell(r.new, nu, |s| s.total_weight),
            cell(r.base, bu, |s| s.self_weight),
            cell(r.new, nu, |s| s.self_weight),
            escape_control(&r.name),
        )?;
    }
    if rows.len() < all {
        writeln!(out, "... {} more (--top N shows more)", all - rows.len())?;
    }
    Ok(())
}

/// How many rows each matching step paired and the share of each side's weight they hold.
fn write_matched(
    out: &mut impl Write,
    matched: &MatchSummary,
    grouping: Grouping,
) -> io::Result<()> {
    writeln!(
        out,
        "matched {} {}s: {:.1}% of the base's weight, {:.1}% of the new's; {} on the base side \
         only, {} on the new side only",
        matched.rows(),
        grouping.as_str(),
        matched.base_share() * 100.0,
        matched.new_share() * 100.0,
        matched.base_only,
        matched.new_only,
    )?;
    for step in matched.steps.iter().filter(|s| s.rows > 0) {
        writeln!(
            out,
            "  {:>6} by {:<50} {:>5.1}% / {:>5.1}%",
            step.rows,
            step.step.description(),
            step.base_share * 100.0,
            step.new_share * 100.0
        )?;
    }
    Ok(())
}
