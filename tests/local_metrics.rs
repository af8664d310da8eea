//! CloudWatch metrics of the local cloud, driven through the real
//! aws-sdk-cloudwatch (rpcv2Cbor) and through hand-signed awsJson1_0 and
//! awsQuery requests (the AWS CLI's and boto3's protocols): PutMetricData,
//! GetMetricStatistics, GetMetricData, ListMetrics, errors, the supervisor's
//! EMF lines, Lambda's own metrics, and state across a restart.

use aws_sdk_cloudwatch::error::ProvideErrorMetadata;
use aws_sdk_cloudwatch::primitives::{DateTime, DateTimeFormat};
use aws_sdk_cloudwatch::types::{
    Dimension, DimensionFilter, Metric, MetricDataQuery, MetricDatum, MetricStat, ScanBy,
    StandardUnit, Statistic, StatisticSet,
};
use scar_local::metrics::Datum;
use serde_json::{Value, json};

use crate::util::{self, Cloud};

const MINUTE: i64 = 60_000;

/// A whole minute ten minutes ago: every test's points sit in the three
/// minutes after it, well inside what PutMetricData accepts.
fn base() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    now / MINUTE * MINUTE - 10 * MINUTE
}

fn dt(ms: i64) -> DateTime {
    DateTime::from_millis(ms)
}

fn ms(t: Option<&DateTime>) -> i64 {
    t.expect("timestamp").to_millis().expect("millis")
}

fn dim(name: &str, value: &str) -> Dimension {
    Dimension::builder().name(name).value(value).build()
}

fn iso(ms: i64) -> String {
    dt(ms).fmt(DateTimeFormat::DateTime).expect("iso 8601")
}

/// Latency{Service=api}: minute 0 holds 1, 2, 3; minute 1 holds 10 once and
/// 20 three times (Values + Counts); minute 2 a statistic set (4 samples,
/// sum 40, 5..15). Errors{Service=web} holds one 1.
async fn put_sample(cw: &aws_sdk_cloudwatch::Client, base: i64) {
    let latency = |t: i64| {
        MetricDatum::builder()
            .metric_name("Latency")
            .dimensions(dim("Service", "api"))
            .timestamp(dt(t))
            .unit(StandardUnit::Milliseconds)
    };
    cw.put_metric_data()
        .namespace("App")
        .metric_data(latency(base + 5_000).value(1.0).build())
        .metric_data(latency(base + 10_000).value(2.0).build())
        .metric_data(latency(base + 20_000).value(3.0).build())
        .metric_data(
            latency(base + MINUTE + 1_000)
                .values(10.0)
                .values(20.0)
                .counts(1.0)
                .counts(3.0)
                .build(),
        )
        .metric_data(
            latency(base + 2 * MINUTE)
                .statistic_values(
                    StatisticSet::builder()
                        .sample_count(4.0)
                        .sum(40.0)
                        .minimum(5.0)
                        .maximum(15.0)
                        .build(),
                )
                .build(),
        )
        .metric_data(
            MetricDatum::builder()
                .metric_name("Errors")
                .dimensions(dim("Service", "web"))
                .timestamp(dt(base + 30_000))
                .value(1.0)
                .unit(StandardUnit::Count)
                .build(),
        )
        .send()
        .await
        .expect("PutMetricData");
}

fn stat_query(id: &str, name: &str, dims: Vec<Dimension>, ns: &str, stat: &str) -> MetricDataQuery {
    let metric = Metric::builder()
        .namespace(ns)
        .metric_name(name)
        .set_dimensions(Some(dims))
        .build();
    MetricDataQuery::builder()
        .id(id)
        .metric_stat(
            MetricStat::builder()
                .metric(metric)
                .period(60)
                .stat(stat)
                .build(),
        )
        .build()
}

