//! The logs pane's data: the held [`LogEntry`] lines, what the pane
//! follows ([`LogSource`]), its view settings ([`Logs`]) and the
//! [`FilterIndex`] of lines holding the filter, kept as lines arrive so
//! that a frame never rescans the whole ring.

use super::Fetched;
use crate::console::ring::Ring;

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
