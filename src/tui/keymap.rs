//! The one key table. Input handling and the help screen both read it, so a key is defined in
//! exactly one place.

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

/// The action a key press asks for, if any.
pub fn action_for(event: &KeyEvent, prompt_open: bool) -> Option<Action> {
    if event.kind == KeyEventKind::Release {
        return None;
    }
    let table = if prompt_open {
        PROMPT_BINDINGS
    } else {
        BINDINGS
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
    let keys = BINDINGS.iter().map(|b| {
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
