//! The local cloud end to end, only through the AWS SDKs: S3 notifications
//! trigger the real supervisor, outputs land in S3, and CloudWatch Logs
//! holds Lambda's START/END/REPORT lines and one metrics line per request.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Environment, FunctionCode, InvocationType, Runtime};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    Event, FilterRule, FilterRuleName, LambdaFunctionConfiguration, NotificationConfiguration,
    NotificationConfigurationFilter, S3KeyFilter,
};
use base64::Engine;
use serde_json::Value;

use crate::util::*;

const ROLE: &str = "arn:aws:iam::000000000000:role/scar";
const SCRIPT: &str = "name=$(basename \"$INPUT_FILE_PATH\")\ntr a-z A-Z < \"$INPUT_FILE_PATH\" > \"$TMP_OUTPUT_DIR/$name.out\"\necho processed $name\n";

async fn supervisor_fn(
    cloud: &Cloud,
    name: &str,
    script: &str,
    outputs: &str,
    reserved: Option<i32>,
) -> String {
    let client = lambda(cloud.get(), None);
    let image = busybox_image(cloud.dir.path());
    let env = Environment::builder()
        .variables("SCAR_IMAGE", image)
        .variables(
            "SCAR_SCRIPT",
            base64::engine::general_purpose::STANDARD.encode(script),
        )
        .variables("SCAR_OUTPUTS", outputs)
        .build();
    let out = client
        .create_function()
        .function_name(name)
        .runtime(Runtime::Providedal2023)
        .role(ROLE)
        .handler("bootstrap")
        .timeout(60)
        .memory_size(512)
        .environment(env)
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(zip_of(&supervisor_bootstrap(), None)))
                .build(),
        )
        .send()
        .await
        .expect("create_function");
    if let Some(n) = reserved {
        client
            .put_function_concurrency()
            .function_name(name)
            .reserved_concurrent_executions(n)
            .send()
            .await
            .unwrap();
    }
    out.function_arn().expect("arn").to_owned()
}

/// Every log line of a function's group, through FilterLogEvents pages.
async fn log_lines(cloud: &Cloud, function: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for e in &function_log_events(cloud.get(), function).await {
        out.push((
            e.log_stream_name().unwrap_or_default().to_owned(),
            e.message().unwrap_or_default().to_owned(),
        ));
    }
    out
}

fn request_id_after<'a>(line: &'a str, prefix: &str) -> Option<&'a str> {
    line.strip_prefix(prefix)?.split(['\t', ' ']).next()
}

