//! Colours: a stable hue per package, or heat by self time, in truecolor, 256 colours, the 16
//! colours every terminal has, or none; and the characters drawn, Unicode or ASCII only.

use ratatui::style::{Color, Modifier, Style};

/// What the terminal can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorSupport {
    TrueColor,
    Indexed,
    /// The 16 ANSI colours: a terminal that does not claim 256 (`TERM` without `256color`, no
    /// `COLORTERM`).
    Basic,
    /// `NO_COLOR`: frames are told apart by alternating reverse video.
    None,
}

impl ColorSupport {
    /// From the environment: `NO_COLOR` (any non-empty value) wins, then `COLORTERM`, then
    /// whether `TERM` names a 256-colour terminal.
    pub fn detect() -> ColorSupport {
        let var = |name: &str| std::env::var(name).unwrap_or_default();
        ColorSupport::from_env(&var("NO_COLOR"), &var("COLORTERM"), &var("TERM"))
    }

    /// [`ColorSupport::detect`] for the given values (empty: unset).
    pub fn from_env(no_color: &str, colorterm: &str, term: &str) -> ColorSupport {
        if !no_color.is_empty() {
            ColorSupport::None
        } else if colorterm == "truecolor" || colorterm == "24bit" {
            ColorSupport::TrueColor
        } else if !colorterm.is_empty() || term.contains("256color") || term.contains("direct") {
            ColorSupport::Indexed
        } else {
            ColorSupport::Basic
        }
    }
}

/// Whether the locale's character set is UTF-8: the first of `LC_ALL`, `LC_CTYPE` and `LANG`
/// that is set decides, as for every C program; none set is the C locale, ASCII.
pub fn utf8_locale() -> bool {
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    utf8_in(&[&var("LC_ALL"), &var("LC_CTYPE"), &var("LANG")])
}

/// [`utf8_locale`] for the given values, in order of precedence (empty: unset).
pub fn utf8_in(values: &[&str]) -> bool {
    values.iter().find(|v| !v.is_empty()).is_some_and(|v| {
        let v = v.to_ascii_lowercase();
        v.contains("utf-8") || v.contains("utf8")
    })
}

#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub support: ColorSupport,
    /// ASCII only (a locale that is not UTF-8): every other character drawn is replaced with
    /// its nearest ASCII one before the frame reaches the terminal (see [`ascii_symbol`]).
    pub ascii: bool,
}

/// The 16-colour palette for packages, with black text readable on each.
const BASIC: [Color; 12] = [
    Color::Red,
    Color::Green,
    Color::Yellow,
    Color::Blue,
    Color::Magenta,
    Color::Cyan,
    Color::LightRed,
    Color::LightGreen,
    Color::LightYellow,
    Color::LightBlue,
    Color::LightMagenta,
    Color::LightCyan,
];

/// Distinct 256-colour palette entries with dark text readable on each.
const INDEXED: [u8; 12] = [167, 173, 179, 143, 107, 72, 73, 74, 104, 140, 175, 138];

impl Theme {
    pub fn new(support: ColorSupport) -> Theme {
        Theme {
            support,
            ascii: false,
        }
    }

    /// The theme the environment asks for: colours and character set.
    pub fn detect() -> Theme {
        Theme {
            support: ColorSupport::detect(),
            ascii: !utf8_locale(),
        }
    }

    /// A frame coloured by the package it belongs to; `alternate` distinguishes neighbours
    /// where colour cannot.
    pub fn frame(&self, package: &str, alternate: bool) -> Style {
        self.frame_hashed(package_hash(package), alternate)
    }

    /// [`Theme::frame`] of the package whose [`package_hash`] is `hash`: a flame pane hashes
    /// each frame's package once, not at every frame drawn.
    pub fn frame_hashed(&self, hash: u64, alternate: bool) -> Style {
        match self.support {
            ColorSupport::TrueColor => {
                let hue = (hash % 360) as f64;
                let lightness = if alternate { 0.62 } else { 0.68 };
                Style::new().bg(hsl(hue, 0.55, lightness)).fg(Color::Black)
            }
            ColorSupport::Indexed => {
                let index = INDEXED[(hash as usize + usize::from(alternate)) % INDEXED.len()];
                Style::new().bg(Color::Indexed(index)).fg(Color::Black)
            }
            ColorSupport::Basic => {
                let color = BASIC[(hash as usize + usize::from(alternate)) % BASIC.len()];
                Style::new().bg(color).fg(Color::Black)
            }
            ColorSupport::None => {
                if alternate {
                    Style::new().add_modifier(Modifier::REVERSED)
                } else {
                    Style::new().add_modifier(Modifier::UNDERLINED)
                }
            }
        }
    }

