//! CloudWatch Logs for the local cloud: the store Lambda writes function
//! logs into, served over awsJson1_1 (`X-Amz-Target: Logs_20140328.<Op>`)
//! so that the console reads them through aws-sdk-cloudwatchlogs exactly
//! as it reads AWS.
//!
//! Operations: CreateLogGroup, DeleteLogGroup, CreateLogStream,
//! DeleteLogStream, PutRetentionPolicy, DeleteRetentionPolicy,
//! DescribeLogGroups, DescribeLogStreams, GetLogEvents, FilterLogEvents
//! and PutLogEvents (`api`). Lines that are CloudWatch Embedded Metric
//! Format become metrics as they are appended, as on AWS.
//!
//! StartLiveTail is served too (`live_tail`): an event-stream response of
//! a `sessionStart`, then a `sessionUpdate` each second, fed by
//! [`LogStore::subscribe`], which pushes every appended event the moment
//! it is stored. The SDKs send StartLiveTail to a `stream-` host prefix,
//! which a loopback endpoint does not have: the console's clients take the
//! prefix off for the local cloud (`crate::aws`); other clients can follow
//! with FilterLogEvents (`startTime` at the newest timestamp seen, the
//! `eventId`s already seen dropped, as `aws logs tail --follow` does) or
//! GetLogEvents' `nextForwardToken`.
//!
//! Layout: `store` holds the state and its mutations over the records of
//! `model`, `load` reads them back on open, `disk` is the crash-safe files
//! behind them, `query` the reads, [`filter`] the filter patterns, `wire`,
//! `tokens`, `api` and `put` the protocol.

mod api;
mod disk;
mod error;
pub mod filter;
mod live_tail;
mod load;
mod model;
mod put;
mod query;
mod store;
mod tokens;
mod wire;

use std::path::Path;
use std::sync::{Arc, PoisonError, RwLock};

use http::{Response, StatusCode};
use scar_contract::time::Clock;
use tokio::sync::broadcast;

use super::LocalError;
use super::metrics::MetricStore;
use super::protocol::{self, Body};
use super::server::ServiceRequest;
use store::State;
use wire::Input;

pub use error::LogsError;
pub use store::RETENTION_DAYS;

/// Events a slow [`LogStore::subscribe`] receiver may fall behind before it
/// sees `RecvError::Lagged` (the buffer is bounded, style rule 9).
const TAIL_CAPACITY: usize = 8192;

/// One log event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEvent {
    /// Milliseconds since the epoch.
    pub timestamp: i64,
    /// The line.
    pub message: String,
}

/// An appended event as live tail sees it: (group, stream, event).
pub type TailEvent = (String, String, LogEvent);

/// The log groups, streams and events, durable in a folder.
#[derive(Debug)]
pub struct LogStore {
    state: RwLock<State>,
    metrics: Arc<MetricStore>,
    tail: broadcast::Sender<TailEvent>,
    clock: Clock,
}

impl LogStore {
    /// Opens the store in `dir` (created if missing), replaying what is
    /// there: torn last lines of a crash are dropped, expired events pruned.
    /// Retention is measured by the metric store's clock: one clock for the
    /// whole cloud.
    pub fn open(dir: &Path, metrics: Arc<MetricStore>) -> Result<Arc<LogStore>, LocalError> {
        let clock = metrics.clock().clone();
        let state = State::open(dir, clock.now_ms())?;
        let (tail, _) = broadcast::channel(TAIL_CAPACITY);
        Ok(Arc::new(LogStore {
            state: RwLock::new(state),
            metrics,
            tail,
            clock,
        }))
    }

