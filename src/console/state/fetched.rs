//! [`Fetched`]: data fetched in the background with its freshness (when it
//! arrived, a fetch in flight, the last error and the failures in a row
//! for the retry backoff), shared by every pane that lists from the cloud.

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
