//! `Event` invocations: a durable queue with Lambda's retry policy.
//!
//! Each accepted event is in the queue's journal ([`super::journal`])
//! before the caller gets its 202 (or S3 its answer), so it survives a
//! crash or restart of the local cloud. Per function, a dispatcher keeps
//! twice as many invocations in flight as the function may run at once:
//! the extra ones wait for an environment instead of being throttled, as
//! on AWS, and take it the moment it is released, neither frozen nor
//! thawed in between. A failed invocation is retried twice, after the
//! configured delays (AWS waits about one and then two minutes; the local
//! default is shorter so a developer sees the outcome); after that, or
//! after six hours in the queue, it is appended to `failed-events.jsonl`,
//! which the console shows (a local stand-in for an on-failure destination).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{Notify, mpsc};

use super::journal::{Journal, Queued};
use super::runtime_api::Outcome;
use super::{ApiError, Lambda};
use crate::LocalError;
use scar_contract::time::Clock;

/// Attempts in all: the first and two retries.
const MAX_ATTEMPTS: u32 = 3;
/// Oldest event still attempted (Lambda's default maximum event age).
const MAX_AGE_MS: u64 = 6 * 3600 * 1000;
/// Failed events kept in the record.
const FAILED_KEPT: usize = 10_000;

/// The queue.
#[derive(Debug)]
pub struct Queue {
    dir: PathBuf,
    journal: Mutex<Journal>,
    tx: mpsc::UnboundedSender<Queued>,
    rx: Mutex<Option<mpsc::UnboundedReceiver<Queued>>>,
    pending: Arc<AtomicUsize>,
    failed_lock: Mutex<()>,
    clock: Clock,
}

impl Queue {
    /// Opens the queue folder; stored events are dispatched once started.
    pub fn open(dir: &Path, clock: Clock) -> Result<Queue, LocalError> {
        let (journal, owed) = Journal::open(dir)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let q = Queue {
            dir: dir.to_owned(),
            journal: Mutex::new(journal),
            tx,
            rx: Mutex::new(Some(rx)),
            pending: Arc::new(AtomicUsize::new(0)),
            failed_lock: Mutex::new(()),
            clock,
        };
        for ev in owed {
            q.pending.fetch_add(1, Ordering::Relaxed);
            let _ = q.tx.send(ev);
        }
        Ok(q)
    }

    fn now_ms(&self) -> u64 {
        self.clock.now_ms().max(0) as u64
    }

    fn journal(&self) -> std::sync::MutexGuard<'_, Journal> {
        self.journal.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn store(&self, ev: &Queued) -> Result<(), ApiError> {
        self.journal()
            .put(ev)
            .map_err(|e| ApiError::service(format!("queueing the event failed: {e}")))
    }

    /// Settles an event in the journal; a failure only means it would run
    /// again after a restart.
    fn settle(&self, ev: &Queued) {
        if let Err(e) = self.journal().done(&ev.id) {
            tracing::warn!(id = %ev.id, error = %e, "queue journal not updated");
        }
        self.pending.fetch_sub(1, Ordering::Relaxed);
    }

    /// Queues an event for `function`; returns the request id.
    pub fn push(
        &self,
        _lambda: &Arc<Lambda>,
        function: &str,
        payload: Bytes,
    ) -> Result<String, ApiError> {
        self.push_raw(function, payload)
    }

    /// Queues an event without a caller waiting (S3 notifications).
    pub fn push_raw(&self, function: &str, payload: Bytes) -> Result<String, ApiError> {
        let now = self.now_ms();
        let ev = Queued {
            id: uuid::Uuid::new_v4().to_string(),
            function: function.to_owned(),
            payload: String::from_utf8_lossy(&payload).into_owned(),
            attempts: 0,
            enqueued_ms: now,
            not_before_ms: now,
            last_error: None,
        };
        self.store(&ev)?;
        self.pending.fetch_add(1, Ordering::Relaxed);
        let id = ev.id.clone();
        self.tx
            .send(ev)
            .map_err(|_| ApiError::service("the event queue is shut down"))?;
        Ok(id)
    }

