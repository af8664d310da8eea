//! CloudWatch metrics for the local cloud: the point store, the Embedded
//! Metric Format lines of function logs, and the four operations the
//! console and AWS clients use (PutMetricData, GetMetricStatistics,
//! GetMetricData, ListMetrics) in all three of CloudWatch's protocols.
//!
//! aws-sdk-cloudwatch 1.100+ speaks rpcv2Cbor; the AWS CLI and boto3 speak
//! awsJson1_0 or awsQuery. Each request is read into one tree
//! ([`wire::Node`]), handled once, and answered in the protocol it came in.
//! The local Lambda records `AWS/Lambda` metrics with [`MetricStore::put`];
//! CloudWatch Logs feeds every log line to [`MetricStore::ingest_emf`], which
//! is how the supervisor's `SCAR` metrics arrive, as on AWS.
//!
//! Layout: `store` (points in memory, retention) over `points_file` (the
//! durable JSON-lines file), `stats` (units, statistics, periods), `emf`,
//! `wire` (the three formats, dates from `scar_contract::time`), `request` (fields and
//! errors), and one file per operation family: `put`, `get`, `list`.

mod emf;
mod get;
mod list;
mod points_file;
mod put;
mod request;
mod stats;
mod store;
mod wire;

use std::path::Path;
use std::sync::Arc;

use http::{HeaderValue, Response, StatusCode};
use scar_contract::time::Clock;

use super::LocalError;
use super::protocol::{self, Body, Protocol};
use super::server::ServiceRequest;

pub use request::ApiError;
pub use stats::Stat;
pub use store::{MetricId, Retention};

/// One data point.
#[derive(Debug, Clone, PartialEq)]
pub struct Datum {
    /// Namespace (`AWS/Lambda`, `SCAR`).
    pub namespace: String,
    /// Metric name.
    pub name: String,
    /// Dimensions, name and value.
    pub dimensions: Vec<(String, String)>,
    /// Milliseconds since the epoch.
    pub timestamp: i64,
    /// The value.
    pub value: f64,
    /// CloudWatch unit name (`Count`, `Milliseconds`...); unknown names count as `None`.
    pub unit: String,
}

impl Datum {
    fn into_point(self) -> (MetricId, stats::Point) {
        let p = stats::Point::value(
            self.timestamp,
            self.value,
            stats::Unit::parse_lenient(&self.unit),
        );
        (MetricId::new(self.namespace, self.name, self.dimensions), p)
    }
}

/// The metric data points, shared by Lambda, CloudWatch Logs, the server
/// and the console. Thread-safe; appends are cheap (one lock, one write).
#[derive(Debug)]
pub struct MetricStore {
    store: store::Store,
    clock: Clock,
}

impl MetricStore {
    /// Opens the store in `dir` with CloudWatch's retention (15 days) and
    /// the default cap on points, replaying what an earlier run recorded.
    pub fn open(dir: &Path, clock: Clock) -> Result<Arc<MetricStore>, LocalError> {
        MetricStore::open_with(dir, Retention::default(), clock)
    }

    /// Opens the store in `dir`, keeping what `retention` allows as of
    /// `clock`'s now.
    pub fn open_with(
        dir: &Path,
        retention: Retention,
        clock: Clock,
    ) -> Result<Arc<MetricStore>, LocalError> {
        let store = store::Store::open(dir, retention, clock.now_ms())?;
        Ok(Arc::new(MetricStore { store, clock }))
    }

    /// The clock that retention and periods are measured against.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Records a data point.
    pub fn put(&self, datum: Datum) {
        self.store
            .record(vec![datum.into_point()], self.clock.now_ms());
    }

    /// Records several data points in one write.
    pub fn put_all(&self, data: impl IntoIterator<Item = Datum>) {
        let batch: Vec<_> = data.into_iter().map(Datum::into_point).collect();
        if !batch.is_empty() {
            self.store.record(batch, self.clock.now_ms());
        }
    }

    /// Records the metrics of an Embedded Metric Format line (its
    /// `_aws.Timestamp`, else `timestamp_ms`); false if the line is not EMF.
    pub fn ingest_emf(&self, line: &str, timestamp_ms: i64) -> bool {
        match emf::parse(line, timestamp_ms) {
            Some(data) => {
                self.put_all(data);
                true
            }
            None => false,
        }
    }