/// Checks the sample through the SDK (GetMetricStatistics, GetMetricData, ListMetrics).
async fn check_sample(cw: &aws_sdk_cloudwatch::Client, base: i64) {
    let stats = cw
        .get_metric_statistics()
        .namespace("App")
        .metric_name("Latency")
        .dimensions(dim("Service", "api"))
        .start_time(dt(base))
        .end_time(dt(base + 3 * MINUTE))
        .period(60)
        .set_statistics(Some(vec![
            Statistic::SampleCount,
            Statistic::Average,
            Statistic::Sum,
            Statistic::Minimum,
            Statistic::Maximum,
        ]))
        .extended_statistics("p50")
        .send()
        .await
        .expect("GetMetricStatistics");
    assert_eq!(stats.label(), Some("Latency"));
    let mut dps = stats.datapoints().to_vec();
    dps.sort_by_key(|d| ms(d.timestamp()));
    let got: Vec<_> = dps
        .iter()
        .map(|d| {
            (
                ms(d.timestamp()) - base,
                d.sample_count(),
                d.sum(),
                d.average(),
                d.minimum(),
                d.maximum(),
                d.extended_statistics().and_then(|e| e.get("p50").copied()),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                0,
                Some(3.0),
                Some(6.0),
                Some(2.0),
                Some(1.0),
                Some(3.0),
                Some(2.0)
            ),
            (
                MINUTE,
                Some(4.0),
                Some(70.0),
                Some(17.5),
                Some(10.0),
                Some(20.0),
                Some(20.0)
            ),
            // A statistic set with Minimum != Maximum gives no percentile.
            (
                2 * MINUTE,
                Some(4.0),
                Some(40.0),
                Some(10.0),
                Some(5.0),
                Some(15.0),
                None
            ),
        ]
    );
    assert!(
        dps.iter()
            .all(|d| d.unit() == Some(&StandardUnit::Milliseconds))
    );

    let api = || vec![dim("Service", "api")];
    let data = cw
        .get_metric_data()
        .metric_data_queries(stat_query("sum", "Latency", api(), "App", "Sum"))
        .metric_data_queries(
            MetricDataQuery::builder()
                .label("median")
                .set_id(Some("med".into()))
                .set_metric_stat(stat_query("x", "Latency", api(), "App", "p50").metric_stat)
                .build(),
        )
        .metric_data_queries(
            MetricDataQuery::builder()
                .return_data(false)
                .set_id(Some("hidden".into()))
                .set_metric_stat(stat_query("x", "Latency", api(), "App", "Maximum").metric_stat)
                .build(),
        )
        .start_time(dt(base))
        .end_time(dt(base + 3 * MINUTE))
        .scan_by(ScanBy::TimestampAscending)
        .send()
        .await
        .expect("GetMetricData");
    let results = data.metric_data_results();
    assert_eq!(results.len(), 2, "ReturnData false is left out");
    let series = |i: usize| -> (Vec<i64>, Vec<f64>) {
        let r = &results[i];
        (
            r.timestamps().iter().map(|t| ms(Some(t)) - base).collect(),
            r.values().to_vec(),
        )
    };
    assert_eq!(results[0].id(), Some("sum"));
    assert_eq!(results[0].label(), Some("Latency"));
    assert_eq!(
        results[0].status_code(),
        Some(&aws_sdk_cloudwatch::types::StatusCode::Complete)
    );
    assert_eq!(
        series(0),
        (vec![0, MINUTE, 2 * MINUTE], vec![6.0, 70.0, 40.0])
    );
    assert_eq!(results[1].label(), Some("median"));
    assert_eq!(series(1), (vec![0, MINUTE], vec![2.0, 20.0]));

    // Newest first by default, as on CloudWatch.
    let desc = cw
        .get_metric_data()
        .metric_data_queries(stat_query("n", "Latency", api(), "App", "SampleCount"))
        .start_time(dt(base))
        .end_time(dt(base + 3 * MINUTE))
        .send()
        .await
        .expect("GetMetricData descending");
    assert_eq!(desc.metric_data_results()[0].values(), &[4.0, 4.0, 3.0]);

    let list = |name: Option<&str>, filter: Option<DimensionFilter>| {
        let mut r = cw.list_metrics().namespace("App");
        if let Some(n) = name {
            r = r.metric_name(n);
        }
        if let Some(f) = filter {
            r = r.dimensions(f);
        }
        async move {
            let mut names: Vec<String> = r
                .send()
                .await
                .expect("ListMetrics")
                .metrics()
                .iter()
                .map(|m| m.metric_name().unwrap_or_default().to_owned())
                .collect();
            names.sort();
            names
        }
    };
    assert_eq!(list(None, None).await, vec!["Errors", "Latency"]);
    assert_eq!(list(Some("Errors"), None).await, vec!["Errors"]);
    let api_only = DimensionFilter::builder()
        .name("Service")
        .value("api")
        .build();
    assert_eq!(list(None, Some(api_only)).await, vec!["Latency"]);
    let any_service = DimensionFilter::builder().name("Service").build();
    assert_eq!(
        list(None, Some(any_service)).await,
        vec!["Errors", "Latency"]
    );
    let all = cw.list_metrics().send().await.expect("ListMetrics all");
    let m = all
        .metrics()
        .iter()
        .find(|m| m.metric_name() == Some("Latency"))
        .expect("Latency listed");
    assert_eq!(m.namespace(), Some("App"));
    assert_eq!(m.dimensions(), &[dim("Service", "api")]);
}

