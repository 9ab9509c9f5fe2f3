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
    /// While recording: stop updating the view, sampling goes on; and back.
    Freeze,
    /// While recording: save the samples so far (as on exit).
    SaveRecording,
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
    /// One line for the help screen, short enough for two columns at 80×24.
    pub fn description(self) -> &'static str {
        match self {
            Action::Quit => "quit",
            Action::ShowPane(Pane::TimeOrder) => "Time Order / Flamegraph",
            Action::ShowPane(Pane::LeftHeavy) => "Left Heavy pane",
            Action::ShowPane(Pane::Sandwich) => "Sandwich pane",
            Action::ShowPane(Pane::Priority) => "Priority pane",
            Action::ShowPane(Pane::Source) => "Source pane",
            Action::NextPane => "next pane",
            Action::PrevPane => "previous pane",
            Action::Up => "caller / row up",
            Action::Down => "callee / row down",
            Action::Left => "previous sibling",
            Action::Right => "next sibling",
            Action::PageUp => "page up",
            Action::PageDown => "page down",
            Action::Zoom => "zoom in / open the row",
            Action::Back => "end search / zoom out",
            Action::ResetZoom => "reset zoom",
            Action::Search => "search name or path",
            Action::NextMatch => "next match",
            Action::PrevMatch => "previous match",
            Action::PrevProfile => "previous thread or file",
            Action::NextProfile => "next thread or file",
            Action::Help => "this help",
            Action::FlipOrientation => "flip icicle / flame",
            Action::ToggleColors => "colour: package / heat",
            Action::CycleSort => "sort by next column",
            Action::CollapseRecursion => "collapse recursion",
            Action::Focus => "focus on the function",
            Action::Hide => "hide by regex / library",
            Action::MergeThreads => "merge threads",
            Action::ByLine => "by line / by function",
            Action::Redraw => "repaint the screen",
            Action::Copy => "copy name, file:line",
            Action::OpenEditor => "open in $EDITOR",
            Action::Difference => "difference of 2 files",
            Action::SideBySide => "2 files side by side",
            Action::Freeze => "live: freeze view",
            Action::SaveRecording => "live: save now",
            Action::ScrollUp => "scroll up",
            Action::ScrollDown => "scroll down",
            Action::Click { .. } => "select",
            Action::DoubleClick { .. } => "zoom in",
            Action::Resize { .. } => "redraw at the new size",
            Action::PromptInput(_) => "type into the prompt",
            Action::PromptBackspace => "delete a character",
            Action::PromptSubmit => "accept",
            Action::PromptCancel => "cancel",
        }
    }
}
