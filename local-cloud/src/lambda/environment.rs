//! One execution environment: a `bootstrap` process, its Runtime API, its
//! own `/tmp` (TMPDIR) and its log stream.
//!
//! As on Lambda, an environment runs one invocation at a time, is frozen
//! (SIGSTOP on its whole process tree) while idle and thawed (SIGCONT) when
//! reused, so the supervisor's image cache in its TMPDIR survives between
//! invocations. A timeout, a crash or a memory overrun discards it.
//!
//! Memory: cgroup v2 delegation is rarely available to an unprivileged
//! user (and not on this project's machines, which run cgroup v1), and an
//! address-space rlimit breaks ordinary runtimes, so the process tree's
//! resident size is sampled while an invocation runs; over the function's
//! memory size the environment is killed (`Runtime.OutOfMemory`). The same
//! samples give `Max Memory Used`.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use scar_contract::time::Clock;
use tokio::sync::{mpsc, oneshot, watch};

use super::output::{Capture, Output};
use super::runtime_api::{Invocation, Outcome, RuntimeApi};
use crate::logs::LogStore;

/// How often the process tree's memory is sampled during an invocation.
const MEMORY_SAMPLE: Duration = Duration::from_millis(50);

/// What an environment needs to start.
#[derive(Debug, Clone)]
pub struct Spawn {
    /// The function's name.
    pub function: String,
    /// Its ARN.
    pub function_arn: String,
    /// Configuration generation this environment runs.
    pub generation: u64,
    /// The extracted code folder (`bootstrap` inside).
    pub code_dir: PathBuf,
    /// Where the environment's TMPDIR is made.
    pub run_dir: PathBuf,
    /// The complete environment of the process.
    pub env: Vec<(String, String)>,
    /// Memory size in MB.
    pub memory_mb: u32,
    /// The log group.
    pub log_group: String,
    /// The cloud's clock (stream names, deadlines, keep-warm).
    pub clock: Clock,
}

/// Why an environment could not start; each says what Lambda would.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    /// Its `/tmp` could not be made.
    #[error("{}: {source}", path.display())]
    Workspace {
        /// The folder.
        path: PathBuf,
        /// The failure.
        source: std::io::Error,
    },
    /// Its Runtime API could not listen.
    #[error("runtime API: {0}")]
    RuntimeApi(std::io::Error),
    /// The code has no `bootstrap`.
    #[error("Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]")]
    NoBootstrap,
    /// `bootstrap` could not be started.
    #[error("Runtime exited with error: {0}")]
    Start(std::io::Error),
}

impl SpawnError {
    /// The `errorType` Lambda reports for it.
    pub fn error_type(&self) -> &'static str {
        match self {
            SpawnError::NoBootstrap => "Runtime.InvalidEntrypoint",
            _ => "Runtime.ExitError",
        }
    }
}

/// A running environment.
#[derive(Debug)]
pub struct Environment {
    /// 32 hex digits, as in Lambda's stream names.
    pub id: String,
    /// The log stream.
    pub stream: String,
    /// The configuration generation it runs.
    pub generation: u64,
    pid: i32,
    tmp: PathBuf,
    next: mpsc::Sender<Invocation>,
    api: Arc<RuntimeApi>,
    output: Output,
    exited: watch::Receiver<Option<String>>,
    started: Instant,
    init_reported: AtomicBool,
    frozen: AtomicBool,
    /// Completed invocations.
    pub invocations: AtomicU64,
    /// When it last finished an invocation, in ms by `clock`.
    last_used_ms: AtomicI64,
    clock: Clock,
    stop: watch::Sender<bool>,
}

/// How one invocation in an environment went.
#[derive(Debug)]
pub struct Ran {
    /// The function's answer (or the environment's failure).
    pub outcome: Outcome,
    /// Duration in ms.
    pub duration_ms: f64,
    /// Init duration in ms, on the environment's first invocation.
    pub init_ms: Option<f64>,
    /// Peak memory in MB.
    pub max_memory_mb: u64,
    /// False when the environment must be discarded.
    pub healthy: bool,
    /// The invocation's log lines (for `X-Amz-Log-Type: Tail`), once they
    /// are in its log stream. The environment can take its next invocation
    /// meanwhile: that one's lines queue behind these.
    pub logged: oneshot::Receiver<String>,
}