#[tokio::test(flavor = "multi_thread")]
async fn sdk_put_then_statistics_data_and_list() {
    let c = Cloud::start().await;
    let cw = util::cloudwatch(c.get(), None);
    let base = base();
    put_sample(&cw, base).await;
    check_sample(&cw, base).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sdk_errors_are_cloudwatch_errors() {
    let c = Cloud::start().await;
    let cw = util::cloudwatch(c.get(), None);
    let base = base();

    let e = cw
        .put_metric_data()
        .namespace("AWS/Lambda")
        .metric_data(MetricDatum::builder().metric_name("X").value(1.0).build())
        .send()
        .await
        .expect_err("AWS/ is reserved")
        .into_service_error();
    assert!(e.is_invalid_parameter_value_exception(), "{e:?}");
    assert!(
        e.message().unwrap_or_default().contains("Namespace"),
        "{e:?}"
    );

    let e = cw
        .put_metric_data()
        .namespace("App")
        .metric_data(
            MetricDatum::builder()
                .metric_name("X")
                .value(1.0)
                .statistic_values(
                    StatisticSet::builder()
                        .sample_count(1.0)
                        .sum(1.0)
                        .minimum(1.0)
                        .maximum(1.0)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect_err("Value and StatisticValues together")
        .into_service_error();
    assert!(e.is_invalid_parameter_combination_exception(), "{e:?}");
    assert!(
        e.message()
            .unwrap_or_default()
            .contains("MetricData.member.1.Value"),
        "{e:?}"
    );

    let stats = || {
        cw.get_metric_statistics()
            .namespace("App")
            .metric_name("Latency")
            .start_time(dt(base))
            .end_time(dt(base + MINUTE))
    };
    let e = stats()
        .period(61)
        .statistics(Statistic::Sum)
        .send()
        .await
        .expect_err("bad period")
        .into_service_error();
    assert!(e.is_invalid_parameter_value_exception(), "{e:?}");
    assert!(e.message().unwrap_or_default().contains("Period"), "{e:?}");
    let e = stats()
        .period(60)
        .send()
        .await
        .expect_err("no statistics")
        .into_service_error();
    assert!(e.is_invalid_parameter_combination_exception(), "{e:?}");
    let e = cw
        .get_metric_statistics()
        .namespace("App")
        .metric_name("Latency")
        .period(60)
        .statistics(Statistic::Sum)
        .send()
        .await
        .expect_err("no times")
        .into_service_error();
    assert!(e.is_missing_required_parameter_exception(), "{e:?}");
    assert!(
        e.message().unwrap_or_default().contains("StartTime"),
        "{e:?}"
    );
    let e = stats()
        .start_time(dt(base - 30 * 24 * 60 * MINUTE))
        .period(60)
        .statistics(Statistic::Sum)
        .send()
        .await
        .expect_err("too many datapoints")
        .into_service_error();
    assert!(e.is_invalid_parameter_combination_exception(), "{e:?}");

    let e = cw
        .get_metric_data()
        .metric_data_queries(
            MetricDataQuery::builder()
                .id("e1")
                .expression("SUM(METRICS())")
                .build(),
        )
        .start_time(dt(base))
        .end_time(dt(base + MINUTE))
        .send()
        .await
        .expect_err("expressions are not supported");
    assert_eq!(e.code(), Some("InvalidParameterValue"), "{e:?}");
    assert!(
        e.message().unwrap_or_default().contains("Expression"),
        "{e:?}"
    );
    let e = cw
        .get_metric_data()
        .metric_data_queries(stat_query("m", "Latency", vec![], "App", "p1000"))
        .start_time(dt(base))
        .end_time(dt(base + MINUTE))
        .send()
        .await
        .expect_err("bad stat");
    assert_eq!(e.code(), Some("InvalidParameterValue"), "{e:?}");
    assert!(
        e.message().unwrap_or_default().contains("MetricStat.Stat"),
        "{e:?}"
    );

    // A wrong secret is refused before any of this.
    let bad = util::cloudwatch(c.get(), Some("not-the-secret"));
    let e = bad.list_metrics().send().await.expect_err("wrong key");
    assert_eq!(e.code(), Some("InvalidSignatureException"), "{e:?}");
}

/// An EMF line exactly as the supervisor builds it (supervisor/src/metrics.rs).
fn supervisor_line(function: &str, cache_hit: bool, script_ms: u64, ts: i64) -> String {
    let metrics = [
        ("CacheHit", "Count"),
        ("PullMs", "Milliseconds"),
        ("UnpackMs", "Milliseconds"),
        ("ScriptMs", "Milliseconds"),
        ("UploadMs", "Milliseconds"),
        ("ExitCode", "None"),
        ("InputBytes", "Bytes"),
        ("OutputBytes", "Bytes"),
    ];
    let defs: Vec<Value> = metrics
        .iter()
        .map(|(n, u)| json!({"Name": n, "Unit": u}))
        .collect();
    json!({
        "_aws": {"Timestamp": ts, "CloudWatchMetrics": [{"Namespace": "SCAR", "Dimensions": [["FunctionName"]], "Metrics": defs}]},
        "FunctionName": function, "CacheHit": u8::from(cache_hit), "PullMs": 120, "UnpackMs": 30,
        "ScriptMs": script_ms, "UploadMs": 4, "ExitCode": 0, "InputBytes": 2048, "OutputBytes": 512,
        "RequestId": "r-1", "InputKey": "in/a.jpg", "ImageDigest": "sha256:ab", "Status": "succeeded",
    })
    .to_string()
}

async fn check_emf(cw: &aws_sdk_cloudwatch::Client, base: i64) {
    let f = || vec![dim("FunctionName", "thumbs")];
    let data = cw
        .get_metric_data()
        .metric_data_queries(stat_query("hits", "CacheHit", f(), "SCAR", "Sum"))
        .metric_data_queries(stat_query("runs", "CacheHit", f(), "SCAR", "SampleCount"))
        .metric_data_queries(stat_query("script", "ScriptMs", f(), "SCAR", "Average"))
        .metric_data_queries(stat_query("script_p50", "ScriptMs", f(), "SCAR", "p50"))
        .start_time(dt(base))
        .end_time(dt(base + 3 * MINUTE))
        .send()
        .await
        .expect("GetMetricData SCAR");
    let values: Vec<(String, Vec<f64>)> = data
        .metric_data_results()
        .iter()
        .map(|r| (r.id().unwrap_or_default().to_owned(), r.values().to_vec()))
        .collect();
    assert_eq!(
        values,
        vec![
            ("hits".to_owned(), vec![2.0]),
            ("runs".to_owned(), vec![3.0]),
            ("script".to_owned(), vec![20.0]),
            ("script_p50".to_owned(), vec![20.0]),
        ]
    );
    let listed = cw
        .list_metrics()
        .namespace("SCAR")
        .dimensions(
            DimensionFilter::builder()
                .name("FunctionName")
                .value("thumbs")
                .build(),
        )
        .send()
        .await
        .expect("ListMetrics SCAR");
    assert_eq!(listed.metrics().len(), 8);
}

#[tokio::test(flavor = "multi_thread")]
async fn supervisor_emf_lines_become_scar_metrics() {
    let c = Cloud::start().await;
    let cw = util::cloudwatch(c.get(), None);
    let base = base();
    let store = c.get().metrics();
    for (i, (hit, script)) in [(false, 30), (true, 20), (true, 10)]
        .into_iter()
        .enumerate()
    {
        let ts = base + 1_000 * (i as i64 + 1);
        assert!(store.ingest_emf(&supervisor_line("thumbs", hit, script, ts), ts));
    }
    assert!(!store.ingest_emf("START RequestId: r-1 Version: $LATEST", base));
    check_emf(&cw, base).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn lambda_metrics_are_queryable() {
    let c = Cloud::start().await;
    let cw = util::cloudwatch(c.get(), None);
    let base = base();
    let store = c.get().metrics();
    let datum = |name: &str, t: i64, value: f64, unit: &str| Datum {
        namespace: "AWS/Lambda".into(),
        name: name.into(),
        dimensions: vec![("FunctionName".into(), "thumbs".into())],
        timestamp: t,
        value,
        unit: unit.into(),
    };
    for i in 0..10 {
        let t = base + i * 5_000;
        store.put(datum("Invocations", t, 1.0, "Count"));
        store.put(datum(
            "Duration",
            t,
            100.0 + i as f64 * 10.0,
            "Milliseconds",
        ));
        store.put(datum("ConcurrentExecutions", t, (i % 4) as f64, "Count"));
    }
    store.put(datum("Errors", base, 1.0, "Count"));
    store.put(datum("Throttles", base, 0.0, "Count"));
    let stats = |name: &str| {
        cw.get_metric_statistics()
            .namespace("AWS/Lambda")
            .metric_name(name)
            .dimensions(dim("FunctionName", "thumbs"))
            .start_time(dt(base))
            .end_time(dt(base + MINUTE))
            .period(60)
    };
    let inv = stats("Invocations")
        .statistics(Statistic::Sum)
        .send()
        .await
        .expect("Invocations");
    assert_eq!(inv.datapoints()[0].sum(), Some(10.0));
    let dur = stats("Duration")
        .extended_statistics("p90")
        .send()
        .await
        .expect("Duration");
    let p90 = dur.datapoints()[0]
        .extended_statistics()
        .and_then(|e| e.get("p90").copied());
    assert_eq!(p90, Some(180.0));
    let conc = stats("ConcurrentExecutions")
        .statistics(Statistic::Maximum)
        .send()
        .await
        .expect("ConcurrentExecutions");
    assert_eq!(conc.datapoints()[0].maximum(), Some(3.0));
    let listed = cw
        .list_metrics()
        .namespace("AWS/Lambda")
        .send()
        .await
        .expect("ListMetrics AWS/Lambda");
    assert_eq!(listed.metrics().len(), 5);
    // The console's direct read helper agrees.
    let sums = store.query(
        "AWS/Lambda",
        "Invocations",
        &[("FunctionName".into(), "thumbs".into())],
        base,
        base + MINUTE,
        60,
        scar_local::metrics::Stat::Sum,
    );
    assert_eq!(sums, vec![(base, 10.0)]);
}

#[tokio::test(flavor = "multi_thread")]
async fn state_survives_a_restart() {
    let mut c = Cloud::start().await;
    let base = base();
    {
        let cw = util::cloudwatch(c.get(), None);
        put_sample(&cw, base).await;
        let store = c.get().metrics();
        for (i, (hit, script)) in [(false, 30), (true, 20), (true, 10)]
            .into_iter()
            .enumerate()
        {
            let ts = base + 1_000 * (i as i64 + 1);
            assert!(store.ingest_emf(&supervisor_line("thumbs", hit, script, ts), ts));
        }
    }
    c.restart().await;
    let cw = util::cloudwatch(c.get(), None);
    check_sample(&cw, base).await;
    check_emf(&cw, base).await;
}

fn json_headers(op: &str) -> [(&'static str, String); 2] {
    [
        ("content-type", "application/x-amz-json-1.0".to_owned()),
        (
            "x-amz-target",
            format!("GraniteServiceVersion20100801.{op}"),
        ),
    ]
}

async fn json_call(
    cloud: &scar_local::LocalCloud,
    op: &str,
    body: Value,
) -> (u16, Value, util::RawResponse) {
    let h = json_headers(op);
    let headers: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = util::signed_post(cloud, "monitoring", &headers, body.to_string().as_bytes()).await;
    let v: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    (r.status, v, r)
}

#[tokio::test(flavor = "multi_thread")]
async fn aws_json_1_0_protocol() {
    let c = Cloud::start().await;
    let cloud = c.get();
    let base = base();
    let secs = |ms: i64| ms / 1000;
    let (status, _, r) = json_call(
        cloud,
        "PutMetricData",
        json!({"Namespace": "Cli", "MetricData": [
            {"MetricName": "Hits", "Dimensions": [{"Name": "Service", "Value": "api"}], "Timestamp": secs(base + 1_000), "Value": 1, "Unit": "Count"},
            {"MetricName": "Hits", "Dimensions": [{"Name": "Service", "Value": "api"}], "Timestamp": (base + 2_500) as f64 / 1000.0, "Values": [2, 5], "Counts": [1, 2], "Unit": "Count"},
        ]}),
    )
    .await;
    assert_eq!(status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/x-amz-json-1.0"));

    let dims = json!([{"Name": "Service", "Value": "api"}]);
    let (status, v, r) = json_call(
        cloud,
        "GetMetricStatistics",
        json!({"Namespace": "Cli", "MetricName": "Hits", "Dimensions": dims, "StartTime": secs(base),
               "EndTime": secs(base + MINUTE), "Period": 60, "Statistics": ["Sum", "SampleCount"], "ExtendedStatistics": ["p50"]}),
    )
    .await;
    assert_eq!(status, 200, "{}", r.text());
    assert_eq!(
        v,
        json!({"Label": "Hits", "Datapoints": [{"Timestamp": secs(base), "SampleCount": 4.0, "Sum": 13.0, "Unit": "Count",
               "ExtendedStatistics": {"p50": 2.0}}]})
    );

    let (status, v, r) = json_call(
        cloud,
        "GetMetricData",
        json!({"MetricDataQueries": [{"Id": "m1", "MetricStat": {"Metric": {"Namespace": "Cli", "MetricName": "Hits", "Dimensions": dims},
               "Period": 60, "Stat": "Maximum"}}], "StartTime": secs(base), "EndTime": secs(base + MINUTE)}),
    )
    .await;
    assert_eq!(status, 200, "{}", r.text());
    assert_eq!(
        v["MetricDataResults"],
        json!([{"Id": "m1", "Label": "Hits", "Timestamps": [secs(base)], "Values": [5.0], "StatusCode": "Complete"}])
    );

    let (status, v, _) = json_call(cloud, "ListMetrics", json!({"Namespace": "Cli"})).await;
    assert_eq!(status, 200);
    assert_eq!(
        v,
        json!({"Metrics": [{"Namespace": "Cli", "MetricName": "Hits", "Dimensions": [{"Name": "Service", "Value": "api"}]}]})
    );

    let (status, v, r) = json_call(
        cloud,
        "PutMetricData",
        json!({"Namespace": "Cli", "MetricData": [{"Value": 1}]}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(v["__type"], "MissingParameter");
    assert!(
        v["message"]
            .as_str()
            .unwrap_or_default()
            .contains("MetricData.member.1.MetricName"),
        "{v}"
    );
    assert_eq!(
        r.header("x-amzn-query-error"),
        Some("MissingParameter;Sender")
    );

    let (status, v, _) = json_call(cloud, "DescribeAlarms", json!({})).await;
    assert_eq!(status, 400);
    assert_eq!(v["__type"], "UnknownOperationException");

    let h = json_headers("ListMetrics");
    let headers: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = util::signed_post(cloud, "monitoring", &headers, b"{not json").await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("SerializationException"), "{}", r.text());
}

async fn query_call(cloud: &scar_local::LocalCloud, form: &str) -> util::RawResponse {
    let headers = [(
        "content-type",
        "application/x-www-form-urlencoded; charset=utf-8",
    )];
    util::signed_post(cloud, "monitoring", &headers, form.as_bytes()).await
}

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn aws_query_protocol() {
    let c = Cloud::start().await;
    let cloud = c.get();
    let base = base();
    let d = "Dimensions.member.1.Name=Service&Dimensions.member.1.Value=api";
    let form = format!(
        "Action=PutMetricData&Version=2010-08-01&Namespace=Cli&MetricData.member.1.MetricName=Hits\
&MetricData.member.1.Value=4&MetricData.member.1.Unit=Count&MetricData.member.1.Timestamp={}&MetricData.member.1.Dimensions.member.1.Name=Service\
&MetricData.member.1.Dimensions.member.1.Value=api",
        enc(&iso(base + 1_000)),
    );
    let r = query_call(cloud, &form).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("<PutMetricDataResponse"), "{}", r.text());

    let r = query_call(
        cloud,
        &format!(
            "Action=GetMetricStatistics&Version=2010-08-01&Namespace=Cli&MetricName=Hits&{d}&StartTime={}&EndTime={}&Period=60\
&Statistics.member.1=Sum&Statistics.member.2=Maximum&ExtendedStatistics.member.1=p99",
            enc(&iso(base)),
            enc(&iso(base + MINUTE))
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("text/xml"));
    let text = r.text();
    let expected = format!(
        "<GetMetricStatisticsResult><Label>Hits</Label><Datapoints><member><Timestamp>{}</Timestamp><Sum>4</Sum><Maximum>4</Maximum>\
<Unit>Count</Unit><ExtendedStatistics><entry><key>p99</key><value>4</value></entry></ExtendedStatistics></member></Datapoints></GetMetricStatisticsResult>",
        iso(base)
    );
    assert!(text.contains(&expected), "{text}");

    let r = query_call(
        cloud,
        &format!(
            "Action=GetMetricData&Version=2010-08-01&MetricDataQueries.member.1.Id=q&MetricDataQueries.member.1.MetricStat.Metric.Namespace=Cli\
&MetricDataQueries.member.1.MetricStat.Metric.MetricName=Hits\
&MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Name=Service\
&MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Value=api\
&MetricDataQueries.member.1.MetricStat.Period=60&MetricDataQueries.member.1.MetricStat.Stat=Sum&StartTime={}&EndTime={}",
            enc(&iso(base)),
            enc(&iso(base + MINUTE))
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let expected = format!(
        "<MetricDataResults><member><Id>q</Id><Label>Hits</Label><Timestamps><member>{}</member></Timestamps><Values><member>4</member></Values>\
<StatusCode>Complete</StatusCode></member></MetricDataResults>",
        iso(base)
    );
    assert!(r.text().contains(&expected), "{}", r.text());

    let r = query_call(
        cloud,
        "Action=ListMetrics&Version=2010-08-01&Dimensions.member.1.Name=Service",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.text().contains(
            "<ListMetricsResult><Metrics><member><Namespace>Cli</Namespace><MetricName>Hits</MetricName><Dimensions><member><Name>Service</Name><Value>api</Value></member></Dimensions></member></Metrics></ListMetricsResult>"
        ),
        "{}",
        r.text()
    );

    let r = query_call(
        cloud,
        "Action=GetMetricStatistics&Version=2010-08-01&Namespace=Cli&Period=60",
    )
    .await;
    assert_eq!(r.status, 400);
    let text = r.text();
    assert!(
        text.contains("<ErrorResponse") && text.contains("<Code>MissingParameter</Code>"),
        "{text}"
    );
    assert!(text.contains("MetricName"), "{text}");

    let r = query_call(cloud, "Action=DescribeAlarms&Version=2010-08-01").await;
    assert_eq!(r.status, 400);
    assert!(
        r.text().contains("<Code>InvalidAction</Code>"),
        "{}",
        r.text()
    );
}
