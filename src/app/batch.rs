//! The batch dispatcher: one `Event` invoke per input object, streamed from
//! a listing, with bounded concurrency, retries with backoff, and the
//! journal written ahead of every chunk (see [`super::journal`]).
//!
//! Each key gets a fresh payload, `{"input": {"bucket": B, "key": K}}`,
//! built for it alone: SCAR 4.3.1 mutates one shared event template from
//! its thread pool, so its async events can all carry the last key.
//! Throttling (`TooManyRequestsException`), 5xx answers and timeouts are
//! retried with exponential backoff and full jitter
//! (<https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/>);
//! a key-specific refusal (payload too large) is journaled as rejected and
//! retried by the next launch; a refusal that no key can pass (function
//! gone, access denied, retries exhausted on a transport failure) stops the
//! run, and a relaunch resumes it.

use std::collections::VecDeque;
use std::future::Future;
use std::hash::BuildHasher;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use scar_contract::time::Clock;
use serde::Serialize;
use tokio::sync::{Semaphore, mpsc, oneshot};

use super::journal::{Journal, JournalError, Record};
use crate::aws::objects::{FunctionInput, ObjectPages};
use crate::aws::{AwsError, Cloud};

/// What sends one `Event` invocation: the cloud, or a stand-in in tests.
pub trait Invoker: Clone + Send + Sync + 'static {
    /// Queues one event; returns Lambda's request id.
    fn invoke_event(
        &self,
        function: &str,
        payload: Vec<u8>,
    ) -> impl Future<Output = Result<String, AwsError>> + Send;
}

impl Invoker for Cloud {
    fn invoke_event(
        &self,
        function: &str,
        payload: Vec<u8>,
    ) -> impl Future<Output = Result<String, AwsError>> + Send {
        Cloud::invoke_event(self, function, payload)
    }
}

/// Where keys come from, a page at a time.
pub trait KeyPages: Send + 'static {
    /// The next page of keys, or `None` at the end.
    fn next_page(&mut self) -> impl Future<Output = Result<Option<Vec<String>>, AwsError>> + Send;
}

/// A function's input objects: its listing, filtered by its suffixes.
#[derive(Debug)]
pub struct InputKeys {
    /// The listing.
    pub pages: ObjectPages,
    /// The filter.
    pub input: FunctionInput,
}

impl KeyPages for InputKeys {
    async fn next_page(&mut self) -> Result<Option<Vec<String>>, AwsError> {
        Ok(self.pages.next_page().await?.map(|p| {
            p.into_iter()
                .map(|o| o.key)
                .filter(|k| self.input.takes(k))
                .collect()
        }))
    }
}

/// A list of keys already in memory (retries, in-doubt resends, benchmarks).
#[derive(Debug)]
pub struct KeyList(pub VecDeque<String>);

impl KeyPages for KeyList {
    async fn next_page(&mut self) -> Result<Option<Vec<String>>, AwsError> {
        let n = self.0.len().min(1000);
        Ok((n > 0).then(|| self.0.drain(..n).collect()))
    }
}

/// How to dispatch.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// Invokes in flight at once.
    pub concurrency: usize,
    /// At most this many invokes per second (none: as fast as allowed).
    pub rate: Option<f64>,
    /// Attempts per key before giving up.
    pub max_attempts: u32,
    /// One attempt's time limit.
    pub attempt_timeout: Duration,
    /// First backoff ceiling; doubles per attempt.
    pub backoff_base: Duration,
    /// Largest backoff ceiling.
    pub backoff_cap: Duration,
    /// The clock the journal's records are stamped by.
    pub clock: Clock,
}

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions {
            concurrency: 256,
            rate: None,
            max_attempts: 8,
            attempt_timeout: Duration::from_secs(30),
            backoff_base: Duration::from_millis(100),
            backoff_cap: Duration::from_secs(20),
            clock: Clock::system(),
        }
    }
}

impl BatchOptions {
    /// Keys per journal intent: one fsync per chunk. Tied to concurrency so
    /// that at most about two chunks' worth of keys are ever in doubt.
    pub fn chunk(&self) -> usize {
        self.concurrency.clamp(16, 512)
    }
}

/// Live counters, read by whoever draws progress.
#[derive(Debug, Default)]
pub struct BatchProgress {
    /// Keys to send, as far as known (see `total_known`).
    pub total: AtomicU64,
    /// Set once `total` is exact.
    pub total_known: AtomicBool,
    /// Keys accepted by Lambda in this launch.
    pub dispatched: AtomicU64,
    /// Keys skipped: already accepted in an earlier launch.
    pub skipped: AtomicU64,
    /// Keys refused for good in this launch.
    pub rejected: AtomicU64,
    /// Attempts retried after throttling, 5xx or timeouts.
    pub retries: AtomicU64,
}

