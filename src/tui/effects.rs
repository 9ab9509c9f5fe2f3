//! What an action asks of the world outside the state: the clipboard and the editor. `update`
//! only records the request; the event loop carries it out, since it owns the terminal.

use std::io::{self, Write};
use std::process::Command;

use super::terminal::{self, Tui};

/// A request left by `update` for the event loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Put text on the clipboard of the terminal the user sits at.
    Copy(String),
    /// Open `file` at `line` in `$EDITOR`.
    Edit { file: String, line: Option<u32> },
}

/// Carries out an effect; returns a message for the status line.
pub fn run(effect: Effect, tui: &mut Tui) -> String {
    match effect {
        Effect::Copy(text) => match copy(&text) {
            Ok(()) => format!("copied: {text}"),
            Err(e) => format!("copy failed: {e}"),
        },
        Effect::Edit { file, line } => edit(tui, &file, line),
    }
}

/// OSC 52: the terminal sets its own clipboard, so this works over SSH and inside tmux (with
/// `set-clipboard on`).
fn copy(text: &str) -> io::Result<()> {
    let mut out = io::stdout();
    write!(out, "\x1b]52;c;{}\x07", base64(text.as_bytes()))?;
    out.flush()
}

fn edit(tui: &mut Tui, file: &str, line: Option<u32>) -> String {
    if !std::path::Path::new(file).is_file() {
        return format!("no such file here: {file}");
    }
    let editor = std::env::var("VISUAL")
        .or_else(|_| std::env::var("EDITOR"))
        .unwrap_or_else(|_| "vi".into());
    // `$EDITOR` may carry arguments (`code --wait`); `+LINE FILE` is understood by vi, vim,
    // nano, emacs, micro, helix and kakoune alike.
    let mut words = editor.split_whitespace();
    let Some(program) = words.next() else {
        return "$EDITOR is empty".into();
    };
    let mut command = Command::new(program);
    command.args(words);
    if let Some(line) = line {
        command.arg(format!("+{line}"));
    }
    command.arg(file);
    terminal::suspend();
    let status = command.status();
    let resumed = terminal::resume(tui);
    match (status, resumed) {
        (_, Err(e)) => format!("could not take the terminal back: {e}"),
        (Ok(s), Ok(())) if s.success() => format!("edited {file}"),
        (Ok(s), Ok(())) => format!("{program} exited with {s}"),
        (Err(e), Ok(())) => format!("could not run {program}: {e}"),
    }
}

/// Standard base64 with padding.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::base64;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), expected);
        }
    }
}
