//! A whole `run`: SCAR's batch over every input object of a function,
//! recoverable at any point.
//!
//! One launch: read the function's input (`SCAR_INPUT`); replay its journal
//! and pick the mode (a new campaign, the resumption of an unfinished one,
//! or `--retry-failed`); resolve the keys left in doubt by a crash from the
//! logs; send what remains; and, with `--wait`, follow every key of the
//! campaign to its outcome.

use std::collections::{HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::batch::{
    BatchError, BatchOptions, BatchProgress, DispatchReport, InputKeys, KeyList, dispatch,
};
use super::completion::{Outcome, Tracker, TrackerOptions};
use super::journal::{Campaign, Journal, JournalError, KeyState, Record, journal_path, replay};
use super::report::{Totals, totals};
use crate::app::failures::FailureFollower;
use crate::aws::objects::FunctionInput;
use crate::aws::{AwsError, Cloud};

/// A failure of a run, naming the function or the journal.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A cloud call failed.
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// The journal failed.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// Dispatch stopped.
    #[error(transparent)]
    Batch(#[from] BatchError),
    /// The function records no input.
    #[error(
        "function {function} records no input (no SCAR_INPUT variable): deploy it with an input bucket (`scar-tui init ... --input BUCKET/PREFIX`)"
    )]
    NoInput {
        /// The function.
        function: String,
    },
    /// `--retry-failed` without a campaign.
    #[error(
        "no batch journal for {function} at {path}: nothing to retry; launch `scar-tui run {function}` first"
    )]
    NothingToRetry {
        /// The function.
        function: String,
        /// Where the journal would be.
        path: PathBuf,
    },
}

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Dispatch settings.
    pub batch: BatchOptions,
    /// Resend only the keys whose invocation failed.
    pub retry_failed: bool,
    /// Start a new campaign even if the last one is unfinished.
    pub fresh: bool,
    /// In-doubt keys not seen in the logs after they have been quiet this
    /// long count as never received, and are sent.
    pub settle: Duration,
    /// Folder of the journals.
    pub journal_dir: PathBuf,
    /// How to read the logs.
    pub tracker: TrackerOptions,
}

/// What a launch did.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// The function.
    pub function: String,
    /// `new`, `resume` or `retry-failed`.
    pub mode: &'static str,
    /// The campaign id.
    pub campaign: String,
    /// The journal file.
    pub journal: PathBuf,
    /// Keys left in doubt by an earlier launch.
    pub in_doubt: usize,
    /// Of those, found in the logs (accepted: not sent again).
    pub reconciled: usize,
    /// Of those, sent again (never seen by Lambda).
    pub resent_in_doubt: usize,
    /// What dispatch did.
    pub dispatch: DispatchReport,
    /// Every listed key is acknowledged.
    pub complete: bool,
    /// Acknowledged keys whose 202 carried no request id (followed by key).
    pub without_request_id: usize,
}

/// Progress of `--wait`.
#[derive(Debug, Default)]
pub struct WaitProgress {
    /// Keys followed.
    pub total: AtomicU64,
    /// Succeeded so far.
    pub succeeded: AtomicU64,
    /// Failed so far.
    pub failed: AtomicU64,
}

/// A key whose invocation failed.
#[derive(Debug, Clone, Serialize)]
pub struct FailedKey {
    /// The key.
    pub key: String,
    /// Its request id.
    pub request_id: String,
    /// The supervisor's last status, if it got that far.
    pub status: Option<String>,
}

/// What `--wait` saw.
#[derive(Debug, Clone, Serialize)]
pub struct WaitReport {
    /// Keys followed (every acknowledged key of the campaign).
    pub keys: u64,
    /// Succeeded.
    pub succeeded: u64,
    /// Failed.
    pub failed: u64,
    /// The failed ones.
    pub failed_keys: Vec<FailedKey>,
    /// Duration percentiles and cache hits over the campaign's invocations.
    pub totals: Totals,
    /// Wall time of the wait, ms.
    pub elapsed_ms: u64,
}

