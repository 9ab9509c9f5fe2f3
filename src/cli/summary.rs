//! `obol summary`: the function table as text (like `python -m pstats`' `stats`) or JSON.

use std::io::{self, BufWriter, Write};

use serde::Serialize;

use super::{CliError, SortArg, SummaryArgs};
use crate::analysis::place::short_file;
pub use crate::analysis::summary::calls_column;
use crate::analysis::summary::{FunctionRow, SortKey, function_table_top, take_rows, top_rows};
use crate::import::Loaded;
use crate::profile::Profile;
use crate::text::{escape_control, fit_path, middle_ellipsis};

impl From<SortArg> for SortKey {
    fn from(sort: SortArg) -> SortKey {
        match sort {
            SortArg::SelfWeight => SortKey::SelfWeight,
            SortArg::TotalWeight => SortKey::TotalWeight,
            SortArg::Calls => SortKey::Calls,
        }
    }
}

pub fn run(args: &SummaryArgs) -> Result<(), CliError> {
    let mut loaded = args.filters.load_for_summary(&args.file)?;
    // A file of one profile with figures of its own: the rows are made in their place.
    let function_count = loaded.set.frames.function_count();
    let rows = match loaded.set.profiles.as_mut_slice() {
        [only] => take_rows(only, function_count),
        _ => None,
    };
    let profiles = select_profiles(&loaded);
    let stdout = io::stdout();
    // On a terminal, rows fit its width (names cut in the middle); into a pipe or a file they
    // stay whole, for grep and scripts.
    let width = std::io::IsTerminal::is_terminal(&stdout)
        .then(|| crossterm::terminal::size().ok())
        .flatten()
        .map(|(columns, _)| usize::from(columns));
    // 64 KB at a time: a large table's JSON (600 KB for 5,000 functions) in a few writes,
    // not 8 KB ones.
    let mut out = BufWriter::with_capacity(64 << 10, stdout.lock());
    if args.json {
        write_json(
            &mut out,
            &loaded,
            (&profiles, rows),
            args.sort.into(),
            args.top,
        )?;
    } else {
        print_table(
            &mut out,
            &loaded,
            (&profiles, rows),
            args.sort.into(),
            (Some(args.top.unwrap_or(30)), width),
        )?;
    }
    out.flush()?;
    drop(profiles);
    // The command ends here and the process with it: freeing a large profile's hundreds of
    // thousands of allocations one by one would only delay the exit.
    std::mem::forget(loaded);
    Ok(())
}

/// The profiles of `loaded` that add up with its first (after `--thread`, the one picked): in
/// its unit and of its event, with a word on stderr about those left out: weights in different
/// units, or of different events, do not add up.
pub fn select_profiles(loaded: &Loaded) -> Vec<&Profile> {
    let unit = loaded.set.unit();
    let all = &loaded.set.profiles;
    let (same, other): (Vec<&Profile>, Vec<&Profile>) = all
        .iter()
        .partition(|p| all.first().is_some_and(|f| p.adds_to(f)));
    if !other.is_empty() {
        let names: Vec<String> = other
            .iter()
            .map(|p| format!("\"{}\"", escape_control(&p.name)))
            .collect();
        // A failed write to stderr leaves nothing better to do.
        let _ = writeln!(
            io::stderr(),
            "obol: note: {}: profiles in units or of events other than the first's ({}) left out: {}; --thread NAME reads one",
            escape_control(&loaded.path.display().to_string()),
            unit,
            names.join(", ")
        );
    }
    same
}

/// The summary but for its last field, `functions`, which [`write_functions`] writes after it.
#[derive(Serialize)]
struct JsonSummary<'a> {
    path: String,
    format: &'static str,
    unit: &'static str,
    total: f64,
    profiles: Vec<JsonProfile<'a>>,
}

#[derive(Serialize)]
struct JsonProfile<'a> {
    name: &'a str,
    unit: &'static str,
    total: f64,
}

/// A row as [`write_functions`] writes it: the oracle of its tests.
#[cfg(test)]
#[derive(Serialize)]
struct JsonFunction<'a> {
    name: &'a str,
    file: Option<&'a str>,
    line: Option<u32>,
    #[serde(rename = "self")]
    self_weight: f64,
    total: f64,
    calls: Option<u64>,
    /// pstats' `cc`: calls that were not recursive.
    primitive_calls: Option<u64>,
}

/// The rows of `profiles`, sorted, the first `top`, and how many there are: from `taken` (see
/// [`take_rows`]) where given.
fn shown_rows(
    set: &crate::profile::ProfileSet,
    (profiles, taken): (&[&Profile], Option<Vec<FunctionRow>>),
    sort: SortKey,
    top: usize,
) -> (Vec<FunctionRow>, usize) {
    match taken {
        Some(rows) => top_rows(rows, set, sort, top),
        None => function_table_top(set, profiles, sort, top),
    }
}