    /// Events queued or waiting for a retry.
    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::Relaxed)
    }

    /// The failed-events record, optionally for one function.
    pub fn failed(&self, function: Option<&str>) -> Vec<serde_json::Value> {
        let _g = self.failed_lock.lock().unwrap_or_else(|p| p.into_inner());
        let text =
            std::fs::read_to_string(self.dir.join("failed-events.jsonl")).unwrap_or_default();
        text.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| function.is_none_or(|f| v["function"] == f))
            .collect()
    }

    fn record_failure(&self, ev: &Queued, error: &str) {
        let _g = self.failed_lock.lock().unwrap_or_else(|p| p.into_inner());
        let path = self.dir.join("failed-events.jsonl");
        let line = serde_json::json!({
            "function": ev.function,
            "request_id": ev.id,
            "payload": ev.payload,
            "attempts": ev.attempts,
            "error": error,
            "enqueued_at": super::iso8601(ev.enqueued_ms),
            "failed_at": super::iso8601(self.now_ms()),
        });
        use std::io::Write;
        let appended = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| writeln!(f, "{line}"));
        if let Err(e) = appended {
            tracing::warn!(error = %e, "failed-events record not written");
        }
        // Keep the record bounded.
        if let Ok(text) = std::fs::read_to_string(&path) {
            let lines: Vec<&str> = text.lines().collect();
            if lines.len() > FAILED_KEPT {
                let kept = lines[lines.len() - FAILED_KEPT..].join("\n") + "\n";
                let tmp = path.with_extension("tmp");
                if std::fs::write(&tmp, kept).is_ok() {
                    let _ = std::fs::rename(&tmp, &path);
                }
            }
        }
        self.settle(ev);
    }

    fn done(&self, ev: &Queued) {
        self.settle(ev);
    }
}

/// Starts the dispatcher (once).
pub fn start(lambda: &Arc<Lambda>) {
    let Some(mut rx) = lambda
        .queue
        .rx
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
    else {
        return;
    };
    let weak = Arc::downgrade(lambda);
    let mut stop = lambda.stop.subscribe();
    tokio::spawn(async move {
        let mut workers: HashMap<String, mpsc::UnboundedSender<Queued>> = HashMap::new();
        loop {
            let ev = tokio::select! {
                ev = rx.recv() => match ev { Some(ev) => ev, None => return },
                _ = stop.changed() => return,
            };
            let name = ev.function.clone();
            let tx = workers
                .entry(name.clone())
                .or_insert_with(|| spawn_worker(weak.clone(), name.clone()));
            if let Err(mpsc::error::SendError(ev)) = tx.send(ev) {
                let tx = spawn_worker(weak.clone(), name.clone());
                let _ = tx.send(ev);
                workers.insert(name, tx);
            }
        }
    });
}

/// A function's dispatcher: in-flight invocations bounded by twice its
/// limit (one running and one waiting per environment).
fn spawn_worker(lambda: Weak<Lambda>, function: String) -> mpsc::UnboundedSender<Queued> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Queued>();
    let inflight = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(Notify::new());
    tokio::spawn(async move {
        while let Some(ev) = rx.recv().await {
            let Some(now) = lambda.upgrade().map(|l| l.queue.now_ms()) else {
                return;
            };
            let wait = ev.not_before_ms.saturating_sub(now);
            if wait > 0 {
                // A retry not yet due: park it and go on with the others.
                let (lambda, ev) = (lambda.clone(), ev);
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(wait)).await;
                    if let Some(l) = lambda.upgrade() {
                        let _ = l.queue.tx.send(Queued {
                            not_before_ms: 0,
                            ..ev
                        });
                    }
                });
                continue;
            }
            loop {
                let notified = finished.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                let Some(l) = lambda.upgrade() else { return };
                let limit = l.function_limit(&function).max(1);
                drop(l);
                if inflight.load(Ordering::SeqCst) < 2 * limit as usize {
                    break;
                }
                notified.await;
            }
            inflight.fetch_add(1, Ordering::SeqCst);
            let (lambda2, inflight2, finished2) =
                (lambda.clone(), inflight.clone(), finished.clone());
            tokio::spawn(async move {
                if let Some(l) = lambda2.upgrade() {
                    attempt(&l, ev).await;
                }
                inflight2.fetch_sub(1, Ordering::SeqCst);
                finished2.notify_one();
            });
        }
    });
    tx
}

