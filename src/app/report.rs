//! Parsing what a function logs, in one place: Lambda's START, END and
//! REPORT lines and the supervisor's metrics line (CloudWatch EMF), joined
//! by request id into one [`Invocation`] record. Used by `logs`, `metrics`,
//! `run --wait` and the console.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

/// One invocation as its log lines describe it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Invocation {
    /// The request id.
    pub request_id: String,
    /// Timestamp of its START line, ms since the epoch.
    pub started_ms: Option<i64>,
    /// The log stream (one per execution environment).
    pub stream: String,
    /// REPORT Duration, ms.
    pub duration_ms: Option<f64>,
    /// REPORT Billed Duration, ms.
    pub billed_ms: Option<f64>,
    /// REPORT Init Duration (cold starts), ms.
    pub init_ms: Option<f64>,
    /// REPORT Memory Size, MB.
    pub memory_mb: Option<u64>,
    /// REPORT Max Memory Used, MB.
    pub max_memory_mb: Option<u64>,
    /// REPORT `Status: timeout` and the like.
    pub report_status: Option<String>,
    /// True once END was seen.
    pub ended: bool,
    /// Input key (metrics line).
    pub input_key: Option<String>,
    /// CacheHit (metrics line).
    pub cache_hit: Option<bool>,
    /// Exit code (metrics line).
    pub exit_code: Option<i64>,
    /// The supervisor's status: succeeded, failed, timed_out, preheated.
    pub status: Option<String>,
    /// PullMs, UnpackMs, ScriptMs, UploadMs (metrics line).
    pub pull_ms: Option<f64>,
    /// Unpack time.
    pub unpack_ms: Option<f64>,
    /// Script time.
    pub script_ms: Option<f64>,
    /// Upload time.
    pub upload_ms: Option<f64>,
}

impl Invocation {
    /// Takes in what one of its lines says.
    pub fn absorb(&mut self, timestamp_ms: i64, stream: &str, line: &Line) {
        match line {
            Line::Start(_) => {
                self.started_ms = Some(timestamp_ms);
                self.stream = stream.to_owned();
            }
            Line::End(_) => self.ended = true,
            Line::Report(_, f) => {
                if self.stream.is_empty() {
                    self.stream = stream.to_owned();
                }
                self.duration_ms = f.get("Duration").and_then(|v| number(v));
                self.billed_ms = f.get("Billed Duration").and_then(|v| number(v));
                self.init_ms = f.get("Init Duration").and_then(|v| number(v));
                self.memory_mb = f
                    .get("Memory Size")
                    .and_then(|v| number(v))
                    .map(|x| x as u64);
                self.max_memory_mb = f
                    .get("Max Memory Used")
                    .and_then(|v| number(v))
                    .map(|x| x as u64);
                self.report_status = f.get("Status").cloned();
            }
            Line::Metrics(v) => {
                if self.stream.is_empty() {
                    self.stream = stream.to_owned();
                }
                let f = |k: &str| v.get(k).and_then(Value::as_f64);
                self.input_key = v["InputKey"]
                    .as_str()
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned);
                self.cache_hit = f("CacheHit").map(|x| x >= 1.0);
                self.exit_code = v.get("ExitCode").and_then(Value::as_i64);
                self.status = v["Status"].as_str().map(str::to_owned);
                self.pull_ms = f("PullMs");
                self.unpack_ms = f("UnpackMs");
                self.script_ms = f("ScriptMs");
                self.upload_ms = f("UploadMs");
            }
            Line::Other => {}
        }
    }

    /// done, failed, running (START without REPORT) or pending.
    pub fn state(&self) -> &'static str {
        match (
            self.status.as_deref(),
            self.report_status.as_deref(),
            self.duration_ms,
        ) {
            (Some("succeeded" | "preheated"), _, _) => "done",
            (Some(_), _, _) | (_, Some(_), _) => "failed",
            (None, None, Some(_)) => "done",
            (None, None, None) if self.started_ms.is_some() => "running",
            _ => "pending",
        }
    }
}

/// What one log line says.
#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    /// `START RequestId: ID Version: V`.
    Start(String),
    /// `END RequestId: ID`.
    End(String),
    /// `REPORT RequestId: ID\t...` fields.
    Report(String, BTreeMap<String, String>),
    /// The supervisor's EMF metrics line.
    Metrics(Value),
    /// Anything else.
    Other,
}

impl Line {
    /// The request the line belongs to (none for plain output lines, and
    /// for metrics lines that carry no `RequestId`).
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Line::Start(id) | Line::End(id) | Line::Report(id, _) => Some(id),
            Line::Metrics(v) => v["RequestId"].as_str().filter(|s| !s.is_empty()),
            Line::Other => None,
        }
    }
}

/// Classifies one log line.
pub fn parse_line(message: &str) -> Line {
    let m = message.trim_end();
    if let Some(rest) = m.strip_prefix("START RequestId: ") {
        return Line::Start(
            rest.split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned(),
        );
    }
    if let Some(rest) = m.strip_prefix("END RequestId: ") {
        return Line::End(
            rest.split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned(),
        );
    }
    if let Some(rest) = m.strip_prefix("REPORT RequestId: ") {
        let mut parts = rest.split('\t');
        let id = parts.next().unwrap_or_default().trim().to_owned();
        let fields = parts
            .filter_map(|f| {
                f.split_once(": ")
                    .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            })
            .collect();
        return Line::Report(id, fields);
    }
    if m.starts_with('{')
        && let Ok(v) = serde_json::from_str::<Value>(m)
        && v.pointer("/_aws/CloudWatchMetrics").is_some()
    {
        return Line::Metrics(v);
    }
    Line::Other
}

