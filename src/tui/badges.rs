//! The line of badges above the status line: one per mode in force, each naming the key that
//! turns it off, so that no message or search can hide that a view leaves something out.

use super::app::App;
use super::view::Hidden;

impl App {
    /// Whether some mode is in force: [`App::badges`] without building them.
    pub fn has_badges(&self) -> bool {
        let o = self.options();
        self.live.is_some()
            || self.session.merges()
            || o.focus.is_some()
            || o.filters.focus.is_some()
            || o.filters.ignore.is_some()
            || !o.filters.hide.is_empty()
            || o.hidden.is_some()
            || o.collapse_recursion
            || o.by_line
            || self.heat
    }

    /// One badge per mode in force, each naming the key that turns it off, for the line above
    /// the status line: no message or search can hide that a view leaves something out.
    pub fn badges(&self) -> Vec<String> {
        let o = self.options();
        if !self.has_badges() {
            return Vec::new();
        }
        let mut badges = self.live_badges();
        use super::action::Action;
        use super::keymap::key_label;
        use crate::text::{escape_control, middle_ellipsis};
        if self.session.merges() {
            badges.push(format!(
                "{} threads merged ({})",
                key_label(Action::MergeThreads),
                self.session.merged_profiles().len()
            ));
        }
        if let Some(func) = o.focus {
            let name = &self.set().frames.function(func).name;
            badges.push(format!(
                "{} focus: {}",
                key_label(Action::Focus),
                middle_ellipsis(&escape_control(name), 30)
            ));
        }
        // The command line's filters: Esc leaves --focus; --ignore and the config's hidden
        // patterns stay for the session.
        if let Some(re) = &o.filters.focus {
            badges.push(format!(
                "Esc focus: /{}/",
                middle_ellipsis(&escape_control(re.as_str()), 30)
            ));
        }
        if let Some(re) = &o.filters.ignore {
            badges.push(format!(
                "ignoring /{}/",
                middle_ellipsis(&escape_control(re.as_str()), 30)
            ));
        }
        if !o.filters.hide.is_empty() {
            let n = o.filters.hide.len();
            badges.push(format!(
                "{n} pattern{} always hidden",
                if n == 1 { "" } else { "s" }
            ));
        }
        if let Some(hidden) = &o.hidden {
            let share = 100.0 * self.view.as_ref().map_or(0.0, |v| v.hidden_share);
            let key = key_label(Action::Hide);
            badges.push(match hidden {
                Hidden::Library => format!("{key} only my code ({share:.1}% to callers)"),
                Hidden::Matching(re) => format!(
                    "{key} hiding /{}/ ({share:.1}% to callers)",
                    escape_control(re.as_str())
                ),
            });
        }
        if o.collapse_recursion {
            badges.push(format!(
                "{} recursion collapsed",
                key_label(Action::CollapseRecursion)
            ));
        }
        if o.by_line {
            badges.push(format!("{} frames by line", key_label(Action::ByLine)));
        }
        if self.heat {
            badges.push(format!("{} heat colours", key_label(Action::ToggleColors)));
        }
        badges
    }
}
