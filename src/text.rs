//! Names from a file are data: they are escaped before they reach a terminal.

use std::borrow::Cow;

/// Escapes control characters (C0, DEL, C1) as `\xNN` / `\u{NN}`, and the invisible characters
/// that reorder or hide text (bidi overrides and isolates, marks, line and paragraph separators)
/// as `\u{NNNN}`, so that an escape sequence or a reversed name hidden in a file cannot drive the
/// terminal or disguise what is shown. Printable text, unicode included, is kept. Escaping
/// escaped text changes nothing, so a message escaped in part is safe to escape again.
pub fn escape_control(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if needs_escape(c) {
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

/// Characters a terminal acts on or that change how the text around them reads.
pub fn needs_escape(c: char) -> bool {
    c.is_control() || is_invisible_format(c)
}

/// Bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069), the direction marks
/// (U+200E, U+200F, U+061C) and the line and paragraph separators (U+2028, U+2029).
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
    )
}

/// The most an error or warning line may take, prefix included.
pub const MAX_LINE: usize = 300;

/// `prefix` and `message` as one line of at most [`MAX_LINE`] characters: the message escaped
/// (a newline in a name cannot start a forged second line) and cut in the middle when too long,
/// so that both the file named at the start and the reason at the end stay.
pub fn one_line(prefix: &str, message: &str) -> String {
    let escaped = escape_control(message);
    let room = MAX_LINE.saturating_sub(prefix.chars().count());
    format!("{prefix}{}", middle_ellipsis(&escaped, room))
}

/// `text` cut to `width` characters by taking out its middle (`_make_iterencode…_iterencode_dict`),
/// where names that share a start or an end differ least.
pub fn middle_ellipsis(text: &str, width: usize) -> Cow<'_, str> {
    let count = text.chars().count();
    if count <= width {
        return Cow::Borrowed(text);
    }
    if width == 0 {
        return Cow::Borrowed("");
    }
    let keep = width - 1;
    let head = keep.div_ceil(2);
    let tail = keep - head;
    let mut out: String = text.chars().take(head).collect();
    out.push('…');
    out.extend(text.chars().skip(count - tail));
    Cow::Owned(out)
}

/// A place cut to `width` from the left, whole directories first (`…/pricing.py:13`): its end
/// says most.
pub fn fit_path(place: &str, width: usize) -> std::borrow::Cow<'_, str> {
    let count = place.chars().count();
    if count <= width {
        return place.into();
    }
    let mut rest = place;
    while let Some((_, tail)) = rest.split_once('/') {
        rest = tail;
        if rest.chars().count() + 2 <= width {
            return format!("…/{rest}").into();
        }
    }
    // The file's own name, when that is all there is room for.
    if rest.len() < place.len() && rest.chars().count() <= width {
        return rest.into();
    }
    let keep = width.saturating_sub(1);
    let tail: String = place.chars().skip(count - keep).collect();
    if width == 0 {
        return "".into();
    }
    format!("…{tail}").into()
}

/// JSON for scripts: as serde_json writes it, with DEL, the C1 controls and the invisible
/// formatting characters of [`escape_control`] also written as `\uXXXX` escapes, so that the
/// output stays valid JSON that reads back to the same text and is safe to print on a terminal.
pub fn write_json<W: std::io::Write, T: serde::Serialize + ?Sized>(
    out: W,
    value: &T,
) -> serde_json::Result<()> {
    let mut serializer = serde_json::Serializer::with_formatter(out, TerminalSafe);
    value.serialize(&mut serializer)
}

/// serde_json's compact formatter with the escapes of [`write_json`].
struct TerminalSafe;