pub fn write_json(
    out: &mut impl Write,
    loaded: &Loaded,
    (profiles, taken): (&[&Profile], Option<Vec<FunctionRow>>),
    sort: SortKey,
    top: Option<usize>,
) -> Result<(), CliError> {
    let set = &loaded.set;
    // Without --top, every row: the whole table, sorted.
    let (rows, _) = shown_rows(set, (profiles, taken), sort, top.unwrap_or(usize::MAX));
    let summary = JsonSummary {
        path: loaded.path.display().to_string(),
        format: loaded.format.as_str(),
        unit: unit_of(loaded, profiles).as_str(),
        total: set
            .profiles
            .iter()
            .filter(|p| profiles.first().is_none_or(|f| p.adds_to(f)))
            .map(|p| p.total)
            .sum(),
        profiles: set
            .profiles
            .iter()
            .map(|p| JsonProfile {
                name: &p.name,
                unit: p.unit.as_str(),
                total: p.total,
            })
            .collect(),
    };
    // `{...}` without its closing brace, then `,"functions":[...]}`: the object serde would
    // write with the rows as its last field.
    let mut head = Vec::new();
    crate::text::write_json(&mut head, &summary).map_err(io::Error::from)?;
    head.pop();
    out.write_all(&head)?;
    out.write_all(b",\"functions\":[")?;
    write_functions(out, &rows, &set.frames)?;
    out.write_all(b"]}\n")?;
    Ok(())
}

/// The rows as the derived `Serialize` of [`JsonFunction`] writes them, comma-separated, each
/// written as it is made rather than gathered first (a file of a million functions would
/// otherwise hold a second table of them). By hand: serde's field-by-field writing was most of
/// the JSON's cost, a millisecond for 5,000 rows after the file was read.
fn write_functions(
    out: &mut impl Write,
    rows: &[FunctionRow],
    frames: &crate::profile::FrameTable,
) -> io::Result<()> {
    for (i, row) in rows.iter().enumerate() {
        let f = frames.function(row.func);
        out.write_all(if i == 0 {
            b"{\"name\":"
        } else {
            b",{\"name\":"
        })?;
        write_str(out, f.name)?;
        out.write_all(b",\"file\":")?;
        match f.file {
            Some(file) => write_str(out, file)?,
            None => out.write_all(b"null")?,
        }
        out.write_all(b",\"line\":")?;
        write_value(out, &f.line)?;
        out.write_all(b",\"self\":")?;
        write_value(out, &row.self_weight)?;
        out.write_all(b",\"total\":")?;
        write_value(out, &row.total_weight)?;
        out.write_all(b",\"calls\":")?;
        write_value(out, &row.calls)?;
        out.write_all(b",\"primitive_calls\":")?;
        write_value(out, &row.primitive_calls)?;
        out.write_all(b"}")?;
    }
    Ok(())
}

/// A JSON string: as is between quotes when it is printable ASCII without a quote or backslash
/// (nearly every name), else as [`crate::text::write_json`] escapes it.
fn write_str(out: &mut impl Write, text: &str) -> io::Result<()> {
    let plain = text
        .bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\');
    if plain {
        out.write_all(b"\"")?;
        out.write_all(text.as_bytes())?;
        out.write_all(b"\"")
    } else {
        write_value(out, text)
    }
}

/// A number, null or string as serde_json writes it.
fn write_value(out: &mut impl Write, value: &(impl Serialize + ?Sized)) -> io::Result<()> {
    crate::text::write_json(out, value).map_err(io::Error::from)
}

/// The unit of the profiles shown: the file's, or that of the one `--thread` picked (pprof's
/// sample types differ in unit).
fn unit_of(loaded: &Loaded, profiles: &[&Profile]) -> crate::profile::Unit {
    profiles.first().map_or(loaded.set.unit(), |p| p.unit)
}

/// The table, heaviest first, like `python -m pstats`' `stats` with shares added; `top` rows,
/// each fitted to `width` columns where given.
pub fn print_table(
    out: &mut impl Write,
    loaded: &Loaded,
    (profiles, taken): (&[&Profile], Option<Vec<FunctionRow>>),
    sort: SortKey,
    (top, width): (Option<usize>, Option<usize>),
) -> Result<(), CliError> {
    let set = &loaded.set;
    let unit = unit_of(loaded, profiles);
    let total: f64 = profiles.iter().map(|p| p.total).sum();
    let (rows, count) = shown_rows(set, (profiles, taken), sort, top.unwrap_or(usize::MAX));
    writeln!(
        out,
        "{}: {}, {} profile{}, total {} ({}), {} functions",
        escape_control(&loaded.path.display().to_string()),
        loaded.format.description(),
        profiles.len(),
        if profiles.len() == 1 { "" } else { "s" },
        unit.format_weight(total),
        unit,
        count
    )?;
    let shown = top.unwrap_or(usize::MAX).min(rows.len());
    // A format without call counts (a sampled one) gets no column of dashes.
    let has_calls = rows[..shown].iter().any(|r| r.calls.is_some());
    writeln!(
        out,
        "{}{:>11} {:>6} {:>11} {:>6}  function",
        if has_calls {
            format!("{:>13} ", "ncalls")
        } else {
            String::new()
        },
        "self",
        "self%",
        "total",
        "total%"
    )?;
    let share = |w: f64| if total > 0.0 { 100.0 * w / total } else { 0.0 };
    let root = crate::analysis::place::project_root(&set.frames);
    for row in &rows[..shown] {
        write_row(
            out,
            loaded,
            row,
            (share(row.self_weight), share(row.total_weight)),
            unit,
            (has_calls, root.as_deref(), width),
        )?;
    }
    if shown < count {
        writeln!(out, "... {} more (--top N shows more)", count - shown)?;
    }
    Ok(())
}

