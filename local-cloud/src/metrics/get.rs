//! GetMetricStatistics and GetMetricData: statistics of one metric per
//! period, in the shapes of
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricStatistics.html>
//! and <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html>.
//!
//! A metric matches only with exactly its dimension set, as on CloudWatch.
//! Periods without data are left out. GetMetricData answers MetricStat
//! queries; metric math and Metrics Insights expressions get a clear
//! InvalidParameterValue instead of a wrong answer.

use std::collections::HashSet;

use super::request::{self, ApiError, ApiResult};
use super::stats::{self, Stat};
use super::store::{MetricId, Store};
use super::wire::{Node, Out};

/// GetMetricStatistics's limit on datapoints per call.
const MAX_STATISTICS_POINTS: i64 = 1440;
/// GetMetricData's limit on queries per call.
const MAX_QUERIES: usize = 500;

/// The five statistics, in the order a Datapoint lists them.
const STANDARD: [(&str, Stat); 5] = [
    ("SampleCount", Stat::SampleCount),
    ("Average", Stat::Average),
    ("Sum", Stat::Sum),
    ("Minimum", Stat::Minimum),
    ("Maximum", Stat::Maximum),
];

/// GetMetricStatistics.
pub fn statistics(store: &Store, input: &Node) -> ApiResult<Out> {
    let namespace = request::req_name(input.get("Namespace"), "Namespace", 255)?;
    let name = request::req_name(input.get("MetricName"), "MetricName", 255)?;
    let dims = request::dimensions(input.get("Dimensions"), "Dimensions")?;
    let (start, end) = request::time_range(input)?;
    let period = request::period(input.get("Period"), "Period")?;
    let unit = request::opt_unit(input.get("Unit"), "Unit")?;

    let mut wanted = [false; 5];
    for (i, s) in request::list(input.get("Statistics"), "Statistics")?
        .iter()
        .enumerate()
    {
        let field = format!("Statistics.member.{}", i + 1);
        let s = request::opt_str(s, &field)?.unwrap_or("");
        let Some(k) = STANDARD.iter().position(|(n, _)| *n == s) else {
            return Err(ApiError::invalid(format!(
                "The parameter {field} must be a value in the set [ Average, Sum, SampleCount, Maximum, Minimum ] (got {s})."
            )));
        };
        wanted[k] = true;
    }
    let mut extended = Vec::new();
    for (i, s) in request::list(input.get("ExtendedStatistics"), "ExtendedStatistics")?
        .iter()
        .enumerate()
    {
        let field = format!("ExtendedStatistics.member.{}", i + 1);
        let s = request::opt_str(s, &field)?.unwrap_or("");
        let Some(stat) = Stat::parse_percentile(s) else {
            return Err(ApiError::invalid(format!(
                "The value {s} for parameter {field} is invalid: use a percentile such as p50, p95 or p99.9."
            )));
        };
        extended.push((s.to_owned(), stat));
    }
    if !wanted.contains(&true) && extended.is_empty() {
        return Err(ApiError::combination(
            "Must specify either Statistics or ExtendedStatistics.",
        ));
    }
    let period_ms = period * 1000;
    let requested = (end - stats::align(start, period_ms) + period_ms - 1) / period_ms;
    if requested > MAX_STATISTICS_POINTS {
        return Err(ApiError::combination(format!(
            "You have requested up to {requested} datapoints, which exceeds the limit of {MAX_STATISTICS_POINTS}. \
You may reduce the datapoints requested by increasing Period, or decreasing the time range."
        )));
    }

    let id = MetricId::new(namespace, name, dims);
    let datapoints = store
        .aggregate(&id, start, end, period, unit)
        .iter()
        .map(|b| {
            let mut dp = vec![("Timestamp", Out::Time(b.start))];
            for (k, (label, stat)) in STANDARD.iter().enumerate() {
                if wanted[k]
                    && let Some(v) = b.value(*stat)
                {
                    dp.push((label, Out::Num(v)));
                }
            }
            dp.push(("Unit", Out::Str(unit.unwrap_or(b.unit).as_str().to_owned())));
            if !extended.is_empty() {
                let ext = extended
                    .iter()
                    .filter_map(|(k, s)| b.value(*s).map(|v| (k.clone(), Out::Num(v))))
                    .collect();
                dp.push(("ExtendedStatistics", Out::Dict(ext)));
            }
            Out::Struct(dp)
        })
        .collect();
    Ok(Out::Struct(vec![
        ("Label", Out::Str(name.to_owned())),
        ("Datapoints", Out::List(datapoints)),
    ]))
}

/// One MetricStat query, validated.
struct Query {
    id: String,
    label: Option<String>,
    metric: MetricId,
    period: i64,
    stat: Stat,
    unit: Option<stats::Unit>,
    return_data: bool,
}

fn valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && id.len() <= 255
}

