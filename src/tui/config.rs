//! The config file, `$XDG_CONFIG_HOME/obol/config.toml` (or `--config FILE`, or
//! `$OBOL_CONFIG`): how the UI starts, and key overrides that patch the one key table.
//!
//! ```toml
//! pane = "sandwich"          # time-order, left-heavy, sandwich or priority
//! sort = "total"             # the Sandwich table: self, total, calls or name
//! color = "256"              # auto, truecolor, 256, 16 or none
//! color-by = "heat"          # package or heat (c switches)
//! editor = "code --wait --goto {file}:{line}"   # else $VISUAL, $EDITOR, vi
//! hide = ["^<frozen ", "importlib"]             # frames always hidden, H or not
//!
//! [keys]
//! quit = ["x"]               # Ctrl-C always quits as well
//! help = "F1"
//! colors = []                # unbound
//! ```
//!
//! Anything wrong is one line naming the file and the line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use regex::Regex;
use serde::Deserialize;
use toml::Spanned;

use super::action::{Action, Pane};
use super::keymap::{self, Binding, Key};
use super::panes::sandwich::SortColumn;
use super::theme::ColorSupport;
use crate::text::escape_control;

/// What the config file asks for; the default is what obol does without one.
#[derive(Debug, Default)]
pub struct Config {
    pub pane: Option<Pane>,
    pub sort: Option<SortColumn>,
    /// `None`: detected from the environment.
    pub color: Option<ColorSupport>,
    pub heat: bool,
    /// The editor command: `{file}` and `{line}` are replaced, else `+LINE FILE` is added.
    pub editor: Option<String>,
    pub hide: Vec<Regex>,
    /// The key table with the overrides applied, when there are any.
    pub bindings: Option<Vec<Binding>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Raw {
    pane: Option<Spanned<String>>,
    sort: Option<Spanned<String>>,
    color: Option<Spanned<String>>,
    color_by: Option<Spanned<String>>,
    editor: Option<Spanned<String>>,
    hide: Option<Vec<Spanned<String>>>,
    keys: Option<BTreeMap<Spanned<String>, Spanned<Keys>>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Keys {
    One(String),
    Many(Vec<String>),
}

/// The file to read: `--config`, else `$OBOL_CONFIG`, else `$XDG_CONFIG_HOME/obol/config.toml`
/// (`~/.config` when unset). The first two must exist; the default may not.
pub fn locate(explicit: Option<PathBuf>) -> Option<(PathBuf, bool)> {
    if let Some(path) = explicit {
        return Some((path, true));
    }
    if let Some(path) = std::env::var_os("OBOL_CONFIG").filter(|v| !v.is_empty()) {
        return Some((PathBuf::from(path), true));
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".config")))?;
    Some((base.join("obol").join("config.toml"), false))
}

/// Reads the config `locate` finds; no file at the default place is no config.
pub fn load(explicit: Option<PathBuf>) -> Result<Config, String> {
    let Some((path, required)) = locate(explicit) else {
        return Ok(Config::default());
    };
    let shown = escape_control(&path.display().to_string()).into_owned();
    let text = match std::fs::read(&path) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|e| {
            format!(
                "{shown}: config file: not UTF-8 at byte {}",
                e.utf8_error().valid_up_to()
            )
        })?,
        Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Config::default());
        }
        Err(e) => return Err(format!("{shown}: cannot read the config file: {e}")),
    };
    parse(&text).map_err(|(line, why)| {
        let mut message = format!("{shown}: config file line {line}: {why}");
        if message.len() > 300 {
            let cut = (0..=297)
                .rev()
                .find(|&i| message.is_char_boundary(i))
                .unwrap_or(0);
            message.truncate(cut);
            message.push('…');
        }
        message
    })
}