    /// The cloud's clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Runs `f` on the state, shared with other readers.
    fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        f(&self.state.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Runs `f` on the state, alone.
    fn write<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.state.write().unwrap_or_else(PoisonError::into_inner))
    }

    /// Creates a group; fails if it exists.
    pub fn create_group(&self, group: &str) -> Result<(), LogsError> {
        self.write(|s| s.create_group(group, self.now_ms()))
    }

    /// Creates a stream in an existing group; fails if it exists.
    pub fn create_stream(&self, group: &str, stream: &str) -> Result<(), LogsError> {
        self.write(|s| s.create_stream(group, stream, self.now_ms()))
    }

    /// Creates a group unless it exists. Failures are logged: the caller
    /// (Lambda) has nobody to report them to.
    pub fn create_group_if_missing(&self, group: &str) {
        let now = self.now_ms();
        if let Err(e) = self.write(|s| ensure_group(s, group, now)) {
            tracing::warn!(group, error = %e, "cannot create log group");
        }
    }

    /// Creates a stream (and its group) unless it exists. Failures are logged.
    pub fn create_stream_if_missing(&self, group: &str, stream: &str) {
        let now = self.now_ms();
        if let Err(e) = self.write(|s| ensure_stream(s, group, stream, now)) {
            tracing::warn!(group, stream, error = %e, "cannot create log stream");
        }
    }

    /// Appends events to a stream, creating it (and its group) if missing,
    /// as Lambda's log delivery does. Events may come in any time order.
    /// EMF lines also become metrics. Failures are logged.
    pub fn append(&self, group: &str, stream: &str, events: Vec<LogEvent>) {
        if let Err(e) = self.store_events(group, stream, events, true) {
            tracing::warn!(group, stream, error = %e, "cannot append log events");
        }
    }

    /// Appends events to an existing stream (PutLogEvents). Returns the
    /// stream's sequence number after the append.
    pub fn put_events(
        &self,
        group: &str,
        stream: &str,
        events: Vec<LogEvent>,
    ) -> Result<u64, LogsError> {
        self.store_events(group, stream, events, false)
    }

    fn store_events(
        &self,
        group: &str,
        stream: &str,
        events: Vec<LogEvent>,
        create: bool,
    ) -> Result<u64, LogsError> {
        // Metrics first and outside the store's lock: the metric store has its own.
        for e in &events {
            self.metrics.ingest_emf(&e.message, e.timestamp);
        }
        let live = (self.tail.receiver_count() > 0).then(|| events.clone());
        let now = self.now_ms();
        self.write(|s| {
            if create {
                ensure_stream(s, group, stream, now)?;
            }
            let token = s.append(group, stream, events, now)?;
            // Sent under the lock, so subscribers see appends in store order.
            for e in live.into_iter().flatten() {
                let _ = self.tail.send((group.to_owned(), stream.to_owned(), e));
            }
            Ok(token)
        })
    }

    /// Deletes a stream.
    pub fn delete_stream(&self, group: &str, stream: &str) -> Result<(), LogsError> {
        self.write(|s| s.delete_stream(group, stream))
    }

    /// Deletes a group and its streams, if it exists. Failures are logged.
    pub fn delete_group(&self, group: &str) {
        match self.write(|s| s.delete_group(group)) {
            Ok(()) | Err(LogsError::GroupNotFound { .. }) => {}
            Err(e) => tracing::warn!(group, error = %e, "cannot delete log group"),
        }
    }

    /// Sets a group's retention in days (one of [`RETENTION_DAYS`]), or
    /// removes it with `None`. Expired events are dropped at once.
    pub fn set_retention(&self, group: &str, days: Option<u32>) -> Result<(), LogsError> {
        self.write(|s| s.set_retention(group, days, self.now_ms()))
    }

    /// Live tail: every event appended from now on, with its group and
    /// stream, in append order. A receiver more than 8192 events behind gets
    /// `Lagged` and continues with the newest.
    pub fn subscribe(&self) -> broadcast::Receiver<TailEvent> {
        self.tail.subscribe()
    }

    /// The events of a stream with `start <= timestamp < end` (ms), oldest
    /// first; empty if the stream does not exist.
    pub fn events(
        &self,
        group: &str,
        stream: &str,
        start: Option<i64>,
        end: Option<i64>,
    ) -> Vec<LogEvent> {
        self.read(|s| {
            let (Ok(g), Ok(st)) = (s.group(group), s.stream(group, stream)) else {
                return Vec::new();
            };
            let (lo, hi) = tokens::time_range(start, end, false, g.cutoff(self.now_ms()));
            query::between(&st.events, lo, hi)
                .map(|(k, e)| LogEvent {
                    timestamp: k.0,
                    message: e.message.clone(),
                })
                .collect()
        })
    }

    /// The last `max_bytes` of a stream's lines with `timestamp >= since_ms`,
    /// each line ending in a newline: what Lambda returns for `LogType: Tail`
    /// (4 KB, base64-encoded by the caller). Empty if the stream does not exist.
    pub fn tail_bytes(&self, group: &str, stream: &str, since_ms: i64, max_bytes: usize) -> String {
        self.read(|s| match s.stream(group, stream) {
            Ok(st) => query::tail(st, (since_ms, 0), max_bytes),
            Err(_) => String::new(),
        })
    }

    /// Serves one awsJson1_1 request.
    pub async fn handle(&self, req: ServiceRequest) -> Response<Body> {
        let target = req
            .headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let Some(op) = target.strip_prefix("Logs_20140328.") else {
            return protocol::error(
                req.protocol,
                StatusCode::BAD_REQUEST,
                "UnknownOperationException",
                "X-Amz-Target must be Logs_20140328.<Operation>",
            );
        };
        let cx = api::Context {
            store: self,
            region: wire::region(&req.headers),
            now: self.now_ms(),
        };
        if op == "StartLiveTail" {
            return match Input::parse(&req.body).and_then(|input| live_tail::start(self, &input)) {
                Ok(response) => response,
                Err(e) => e.response(),
            };
        }
        match Input::parse(&req.body).and_then(|input| api::dispatch(&cx, op, &input)) {
            Ok(value) => protocol::json(req.protocol, StatusCode::OK, &value),
            Err(e) => e.response(),
        }
    }
}

