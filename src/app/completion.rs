//! Following batch invocations to their outcome from the function's logs.
//!
//! FilterLogEvents pages are read again and again from a cursor (minus a
//! slack for late-arriving events, deduplicated by event id), within the
//! read quota of 5 requests per second. Every line goes through
//! [`super::report`] (the one parser): per request id we count REPORT lines
//! (one per attempt: Lambda retries a failed `Event` twice, under the same
//! request id) and the supervisor's metrics lines (`Status`, `InputKey`).
//! A request has *succeeded* once a metrics line says so; it has *failed*
//! once every attempt reported without success, or once the local cloud's
//! failed-events record lists it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::report::{Joiner, Line, parse_line};
use crate::aws::logs::LogLine;
use crate::aws::{AwsError, Cloud};

/// Lambda's attempts for an `Event` invocation by default: the first and two
/// retries (<https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html>).
pub const DEFAULT_EVENT_ATTEMPTS: u32 = 3;

/// How to follow the logs.
#[derive(Debug, Clone)]
pub struct TrackerOptions {
    /// Events are re-read this far behind the newest one seen, ms (log
    /// ingestion is not instant on AWS).
    pub slack_ms: i64,
    /// Attempts after which a request without success has failed.
    pub max_attempts: u32,
    /// Least time between two FilterLogEvents calls.
    pub min_request_interval: Duration,
    /// Time between two polls while waiting.
    pub poll_interval: Duration,
}

impl TrackerOptions {
    /// Settings for a backend: the local cloud writes its logs at once.
    pub fn for_backend(backend: crate::aws::Backend) -> TrackerOptions {
        let local = backend == crate::aws::Backend::Local;
        TrackerOptions {
            slack_ms: if local { 5_000 } else { 30_000 },
            max_attempts: DEFAULT_EVENT_ATTEMPTS,
            // FilterLogEvents: 5 requests/s per account and region.
            min_request_interval: Duration::from_millis(250),
            poll_interval: Duration::from_millis(if local { 300 } else { 2_000 }),
        }
    }
}

/// One request's outcome as far as the logs tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A metrics line said `succeeded`.
    Succeeded,
    /// Every attempt reported without success, or the failed-events record lists it.
    Failed,
    /// Not finished yet.
    Pending,
}

#[derive(Debug, Default, Clone)]
struct Attempts {
    reports: u32,
    succeeded: bool,
    failed_final: bool,
    last_status: Option<String>,
}

/// Follows one function's logs.
#[derive(Debug)]
pub struct Tracker {
    function: String,
    opts: TrackerOptions,
    since_ms: i64,
    cursor_ms: i64,
    seen: HashMap<String, i64>,
    attempts: HashMap<String, Attempts>,
    by_key: HashMap<String, Vec<(String, i64)>>,
    joiner: Joiner,
    last_new: Instant,
    last_request: Option<Instant>,
}

impl Tracker {
    /// Follows `function`'s logs from `since_ms` on.
    pub fn new(function: &str, since_ms: i64, opts: TrackerOptions) -> Tracker {
        Tracker {
            function: function.to_owned(),
            opts,
            since_ms,
            cursor_ms: since_ms,
            seen: HashMap::new(),
            attempts: HashMap::new(),
            by_key: HashMap::new(),
            joiner: Joiner::default(),
            last_new: Instant::now(),
            last_request: None,
        }
    }

    /// The options.
    pub fn options(&self) -> &TrackerOptions {
        &self.opts
    }

    /// Adds one log event.
    pub fn push(&mut self, timestamp_ms: i64, stream: &str, message: &str) {
        self.joiner.push(timestamp_ms, stream, message);
        match parse_line(message) {
            Line::Report(id, _) => self.attempts.entry(id).or_default().reports += 1,
            Line::Metrics(v) => {
                let id = v["RequestId"].as_str().unwrap_or_default().to_owned();
                if id.is_empty() {
                    return;
                }
                let status = v["Status"].as_str().unwrap_or_default().to_owned();
                if let Some(key) = v["InputKey"].as_str().filter(|k| !k.is_empty()) {
                    self.by_key
                        .entry(key.to_owned())
                        .or_default()
                        .push((id.clone(), timestamp_ms));
                }
                let a = self.attempts.entry(id).or_default();
                a.succeeded |= status == "succeeded";
                a.last_status = Some(status);
            }
            _ => {}
        }
    }

    /// Marks a request failed for good (the local failed-events record).
    pub fn mark_failed(&mut self, request_id: &str) {
        self.attempts
            .entry(request_id.to_owned())
            .or_default()
            .failed_final = true;
    }