#[tokio::test(flavor = "multi_thread")]
async fn twenty_objects_trigger_twenty_runs_with_logs_and_metrics() {
    let cloud = Cloud::start().await;
    let s3c = s3(cloud.get(), None);
    for b in ["input", "output"] {
        s3c.create_bucket()
            .bucket(b)
            .send()
            .await
            .expect("create_bucket");
    }
    let arn = supervisor_fn(
        &cloud,
        "upper",
        SCRIPT,
        r#"[{"bucket": "output", "prefix": "done/"}]"#,
        None,
    )
    .await;
    lambda(cloud.get(), None)
        .add_permission()
        .function_name("upper")
        .statement_id("s3")
        .action("lambda:InvokeFunction")
        .principal("s3.amazonaws.com")
        .source_arn("arn:aws:s3:::input")
        .send()
        .await
        .unwrap();
    let filter = NotificationConfigurationFilter::builder()
        .key(
            S3KeyFilter::builder()
                .filter_rules(
                    FilterRule::builder()
                        .name(FilterRuleName::Prefix)
                        .value("in/")
                        .build(),
                )
                .build(),
        )
        .build();
    s3c.put_bucket_notification_configuration()
        .bucket("input")
        .notification_configuration(
            NotificationConfiguration::builder()
                .lambda_function_configurations(
                    LambdaFunctionConfiguration::builder()
                        .id("upper")
                        .lambda_function_arn(&arn)
                        .events(Event::from("s3:ObjectCreated:*"))
                        .filter(filter)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .expect("notification configuration");

    for i in 0..20 {
        s3c.put_object()
            .bucket("input")
            .key(format!("in/file {i:02}.txt"))
            .body(ByteStream::from(format!("hello number {i}\n").into_bytes()))
            .send()
            .await
            .unwrap();
    }
    // Outside the prefix: no invocation.
    s3c.put_object()
        .bucket("input")
        .key("other/ignored.txt")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();

    let keys = eventually(Duration::from_secs(120), || {
        let s3c = s3c.clone();
        async move {
            let l = s3c.list_objects_v2().bucket("output").send().await.ok()?;
            let keys: Vec<String> = l
                .contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned))
                .collect();
            (keys.len() >= 20).then_some(keys)
        }
    })
    .await
    .expect("20 outputs appear");
    assert_eq!(keys.len(), 20, "{keys:?}");
    assert!(
        keys.contains(&"done/file 07.txt.out".to_owned()),
        "{keys:?}"
    );
    let body = object_bytes(&s3c, "output", "done/file 07.txt.out").await;
    assert_eq!(&body[..], b"HELLO NUMBER 7\n");

    // Logs: one START, END, REPORT and metrics line per request.
    let lines = eventually(Duration::from_secs(10), || {
        let cloud = &cloud;
        async move {
            let lines = log_lines(cloud, "upper").await;
            let reports = lines
                .iter()
                .filter(|(_, m)| m.starts_with("REPORT RequestId: "))
                .count();
            (reports >= 20).then_some(lines)
        }
    })
    .await
    .expect("20 REPORT lines");
    let ids = |prefix: &str| -> BTreeSet<String> {
        lines
            .iter()
            .filter_map(|(_, m)| request_id_after(m, prefix).map(str::to_owned))
            .collect()
    };
    let starts = ids("START RequestId: ");
    assert_eq!(starts.len(), 20);
    assert_eq!(ids("END RequestId: "), starts);
    assert_eq!(ids("REPORT RequestId: "), starts);
    let metrics: HashMap<String, Value> = lines
        .iter()
        .filter_map(|(_, m)| serde_json::from_str::<Value>(m).ok())
        .filter(|v| v.get("_aws").is_some())
        .map(|v| (v["RequestId"].as_str().unwrap_or_default().to_owned(), v))
        .collect();
    assert_eq!(
        metrics.keys().cloned().collect::<BTreeSet<_>>(),
        starts,
        "one metrics line per request"
    );
    for v in metrics.values() {
        assert_eq!(v["ExitCode"], 0);
        assert!(
            v["InputKey"].as_str().unwrap().starts_with("in/file "),
            "{v}"
        );
    }
    // Streams are named like Lambda's.
    for (stream, _) in &lines {
        assert!(
            stream.contains("/[$LATEST]") && stream.len() == 10 + 1 + 9 + 32,
            "{stream}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn async_burst_after_preheat_hits_the_cache_in_every_environment() {
    let cloud = Cloud::start().await;
    supervisor_fn(&cloud, "hot", "echo burst $REQUEST_ID\n", "[]", Some(3)).await;
    let client = lambda(cloud.get(), None);
    // Three preheat pings at once: three cold environments pull the image.
    let pings = (0..3).map(|_| {
        let c = client.clone();
        tokio::spawn(async move {
            c.invoke()
                .function_name("hot")
                .payload(Blob::new(br#"{"scar": "preheat"}"#.to_vec()))
                .send()
                .await
                .expect("preheat")
        })
    });
    for p in futures_util::future::join_all(pings).await {
        let out = p.unwrap();
        assert_eq!(out.function_error(), None);
        let v: Value = serde_json::from_slice(out.payload().unwrap().as_ref()).unwrap();
        assert_eq!(v["status"], "preheated");
    }
    let lambda_svc = cloud.get().lambda().clone();
    assert_eq!(lambda_svc.warm_environments("hot"), 3);

    for _ in 0..12 {
        client
            .invoke()
            .function_name("hot")
            .invocation_type(InvocationType::Event)
            .payload(Blob::new(b"{}".to_vec()))
            .send()
            .await
            .unwrap();
    }
    let l = lambda_svc.clone();
    eventually(Duration::from_secs(60), || {
        let l = l.clone();
        async move { (l.queued_events() == 0).then_some(()) }
    })
    .await
    .expect("burst drained");
    assert!(lambda_svc.environments("hot") <= 3);
    let lines = eventually(Duration::from_secs(10), || {
        let cloud = &cloud;
        async move {
            let lines = log_lines(cloud, "hot").await;
            let n = lines
                .iter()
                .filter(|(_, m)| m.contains("\"Status\":\"succeeded\""))
                .count();
            (n >= 12).then_some(lines)
        }
    })
    .await
    .expect("12 metrics lines");
    let burst: Vec<Value> = lines
        .iter()
        .filter_map(|(_, m)| serde_json::from_str::<Value>(m).ok())
        .filter(|v| v["Status"] == "succeeded")
        .collect();
    assert_eq!(burst.len(), 12);
    assert!(
        burst.iter().all(|v| v["CacheHit"] == 1),
        "every burst run hit the cache: {burst:?}"
    );
    let streams: BTreeSet<&str> = lines.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(streams.len(), 3, "three environments, three streams");
}