fn ensure_group(s: &mut State, group: &str, now: i64) -> Result<(), LogsError> {
    if s.groups.contains_key(group) {
        return Ok(());
    }
    match s.create_group(group, now) {
        Ok(()) | Err(LogsError::GroupExists { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

fn ensure_stream(s: &mut State, group: &str, stream: &str, now: i64) -> Result<(), LogsError> {
    // The common case (Lambda appends every line) allocates nothing.
    if s.groups
        .get(group)
        .is_some_and(|g| g.streams.contains_key(stream))
    {
        return Ok(());
    }
    ensure_group(s, group, now)?;
    match s.create_stream(group, stream, now) {
        Ok(()) | Err(LogsError::StreamExists { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Arc<MetricStore>, Arc<LogStore>) {
        let dir = tempfile::tempdir().unwrap();
        let metrics = MetricStore::open(&dir.path().join("metrics"), Clock::system()).unwrap();
        let logs = LogStore::open(&dir.path().join("logs"), metrics.clone()).unwrap();
        (dir, metrics, logs)
    }

    fn ev(timestamp: i64, message: &str) -> LogEvent {
        LogEvent {
            timestamp,
            message: message.into(),
        }
    }

    #[tokio::test]
    async fn subscribe_sees_appends_in_order() {
        let (_d, _m, logs) = store();
        let mut rx = logs.subscribe();
        logs.append("g", "s", vec![ev(2, "two"), ev(1, "one")]);
        logs.create_stream_if_missing("g", "t");
        logs.put_events("g", "t", vec![ev(3, "three")]).unwrap();
        let mut got = Vec::new();
        for _ in 0..3 {
            let (g, s, e) = rx.recv().await.unwrap();
            got.push(format!("{g}/{s}/{}", e.message));
        }
        assert_eq!(got, ["g/s/two", "g/s/one", "g/t/three"]);
    }

    #[test]
    fn read_helpers_and_emf() {
        let (_d, metrics, logs) = store();
        let now = logs.now_ms();
        logs.append(
            "/aws/lambda/f",
            "s",
            vec![
                ev(now, "START RequestId: 1"),
                ev(now + 1, "END RequestId: 1"),
            ],
        );
        // Recent by the store's clock: older points would be dropped as
        // CloudWatch drops them.
        let emf = format!(
            r#"{{"_aws":{{"Timestamp":{},"CloudWatchMetrics":[{{"Namespace":"SCAR","Dimensions":[["FunctionName"]],"Metrics":[{{"Name":"CacheHit"}}]}}]}},"FunctionName":"f","CacheHit":1}}"#,
            now + 5
        );
        logs.append(
            "/aws/lambda/f",
            "s",
            vec![ev(now + 5, &emf), ev(now + 6, "REPORT RequestId: 2")],
        );
        assert!(!metrics.is_empty(), "the EMF line became a metric");
        let all = logs.events("/aws/lambda/f", "s", None, None);
        assert_eq!(all.len(), 4);
        let range = logs.events("/aws/lambda/f", "s", Some(now + 1), Some(now + 6));
        assert_eq!(
            range.iter().map(|e| e.timestamp).collect::<Vec<_>>(),
            [now + 1, now + 5]
        );
        assert_eq!(
            logs.tail_bytes("/aws/lambda/f", "s", now + 6, 4096),
            "REPORT RequestId: 2\n"
        );
        assert_eq!(logs.tail_bytes("/aws/lambda/f", "s", now, 9), "estId: 2\n");
        assert!(logs.tail_bytes("nope", "s", 0, 10).is_empty());
        assert!(logs.events("nope", "s", None, None).is_empty());
        logs.delete_group("/aws/lambda/f");
        logs.delete_group("/aws/lambda/f");
        assert!(logs.events("/aws/lambda/f", "s", None, None).is_empty());
    }

    #[test]
    fn hundred_thousand_single_line_appends_are_cheap() {
        let dir = tempfile::tempdir().unwrap();
        let metrics = MetricStore::open(&dir.path().join("m"), Clock::system()).unwrap();
        let store = LogStore::open(&dir.path().join("logs"), metrics.clone()).unwrap();
        let t0 = std::time::Instant::now();
        let now = store.now_ms();
        for i in 0..100_000 {
            let line = format!("line {i} of the function's output");
            store.append(
                "/aws/lambda/f",
                "s",
                vec![LogEvent {
                    timestamp: now + i,
                    message: line,
                }],
            );
        }
        let took = t0.elapsed();
        eprintln!("100k appends: {took:?}");
        // About 1 s in a debug build; O(n) work per append would take minutes.
        assert!(took < std::time::Duration::from_secs(30), "{took:?}");
        drop(store);
        let t0 = std::time::Instant::now();
        let store = LogStore::open(&dir.path().join("logs"), metrics).unwrap();
        eprintln!("replay: {:?}", t0.elapsed());
        assert_eq!(
            store.events("/aws/lambda/f", "s", None, None).len(),
            100_000
        );
    }
}