/// Marks failed the invocations Lambda gave up on, from the records in the
/// function's on-failure destination. A destination that cannot be read
/// only leaves the tracker to the logs (which see every attempt anyway).
async fn mark_given_up(cloud: &Cloud, follower: &mut FailureFollower, tracker: &mut Tracker) {
    match follower.new_records(cloud).await {
        Ok(records) => {
            for r in records {
                tracker.mark_failed(&r.request_id);
            }
        }
        Err(e) => tracing::warn!(error = %e, "the on-failure records could not be read"),
    }
}

/// Resolves in-doubt keys from the logs; returns the ones never seen.
async fn resolve_in_doubt(
    cloud: &Cloud,
    function: &str,
    campaign: &mut Campaign,
    journal: &mut Journal,
    opts: &RunOptions,
) -> Result<(usize, Vec<String>), RunError> {
    let mut doubt = campaign.in_doubt();
    if doubt.is_empty() {
        return Ok((0, Vec::new()));
    }
    let since = doubt
        .iter()
        .map(|(_, ms)| *ms)
        .min()
        .unwrap_or(campaign.started_ms);
    let mut tracker = Tracker::new(
        function,
        since - opts.tracker.slack_ms,
        opts.tracker.clone(),
    );
    let started = Instant::now();
    let mut reconciled = 0;
    loop {
        tracker.poll(cloud).await?;
        doubt.retain(|(key, ms)| {
            let known = campaign
                .keys
                .get(key)
                .map(|s| s.ids.clone())
                .unwrap_or_default();
            // The intent is written before the request: its run logs after it.
            match tracker.evidence(key, *ms - 1_000, &known) {
                Some(id) => {
                    let r = Record::Reconciled {
                        key: key.clone(),
                        id: id.to_owned(),
                    };
                    journal.push(&r);
                    campaign.apply(r);
                    reconciled += 1;
                    false
                }
                None => true,
            }
        });
        let quiet = tracker.quiet_for() >= opts.settle && started.elapsed() >= opts.settle;
        if doubt.is_empty() || quiet || started.elapsed() >= opts.settle * 12 {
            break;
        }
        tokio::time::sleep(opts.tracker.poll_interval).await;
    }
    journal.sync().await?;
    Ok((reconciled, doubt.into_iter().map(|(k, _)| k).collect()))
}

/// The request id of a key's latest event. Lambda returns it with the 202;
/// a cloud that does not (an empty id in the journal) is followed by key:
/// the first metrics line for the key logged after its latest intent.
fn current_id<'a>(tracker: &'a Tracker, key: &str, state: &'a KeyState) -> Option<&'a str> {
    match state.current_id() {
        Some(id) if !id.is_empty() => Some(id),
        _ => tracker.evidence(key, state.intent_ms.unwrap_or(0), &state.ids),
    }
}

/// Keys of the campaign whose current invocation failed.
async fn failed_keys(
    cloud: &Cloud,
    function: &str,
    campaign: &Campaign,
    opts: &TrackerOptions,
) -> Result<Vec<String>, RunError> {
    let mut tracker = Tracker::new(function, campaign.started_ms - opts.slack_ms, opts.clone());
    tracker.poll(cloud).await?;
    mark_given_up(cloud, &mut FailureFollower::new(function), &mut tracker).await;
    let mut keys: Vec<String> = campaign
        .acknowledged_states()
        .filter(|(k, s)| {
            current_id(&tracker, k, s).is_some_and(|id| tracker.outcome(id) == Outcome::Failed)
        })
        .map(|(k, _)| k.to_owned())
        .collect();
    keys.sort();
    Ok(keys)
}

