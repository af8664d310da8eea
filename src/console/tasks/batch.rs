//! A batch run from the console: `batch_run::run` then `batch_run::wait`
//! (the same code as `scar-tui run --wait`), sampled four times a second
//! into [`BatchView`] messages for the progress gauge.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;

use crate::app::batch::BatchProgress;
use crate::app::batch_run::{self, RunOptions, WaitProgress};
use crate::aws::Cloud;

use crate::console::msg::Msg;
use crate::console::state::{BatchPhase, BatchView};

pub(super) async fn batch(
    cloud: &Cloud,
    tx: &UnboundedSender<Msg>,
    function: &str,
    opts: &RunOptions,
) -> Result<String, String> {
    let started = cloud.clock.now_ms();
    let progress = Arc::new(BatchProgress::default());
    let wait_progress = Arc::new(WaitProgress::default());
    let view = |phase: BatchPhase, finished: Option<i64>| {
        let p = &progress;
        let w = &wait_progress;
        let sent = p.dispatched.load(Ordering::Relaxed)
            + p.skipped.load(Ordering::Relaxed)
            + p.rejected.load(Ordering::Relaxed);
        // The listing's count may lag the sends; the wait knows the keys.
        let total = p
            .total
            .load(Ordering::Relaxed)
            .max(w.total.load(Ordering::Relaxed))
            .max(sent);
        BatchView {
            function: function.to_owned(),
            phase,
            total,
            dispatched: p.dispatched.load(Ordering::Relaxed),
            skipped: p.skipped.load(Ordering::Relaxed),
            rejected: p.rejected.load(Ordering::Relaxed),
            retries: p.retries.load(Ordering::Relaxed),
            done: w.succeeded.load(Ordering::Relaxed),
            failed: w.failed.load(Ordering::Relaxed),
            started_ms: started,
            finished_ms: finished,
        }
    };
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let run = batch_run::run(cloud, function, opts, progress.clone());
    tokio::pin!(run);
    let result = loop {
        tokio::select! {
            r = &mut run => break r,
            _ = tick.tick() => { let _ = tx.send(Msg::Batch(view(BatchPhase::Dispatching, None))); }
        }
    };
    let (_, campaign) = match result {
        Ok(r) => r,
        Err(e) => {
            let _ = tx.send(Msg::Batch(view(
                BatchPhase::Failed(e.to_string()),
                Some(cloud.clock.now_ms()),
            )));
            return Err(e.to_string());
        }
    };
    let wait = batch_run::wait(
        cloud,
        function,
        &campaign,
        &opts.tracker,
        wait_progress.clone(),
    );
    tokio::pin!(wait);
    let result = loop {
        tokio::select! {
            r = &mut wait => break r,
            _ = tick.tick() => { let _ = tx.send(Msg::Batch(view(BatchPhase::Waiting, None))); }
        }
    };
    match result {
        Ok(w) => {
            let _ = tx.send(Msg::Batch(view(
                BatchPhase::Done,
                Some(cloud.clock.now_ms()),
            )));
            Ok(format!(
                "batch of {function}: {} succeeded, {} failed of {} in {:.1} s",
                w.succeeded,
                w.failed,
                w.keys,
                w.elapsed_ms as f64 / 1000.0
            ))
        }
        Err(e) => {
            let _ = tx.send(Msg::Batch(view(
                BatchPhase::Failed(e.to_string()),
                Some(cloud.clock.now_ms()),
            )));
            Err(e.to_string())
        }
    }
}
