//! What an action asks of the world outside the state: the clipboard, the editor and a full
//! repaint. `update` only records the request; the event loop carries it out, since it owns the
//! terminal.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use super::input::InputControl;
use super::terminal::{self, Tui};
pub use crate::analysis::source_file::resolve_source;

/// A request left by `update` for the event loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Put text on the clipboard of the terminal the user sits at.
    Copy(String),
    /// Open `file` (as the profile names it: found under `source_roots` or, for a relative
    /// standard-library path, in the interpreter's library) at `line` in `$EDITOR`.
    Edit {
        file: String,
        line: Option<u32>,
        source_roots: Vec<PathBuf>,
        /// The config file's editor command, if it gives one.
        editor: Option<String>,
    },
    /// Paint the whole screen again (Ctrl-L).
    Repaint,
}

/// Carries out an effect; returns a message for the status line.
pub fn run(effect: Effect, tui: &mut Tui, input: &InputControl) -> Option<String> {
    match effect {
        Effect::Copy(text) => Some(match copy(&text) {
            Ok(()) => format!("{text}: sent to the terminal's clipboard (OSC 52)"),
            Err(e) => format!("copy failed: {e}"),
        }),
        Effect::Edit {
            file,
            line,
            source_roots,
            editor,
        } => Some(match resolve_source(&file, &source_roots) {
            Some(path) => edit(tui, input, &path, line, editor.as_deref()),
            None => format!("no such file here: {file}"),
        }),
        Effect::Repaint => match tui.clear() {
            Ok(()) => None,
            Err(e) => Some(format!("could not repaint: {e}")),
        },
    }
}

/// OSC 52: the terminal sets its own clipboard, so this works over SSH and inside tmux (with
/// `set-clipboard on`).
fn copy(text: &str) -> io::Result<()> {
    let mut out = io::stdout();
    write!(out, "\x1b]52;c;{}\x07", base64(text.as_bytes()))?;
    out.flush()
}

/// Runs the editor on the terminal: obol's input thread stops reading first (so that no key
/// meant for the editor reaches obol) and reads again once the editor has exited and the screen
/// is obol's again.
fn edit(
    tui: &mut Tui,
    input: &InputControl,
    file: &Path,
    line: Option<u32>,
    configured: Option<&str>,
) -> String {
    let editor = configured.map(str::to_owned).unwrap_or_else(|| {
        std::env::var("VISUAL")
            .or_else(|_| std::env::var("EDITOR"))
            .unwrap_or_else(|_| "vi".into())
    });
    let Some(mut command) = editor_command(&editor, file, line) else {
        return "$EDITOR is empty".into();
    };
    let program = editor
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned();
    input.pause();
    terminal::suspend();
    let status = command.status();
    let resumed = terminal::resume(tui);
    input.resume();
    let file = file.display();
    match (status, resumed) {
        (_, Err(e)) => format!("could not take the terminal back: {e}"),
        (Ok(s), Ok(())) if s.success() => format!("edited {file}"),
        (Ok(s), Ok(())) => format!("{program} exited with {s}"),
        (Err(e), Ok(())) => format!("could not run {program}: {e}"),
    }
}

/// The command that opens `file` at `line`: `editor` split into words (`code --wait`), with
/// `{file}` and `{line}` replaced where it has them (`code -g {file}:{line}`), else with
/// `+LINE FILE` added, which vi, vim, nano, emacs, micro, helix and kakoune all understand.
pub fn editor_command(editor: &str, file: &Path, line: Option<u32>) -> Option<Command> {
    let mut words = editor.split_whitespace();
    let program = words.next()?;
    let mut command = Command::new(program);
    let file_text = file.to_string_lossy();
    let line_text = line.unwrap_or(1).to_string();
    if editor.contains("{file}") {
        command.args(words.map(|w| {
            w.replace("{file}", &file_text)
                .replace("{line}", &line_text)
        }));
    } else {
        command.args(words);
        if let Some(line) = line {
            command.arg(format!("+{line}"));
        }
        command.arg(file);
    }
    Some(command)
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
    use std::path::Path;

    use super::{base64, editor_command};

    #[test]
    fn an_editor_command_gets_the_place_where_it_asks_else_plus_line_file() {
        let args = |editor: &str| -> Vec<String> {
            let command = editor_command(editor, Path::new("/src/a b.py"), Some(7)).unwrap();
            std::iter::once(command.get_program())
                .chain(command.get_args())
                .map(|a| a.to_string_lossy().into_owned())
                .collect()
        };
        assert_eq!(
            args("code -g {file}:{line}"),
            ["code", "-g", "/src/a b.py:7"]
        );
        assert_eq!(args("vim"), ["vim", "+7", "/src/a b.py"]);
        assert_eq!(args("emacs -nw"), ["emacs", "-nw", "+7", "/src/a b.py"]);
        assert!(editor_command("  ", Path::new("x"), None).is_none());
    }

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
