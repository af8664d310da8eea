//! `scar-tui run NAME [--wait] [--retry-failed] [--concurrency N]`: SCAR's
//! batch over every input object of a function, journaled so that a
//! relaunch after a crash resumes without duplicates (see
//! `scar_tui::app::journal`), with progress on stderr.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use color_eyre::eyre::{WrapErr, eyre};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use scar_tui::app::batch::{BatchOptions, BatchProgress};
use scar_tui::app::batch_run::{self, RunOptions, WaitProgress};
use scar_tui::app::completion::TrackerOptions;
use scar_tui::aws::{Backend, Cloud};
use serde_json::json;

use crate::Global;

/// Arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The function.
    pub name: String,
    /// Return only when every key has succeeded or failed (exit 1 if any failed).
    #[arg(long)]
    pub wait: bool,
    /// Resend only the keys whose invocation failed in the last batch.
    #[arg(long)]
    pub retry_failed: bool,
    /// Invokes in flight at once.
    #[arg(long, default_value_t = 256)]
    pub concurrency: usize,
    /// At most this many invokes per second (to stay under an account's
    /// scaling rate).
    #[arg(long)]
    pub rate: Option<f64>,
    /// Start over even if the last batch is unfinished.
    #[arg(long, conflicts_with = "retry_failed")]
    pub fresh: bool,
    /// After a crash: keys whose send was not acknowledged are looked for
    /// in the logs; those not found once the logs have been quiet this long
    /// (at most 12 times this long) were never received, and are sent.
    #[arg(long, default_value = "10s", value_parser = super::parse_duration)]
    pub settle: Duration,
}

/// Where journals live: `<data dir>/batch/<backend>`.
fn journal_dir(g: &Global, cloud: &Cloud) -> color_eyre::Result<PathBuf> {
    let base = match (&g.data_dir, cloud.backend) {
        (Some(d), _) => d.clone(),
        (None, Backend::Local) => scar_tui::backend::default_data_dir()?,
        (None, Backend::Aws) => directories::ProjectDirs::from("", "", "scar-tui")
            .map(|d| d.data_dir().to_owned())
            .ok_or_else(|| eyre!("no data folder: $HOME is not set; pass --data-dir"))?,
    };
    let sub = match (cloud.backend, &cloud.profile) {
        (Backend::Local, _) => "local".to_owned(),
        (Backend::Aws, Some(p)) => format!("aws-{}-{p}", cloud.region),
        (Backend::Aws, None) => format!("aws-{}", cloud.region),
    };
    Ok(base.join("batch").join(sub))
}

