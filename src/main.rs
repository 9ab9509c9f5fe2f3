use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

/// Every way out of the program: 0 done, 1 a regression gate failed (`diff --fail-above`), 2
/// failed (bad input, bad usage, output that could not be written). Signals end a command with
/// 128 + their number (see `cli::exit_on_signals`).
fn main() -> ExitCode {
    if color_eyre::install().is_err() {
        return ExitCode::from(2);
    }
    obol::import::before_large_read(keep_freed_memory);
    let cli = match obol::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return clap_exit(&e),
    };
    match obol::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // `obol summary big.prof | head`: the reader has what it wanted; not a failure.
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            // Escaped and kept to one line here, where it is printed: names, paths and SVG titles
            // from a file reach this line. Nothing better to do when stderr cannot be written
            // either: the status says it.
            let line = obol::text::one_line("obol: error: ", &e.to_string());
            let _ = writeln!(std::io::stderr(), "{line}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// Has the allocator keep memory that is freed for the next blocks rather than give it back.
///
/// glibc maps each block above a threshold (128 KiB at first) afresh and unmaps it when it is
/// freed, so that the memory of a large file, let go once it is read, and of the reader's
/// tables would be faulted in again page by page for the call tree that follows (some 1.7 µs a
/// page, a third of the time of a large pstats file). Freeing a block larger than the
/// threshold raises the threshold to its size (mallopt(3), the dynamic mmap threshold), up to
/// 32 MiB: blocks below it then come from the heap, which keeps what is freed for reuse. With
/// other allocators this is one allocation that touches no memory. Only before a file is read
/// whole: for a streamed folded file it raised the peak (100 MB instead of 70 MB for 98 MB
/// read) and saved no time.
fn keep_freed_memory() {
    let block: Vec<u8> = Vec::with_capacity((32 << 20) - (64 << 10));
    // Allocated and freed for real, not optimized away.
    std::hint::black_box(&block);
}

/// clap's help, version and usage errors, printed without its `exit`, which ignores a failed
/// write: help or version that could not be written is exit 2, like any other output.
fn clap_exit(error: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let informational = matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    let text = error.render().to_string();
    let written = if informational {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes()).and_then(|()| out.flush())
    } else {
        std::io::stderr().lock().write_all(text.as_bytes())
    };
    match written {
        Ok(()) if informational => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        _ => ExitCode::from(2),
    }
}
