//! The two directions between the console core and its background tasks:
//! [`Effect`] is what `update` asks to be done (a cloud call, a batch, a
//! tail), [`Msg`] is what a task reports back. Tasks never touch the state.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::app::definition::FunctionDefinition;
use crate::aws::objects::FunctionInput;

use super::state::{BatchView, FunctionRow, FunctionStats, LogEntry, ObjectRow, Side};

/// A task's report.
#[derive(Debug, Clone)]
pub enum Msg {
    /// The functions list.
    Functions(Result<Vec<FunctionRow>, String>),
    /// Per-function figures.
    Stats(Result<HashMap<String, FunctionStats>, String>),
    /// One side of the objects pane.
    Objects {
        /// For this function.
        function: String,
        /// Which list.
        side: Side,
        /// The objects.
        result: Result<Vec<ObjectRow>, String>,
    },
    /// New lines of the live tail, oldest first.
    LogLines {
        /// Of this function.
        function: String,
        /// The lines.
        lines: Vec<LogEntry>,
        /// Lines skipped to keep up.
        sampled: u64,
    },
    /// A tail poll failed (the tail retries with backoff).
    TailError {
        /// Of this function.
        function: String,
        /// Why.
        error: String,
    },
    /// One request's lines.
    RequestLines {
        /// The request id.
        request_id: String,
        /// The lines.
        result: Result<Vec<LogEntry>, String>,
    },
    /// Batch progress.
    Batch(BatchView),
    /// An action finished: `what` leaves the busy list, the result goes to
    /// the status line.
    Done {
        /// What was under way ("deploying demo").
        what: String,
        /// The status text.
        result: Result<String, String>,
        /// A function to select afterwards (deploys).
        select: Option<String>,
    },
    /// The clients now point elsewhere (`:profile`, `:region`).
    Reconnected(Result<super::state::BackendInfo, String>),
}

/// Something `update` asks the tasks to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// List the functions.
    RefreshFunctions,
    /// Fetch figures of these functions.
    RefreshStats(Vec<String>),
    /// List a function's input and output objects.
    RefreshObjects {
        /// The function.
        function: String,
        /// Its input.
        input: Option<FunctionInput>,
        /// Its outputs (bucket, prefix).
        outputs: Vec<(String, String)>,
    },
    /// Follow this function's logs from `since_ms` (none: stop following).
    Tail {
        /// The function.
        function: Option<String>,
        /// Start of the history, ms since the epoch.
        since_ms: i64,
    },
    /// Fetch one request's lines.
    RequestLogs {
        /// The function.
        function: String,
        /// The request id.
        request_id: String,
    },
    /// Create or update a function.
    Deploy(Box<FunctionDefinition>),
    /// Deploy every function of a definition file.
    DeployFile(PathBuf),
    /// Create the demo function (image built offline, script from assets/).
    Demo,
    /// Warm `n` environments.
    Preheat {
        /// The function.
        function: String,
        /// How many.
        n: usize,
    },
    /// Upload files and folders into the function's input.
    Upload {
        /// The function.
        function: String,
        /// Its input.
        input: FunctionInput,
        /// Local paths.
        paths: Vec<PathBuf>,
    },
    /// Batch run over every input object, then follow the outcomes.
    BatchRun {
        /// The function.
        function: String,
    },
    /// Invoke once per key (or once without input when `keys` is empty).
    Invoke {
        /// The function.
        function: String,
        /// Input bucket.
        bucket: String,
        /// Input keys.
        keys: Vec<String>,
    },
    /// Delete functions (their triggers and log groups too).
    Delete(Vec<String>),
    /// Point the clients at another profile or region.
    Reconnect {
        /// Profile.
        profile: Option<String>,
        /// Region.
        region: Option<String>,
    },
}

impl Effect {
    /// What the header's busy list says while an action runs (none for
    /// refreshes). The task reports back with the same text in
    /// [`Msg::Done`], which takes it off the list.
    pub fn label(&self) -> Option<String> {
        Some(match self {
            Effect::Deploy(d) => format!("deploying {}", d.name),
            Effect::DeployFile(p) => format!("deploying {}", p.display()),
            Effect::Demo => "creating the demo function".into(),
            Effect::Preheat { function, n } => {
                format!("preheating {n} environment(s) of {function}")
            }
            Effect::Upload {
                function, paths, ..
            } => format!("uploading {} path(s) to {function}", paths.len()),
            Effect::BatchRun { function } => format!("batch run of {function}"),
            Effect::Invoke { function, keys, .. } if keys.is_empty() => {
                format!("invoking {function}")
            }
            Effect::Invoke { function, keys, .. } => {
                format!("invoking {function} on {} object(s)", keys.len())
            }
            Effect::Delete(names) => format!("deleting {}", names.join(", ")),
            Effect::Reconnect { profile, region } => format!(
                "switching to {}",
                profile
                    .as_deref()
                    .map(|p| format!("profile {p}"))
                    .or_else(|| region.as_deref().map(|r| format!("region {r}")))
                    .unwrap_or_default()
            ),
            Effect::RefreshFunctions
            | Effect::RefreshStats(_)
            | Effect::RefreshObjects { .. }
            | Effect::Tail { .. }
            | Effect::RequestLogs { .. } => return None,
        })
    }
}
