//! Per-function figures for the console's functions pane, the way one
//! would read them on AWS: invocations, errors, throttles and duration
//! percentiles from `AWS/Lambda`, the cache-hit ratio from the
//! supervisor's `SCAR` metrics (one GetMetricData call for up to 80
//! functions), and the environments that logged recently from
//! DescribeLogStreams (Lambda writes one stream per environment).

use std::collections::HashMap;

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
use aws_sdk_cloudwatchlogs::types::OrderBy;

use super::logs::log_group;
use super::{AwsError, Cloud};

/// Figures of one function over a window.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FunctionFigures {
    /// Invocations.
    pub invocations: u64,
    /// Errors.
    pub errors: u64,
    /// Throttles.
    pub throttles: u64,
    /// Median duration, ms.
    pub p50_ms: Option<f64>,
    /// 95th percentile duration, ms.
    pub p95_ms: Option<f64>,
    /// Share of cache hits (0..1).
    pub cache_hit: Option<f64>,
}

/// (query kind, namespace, metric, statistic). A query's id is
/// `KIND_INDEX`: ids must start with a lowercase letter, and the kind holds
/// no `_`.
const QUERIES: [(&str, &str, &str, &str); 6] = [
    ("inv", "AWS/Lambda", "Invocations", "Sum"),
    ("err", "AWS/Lambda", "Errors", "Sum"),
    ("thr", "AWS/Lambda", "Throttles", "Sum"),
    ("median", "AWS/Lambda", "Duration", "p50"),
    ("high", "AWS/Lambda", "Duration", "p95"),
    ("hit", "SCAR", "CacheHit", "Average"),
];

/// GetMetricData takes at most 500 queries a call.
const FUNCTIONS_PER_CALL: usize = 500 / QUERIES.len();

impl Cloud {
    /// Figures of `functions` over the `window_s` seconds before `now_ms`.
    pub async fn function_figures(
        &self,
        functions: &[String],
        now_ms: i64,
        window_s: i32,
    ) -> Result<HashMap<String, FunctionFigures>, AwsError> {
        let mut out = HashMap::new();
        // One period covering the window (a multiple of 60 s), so that
        // each query answers with one figure.
        let period = ((window_s.max(60) + 59) / 60) * 60;
        let end = now_ms;
        let start = end - i64::from(period) * 1000;
        for chunk in functions.chunks(FUNCTIONS_PER_CALL) {
            let mut queries = Vec::new();
            for (i, name) in chunk.iter().enumerate() {
                for (id, ns, metric, stat) in QUERIES {
                    let m = Metric::builder()
                        .namespace(ns)
                        .metric_name(metric)
                        .dimensions(
                            Dimension::builder()
                                .name("FunctionName")
                                .value(name)
                                .build(),
                        )
                        .build();
                    queries.push(
                        MetricDataQuery::builder()
                            .id(format!("{id}_{i}"))
                            .metric_stat(
                                MetricStat::builder()
                                    .metric(m)
                                    .period(period)
                                    .stat(stat)
                                    .build(),
                            )
                            .return_data(true)
                            .build(),
                    );
                }
            }
            let mut token: Option<String> = None;
            loop {
                let res = self
                    .cloudwatch
                    .get_metric_data()
                    .set_metric_data_queries(Some(queries.clone()))
                    .start_time(DateTime::from_millis(start))
                    .end_time(DateTime::from_millis(end))
                    .set_next_token(token.take())
                    .send()
                    .await
                    .map_err(|e| AwsError::call("GetMetricData", "AWS/Lambda, SCAR", &e))?;
                for r in res.metric_data_results() {
                    let Some(id) = r.id() else { continue };
                    let Some((kind, idx)) = id.split_once('_') else {
                        continue;
                    };
                    let Some(name) = idx.parse::<usize>().ok().and_then(|i| chunk.get(i)) else {
                        continue;
                    };
                    let f: &mut FunctionFigures = out.entry(name.clone()).or_default();
                    let values = r.values();
                    let sum: f64 = values.iter().sum();
                    // Newest first (the default scan order).
                    let latest = values.first().copied();
                    match kind {
                        "inv" => f.invocations += sum as u64,
                        "err" => f.errors += sum as u64,
                        "thr" => f.throttles += sum as u64,
                        "median" => f.p50_ms = f.p50_ms.or(latest),
                        "high" => f.p95_ms = f.p95_ms.or(latest),
                        "hit" => f.cache_hit = f.cache_hit.or(latest),
                        _ => {}
                    }
                }
                match res.next_token() {
                    Some(t) => token = Some(t.to_owned()),
                    None => break,
                }
            }
        }
        for name in functions {
            out.entry(name.clone()).or_default();
        }
        Ok(out)
    }

    /// Execution environments (log streams) of `function` that logged at
    /// or after `since_ms`.
    pub async fn active_environments(
        &self,
        function: &str,
        since_ms: i64,
    ) -> Result<u32, AwsError> {
        let group = log_group(function);
        let res = self
            .logs
            .describe_log_streams()
            .log_group_name(&group)
            .order_by(OrderBy::LastEventTime)
            .descending(true)
            .limit(50)
            .send()
            .await;
        let res = match res {
            Ok(r) => r,
            Err(e) => {
                let err = AwsError::call("DescribeLogStreams", &group, &e);
                if err.code() == Some("ResourceNotFoundException") {
                    return Ok(0);
                }
                return Err(err);
            }
        };
        Ok(res
            .log_streams()
            .iter()
            .filter(|s| s.last_event_timestamp().unwrap_or(0) >= since_ms)
            .count() as u32)
    }
}