/// What a dispatch did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DispatchReport {
    /// Keys accepted.
    pub dispatched: u64,
    /// Keys skipped (accepted by an earlier launch, or in doubt).
    pub skipped: u64,
    /// Keys refused for good: (key, error).
    pub rejected: Vec<(String, String)>,
    /// Retried attempts.
    pub retries: u64,
    /// Wall time, ms.
    pub elapsed_ms: u64,
    /// Accepted keys per second.
    pub rate: f64,
}

/// A failure that stops a dispatch.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// The journal could not be written: nothing more is sent.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// A refusal no key can pass, or the listing failed.
    #[error("{0}; the keys sent so far are journaled: run again to resume")]
    Stopped(AwsError),
}

enum Verdict {
    Retry,
    RejectKey,
    StopRun,
}

/// Sorts an error by what to do about it, after Lambda's Invoke errors
/// (<https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_Errors>).
fn verdict(e: &AwsError) -> Verdict {
    match e.code() {
        Some(
            "TooManyRequestsException"
            | "ThrottlingException"
            | "ServiceException"
            | "ResourceNotReadyException"
            | "EC2ThrottledException"
            | "EC2UnexpectedException"
            | "ENILimitReachedException"
            | "RequestFailed"
            | "Timeout"
            | "InternalFailure"
            | "ServiceUnavailable"
            | "ServiceUnavailableException"
            | "RequestTimeout"
            | "RequestTimeoutException",
        ) => Verdict::Retry,
        Some(
            "InvalidRequestContentException"
            | "RequestTooLargeException"
            | "InvalidParameterValueException"
            | "UnsupportedMediaTypeException",
        ) => Verdict::RejectKey,
        _ => Verdict::StopRun,
    }
}

/// A random delay in `0..=ceiling` (full jitter), from std's randomly keyed hasher.
fn jitter(ceiling: Duration) -> Duration {
    let r = std::collections::hash_map::RandomState::new().hash_one(Instant::now());
    ceiling.mul_f64((r % 10_001) as f64 / 10_000.0)
}

/// The event for one key, built fresh (never a shared template).
pub fn payload_for(bucket: &str, key: &str) -> Vec<u8> {
    serde_json::json!({"input": {"bucket": bucket, "key": key}})
        .to_string()
        .into_bytes()
}

enum Sent {
    Accepted(String, String),
    Rejected(String, AwsError),
    Stop(AwsError),
}

async fn send_one<I: Invoker>(
    invoker: I,
    function: Arc<str>,
    bucket: Arc<str>,
    key: String,
    opts: Arc<BatchOptions>,
    progress: Arc<BatchProgress>,
) -> Sent {
    let payload = payload_for(&bucket, &key);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let err = match tokio::time::timeout(
            opts.attempt_timeout,
            invoker.invoke_event(&function, payload.clone()),
        )
        .await
        {
            Ok(Ok(id)) => return Sent::Accepted(key, id),
            Ok(Err(e)) => e,
            Err(_) => AwsError::Call {
                op: "Invoke",
                target: function.to_string(),
                code: "Timeout".into(),
                message: format!("no answer within {:?}", opts.attempt_timeout),
            },
        };
        match verdict(&err) {
            Verdict::Retry if attempt < opts.max_attempts => {
                progress.retries.fetch_add(1, Ordering::Relaxed);
                let ceiling = opts
                    .backoff_base
                    .saturating_mul(1 << (attempt - 1).min(16))
                    .min(opts.backoff_cap);
                tokio::time::sleep(jitter(ceiling)).await;
            }
            // Retries exhausted on something no key can pass: stop, resume later.
            Verdict::Retry | Verdict::StopRun => return Sent::Stop(err),
            Verdict::RejectKey => return Sent::Rejected(key, err),
        }
    }
}

enum ToJournal {
    Intent(Vec<String>, oneshot::Sender<Result<(), JournalError>>),
    Record(Record),
}

