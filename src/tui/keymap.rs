//! The one key table. Input handling and the help screen both read it, so a key is defined in
//! exactly one place.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};

use super::action::{Action, Pane};

/// A key as the table spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Char(char),
    Ctrl(char),
    Code(KeyCode),
}

impl Key {
    fn matches(self, event: &KeyEvent) -> bool {
        let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
        match (self, event.code) {
            (Key::Char(c), KeyCode::Char(got)) => !ctrl && c == got,
            (Key::Ctrl(c), KeyCode::Char(got)) => ctrl && c == got.to_ascii_lowercase(),
            (Key::Code(code), got) => code == got,
            _ => false,
        }
    }

    /// How the help screen writes the key.
    pub fn label(self) -> String {
        match self {
            Key::Char(' ') => "Space".into(),
            Key::Char(c) => c.to_string(),
            Key::Ctrl(c) => format!("Ctrl-{}", c.to_ascii_uppercase()),
            Key::Code(KeyCode::Up) => "↑".into(),
            Key::Code(KeyCode::Down) => "↓".into(),
            Key::Code(KeyCode::Left) => "←".into(),
            Key::Code(KeyCode::Right) => "→".into(),
            Key::Code(KeyCode::BackTab) => "Shift-Tab".into(),
            Key::Code(KeyCode::PageUp) => "PgUp".into(),
            Key::Code(KeyCode::PageDown) => "PgDn".into(),
            Key::Code(code) => code.to_string(),
        }
    }
}

/// Keys and the action they ask for.
#[derive(Debug)]
pub struct Binding {
    pub keys: &'static [Key],
    pub action: Action,
}

const fn bind(keys: &'static [Key], action: Action) -> Binding {
    Binding { keys, action }
}

/// Keys in normal use, speedscope's where it has one.
pub const BINDINGS: &[Binding] = &[
    bind(&[Key::Char('1')], Action::ShowPane(Pane::TimeOrder)),
    bind(&[Key::Char('2')], Action::ShowPane(Pane::LeftHeavy)),
    bind(&[Key::Char('3')], Action::ShowPane(Pane::Sandwich)),
    bind(&[Key::Char('4')], Action::ShowPane(Pane::Priority)),
    bind(&[Key::Char('5')], Action::ShowPane(Pane::Source)),
    bind(&[Key::Code(KeyCode::Tab)], Action::NextPane),
    bind(&[Key::Code(KeyCode::BackTab)], Action::PrevPane),
    bind(&[Key::Code(KeyCode::Up), Key::Char('k')], Action::Up),
    bind(&[Key::Code(KeyCode::Down), Key::Char('j')], Action::Down),
    bind(&[Key::Code(KeyCode::Left), Key::Char('h')], Action::Left),
    bind(&[Key::Code(KeyCode::Right), Key::Char('l')], Action::Right),
    bind(&[Key::Code(KeyCode::PageUp)], Action::PageUp),
    bind(&[Key::Code(KeyCode::PageDown)], Action::PageDown),
    bind(&[Key::Code(KeyCode::Enter)], Action::Zoom),
    bind(
        &[Key::Code(KeyCode::Esc), Key::Code(KeyCode::Backspace)],
        Action::Back,
    ),
    bind(&[Key::Char('0')], Action::ResetZoom),
    bind(&[Key::Char('/')], Action::Search),
    bind(&[Key::Char('n')], Action::NextMatch),
    bind(&[Key::Char('N')], Action::PrevMatch),
    bind(&[Key::Char('[')], Action::PrevProfile),
    bind(&[Key::Char(']')], Action::NextProfile),
    bind(&[Key::Char('i')], Action::FlipOrientation),
    bind(&[Key::Char('c')], Action::ToggleColors),
    bind(&[Key::Char('o')], Action::CycleSort),
    bind(&[Key::Char('r')], Action::CollapseRecursion),
    bind(&[Key::Char('f')], Action::Focus),
    bind(&[Key::Char('H')], Action::Hide),
    bind(&[Key::Char('t')], Action::MergeThreads),
    bind(&[Key::Char('L')], Action::ByLine),
    bind(&[Key::Ctrl('l')], Action::Redraw),
    bind(&[Key::Char('y')], Action::Copy),
    bind(&[Key::Char('e')], Action::OpenEditor),
    bind(&[Key::Char('d')], Action::Difference),
    bind(&[Key::Char('s')], Action::SideBySide),
    bind(&[Key::Char('p')], Action::Freeze),
    bind(&[Key::Char('w')], Action::SaveRecording),
    bind(&[Key::Char('?')], Action::Help),
    bind(&[Key::Char('q'), Key::Ctrl('c')], Action::Quit),
];

