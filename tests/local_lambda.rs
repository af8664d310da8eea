//! The local Lambda through aws-sdk-lambda: functions built from the real
//! supervisor `bootstrap`, cold and warm starts, concurrency limits,
//! timeouts, crashes, async retries, AWS's errors, and restarts.

use std::time::Duration;

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Environment, FunctionCode, InvocationType, LogType, Runtime};
use base64::Engine;
use serde_json::Value;

use scar_contract::time::Clock;

use crate::util::*;

const ROLE: &str = "arn:aws:iam::000000000000:role/scar";

async fn create(
    client: &aws_sdk_lambda::Client,
    name: &str,
    zip: Vec<u8>,
    vars: &[(&str, String)],
    timeout: i32,
) -> aws_sdk_lambda::operation::create_function::CreateFunctionOutput {
    let mut env = Environment::builder();
    for (k, v) in vars {
        env = env.variables(*k, v.clone());
    }
    client
        .create_function()
        .function_name(name)
        .runtime(Runtime::Providedal2023)
        .role(ROLE)
        .handler("bootstrap")
        .timeout(timeout)
        .memory_size(512)
        .environment(env.build())
        .code(FunctionCode::builder().zip_file(Blob::new(zip)).build())
        .send()
        .await
        .expect("create_function")
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// A supervisor function over the busybox demo image running `script`.
async fn supervisor_fn(
    client: &aws_sdk_lambda::Client,
    dir: &std::path::Path,
    name: &str,
    script: &str,
    timeout: i32,
) {
    let image = busybox_image(dir);
    create(
        client,
        name,
        zip_of(&supervisor_bootstrap(), None),
        &[("SCAR_IMAGE", image), ("SCAR_SCRIPT", b64(script))],
        timeout,
    )
    .await;
}

#[derive(Debug)]
struct Invoked {
    payload: Value,
    function_error: Option<String>,
    log: String,
}

async fn invoke(
    client: &aws_sdk_lambda::Client,
    name: &str,
    payload: &str,
) -> Result<Invoked, String> {
    let out = client
        .invoke()
        .function_name(name)
        .log_type(LogType::Tail)
        .payload(Blob::new(payload.as_bytes().to_vec()))
        .send()
        .await
        .map_err(|e| format!("{}", aws_sdk_lambda::error::DisplayErrorContext(&e)))?;
    let log = out
        .log_result()
        .map(|l| {
            String::from_utf8(
                base64::engine::general_purpose::STANDARD
                    .decode(l)
                    .expect("b64"),
            )
            .expect("utf8")
        })
        .unwrap_or_default();
    Ok(Invoked {
        payload: out
            .payload()
            .map(|p| serde_json::from_slice(p.as_ref()).unwrap_or(Value::Null))
            .unwrap_or(Value::Null),
        function_error: out.function_error().map(str::to_owned),
        log,
    })
}

fn metrics_line(log: &str) -> Value {
    log.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v.get("_aws").is_some())
        .unwrap_or_else(|| panic!("no metrics line in:\n{log}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn cold_then_warm_in_the_same_environment() {
    let cloud = Cloud::start().await;
    let client = lambda(cloud.get(), None);
    supervisor_fn(
        &client,
        cloud.dir.path(),
        "warm",
        "echo hello from $REQUEST_ID\n",
        30,
    )
    .await;

    let first = invoke(&client, "warm", "{}").await.unwrap();
    assert_eq!(
        first.function_error, None,
        "{}\n{}",
        first.payload, first.log
    );
    assert_eq!(first.payload["exit_code"], 0);
    assert!(first.log.contains("START RequestId: "), "{}", first.log);
    assert!(first.log.contains("hello from "), "{}", first.log);
    let report = first
        .log
        .lines()
        .find(|l| l.starts_with("REPORT"))
        .expect("REPORT line");
    for field in [
        "Duration: ",
        "Billed Duration: ",
        "Memory Size: 512 MB",
        "Max Memory Used: ",
        "Init Duration: ",
    ] {
        assert!(report.contains(field), "{report}");
    }
    assert_eq!(metrics_line(&first.log)["CacheHit"], 0);

    let second = invoke(&client, "warm", "{}").await.unwrap();
    assert_eq!(second.function_error, None);
    let report = second
        .log
        .lines()
        .find(|l| l.starts_with("REPORT"))
        .expect("REPORT line");
    assert!(
        !report.contains("Init Duration"),
        "a warm start has no init: {report}"
    );
    assert_eq!(
        metrics_line(&second.log)["CacheHit"],
        1,
        "the image stayed in the environment's /tmp"
    );
    assert_eq!(cloud.get().lambda().environments("warm"), 1);
    assert_eq!(cloud.get().lambda().warm_environments("warm"), 1);
}

/// Time is an input: a cloud whose clock reads a year from now dates its
/// log streams and metrics by that clock, and reaps an idle environment
/// when that clock passes the keep-warm period, with no real waiting.
#[tokio::test(flavor = "multi_thread")]
async fn keep_warm_and_dates_follow_the_clouds_clock() {
    let year_ms = 365 * 86_400_000;
    let clock = Clock::starting_at(Clock::system().now_ms() + year_ms);
    let cloud = Cloud::start_with(|c| c.clock = clock.clone()).await;
    let client = lambda(cloud.get(), None);
    supervisor_fn(&client, cloud.dir.path(), "later", "echo ok\n", 30).await;

    let first = invoke(&client, "later", "{}").await.unwrap();
    assert_eq!(first.function_error, None, "{}", first.log);
    assert!(first.log.contains("Init Duration"), "{}", first.log);
    assert_eq!(cloud.get().lambda().warm_environments("later"), 1);

    // The stream is named for the clock's day, as Lambda names it.
    let day = scar_contract::time::iso8601_millis(clock.now_ms())[..10].replace('-', "/");
    let streams = logs(cloud.get(), None)
        .describe_log_streams()
        .log_group_name("/aws/lambda/later")
        .send()
        .await
        .expect("describe_log_streams");
    let names: Vec<&str> = streams
        .log_streams()
        .iter()
        .filter_map(|s| s.log_stream_name())
        .collect();
    assert!(
        names.iter().all(|n| n.starts_with(&day)),
        "{names:?} vs {day}"
    );

    // Lambda's own metrics are recorded at the clock's now, so they are
    // inside a window around it (and would be dropped if stamped a year
    // earlier, 15 days being CloudWatch's retention).
    let invocations = cloud.get().metrics().query(
        "AWS/Lambda",
        "Invocations",
        &[("FunctionName".to_owned(), "later".to_owned())],
        clock.now_ms() - 600_000,
        clock.now_ms() + 60_000,
        60,
        scar_local::metrics::Stat::Sum,
    );
    assert_eq!(invocations.iter().map(|(_, v)| v).sum::<f64>(), 1.0);

    // Past the keep-warm period (120 s in tests) by the clock: reaped
    // within the reaper's half-second wake-up, and the next run is cold.
    clock.advance(Duration::from_secs(121));
    let reaped = eventually(Duration::from_secs(10), || async {
        (cloud.get().lambda().environments("later") == 0).then_some(())
    })
    .await;
    assert!(reaped.is_some(), "the idle environment outlived keep-warm");
    let again = invoke(&client, "later", "{}").await.unwrap();
    assert!(again.log.contains("Init Duration"), "{}", again.log);
}

#[tokio::test(flavor = "multi_thread")]
async fn parallel_sync_invokes_stay_within_reserved_concurrency() {
    let cloud = Cloud::start().await;
    let client = lambda(cloud.get(), None);
    supervisor_fn(&client, cloud.dir.path(), "limited", "sleep 1\n", 30).await;
    client
        .put_function_concurrency()
        .function_name("limited")
        .reserved_concurrent_executions(2)
        .send()
        .await
        .unwrap();
    let watcher = {
        let l = cloud.get().lambda().clone();
        tokio::spawn(async move {
            let mut max = 0;
            for _ in 0..200 {
                max = max.max(l.environments("limited"));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            max
        })
    };
    let calls = (0..8).map(|_| {
        let c = client.clone();
        tokio::spawn(async move { invoke(&c, "limited", "{}").await })
    });
    let results = futures_util::future::join_all(calls).await;
    let ok = results
        .iter()
        .filter(|r| matches!(r, Ok(Ok(i)) if i.function_error.is_none()))
        .count();
    let throttled = results
        .iter()
        .filter(|r| matches!(r, Ok(Err(e)) if e.contains("TooManyRequestsException")))
        .count();
    assert_eq!(ok + throttled, 8, "{results:?}");
    assert!(ok >= 2, "at least the reserved two ran: {ok}");
    assert!(
        throttled >= 1,
        "8 parallel calls over a limit of 2 must throttle"
    );
    assert!(
        watcher.await.unwrap() <= 2,
        "more environments than the reserved concurrency"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn timeout_crash_and_bad_bootstraps_fail_the_invocation() {
    let cloud = Cloud::start().await;
    let client = lambda(cloud.get(), None);
    // Never asks for an event: the invocation times out and the environment goes.
    create(
        &client,
        "stuck",
        zip_of("#!/bin/sh\nexec sleep 30\n", None),
        &[],
        1,
    )
    .await;
    let r = invoke(&client, "stuck", "{}").await.unwrap();
    assert_eq!(r.function_error.as_deref(), Some("Unhandled"));
    assert!(
        r.payload["errorMessage"]
            .as_str()
            .unwrap_or("")
            .contains("Task timed out after 1.00 seconds"),
        "{}",
        r.payload
    );
    assert!(r.log.contains("Status: timeout"), "{}", r.log);
    assert_eq!(cloud.get().lambda().environments("stuck"), 0);

    create(
        &client,
        "exits",
        zip_of("#!/bin/sh\nexit 3\n", None),
        &[],
        3,
    )
    .await;
    let r = invoke(&client, "exits", "{}").await.unwrap();
    assert_eq!(r.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(r.payload["errorType"], "Runtime.ExitError", "{}", r.payload);
    assert!(
        r.payload["errorMessage"]
            .as_str()
            .unwrap_or("")
            .contains("exit status 3"),
        "{}",
        r.payload
    );

    // A zip without bootstrap is accepted (as on AWS) and fails at invoke.
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        use std::io::Write;
        let mut w = zip::ZipWriter::new(&mut buf);
        w.start_file("handler.py", zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(b"x").unwrap();
        w.finish().unwrap();
    }
    create(&client, "nobootstrap", buf.into_inner(), &[], 3).await;
    let r = invoke(&client, "nobootstrap", "{}").await.unwrap();
    assert_eq!(
        r.payload["errorType"], "Runtime.InvalidEntrypoint",
        "{}",
        r.payload
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_bootstrap_fails_sync_and_async_is_retried() {
    let cloud = Cloud::start().await;
    let client = lambda(cloud.get(), None);
    let pids = cloud.dir.path().join("pids");
    std::fs::create_dir_all(&pids).unwrap();
    // The wrapper records the pid that becomes the supervisor.
    let bootstrap = format!(
        "#!/bin/sh\necho $$ >> '{}/pids'\nexec '{}'\n",
        pids.display(),
        supervisor_bin().display()
    );
    let image = busybox_image(cloud.dir.path());
    create(
        &client,
        "victim",
        zip_of(&bootstrap, None),
        &[
            ("SCAR_IMAGE", image),
            ("SCAR_SCRIPT", b64("sleep 3\necho survived\n")),
        ],
        30,
    )
    .await;
    let pid_file = pids.join("pids");
    let kill_first = |pid_file: std::path::PathBuf| async move {
        let pid = eventually(Duration::from_secs(20), || {
            let p = pid_file.clone();
            async move {
                std::fs::read_to_string(&p)
                    .ok()
                    .and_then(|s| s.lines().last().and_then(|l| l.trim().parse::<i32>().ok()))
            }
        })
        .await
        .expect("bootstrap started");
        // Let it get into the script, then kill -9.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        // SAFETY: kill(2) on the pid our bootstrap wrote.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        pid
    };
    let killer = tokio::spawn(kill_first(pid_file.clone()));
    let r = invoke(&client, "victim", "{}").await.unwrap();
    killer.await.unwrap();
    assert_eq!(r.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(r.payload["errorType"], "Runtime.ExitError", "{}", r.payload);
    assert_eq!(
        cloud.get().lambda().environments("victim"),
        0,
        "a crashed environment is discarded"
    );

    // Async: the first attempt is killed, the retry succeeds, nothing is lost.
    std::fs::remove_file(&pid_file).unwrap();
    let killer = tokio::spawn(kill_first(pid_file.clone()));
    client
        .invoke()
        .function_name("victim")
        .invocation_type(InvocationType::Event)
        .payload(Blob::new(b"{}".to_vec()))
        .send()
        .await
        .unwrap();
    killer.await.unwrap();
    let l = cloud.get().lambda().clone();
    let drained = eventually(Duration::from_secs(60), || {
        let l = l.clone();
        async move { (l.queued_events() == 0).then_some(()) }
    })
    .await;
    assert!(drained.is_some(), "the async event was never completed");
    assert!(
        l.failed_events(Some("victim")).is_empty(),
        "{:?}",
        l.failed_events(None)
    );
    let starts = std::fs::read_to_string(&pid_file).unwrap().lines().count();
    assert!(
        starts >= 2,
        "the retry ran in a new environment ({starts} bootstraps)"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn async_failures_are_retried_twice_then_recorded() {
    let cloud = Cloud::start().await;
    let client = lambda(cloud.get(), None);
    supervisor_fn(
        &client,
        cloud.dir.path(),
        "failing",
        "echo failing on purpose\nexit 7\n",
        30,
    )
    .await;
    client
        .invoke()
        .function_name("failing")
        .invocation_type(InvocationType::Event)
        .payload(Blob::new(b"{}".to_vec()))
        .send()
        .await
        .unwrap();
    let l = cloud.get().lambda().clone();
    let failed = eventually(Duration::from_secs(60), || {
        let l = l.clone();
        async move {
            let f = l.failed_events(Some("failing"));
            (!f.is_empty()).then_some(f)
        }
    })
    .await
    .expect("the event ends in the failed-events record");
    assert_eq!(failed.len(), 1);
    assert_eq!(
        failed[0]["attempts"], 3,
        "one attempt and two retries: {}",
        failed[0]
    );
    assert!(
        failed[0]["error"]
            .as_str()
            .unwrap()
            .contains("ScriptFailed"),
        "{}",
        failed[0]
    );
}

/// PutFunctionEventInvokeConfig through the SDK: AWS's ranges are
/// enforced, the retry count is honoured, and an event that fails every
/// attempt leaves an invocation record in the S3 on-failure destination,
/// which scar-tui's own reader (`FailureFollower`) finds.
#[tokio::test(flavor = "multi_thread")]
async fn failed_events_go_to_the_s3_on_failure_destination() {
    use aws_sdk_lambda::operation::RequestId;
    use aws_sdk_lambda::types::{DestinationConfig, OnFailure};
    let cloud = Cloud::start().await;
    let client = lambda(cloud.get(), None);
    let s3c = s3(cloud.get(), None);
    s3c.create_bucket().bucket("failures").send().await.unwrap();
    supervisor_fn(&client, cloud.dir.path(), "doomed", "exit 9\n", 30).await;
    let dest = |arn: &str| {
        DestinationConfig::builder()
            .on_failure(OnFailure::builder().destination(arn).build())
            .build()
    };
    // Out of range, and a destination type the local cloud cannot deliver to.
    let err = client
        .put_function_event_invoke_config()
        .function_name("doomed")
        .maximum_retry_attempts(3)
        .send()
        .await
        .unwrap_err();
    assert!(
        format!("{err:?}").contains("MaximumRetryAttempts"),
        "{err:?}"
    );
    let err = client
        .put_function_event_invoke_config()
        .function_name("doomed")
        .destination_config(dest("arn:aws:sqs:us-east-1:000000000000:q"))
        .send()
        .await
        .unwrap_err();
    assert!(format!("{err:?}").contains("S3 bucket"), "{err:?}");
    // One retry, records to s3://failures.
    client
        .put_function_event_invoke_config()
        .function_name("doomed")
        .maximum_retry_attempts(1)
        .destination_config(dest("arn:aws:s3:::failures"))
        .send()
        .await
        .unwrap();
    let got = client
        .get_function_event_invoke_config()
        .function_name("doomed")
        .send()
        .await
        .unwrap();
    assert_eq!(got.maximum_retry_attempts(), Some(1));
    let out = client
        .invoke()
        .function_name("doomed")
        .invocation_type(InvocationType::Event)
        .payload(Blob::new(br#"{"input": "x"}"#.to_vec()))
        .send()
        .await
        .unwrap();
    let request_id = out.request_id().map(str::to_owned);
    let console = scar_tui::backend::clients_for(cloud.get());
    let mut follower = scar_tui::app::failures::FailureFollower::new("doomed");
    // Polled as `run --wait` polls it; the deadline only bounds a failure.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let records = loop {
        let r = follower
            .new_records(&console)
            .await
            .expect("records readable");
        if !r.is_empty() {
            break r;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no record in the destination"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].condition, "RetriesExhausted");
    assert!(
        records[0].key.starts_with("aws/lambda/async/doomed/"),
        "{}",
        records[0].key
    );
    if let Some(id) = request_id {
        assert_eq!(records[0].request_id, id);
    }
    let body = object_bytes(&s3c, "failures", &records[0].key).await;
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["requestContext"]["approximateInvokeCount"], 2, "{v}");
    assert_eq!(v["requestPayload"]["input"], "x", "{v}");
    // Read once: a second look finds nothing new.
    assert!(follower.new_records(&console).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn control_plane_speaks_aws_errors_and_survives_restart() {
    let mut cloud = Cloud::start().await;
    let client = lambda(cloud.get(), None);
    let err = |e: String, want: &str| assert!(e.contains(want), "want {want}, got {e}");
    let fmt =
        |e: &dyn std::error::Error| format!("{}", aws_sdk_lambda::error::DisplayErrorContext(e));

    let zip = zip_of("#!/bin/sh\nexit 0\n", None);
    let base = || {
        client
            .create_function()
            .runtime(Runtime::Providedal2023)
            .role(ROLE)
            .code(
                FunctionCode::builder()
                    .zip_file(Blob::new(zip.clone()))
                    .build(),
            )
    };
    let e = base().function_name("bad name").send().await.unwrap_err();
    err(fmt(&e), "InvalidParameterValueException");
    let e = base()
        .function_name("small")
        .memory_size(64)
        .send()
        .await
        .unwrap_err();
    err(fmt(&e), "memorySize");
    let e = base()
        .function_name("slow")
        .timeout(901)
        .send()
        .await
        .unwrap_err();
    err(fmt(&e), "timeout");
    base().function_name("fn-a").send().await.unwrap();
    let e = base().function_name("fn-a").send().await.unwrap_err();
    err(fmt(&e), "ResourceConflictException");
    let e = client
        .get_function()
        .function_name("nope")
        .send()
        .await
        .unwrap_err();
    err(fmt(&e), "ResourceNotFoundException");
    let e = client
        .invoke()
        .function_name("nope")
        .send()
        .await
        .unwrap_err();
    err(fmt(&e), "ResourceNotFoundException");
    let big = format!("{{\"x\": \"{}\"}}", "a".repeat(6 * 1024 * 1024));
    let e = client
        .invoke()
        .function_name("fn-a")
        .payload(Blob::new(big.into_bytes()))
        .send()
        .await
        .unwrap_err();
    err(fmt(&e), "RequestTooLargeException");
    let mid = format!("{{\"x\": \"{}\"}}", "a".repeat(300 * 1024));
    let e = client
        .invoke()
        .function_name("fn-a")
        .invocation_type(InvocationType::Event)
        .payload(Blob::new(mid.into_bytes()))
        .send()
        .await
        .unwrap_err();
    err(fmt(&e), "RequestTooLargeException");
    let e = client
        .invoke()
        .function_name("fn-a")
        .payload(Blob::new(b"not json".to_vec()))
        .send()
        .await
        .unwrap_err();
    err(fmt(&e), "InvalidRequestContentException");
    let wrong = lambda(cloud.get(), Some("wrong-secret"));
    let e = wrong.list_functions().send().await.unwrap_err();
    err(fmt(&e), "InvalidSignatureException");

    for i in 0..5 {
        base()
            .function_name(format!("page-{i}"))
            .send()
            .await
            .unwrap();
    }
    let mut names = Vec::new();
    let mut marker = None;
    loop {
        let page = client
            .list_functions()
            .max_items(2)
            .set_marker(marker)
            .send()
            .await
            .unwrap();
        names.extend(
            page.functions()
                .iter()
                .filter_map(|f| f.function_name().map(str::to_owned)),
        );
        marker = page.next_marker().map(str::to_owned);
        if marker.is_none() {
            break;
        }
    }
    assert_eq!(
        names,
        ["fn-a", "page-0", "page-1", "page-2", "page-3", "page-4"]
    );

    client
        .put_function_concurrency()
        .function_name("fn-a")
        .reserved_concurrent_executions(3)
        .send()
        .await
        .unwrap();
    client
        .add_permission()
        .function_name("fn-a")
        .statement_id("s3-invoke")
        .action("lambda:InvokeFunction")
        .principal("s3.amazonaws.com")
        .source_arn("arn:aws:s3:::in")
        .send()
        .await
        .unwrap();
    client
        .update_function_configuration()
        .function_name("fn-a")
        .timeout(42)
        .send()
        .await
        .unwrap();

    cloud.restart().await;
    let client = lambda(cloud.get(), None);
    let f = client
        .get_function()
        .function_name("fn-a")
        .send()
        .await
        .unwrap();
    assert_eq!(f.configuration().and_then(|c| c.timeout()), Some(42));
    assert_eq!(
        f.concurrency()
            .and_then(|c| c.reserved_concurrent_executions()),
        Some(3)
    );
    let policy = client
        .get_policy()
        .function_name("fn-a")
        .send()
        .await
        .unwrap();
    assert!(policy.policy().unwrap_or("").contains("s3-invoke"));
    let r = invoke(&client, "fn-a", "{}").await;
    // The bootstrap exits at once: a clean Runtime.ExitError, not a hang.
    assert_eq!(r.unwrap().payload["errorType"], "Runtime.ExitError");
    client
        .delete_function()
        .function_name("fn-a")
        .send()
        .await
        .unwrap();
    let e = client
        .get_function()
        .function_name("fn-a")
        .send()
        .await
        .unwrap_err();
    err(fmt(&e), "ResourceNotFoundException");
}

#[tokio::test(flavor = "multi_thread")]
async fn memory_over_the_limit_kills_the_environment() {
    let cloud = Cloud::start().await;
    let client = lambda(cloud.get(), None);
    let image = busybox_image(cloud.dir.path());
    let bootstrap = supervisor_bootstrap();
    client
        .create_function()
        .function_name("hungry")
        .runtime(Runtime::Providedal2023)
        .role(ROLE)
        .timeout(30)
        .memory_size(128)
        .environment(
            Environment::builder()
                .variables("SCAR_IMAGE", image)
                // dd holds a 400 MB buffer while it copies: far over 128 MB.
                .variables(
                    "SCAR_SCRIPT",
                    b64("while true; do dd if=/dev/zero of=/dev/null bs=400M count=4 2>/dev/null; done\n"),
                )
                .build(),
        )
        .code(FunctionCode::builder().zip_file(Blob::new(zip_of(&bootstrap, None))).build())
        .send()
        .await
        .unwrap();
    let r = invoke(&client, "hungry", "{}").await.unwrap();
    assert_eq!(r.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(
        r.payload["errorType"], "Runtime.OutOfMemory",
        "{}",
        r.payload
    );
    let report = r
        .log
        .lines()
        .find(|l| l.starts_with("REPORT"))
        .expect("REPORT");
    let used: u64 = report
        .split('\t')
        .find_map(|f| f.strip_prefix("Max Memory Used: "))
        .and_then(|v| v.trim_end_matches(" MB").parse().ok())
        .expect("Max Memory Used");
    assert!(used > 128, "the peak seen is over the limit: {report}");
    assert_eq!(cloud.get().lambda().environments("hungry"), 0);
}