/// Counts the input keys in the background, so progress has a total (and
/// an ETA) while the dispatch streams the same listing.
fn count_input(
    cloud: &Cloud,
    input: &FunctionInput,
    already: u64,
    progress: Arc<BatchProgress>,
) -> tokio::task::JoinHandle<()> {
    let mut pages = cloud.list_objects(&input.bucket, &input.prefix);
    let input = input.clone();
    tokio::spawn(async move {
        let mut n = 0u64;
        while let Ok(Some(page)) = pages.next_page().await {
            n += page.iter().filter(|o| input.takes(&o.key)).count() as u64;
            if !progress.total_known.load(Ordering::Relaxed) {
                progress
                    .total
                    .store(n.saturating_sub(already), Ordering::Relaxed);
            }
        }
    })
}

/// One launch of `run`. Returns its report and the campaign as journaled.
pub async fn run(
    cloud: &Cloud,
    function: &str,
    opts: &RunOptions,
    progress: Arc<BatchProgress>,
) -> Result<(RunReport, Campaign), RunError> {
    let input = cloud
        .function_input(function)
        .await?
        .ok_or_else(|| RunError::NoInput {
            function: function.to_owned(),
        })?;
    let path = journal_path(&opts.journal_dir, function);
    let existing = replay(&path)?;
    let same_input = |c: &Campaign| c.bucket == input.bucket && c.prefix == input.prefix;
    let (mode, mut campaign, mut journal) = match existing {
        Some(c) if opts.retry_failed => {
            let j = Journal::open(&path)?;
            ("retry-failed", c, j)
        }
        None if opts.retry_failed => {
            return Err(RunError::NothingToRetry {
                function: function.to_owned(),
                path,
            });
        }
        Some(c) if !opts.fresh && !c.complete && same_input(&c) => {
            let mut j = Journal::open(&path)?;
            j.push(&Record::Resume {
                ms: cloud.clock.now_ms(),
            });
            ("resume", c, j)
        }
        _ => {
            let begin = Record::Begin {
                run: uuid::Uuid::new_v4().to_string(),
                ms: cloud.clock.now_ms(),
                function: function.to_owned(),
                bucket: input.bucket.clone(),
                prefix: input.prefix.clone(),
            };
            let mut c = Campaign::default();
            c.apply(begin.clone());
            ("new", c, Journal::start(&path, begin).await?)
        }
    };

    let in_doubt = campaign.in_doubt().len();
    let (reconciled, unseen) =
        resolve_in_doubt(cloud, function, &mut campaign, &mut journal, opts).await?;
    let resent_in_doubt = unseen.len();

    let mut to_send: VecDeque<String> = unseen.into();
    if mode == "retry-failed" {
        let failed = failed_keys(cloud, function, &campaign, &opts.tracker).await?;
        let already: HashSet<&String> = to_send.iter().collect();
        let failed: Vec<String> = failed
            .into_iter()
            .filter(|k| !already.contains(k))
            .collect();
        to_send.extend(failed);
    }
    progress
        .total
        .store(to_send.len() as u64, Ordering::Relaxed);

    // First the keys named above (in-doubt resends, failures)...
    let mut report = DispatchReport::default();
    if !to_send.is_empty() {
        let (j, r) = dispatch(
            cloud.clone(),
            function,
            &input.bucket,
            KeyList(to_send),
            |_| false,
            journal,
            &opts.batch,
            progress.clone(),
        )
        .await;
        journal = j;
        report = r?;
    }
    // ...then, unless only retrying, the listing, minus what the journal has.
    let mut complete = campaign.complete;
    if mode != "retry-failed" {
        let known = campaign
            .keys
            .values()
            .filter(|s| s.rejected.is_none())
            .count() as u64;
        let counter = count_input(cloud, &input, known, progress.clone());
        let keys = InputKeys {
            pages: cloud.list_objects(&input.bucket, &input.prefix),
            input: input.clone(),
        };
        let skip = |k: &str| campaign.settled_or_in_doubt(k);
        let (j, r) = dispatch(
            cloud.clone(),
            function,
            &input.bucket,
            keys,
            skip,
            journal,
            &opts.batch,
            progress.clone(),
        )
        .await;
        counter.abort();
        journal = j;
        let listed = r?;
        report.dispatched += listed.dispatched;
        report.skipped += listed.skipped;
        report.rejected.extend(listed.rejected);
        report.retries += listed.retries;
        report.elapsed_ms += listed.elapsed_ms;
        report.rate = report.dispatched as f64 / (report.elapsed_ms.max(1) as f64 / 1000.0);
        campaign = replay(&path)?.unwrap_or(campaign);
        complete = report.rejected.is_empty() && campaign.in_doubt().is_empty();
        if complete {
            let keys = campaign.acknowledged().count() as u64;
            journal.push(&Record::Complete {
                ms: cloud.clock.now_ms(),
                keys,
            });
            journal.sync().await?;
            campaign.complete = true;
        }
    } else {
        campaign = replay(&path)?.unwrap_or(campaign);
    }
    Ok((
        RunReport {
            function: function.to_owned(),
            mode,
            campaign: campaign.run.clone(),
            journal: path,
            in_doubt,
            reconciled,
            resent_in_doubt,
            dispatch: report,
            complete,
            without_request_id: campaign
                .acknowledged()
                .filter(|(_, id)| id.is_empty())
                .count(),
        },
        campaign,
    ))
}

