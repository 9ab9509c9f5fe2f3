//! `obol convert FILE --to speedscope|folded|pstats [-o OUT]`: a profile written for the viewers
//! people already use (speedscope, inferno and flamegraph.pl, snakeviz and gprof2dot).

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};

use super::summary::select_profiles;
use super::{CliError, ConvertArgs, ConvertTo};
use crate::export;

pub fn run(args: &ConvertArgs) -> Result<(), CliError> {
    if !(args.interval.is_finite() && args.interval > 0.0) {
        return Err(CliError::Usage(format!(
            "--interval must be a positive number of seconds, not {}",
            args.interval
        )));
    }
    if args.to == ConvertTo::Pstats && args.output.is_none() && io::stdout().is_terminal() {
        return Err(CliError::Usage(
            "pstats is binary: write it to a file with -o OUT (or redirect standard output)".into(),
        ));
    }
    // pstats to pstats needs only the function table; the other ways need the call tree.
    let loaded = if args.to == ConvertTo::Pstats {
        super::load_for_table(&args.file)?
    } else {
        super::load(&args.file)?
    };
    let profiles = select_profiles(&loaded, args.thread.as_deref())?;
    let mut out: BufWriter<Box<dyn Write>> = BufWriter::new(match &args.output {
        Some(path) => Box::new(File::create(path).map_err(|e| {
            CliError::Usage(format!(
                "cannot write {}: {e}",
                crate::text::escape_control(&path.display().to_string())
            ))
        })?),
        None => Box::new(io::stdout().lock()),
    });
    let set = &loaded.set;
    match args.to {
        ConvertTo::Speedscope => {
            let name = loaded
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            export::speedscope::write(&mut out, &name, set, &profiles)?;
        }
        ConvertTo::Folded => {
            let scale = export::folded::count_scale(&profiles);
            if scale.factor != 1.0 {
                eprintln!("obol: note: folded counts are whole {}", scale.unit);
            }
            export::folded::write(&mut out, set, &profiles, scale)?;
        }
        ConvertTo::Pstats => {
            out.write_all(&export::pstats::write(set, &profiles, args.interval))?;
        }
    }
    out.flush()?;
    Ok(())
}
