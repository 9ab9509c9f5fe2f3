//! `obol convert FILE --to speedscope|folded|pstats [-o OUT]`: a profile written for the viewers
//! people already use (speedscope, inferno and flamegraph.pl, snakeviz and gprof2dot).

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::Path;

use super::summary::select_profiles;
use super::{CliError, ConvertArgs, ConvertTo};
use crate::export;
use crate::profile::{Profile, ProfileSet};

pub fn run(args: &ConvertArgs) -> Result<(), CliError> {
    check_interval(args.interval)?;
    check_not_binary_to_terminal(args.to, args.output.as_deref())?;
    // pstats to pstats needs only the function table; the other ways need the call tree.
    let loaded = args
        .filters
        .load(&args.file, args.to == ConvertTo::Pstats)?;
    let profiles = select_profiles(&loaded);
    let name = loaded
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut out = create(args.output.as_deref())?;
    write_as(
        &mut out,
        args.to,
        &name,
        &loaded.set,
        &profiles,
        args.interval,
    )?;
    out.flush()?;
    Ok(())
}

/// pstats written to standard output is refused where that is a terminal.
pub fn check_not_binary_to_terminal(to: ConvertTo, path: Option<&Path>) -> Result<(), CliError> {
    if to == ConvertTo::Pstats && is_stdout(path) && io::stdout().is_terminal() {
        return Err(CliError::Usage(
            "pstats is binary: write it to a file with -o OUT (or redirect standard output)".into(),
        ));
    }
    Ok(())
}

/// Whether output to `path` goes to standard output: none given, or `-` (as `-` is standard
/// input for every command).
fn is_stdout(path: Option<&Path>) -> bool {
    path.is_none_or(|path| path == Path::new("-"))
}

/// A buffered writer to `path`, or to standard output (see [`is_stdout`]).
pub fn create(path: Option<&Path>) -> Result<BufWriter<Box<dyn Write>>, CliError> {
    Ok(BufWriter::new(match path {
        Some(path) if !is_stdout(Some(path)) => Box::new(File::create(path).map_err(|e| {
            CliError::Usage(format!(
                "cannot write {}: {e}",
                crate::text::escape_control(&path.display().to_string())
            ))
        })?),
        _ => Box::new(io::stdout().lock()),
    }))
}

/// `profiles` of `set` written as `to` asks; `name` names a speedscope file.
pub fn write_as(
    out: &mut impl Write,
    to: ConvertTo,
    name: &str,
    set: &ProfileSet,
    profiles: &[&Profile],
    interval: f64,
) -> Result<(), CliError> {
    match to {
        ConvertTo::Speedscope => export::speedscope::write(out, name, set, profiles)?,
        ConvertTo::Folded => {
            let scale = export::folded::count_scale(profiles);
            if scale.factor != 1.0 {
                eprintln!("obol: note: folded counts are whole {}", scale.unit);
            }
            export::folded::write(out, set, profiles, scale)?;
        }
        ConvertTo::Pstats => out.write_all(&export::pstats::write(set, profiles, interval))?,
    }
    Ok(())
}

/// `--interval` is a positive number of seconds.
pub fn check_interval(interval: f64) -> Result<(), CliError> {
    if interval.is_finite() && interval > 0.0 {
        Ok(())
    } else {
        Err(CliError::Usage(format!(
            "--interval must be a positive number of seconds, not {interval}"
        )))
    }
}