/// Keys while the search prompt is open; any other character is typed into it.
pub const PROMPT_BINDINGS: &[Binding] = &[
    bind(&[Key::Code(KeyCode::Enter)], Action::PromptSubmit),
    bind(&[Key::Code(KeyCode::Esc)], Action::PromptCancel),
    bind(&[Key::Code(KeyCode::Backspace)], Action::PromptBackspace),
    bind(&[Key::Ctrl('c')], Action::Quit),
    bind(&[Key::Ctrl('l')], Action::Redraw),
];

/// The table in use: [`BINDINGS`] as the config file's `[keys]` patched it, set once at start.
static ACTIVE: OnceLock<&'static [Binding]> = OnceLock::new();

/// [`BINDINGS`], or the table [`install_overrides`] made of it.
pub fn bindings() -> &'static [Binding] {
    ACTIVE.get().copied().unwrap_or(BINDINGS)
}

/// The first key the table in use gives `action`, as the help writes it; `-` when the config
/// left it unbound. Badges and hints name keys through this, so that they follow the config.
pub fn key_label(action: Action) -> String {
    bindings()
        .iter()
        .find(|b| b.action == action)
        .and_then(|b| b.keys.first())
        .map_or_else(|| "-".into(), |k| k.label())
}

/// The name a config file's `[keys]` gives an action of the table.
pub fn action_name(action: Action) -> Option<&'static str> {
    Some(match action {
        Action::ShowPane(Pane::TimeOrder) => "time-order",
        Action::ShowPane(Pane::LeftHeavy) => "left-heavy",
        Action::ShowPane(Pane::Sandwich) => "sandwich",
        Action::ShowPane(Pane::Priority) => "priority",
        Action::ShowPane(Pane::Source) => "source",
        Action::NextPane => "next-pane",
        Action::PrevPane => "previous-pane",
        Action::Up => "up",
        Action::Down => "down",
        Action::Left => "left",
        Action::Right => "right",
        Action::PageUp => "page-up",
        Action::PageDown => "page-down",
        Action::Zoom => "zoom",
        Action::Back => "back",
        Action::ResetZoom => "reset-zoom",
        Action::Search => "search",
        Action::NextMatch => "next-match",
        Action::PrevMatch => "previous-match",
        Action::PrevProfile => "previous-profile",
        Action::NextProfile => "next-profile",
        Action::FlipOrientation => "flip",
        Action::ToggleColors => "colors",
        Action::CycleSort => "sort",
        Action::CollapseRecursion => "collapse-recursion",
        Action::Focus => "focus",
        Action::Hide => "hide",
        Action::MergeThreads => "merge-threads",
        Action::ByLine => "by-line",
        Action::Redraw => "redraw",
        Action::Copy => "copy",
        Action::OpenEditor => "edit",
        Action::Difference => "difference",
        Action::SideBySide => "side-by-side",
        Action::Freeze => "freeze",
        Action::SaveRecording => "save-recording",
        Action::Help => "help",
        Action::Quit => "quit",
        _ => return None,
    })
}

/// The action of the table that `name` names.
pub fn action_named(name: &str) -> Option<Action> {
    BINDINGS
        .iter()
        .map(|b| b.action)
        .find(|&a| action_name(a) == Some(name))
}

/// A key as the help screen writes it (`x`, `Ctrl-X`, `Space`, `Enter`, `Esc`, `Tab`,
/// `Shift-Tab`, `Backspace`, `PgUp`, `PgDn`, `Home`, `End`, `Up`, `Down`, `Left`, `Right` or
/// the arrows, `F1`…`F12`).
pub fn parse_key(text: &str) -> Result<Key, String> {
    let named = match text {
        "Space" => Some(Key::Char(' ')),
        "Enter" => Some(Key::Code(KeyCode::Enter)),
        "Esc" => Some(Key::Code(KeyCode::Esc)),
        "Tab" => Some(Key::Code(KeyCode::Tab)),
        "Shift-Tab" => Some(Key::Code(KeyCode::BackTab)),
        "Backspace" => Some(Key::Code(KeyCode::Backspace)),
        "Delete" => Some(Key::Code(KeyCode::Delete)),
        "Insert" => Some(Key::Code(KeyCode::Insert)),
        "PgUp" => Some(Key::Code(KeyCode::PageUp)),
        "PgDn" => Some(Key::Code(KeyCode::PageDown)),
        "Home" => Some(Key::Code(KeyCode::Home)),
        "End" => Some(Key::Code(KeyCode::End)),
        "Up" | "↑" => Some(Key::Code(KeyCode::Up)),
        "Down" | "↓" => Some(Key::Code(KeyCode::Down)),
        "Left" | "←" => Some(Key::Code(KeyCode::Left)),
        "Right" | "→" => Some(Key::Code(KeyCode::Right)),
        _ => None,
    };
    if let Some(key) = named {
        return Ok(key);
    }
    let mut chars = text.chars();
    if let (Some(c), None) = (chars.next(), chars.next())
        && !c.is_control()
    {
        return Ok(Key::Char(c));
    }
    if let Some(rest) = text.strip_prefix("Ctrl-") {
        let mut chars = rest.chars();
        if let (Some(c), None) = (chars.next(), chars.next())
            && c.is_ascii_alphabetic()
        {
            return Ok(Key::Ctrl(c.to_ascii_lowercase()));
        }
    }
    if let Some(n) = text.strip_prefix('F').and_then(|n| n.parse::<u8>().ok())
        && (1..=12).contains(&n)
    {
        return Ok(Key::Code(KeyCode::F(n)));
    }
    Err(format!(
        "\"{}\" is not a key (a character, Ctrl-X, Space, Enter, Esc, Tab, Shift-Tab, Backspace, PgUp, PgDn, Home, End, Up, Down, Left, Right, F1 to F12)",
        crate::text::escape_control(text)
    ))
}

