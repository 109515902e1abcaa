//! Everything a key (or the mouse) can ask the inspector to do.

use serde::{Deserialize, Serialize};

/// A user intent. Keys map to actions through the [`super::Keymap`]; state
/// changes go through [`super::App::update`]. The serde form (snake_case) is
/// the name used in `keys.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Leave the inspector.
    Quit,
    /// Show or hide the key help.
    Help,
    /// Move the focus to the next pane.
    FocusNext,
    /// Move the focus to the previous pane.
    FocusPrev,
    /// Select the next row (or scroll down).
    Down,
    /// Select the previous row (or scroll up).
    Up,
    /// Move down a page.
    PageDown,
    /// Move up a page.
    PageUp,
    /// Jump to the first row.
    First,
    /// Jump to the last row.
    Last,
    /// Grow the selected section's share by one point (others rescale).
    ShareGrow,
    /// Shrink the selected section's share by one point (others rescale).
    ShareShrink,
    /// Grow the selected section's share by five points.
    ShareGrowMore,
    /// Shrink the selected section's share by five points.
    ShareShrinkMore,
    /// Give the selected section an absolute size (or a share) by typing it.
    SectionSize,
    /// The next selection strategy.
    StrategyNext,
    /// The previous selection strategy.
    StrategyPrev,
    /// The next overflow mode.
    OverflowNext,
    /// The previous overflow mode.
    OverflowPrev,
    /// Turn reallocation of unused tokens on or off.
    ToggleReallocate,
    /// Pick a model from a searchable list.
    PickModel,
    /// Type a new total budget.
    EditBudget,
    /// Type a new output reserve.
    EditReserve,
    /// Pin or unpin the selected item.
    TogglePin,
    /// Raise the selected item's priority by 0.1.
    PriorityUp,
    /// Lower the selected item's priority by 0.1.
    PriorityDown,
    /// Type the selected item's priority.
    EditPriority,
    /// Undo the last change.
    Undo,
    /// Redo the last undone change.
    Redo,
    /// Sort items by priority, tokens or input order.
    CycleSort,
    /// Filter the items by id or text.
    Filter,
    /// Clear the item filter.
    ClearFilter,
    /// The next colour theme.
    CycleTheme,
    /// Write the report to a file in any format.
    Export,
    /// Save the tuned settings as a profile in tokenscope.toml.
    SaveProfile,
    /// Open or close the History view (usage trend, task types, suggested
    /// budgets).
    ToggleHistory,
    /// Read the history file again.
    ReloadHistory,
    /// Show the History view's trend by day or by week.
    ToggleTrendPeriod,
    /// Show or hide the message log: every message and warning in full.
    ShowLog,
    /// Show counts compact (`1.2k`) or exact (`1,234`).
    ToggleCounts,
    /// Does nothing; binding a key to it in `keys.toml` unbinds the key.
    None,
}

/// A full-screen view of the inspector. Key bindings belong to one: a key
/// bound in the History view wins there over the plan's binding of the same
/// key; keys not bound in it fall back to the plan's bindings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum View {
    /// The plan: header, sections, items, detail, frontier.
    #[default]
    Plan,
    /// Usage history: the utilisation trend, task types, suggestions.
    History,
}

impl View {
    /// The view's `keys.toml` name.
    pub fn name(self) -> &'static str {
        match self {
            View::Plan => "plan",
            View::History => "history",
        }
    }
}

impl Action {
    /// The action's `keys.toml` name.
    pub fn name(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    /// Whether the action changes the plan's settings (and so is undoable).
    pub fn changes_settings(self) -> bool {
        matches!(
            self,
            Action::ShareGrow
                | Action::ShareShrink
                | Action::ShareGrowMore
                | Action::ShareShrinkMore
                | Action::StrategyNext
                | Action::StrategyPrev
                | Action::OverflowNext
                | Action::OverflowPrev
                | Action::ToggleReallocate
                | Action::TogglePin
                | Action::PriorityUp
                | Action::PriorityDown
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_snake_case() {
        assert_eq!(Action::ShareGrowMore.name(), "share_grow_more");
        let a: Action = serde_json::from_str("\"toggle_pin\"").unwrap();
        assert_eq!(a, Action::TogglePin);
    }
}
