//! Lambda: the control plane, Invoke, and the execution environments that
//! host the unmodified supervisor `bootstrap`.
//!
//! - [`functions`]: configuration, code and policy store (durable);
//! - [`routes`]: the REST-JSON API, with AWS's paths, errors and limits;
//! - [`environment`]: one `bootstrap` process with its Runtime API
//!   ([`runtime_api`]), TMPDIR, log stream ([`output`]), freeze/thaw and
//!   limits;
//! - this file: the scheduler: environments per function are reused warm,
//!   created on demand up to the concurrency limit (reserved per function,
//!   the rest of the account's shared), retired when the configuration
//!   changes and reaped after the keep-warm period;
//! - [`queue`]: `Event` invocations, durable ([`journal`]), with Lambda's
//!   two retries.

pub mod environment;
pub mod functions;
pub mod journal;
pub mod output;
pub mod queue;
pub mod routes;
pub mod runtime_api;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Response, StatusCode};
use tokio::sync::{Notify, watch};

use super::LocalError;
use super::keys::AccessKey;
use super::logs::LogStore;
use super::metrics::{Datum, MetricStore};
use super::protocol::{self, Body, Protocol};
use super::server::ServiceRequest;
use environment::{Environment, Ran, Spawn};
use functions::FunctionConfig;
use runtime_api::Outcome;

/// What Lambda needs from the rest of the cloud.
#[derive(Debug, Clone)]
pub struct LambdaSettings {
    /// Its data folder.
    pub dir: PathBuf,
    /// The cloud's endpoint, given to functions as AWS_ENDPOINT_URL.
    pub endpoint: String,
    /// The key functions sign with.
    pub key: AccessKey,
    /// The region.
    pub region: String,
    /// Idle time before an environment is reaped.
    pub keep_warm: Duration,
    /// Account concurrency limit.
    pub account_concurrency: u32,
    /// Delays before the two retries of a failed `Event` invocation.
    pub retry_delays: [Duration; 2],
    /// Where function logs go.
    pub logs: Arc<LogStore>,
    /// Where Lambda's metrics go.
    pub metrics: Arc<MetricStore>,
}

/// A Lambda API error: HTTP status, AWS error type, message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// AWS error type (`ResourceNotFoundException`...).
    pub error_type: &'static str,
    /// Message.
    pub message: String,
}

impl ApiError {
    /// InvalidParameterValueException (400).
    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            error_type: "InvalidParameterValueException",
            message: message.into(),
        }
    }
    /// ResourceNotFoundException (404) for a function.
    pub fn not_found(region: &str, name: &str) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            error_type: "ResourceNotFoundException",
            message: format!(
                "Function not found: {}",
                functions::function_arn(region, name)
            ),
        }
    }
    /// ResourceConflictException (409).
    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::CONFLICT,
            error_type: "ResourceConflictException",
            message: message.into(),
        }
    }
    /// TooManyRequestsException (429).
    pub fn throttled() -> ApiError {
        ApiError {
            status: StatusCode::TOO_MANY_REQUESTS,
            error_type: "TooManyRequestsException",
            message: "Rate Exceeded.".into(),
        }
    }
    /// RequestTooLargeException (413).
    pub fn too_large(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            error_type: "RequestTooLargeException",
            message: message.into(),
        }
    }
    /// ServiceException (500).
    pub fn service(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            error_type: "ServiceException",
            message: message.into(),
        }
    }
    /// The REST-JSON response.
    pub fn response(&self) -> Response<Body> {
        protocol::error(
            Protocol::RestJson,
            self.status,
            self.error_type,
            &self.message,
        )
    }
}

/// One function's environments.
#[derive(Debug)]
struct FunctionState {
    config: FunctionConfig,
    idle: Vec<Arc<Environment>>,
    busy: u32,
    starting: u32,
    /// Async invocations waiting for one of its environments.
    waiting: u32,
}

