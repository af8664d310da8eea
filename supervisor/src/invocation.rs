//! One run of the script on one input: the part shared by the Lambda
//! runtime and the one-shot command.
//!
//! It lays out the invocation folder (`/tmp/$REQUEST_ID/{input,output}` as
//! the script sees it), builds the script environment SCAR's scripts expect
//! (the paper's Figures 3 and 8 run unchanged), runs the container, collects
//! the outputs even after a timeout, and fills the metrics line.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::container::{self, ContainerError, RunSpec, Runtime};
use crate::image::Prepared;
use crate::metrics::InvocationMetrics;
use crate::stage::{self, OutputFile, StageError};

/// Exit code reported when the script was killed at its deadline (as timeout(1)).
pub const TIMEOUT_EXIT_CODE: i32 = 124;

/// Environment variables of the supervisor that never reach the script:
/// credentials, and what the runtime or image must set itself.
const RESERVED_PREFIXES: [&str; 4] = ["AWS_", "_", "LAMBDA_", "SCAR_"];
const RESERVED_NAMES: [&str; 7] = [
    "PATH",
    "LD_LIBRARY_PATH",
    "PWD",
    "OLDPWD",
    "SHLVL",
    "TMPDIR",
    "HOME",
];

/// The function's own variables from an environment: everything but what is
/// reserved; `CONT_VAR_NAME` becomes `NAME` (SCAR's convention).
pub fn function_vars(env: impl Iterator<Item = (String, String)>) -> Vec<(String, String)> {
    env.filter(|(k, _)| {
        !RESERVED_PREFIXES.iter().any(|p| k.starts_with(p)) && !RESERVED_NAMES.contains(&k.as_str())
    })
    .map(|(k, v)| match k.strip_prefix("CONT_VAR_") {
        Some(stripped) if !stripped.is_empty() => (stripped.to_owned(), v),
        _ => (k, v),
    })
    .collect()
}

/// How the input reaches the invocation folder.
#[derive(Debug, Clone)]
pub enum InputSource {
    /// A local file, copied in (one-shot mode).
    File(PathBuf),
    /// Already staged by the caller (S3 download) at the given path.
    Staged {
        /// The object key, for `STORAGE_OBJECT_KEY` and the metrics.
        key: String,
        /// Its size.
        bytes: u64,
    },
}

/// One run's description.
#[derive(Debug, Clone)]
pub struct Job {
    /// The request id (`REQUEST_ID`), also the invocation folder's name.
    pub request_id: String,
    /// The function's name, for the metrics.
    pub function_name: String,
    /// The script's text.
    pub script: Vec<u8>,
    /// The runtime.
    pub runtime: Runtime,
    /// The function's own variables.
    pub vars: Vec<(String, String)>,
    /// The raw event (`EVENT`).
    pub event: String,
    /// When the event happened (`EVENT_TIME`), ISO 8601.
    pub event_time: String,
    /// Kill the script at this instant.
    pub deadline: Option<Instant>,
}

/// The invocation folder on the host.
#[derive(Debug)]
pub struct Workspace {
    /// The folder that is the container's `/tmp` (or `$TMPDIR` for `host`).
    tmp_root: PathBuf,
    /// `tmp_root/REQUEST_ID`.
    dir: PathBuf,
    /// Whether `tmp_root` itself is ours to remove.
    own_root: bool,
    /// The runtime asked for (paths differ for `host`).
    runtime: Runtime,
}

impl Workspace {
    /// Makes `REQUEST_ID/{input,output}` under the work root (`$TMPDIR`).
    pub fn create(
        work_root: &Path,
        request_id: &str,
        runtime: Runtime,
    ) -> Result<Workspace, StageError> {
        let (tmp_root, own_root) = if runtime == Runtime::Host {
            (work_root.to_owned(), false)
        } else {
            (work_root.join("scar-run").join(request_id), true)
        };
        let dir = tmp_root.join(request_id);
        for sub in ["input", "output"] {
            let p = dir.join(sub);
            std::fs::create_dir_all(&p).map_err(|source| StageError::Local { path: p, source })?;
        }
        Ok(Workspace {
            tmp_root,
            dir,
            own_root,
            runtime,
        })
    }

    /// Host path of the input folder.
    pub fn input_dir(&self) -> PathBuf {
        self.dir.join("input")
    }

    /// Host path of the output folder.
    pub fn output_dir(&self) -> PathBuf {
        self.dir.join("output")
    }

    /// A path under the invocation folder as the script sees it.
    fn seen(&self, request_id: &str, rel: &str) -> String {
        if self.runtime == Runtime::Host {
            self.dir.join(rel).to_string_lossy().into_owned()
        } else {
            format!("/tmp/{request_id}/{rel}")
        }
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let _ = crate::cache::remove_tree(if self.own_root {
            &self.tmp_root
        } else {
            &self.dir
        });
    }
}

/// The file name an input is staged under: the key's last segment.
pub fn input_name(key: &str) -> String {
    match key.rsplit('/').next() {
        Some(n) if !n.is_empty() && n != "." && n != ".." => n.to_owned(),
        _ => "input".to_owned(),
    }
}

/// What a run produced.
#[derive(Debug)]
pub struct JobOutcome {
    /// The metrics line's figures.
    pub metrics: InvocationMetrics,
    /// The outputs found (still on disk until the workspace is dropped).
    pub outputs: Vec<OutputFile>,
    /// True when the script was killed at its deadline.
    pub timed_out: bool,
    /// The runtime that ran it.
    pub runtime: Runtime,
}