fn bar(multi: &MultiProgress, template: &str) -> ProgressBar {
    let b = multi.add(ProgressBar::new(0));
    b.set_style(
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    b
}

/// Runs it.
pub async fn run(g: &Global, a: Args) -> color_eyre::Result<()> {
    let cloud = super::connect(g).await?;
    let opts = RunOptions {
        batch: BatchOptions {
            concurrency: a.concurrency.max(1),
            rate: a.rate,
            ..Default::default()
        },
        retry_failed: a.retry_failed,
        fresh: a.fresh,
        settle: a.settle,
        journal_dir: journal_dir(g, &cloud)?,
        tracker: TrackerOptions::for_backend(cloud.backend),
    };
    let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
    let progress = Arc::new(BatchProgress::default());
    let sent = bar(
        &multi,
        "{spinner} dispatched {pos}/{len} {per_sec} ETA {eta} [{wide_bar}] {msg}",
    );
    let ticker = {
        let (p, b) = (progress.clone(), sent.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            loop {
                tick.tick().await;
                b.set_length(p.total.load(Ordering::Relaxed));
                b.set_position(
                    p.dispatched.load(Ordering::Relaxed) + p.rejected.load(Ordering::Relaxed),
                );
                b.set_message(format!(
                    "{} skipped, {} retried, {} rejected",
                    p.skipped.load(Ordering::Relaxed),
                    p.retries.load(Ordering::Relaxed),
                    p.rejected.load(Ordering::Relaxed)
                ));
            }
        })
    };
    let result = batch_run::run(&cloud, &a.name, &opts, progress.clone()).await;
    ticker.abort();
    sent.finish_and_clear();
    let (report, campaign) = result.wrap_err_with(|| format!("running {}", a.name))?;

    let waited = if a.wait {
        let wp = Arc::new(WaitProgress::default());
        let done = bar(
            &multi,
            "{spinner} processed {pos}/{len} ETA {eta} [{wide_bar}] {msg}",
        );
        let ticker = {
            let (p, b) = (wp.clone(), done.clone());
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_millis(100));
                loop {
                    tick.tick().await;
                    let failed = p.failed.load(Ordering::Relaxed);
                    b.set_length(p.total.load(Ordering::Relaxed));
                    b.set_position(p.succeeded.load(Ordering::Relaxed) + failed);
                    b.set_message(format!("{failed} failed"));
                }
            })
        };
        let r = batch_run::wait(&cloud, &a.name, &campaign, &opts.tracker, wp).await;
        ticker.abort();
        done.finish_and_clear();
        Some(r.wrap_err_with(|| format!("waiting for the batch of {}", a.name))?)
    } else {
        None
    };

    if scar_tui::backend::in_process(&cloud) && !a.wait && !g.json {
        eprintln!(
            "note: the local cloud runs inside this command, so the queued events run when the next command starts it (their queue is on disk); use --wait, or `scar-tui local serve` in another terminal"
        );
    }
    let rejected = !report.dispatch.rejected.is_empty();
    let failed = waited.as_ref().is_some_and(|w| w.failed > 0);
    if g.json {
        super::print_json(&json!({"run": report, "wait": waited}))?;
    } else {
        let d = &report.dispatch;
        println!(
            "{}: {} batch {} — {} dispatched, {} skipped (already sent), {} retried in {:.1} s ({:.0}/s)",
            a.name,
            report.mode,
            &report.campaign.get(..8).unwrap_or(&report.campaign),
            d.dispatched,
            d.skipped,
            d.retries,
            d.elapsed_ms as f64 / 1000.0,
            d.rate
        );
        if report.in_doubt > 0 {
            println!(
                "  {} keys were in doubt after the last launch: {} found in the logs (not resent), {} resent",
                report.in_doubt, report.reconciled, report.resent_in_doubt
            );
        }
        if report.without_request_id > 0 {
            println!(
                "  note: the cloud returned no request id for {} events; they are followed by key in the logs",
                report.without_request_id
            );
        }
        for (key, e) in &d.rejected {
            println!("  rejected {key}: {e}");
        }
        if let Some(w) = &waited {
            let t = &w.totals;
            println!(
                "  {} keys: {} succeeded, {} failed; p50 {}, p95 {}, cache hits {} (waited {:.1} s)",
                w.keys,
                w.succeeded,
                w.failed,
                t.p50_ms.map_or("-".into(), |v| format!("{v:.1} ms")),
                t.p95_ms.map_or("-".into(), |v| format!("{v:.1} ms")),
                t.cache_hit_ratio
                    .map_or("-".into(), |v| format!("{:.0}%", v * 100.0)),
                w.elapsed_ms as f64 / 1000.0
            );
            for f in w.failed_keys.iter().take(20) {
                println!(
                    "  failed {} (request {}, {})",
                    f.key,
                    f.request_id,
                    f.status.as_deref().unwrap_or("no metrics line")
                );
            }
            if w.failed_keys.len() > 20 {
                println!(
                    "  ... and {} more; `scar-tui run {} --retry-failed` resends them",
                    w.failed_keys.len() - 20,
                    a.name
                );
            } else if w.failed > 0 {
                println!("  `scar-tui run {} --retry-failed` resends them", a.name);
            }
        }
    }
    if rejected || failed {
        std::process::exit(1);
    }
    Ok(())
}
