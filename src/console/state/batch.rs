//! What the console shows of a batch run: its [`BatchPhase`] and the live
//! figures of the [`BatchView`] (running, rate, time left) that the
//! progress gauge draws.

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