/// Owns the journal while a dispatch runs: intents are synced before the
/// dispatcher may send their keys; acks are batched into the next sync (at
/// the latest 200 ms later, or with the next intent).
async fn journal_writer(
    mut j: Journal,
    mut rx: mpsc::UnboundedReceiver<ToJournal>,
    clock: Clock,
) -> (Journal, Result<(), JournalError>) {
    let mut pending = false;
    let mut deadline = tokio::time::Instant::now();
    let mut result = Ok(());
    loop {
        tokio::select! {
            msg = rx.recv() => match msg {
                Some(ToJournal::Intent(keys, reply)) => {
                    j.push(&Record::Intent {
                        ms: clock.now_ms(),
                        keys,
                    });
                    let r = j.sync().await;
                    pending = false;
                    let failed = r.is_err();
                    let _ = reply.send(r);
                    if failed {
                        return (j, Ok(()));
                    }
                }
                Some(ToJournal::Record(r)) => {
                    j.push(&r);
                    if !pending {
                        pending = true;
                        deadline = tokio::time::Instant::now() + Duration::from_millis(200);
                    }
                }
                None => {
                    let r = j.sync().await;
                    return (j, result.and(r));
                }
            },
            _ = tokio::time::sleep_until(deadline), if pending => {
                pending = false;
                if let Err(e) = j.sync().await {
                    result = Err(e);
                }
            }
        }
    }
}

