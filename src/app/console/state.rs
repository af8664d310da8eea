//! Everything the console shows, as plain data: the views are pure
//! functions of this [`State`], and only `update` changes it (in answer to
//! keys and to the messages background tasks post). No terminal, no
//! clock, no network here, so that tests can build any state and assert
//! on it.

use std::collections::{BTreeSet, HashMap};

use crate::app::report::Totals;
use crate::aws::functions::FunctionInfo;

use super::history::History;
use super::ring::Ring;
use super::settings::Settings;
use super::summary::Summary;

/// The panes, in the order of their number keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pane {
    /// 1: the functions.
    Functions,
    /// 2: input and output objects of the selected function.
    Objects,
    /// 3: the log tail.
    Logs,
    /// 4: one row per invocation.
    Invocations,
    /// 5: charts.
    Metrics,
}

impl Pane {
    /// All panes, by number.
    pub const ALL: [Pane; 5] = [
        Pane::Functions,
        Pane::Objects,
        Pane::Logs,
        Pane::Invocations,
        Pane::Metrics,
    ];

    /// 1-based number.
    pub fn number(self) -> usize {
        Pane::ALL.iter().position(|p| *p == self).unwrap_or(0) + 1
    }

    /// Title.
    pub fn title(self) -> &'static str {
        match self {
            Pane::Functions => "Functions",
            Pane::Objects => "Objects",
            Pane::Logs => "Logs",
            Pane::Invocations => "Invocations",
            Pane::Metrics => "Metrics",
        }
    }
}

/// Which list of the objects pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// Input objects (each triggers an invocation).
    Input,
    /// Output objects.
    Output,
}

/// Data fetched in the background: what was last received and when, and
/// whether a fetch is under way or the last one failed. A failed refresh
/// keeps the last data, so that a pane shows it with its age.
#[derive(Debug, Clone)]
pub struct Fetched<T> {
    /// The last data received.
    pub data: Option<T>,
    /// When it was received (ms since the epoch).
    pub at_ms: Option<i64>,
    /// A fetch is in flight.
    pub loading: bool,
    /// The last fetch failed so.
    pub error: Option<String>,
    /// Failures in a row (for the retry backoff).
    pub failures: u32,
}

impl<T> Default for Fetched<T> {
    fn default() -> Self {
        Fetched {
            data: None,
            at_ms: None,
            loading: false,
            error: None,
            failures: 0,
        }
    }
}

impl<T> Fetched<T> {
    /// Records a result received at `now_ms`.
    pub fn receive(&mut self, result: Result<T, String>, now_ms: i64) {
        self.loading = false;
        match result {
            Ok(d) => {
                self.data = Some(d);
                self.at_ms = Some(now_ms);
                self.error = None;
                self.failures = 0;
            }
            Err(e) => {
                self.error = Some(e);
                self.failures = self.failures.saturating_add(1);
            }
        }
    }
}

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

/// Per-function figures over the recent window (CloudWatch).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FunctionStats {
    /// Environments that logged within the keep-warm window.
    pub warm: Option<u32>,
    /// Invocations.
    pub invocations: u64,
    /// Errors.
    pub errors: u64,
    /// Throttles.
    pub throttles: u64,
    /// Median duration, ms.
    pub p50_ms: Option<f64>,
    /// 95th percentile duration, ms.
    pub p95_ms: Option<f64>,
    /// Share of cache hits, 0..1.
    pub cache_hit: Option<f64>,
}

/// One row of the functions pane.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionRow {
    /// As Lambda reports it.
    pub info: FunctionInfo,
    /// Its image (`SCAR_IMAGE`).
    pub image: String,
    /// Its input, `bucket/prefix` (from `SCAR_INPUT`).
    pub input: Option<crate::aws::objects::FunctionInput>,
    /// Its outputs: (bucket, prefix).
    pub outputs: Vec<(String, String)>,
}

/// One listed object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRow {
    /// Key.
    pub key: String,
    /// Bytes.
    pub size: u64,
    /// Last modified, ms since the epoch.
    pub modified_ms: Option<i64>,
}

/// One log line held by the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// ms since the epoch.
    pub timestamp: i64,
    /// The stream (execution environment).
    pub stream: String,
    /// The line.
    pub message: String,
}

/// What the logs pane follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogSource {
    /// Nothing selected.
    None,
    /// Every line of a function.
    Function(String),
    /// One request's lines.
    Request {
        /// The function.
        function: String,
        /// The request id.
        request_id: String,
    },
}

/// The logs pane.
#[derive(Debug, Clone)]
pub struct Logs {
    /// The live tail of the selected function.
    pub lines: Ring<LogEntry>,
    /// One request's lines, when that is what is shown.
    pub request: Fetched<Vec<LogEntry>>,
    /// What is shown.
    pub source: LogSource,
    /// Stick to the newest line.
    pub follow: bool,
    /// Wrap long lines.
    pub wrap: bool,
    /// Show timestamps.
    pub timestamps: bool,
    /// Highlight (and keep only) lines holding this.
    pub filter: Option<String>,
    /// Lines above the bottom when not following.
    pub scroll: usize,
    /// Lines the tail skipped to keep up (a burst larger than one poll
    /// takes in); shown as a badge with the ring's own evictions.
    pub sampled: u64,
    /// The tail's state (loading, error, last poll).
    pub tail: Fetched<()>,
    /// The lines of `lines` that hold `filter`, kept by `update` as lines
    /// arrive, so that a frame with a rare filter does not scan 100,000
    /// lines.
    pub matches: Option<FilterIndex>,
}