/// The config of `text`, or the 1-based line where it went wrong and why.
pub fn parse(text: &str) -> Result<Config, (usize, String)> {
    let line_of = |at: usize| text[..at.min(text.len())].matches('\n').count() + 1;
    let raw: Raw = toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(1, |s| line_of(s.start));
        let why = e.message().lines().next().unwrap_or("not TOML").to_owned();
        (line, escape_control(&why).into_owned())
    })?;
    let bad = |value: &Spanned<String>, what: &str| {
        (
            line_of(value.span().start),
            format!("\"{}\" is not {what}", escape_control(value.get_ref())),
        )
    };
    let mut config = Config::default();
    if let Some(pane) = &raw.pane {
        config.pane = Some(match pane.get_ref().as_str() {
            "time-order" | "flamegraph" => Pane::TimeOrder,
            "left-heavy" => Pane::LeftHeavy,
            "sandwich" => Pane::Sandwich,
            "priority" => Pane::Priority,
            "source" => Pane::Source,
            _ => {
                return Err(bad(
                    pane,
                    "a pane (time-order, left-heavy, sandwich, priority, source)",
                ));
            }
        });
    }
    if let Some(sort) = &raw.sort {
        config.sort = Some(match sort.get_ref().as_str() {
            "self" => SortColumn::SelfWeight,
            "total" => SortColumn::TotalWeight,
            "calls" => SortColumn::Calls,
            "name" => SortColumn::Name,
            _ => return Err(bad(sort, "a column (self, total, calls, name)")),
        });
    }
    if let Some(color) = &raw.color {
        config.color = match color.get_ref().as_str() {
            "auto" => None,
            "truecolor" => Some(ColorSupport::TrueColor),
            "256" => Some(ColorSupport::Indexed),
            "16" => Some(ColorSupport::Basic),
            "none" => Some(ColorSupport::None),
            _ => return Err(bad(color, "a colour mode (auto, truecolor, 256, 16, none)")),
        };
    }
    if let Some(by) = &raw.color_by {
        config.heat = match by.get_ref().as_str() {
            "package" => false,
            "heat" => true,
            _ => return Err(bad(by, "a colouring (package, heat)")),
        };
    }
    if let Some(editor) = &raw.editor {
        if editor.get_ref().split_whitespace().next().is_none() {
            return Err(bad(editor, "an editor command"));
        }
        config.editor = Some(editor.get_ref().clone());
    }
    for pattern in raw.hide.iter().flatten() {
        let regex = Regex::new(pattern.get_ref()).map_err(|e| {
            let why = e.to_string();
            let why = why.lines().last().unwrap_or_default().trim().to_owned();
            (
                line_of(pattern.span().start),
                format!(
                    "hide: \"{}\" is not a regular expression: {}",
                    escape_control(pattern.get_ref()),
                    escape_control(&why)
                ),
            )
        })?;
        config.hide.push(regex);
    }
    if let Some(keys) = &raw.keys {
        let mut overrides: Vec<(Action, Vec<Key>)> = Vec::new();
        // In the order of the file, so that an error names the first line at fault.
        let mut entries: Vec<(&Spanned<String>, &Spanned<Keys>)> = keys.iter().collect();
        entries.sort_by_key(|(name, _)| name.span().start);
        for (name, value) in entries {
            let line = line_of(name.span().start);
            let action = keymap::action_named(name.get_ref()).ok_or_else(|| {
                (
                    line,
                    format!(
                        "[keys]: \"{}\" is not an action (the help screen's, as `obol --help` lists under the config file)",
                        escape_control(name.get_ref())
                    ),
                )
            })?;
            let texts: Vec<&String> = match value.get_ref() {
                Keys::One(key) => vec![key],
                Keys::Many(keys) => keys.iter().collect(),
            };
            let value_line = line_of(value.span().start);
            let keys = texts
                .into_iter()
                .map(|t| {
                    keymap::parse_key(t)
                        .map_err(|why| (value_line, format!("[keys] {}: {why}", name.get_ref())))
                })
                .collect::<Result<Vec<Key>, _>>()?;
            overrides.push((action, keys));
        }
        let table = keymap::with_overrides(&overrides).map_err(|why| {
            let line = keys
                .keys()
                .map(|k| line_of(k.span().start))
                .max()
                .unwrap_or(1);
            (line, format!("[keys]: {why}"))
        })?;
        config.bindings = Some(table);
    }
    Ok(config)
}

/// The names `[keys]` takes, for `obol --help`.
pub fn action_names() -> Vec<&'static str> {
    keymap::BINDINGS
        .iter()
        .filter_map(|b| keymap::action_name(b.action))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_config_reads() {
        let config = parse(
            "pane = \"sandwich\"\nsort = \"total\"\ncolor = \"none\"\ncolor-by = \"heat\"\n\
             editor = \"code -g {file}:{line}\"\nhide = [\"^<frozen \"]\n\n[keys]\nquit = [\"x\"]\nhelp = \"F1\"\n",
        )
        .unwrap();
        assert_eq!(config.pane, Some(Pane::Sandwich));
        assert_eq!(config.sort, Some(SortColumn::TotalWeight));
        assert_eq!(config.color, Some(ColorSupport::None));
        assert!(config.heat);
        assert_eq!(config.hide.len(), 1);
        let table = config.bindings.unwrap();
        let quit = table.iter().find(|b| b.action == Action::Quit).unwrap();
        assert_eq!(quit.keys, &[Key::Char('x'), Key::Ctrl('c')]);
    }

    #[test]
    fn errors_name_the_line() {
        let (line, why) =
            parse("pane = \"sandwich\"\n\n[keys]\nquit = \"x\"\nfly = \"z\"\n").unwrap_err();
        assert_eq!(line, 5, "{why}");
        assert!(why.contains("\"fly\" is not an action"), "{why}");
        let (line, why) = parse("[keys]\nquit = \"Ctrl-\"\n").unwrap_err();
        assert_eq!(line, 2, "{why}");
        assert!(why.contains("not a key"), "{why}");
        let (line, why) = parse("pane = \"sandwich\"\nsort = \"weight\"\n").unwrap_err();
        assert_eq!(line, 2, "{why}");
        let (line, _) = parse("pane = \"sandwich\"\ncolour = \"none\"\n").unwrap_err();
        assert_eq!(line, 2);
        let (line, _) = parse("pane = \"sandwich\"\nhide = [\"(\"]\n").unwrap_err();
        assert_eq!(line, 2);
    }
}
