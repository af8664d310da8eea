//! The `scar-supervisor` binary: a Lambda custom runtime (`bootstrap`) when
//! `AWS_LAMBDA_RUNTIME_API` is set, otherwise a command line whose `run`
//! processes one local file.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use scar_supervisor::container::Runtime;
use scar_supervisor::oneshot::{self, OneShot, SUPERVISOR_FAILURE};

#[derive(Parser)]
#[command(
    name = "scar-supervisor",
    version,
    about = "Run a container image's script on one file, with a warm /tmp image cache"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the script on one local file (no cloud): outputs are copied into --output-dir.
    Run(RunArgs),
    /// Serve the Lambda Runtime API named by AWS_LAMBDA_RUNTIME_API (the default when it is set).
    Lambda,
}

#[derive(clap::Args)]
struct RunArgs {
    /// Image: docker://HOST/REPO:TAG, REPO[:TAG], oci:PATH[:TAG] or docker-archive:PATH.
    #[arg(long)]
    image: String,
    /// Shell script run as `/bin/sh SCRIPT` inside the image.
    #[arg(long)]
    script: PathBuf,
    /// File to process (staged at /tmp/$REQUEST_ID/input/NAME).
    #[arg(long)]
    input: Option<PathBuf>,
    /// Folder the outputs are copied into.
    #[arg(long)]
    output_dir: PathBuf,
    /// Image cache folder [default: $TMPDIR/scar].
    #[arg(long, env = "SCAR_CACHE_DIR")]
    cache_dir: Option<PathBuf>,
    /// Container runtime: auto, userns, proot or host.
    #[arg(long, default_value = "auto", value_parser = parse_runtime)]
    runtime: Runtime,
    /// A variable for the script, KEY=VALUE (repeatable).
    #[arg(long = "env", value_parser = parse_kv)]
    env: Vec<(String, String)>,
    /// Seconds before the script's process group is killed (exit 124).
    #[arg(long, value_parser = parse_seconds)]
    timeout: Option<Duration>,
    /// Function name written in the metrics line.
    #[arg(long, default_value = "local")]
    name: String,
}

fn parse_runtime(s: &str) -> Result<Runtime, scar_contract::runtime::UnknownRuntime> {
    s.parse()
}

fn parse_kv(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("{s:?} is not KEY=VALUE")),
    }
}

fn parse_seconds(s: &str) -> Result<Duration, String> {
    s.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v > 0.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| format!("{s:?} is not a positive number of seconds"))
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    // One thread drives the I/O; unpacking runs on the blocking pool. This
    // keeps the resident size small and the process cheap to start.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

fn main() -> ExitCode {
    // One malloc arena: the unpacker's blocking threads would otherwise
    // each get their own, and the resident size would grow with them.
    // SAFETY: called before any other thread exists.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
    let cli = Cli::parse();
    let command = match cli.command {
        Some(c) => c,
        None if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() => Command::Lambda,
        None => {
            eprintln!(
                "error: no command; use `scar-supervisor run --help`, or set AWS_LAMBDA_RUNTIME_API to serve Lambda"
            );
            return ExitCode::from(2);
        }
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(SUPERVISOR_FAILURE as u8);
        }
    };
    match command {
        Command::Lambda => match rt.block_on(scar_supervisor::lambda::serve()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: Lambda runtime: {e}");
                ExitCode::from(1)
            }
        },
        Command::Run(a) => {
            let req = OneShot {
                image: a.image,
                script: a.script,
                input: a.input,
                output_dir: a.output_dir,
                cache_dir: a.cache_dir,
                runtime: a.runtime,
                env: a.env,
                timeout: a.timeout,
                name: a.name,
            };
            match rt.block_on(oneshot::run(&req)) {
                Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(SUPERVISOR_FAILURE as u8)
                }
            }
        }
    }
}