/// Sequence numbers (see [`Ring::first_seq`]) of the held lines holding
/// `filter`, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterIndex {
    /// The filter.
    pub filter: String,
    /// The matching lines.
    pub seqs: std::collections::VecDeque<u64>,
}

impl FilterIndex {
    /// Indexes every held line.
    pub fn build(filter: &str, lines: &Ring<LogEntry>) -> FilterIndex {
        let first = lines.first_seq();
        FilterIndex {
            filter: filter.to_owned(),
            seqs: lines
                .iter()
                .enumerate()
                .filter(|(_, l)| l.message.contains(filter))
                .map(|(i, _)| first + i as u64)
                .collect(),
        }
    }

    /// Takes in the `added` newest lines and forgets evicted ones.
    pub fn extend(&mut self, lines: &Ring<LogEntry>, added: usize) {
        let first = lines.first_seq();
        let len = lines.len();
        for i in len.saturating_sub(added)..len {
            if lines
                .get(i)
                .is_some_and(|l| l.message.contains(&self.filter))
            {
                self.seqs.push_back(first + i as u64);
            }
        }
        while self.seqs.front().is_some_and(|s| *s < first) {
            self.seqs.pop_front();
        }
    }
}

/// The phase of a batch launched from the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchPhase {
    /// Sending invokes.
    Dispatching,
    /// Every key sent; following the outcomes in the logs.
    Waiting,
    /// Every key done or failed.
    Done,
    /// Stopped on an error.
    Failed(String),
}

/// Live figures of a batch run.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchView {
    /// The function.
    pub function: String,
    /// Phase.
    pub phase: BatchPhase,
    /// Keys of the batch (as far as known).
    pub total: u64,
    /// Accepted by Lambda.
    pub dispatched: u64,
    /// Skipped (sent by an earlier launch).
    pub skipped: u64,
    /// Refused for good.
    pub rejected: u64,
    /// Retried sends.
    pub retries: u64,
    /// Succeeded.
    pub done: u64,
    /// Failed.
    pub failed: u64,
    /// Start, ms since the epoch.
    pub started_ms: i64,
    /// End, ms since the epoch.
    pub finished_ms: Option<i64>,
}

impl BatchView {
    /// Sent and not yet finished.
    pub fn running(&self) -> u64 {
        (self.dispatched + self.skipped).saturating_sub(self.done + self.failed)
    }

    /// Finished per second since the start.
    pub fn rate(&self, now_ms: i64) -> f64 {
        let end = self.finished_ms.unwrap_or(now_ms);
        let secs = (end - self.started_ms).max(1) as f64 / 1000.0;
        (self.done + self.failed) as f64 / secs
    }

    /// Seconds left at the current rate.
    pub fn eta_s(&self, now_ms: i64) -> Option<f64> {
        let left = self
            .total
            .saturating_sub(self.done + self.failed + self.rejected);
        let rate = self.rate(now_ms);
        (self.finished_ms.is_none() && rate > 0.0).then(|| left as f64 / rate)
    }
}

/// A line being edited (command, filter, prompt, form field).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineEdit {
    /// The text.
    pub text: String,
    /// Cursor, in chars.
    pub cursor: usize,
}

impl LineEdit {
    /// A line holding `text`, cursor at the end.
    pub fn with(text: &str) -> LineEdit {
        LineEdit {
            text: text.to_owned(),
            cursor: text.chars().count(),
        }
    }
}

/// What a one-line prompt asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptKind {
    /// How many environments to preheat.
    Preheat {
        /// The function.
        function: String,
    },
    /// Files or folders to upload to the function's input.
    Upload {
        /// The function.
        function: String,
    },
    /// A definition file to deploy.
    InitFile,
}

/// A one-line prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    /// Its purpose.
    pub kind: PromptKind,
    /// The answer so far.
    pub edit: LineEdit,
    /// Why the last answer was refused.
    pub error: Option<String>,
    /// Path completions offered (upload).
    pub completions: Vec<String>,
}

/// What a confirmation would do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfirmKind {
    /// Create the demo function and process a few sample files (offered
    /// on the first start against an empty local cloud).
    Demo,
    /// Delete these functions (triggers and log groups too).
    Delete(Vec<String>),
    /// Run the function over every input object (or over `keys`).
    BatchRun {
        /// The function.
        function: String,
        /// Input objects listed, if known.
        inputs: Option<usize>,
    },
}

/// A yes/no question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirm {
    /// What `y` does.
    pub kind: ConfirmKind,
}

/// One field of the new-function form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormField {
    /// Label.
    pub label: &'static str,
    /// Hint shown beside it.
    pub hint: &'static str,
    /// Value.
    pub edit: LineEdit,
    /// What is wrong with it.
    pub error: Option<String>,
}

/// The new-function form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    /// Fields: name, image, script, input, output, memory, timeout.
    pub fields: Vec<FormField>,
    /// The field being edited.
    pub focus: usize,
    /// A form-wide error (the deploy's).
    pub error: Option<String>,
}

/// What keys do right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Pane keys.
    Normal,
    /// `:` command line.
    Command(LineEdit),
    /// `/` filter of the focused pane.
    Filter(LineEdit),
    /// A one-line prompt.
    Prompt(Prompt),
    /// A yes/no question.
    Confirm(Confirm),
    /// The new-function form.
    Form(Form),
    /// Help for the focused pane.
    Help,
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

/// A table cursor with marks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cursor {
    /// Selected row among the visible ones.
    pub selected: usize,
    /// First row shown (kept by the view's last draw).
    pub offset: usize,
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
