//! Lambda: the control plane, Invoke, and the execution environments that
//! host the unmodified supervisor `bootstrap`.
//!
//! - [`functions`]: configuration, code and policy store (durable);
//! - [`routes`]: the REST-JSON API, with AWS's paths, errors and limits;
//! - [`environment`]: one `bootstrap` process with its Runtime API
//!   ([`runtime_api`]), TMPDIR, log stream ([`output`]), freeze/thaw and
//!   limits;
//! - this file: the service: functions' state, Invoke, Lambda's own
//!   metrics and the S3 event sink;
//! - `pool`: the scheduler: environments per function are reused warm,
//!   created on demand up to the concurrency limit (reserved per function,
//!   the rest of the account's shared), frozen while idle, retired when the
//!   configuration changes and reaped after the keep-warm period;
//! - [`queue`]: `Event` invocations, durable ([`journal`]), with Lambda's
//!   two retries.

pub mod environment;
mod error;
pub mod functions;
pub mod journal;
pub mod output;
mod pool;
pub mod queue;
pub mod routes;
pub mod runtime_api;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::Response;
use scar_contract::time::Clock;
use tokio::sync::{Notify, watch};

use super::LocalError;
use super::keys::AccessKey;
use super::logs::LogStore;
use super::metrics::{Datum, MetricStore};
use super::protocol::Body;
use super::server::ServiceRequest;
use environment::{Environment, Ran, Spawn};
pub use error::ApiError;
use functions::FunctionConfig;
use pool::{FunctionState, Inner, Lease, reaper};
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
    /// The clock for timestamps, deadlines, keep-warm and retry backoff.
    pub clock: Clock,
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
    records: std::sync::OnceLock<Arc<dyn RecordSink>>,
}

/// Where Lambda delivers the records of failed asynchronous invocations
/// (an on-failure destination bucket): the cloud's S3, wired in after both
/// are built.
pub trait RecordSink: Send + Sync + 'static {
    /// Writes `body` as `s3://bucket/key`.
    fn deliver(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
    ) -> futures_util::future::BoxFuture<'_, std::io::Result<()>>;
}

impl std::fmt::Debug for dyn RecordSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecordSink")
    }
}

/// Formats ms since the epoch as ISO 8601 UTC, always with milliseconds
/// (as Lambda and S3 write their timestamps).
pub fn iso8601(ms: u64) -> String {
    scar_contract::time::iso8601_millis(ms as i64)
}

impl Lambda {
    /// Now, by the cloud's clock, in ms since the epoch.
    pub(crate) fn now_ms(&self) -> u64 {
        self.settings.clock.now_ms().max(0) as u64
    }
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
        let queue = queue::Queue::open(&settings.dir.join("queue"), settings.clock.clone())?;
        let lambda = Arc::new(Lambda {
            settings,
            inner: Mutex::new(inner),
            released: Notify::new(),
            stop: watch::channel(false).0,
            queue,
            records: std::sync::OnceLock::new(),
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
        // A function shares the host's clock, as a Lambda environment shares
        // its host's. When that clock is shifted by libfaketime (the suite
        // run a year ahead or back, scripts/clock-shift-tests.sh), its
        // variables must reach the environment too, or the function would
        // sign its S3 calls a year away from the cloud's clock.
        if std::env::var("LD_PRELOAD").is_ok_and(|v| v.contains("faketime")) {
            env.extend(
                std::env::vars().filter(|(k, _)| k == "LD_PRELOAD" || k.starts_with("FAKETIME")),
            );
        }
        Spawn {
            function: cfg.name.clone(),
            function_arn: cfg.arn(&s.region),
            generation: cfg.generation,
            code_dir: functions::code_dir(&s.dir, cfg),
            run_dir: s.dir.join("run"),
            env,
            memory_mb: cfg.memory_size,
            log_group: format!("/aws/lambda/{}", cfg.name),
            clock: s.clock.clone(),
        }
    }

    pub(crate) fn count(&self, function: &str, name: &str, value: f64, unit: &str) {
        self.settings
            .metrics
            .put(datum(function, name, self.now_ms() as i64, value, unit));
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
                        let error_type = what.error_type();
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
        let started_ms = self.now_ms() as i64;
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
        let ended_ms = self.now_ms() as i64;
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

    /// Sets where on-failure records are delivered (once).
    pub fn set_record_sink(&self, sink: Arc<dyn RecordSink>) {
        let _ = self.records.set(sink);
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