impl serde_json::ser::Formatter for TerminalSafe {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        // Printable ASCII, nearly every name, needs no escape: checked a byte at a time in one
        // pass that vectorizes, rather than a character at a time (half the JSON's cost for
        // 5,000 rows).
        if fragment.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            return writer.write_all(fragment.as_bytes());
        }
        let mut start = 0;
        for (at, c) in fragment.char_indices() {
            if needs_escape(c) {
                writer.write_all(&fragment.as_bytes()[start..at])?;
                write!(writer, "\\u{:04x}", c as u32)?;
                start = at + c.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
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
        assert_eq!(escape_control("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(escape_control("a\nb"), "a\\x0ab");
        // Escaping twice is escaping once.
        let once = escape_control("\x1b]2;PWNED\x07\u{202e}").into_owned();
        assert_eq!(escape_control(&once), once);
    }

    #[test]
    fn error_lines_are_one_line_of_at_most_300_characters() {
        let long = format!("{}\nobol: error: forged{}", "a".repeat(400), "z".repeat(50));
        let line = one_line("obol: error: ", &long);
        assert_eq!(line.chars().count(), MAX_LINE);
        assert!(!line.contains('\n'));
        assert!(line.ends_with(&"z".repeat(50)));
        assert_eq!(one_line("p: ", "short"), "p: short");
    }

    #[test]
    fn names_are_shortened_in_the_middle() {
        assert_eq!(
            middle_ellipsis("_make_iterencode.<locals>._iterencode_dict", 33),
            "_make_iterencode…_iterencode_dict"
        );
        assert_eq!(middle_ellipsis("short", 8), "short");
        assert_eq!(middle_ellipsis("abcdef", 1), "…");
    }

    #[test]
    fn places_keep_their_end() {
        assert_eq!(fit_path("shop/pricing.py:13", 20), "shop/pricing.py:13");
        assert_eq!(fit_path("json/encoder.py:334", 16), "…/encoder.py:334");
        assert_eq!(fit_path("json/encoder.py:334", 15), "encoder.py:334");
        assert_eq!(fit_path("json/encoder.py:334", 8), "….py:334");
    }

    #[test]
    fn json_escapes_del_c1_and_bidi_and_reads_back() {
        let name = "a\x7fb\u{9b}c\u{202e}d\x1b]2;PWNED\x07\ne\u{e9}";
        let mut out = Vec::new();
        write_json(&mut out, &serde_json::json!({ "name": name })).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.chars().any(needs_escape), "{text}");
        assert!(text.contains("\\u007f") && text.contains("\\u009b") && text.contains("\\u202e"));
        assert!(text.contains('\u{e9}'));
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["name"], name);
    }

    #[test]
    fn json_strings_are_escaped_as_char_by_char() {
        // The quick path for printable ASCII against the escape of each character, on every
        // character up to U+3000 and on texts mixing them.
        use std::io::Write;
        let by_char = |text: &str| {
            let mut out = Vec::new();
            for c in text.chars() {
                let mut one = [0; 4];
                let escaped = serde_json::to_string(c.encode_utf8(&mut one)).unwrap();
                let inner = &escaped[1..escaped.len() - 1];
                if needs_escape(c) && inner == c.encode_utf8(&mut one) {
                    write!(out, "\\u{:04x}", c as u32).unwrap();
                } else {
                    out.extend_from_slice(inner.as_bytes());
                }
            }
            String::from_utf8(out).unwrap()
        };
        let mut texts: Vec<String> = (0..0x3000u32)
            .filter_map(char::from_u32)
            .map(String::from)
            .collect();
        texts.push("fn_2729_emit (pkg184/mod36.py:1262)".into());
        texts.push("plain \"quoted\" \\ and\x7f\u{9b}é\u{202e} tail".into());
        for text in texts {
            let mut out = Vec::new();
            write_json(&mut out, &text).unwrap();
            assert_eq!(
                String::from_utf8(out).unwrap(),
                format!("\"{}\"", by_char(&text))
            );
        }
    }

    #[test]
    fn changes_of_share_are_signed_points() {
        assert_eq!(signed_percent(0.123), "+12.3%");
        assert_eq!(signed_percent(-0.05), "-5.0%");
        assert_eq!(signed_percent(0.0001), "0.0%");
    }
}