/// [`BINDINGS`] with each overridden action bound to exactly the keys given (none: unbound),
/// each of those keys taken from whatever action had it. Ctrl-C always quits, so that a config
/// cannot lock the user in. Fails on a key given to two actions.
pub fn with_overrides(overrides: &[(Action, Vec<Key>)]) -> Result<Vec<Binding>, String> {
    let mut given: Vec<(Key, Action)> = Vec::new();
    for (action, keys) in overrides {
        for &key in keys {
            if let Some((_, other)) = given.iter().find(|(k, a)| *k == key && a != action) {
                return Err(format!(
                    "{} is given to both {} and {}",
                    key.label(),
                    action_name(*other).unwrap_or("?"),
                    action_name(*action).unwrap_or("?")
                ));
            }
            given.push((key, *action));
        }
    }
    let leak = |keys: Vec<Key>| -> &'static [Key] { Box::leak(keys.into_boxed_slice()) };
    Ok(BINDINGS
        .iter()
        .map(|b| {
            let keys: Vec<Key> = match overrides.iter().find(|(a, _)| *a == b.action) {
                Some((_, keys)) => keys.clone(),
                None => b
                    .keys
                    .iter()
                    .copied()
                    .filter(|k| !given.iter().any(|(g, _)| g == k))
                    .collect(),
            };
            let mut keys = keys;
            if b.action == Action::Quit && !keys.contains(&Key::Ctrl('c')) {
                keys.push(Key::Ctrl('c'));
            }
            Binding {
                keys: leak(keys),
                action: b.action,
            }
        })
        .collect())
}

/// Makes `bindings` the table input and help read, for the rest of the process (once).
pub fn install(bindings: Vec<Binding>) {
    let _ = ACTIVE.set(Box::leak(bindings.into_boxed_slice()));
}

/// The action a key press asks for, if any.
pub fn action_for(event: &KeyEvent, prompt_open: bool) -> Option<Action> {
    if event.kind == KeyEventKind::Release {
        return None;
    }
    let table = if prompt_open {
        PROMPT_BINDINGS
    } else {
        bindings()
    };
    if let Some(binding) = table
        .iter()
        .find(|b| b.keys.iter().any(|k| k.matches(event)))
    {
        return Some(binding.action);
    }
    match event.code {
        KeyCode::Char(c) if prompt_open && !event.modifiers.contains(KeyModifiers::CONTROL) => {
            Some(Action::PromptInput(c))
        }
        _ => None,
    }
}

/// What the mouse can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gesture {
    Click,
    DoubleClick,
    WheelUp,
    WheelDown,
}

impl Gesture {
    fn label(self) -> &'static str {
        match self {
            Gesture::Click => "click",
            Gesture::DoubleClick => "double-click",
            Gesture::WheelUp => "wheel up",
            Gesture::WheelDown => "wheel down",
        }
    }

    /// The action of the gesture at a cell.
    fn action(self, column: u16, row: u16) -> Action {
        match self {
            Gesture::Click => Action::Click { column, row },
            Gesture::DoubleClick => Action::DoubleClick { column, row },
            Gesture::WheelUp => Action::ScrollUp,
            Gesture::WheelDown => Action::ScrollDown,
        }
    }
}

/// The mouse, in the same table: what the help lists is what [`Clicks`] does.
pub const MOUSE: &[Gesture] = &[
    Gesture::Click,
    Gesture::DoubleClick,
    Gesture::WheelUp,
    Gesture::WheelDown,
];

