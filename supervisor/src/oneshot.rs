//! `scar-supervisor run`: one file through one image, no cloud at all.
//!
//! The paper's workflow is to try a script on one file locally before
//! scaling out; this is that, with exactly the in-function code path: the
//! same cache, unpacker, runtimes, script environment and metrics line.
//! Outputs are copied into a local folder instead of uploaded.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::config;
use crate::container::Runtime;
use crate::invocation::{self, InputSource, Job, TIMEOUT_EXIT_CODE, Workspace, iso8601, now_ms};
use crate::reference::ImageRef;
use crate::stage;

/// Exit code for failures of the supervisor itself (as `docker run`).
pub const SUPERVISOR_FAILURE: i32 = 125;

/// What to run.
#[derive(Debug, Clone)]
pub struct OneShot {
    /// Image reference.
    pub image: String,
    /// Script file.
    pub script: PathBuf,
    /// Input file, if any.
    pub input: Option<PathBuf>,
    /// Where outputs are copied.
    pub output_dir: PathBuf,
    /// Image cache (default `$TMPDIR/scar`).
    pub cache_dir: Option<PathBuf>,
    /// Runtime.
    pub runtime: Runtime,
    /// Extra variables for the script.
    pub env: Vec<(String, String)>,
    /// Time budget of the script.
    pub timeout: Option<Duration>,
    /// Function name in the metrics line.
    pub name: String,
}

/// Why a one-shot run could not produce its outputs; each names the thing
/// and the fix.
#[derive(Debug, thiserror::Error)]
pub enum OneShotError {
    /// The script could not be read.
    #[error("script {}: {source}; pass --script with the path of a shell script", path.display())]
    Script {
        /// The path given.
        path: PathBuf,
        /// The failure.
        source: std::io::Error,
    },
    /// The input is not a file.
    #[error("input file {} does not exist or is not a file; pass --input with a file to process", .0.display())]
    NoInput(PathBuf),
    /// The image reference does not parse.
    #[error(transparent)]
    Reference(#[from] crate::reference::ReferenceError),
    /// The cache or registry settings are wrong.
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    /// The image could not be had.
    #[error(transparent)]
    Image(#[from] crate::image::ImageError),
    /// The workspace could not be made.
    #[error(transparent)]
    Stage(#[from] stage::StageError),
    /// The outputs could not be copied to the output folder.
    #[error("copying outputs: {0}")]
    Copy(stage::StageError),
    /// The script could not be run.
    #[error(transparent)]
    Job(#[from] invocation::JobError),
    /// The output folder cannot be written.
    #[error("output folder {}: {source}; pass a writable --output-dir", path.display())]
    OutputDir {
        /// The folder given.
        path: PathBuf,
        /// The failure.
        source: std::io::Error,
    },
}

/// Runs it; returns the process exit code (the script's, 124 on timeout) or
/// a one-line error (exit 125).
pub async fn run(req: &OneShot) -> Result<i32, OneShotError> {
    let script = std::fs::read(&req.script).map_err(|source| OneShotError::Script {
        path: req.script.clone(),
        source,
    })?;
    if let Some(input) = &req.input
        && !input.is_file()
    {
        return Err(OneShotError::NoInput(input.clone()));
    }
    let image: ImageRef = req.image.parse()?;
    let store = config::image_store(req.cache_dir.clone())?;
    let deadline = req.timeout.map(|t| Instant::now() + t);
    let prepared = store.ensure(&image).await?;

    let request_id = uuid::Uuid::new_v4().to_string();
    let ws = Workspace::create(&config::work_root(), &request_id, req.runtime)?;
    let event = match &req.input {
        Some(p) => serde_json::json!({"input": {"file": p.to_string_lossy()}}),
        None => serde_json::json!({}),
    };
    let job = Job {
        request_id,
        function_name: req.name.clone(),
        script,
        runtime: req.runtime,
        vars: req.env.clone(),
        event: event.to_string(),
        event_time: iso8601(now_ms()),
        deadline,
    };
    let input = req.input.clone().map(InputSource::File);
    let mut outcome = invocation::run_job(&job, &prepared, &ws, input.as_ref()).await?;
    let copy_started = Instant::now();
    std::fs::create_dir_all(&req.output_dir).map_err(|source| OneShotError::OutputDir {
        path: req.output_dir.clone(),
        source,
    })?;
    let copied = stage::copy_outputs(&outcome.outputs, &req.output_dir);
    outcome.metrics.upload_ms = copy_started.elapsed().as_millis() as u64;
    println!("{}", outcome.metrics.line(now_ms()));
    copied.map_err(OneShotError::Copy)?;
    if outcome.timed_out {
        eprintln!(
            "scar: the script was killed after {:.1} s (--timeout); {} partial outputs were kept",
            req.timeout.unwrap_or_default().as_secs_f64(),
            outcome.outputs.len()
        );
        return Ok(TIMEOUT_EXIT_CODE);
    }
    Ok(outcome.metrics.exit_code)
}
