//! Everything the console shows, as plain data: the views are pure
//! functions of this [`State`], and only `update` changes it (in answer to
//! keys and to the messages background tasks post). No terminal, no
//! clock, no network here, so that tests can build any state and assert
//! on it.

use std::collections::{BTreeSet, HashMap};

use crate::app::report::Totals;

use super::history::History;
use super::ring::Ring;
use super::settings::Settings;
use super::summary::Summary;

mod batch;
mod fetched;
mod logs;
mod mode;
mod panes;

pub use batch::{BatchPhase, BatchView};
pub use fetched::Fetched;
pub use logs::{FilterIndex, LogEntry, LogSource, Logs};
pub use mode::{Confirm, ConfirmKind, Form, FormField, LineEdit, Mode, Prompt, PromptKind};
pub use panes::{Cursor, FunctionRow, FunctionStats, ObjectRow, Pane, Side};

/// Where the clients point, for the header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackendInfo {
    /// `local` or `aws`.
    pub backend: String,
    /// AWS profile.
    pub profile: Option<String>,
    /// Region.
    pub region: String,
    /// Endpoint (the local cloud's).
    pub endpoint: Option<String>,
}

/// The status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// Text.
    pub text: String,
    /// An error (drawn as one).
    pub error: bool,
    /// When it was set.
    pub at_ms: i64,
}

/// The whole console state.
#[derive(Debug, Clone)]
pub struct State {
    /// Settings in force.
    pub settings: Settings,
    /// Where the clients point.
    pub backend: BackendInfo,
    /// Now, ms since the epoch (set by ticks; views compute ages from it).
    pub now_ms: i64,
    /// Focused pane.
    pub focus: Pane,
    /// The focused pane fills the screen.
    pub expanded: bool,
    /// Key mode.
    pub mode: Mode,
    /// Functions.
    pub functions: Fetched<Vec<FunctionRow>>,
    /// Figures per function name.
    pub stats: HashMap<String, FunctionStats>,
    /// The selected function's name (kept across refreshes).
    pub selected_function: Option<String>,
    /// Functions cursor.
    pub functions_cursor: Cursor,
    /// Marked function names.
    pub marked_functions: BTreeSet<String>,
    /// Input objects of the selected function.
    pub inputs: Fetched<Vec<ObjectRow>>,
    /// Output objects of the selected function.
    pub outputs: Fetched<Vec<ObjectRow>>,
    /// Which list of the objects pane has the cursor.
    pub side: Side,
    /// Input cursor.
    pub inputs_cursor: Cursor,
    /// Output cursor.
    pub outputs_cursor: Cursor,
    /// Marked input keys.
    pub marked_inputs: BTreeSet<String>,
    /// Row filters of the table panes (`/`).
    pub filters: HashMap<Pane, String>,
    /// The logs pane.
    pub logs: Logs,
    /// Invocations of the selected function (joined from its logs).
    pub history: History,
    /// Invocations cursor (0 is the newest).
    pub invocations_cursor: Cursor,
    /// Figures derived from `history` (recomputed when it changes).
    pub summary: Summary,
    /// The running or last batch.
    pub batch: Option<BatchView>,
    /// Actions in flight, for the status line ("deploying demo").
    pub busy: Vec<String>,
    /// The status line.
    pub status: Option<Status>,
    /// Set by `q` / `:q`.
    pub quit: bool,
}

impl State {
    /// A fresh state with `settings`.
    pub fn new(settings: Settings, backend: BackendInfo) -> State {
        let log_cap = settings.buffers.log_lines;
        let inv_cap = settings.buffers.invocations;
        State {
            settings,
            backend,
            now_ms: 0,
            focus: Pane::Functions,
            expanded: false,
            mode: Mode::Normal,
            functions: Fetched::default(),
            stats: HashMap::new(),
            selected_function: None,
            functions_cursor: Cursor::default(),
            marked_functions: BTreeSet::new(),
            inputs: Fetched::default(),
            outputs: Fetched::default(),
            side: Side::Input,
            inputs_cursor: Cursor::default(),
            outputs_cursor: Cursor::default(),
            marked_inputs: BTreeSet::new(),
            filters: HashMap::new(),
            logs: Logs {
                lines: Ring::new(log_cap),
                request: Fetched::default(),
                source: LogSource::None,
                follow: true,
                wrap: false,
                timestamps: true,
                filter: None,
                scroll: 0,
                sampled: 0,
                tail: Fetched::default(),
                matches: None,
            },
            history: History::new(inv_cap),
            invocations_cursor: Cursor::default(),
            summary: Summary::default(),
            batch: None,
            busy: Vec::new(),
            status: None,
            quit: false,
        }
    }

    fn filter_of(&self, pane: Pane) -> Option<&str> {
        self.filters
            .get(&pane)
            .map(String::as_str)
            .filter(|f| !f.is_empty())
    }

    /// The functions shown (after the pane's filter).
    pub fn visible_functions(&self) -> Vec<&FunctionRow> {
        let f = self.filter_of(Pane::Functions);
        self.functions
            .data
            .iter()
            .flatten()
            .filter(|r| f.is_none_or(|f| r.info.name.contains(f) || r.image.contains(f)))
            .collect()
    }

    /// The selected function's row.
    pub fn function(&self) -> Option<&FunctionRow> {
        let name = self.selected_function.as_deref()?;
        self.functions
            .data
            .iter()
            .flatten()
            .find(|r| r.info.name == name)
    }

    /// The objects shown on one side (after the pane's filter).
    pub fn visible_objects(&self, side: Side) -> Vec<&ObjectRow> {
        let f = self.filter_of(Pane::Objects);
        let list = match side {
            Side::Input => &self.inputs,
            Side::Output => &self.outputs,
        };
        list.data
            .iter()
            .flatten()
            .filter(|o| f.is_none_or(|f| o.key.contains(f)))
            .collect()
    }

    /// The invocations shown, newest first (after the pane's filter).
    pub fn visible_invocations(&self) -> Vec<&crate::app::report::Invocation> {
        let f = self.filter_of(Pane::Invocations);
        self.history
            .iter()
            .rev()
            .filter(|i| {
                f.is_none_or(|f| {
                    i.request_id.contains(f)
                        || i.input_key.as_deref().is_some_and(|k| k.contains(f))
                })
            })
            .collect()
    }

    /// The state of an input object: from the newest invocation that took
    /// it, else `pending` if it arrived after the tail began, else unknown.
    pub fn input_state(&self, key: &str, modified_ms: Option<i64>) -> &'static str {
        match self.history.for_key(key) {
            Some(inv) => inv.state(),
            None => match (modified_ms, self.logs.tail.at_ms, self.tail_since_ms()) {
                (Some(m), Some(_), Some(since)) if m >= since => "pending",
                _ => "-",
            },
        }
    }

    /// Where the live tail began (ms since the epoch).
    pub fn tail_since_ms(&self) -> Option<i64> {
        self.logs
            .tail
            .at_ms
            .map(|_| self.now_ms - self.settings.history_ms())
    }

    /// The totals shown by the metrics pane.
    pub fn totals(&self) -> &Totals {
        &self.summary.totals
    }

    /// Sets the status line.
    pub fn say(&mut self, text: impl Into<String>, error: bool) {
        self.status = Some(Status {
            text: text.into(),
            error,
            at_ms: self.now_ms,
        });
    }
}
