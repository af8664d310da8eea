//! The panes and what their tables hold: [`Pane`] and the objects pane's
//! [`Side`], the rows of the functions and objects panes with the
//! per-function figures, and the table [`Cursor`]. Kept apart from
//! `State` so that the row types read as one place.

use crate::aws::functions::FunctionInfo;

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

/// A table cursor with marks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cursor {
    /// Selected row among the visible ones.
    pub selected: usize,
    /// First row shown (kept by the view's last draw).
    pub offset: usize,
}