fn number(v: &str) -> Option<f64> {
    v.split_whitespace().next()?.parse().ok()
}

/// Joins log lines into invocations, in the order they started.
#[derive(Debug, Default, Clone)]
pub struct Joiner {
    by_id: BTreeMap<String, Invocation>,
    order: Vec<String>,
}

impl Joiner {
    fn entry(&mut self, id: &str) -> &mut Invocation {
        if !self.by_id.contains_key(id) {
            self.order.push(id.to_owned());
            self.by_id.insert(
                id.to_owned(),
                Invocation {
                    request_id: id.to_owned(),
                    ..Default::default()
                },
            );
        }
        self.by_id.get_mut(id).expect("inserted above")
    }

    /// Adds one log event.
    pub fn push(&mut self, timestamp_ms: i64, stream: &str, message: &str) {
        let line = parse_line(message);
        if let Some(id) = line.request_id() {
            let id = id.to_owned();
            self.entry(&id).absorb(timestamp_ms, stream, &line);
        }
    }

    /// The invocations, in the order first seen.
    pub fn invocations(&self) -> Vec<Invocation> {
        self.order
            .iter()
            .filter_map(|id| self.by_id.get(id).cloned())
            .collect()
    }

    /// One invocation.
    pub fn get(&self, id: &str) -> Option<&Invocation> {
        self.by_id.get(id)
    }
}

/// Totals over invocations: count, errors, p50/p95 duration, cache-hit ratio.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Totals {
    /// Invocations with a REPORT or metrics line.
    pub count: usize,
    /// Failed ones.
    pub errors: usize,
    /// Median duration, ms.
    pub p50_ms: Option<f64>,
    /// 95th percentile duration, ms.
    pub p95_ms: Option<f64>,
    /// Share of runs that found the image cached (0..1).
    pub cache_hit_ratio: Option<f64>,
}

/// The nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    Some(sorted[rank.min(sorted.len()) - 1])
}

/// Computes the totals.
pub fn totals<'a>(invocations: impl IntoIterator<Item = &'a Invocation>) -> Totals {
    let done: Vec<&Invocation> = invocations
        .into_iter()
        .filter(|i| i.duration_ms.is_some() || i.status.is_some())
        .collect();
    let mut durations: Vec<f64> = done.iter().filter_map(|i| i.duration_ms).collect();
    durations.sort_by(f64::total_cmp);
    let hits: Vec<bool> = done
        .iter()
        .filter(|i| i.status.as_deref() != Some("preheated"))
        .filter_map(|i| i.cache_hit)
        .collect();
    Totals {
        count: done.len(),
        errors: done.iter().filter(|i| i.state() == "failed").count(),
        p50_ms: percentile(&durations, 50.0),
        p95_ms: percentile(&durations, 95.0),
        cache_hit_ratio: (!hits.is_empty())
            .then(|| hits.iter().filter(|h| **h).count() as f64 / hits.len() as f64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_lambda_lines_and_metrics_by_request_id() {
        let mut j = Joiner::default();
        j.push(1, "s1", "START RequestId: r1 Version: $LATEST");
        j.push(2, "s1", "hello");
        j.push(3, "s1", r#"{"_aws":{"Timestamp":3,"CloudWatchMetrics":[{"Namespace":"SCAR","Dimensions":[["FunctionName"]],"Metrics":[]}]},"RequestId":"r1","CacheHit":1,"ExitCode":0,"Status":"succeeded","InputKey":"a.txt","ScriptMs":5}"#);
        j.push(4, "s1", "END RequestId: r1");
        j.push(5, "s1", "REPORT RequestId: r1\tDuration: 12.50 ms\tBilled Duration: 13 ms\tMemory Size: 512 MB\tMax Memory Used: 40 MB\tInit Duration: 200.10 ms");
        j.push(6, "s2", "START RequestId: r2 Version: $LATEST");
        let inv = j.invocations();
        assert_eq!(inv.len(), 2);
        let r1 = &inv[0];
        assert_eq!(r1.duration_ms, Some(12.5));
        assert_eq!(r1.init_ms, Some(200.1));
        assert_eq!(r1.max_memory_mb, Some(40));
        assert_eq!(r1.cache_hit, Some(true));
        assert_eq!(r1.input_key.as_deref(), Some("a.txt"));
        assert_eq!(r1.state(), "done");
        assert_eq!(inv[1].state(), "running");
        let t = totals(&inv);
        assert_eq!(t.count, 1);
        assert_eq!(t.p50_ms, Some(12.5));
        assert_eq!(t.cache_hit_ratio, Some(1.0));
    }

    #[test]
    fn timeouts_and_failures_count_as_errors() {
        let mut j = Joiner::default();
        j.push(1, "s", "START RequestId: a Version: $LATEST");
        j.push(2, "s", "REPORT RequestId: a\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\tMax Memory Used: 10 MB\tStatus: timeout");
        j.push(
            3,
            "s",
            r#"{"_aws":{"CloudWatchMetrics":[]},"RequestId":"b","ExitCode":3,"Status":"failed"}"#,
        );
        let t = totals(&j.invocations());
        assert_eq!(t.errors, 2);
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 95.0), Some(4.0));
        assert_eq!(parse_line("plain"), Line::Other);
    }
}