    /// Reads what is new; returns how many new lines arrived.
    pub async fn poll(&mut self, cloud: &Cloud) -> Result<usize, AwsError> {
        let start = self.since_ms.max(self.cursor_ms - self.opts.slack_ms);
        let mut token = None;
        let mut new = 0;
        loop {
            if let Some(last) = self.last_request {
                tokio::time::sleep_until((last + self.opts.min_request_interval).into()).await;
            }
            self.last_request = Some(Instant::now());
            let (lines, next) = match cloud
                .log_page(&self.function, Some(start), None, token)
                .await
            {
                Ok(page) => page,
                // No invocation has logged yet.
                Err(e) if e.code() == Some("ResourceNotFoundException") => (Vec::new(), None),
                Err(e) => return Err(e),
            };
            for l in &lines {
                if self.take(l) {
                    new += 1;
                }
            }
            match next {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        let floor = self.cursor_ms - self.opts.slack_ms - 1_000;
        self.seen.retain(|_, ts| *ts >= floor);
        if new > 0 {
            self.last_new = Instant::now();
        }
        Ok(new)
    }

    fn take(&mut self, l: &LogLine) -> bool {
        let id = if l.event_id.is_empty() {
            format!("{}\0{}\0{}", l.stream, l.timestamp, l.message)
        } else {
            l.event_id.clone()
        };
        if self.seen.insert(id, l.timestamp).is_some() {
            return false;
        }
        self.cursor_ms = self.cursor_ms.max(l.timestamp);
        self.push(l.timestamp, &l.stream, &l.message);
        true
    }

    /// A request's outcome.
    pub fn outcome(&self, request_id: &str) -> Outcome {
        match self.attempts.get(request_id) {
            Some(a) if a.succeeded => Outcome::Succeeded,
            Some(a) if a.failed_final || a.reports >= self.opts.max_attempts => Outcome::Failed,
            _ => Outcome::Pending,
        }
    }

    /// The supervisor's last status for a request (`failed`, `timed_out`...).
    pub fn last_status(&self, request_id: &str) -> Option<&str> {
        self.attempts.get(request_id)?.last_status.as_deref()
    }

    /// A request id the logs show processing `key` at or after `after_ms`,
    /// other than the `known` ones: the evidence that an in-doubt key did
    /// reach Lambda.
    pub fn evidence(&self, key: &str, after_ms: i64, known: &[String]) -> Option<&str> {
        self.by_key
            .get(key)?
            .iter()
            .find(|(id, ts)| *ts >= after_ms && !known.contains(id))
            .map(|(id, _)| id.as_str())
    }

    /// How long since a poll last brought a new line.
    pub fn quiet_for(&self) -> Duration {
        self.last_new.elapsed()
    }

    /// The joined invocations (for totals).
    pub fn joiner(&self) -> &Joiner {
        &self.joiner
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(id: &str, key: &str, status: &str) -> String {
        format!(
            r#"{{"_aws":{{"CloudWatchMetrics":[]}},"RequestId":"{id}","InputKey":"{key}","Status":"{status}","ExitCode":0}}"#
        )
    }

    #[test]
    fn retries_under_one_request_id_fail_only_after_the_last_attempt() {
        let mut t = Tracker::new(
            "f",
            0,
            TrackerOptions::for_backend(crate::aws::Backend::Local),
        );
        for attempt in 0..2 {
            t.push(attempt, "s", &metrics("r1", "in/bad é", "failed"));
            t.push(attempt, "s", "REPORT RequestId: r1\tDuration: 1.00 ms");
            assert_eq!(t.outcome("r1"), Outcome::Pending);
        }
        t.push(3, "s", &metrics("r1", "in/bad é", "failed"));
        t.push(3, "s", "REPORT RequestId: r1\tDuration: 1.00 ms");
        assert_eq!(t.outcome("r1"), Outcome::Failed);
        assert_eq!(t.last_status("r1"), Some("failed"));

        t.push(4, "s", "REPORT RequestId: r2\tDuration: 1.00 ms");
        t.push(5, "s", &metrics("r2", "in/ok", "succeeded"));
        assert_eq!(t.outcome("r2"), Outcome::Succeeded);
        assert_eq!(t.outcome("r3"), Outcome::Pending);
        t.mark_failed("r3");
        assert_eq!(t.outcome("r3"), Outcome::Failed);

        assert_eq!(t.evidence("in/ok", 0, &[]), Some("r2"));
        assert_eq!(t.evidence("in/ok", 0, &["r2".to_owned()]), None);
        assert_eq!(t.evidence("in/ok", 6, &[]), None);
    }
}
