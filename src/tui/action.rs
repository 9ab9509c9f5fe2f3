//! Everything the user can ask of the UI. Keys and mouse events become Actions (keymap.rs);
//! panes and the app only ever see Actions.

/// The panes, in tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pane {
    /// Time Order for files that keep sample order, else the merged Flamegraph.
    TimeOrder,
    LeftHeavy,
    Sandwich,
    Priority,
    /// The selected function's source, each line with its samples.
    Source,
}

impl Pane {
    pub const ALL: [Pane; 5] = [
        Pane::TimeOrder,
        Pane::LeftHeavy,
        Pane::Sandwich,
        Pane::Priority,
        Pane::Source,
    ];

    pub fn index(self) -> usize {
        Pane::ALL.iter().position(|&p| p == self).unwrap_or(0)
    }
}

/// A user request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Leave obol.
    Quit,
    /// Show a pane.
    ShowPane(Pane),
    /// Next pane.
    NextPane,
    /// Previous pane.
    PrevPane,
    /// Select the caller (the parent frame, or the row above).
    Up,
    /// Select a callee (the heaviest child frame, or the row below).
    Down,
    /// Select the previous sibling.
    Left,
    /// Select the next sibling.
    Right,
    /// Move a page up in a table.
    PageUp,
    /// Move a page down in a table.
    PageDown,
    /// Zoom the selected frame to full width, or open the selected row.
    Zoom,
    /// Zoom back out one step, or leave focus.
    Back,
    /// Reset the zoom.
    ResetZoom,
    /// Search frame names with a regex.
    Search,
    /// Next search match.
    NextMatch,
    /// Previous search match.
    PrevMatch,
    /// Previous profile (thread, or file).
    PrevProfile,
    /// Next profile (thread, or file).
    NextProfile,
    /// Show or hide this help.
    Help,
    /// Flip between icicle (root on top) and flame (root at the bottom).
    FlipOrientation,
    /// Colour by module or by self-time heat.
    ToggleColors,
    /// Sort the table by the next column.
    CycleSort,
    /// Fold recursive calls into the outermost call, and back.
    CollapseRecursion,
    /// Show every stack through the selected function, re-rooted at it.
    Focus,
    /// Hide frames by regex, or the standard library and packages ("only my code"), and back.
    Hide,
    /// Merge all threads of the file into one profile, and back.
    MergeThreads,
    /// Frames by line sampled (as the file has them), or grouped by function, and back.
    ByLine,
    /// Paint the whole screen again.
    Redraw,
    /// Copy the selected name and file:line to the clipboard (OSC 52, works over SSH).
    Copy,
    /// Open the selected function's file at its line in $EDITOR.
    OpenEditor,
    /// With two files open: the difference flame graph (first file against the second), and back.
    Difference,
    /// With two files open: both in the same flame pane, side by side, and back.
    SideBySide,
    /// Scroll up (mouse wheel).
    ScrollUp,
    /// Scroll down (mouse wheel).
    ScrollDown,
    /// Select what is under the mouse.
    Click { column: u16, row: u16 },
    /// Zoom to what is under the mouse.
    DoubleClick { column: u16, row: u16 },
    /// The terminal changed size.
    Resize { width: u16, height: u16 },
    /// A character typed into the prompt.
    PromptInput(char),
    /// Delete the character before the prompt's cursor.
    PromptBackspace,
    /// Accept the prompt.
    PromptSubmit,
    /// Close the prompt without using it.
    PromptCancel,
}

impl Action {
    /// One line for the help screen.
    pub fn description(self) -> &'static str {
        match self {
            Action::Quit => "quit",
            Action::ShowPane(Pane::TimeOrder) => "Time Order (or Flamegraph) pane",
            Action::ShowPane(Pane::LeftHeavy) => "Left Heavy pane",
            Action::ShowPane(Pane::Sandwich) => "Sandwich pane",
            Action::ShowPane(Pane::Priority) => "Priority pane",
            Action::ShowPane(Pane::Source) => "Source pane",
            Action::NextPane => "next pane",
            Action::PrevPane => "previous pane",
            Action::Up => "caller (parent) / row up",
            Action::Down => "callee (child) / row down",
            Action::Left => "previous sibling",
            Action::Right => "next sibling",
            Action::PageUp => "page up",
            Action::PageDown => "page down",
            Action::Zoom => {
                "zoom to the selected frame / show the row's function in the flame pane"
            }
            Action::Back => "zoom back out",
            Action::ResetZoom => "reset zoom",
            Action::Search => "search by regex (filters the Sandwich table)",
            Action::NextMatch => "next match / next sampled line",
            Action::PrevMatch => "previous match / previous sampled line",
            Action::PrevProfile => "previous profile (thread or file)",
            Action::NextProfile => "next profile (thread or file)",
            Action::Help => "this help",
            Action::FlipOrientation => "flip icicle / flame orientation",
            Action::ToggleColors => "colour by module / by self-time heat",
            Action::CycleSort => "sort the table by the next column",
            Action::CollapseRecursion => "collapse recursion / restore",
            Action::Focus => "focus on the selected function (Esc leaves)",
            Action::Hide => "hide frames by regex, or only my code / show all",
            Action::MergeThreads => "merge all threads / split again",
            Action::ByLine => "frames by line sampled / grouped by function",
            Action::Redraw => "repaint the screen",
            Action::Copy => "copy name and file:line (OSC 52)",
            Action::OpenEditor => "open the file at that line in $EDITOR",
            Action::Difference => "difference of two files: red grew, blue shrank",
            Action::SideBySide => "two files side by side, selection and zoom in step",
            Action::ScrollUp => "scroll up",
            Action::ScrollDown => "scroll down",
            Action::Click { .. } => "select",
            Action::DoubleClick { .. } => "zoom",
            Action::Resize { .. } => "redraw at the new size",
            Action::PromptInput(_) => "type into the prompt",
            Action::PromptBackspace => "delete a character",
            Action::PromptSubmit => "accept",
            Action::PromptCancel => "cancel",
        }
    }
}