/// Sends one `Event` invoke per key from `pages` that `skip` does not
/// exclude, journaling as it goes. Returns the journal for further records.
#[allow(clippy::too_many_arguments)]
pub async fn dispatch<I: Invoker, P: KeyPages>(
    invoker: I,
    function: &str,
    bucket: &str,
    mut pages: P,
    skip: impl Fn(&str) -> bool,
    journal: Journal,
    opts: &BatchOptions,
    progress: Arc<BatchProgress>,
) -> (Journal, Result<DispatchReport, BatchError>) {
    let started = Instant::now();
    let opts = Arc::new(opts.clone());
    let (function, bucket): (Arc<str>, Arc<str>) = (function.into(), bucket.into());
    let (jtx, jrx) = mpsc::unbounded_channel();
    let writer = tokio::spawn(journal_writer(journal, jrx, opts.clock.clone()));

    // The listing runs a few pages ahead of the dispatch, no more.
    let (page_tx, mut page_rx) = mpsc::channel::<Result<Vec<String>, AwsError>>(4);
    let lister = tokio::spawn(async move {
        loop {
            let page = pages.next_page().await.transpose();
            let end = !matches!(page, Some(Ok(_)));
            if let Some(p) = page
                && page_tx.send(p).await.is_err()
            {
                return;
            }
            if end {
                return;
            }
        }
    });

    let sem = Arc::new(Semaphore::new(opts.concurrency.max(1)));
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Sent>();
    let mut report = DispatchReport::default();
    let mut stop: Option<BatchError> = None;
    let mut carry: VecDeque<String> = VecDeque::new();
    let mut listing_done = false;
    let mut sent = 0u64;

    let settle = |s: Sent, report: &mut DispatchReport, stop: &mut Option<BatchError>| match s {
        Sent::Accepted(key, id) => {
            report.dispatched += 1;
            progress.dispatched.fetch_add(1, Ordering::Relaxed);
            let _ = jtx.send(ToJournal::Record(Record::Ack { key, id }));
        }
        Sent::Rejected(key, e) => {
            progress.rejected.fetch_add(1, Ordering::Relaxed);
            let _ = jtx.send(ToJournal::Record(Record::Reject {
                key: key.clone(),
                error: e.to_string(),
            }));
            report.rejected.push((key, e.to_string()));
        }
        // The key stays in doubt in the journal (it may have reached Lambda).
        Sent::Stop(e) => {
            stop.get_or_insert(BatchError::Stopped(e));
        }
    };

    'chunks: while stop.is_none() {
        let mut chunk = Vec::with_capacity(opts.chunk());
        while chunk.len() < opts.chunk() {
            if let Some(k) = carry.pop_front() {
                chunk.push(k);
                continue;
            }
            if listing_done {
                break;
            }
            match page_rx.recv().await {
                Some(Ok(page)) => {
                    let n = page.len() as u64;
                    let before = carry.len();
                    carry.extend(page.into_iter().filter(|k| !skip(k)));
                    let skipped = n - (carry.len() - before) as u64;
                    report.skipped += skipped;
                    progress.skipped.fetch_add(skipped, Ordering::Relaxed);
                }
                Some(Err(e)) => {
                    stop = Some(BatchError::Stopped(e));
                    break 'chunks;
                }
                None => {
                    listing_done = true;
                    progress.total_known.store(true, Ordering::Relaxed);
                }
            }
        }
        if chunk.is_empty() {
            break;
        }
        while let Ok(s) = done_rx.try_recv() {
            settle(s, &mut report, &mut stop);
        }
        let (reply_tx, reply_rx) = oneshot::channel();
        let _ = jtx.send(ToJournal::Intent(chunk.clone(), reply_tx));
        match reply_rx.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                stop = Some(e.into());
                break;
            }
            Err(_) => break,
        }
        for key in chunk {
            let permit = tokio::select! {
                p = sem.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break 'chunks },
                Some(s) = done_rx.recv() => {
                    settle(s, &mut report, &mut stop);
                    // Try the same key again after settling what finished.
                    match sem.clone().acquire_owned().await { Ok(p) => p, Err(_) => break 'chunks }
                }
            };
            if stop.is_some() {
                // Not sent: its intent stays, so a relaunch resolves it as in doubt.
                break 'chunks;
            }
            if let Some(rate) = opts.rate {
                let due = started + Duration::from_secs_f64(sent as f64 / rate.max(0.001));
                tokio::time::sleep_until(due.into()).await;
            }
            sent += 1;
            let (inv, f, b, o, p, tx) = (
                invoker.clone(),
                function.clone(),
                bucket.clone(),
                opts.clone(),
                progress.clone(),
                done_tx.clone(),
            );
            tokio::spawn(async move {
                let s = send_one(inv, f, b, key, o, p).await;
                let _ = tx.send(s);
                drop(permit);
            });
        }
    }
    lister.abort();
    drop(done_tx);
    while let Some(s) = done_rx.recv().await {
        settle(s, &mut report, &mut stop);
    }
    drop(jtx);
    let (journal, written) = match writer.await {
        Ok(r) => r,
        // The writer only panics on a bug: carry the panic on.
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    };
    report.retries = progress.retries.load(Ordering::Relaxed);
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    report.rate = report.dispatched as f64 / started.elapsed().as_secs_f64().max(1e-9);
    let result = match (stop, written) {
        (Some(e), _) => Err(e),
        (None, Err(e)) => Err(e.into()),
        (None, Ok(())) => Ok(report),
    };
    (journal, result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::journal::{journal_path, replay};
    use std::collections::HashMap;
    use std::sync::Mutex;

    /// Throttles every key's first two attempts, then accepts; records payloads.
    #[derive(Clone, Default)]
    struct Flaky {
        attempts: Arc<Mutex<HashMap<String, u32>>>,
        accepted: Arc<Mutex<Vec<String>>>,
    }

    impl Invoker for Flaky {
        async fn invoke_event(
            &self,
            _function: &str,
            payload: Vec<u8>,
        ) -> Result<String, AwsError> {
            let v: serde_json::Value = serde_json::from_slice(&payload).unwrap();
            let key = v["input"]["key"].as_str().unwrap().to_owned();
            let n = {
                let mut a = self.attempts.lock().unwrap();
                let n = a.entry(key.clone()).or_default();
                *n += 1;
                *n
            };
            if key.contains("huge") {
                return Err(AwsError::Call {
                    op: "Invoke",
                    target: "f".into(),
                    code: "RequestTooLargeException".into(),
                    message: "too large".into(),
                });
            }
            if n <= 2 {
                return Err(AwsError::Call {
                    op: "Invoke",
                    target: "f".into(),
                    code: "TooManyRequestsException".into(),
                    message: "Rate exceeded".into(),
                });
            }
            self.accepted.lock().unwrap().push(key.clone());
            Ok(format!("id-{key}"))
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn throttled_keys_are_retried_each_with_its_own_payload() {
        let d = tempfile::tempdir().unwrap();
        let path = journal_path(d.path(), "f");
        let j = Journal::start(
            &path,
            Record::Begin {
                run: "r".into(),
                ms: 0,
                function: "f".into(),
                bucket: "b".into(),
                prefix: String::new(),
            },
        )
        .await
        .unwrap();
        let keys: VecDeque<String> = (0..100)
            .map(|i| format!("k {i} é"))
            .chain(["huge".to_owned(), "skip me".to_owned()])
            .collect();
        let inv = Flaky::default();
        let opts = BatchOptions {
            concurrency: 8,
            backoff_base: Duration::from_millis(1),
            ..Default::default()
        };
        let (_, r) = dispatch(
            inv.clone(),
            "f",
            "b",
            KeyList(keys),
            |k| k == "skip me",
            j,
            &opts,
            Arc::default(),
        )
        .await;
        let r = r.unwrap();
        assert_eq!(r.dispatched, 100);
        assert_eq!(r.rejected.len(), 1);
        assert_eq!(r.retries, 200);
        let mut accepted = inv.accepted.lock().unwrap().clone();
        accepted.sort();
        accepted.dedup();
        assert_eq!(accepted.len(), 100, "every key sent with its own payload");
        let c = replay(&path).unwrap().unwrap();
        assert_eq!(c.acknowledged().count(), 100);
        assert!(c.in_doubt().is_empty());
        assert_eq!(c.keys["k 7 é"].current_id(), Some("id-k 7 é"));
        assert!(c.keys["huge"].rejected.is_some());
        assert!(!c.keys.contains_key("skip me"));
    }
}
