//! What a key asks for, as one enum: the key map turns keys into an
//! [`Action`], `update` applies it. Views never see keys.

use super::state::Pane;

/// A console action (normal mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Leave the console.
    Quit,
    /// Focus the functions pane.
    FocusFunctions,
    /// Focus the objects pane.
    FocusObjects,
    /// Focus the logs pane.
    FocusLogs,
    /// Focus the invocations pane.
    FocusInvocations,
    /// Focus the metrics pane.
    FocusMetrics,
    /// Next pane.
    NextPane,
    /// Previous pane.
    PrevPane,
    /// The focused pane fills the screen (again: back).
    Expand,
    /// Cursor up.
    Up,
    /// Cursor down.
    Down,
    /// Half a page up.
    PageUp,
    /// Half a page down.
    PageDown,
    /// First row.
    Top,
    /// Last row (logs: the latest line, following).
    Bottom,
    /// Open the selected row (a function's objects, a request's logs).
    Open,
    /// Back out (close the request view, clear marks and filter).
    Back,
    /// Mark or unmark the selected row.
    Mark,
    /// Logs: follow the newest line.
    Follow,
    /// Logs: wrap long lines.
    Wrap,
    /// Logs: show timestamps.
    Timestamps,
    /// Filter the focused pane.
    Filter,
    /// `:` command mode.
    Command,
    /// Help for the focused pane.
    Help,
    /// Create a function.
    New,
    /// Preheat environments.
    Preheat,
    /// Upload files to the input.
    Upload,
    /// Batch run over every input object.
    Run,
    /// Invoke once (the selected or marked inputs on the objects pane).
    Invoke,
    /// Delete the selected or marked functions.
    Delete,
    /// Refresh every pane now.
    Refresh,
    /// Objects pane: switch between inputs and outputs.
    SwitchSide,
}

impl Action {
    /// The action that focuses `pane`.
    pub fn focus(pane: Pane) -> Action {
        match pane {
            Pane::Functions => Action::FocusFunctions,
            Pane::Objects => Action::FocusObjects,
            Pane::Logs => Action::FocusLogs,
            Pane::Invocations => Action::FocusInvocations,
            Pane::Metrics => Action::FocusMetrics,
        }
    }

    /// What it does, for the help overlay.
    pub fn describe(self) -> &'static str {
        match self {
            Action::Quit => "quit",
            Action::FocusFunctions => "functions pane",
            Action::FocusObjects => "objects pane",
            Action::FocusLogs => "logs pane",
            Action::FocusInvocations => "invocations pane",
            Action::FocusMetrics => "metrics pane",
            Action::NextPane => "next pane",
            Action::PrevPane => "previous pane",
            Action::Expand => "expand / restore the pane",
            Action::Up => "up",
            Action::Down => "down",
            Action::PageUp => "half page up",
            Action::PageDown => "half page down",
            Action::Top => "first row",
            Action::Bottom => "last row / latest line",
            Action::Open => "open (objects, request logs)",
            Action::Back => "back",
            Action::Mark => "mark row",
            Action::Follow => "follow the tail",
            Action::Wrap => "wrap lines",
            Action::Timestamps => "timestamps",
            Action::Filter => "filter",
            Action::Command => "command mode",
            Action::Help => "help",
            Action::New => "new function",
            Action::Preheat => "preheat N environments",
            Action::Upload => "upload files",
            Action::Run => "batch run over the inputs",
            Action::Invoke => "invoke once",
            Action::Delete => "delete function",
            Action::Refresh => "refresh",
            Action::SwitchSide => "inputs / outputs",
        }
    }
}
