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

/// A bar of `width` cells for a value in [0, 1], in eighths of a cell; `·` fills the bar of an
/// unknown value, so that unknown never reads as zero.
pub fn bar(value: Option<f64>, width: usize) -> String {
    const EIGHTHS: [char; 9] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉', '█'];
    let Some(value) = value else {
        return "·".repeat(width);
    };
    let eighths = (value.clamp(0.0, 1.0) * (width * 8) as f64).round() as usize;
    let mut out = "█".repeat(eighths / 8);
    if !eighths.is_multiple_of(8) {
        out.push(EIGHTHS[eighths % 8]);
    }
    while out.chars().count() < width {
        out.push(' ');
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_fill_in_eighths_and_mark_unknowns() {
        assert_eq!(bar(Some(1.0), 5), "█████");
        assert_eq!(bar(Some(0.0), 5), "     ");
        assert_eq!(bar(Some(0.5), 5), "██▌  ");
        assert_eq!(bar(None, 5), "·····");
    }

    #[test]
    fn escape_sequences_are_shown_not_sent() {
        assert_eq!(escape_control("plain δ_checksum"), "plain δ_checksum");
        assert_eq!(escape_control("evil\x1b[2Jname"), "evil\\x1b[2Jname");
        assert_eq!(escape_control("tab\there\u{9b}"), "tab\\x09here\\u{9b}");
        assert_eq!(escape_control("bell\x07\x7f"), "bell\\x07\\x7f");
    }

    #[test]
    fn changes_of_share_are_signed_points() {
        assert_eq!(signed_percent(0.123), "+12.3%");
        assert_eq!(signed_percent(-0.05), "-5.0%");
        assert_eq!(signed_percent(0.0001), "0.0%");
    }
}
