//! The live tail of the selected function: a StartLiveTail session (on AWS
//! and on the local cloud alike), FilterLogEvents polling (deduplicated by
//! event id) when one cannot start or ends, with a backoff while polls
//! fail.

use std::collections::HashMap;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;

use crate::aws::Cloud;

use super::text;
use crate::console::msg::Msg;
use crate::console::state::LogEntry;

/// How far back each tail poll looks again, for lines stored late.
pub const TAIL_OVERLAP_MS: i64 = 5_000;

/// FilterLogEvents polling with deduplication by event id.
struct Poller {
    since_ms: i64,
    newest: i64,
    seen: HashMap<String, i64>,
}

impl Poller {
    /// New lines since the last poll (and how many were skipped beyond `max`).
    async fn poll(
        &mut self,
        cloud: &Cloud,
        function: &str,
        max: usize,
    ) -> Result<(Vec<LogEntry>, u64), String> {
        let start = (self.newest - TAIL_OVERLAP_MS).max(self.since_ms);
        let lines = cloud
            .log_lines(function, Some(start), None)
            .await
            .map_err(text)?;
        let mut fresh = Vec::new();
        for l in lines {
            let id = if l.event_id.is_empty() {
                format!("{}/{}/{}", l.timestamp, l.stream, l.message)
            } else {
                l.event_id.clone()
            };
            if self.seen.insert(id, l.timestamp).is_some() {
                continue;
            }
            self.newest = self.newest.max(l.timestamp);
            fresh.push(LogEntry {
                timestamp: l.timestamp,
                stream: l.stream,
                message: l.message,
            });
        }
        let floor = self.newest - TAIL_OVERLAP_MS;
        self.seen.retain(|_, ts| *ts >= floor);
        let sampled = fresh.len().saturating_sub(max);
        if sampled > 0 {
            fresh.drain(..sampled);
        }
        Ok((fresh, sampled as u64))
    }
}

/// A StartLiveTail session, after one FilterLogEvents pass for
/// the history. `false` when it could not start or ended (the caller then
/// polls).
async fn live_tail(
    cloud: &Cloud,
    tx: &UnboundedSender<Msg>,
    function: &str,
    poller: &mut Poller,
    max: usize,
) -> bool {
    let Ok(Some(info)) = cloud.get_function(function).await else {
        return false;
    };
    let Some(group) = crate::aws::logs::log_group_arn(&info.arn) else {
        return false;
    };
    let Ok(mut session) = cloud.live_tail(&group).await else {
        return false;
    };
    // Lines logged between the session's start and the history pass come
    // twice: the history's newest ones are remembered to drop them.
    let mut recent = std::collections::HashSet::new();
    if let Ok((lines, sampled)) = poller.poll(cloud, function, max).await {
        let floor = poller.newest - TAIL_OVERLAP_MS;
        recent.extend(
            lines
                .iter()
                .filter(|l| l.timestamp >= floor)
                .map(|l| (l.timestamp, l.stream.clone(), l.message.clone())),
        );
        let _ = tx.send(Msg::LogLines {
            function: function.to_owned(),
            lines,
            sampled,
        });
    }
    while let Ok(Some(batch)) = session.next().await {
        let lines: Vec<LogEntry> = batch
            .lines
            .into_iter()
            .filter(|l| !recent.remove(&(l.timestamp, l.stream.clone(), l.message.clone())))
            .map(|l| LogEntry {
                timestamp: l.timestamp,
                stream: l.stream,
                message: l.message,
            })
            .collect();
        if let Some(t) = lines.iter().map(|l| l.timestamp).max() {
            poller.newest = poller.newest.max(t);
        }
        let msg = Msg::LogLines {
            function: function.to_owned(),
            lines,
            sampled: u64::from(batch.sampled),
        };
        if tx.send(msg).is_err() {
            return true;
        }
    }
    false
}

pub(super) async fn tail(
    cloud: Cloud,
    tx: UnboundedSender<Msg>,
    function: String,
    since_ms: i64,
    every: Duration,
    max: usize,
) {
    let mut poller = Poller {
        since_ms,
        newest: since_ms,
        seen: HashMap::new(),
    };
    if live_tail(&cloud, &tx, &function, &mut poller, max).await {
        return;
    }
    let mut failures: u32 = 0;
    loop {
        let msg = match poller.poll(&cloud, &function, max).await {
            Ok((lines, sampled)) => {
                failures = 0;
                Msg::LogLines {
                    function: function.clone(),
                    lines,
                    sampled,
                }
            }
            Err(error) => {
                failures = failures.saturating_add(1);
                Msg::TailError {
                    function: function.clone(),
                    error,
                }
            }
        };
        if tx.send(msg).is_err() {
            return;
        }
        // Back off while failing (lost network, throttling): 2x per
        // failure, at most a minute.
        let wait = every
            .saturating_mul(1 << failures.min(6))
            .min(Duration::from_secs(60));
        tokio::time::sleep(wait).await;
    }
}