fn query(q: &Node, p: &str) -> ApiResult<Query> {
    let id = request::req_name(q.get("Id"), &format!("{p}.Id"), 255)?;
    if !valid_id(id) {
        return Err(ApiError::invalid(format!(
            "The value {id} for parameter {p}.Id is invalid: it must start with a lowercase letter and hold only letters, digits and underscores."
        )));
    }
    let expression = request::opt_str(q.get("Expression"), &format!("{p}.Expression"))?;
    let ms = q.get("MetricStat");
    if expression.is_some() && !ms.is_null() {
        return Err(ApiError::combination(format!(
            "The parameters {p}.MetricStat and {p}.Expression are mutually exclusive."
        )));
    }
    if let Some(e) = expression {
        return Err(ApiError::invalid(format!(
            "The value {e} for parameter {p}.Expression is invalid: metric math and Metrics Insights expressions are not supported by the local cloud; use {p}.MetricStat."
        )));
    }
    if ms.is_null() {
        return Err(ApiError::missing(&format!("{p}.MetricStat")));
    }
    let mp = format!("{p}.MetricStat.Metric");
    let metric = ms.get("Metric");
    if metric.is_null() {
        return Err(ApiError::missing(&mp));
    }
    let namespace = request::req_name(metric.get("Namespace"), &format!("{mp}.Namespace"), 255)?;
    let name = request::req_name(metric.get("MetricName"), &format!("{mp}.MetricName"), 255)?;
    let dims = request::dimensions(metric.get("Dimensions"), &format!("{mp}.Dimensions"))?;
    let period = request::period(ms.get("Period"), &format!("{p}.MetricStat.Period"))?;
    let (stat, _) = request::stat(ms.get("Stat"), &format!("{p}.MetricStat.Stat"))?;
    let unit = request::opt_unit(ms.get("Unit"), &format!("{p}.MetricStat.Unit"))?;
    let label = request::opt_str(q.get("Label"), &format!("{p}.Label"))?.map(str::to_owned);
    let return_data =
        request::opt_bool(q.get("ReturnData"), &format!("{p}.ReturnData"))?.unwrap_or(true);
    Ok(Query {
        id: id.to_owned(),
        label,
        metric: MetricId::new(namespace, name, dims),
        period,
        stat,
        unit,
        return_data,
    })
}