/// One row; the place shortened as the UI shows it (`json/encoder.py`, project files from the
/// directory they share).
fn write_row(
    out: &mut impl Write,
    loaded: &Loaded,
    row: &FunctionRow,
    (self_share, total_share): (f64, f64),
    unit: crate::profile::Unit,
    (has_calls, root, width): (bool, Option<&str>, Option<usize>),
) -> io::Result<()> {
    let f = loaded.set.frames.function(row.func);
    let calls = if has_calls {
        format!("{:>13} ", calls_column(row.calls, row.primitive_calls))
    } else {
        String::new()
    };
    let short = |file: &str| escape_control(short_file(file, root)).into_owned();
    let place = match (&f.file, f.line) {
        (Some(file), Some(line)) => format!("  {}:{line}", short(file)),
        (Some(file), None) => format!("  {}", short(file)),
        _ => String::new(),
    };
    let figures = format!(
        "{calls}{:>11} {self_share:>5.1}% {:>11} {total_share:>5.1}%  ",
        unit.format_weight(row.self_weight),
        unit.format_weight(row.total_weight),
    );
    let name = escape_control(f.name);
    let Some(width) = width else {
        return writeln!(out, "{figures}{name}{place}");
    };
    // Fitted to the terminal: the name gives way in the middle (down to 16 characters), then
    // the place from its start.
    let room = width.saturating_sub(figures.chars().count());
    let name = middle_ellipsis(&name, room.saturating_sub(place.chars().count()).max(16));
    let place_room = room.saturating_sub(name.chars().count() + 2);
    let place = match place.strip_prefix("  ") {
        Some(p) if place_room >= 6 => format!("  {}", fit_path(p, place_room)),
        _ => String::new(),
    };
    writeln!(out, "{figures}{name}{place}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{FrameTable, FuncId, FunctionKey};

    #[test]
    fn rows_are_written_as_serde_writes_them() {
        let mut frames = FrameTable::new(FunctionKey::NameFile);
        let names = [
            ("main", Some("app.py"), Some(3)),
            ("plain", None, None),
            ("quote\"d \\ back", Some("dir\\f\"ile.py"), Some(u32::MAX)),
            ("ctl\x07\x7f\u{9b}é\u{202e}", Some("é.py"), None),
            ("", Some(""), Some(0)),
        ];
        for (name, file, line) in names {
            frames.intern(name, file, line);
        }
        let weights = [
            0.0,
            -0.0,
            1.5,
            1e300,
            f64::NAN,
            f64::INFINITY,
            123_456_789.0,
        ];
        let rows: Vec<FunctionRow> = (0..names.len() * weights.len())
            .map(|i| FunctionRow {
                func: FuncId((i % names.len()) as u32),
                self_weight: weights[i % weights.len()],
                total_weight: weights[(i / 3) % weights.len()],
                calls: (i % 2 == 0).then_some(i as u64 * 1_000_000_007),
                primitive_calls: (i % 3 == 0).then_some(i as u64),
            })
            .collect();
        for shown in [0, 1, rows.len()] {
            let rows = &rows[..shown];
            let mut written = Vec::new();
            write_functions(&mut written, rows, &frames).unwrap();
            let oracle: Vec<JsonFunction> = rows
                .iter()
                .map(|row| {
                    let f = frames.function(row.func);
                    JsonFunction {
                        name: f.name,
                        file: f.file,
                        line: f.line,
                        self_weight: row.self_weight,
                        total: row.total_weight,
                        calls: row.calls,
                        primitive_calls: row.primitive_calls,
                    }
                })
                .collect();
            let mut expected = Vec::new();
            crate::text::write_json(&mut expected, &oracle).unwrap();
            let expected = &expected[1..expected.len() - 1];
            assert_eq!(
                String::from_utf8_lossy(&written),
                String::from_utf8_lossy(expected)
            );
        }
    }
}
