//! Names from a file are data: they are escaped before they reach a terminal.

use std::borrow::Cow;

/// Escapes control characters (C0, DEL, C1) as `\xNN` / `\u{NN}` so that an escape sequence
/// hidden in a frame name cannot drive the terminal. Printable text, unicode included, is kept.
pub fn escape_control(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            let code = c as u32;
            if code < 0x80 {
                out.push_str(&format!("\\x{code:02x}"));
            } else {
                out.push_str(&format!("\\u{{{code:x}}}"));
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_shown_not_sent() {
        assert_eq!(escape_control("plain δ_checksum"), "plain δ_checksum");
        assert_eq!(escape_control("evil\x1b[2Jname"), "evil\\x1b[2Jname");
        assert_eq!(escape_control("tab\there\u{9b}"), "tab\\x09here\\u{9b}");
        assert_eq!(escape_control("bell\x07\x7f"), "bell\\x07\\x7f");
    }
}