async fn attempt(lambda: &Arc<Lambda>, mut ev: Queued) {
    ev.attempts += 1;
    // The function's own settings (PutFunctionEventInvokeConfig), else Lambda's defaults.
    let settings = lambda.config(&ev.function).and_then(|c| c.event_invoke);
    let max_attempts = settings
        .as_ref()
        .and_then(|s| s.maximum_retry_attempts)
        .map_or(MAX_ATTEMPTS, |r| r + 1);
    let max_age_ms = settings
        .as_ref()
        .and_then(|s| s.maximum_event_age_in_seconds)
        .map_or(MAX_AGE_MS, |s| u64::from(s) * 1000);
    if lambda.queue.now_ms().saturating_sub(ev.enqueued_ms) > max_age_ms {
        let why = format!(
            "EventAgeExceeded: the event was older than {} s",
            max_age_ms / 1000
        );
        fail(lambda, &ev, "EventAgeExceeded", &why).await;
        return;
    }
    let result = lambda
        .invoke(&ev.function, &ev.id, Bytes::from(ev.payload.clone()), true)
        .await;
    let error = match result {
        Ok(r) => match r.outcome {
            Outcome::Response(_) => None,
            Outcome::Error { error_type, body } => {
                Some(format!("{error_type}: {}", String::from_utf8_lossy(&body)))
            }
        },
        Err(e) if e.error_type == "ResourceNotFoundException" => {
            // The function is gone: retrying cannot help.
            let why = format!("{}: {}", e.error_type, e.message);
            fail(lambda, &ev, "ResourceNotFound", &why).await;
            return;
        }
        Err(e) => Some(format!("{}: {}", e.error_type, e.message)),
    };
    match error {
        None => lambda.queue.done(&ev),
        Some(err) if ev.attempts >= max_attempts => {
            fail(lambda, &ev, "RetriesExhausted", &err).await;
        }
        Some(err) => {
            let delay = lambda.settings.retry_delays[(ev.attempts as usize - 1).min(1)];
            ev.not_before_ms = lambda.queue.now_ms() + delay.as_millis() as u64;
            ev.last_error = Some(err);
            if lambda.queue.store(&ev).is_err() {
                tracing::warn!(id = %ev.id, "retry state not stored");
            }
            let _ = lambda.queue.tx.send(ev);
        }
    }
}

/// An event that will not be attempted again: delivered to the function's
/// on-failure destination (an S3 bucket) when it has one, as Lambda does,
/// then recorded and settled. A delivery that fails is counted in
/// `DestinationDeliveryFailures`, as on AWS, and the event is still settled.
async fn fail(lambda: &Arc<Lambda>, ev: &Queued, condition: &str, error: &str) {
    let destination = lambda
        .config(&ev.function)
        .and_then(|c| c.event_invoke)
        .and_then(|s| s.on_failure);
    if let Some(bucket) = destination
        .as_deref()
        .and_then(super::routes::event_invoke::s3_destination_bucket)
        && let Some(sink) = lambda.records.get()
    {
        let now = lambda.queue.now_ms();
        let stamp = super::iso8601(now);
        let record = serde_json::json!({
            "version": "1.0",
            "timestamp": stamp,
            "requestContext": {
                "requestId": ev.id,
                "functionArn": format!("{}:$LATEST", super::functions::function_arn(&lambda.settings.region, &ev.function)),
                "condition": condition,
                "approximateInvokeCount": ev.attempts,
            },
            "requestPayload": serde_json::from_str::<serde_json::Value>(&ev.payload)
                .unwrap_or_else(|_| serde_json::Value::String(ev.payload.clone())),
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "responsePayload": {"errorMessage": error},
        });
        let key = format!(
            "{}{}/{}-{}",
            contract_failure_prefix(&ev.function),
            &stamp[..10].replace('-', "/"),
            &stamp[..19].replace(':', "."),
            ev.id
        );
        if let Err(e) = sink
            .deliver(bucket, &key, record.to_string().into_bytes())
            .await
        {
            tracing::warn!(function = %ev.function, error = %e, "on-failure record not delivered");
            lambda.count(&ev.function, "DestinationDeliveryFailures", 1.0, "Count");
        }
    }
    lambda.queue.record_failure(ev, error);
}

/// Where a function's on-failure records go in the destination bucket.
fn contract_failure_prefix(function: &str) -> String {
    scar_contract::function::failure_record_prefix(function)
}