    /// A frame coloured by its share of self time, `heat` in [0, 1]: cool to hot.
    pub fn heat(&self, heat: f64, alternate: bool) -> Style {
        let heat = heat.clamp(0.0, 1.0);
        match self.support {
            ColorSupport::TrueColor => {
                // From a pale yellow to a deep red.
                let hue = 50.0 * (1.0 - heat);
                Style::new()
                    .bg(hsl(hue, 0.85, 0.75 - 0.3 * heat))
                    .fg(Color::Black)
            }
            ColorSupport::Indexed => {
                const RAMP: [u8; 6] = [230, 229, 221, 215, 209, 203];
                let step = (heat * (RAMP.len() - 1) as f64).round() as usize;
                Style::new().bg(Color::Indexed(RAMP[step])).fg(Color::Black)
            }
            ColorSupport::Basic => {
                const RAMP: [Color; 4] = [
                    Color::LightYellow,
                    Color::Yellow,
                    Color::LightRed,
                    Color::Red,
                ];
                let step = (heat * (RAMP.len() - 1) as f64).round() as usize;
                Style::new().bg(RAMP[step]).fg(Color::Black)
            }
            ColorSupport::None => self.frame("", alternate),
        }
    }

    /// A frame of the difference view: red where its share grew, blue where it shrank, the
    /// deeper the larger the change (`scaled` in [-1, 1], the change over the largest change).
    pub fn delta(&self, scaled: f64, alternate: bool) -> Style {
        let strength = scaled.abs().clamp(0.0, 1.0);
        match self.support {
            ColorSupport::TrueColor => {
                let hue = if scaled >= 0.0 { 0.0 } else { 220.0 };
                let saturation = 0.15 + 0.75 * strength;
                Style::new()
                    .bg(hsl(hue, saturation, 0.78 - 0.25 * strength))
                    .fg(Color::Black)
            }
            ColorSupport::Indexed => {
                const GREW: [u8; 4] = [224, 217, 210, 203];
                const SHRANK: [u8; 4] = [189, 153, 117, 75];
                let step = (strength * 3.0).round() as usize;
                let index = if scaled >= 0.0 {
                    GREW[step]
                } else {
                    SHRANK[step]
                };
                Style::new().bg(Color::Indexed(index)).fg(Color::Black)
            }
            // Two depths of each: the bright one for small changes.
            ColorSupport::Basic => {
                let deep = strength >= 0.5;
                let color = match (scaled >= 0.0, deep) {
                    (true, false) => Color::LightRed,
                    (true, true) => Color::Red,
                    (false, false) => Color::LightBlue,
                    (false, true) => Color::Blue,
                };
                Style::new().bg(color).fg(Color::Black)
            }
            // Without colour: bold for growth, dim for shrinkage.
            ColorSupport::None => {
                let base = self.frame("", alternate);
                if scaled > 0.05 {
                    base.add_modifier(Modifier::BOLD)
                } else if scaled < -0.05 {
                    base.add_modifier(Modifier::DIM)
                } else {
                    base
                }
            }
        }
    }

    /// The selected frame or row.
    pub fn selected(&self) -> Style {
        match self.support {
            ColorSupport::None => Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED),
            _ => Style::new()
                .bg(Color::White)
                .fg(Color::Black)
                .add_modifier(Modifier::BOLD),
        }
    }

    /// A search match.
    pub fn matched(&self) -> Style {
        match self.support {
            ColorSupport::None => Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            _ => Style::new()
                .bg(Color::Magenta)
                .fg(Color::White)
                .add_modifier(Modifier::BOLD),
        }
    }

    /// Frames that do not match an active search.
    pub fn dimmed(&self) -> Style {
        match self.support {
            ColorSupport::None => Style::new().add_modifier(Modifier::DIM),
            ColorSupport::Basic => Style::new().bg(Color::Black).fg(Color::DarkGray),
            _ => Style::new().bg(Color::Indexed(238)).fg(Color::Indexed(250)),
        }
    }

    pub fn tab(&self, active: bool) -> Style {
        if active {
            Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED)
        } else {
            Style::new()
        }
    }

    pub fn header(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }
}

