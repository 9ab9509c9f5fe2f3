//! A tokenizer for Python source, enough to count decision points and read imports: logical
//! lines (brackets and backslashes joined), names, operators, and strings and numbers as opaque
//! tokens, with f-string expressions opened up. Not a parser.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Name,
    Op,
    Other,
}

#[derive(Debug, Clone, Copy)]
pub struct Token<'a> {
    pub kind: Kind,
    pub text: &'a str,
    pub line: u32,
}

impl Token<'_> {
    /// True for the keyword, name or operator `word` (never for a string that spells it).
    pub fn is(&self, word: &str) -> bool {
        self.text == word && self.kind != Kind::Other
    }
}

pub struct LogicalLine<'a> {
    /// Column of the first token, tabs to multiples of 8.
    pub indent: usize,
    pub tokens: Vec<Token<'a>>,
}

/// Splits source into logical lines (brackets and backslashes join physical lines), dropping
/// comments and blank lines and reducing strings and numbers to opaque tokens.
pub fn logical_lines(source: &str) -> Vec<LogicalLine<'_>> {
    let bytes = source.as_bytes();
    let mut lines = Vec::new();
    let mut tokens: Vec<Token<'_>> = Vec::new();
    let mut indent = 0;
    let mut depth = 0usize;
    let mut line = 1u32;
    let mut column = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'\n' => {
                line += 1;
                column = 0;
                i += 1;
                if depth == 0 && !tokens.is_empty() {
                    lines.push(LogicalLine {
                        indent,
                        tokens: std::mem::take(&mut tokens),
                    });
                }
                continue;
            }
            b' ' | b'\r' | b'\x0c' => {
                column += 1;
                i += 1;
                continue;
            }
            b'\t' => {
                column = (column / 8 + 1) * 8;
                i += 1;
                continue;
            }
            b'\\' if bytes.get(i + 1) == Some(&b'\n') => {
                line += 1;
                column = 0;
                i += 2;
                continue;
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            _ => {}
        }
        if tokens.is_empty() {
            indent = column;
        }
        let start = i;
        let start_line = line;
        let kind;
        if let Some(end) = string_end(bytes, i) {
            // Strings may span lines (triple quotes): keep the line count right.
            line += bytes[i..end].iter().filter(|&&c| c == b'\n').count() as u32;
            i = end;
            // An f-string's braces hold expressions, which radon counts like any other.
            if is_f_string(&bytes[start..end]) {
                for expression in f_string_expressions(&source[start..end]) {
                    for inner in logical_lines(expression) {
                        tokens.extend(inner.tokens.into_iter().map(|t| Token {
                            line: start_line,
                            ..t
                        }));
                    }
                }
            }
            column += i - start;
            tokens.push(Token {
                kind: Kind::Other,
                text: &source[start..i],
                line: start_line,
            });
            continue;
        } else if b == b'_' || b.is_ascii_alphabetic() || b >= 0x80 {
            while i < bytes.len()
                && (bytes[i] == b'_' || bytes[i].is_ascii_alphanumeric() || bytes[i] >= 0x80)
            {
                i += 1;
            }
            kind = Kind::Name;
        } else if b.is_ascii_digit()
            || (b == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'.' || bytes[i] == b'_')
            {
                i += 1;
            }
            kind = Kind::Other;
        } else {
            match b {
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => depth = depth.saturating_sub(1),
                _ => {}
            }
            // `:=` and `->` are single operators; neither may be mistaken for a header's colon.
            let two = bytes.get(i..i + 2);
            i += if matches!(two, Some(b":=") | Some(b"->")) {
                2
            } else {
                1
            };
            // Keep multi-byte characters whole so the slice stays on char boundaries.
            while i < bytes.len() && !source.is_char_boundary(i) {
                i += 1;
            }
            kind = Kind::Op;
        }
        column += i - start;
        tokens.push(Token {
            kind,
            text: &source[start..i],
            line: start_line,
        });
    }
    if !tokens.is_empty() {
        lines.push(LogicalLine { indent, tokens });
    }
    lines
}

fn is_f_string(literal: &[u8]) -> bool {
    literal
        .iter()
        .take_while(|&&b| b != b'"' && b != b'\'')
        .any(|&b| b == b'f' || b == b'F')
}

/// The text inside each top-level `{...}` of an f-string literal (`{{` is a literal brace).
fn f_string_expressions(literal: &str) -> Vec<&str> {
    let bytes = literal.as_bytes();
    let mut out = Vec::new();
    let mut i = bytes
        .iter()
        .position(|&b| b == b'"' || b == b'\'')
        .unwrap_or(bytes.len());
    while i < bytes.len() {
        match bytes[i] {
            b'{' if bytes.get(i + 1) == Some(&b'{') => i += 2,
            b'{' => {
                let start = i + 1;
                let mut depth = 1;
                let mut j = start;
                while j < bytes.len() && depth > 0 {
                    if let Some(end) =
                        string_end(bytes, j).filter(|_| bytes[j] == b'"' || bytes[j] == b'\'')
                    {
                        j = end;
                        continue;
                    }
                    match bytes[j] {
                        b'{' | b'(' | b'[' => depth += 1,
                        b'}' | b')' | b']' => depth -= 1,
                        _ => {}
                    }
                    j += 1;
                }
                if depth == 0 && literal.is_char_boundary(start) && literal.is_char_boundary(j - 1)
                {
                    out.push(&literal[start..j - 1]);
                }
                i = j;
            }
            _ => i += 1,
        }
    }
    out
}

/// If a string literal (with any prefix) starts at `i`, the offset just past it.
fn string_end(bytes: &[u8], i: usize) -> Option<usize> {
    let mut q = i;
    while q < bytes.len()
        && q - i < 3
        && matches!(bytes[q].to_ascii_lowercase(), b'r' | b'b' | b'u' | b'f')
    {
        q += 1;
    }
    let quote = *bytes.get(q)?;
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    // A name such as `bar"` is not a prefix: only runs of prefix letters directly before a quote.
    if q > i && i > 0 && (bytes[i - 1] == b'_' || bytes[i - 1].is_ascii_alphanumeric()) {
        return None;
    }
    let triple = bytes.get(q..q + 3) == Some(&[quote, quote, quote][..]);
    let mut j = q + if triple { 3 } else { 1 };
    while j < bytes.len() {
        match bytes[j] {
            b'\\' => j += 2,
            b'\n' if !triple => return Some(j),
            c if c == quote => {
                if !triple {
                    return Some(j + 1);
                }
                if bytes.get(j..j + 3) == Some(&[quote, quote, quote][..]) {
                    return Some(j + 3);
                }
                j += 1;
            }
            _ => j += 1,
        }
    }
    Some(bytes.len())
}
