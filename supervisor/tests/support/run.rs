//! Running the `scar-supervisor` binary: [`OneShot`] builds and runs
//! `scar-supervisor run ...` with a hard time limit and captures its output as
//! a [`RunOutput`] (exit code, stdout, stderr, the metrics line);
//! [`ChildGuard`] keeps a long-lived supervisor (Lambda mode) whose output is
//! captured as it goes and which is killed, with its process group, on drop.

use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::poll_until;

/// Exit code of a script killed at its time limit.
pub const EXIT_TIMEOUT: i32 = 124;
/// Exit code of a supervisor error (bad image, bad script, bad tar entry...).
pub const EXIT_SUPERVISOR_ERROR: i32 = 125;

/// The supervisor binary Cargo built for this test or bench target.
pub fn supervisor_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_scar-supervisor"))
}

/// Variables of the calling environment that would change what the
/// supervisor does; removed from every child these helpers start.
pub const SCRUBBED_ENV: &[&str] = &[
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_LAMBDA_FUNCTION_NAME",
    "SCAR_IMAGE",
    "SCAR_IMAGE_REFRESH",
    "SCAR_INSECURE_REGISTRIES",
    "SCAR_OUTPUTS",
    "SCAR_PROOT",
    "SCAR_REGISTRY_PASSWORD",
    "SCAR_REGISTRY_USER",
    "SCAR_RUNTIME",
    "SCAR_SCRIPT",
    "SCAR_TIMEOUT_RESERVE_S",
];

/// Remove [`SCRUBBED_ENV`] from `cmd`.
pub fn scrub_env(cmd: &mut Command) -> &mut Command {
    for k in SCRUBBED_ENV {
        cmd.env_remove(k);
    }
    cmd
}

/// `scar-supervisor run --image REF --script FILE --output-dir DIR [...]`.
#[derive(Clone, Debug)]
pub struct OneShot {
    pub image: String,
    pub script: PathBuf,
    pub output_dir: PathBuf,
    pub input: Option<PathBuf>,
    pub cache_dir: Option<PathBuf>,
    pub runtime: Option<String>,
    /// `--env K=V` arguments.
    pub env: Vec<String>,
    /// `--timeout SECONDS`.
    pub timeout: Option<u64>,
    /// Variables set on the supervisor process itself (e.g. `TMPDIR`).
    pub process_env: Vec<(String, String)>,
    /// Hard limit on the whole run; past it the process group is killed and
    /// [`OneShot::run`] panics.
    pub limit: Duration,
}

impl OneShot {
    /// A run of `script` on `image` writing outputs to `output_dir`.
    pub fn new(image: impl Into<String>, script: &Path, output_dir: &Path) -> OneShot {
        OneShot {
            image: image.into(),
            script: script.to_path_buf(),
            output_dir: output_dir.to_path_buf(),
            input: None,
            cache_dir: None,
            runtime: None,
            env: Vec::new(),
            timeout: None,
            process_env: Vec::new(),
            limit: Duration::from_secs(120),
        }
    }
    /// `--input FILE`.
    pub fn input(mut self, path: &Path) -> OneShot {
        self.input = Some(path.to_path_buf());
        self
    }
    /// `--cache-dir DIR`.
    pub fn cache_dir(mut self, path: &Path) -> OneShot {
        self.cache_dir = Some(path.to_path_buf());
        self
    }
    /// `--runtime NAME`.
    pub fn runtime(mut self, name: &str) -> OneShot {
        self.runtime = Some(name.into());
        self
    }
    /// `--env K=V`.
    pub fn env(mut self, kv: &str) -> OneShot {
        self.env.push(kv.into());
        self
    }
    /// `--timeout SECONDS`.
    pub fn timeout(mut self, seconds: u64) -> OneShot {
        self.timeout = Some(seconds);
        self
    }
    /// Set `key=value` in the supervisor's own environment.
    pub fn process_env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> OneShot {
        self.process_env
            .push((key.into(), value.as_ref().to_string_lossy().into_owned()));
        self
    }
    /// Hard limit on the whole run.
    pub fn limit(mut self, limit: Duration) -> OneShot {
        self.limit = limit;
        self
    }