/// Follows every acknowledged key of `campaign` until each has succeeded or
/// failed.
pub async fn wait(
    cloud: &Cloud,
    function: &str,
    campaign: &Campaign,
    opts: &TrackerOptions,
    progress: Arc<WaitProgress>,
) -> Result<WaitReport, RunError> {
    let started = Instant::now();
    let keys: Vec<(&str, &KeyState)> = campaign.acknowledged_states().collect();
    progress.total.store(keys.len() as u64, Ordering::Relaxed);
    let mut tracker = Tracker::new(function, campaign.started_ms - opts.slack_ms, opts.clone());
    let mut given_up = FailureFollower::new(function);
    loop {
        tracker.poll(cloud).await?;
        mark_given_up(cloud, &mut given_up, &mut tracker).await;
        let (mut ok, mut failed, mut pending) = (0u64, 0u64, 0u64);
        let mut ids: Vec<(&str, &str)> = Vec::with_capacity(keys.len());
        for (k, s) in &keys {
            match current_id(&tracker, k, s) {
                Some(id) => {
                    ids.push((k, id));
                    match tracker.outcome(id) {
                        Outcome::Succeeded => ok += 1,
                        Outcome::Failed => failed += 1,
                        Outcome::Pending => pending += 1,
                    }
                }
                None => pending += 1,
            }
        }
        progress.succeeded.store(ok, Ordering::Relaxed);
        progress.failed.store(failed, Ordering::Relaxed);
        if pending == 0 {
            let ours: HashSet<&str> = ids.iter().map(|(_, id)| *id).collect();
            let invocations: Vec<_> = tracker
                .joiner()
                .invocations()
                .into_iter()
                .filter(|i| ours.contains(i.request_id.as_str()))
                .collect();
            let mut failed_keys: Vec<FailedKey> = ids
                .iter()
                .filter(|(_, id)| tracker.outcome(id) == Outcome::Failed)
                .map(|(k, id)| FailedKey {
                    key: (*k).to_owned(),
                    request_id: (*id).to_owned(),
                    status: tracker.last_status(id).map(str::to_owned),
                })
                .collect();
            failed_keys.sort_by(|a, b| a.key.cmp(&b.key));
            return Ok(WaitReport {
                keys: keys.len() as u64,
                succeeded: ok,
                failed,
                failed_keys,
                totals: totals(&invocations),
                elapsed_ms: started.elapsed().as_millis() as u64,
            });
        }
        tokio::time::sleep(opts.poll_interval).await;
    }
}
