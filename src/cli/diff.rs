//! `obol diff BASE NEW`: what moved between two profiles, as a table or JSON.

use std::io::{self, BufWriter, Write};

use serde::Serialize;

use super::{CliError, DiffArgs, DiffSortArg};
use crate::analysis::diff::{DiffInput, DiffRow, DiffSort, Side, diff};
use crate::import::Loaded;
use crate::text::escape_control;

pub fn run(args: &DiffArgs) -> Result<(), CliError> {
    let (base, new) = match &args.new {
        Some(new) => (
            super::load_for_table(&args.base)?,
            super::load_for_table(new)?,
        ),
        None => {
            let mut new = super::load_for_table(&args.base)?;
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
    let sort = match args.sort {
        DiffSortArg::Share => DiffSort::Share,
        DiffSortArg::SelfWeight => DiffSort::SelfWeight,
        DiffSortArg::TotalWeight => DiffSort::TotalWeight,
    };
    let rows = diff(&input(&base), &input(&new), by_shares, sort);
    let shown = &rows[..rows.len().min(args.top.unwrap_or(usize::MAX))];
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    if args.json {
        write_json(&mut out, &base, &new, by_shares, shown)?;
    } else {
        write_table(&mut out, &base, &new, by_shares, shown, rows.len())?;
    }
    out.flush()?;
    Ok(())
}

/// A loaded file as one side of a comparison: all its profiles together.
pub fn input(loaded: &Loaded) -> DiffInput<'_> {
    DiffInput {
        set: &loaded.set,
        profiles: loaded.set.profiles.iter().collect(),
    }
}

/// Profiles in different units or formats (a cProfile run against a py-spy run) can only be
/// compared by each function's share of its own total.
pub fn compares_by_shares(base: &Loaded, new: &Loaded) -> bool {
    base.format != new.format || base.set.unit() != new.set.unit()
}

#[derive(Serialize)]
struct JsonFile {
    path: String,
    format: &'static str,
    unit: &'static str,
    total: f64,
}

#[derive(Serialize)]
struct JsonSide {
    #[serde(rename = "self")]
    self_weight: f64,
    total: f64,
    calls: Option<u64>,
}

#[derive(Serialize)]
struct JsonRow<'a> {
    name: &'a str,
    file: Option<&'a str>,
    line: Option<u32>,
    base: Option<JsonSide>,
    new: Option<JsonSide>,
    delta_self_share: f64,
    delta_total_share: f64,
}

#[derive(Serialize)]
struct JsonDiff<'a> {
    base: JsonFile,
    new: JsonFile,
    /// `values` when both sides share a format and unit, else `shares`.
    compared_by: &'static str,
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

fn side(side: Option<Side>) -> Option<JsonSide> {
    side.map(|s| JsonSide {
        self_weight: s.self_weight,
        total: s.total_weight,
        calls: s.calls,
    })
}

fn write_json(
    out: &mut impl Write,
    base: &Loaded,
    new: &Loaded,
    by_shares: bool,
    rows: &[DiffRow],
) -> Result<(), CliError> {
    let doc = JsonDiff {
        base: file(base),
        new: file(new),
        compared_by: if by_shares { "shares" } else { "values" },
        functions: rows
            .iter()
            .map(|r| JsonRow {
                name: &r.name,
                file: r.file.as_deref(),
                line: r.line,
                base: side(r.base),
                new: side(r.new),
                delta_self_share: r.delta_self_share,
                delta_total_share: r.delta_total_share,
            })
            .collect(),
    };
    serde_json::to_writer(&mut *out, &doc).map_err(io::Error::from)?;
    writeln!(out)?;
    Ok(())
}

/// `+x.x%` / `-x.x%` in percentage points of share.
pub fn signed_percent(delta: f64) -> String {
    let points = 100.0 * delta;
    if points.abs() < 0.05 {
        "0.0%".into()
    } else {
        format!("{points:+.1}%")
    }
}

fn write_table(
    out: &mut impl Write,
    base: &Loaded,
    new: &Loaded,
    by_shares: bool,
    rows: &[DiffRow],
    all: usize,
) -> io::Result<()> {
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
    writeln!(
        out,
        "{:>8} {:>8}  {:>11} {:>11}  {:>11} {:>11}  {:>15}  function",
        "Δtotal%", "Δself%", "base total", "new total", "base self", "new self", "calls"
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
            (Some(f), Some(l)) => format!("  {}:{l}", escape_control(f)),
            (Some(f), None) => format!("  {}", escape_control(f)),
            _ => String::new(),
        };
        writeln!(
            out,
            "{:>8} {:>8}  {:>11} {:>11}  {:>11} {:>11}  {calls:>15}  {}{place}",
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

#[cfg(test)]
mod tests {
    use super::signed_percent;

    #[test]
    fn changes_are_signed_points() {
        assert_eq!(signed_percent(0.123), "+12.3%");
        assert_eq!(signed_percent(-0.05), "-5.0%");
        assert_eq!(signed_percent(0.0001), "0.0%");
    }
}