impl FunctionState {
    fn new(config: FunctionConfig) -> FunctionState {
        FunctionState {
            config,
            idle: Vec::new(),
            busy: 0,
            starting: 0,
            waiting: 0,
        }
    }

    /// Freezes idle environments beyond those a waiting invocation is
    /// about to take.
    fn freeze_surplus(&self) {
        let mut keep = self.waiting as usize;
        for e in &self.idle {
            if keep > 0 && !e.is_frozen() {
                keep -= 1;
            } else {
                e.freeze();
            }
        }
    }
}

#[derive(Debug, Default)]
struct Inner {
    functions: HashMap<String, FunctionState>,
}

/// Uncounts an abandoned wait for an environment (see [`Lambda::acquire`]).
struct WaitGuard<'a> {
    lambda: &'a Lambda,
    name: &'a str,
    counted: bool,
}

impl Drop for WaitGuard<'_> {
    fn drop(&mut self) {
        if !self.counted {
            return;
        }
        let mut inner = self.lambda.lock();
        if let Some(f) = inner.functions.get_mut(self.name) {
            f.waiting = f.waiting.saturating_sub(1);
            f.freeze_surplus();
        }
    }
}

/// An environment reserved for one invocation.
enum Lease {
    Warm(Arc<Environment>),
    Cold(Spawn),
}

/// How an invocation ended, for the API and the queue.
#[derive(Debug)]
pub struct InvokeResult {
    /// The request id.
    pub request_id: String,
    /// The function's answer or failure.
    pub outcome: Outcome,
    /// The invocation's log lines.
    pub log_tail: String,
}

/// The Lambda service.
#[derive(Debug)]
pub struct Lambda {
    settings: LambdaSettings,
    inner: Mutex<Inner>,
    released: Notify,
    stop: watch::Sender<bool>,
    queue: queue::Queue,
}

/// Formats ms since the epoch as ISO 8601 UTC, always with milliseconds
/// (as Lambda and S3 write their timestamps); the date arithmetic is the
/// metrics module's.
pub fn iso8601(ms: u64) -> String {
    let secs = (ms / 1000) as i64;
    let (y, m, d) = super::metrics::iso8601::civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60,
        ms % 1000
    )
}

pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Lambda {
    /// Opens the functions and the queued events in the data folder and
    /// starts the reaper and the async dispatchers.
    pub fn open(settings: LambdaSettings) -> Result<Arc<Lambda>, LocalError> {
        let mut inner = Inner::default();
        for config in functions::load_all(&settings.dir)? {
            inner
                .functions
                .insert(config.name.clone(), FunctionState::new(config));
        }
        let run = settings.dir.join("run");
        // Environments do not survive a restart; their folders are leftovers.
        let _ = std::fs::remove_dir_all(&run);
        std::fs::create_dir_all(&run).map_err(|e| LocalError::io(&run, e))?;
        // One environment's scratch churn stays in its own block group.
        super::spread_subdirectories(&run);
        let queue = queue::Queue::open(&settings.dir.join("queue"))?;
        let lambda = Arc::new(Lambda {
            settings,
            inner: Mutex::new(inner),
            released: Notify::new(),
            stop: watch::channel(false).0,
            queue,
        });
        tokio::spawn(reaper(Arc::downgrade(&lambda), lambda.stop.subscribe()));
        queue::start(&lambda);
        Ok(lambda)
    }

    /// The settings.
    pub fn settings(&self) -> &LambdaSettings {
        &self.settings
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Serves one REST-JSON request.
    pub async fn handle(self: &Arc<Self>, req: ServiceRequest) -> Response<Body> {
        match routes::route(self, req).await {
            Ok(r) => r,
            Err(e) => e.response(),
        }
    }

    /// A copy of a function's configuration.
    pub fn config(&self, name: &str) -> Option<FunctionConfig> {
        self.lock().functions.get(name).map(|f| f.config.clone())
    }

    /// Every function's configuration, sorted by name.
    pub fn configs(&self) -> Vec<FunctionConfig> {
        let mut v: Vec<_> = self
            .lock()
            .functions
            .values()
            .map(|f| f.config.clone())
            .collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }

    /// Warm (idle) environments of a function.
    pub fn warm_environments(&self, name: &str) -> usize {
        self.lock().functions.get(name).map_or(0, |f| f.idle.len())
    }

    /// Environments of a function, idle and busy.
    pub fn environments(&self, name: &str) -> usize {
        self.lock()
            .functions
            .get(name)
            .map_or(0, |f| f.idle.len() + (f.busy + f.starting) as usize)
    }

    /// Inserts or replaces a function's configuration. A new generation
    /// retires every environment of the old one.
    pub(crate) fn put_config(&self, config: FunctionConfig) {
        let retired = {
            let mut inner = self.lock();
            match inner.functions.get_mut(&config.name) {
                Some(f) => {
                    f.config = config;
                    let generation = f.config.generation;
                    let (keep, old): (Vec<_>, Vec<_>) =
                        f.idle.drain(..).partition(|e| e.generation == generation);
                    f.idle = keep;
                    old
                }
                None => {
                    inner
                        .functions
                        .insert(config.name.clone(), FunctionState::new(config));
                    Vec::new()
                }
            }
        };
        for e in retired {
            e.destroy();
        }
        self.released.notify_waiters();
    }

    /// Removes a function and ends its environments.
    pub(crate) fn remove(&self, name: &str) -> Option<FunctionConfig> {
        let removed = self.lock().functions.remove(name);
        removed.map(|f| {
            for e in f.idle {
                e.destroy();
            }
            self.released.notify_waiters();
            f.config
        })
    }

    /// How many invocations of a function may run at once.
    pub fn function_limit(&self, name: &str) -> u32 {
        let inner = self.lock();
        let unreserved = Self::unreserved_limit(&inner, self.settings.account_concurrency);
        inner
            .functions
            .get(name)
            .map_or(1, |f| f.config.reserved_concurrency.unwrap_or(unreserved))
    }

    fn unreserved_limit(inner: &Inner, account: u32) -> u32 {
        let reserved: u32 = inner
            .functions
            .values()
            .filter_map(|f| f.config.reserved_concurrency)
            .sum();
        account.saturating_sub(reserved).max(1)
    }

    fn spawn_spec(&self, cfg: &FunctionConfig) -> Spawn {
        let s = &self.settings;
        let mut env: Vec<(String, String)> = cfg
            .environment
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let fixed = [
            ("AWS_LAMBDA_FUNCTION_NAME", cfg.name.clone()),
            (
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                cfg.memory_size.to_string(),
            ),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
            (
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{}", cfg.name),
            ),
            ("AWS_REGION", s.region.clone()),
            ("AWS_DEFAULT_REGION", s.region.clone()),
            ("AWS_ACCESS_KEY_ID", s.key.access_key_id.clone()),
            ("AWS_SECRET_ACCESS_KEY", s.key.secret_access_key.clone()),
            ("AWS_ENDPOINT_URL", s.endpoint.clone()),
            ("AWS_EXECUTION_ENV", "AWS_Lambda_rapid".to_owned()),
            (
                "LAMBDA_TASK_ROOT",
                functions::code_dir(&s.dir, cfg)
                    .to_string_lossy()
                    .into_owned(),
            ),
            (
                "PATH",
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_owned(),
            ),
            ("LANG", "en_US.UTF-8".to_owned()),
            ("TZ", ":UTC".to_owned()),
            ("_HANDLER", cfg.handler.clone()),
        ];
        env.extend(fixed.into_iter().map(|(k, v)| (k.to_owned(), v)));
        Spawn {
            function: cfg.name.clone(),
            function_arn: cfg.arn(&s.region),
            generation: cfg.generation,
            code_dir: functions::code_dir(&s.dir, cfg),
            run_dir: s.dir.join("run"),
            env,
            memory_mb: cfg.memory_size,
            log_group: format!("/aws/lambda/{}", cfg.name),
        }
    }

    /// Reserves an environment: a warm one, else a new one within the
    /// limits. Synchronous callers are throttled at the limit; async ones
    /// (`wait`) wait for a release.
    async fn acquire(&self, name: &str, wait: bool) -> Result<Lease, ApiError> {
        // Counted among the function's waiters from the first miss until
        // served; the guard uncounts an abandoned wait.
        let mut guard = WaitGuard {
            lambda: self,
            name,
            counted: false,
        };
        loop {
            let notified = self.released.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let (decision, dead) = self.try_acquire(name, wait, &mut guard.counted)?;
            for e in dead {
                e.destroy();
            }
            match decision {
                Some(lease) => return Ok(lease),
                None if wait => notified.await,
                None => return Err(ApiError::throttled()),
            }
        }
    }

    /// One attempt at [`Self::acquire`], under the lock: a lease, or `None`
    /// at the limit; plus environments found dead or stale. `counted` says
    /// whether the caller is among the function's waiters, and is kept up
    /// to date.
    fn try_acquire(
        &self,
        name: &str,
        wait: bool,
        counted: &mut bool,
    ) -> Result<(Option<Lease>, Vec<Arc<Environment>>), ApiError> {
        let mut inner = self.lock();
        let unreserved = Self::unreserved_limit(&inner, self.settings.account_concurrency);
        let account_busy: u32 = inner.functions.values().map(|f| f.busy + f.starting).sum();
        let f = inner
            .functions
            .get_mut(name)
            .ok_or_else(|| ApiError::not_found(&self.settings.region, name))?;
        let generation = f.config.generation;
        let (live, dead): (Vec<_>, Vec<_>) = f
            .idle
            .drain(..)
            .partition(|e| !e.is_dead() && e.generation == generation);
        f.idle = live;
        let limit = f.config.reserved_concurrency.unwrap_or(unreserved);
        let served = |f: &mut FunctionState, counted: &mut bool| {
            if std::mem::take(counted) {
                f.waiting = f.waiting.saturating_sub(1);
            }
        };
        // An environment left running for a waiter first: no thaw needed.
        let pick = f
            .idle
            .iter()
            .rposition(|e| !e.is_frozen())
            .or_else(|| f.idle.len().checked_sub(1));
        if let Some(i) = pick {
            let env = f.idle.remove(i);
            f.busy += 1;
            served(f, counted);
            return Ok((Some(Lease::Warm(env)), dead));
        }
        if limit > 0
            && f.busy + f.starting < limit
            && account_busy < self.settings.account_concurrency
        {
            f.starting += 1;
            served(f, counted);
            let cfg = f.config.clone();
            drop(inner);
            return Ok((Some(Lease::Cold(self.spawn_spec(&cfg))), dead));
        }
        if limit == 0 && wait {
            // Reserved concurrency 0 stops the function: waiting cannot help.
            served(f, counted);
            return Err(ApiError::throttled());
        }
        if wait && !*counted {
            f.waiting += 1;
            *counted = true;
        }
        Ok((None, dead))
    }

    fn release(&self, name: &str, env: Option<Arc<Environment>>, was_cold: bool, healthy: bool) {
        let mut destroy = None;
        {
            let mut inner = self.lock();
            let unreserved = Self::unreserved_limit(&inner, self.settings.account_concurrency);
            match inner.functions.get_mut(name) {
                Some(f) => {
                    if was_cold && env.is_none() {
                        f.starting = f.starting.saturating_sub(1);
                    } else {
                        f.busy = f.busy.saturating_sub(1);
                    }
                    if let Some(env) = env {
                        let limit = f.config.reserved_concurrency.unwrap_or(unreserved) as usize;
                        if healthy
                            && !env.is_dead()
                            && env.generation == f.config.generation
                            && f.idle.len() + ((f.busy + f.starting) as usize) < limit
                        {
                            // Frozen while idle, as on Lambda; but not when
                            // an invocation is waiting to take it at once
                            // (a backlog of events), which would thaw it
                            // right away.
                            f.idle.push(env);
                            f.freeze_surplus();
                        } else {
                            destroy = Some(env);
                        }
                    }
                }
                None => destroy = env,
            }
        }
        if let Some(e) = destroy {
            e.destroy();
        }
        self.released.notify_waiters();
    }

    fn count(&self, function: &str, name: &str, value: f64, unit: &str) {
        self.settings
            .metrics
            .put(datum(function, name, now_ms() as i64, value, unit));
    }

    /// Runs one invocation, synchronously for the caller. `wait` queues for
    /// capacity instead of throttling (async events).
    pub async fn invoke(
        &self,
        name: &str,
        request_id: &str,
        payload: Bytes,
        wait: bool,
    ) -> Result<InvokeResult, ApiError> {
        let lease = match self.acquire(name, wait).await {
            Ok(l) => l,
            Err(e) => {
                if e.error_type == "TooManyRequestsException" {
                    self.count(name, "Throttles", 1.0, "Count");
                }
                return Err(e);
            }
        };
        let cfg = self
            .config(name)
            .ok_or_else(|| ApiError::not_found(&self.settings.region, name))?;
        let was_cold = matches!(lease, Lease::Cold(_));
        let env = match lease {
            Lease::Warm(e) => e,
            Lease::Cold(spec) => {
                self.settings.logs.create_group_if_missing(&spec.log_group);
                match Environment::spawn(&spec, self.settings.logs.clone()).await {
                    Ok(env) => {
                        {
                            let mut inner = self.lock();
                            if let Some(f) = inner.functions.get_mut(name) {
                                f.starting = f.starting.saturating_sub(1);
                                f.busy += 1;
                            }
                        }
                        env
                    }
                    Err(what) => {
                        self.release(name, None, true, false);
                        self.count(name, "Invocations", 1.0, "Count");
                        self.count(name, "Errors", 1.0, "Count");
                        let error_type = if what.contains("bootstrap") {
                            "Runtime.InvalidEntrypoint"
                        } else {
                            "Runtime.ExitError"
                        };
                        return Ok(InvokeResult {
                            request_id: request_id.to_owned(),
                            outcome: Outcome::error(
                                error_type,
                                &format!("RequestId: {request_id} Error: {what}"),
                            ),
                            log_tail: String::new(),
                        });
                    }
                }
            }
        };
        let concurrent = {
            let inner = self.lock();
            inner.functions.get(name).map_or(0, |f| f.busy)
        };
        let started_ms = now_ms() as i64;
        let Ran {
            outcome,
            duration_ms,
            healthy,
            logged,
            ..
        } = env
            .invoke(
                request_id,
                payload,
                &cfg.arn(&self.settings.region),
                Duration::from_secs(u64::from(cfg.timeout)),
                cfg.memory_size,
            )
            .await;
        let _ = was_cold;
        self.release(name, Some(env), false, healthy);
        // Answered once the invocation's lines are in its log stream, as
        // callers expect (a test reading the logs, the console's tail).
        let log_tail = logged.await.unwrap_or_default();
        // One write for the invocation's metrics; concurrency as it was
        // when the invocation started.
        let ended_ms = now_ms() as i64;
        let failed = matches!(outcome, Outcome::Error { .. });
        self.settings.metrics.put_all([
            datum(
                name,
                "ConcurrentExecutions",
                started_ms,
                f64::from(concurrent),
                "Count",
            ),
            datum(name, "Invocations", ended_ms, 1.0, "Count"),
            datum(name, "Duration", ended_ms, duration_ms, "Milliseconds"),
            datum(
                name,
                "Errors",
                ended_ms,
                f64::from(u8::from(failed)),
                "Count",
            ),
        ]);
        Ok(InvokeResult {
            request_id: request_id.to_owned(),
            outcome,
            log_tail,
        })
    }

    /// Queues an `Event` invocation (durable); returns its request id.
    pub fn enqueue(self: &Arc<Self>, name: &str, payload: Bytes) -> Result<String, ApiError> {
        if self.config(name).is_none() {
            return Err(ApiError::not_found(&self.settings.region, name));
        }
        self.queue.push(self, name, payload)
    }

    /// Events that failed every attempt (newest last), for one function or all.
    pub fn failed_events(&self, name: Option<&str>) -> Vec<serde_json::Value> {
        self.queue.failed(name)
    }

    /// Events still queued or being retried.
    pub fn queued_events(&self) -> usize {
        self.queue.pending()
    }

    /// Ends every execution environment.
    pub async fn shutdown(&self) {
        let _ = self.stop.send(true);
        let envs: Vec<_> = {
            let mut inner = self.lock();
            inner
                .functions
                .values_mut()
                .flat_map(|f| f.idle.drain(..))
                .collect()
        };
        for e in envs {
            e.destroy();
        }
        self.released.notify_waiters();
    }

    /// Destroys idle environments unused for longer than the keep-warm period.
    fn reap(&self) -> Option<std::time::Instant> {
        let keep = self.settings.keep_warm;
        let mut next: Option<std::time::Instant> = None;
        let expired: Vec<_> = {
            let mut inner = self.lock();
            let mut out = Vec::new();
            for f in inner.functions.values_mut() {
                let (old, fresh): (Vec<_>, Vec<_>) = f
                    .idle
                    .drain(..)
                    .partition(|e| e.last_used().elapsed() >= keep || e.is_dead());
                for e in &fresh {
                    let due = e.last_used() + keep;
                    next = Some(next.map_or(due, |n| n.min(due)));
                }
                f.idle = fresh;
                out.extend(old);
            }
            out
        };
        for e in expired {
            e.destroy();
        }
        next
    }
}

/// Reaps idle environments when their keep-warm period ends.
async fn reaper(lambda: std::sync::Weak<Lambda>, mut stop: watch::Receiver<bool>) {
    loop {
        let next = match lambda.upgrade() {
            Some(l) => l.reap(),
            None => return,
        };
        // Wake at the next expiry, or after a while to notice new idle ones.
        let until = next
            .unwrap_or_else(|| std::time::Instant::now() + Duration::from_millis(500))
            .min(std::time::Instant::now() + Duration::from_millis(500));
        tokio::select! {
            _ = tokio::time::sleep_until(until.into()) => {}
            _ = stop.changed() => return,
        }
    }
}

/// One of Lambda's own metrics (namespace `AWS/Lambda`, by function).
fn datum(function: &str, name: &str, timestamp: i64, value: f64, unit: &str) -> Datum {
    Datum {
        namespace: "AWS/Lambda".into(),
        name: name.into(),
        dimensions: vec![("FunctionName".into(), function.into())],
        timestamp,
        value,
        unit: unit.into(),
    }
}

impl super::s3::ObjectCreatedSink for Lambda {
    fn accepts_destination(&self, function_arn: &str, bucket: &str) -> bool {
        let Some(cfg) = self.config(functions::name_from_ref(function_arn)) else {
            return false;
        };
        let bucket_arn = format!("arn:aws:s3:::{bucket}");
        cfg.policy.iter().any(|st| {
            st["Effect"] == "Allow"
                && st["Principal"]["Service"] == "s3.amazonaws.com"
                && st["Condition"]["ArnLike"]["AWS:SourceArn"]
                    .as_str()
                    .is_none_or(|arn| arn == bucket_arn || arn == "*")
        })
    }

    fn object_created(&self, function_arn: &str, event: serde_json::Value) {
        let name = functions::name_from_ref(function_arn).to_owned();
        if let Err(e) = self.queue.push_raw(&name, Bytes::from(event.to_string())) {
            tracing::warn!(function = %name, error = %e.message, "S3 event dropped");
        }
    }
}
