//! `obol merge A B… -o OUT`: runs of one program added together, written as speedscope (or as
//! `--to` asks), so that several short captures read as one long one.

use std::io::Write;

use super::convert::{check_interval, check_not_binary_to_terminal, create, write_as};
use super::{CliError, MergeArgs};
use crate::analysis::runs::add_runs;

pub fn run(args: &MergeArgs) -> Result<(), CliError> {
    check_interval(args.interval)?;
    check_not_binary_to_terminal(args.to, Some(&args.output))?;
    let loaded = args
        .files
        .iter()
        .map(|path| args.filters.load(path, false))
        .collect::<Result<Vec<_>, _>>()?;
    let sets: Vec<_> = loaded.iter().map(|l| &l.set).collect();
    let sum = add_runs(&sets).map_err(CliError::Usage)?;
    let profiles: Vec<_> = sum.profiles.iter().collect();
    let name = format!("{} runs merged", loaded.len());
    let mut out = create(Some(&args.output))?;
    write_as(&mut out, args.to, &name, &sum, &profiles, args.interval)?;
    out.flush()?;
    Ok(())
}
