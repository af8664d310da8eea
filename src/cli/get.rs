//! `scar-tui get BUCKET[/PREFIX] DIR`: every object under the prefix into a
//! folder, keeping the key structure below the prefix; each file written
//! under a temporary name and renamed; progress on stderr.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use color_eyre::eyre::WrapErr;
use scar_tui::aws::transfer::Transfer;
use serde_json::json;

use crate::Global;

/// Arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// What: a bucket, optionally with a prefix (`output/done`).
    pub source: String,
    /// The folder to write into (created if missing).
    pub dir: PathBuf,
    /// Files downloaded at once.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
}

/// Runs it.
pub async fn run(g: &Global, a: Args) -> color_eyre::Result<()> {
    let (bucket, prefix) = super::put::split_target(&a.source)?;
    let cloud = super::connect(g).await?;
    let started = Instant::now();
    let t = Arc::new(Transfer::default());
    let (bar, ticker) = super::put::transfer_bar(t.clone(), "get");
    let result = cloud
        .get_prefix(&bucket, &prefix, &a.dir, a.concurrency, t.clone())
        .await;
    ticker.abort();
    bar.finish_and_clear();
    let summary = result.wrap_err_with(|| {
        format!(
            "downloading s3://{bucket}/{prefix} into {}",
            a.dir.display()
        )
    })?;
    let secs = started.elapsed().as_secs_f64();
    if g.json {
        return super::print_json(&json!({
            "bucket": summary.bucket,
            "prefix": summary.prefix,
            "dir": a.dir,
            "files": summary.files,
            "bytes": summary.bytes,
            "elapsed_ms": (secs * 1000.0) as u64,
        }));
    }
    if summary.files == 0 {
        println!("no objects under s3://{bucket}/{prefix}: nothing to get");
    } else {
        println!(
            "got {} files ({} bytes) from s3://{bucket}/{prefix} into {} in {secs:.1} s",
            summary.files,
            summary.bytes,
            a.dir.display()
        );
    }
    Ok(())
}