    /// The command line, ready to spawn (environment scrubbed).
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(supervisor_bin());
        scrub_env(&mut cmd);
        cmd.arg("run")
            .arg("--image")
            .arg(&self.image)
            .arg("--script")
            .arg(&self.script)
            .arg("--output-dir")
            .arg(&self.output_dir);
        if let Some(p) = &self.input {
            cmd.arg("--input").arg(p);
        }
        if let Some(p) = &self.cache_dir {
            cmd.arg("--cache-dir").arg(p);
        }
        if let Some(r) = &self.runtime {
            cmd.arg("--runtime").arg(r);
        }
        for kv in &self.env {
            cmd.arg("--env").arg(kv);
        }
        if let Some(t) = self.timeout {
            cmd.arg("--timeout").arg(t.to_string());
        }
        for (k, v) in &self.process_env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Run to completion (or panic past [`OneShot::limit`]) and capture everything.
    pub fn run(&self) -> RunOutput {
        run_captured(self.command(), self.limit)
    }
}

/// What a finished run left: exit code, output, wall time.
#[derive(Clone, Debug)]
pub struct RunOutput {
    /// The exit code; `128 + signal` when killed by a signal.
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    /// The child exited but something it started still held its stdout or
    /// stderr open 5 s later (a process the supervisor failed to kill).
    pub pipes_left_open: bool,
}

impl RunOutput {
    /// Everything, for assertion messages.
    pub fn describe(&self) -> String {
        format!(
            "exit code {} after {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.elapsed, self.stdout, self.stderr
        )
    }

    /// Non-empty stdout lines.
    pub fn stdout_lines(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect()
    }

    /// Stdout lines before the metrics line: what the script printed.
    pub fn script_lines(&self) -> Vec<&str> {
        let mut lines = self.stdout_lines();
        lines.pop();
        lines
    }

    /// The last stdout line parsed as the metrics JSON object; panics (with
    /// the whole output) when it is missing or not a JSON object.
    pub fn metrics(&self) -> Value {
        last_line_metrics(&self.stdout).unwrap_or_else(|| {
            panic!(
                "last stdout line is not a metrics JSON object\n{}",
                self.describe()
            )
        })
    }

    /// Stderr lines starting with `error:`.
    pub fn error_lines(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| l.starts_with("error:"))
            .collect()
    }
}

/// Parse the last non-empty line of `stdout` as a JSON object.
pub fn last_line_metrics(stdout: &str) -> Option<Value> {
    let line = stdout.lines().rev().find(|l| !l.trim().is_empty())?;
    serde_json::from_str::<Value>(line)
        .ok()
        .filter(Value::is_object)
}

/// Every stdout line that parses as a CloudWatch EMF object in namespace `SCAR`.
pub fn metrics_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
        .filter(|v| v["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "SCAR")
        .collect()
}

/// The metric names the EMF metrics line must declare.
pub const METRIC_NAMES: &[&str] = &[
    "CacheHit",
    "PullMs",
    "UnpackMs",
    "ScriptMs",
    "UploadMs",
    "ExitCode",
    "InputBytes",
    "OutputBytes",
];

/// Check the EMF shape of a metrics object: namespace `SCAR`, dimensions
/// `[["FunctionName"]]`, every [`METRIC_NAMES`] declared and present as a
/// number, and the `RequestId`, `InputKey`, `ImageDigest`, `FunctionName`
/// properties present. Returns a list of problems (empty when fine).
pub fn emf_problems(m: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let cw = &m["_aws"]["CloudWatchMetrics"][0];
    if cw["Namespace"] != "SCAR" {
        problems.push(format!(
            "_aws.CloudWatchMetrics[0].Namespace is {}",
            cw["Namespace"]
        ));
    }
    if cw["Dimensions"] != serde_json::json!([["FunctionName"]]) {
        problems.push(format!("Dimensions is {}", cw["Dimensions"]));
    }
    if !m["_aws"]["Timestamp"].is_number() {
        problems.push("_aws.Timestamp is not a number".into());
    }
    let declared: Vec<&str> = cw["Metrics"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x["Name"].as_str()).collect())
        .unwrap_or_default();
    for name in METRIC_NAMES {
        if !declared.contains(name) {
            problems.push(format!(
                "metric {name} not declared in _aws.CloudWatchMetrics[0].Metrics"
            ));
        }
        if !m[*name].is_number() {
            problems.push(format!("{name} is {} (wanted a number)", m[*name]));
        }
    }
    for key in ["RequestId", "InputKey", "ImageDigest", "FunctionName"] {
        if m.get(key).is_none() {
            problems.push(format!("property {key} missing"));
        }
    }
    problems
}