/// GetMetricData.
pub fn data(store: &Store, input: &Node) -> ApiResult<Out> {
    let items = request::list(input.get("MetricDataQueries"), "MetricDataQueries")?;
    if items.is_empty() {
        return Err(ApiError::missing("MetricDataQueries"));
    }
    if items.len() > MAX_QUERIES {
        return Err(ApiError::invalid(format!(
            "The collection MetricDataQueries must not have a size greater than {MAX_QUERIES}."
        )));
    }
    let (start, end) = request::time_range(input)?;
    let descending = match request::opt_str(input.get("ScanBy"), "ScanBy")? {
        None | Some("TimestampDescending") => true,
        Some("TimestampAscending") => false,
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "The value {other} for parameter ScanBy is invalid: use TimestampDescending or TimestampAscending."
            )));
        }
    };
    if let Some(max) = request::opt_i64(input.get("MaxDatapoints"), "MaxDatapoints")?
        && max < 1
    {
        return Err(ApiError::invalid(format!(
            "The value {max} for parameter MaxDatapoints is invalid."
        )));
    }
    // Every answer fits in one page, so no token this service issued can exist.
    if let Some(t) = request::opt_str(input.get("NextToken"), "NextToken")?
        && !t.is_empty()
    {
        return Err(ApiError {
            code: "InvalidNextToken",
            message: format!("The value {t} for parameter NextToken is invalid."),
        });
    }
    let mut queries = Vec::with_capacity(items.len());
    let mut seen = HashSet::new();
    for (i, q) in items.iter().enumerate() {
        let p = format!("MetricDataQueries.member.{}", i + 1);
        let q = query(q, &p)?;
        if !seen.insert(q.id.clone()) {
            return Err(ApiError::invalid(format!(
                "The value {} for parameter {p}.Id is used by another query: Ids must be unique.",
                q.id
            )));
        }
        queries.push(q);
    }
    let results = queries
        .iter()
        .filter(|q| q.return_data)
        .map(|q| {
            let mut points: Vec<(i64, f64)> = store
                .aggregate(&q.metric, start, end, q.period, q.unit)
                .iter()
                .filter_map(|b| b.value(q.stat).map(|v| (b.start, v)))
                .collect();
            if descending {
                points.reverse();
            }
            Out::Struct(vec![
                ("Id", Out::Str(q.id.clone())),
                (
                    "Label",
                    Out::Str(q.label.clone().unwrap_or_else(|| q.metric.name.clone())),
                ),
                (
                    "Timestamps",
                    Out::List(points.iter().map(|(t, _)| Out::Time(*t)).collect()),
                ),
                (
                    "Values",
                    Out::List(points.iter().map(|(_, v)| Out::Num(*v)).collect()),
                ),
                ("StatusCode", Out::Str("Complete".into())),
            ])
        })
        .collect();
    Ok(Out::Struct(vec![
        ("MetricDataResults", Out::List(results)),
        ("Messages", Out::List(Vec::new())),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::stats::{Point, Unit};
    use crate::metrics::store::Retention;

    const NOW: i64 = 1_795_687_200_000;

    fn node(v: serde_json::Value) -> Node {
        Node::from_json(v.to_string().as_bytes()).unwrap()
    }

    fn store(dir: &std::path::Path) -> Store {
        let s = Store::open(dir, Retention::default(), NOW).unwrap();
        let id = MetricId::new("N", "M", vec![("D".into(), "1".into())]);
        let count = Unit::parse_lenient("Count");
        let ms = Unit::parse_lenient("Milliseconds");
        s.record(
            vec![
                (id.clone(), Point::value(NOW - 290_000, 1.0, count)),
                (id.clone(), Point::value(NOW - 170_000, 2.0, count)),
                (id.clone(), Point::value(NOW - 10_000, 4.0, ms)),
            ],
            NOW,
        );
        s
    }

    fn query(stat: &str, period: i64, unit: Option<&str>) -> serde_json::Value {
        let mut ms = serde_json::json!({"Metric": {"Namespace": "N", "MetricName": "M", "Dimensions": [{"Name": "D", "Value": "1"}]},
            "Period": period, "Stat": stat});
        if let Some(u) = unit {
            ms["Unit"] = u.into();
        }
        serde_json::json!({"Id": "q", "MetricStat": ms})
    }

    #[test]
    fn wider_periods_and_unit_filters() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let window = |q: serde_json::Value| {
            node(
                serde_json::json!({"MetricDataQueries": [q], "StartTime": (NOW - 600_000) / 1000,
                "EndTime": NOW / 1000, "ScanBy": "TimestampAscending"}),
            )
        };
        let v = data(&s, &window(query("Sum", 300, None)))
            .unwrap()
            .to_json();
        // 5-minute periods aligned to the epoch: NOW is a whole hour.
        let r = &v["MetricDataResults"][0];
        assert_eq!(r["Timestamps"], serde_json::json!([(NOW - 300_000) / 1000]));
        assert_eq!(r["Values"], serde_json::json!([7.0]));
        let v = data(&s, &window(query("Sum", 60, Some("Count"))))
            .unwrap()
            .to_json();
        assert_eq!(
            v["MetricDataResults"][0]["Values"],
            serde_json::json!([1.0, 2.0])
        );
        // Other dimension sets are other metrics.
        let mut q = query("Sum", 60, None);
        q["MetricStat"]["Metric"]["Dimensions"] = serde_json::json!([]);
        let v = data(&s, &window(q)).unwrap().to_json();
        assert_eq!(v["MetricDataResults"][0]["Values"], serde_json::json!([]));
    }

    #[test]
    fn query_errors() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let call = |queries: serde_json::Value| {
            data(
                &s,
                &node(
                    serde_json::json!({"MetricDataQueries": queries, "StartTime": 1, "EndTime": 2}),
                ),
            )
            .unwrap_err()
        };
        let e = call(serde_json::json!([
            query("Sum", 60, None),
            query("Sum", 60, None)
        ]));
        assert!(e.message.contains("MetricDataQueries.member.2.Id"), "{e}");
        let mut q = query("Sum", 60, None);
        q["Id"] = "Upper".into();
        assert!(call(serde_json::json!([q])).message.contains("lowercase"));
        let e = call(serde_json::json!([{"Id": "a"}]));
        assert_eq!(
            (e.code, e.message.contains("MetricStat")),
            ("MissingParameter", true)
        );
        let e = call(serde_json::json!([]));
        assert_eq!(e.code, "MissingParameter");
        let e = data(&s, &node(serde_json::json!({"MetricDataQueries": [query("Sum", 60, None)], "StartTime": 5, "EndTime": 2})))
            .unwrap_err();
        assert!(e.message.contains("StartTime"), "{e}");
        let e = data(
            &s,
            &node(serde_json::json!({"MetricDataQueries": [query("Sum", 60, None)], "StartTime": 1, "EndTime": 2, "ScanBy": "Up"})),
        )
        .unwrap_err();
        assert!(e.message.contains("ScanBy"), "{e}");
        let e = statistics(
            &s,
            &node(serde_json::json!({"Namespace": "N", "MetricName": "M", "StartTime": 1, "EndTime": 2, "Period": 60,
                "Statistics": ["Median"]})),
        )
        .unwrap_err();
        assert!(e.message.contains("Statistics.member.1"), "{e}");
    }
}