/// (keys, description) for every binding, then every mouse gesture, for the help screen.
pub fn help_lines() -> Vec<(String, &'static str)> {
    let keys = bindings().iter().map(|b| {
        let keys: Vec<String> = b.keys.iter().map(|k| k.label()).collect();
        (keys.join(" "), b.action.description())
    });
    let mouse = MOUSE
        .iter()
        .map(|g| (g.label().to_owned(), g.action(0, 0).description()));
    keys.chain(mouse).collect()
}

/// Tells a double click from two clicks.
#[derive(Default)]
pub struct Clicks {
    last: Option<(Instant, u16, u16)>,
}

impl Clicks {
    pub fn action(&mut self, mouse: MouseEvent) -> Option<Action> {
        let (column, row) = (mouse.column, mouse.row);
        let gesture = match mouse.kind {
            MouseEventKind::Down(MouseButton::Left) => {
                let now = Instant::now();
                let double = self.last.is_some_and(|(t, c, r)| {
                    c == column && r == row && now - t < Duration::from_millis(400)
                });
                self.last = if double {
                    None
                } else {
                    Some((now, column, row))
                };
                if double {
                    Gesture::DoubleClick
                } else {
                    Gesture::Click
                }
            }
            MouseEventKind::ScrollUp => Gesture::WheelUp,
            MouseEventKind::ScrollDown => Gesture::WheelDown,
            _ => return None,
        };
        MOUSE
            .contains(&gesture)
            .then(|| gesture.action(column, row))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn no_key_is_bound_twice() {
        for table in [BINDINGS, PROMPT_BINDINGS] {
            let keys: Vec<Key> = table.iter().flat_map(|b| b.keys.iter().copied()).collect();
            for (i, k) in keys.iter().enumerate() {
                assert!(!keys[i + 1..].contains(k), "{k:?} bound twice");
            }
        }
    }

    #[test]
    fn keys_map_to_actions() {
        let none = KeyModifiers::NONE;
        assert_eq!(
            action_for(&press(KeyCode::Char('j'), none), false),
            Some(Action::Down)
        );
        assert_eq!(
            action_for(&press(KeyCode::Char('c'), KeyModifiers::CONTROL), false),
            Some(Action::Quit)
        );
        assert_eq!(
            action_for(&press(KeyCode::Char('c'), none), false),
            Some(Action::ToggleColors)
        );
        // In the prompt, letters are text, not commands.
        assert_eq!(
            action_for(&press(KeyCode::Char('q'), none), true),
            Some(Action::PromptInput('q'))
        );
        assert_eq!(
            action_for(&press(KeyCode::Esc, none), true),
            Some(Action::PromptCancel)
        );
    }

    #[test]
    fn every_action_of_the_table_has_a_name_of_its_own() {
        for b in BINDINGS {
            let name = action_name(b.action).expect("named");
            assert_eq!(action_named(name), Some(b.action));
        }
    }

    #[test]
    fn overrides_move_keys_and_ctrl_c_always_quits() {
        let q = parse_key("q").unwrap();
        let table = with_overrides(&[
            (Action::Help, vec![q, parse_key("F1").unwrap()]),
            (Action::Quit, vec![parse_key("x").unwrap()]),
        ])
        .unwrap();
        let keys = |action: Action| -> Vec<Key> {
            table
                .iter()
                .find(|b| b.action == action)
                .unwrap()
                .keys
                .to_vec()
        };
        assert_eq!(keys(Action::Help), vec![q, Key::Code(KeyCode::F(1))]);
        assert_eq!(keys(Action::Quit), vec![Key::Char('x'), Key::Ctrl('c')]);
        // `c` stays with the colours: only keys given elsewhere move.
        assert_eq!(keys(Action::ToggleColors), vec![Key::Char('c')]);
        assert!(with_overrides(&[(Action::Help, vec![q]), (Action::Quit, vec![q])]).is_err());
        assert_eq!(parse_key("Ctrl-L"), Ok(Key::Ctrl('l')));
        assert_eq!(parse_key("Space"), Ok(Key::Char(' ')));
        assert!(parse_key("Ctrl-").is_err());
        assert!(parse_key("xy").is_err());
    }

    #[test]
    fn help_lists_every_binding() {
        let lines = help_lines();
        assert_eq!(lines.len(), BINDINGS.len() + MOUSE.len());
        assert!(lines.iter().any(|(k, d)| k == "q Ctrl-C" && *d == "quit"));
        assert!(
            lines
                .iter()
                .any(|(k, d)| k == "double-click" && *d == "zoom in")
        );
        assert!(
            lines
                .iter()
                .any(|(k, d)| k == "wheel down" && *d == "scroll down")
        );
    }
}