fn spawn_reader(mut pipe: impl Read + Send + 'static) -> (Arc<Mutex<Vec<u8>>>, Arc<AtomicBool>) {
    let buf = Arc::new(Mutex::new(Vec::new()));
    let done = Arc::new(AtomicBool::new(false));
    let (b, d) = (buf.clone(), done.clone());
    std::thread::spawn(move || {
        let mut chunk = [0u8; 8192];
        loop {
            match pipe.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => b
                    .lock()
                    .expect("capture lock")
                    .extend_from_slice(&chunk[..n]),
            }
        }
        d.store(true, Ordering::SeqCst);
    });
    (buf, done)
}

fn exit_code(status: std::process::ExitStatus) -> i32 {
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

fn kill_group(pid: u32) {
    // The child leads its own process group (see `run_captured`/`ChildGuard`).
    // SAFETY: kill(2) with a negative pid signals that group; no memory is touched.
    unsafe {
        libc::kill(-(pid as libc::pid_t), libc::SIGKILL);
    }
}

/// Spawn `cmd` in its own process group with stdin closed and stdout/stderr
/// captured; wait at most `limit` (then kill the group and panic), and give
/// the pipes 5 s to close after the exit.
pub fn run_captured(mut cmd: Command, limit: Duration) -> RunOutput {
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let (out, out_done) = spawn_reader(child.stdout.take().expect("stdout pipe"));
    let (err, err_done) = spawn_reader(child.stderr.take().expect("stderr pipe"));
    let status = poll_until(limit, || child.try_wait().expect("wait for supervisor"));
    let text =
        |b: &Arc<Mutex<Vec<u8>>>| String::from_utf8_lossy(&b.lock().expect("lock")).into_owned();
    let Some(status) = status else {
        kill_group(child.id());
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "{cmd:?} still running after {limit:?}; killed\n--- stdout ---\n{}\n--- stderr ---\n{}",
            text(&out),
            text(&err)
        );
    };
    let elapsed = start.elapsed();
    let closed = poll_until(Duration::from_secs(5), || {
        (out_done.load(Ordering::SeqCst) && err_done.load(Ordering::SeqCst)).then_some(())
    });
    RunOutput {
        code: exit_code(status),
        stdout: text(&out),
        stderr: text(&err),
        elapsed,
        pipes_left_open: closed.is_none(),
    }
}

/// A long-running child (the supervisor in Lambda mode) in its own process
/// group, output captured as it goes; killed with its whole group on drop.
pub struct ChildGuard {
    child: Child,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
}

impl ChildGuard {
    /// Spawn `cmd` (stdin closed) in a new process group.
    pub fn spawn(mut cmd: Command) -> ChildGuard {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
        let (stdout, _) = spawn_reader(child.stdout.take().expect("stdout pipe"));
        let (stderr, _) = spawn_reader(child.stderr.take().expect("stderr pipe"));
        ChildGuard {
            child,
            stdout,
            stderr,
        }
    }

    /// Stdout so far.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.stdout.lock().expect("lock")).into_owned()
    }

    /// Stderr so far.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().expect("lock")).into_owned()
    }

    /// `Some(exit code)` once the child has exited.
    pub fn exited(&mut self) -> Option<i32> {
        self.child.try_wait().ok().flatten().map(exit_code)
    }

    /// Stdout and stderr so far, for assertion messages.
    pub fn describe(&self) -> String {
        format!(
            "--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout(),
            self.stderr()
        )
    }

    /// Kill the process group and reap the child.
    pub fn kill(&mut self) {
        // The group may outlive its leader (scripts the supervisor started).
        kill_group(self.child.id());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.kill();
    }
}