    /// One statistic of a metric (exactly this dimension set) per period of
    /// `period_s` seconds aligned to the epoch, for `[start_ms, end_ms)`:
    /// `(period start in ms, value)`, oldest first, periods without data
    /// (or without a percentile) left out.
    #[allow(clippy::too_many_arguments)]
    pub fn query(
        &self,
        namespace: &str,
        name: &str,
        dimensions: &[(String, String)],
        start_ms: i64,
        end_ms: i64,
        period_s: i64,
        stat: Stat,
    ) -> Vec<(i64, f64)> {
        let id = MetricId::new(namespace, name, dimensions.to_vec());
        self.store
            .aggregate(&id, start_ms, end_ms, period_s, None)
            .iter()
            .filter_map(|b| b.value(stat).map(|v| (b.start, v)))
            .collect()
    }

    /// The metrics holding data, optionally of one namespace, sorted by
    /// namespace, name and dimensions.
    pub fn list_metrics(&self, namespace: Option<&str>) -> Vec<MetricId> {
        self.store
            .metrics()
            .into_iter()
            .map(|(id, _)| id)
            .filter(|id| namespace.is_none_or(|n| n == id.namespace))
            .collect()
    }

    /// The number of points held.
    pub fn len(&self) -> usize {
        self.store.len()
    }

    /// True when no point is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Runs one operation on an already decoded input; `None` for an
    /// operation this service does not implement.
    fn call(&self, op: &str, input: &wire::Node) -> Option<Result<wire::Out, ApiError>> {
        let now = self.clock.now_ms();
        Some(match op {
            "PutMetricData" => put::parse(input, now).map(|batch| {
                self.store.record(batch, now);
                put::output()
            }),
            "GetMetricStatistics" => get::statistics(&self.store, input),
            "GetMetricData" => get::data(&self.store, input),
            "ListMetrics" => list::list(&self.store, input, now),
            _ => return None,
        })
    }

    /// Serves one request in any of CloudWatch's protocols.
    pub async fn handle(&self, req: ServiceRequest) -> Response<Body> {
        let protocol = req.protocol;
        let (op, input) = match protocol {
            Protocol::Cbor => {
                let op = req
                    .uri
                    .path()
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                (op, wire::Node::from_cbor(&req.body))
            }
            Protocol::AwsJson10 => {
                let target = req
                    .headers
                    .get("x-amz-target")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                let op = target
                    .rsplit_once('.')
                    .map(|(_, op)| op)
                    .unwrap_or_default()
                    .to_owned();
                (op, wire::Node::from_json(&req.body))
            }
            Protocol::Query => {
                let (action, input) = wire::Node::from_form(&req.body);
                let Some(action) = action else {
                    return protocol::error(
                        protocol,
                        StatusCode::BAD_REQUEST,
                        "MissingAction",
                        "The request must contain the parameter Action.",
                    );
                };
                (action, Ok(input))
            }
            Protocol::RestJson | Protocol::AwsJson11 => (String::new(), Ok(wire::Node::Null)),
        };
        let input = match input {
            Ok(n) => n,
            Err(e) => return error(protocol, "SerializationException", &e.to_string()),
        };
        match self.call(&op, &input) {
            Some(Ok(out)) => match protocol {
                Protocol::Cbor => protocol::cbor(&out.to_cbor()),
                Protocol::Query => {
                    let mut xml = String::new();
                    out.to_xml(&mut xml);
                    protocol::query(&op, &xml)
                }
                _ => protocol::json(Protocol::AwsJson10, StatusCode::OK, &out.to_json()),
            },
            Some(Err(e)) => error(protocol, e.code, &e.message),
            None => unknown_operation(protocol, &op),
        }
    }
}

/// A client error in `protocol`'s shape. awsJson1_0 also gets the
/// `x-amzn-query-error` header that query-compatible services send, so
/// clients map the code exactly as they would over awsQuery.
fn error(protocol: Protocol, code: &str, message: &str) -> Response<Body> {
    let mut r = protocol::error(protocol, StatusCode::BAD_REQUEST, code, message);
    if protocol == Protocol::AwsJson10
        && let Ok(v) = HeaderValue::from_str(&format!("{code};Sender"))
    {
        r.headers_mut().insert("x-amzn-query-error", v);
    }
    r
}

fn unknown_operation(protocol: Protocol, op: &str) -> Response<Body> {
    let supported = "PutMetricData, GetMetricStatistics, GetMetricData and ListMetrics";
    match protocol {
        Protocol::Query => protocol::error(
            protocol,
            StatusCode::BAD_REQUEST,
            "InvalidAction",
            &format!(
                "The action {op} is not valid for this web service: the local cloud serves {supported}."
            ),
        ),
        Protocol::Cbor => protocol::error(
            protocol,
            StatusCode::NOT_FOUND,
            "UnknownOperationException",
            &format!("Unknown operation {op}: the local cloud serves {supported}."),
        ),
        _ => error(
            protocol,
            "UnknownOperationException",
            &format!("Unknown operation {op}: the local cloud serves {supported}."),
        ),
    }
}
