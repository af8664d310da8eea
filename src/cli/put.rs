//! `scar-tui put BUCKET[/PREFIX] PATH...`: files and folders into a bucket,
//! folders keeping their structure under the prefix; multipart above
//! 64 MiB; progress on stderr.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use color_eyre::eyre::{WrapErr, eyre};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use scar_tui::aws::transfer::Transfer;
use serde_json::json;

use crate::Global;

/// Arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Where: a bucket, optionally with a prefix (`input/photos`).
    pub target: String,
    /// Files and folders to upload.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Files uploaded at once.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
}

/// Splits `BUCKET[/PREFIX]`; the prefix is a folder (`in` and `in/` alike).
pub fn split_target(target: &str) -> color_eyre::Result<(String, String)> {
    let t = target.trim_start_matches("s3://");
    let (bucket, prefix) = t.split_once('/').unwrap_or((t, ""));
    if bucket.is_empty() {
        return Err(eyre!(
            "{target:?} names no bucket: write BUCKET or BUCKET/PREFIX"
        ));
    }
    let prefix = match prefix.trim_start_matches('/') {
        "" => String::new(),
        p if p.ends_with('/') => p.to_owned(),
        p => format!("{p}/"),
    };
    Ok((bucket.to_owned(), prefix))
}

/// A byte progress bar on stderr (hidden when stderr is not a terminal),
/// fed from `t` ten times a second until the returned handle is aborted.
pub fn transfer_bar(
    t: Arc<Transfer>,
    verb: &'static str,
) -> (ProgressBar, tokio::task::JoinHandle<()>) {
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {msg} {bytes}/{total_bytes} {bytes_per_sec} [{wide_bar}] {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let b = bar.clone();
    let ticker = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        loop {
            tick.tick().await;
            b.set_length(t.total_bytes.load(Ordering::Relaxed));
            b.set_position(t.bytes.load(Ordering::Relaxed));
            b.set_message(format!(
                "{verb} {}/{} files",
                t.files.load(Ordering::Relaxed),
                t.total_files.load(Ordering::Relaxed)
            ));
        }
    });
    (bar, ticker)
}

/// Runs it.
pub async fn run(g: &Global, a: Args) -> color_eyre::Result<()> {
    let (bucket, prefix) = split_target(&a.target)?;
    let cloud = super::connect(g).await?;
    if cloud
        .ensure_bucket(&bucket)
        .await
        .wrap_err_with(|| format!("checking bucket {bucket}"))?
        && !g.json
    {
        eprintln!("created bucket {bucket}");
    }
    let started = Instant::now();
    let t = Arc::new(Transfer::default());
    let (bar, ticker) = transfer_bar(t.clone(), "put");
    let result = cloud
        .put_paths(&bucket, &prefix, &a.paths, a.concurrency, t.clone())
        .await;
    ticker.abort();
    bar.finish_and_clear();
    let summary = result.wrap_err_with(|| format!("uploading to s3://{bucket}/{prefix}"))?;
    let secs = started.elapsed().as_secs_f64();
    if g.json {
        return super::print_json(&json!({
            "bucket": summary.bucket,
            "prefix": summary.prefix,
            "files": summary.files,
            "bytes": summary.bytes,
            "multipart": summary.multipart,
            "elapsed_ms": (secs * 1000.0) as u64,
        }));
    }
    println!(
        "put {} files ({} bytes{}) into s3://{bucket}/{prefix} in {secs:.1} s",
        summary.files,
        summary.bytes,
        if summary.multipart > 0 {
            format!(", {} in parts", summary.multipart)
        } else {
            String::new()
        }
    );
    Ok(())
}