/// `YYYY/MM/DD/[$LATEST]` + id, Lambda's stream name, dated `now_ms`.
fn stream_name(id: &str, now_ms: i64) -> String {
    let date = scar_contract::time::iso8601_millis(now_ms);
    format!(
        "{}/{}/{}/[$LATEST]{id}",
        &date[0..4],
        &date[5..7],
        &date[8..10]
    )
}

impl Environment {
    /// Starts the process. Init completes when it first asks for an event.
    pub async fn spawn(spec: &Spawn, logs: Arc<LogStore>) -> Result<Arc<Environment>, SpawnError> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let stream = stream_name(&id, spec.clock.now_ms());
        let tmp = spec.run_dir.join(&id).join("tmp");
        std::fs::create_dir_all(&tmp).map_err(|source| SpawnError::Workspace {
            path: tmp.clone(),
            source,
        })?;
        let (stop, stop_rx) = watch::channel(false);
        let (api, next) = RuntimeApi::start(stop_rx)
            .await
            .map_err(SpawnError::RuntimeApi)?;

        let mut cmd = tokio::process::Command::new(spec.code_dir.join("bootstrap"));
        cmd.env_clear()
            .envs(spec.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("AWS_LAMBDA_RUNTIME_API", api.addr.to_string())
            .env("AWS_LAMBDA_LOG_STREAM_NAME", &stream)
            .env("TMPDIR", &tmp)
            .current_dir(&spec.code_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        // Its own session and process group: the whole tree can be frozen,
        // thawed and killed together. Killed with the cloud, too: a cloud
        // that dies without ending its environments (SIGKILL, a crash)
        // would otherwise leave them frozen forever.
        // SAFETY: setsid, prctl and getppid are async-signal-safe and
        // allocate nothing.
        let cloud_pid = std::process::id() as libc::pid_t;
        unsafe {
            cmd.as_std_mut().pre_exec(move || {
                if libc::setsid() < 0 || libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // The cloud died between fork and prctl: nobody to serve.
                if libc::getppid() != cloud_pid {
                    return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
                }
                Ok(())
            });
        }
        logs.create_stream_if_missing(&spec.log_group, &stream);
        let mut output = Output::start(logs.clone(), spec.log_group.clone(), stream.clone());

        let (exit_tx, exited) = watch::channel(None);
        // Init Duration runs from here to the first `/next`, which a quick
        // bootstrap can reach before this function returns.
        let started = Instant::now();
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                let what = if e.kind() == std::io::ErrorKind::NotFound {
                    SpawnError::NoBootstrap
                } else {
                    SpawnError::Start(e)
                };
                let _ = stop.send(true);
                let _ = std::fs::remove_dir_all(spec.run_dir.join(&id));
                return Err(what);
            }
        };
        let pid = child.id().map(|p| p as i32).unwrap_or(0);
        if let Some(out) = child.stdout.take() {
            output.pump(out);
        }
        if let Some(err) = child.stderr.take() {
            output.pump(err);
        }
        let api_for_exit = api.clone();
        tokio::spawn(async move {
            let status = child.wait().await;
            let what = match status {
                Ok(s) => match (s.code(), std::os::unix::process::ExitStatusExt::signal(&s)) {
                    (Some(c), _) => format!("Runtime exited with error: exit status {c}"),
                    (None, Some(sig)) => format!("Runtime exited with error: signal: {sig}"),
                    _ => "Runtime exited".to_owned(),
                },
                Err(e) => format!("Runtime exited with error: {e}"),
            };
            api_for_exit.fail_pending(&Outcome::error("Runtime.ExitError", &what));
            let _ = exit_tx.send(Some(what));
        });
        Ok(Arc::new(Environment {
            id,
            stream,
            generation: spec.generation,
            pid,
            tmp,
            next,
            api,
            output,
            exited,
            started,
            init_reported: AtomicBool::new(false),
            frozen: AtomicBool::new(false),
            invocations: AtomicU64::new(0),
            last_used_ms: AtomicI64::new(spec.clock.now_ms()),
            clock: spec.clock.clone(),
            stop,
        }))
    }

    /// When it last finished an invocation, in ms since the epoch by the
    /// cloud's clock.
    pub fn last_used_ms(&self) -> i64 {
        self.last_used_ms.load(Ordering::SeqCst)
    }

    /// True once the process has exited.
    pub fn is_dead(&self) -> bool {
        self.exited.borrow().is_some()
    }

    fn own_line(&self, text: String, capture: Capture) {
        self.output.own_line(text, capture);
    }

    /// True while frozen.
    pub fn is_frozen(&self) -> bool {
        self.frozen.load(Ordering::SeqCst)
    }

    /// Stops the whole process tree (idle environments use no CPU, as on Lambda).
    pub fn freeze(&self) {
        if !self.frozen.swap(true, Ordering::SeqCst) {
            signal_tree(self.pid, libc::SIGSTOP);
        }
    }

    /// Resumes the process tree.
    pub fn thaw(&self) {
        if self.frozen.swap(false, Ordering::SeqCst) {
            signal_tree(self.pid, libc::SIGCONT);
        }
    }

    /// Kills the process tree and removes the environment's TMPDIR.
    pub fn destroy(&self) {
        signal_tree(self.pid, libc::SIGKILL);
        let _ = self.stop.send(true);
        if let Some(dir) = self.tmp.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }

    /// Runs one invocation; `timeout` is the function's timeout.
    pub async fn invoke(
        &self,
        request_id: &str,
        payload: Bytes,
        function_arn: &str,
        timeout: Duration,
        memory_mb: u32,
    ) -> Ran {
        self.thaw();
        let started = Instant::now();
        // The function compares the deadline with its own clock, the host's,
        // so it is stamped by the host's clock even when the cloud's is set.
        let deadline_ms = Clock::system().now_ms().max(0) as u64 + timeout.as_millis() as u64;
        self.own_line(
            format!("START RequestId: {request_id} Version: $LATEST"),
            Capture::Begin,
        );
        let (reply, answer) = oneshot::channel();
        let inv = Invocation {
            request_id: request_id.to_owned(),
            payload,
            deadline_ms,
            function_arn: function_arn.to_owned(),
            reply,
        };
        let mut exited = self.exited.clone();
        let mut init_error = self.api.init_error.subscribe();
        let sampler = MemorySampler::start(self.pid, memory_mb);
        let mut healthy = true;
        let outcome = if self.next.send(inv).await.is_err() {
            healthy = false;
            Outcome::error("Runtime.ExitError", "Runtime exited before the invocation")
        } else {
            tokio::select! {
                r = answer => r.unwrap_or_else(|_| Outcome::error("Runtime.ExitError", "Runtime exited")),
                _ = tokio::time::sleep(timeout) => {
                    healthy = false;
                    let secs = timeout.as_secs_f64();
                    self.own_line(format!("{} {request_id} Task timed out after {secs:.2} seconds", super::iso8601(self.clock.now_ms().max(0) as u64)), Capture::None);
                    Outcome::error("Sandbox.Timedout", &format!("{} {request_id} Task timed out after {secs:.2} seconds", super::iso8601(self.clock.now_ms().max(0) as u64)))
                }
                r = exited.wait_for(|e| e.is_some()) => {
                    healthy = false;
                    let what = r.map(|v| v.clone().unwrap_or_default()).unwrap_or_default();
                    Outcome::error("Runtime.ExitError", &format!("RequestId: {request_id} Error: {what}"))
                }
                r = init_error.wait_for(|e| e.is_some()) => {
                    healthy = false;
                    let what = r.map(|v| v.clone().unwrap_or_default()).unwrap_or_default();
                    Outcome::error("Runtime.InitError", &format!("RequestId: {request_id} Error: {what}"))
                }
                _ = sampler.exceeded() => {
                    healthy = false;
                    Outcome::error("Runtime.OutOfMemory", &format!("RequestId: {request_id} Error: Runtime exited with error: signal: killed"))
                }
            }
        };
        let duration = started.elapsed();
        let max_memory_mb = sampler.stop().div_ceil(1024 * 1024).max(1);
        if !healthy {
            self.destroy();
        }
        let init_ms = if self.init_reported.swap(true, Ordering::SeqCst) {
            None
        } else {
            let ready = *self.api.ready.borrow();
            Some(
                ready
                    .map(|r| r.duration_since(self.started))
                    .unwrap_or_default()
                    .as_secs_f64()
                    * 1000.0,
            )
        };
        // Everything the function printed before answering is logged before END.
        self.output.drain().await;
        let duration_ms = duration.as_secs_f64() * 1000.0;
        self.own_line(format!("END RequestId: {request_id}"), Capture::None);
        let mut report = format!(
            "REPORT RequestId: {request_id}\tDuration: {duration_ms:.2} ms\tBilled Duration: {} ms\tMemory Size: {memory_mb} MB\tMax Memory Used: {max_memory_mb} MB",
            duration_ms.ceil() as u64
        );
        if let Some(i) = init_ms {
            report.push_str(&format!("\tInit Duration: {i:.2} ms"));
        }
        if let Outcome::Error { error_type, .. } = &outcome
            && error_type == "Sandbox.Timedout"
        {
            report.push_str("\tStatus: timeout");
        }
        let (tail_tx, logged) = oneshot::channel();
        self.own_line(report, Capture::End(tail_tx));
        self.invocations.fetch_add(1, Ordering::Relaxed);
        self.last_used_ms
            .store(self.clock.now_ms(), Ordering::SeqCst);
        Ran {
            outcome,
            duration_ms,
            init_ms,
            max_memory_mb,
            healthy,
            logged,
        }
    }
}