/// The ASCII character drawn for a symbol outside ASCII: arrows, ellipses, separators, box
/// drawing and eighth blocks by their look, any other character (a name's `δ`) as `?`.
pub fn ascii_symbol(symbol: &str) -> &'static str {
    let Some(c) = symbol.chars().next() else {
        return " ";
    };
    match c {
        '…' => "~",
        '·' | '•' => ".",
        '→' | '⇒' => ">",
        '←' => "<",
        '⇄' | '↔' => "=",
        '▲' | '↑' => "^",
        '▼' | '↓' => "v",
        '×' => "x",
        'Δ' => "D",
        'µ' | 'μ' => "u",
        '–' | '—' | '─' | '━' | '═' | '╌' | '┄' => "-",
        '│' | '┃' | '║' | '╎' | '┆' => "|",
        '\u{2500}'..='\u{257f}' => "+",
        '▏' | '▎' | '▍' => "|",
        '▌' | '▋' | '▊' | '▉' | '█' | '▐' => "#",
        '≥' => ">",
        '≤' => "<",
        '⟦' => "[",
        '⟧' => "]",
        _ => "?",
    }
}

/// 64-bit FNV-1a: a hash that stays the same across runs and builds, so a package keeps its
/// colour.
/// What a package's colour is picked by.
pub fn package_hash(package: &str) -> u64 {
    fnv1a(package.as_bytes())
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn hsl(hue: f64, saturation: f64, lightness: f64) -> Color {
    let c = (1.0 - (2.0 * lightness - 1.0).abs()) * saturation;
    let h = hue / 60.0;
    let x = c * (1.0 - (h % 2.0 - 1.0).abs());
    let (r, g, b) = match h as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = lightness - c / 2.0;
    let to_byte = |v: f64| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    Color::Rgb(to_byte(r), to_byte(g), to_byte(b))
}

/// The package a frame belongs to, for colouring: the top-level name of its module, from the
/// file path (`.../site-packages/requests/api.py` → `requests`), else the name's first part.
pub fn package_of(file: Option<&str>, name: &str) -> String {
    let Some(file) = file else {
        return name
            .split(['.', ':', ' '])
            .next()
            .unwrap_or(name)
            .to_owned();
    };
    for marker in ["site-packages/", "dist-packages/"] {
        if let Some(at) = file.rfind(marker) {
            let rest = &file[at + marker.len()..];
            return rest.split('/').next().unwrap_or(rest).to_owned();
        }
    }
    // Standard library and project files: the directory holding the file.
    let mut parts = file.rsplit('/');
    let stem = parts.next().unwrap_or(file);
    parts.next().unwrap_or(stem).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hues_are_stable_and_packages_are_found() {
        let theme = Theme::new(ColorSupport::TrueColor);
        assert_eq!(theme.frame("shop", false), theme.frame("shop", false));
        assert_ne!(theme.frame("shop", false), theme.frame("json", false));
        assert_eq!(
            package_of(Some("/x/site-packages/requests/api.py"), "f"),
            "requests"
        );
        assert_eq!(package_of(Some("/srv/app/shop/catalog.py"), "f"), "shop");
        assert_eq!(hsl(0.0, 1.0, 0.5), Color::Rgb(255, 0, 0));
    }

    #[test]
    fn the_environment_picks_colours_and_characters() {
        assert_eq!(
            ColorSupport::from_env("1", "truecolor", "xterm-256color"),
            ColorSupport::None
        );
        assert_eq!(
            ColorSupport::from_env("", "truecolor", "xterm"),
            ColorSupport::TrueColor
        );
        assert_eq!(
            ColorSupport::from_env("", "", "xterm-256color"),
            ColorSupport::Indexed
        );
        assert_eq!(
            ColorSupport::from_env("", "", "screen"),
            ColorSupport::Basic
        );
        assert_eq!(ColorSupport::from_env("", "", ""), ColorSupport::Basic);
        // 16 colours: every colour a frame can get is one of the basic ones.
        let theme = Theme::new(ColorSupport::Basic);
        for package in ["a", "b", "json", "shop", "requests"] {
            let bg = theme.frame(package, false).bg.unwrap();
            assert!(!matches!(bg, Color::Indexed(_) | Color::Rgb(..)), "{bg:?}");
        }
        assert!(utf8_in(&["", "", "en_US.UTF-8"]));
        assert!(!utf8_in(&["C", "", "en_US.UTF-8"]));
        assert!(utf8_in(&["", "C.utf8", "C"]));
        assert!(!utf8_in(&["", "", ""]));
        assert!(!utf8_in(&["POSIX"]));
        for symbol in ["…", "·", "▼", "┌", "─", "│", "▏", "█", "δ", "→"] {
            assert!(ascii_symbol(symbol).is_ascii(), "{symbol}");
        }
    }

    #[test]
    fn no_color_still_tells_neighbours_apart() {
        let theme = Theme::new(ColorSupport::None);
        assert_ne!(theme.frame("a", false), theme.frame("a", true));
        assert_eq!(theme.frame("a", false).bg, None);
    }
}