/// A failure before or while running the script.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Staging the input or listing outputs failed.
    #[error(transparent)]
    Stage(#[from] StageError),
    /// The container could not run.
    #[error(transparent)]
    Container(#[from] ContainerError),
}

/// Runs the script once in a prepared workspace whose input (if any) is
/// already in place. Outputs are listed, not yet delivered.
pub async fn run_job(
    job: &Job,
    image: &Prepared,
    ws: &Workspace,
    input: Option<&InputSource>,
) -> Result<JobOutcome, JobError> {
    let rid = &job.request_id;
    let script_host = ws.dir.join("script.sh");
    std::fs::write(&script_host, &job.script).map_err(|source| StageError::Local {
        path: script_host.clone(),
        source,
    })?;

    let (input_key, input_bytes, input_path) = match input {
        None => (String::new(), 0, None),
        Some(InputSource::File(path)) => {
            let name = input_name(&path.to_string_lossy());
            let dest = ws.input_dir().join(&name);
            let n = std::fs::copy(path, &dest).map_err(|source| StageError::Local {
                path: path.clone(),
                source,
            })?;
            (
                name.clone(),
                n,
                Some(ws.seen(rid, &format!("input/{name}"))),
            )
        }
        Some(InputSource::Staged { key, bytes }) => {
            let name = input_name(key);
            (
                key.clone(),
                *bytes,
                Some(ws.seen(rid, &format!("input/{name}"))),
            )
        }
    };

    let meta = &image.image.meta;
    let mut env: Vec<(String, String)> = Vec::new();
    let mut set = |k: &str, v: String| {
        env.retain(|(ek, _)| ek != k);
        env.push((k.to_owned(), v));
    };
    if ws.runtime == Runtime::Host {
        for (k, v) in std::env::vars() {
            if !k.starts_with("AWS_SECRET")
                && k != "AWS_SESSION_TOKEN"
                && k != "AWS_ACCESS_KEY_ID"
                && !k.starts_with("SCAR_REGISTRY")
            {
                set(&k, v);
            }
        }
    } else {
        set(
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
        );
        set("HOME", "/tmp".into());
        set("TMPDIR", "/tmp".into());
    }
    for kv in &meta.env {
        if let Some((k, v)) = kv.split_once('=') {
            set(k, v.to_owned());
        }
    }
    for (k, v) in &job.vars {
        set(k, v.clone());
    }
    let input_dir = ws.seen(rid, "input");
    let output_dir = ws.seen(rid, "output");
    set("REQUEST_ID", rid.clone());
    set("TMP_INPUT_DIR", input_dir);
    set("SCAR_OUTPUT_DIR", output_dir.clone());
    set("TMP_OUTPUT_DIR", output_dir);
    if let Some(p) = &input_path {
        set("SCAR_INPUT_FILE", p.clone());
        set("INPUT_FILE_PATH", p.clone());
    }
    set("STORAGE_OBJECT_KEY", input_key.clone());
    set("EVENT_TIME", job.event_time.clone());
    set("EVENT", job.event.clone());

    let spec = RunSpec {
        runtime: job.runtime,
        rootfs: image.image.rootfs.clone(),
        workdir: meta.working_dir.clone(),
        env,
        host_tmp: ws.tmp_root.clone(),
        script: ws.seen(rid, "script.sh"),
        deadline: job.deadline,
    };
    let outcome = container::run(&spec).await?;
    let outputs = stage::list_outputs(&ws.output_dir())?;
    let exit_code = if outcome.timed_out {
        TIMEOUT_EXIT_CODE
    } else {
        outcome.exit_code
    };
    let status = if outcome.timed_out {
        "timed_out"
    } else if exit_code == 0 {
        "succeeded"
    } else {
        "failed"
    };
    Ok(JobOutcome {
        metrics: InvocationMetrics {
            function_name: job.function_name.clone(),
            request_id: rid.clone(),
            input_key,
            image_digest: meta.digest.clone(),
            cache_hit: image.cache_hit,
            pull_ms: image.pull_ms,
            unpack_ms: image.unpack_ms,
            script_ms: outcome.elapsed.as_millis() as u64,
            upload_ms: 0,
            exit_code,
            input_bytes,
            output_bytes: outputs.iter().map(|o| o.size).sum(),
            status: status.into(),
        },
        outputs,
        timed_out: outcome.timed_out,
        runtime: outcome.runtime,
    })
}

/// Formats a Unix time in milliseconds as ISO 8601 UTC with milliseconds,
/// as S3 writes `eventTime`.
pub fn iso8601(ms: u64) -> String {
    scar_contract::time::iso8601_millis(ms as i64)
}

/// Now, in milliseconds since the epoch: the supervisor is its own process
/// and reads the system clock here, at its one boundary with time.
pub fn now_ms() -> u64 {
    scar_contract::time::Clock::system().now_ms().max(0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_vars() {
        assert_eq!(input_name("a/b/c.jpg"), "c.jpg");
        assert_eq!(input_name("a/"), "input");
        assert_eq!(input_name(".."), "input");
        let vars = function_vars(
            [
                ("AWS_SECRET_ACCESS_KEY", "s"),
                ("SCAR_IMAGE", "i"),
                ("_HANDLER", "h"),
                ("PATH", "/x"),
                ("MODE", "fast"),
                ("CONT_VAR_LEVEL", "3"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
        );
        assert_eq!(
            vars,
            [("MODE".into(), "fast".into()), ("LEVEL".into(), "3".into())]
        );
    }
}