impl Drop for Environment {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Every process in the tree under `pid` (including it), children first
/// walked through `/proc/PID/task/TID/children`.
fn process_tree(pid: i32) -> Vec<i32> {
    let mut out = vec![pid];
    let mut i = 0;
    while i < out.len() && out.len() < 4096 {
        let p = out[i];
        if let Ok(tasks) = std::fs::read_dir(format!("/proc/{p}/task")) {
            for t in tasks.flatten() {
                if let Ok(children) = std::fs::read_to_string(t.path().join("children")) {
                    out.extend(
                        children
                            .split_whitespace()
                            .filter_map(|c| c.parse::<i32>().ok()),
                    );
                }
            }
        }
        i += 1;
    }
    out
}

fn signal_tree(pid: i32, sig: libc::c_int) {
    if pid <= 0 {
        return;
    }
    // Stop from the top so no new children appear while walking; continue
    // from the bottom so parents see their children already running.
    let mut tree = process_tree(pid);
    if sig == libc::SIGCONT {
        tree.reverse();
    }
    for p in tree {
        // SAFETY: plain kill(2) on pids of our own process tree.
        unsafe {
            libc::kill(p, sig);
        }
    }
    // SAFETY: the bootstrap leads its own process group (setsid).
    unsafe {
        libc::killpg(pid, sig);
    }
}

/// Resident bytes of a process (statm's second field, VmRSS), 0 if gone.
fn rss_bytes(pid: i32) -> u64 {
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(0) as u64;
    std::fs::read_to_string(format!("/proc/{pid}/statm"))
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map(|pages| pages * page)
        .unwrap_or(0)
}

/// Peak resident size of the bootstrap since it started (VmHWM).
fn hwm_bytes(pid: i32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

/// Samples the tree's memory while an invocation runs.
struct MemorySampler {
    peak: Arc<AtomicU64>,
    over: watch::Receiver<bool>,
    task: tokio::task::JoinHandle<()>,
    pid: i32,
}

impl MemorySampler {
    fn start(pid: i32, limit_mb: u32) -> MemorySampler {
        let peak = Arc::new(AtomicU64::new(0));
        let (over_tx, over) = watch::channel(false);
        let limit = u64::from(limit_mb) * 1024 * 1024;
        let p = peak.clone();
        let task = tokio::spawn(async move {
            loop {
                // Not at once: when the invocation starts, the tree is the
                // bootstrap alone, whose peak `stop` reads anyway (VmHWM).
                tokio::time::sleep(MEMORY_SAMPLE).await;
                // /proc reads are served from memory: no need for a
                // blocking thread (and the hop to it per sample).
                let total: u64 = process_tree(pid).into_iter().map(rss_bytes).sum();
                p.fetch_max(total, Ordering::Relaxed);
                if total > limit {
                    signal_tree(pid, libc::SIGKILL);
                    let _ = over_tx.send(true);
                    return;
                }
            }
        });
        MemorySampler {
            peak,
            over,
            task,
            pid,
        }
    }

    async fn exceeded(&self) {
        let mut over = self.over.clone();
        let _ = over.wait_for(|o| *o).await;
    }

    /// Stops sampling and returns the peak in bytes.
    fn stop(self) -> u64 {
        self.task.abort();
        self.peak.load(Ordering::Relaxed).max(hwm_bytes(self.pid))
    }
}
