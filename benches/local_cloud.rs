//! The local cloud's two studies, in one run:
//!
//! 1. Freeze/thaw, after the SCAR paper's section 4.1: a table of
//!    (invocation, duration, init, cache hit, environment) for
//!    (a) request-response invocations one after the other,
//!    (b) an async burst without preheating,
//!    (c) the same burst after preheating N environments,
//!    (d) an invocation after the keep-warm period expired.
//! 2. Throughput: N files through S3 -> notification -> Lambda -> supervisor
//!    -> S3, against the same N script runs done directly with
//!    `scar-supervisor run` (same image, runtime and parallelism, warm
//!    cache), in rounds that alternate the two sides; medians are
//!    reported. Target: ratio >= 0.8.
//!
//! Everything goes through the AWS SDKs, as a user's tools would.
//! Run: `cargo bench -p scar-tui --bench local_cloud` (`SCAR_BENCH_FILES`
//! sets N, default 1000; `SCAR_BENCH_ROUNDS` the rounds of the throughput
//! study, default 5, after a warm-up round of N/10 files; `SCAR_BENCH_STUDY=0` skips the first study).
//!
//! Besides the times, the throughput study prints where the cloud's time
//! goes (medians from the function's own logs: the invocation as Lambda
//! timed it, the script and upload as the supervisor timed them, and the
//! gap an environment sits between two invocations) and the CPU each side
//! used: on a small machine the two sides compete for the same cores, so
//! CPU per file is what the ratio ends up measuring.

#[path = "../tests/util.rs"]
mod util;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Environment, FunctionCode, InvocationType, Runtime};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Event, LambdaFunctionConfiguration, NotificationConfiguration};
use base64::Engine;
use serde_json::Value;
use util::*;

const ROLE: &str = "arn:aws:iam::000000000000:role/scar";

async fn create(cloud: &Cloud, name: &str, script: &str, outputs: &str, reserved: i32) -> String {
    let client = lambda(cloud.get(), None);
    let env = Environment::builder()
        .variables("SCAR_IMAGE", busybox_image(cloud.dir.path()))
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
        .timeout(120)
        .memory_size(1024)
        .environment(env)
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(zip_of(&supervisor_bootstrap(), None)))
                .build(),
        )
        .send()
        .await
        .expect("create_function");
    client
        .put_function_concurrency()
        .function_name(name)
        .reserved_concurrent_executions(reserved)
        .send()
        .await
        .expect("concurrency");
    out.function_arn().unwrap_or_default().to_owned()
}

/// Per request: (first log timestamp, REPORT duration, init, cache hit, stream).
type Row = (i64, f64, Option<f64>, Option<i64>, String);

/// Per request, as [`Row`]s.
async fn requests(cloud: &Cloud, function: &str) -> Vec<Row> {
    let mut by_id: HashMap<String, Row> = HashMap::new();
    for e in &function_log_events(cloud.get(), function).await {
        let msg = e.message().unwrap_or_default();
        let stream = e.log_stream_name().unwrap_or_default();
        let ts = e.timestamp().unwrap_or(0);
        if let Some(rest) = msg.strip_prefix("REPORT RequestId: ") {
            let id = rest.split('\t').next().unwrap_or_default().to_owned();
            let field = |name: &str| {
                rest.split('\t')
                    .find_map(|f| f.strip_prefix(name))
                    .and_then(|v| v.trim_end_matches(" ms").parse::<f64>().ok())
            };
            let entry = by_id
                .entry(id)
                .or_insert((ts, 0.0, None, None, stream.to_owned()));
            entry.1 = field("Duration: ").unwrap_or(0.0);
            entry.2 = field("Init Duration: ");
            entry.4 = stream.to_owned();
        } else if let Ok(v) = serde_json::from_str::<Value>(msg)
            && v.get("_aws").is_some()
        {
            let id = v["RequestId"].as_str().unwrap_or_default().to_owned();
            let entry = by_id
                .entry(id)
                .or_insert((ts, 0.0, None, None, stream.to_owned()));
            entry.3 = v["CacheHit"].as_i64();
        } else if let Some(id) = msg.strip_prefix("START RequestId: ") {
            let id = id.split(' ').next().unwrap_or_default().to_owned();
            let entry = by_id
                .entry(id)
                .or_insert((ts, 0.0, None, None, stream.to_owned()));
            entry.0 = ts;
        }
    }
    let mut v: Vec<_> = by_id.into_values().collect();
    v.sort_by_key(|r| r.0);
    v
}

fn print_table(title: &str, rows: &[Row], skip: usize) {
    println!("\n{title}");
    println!("| # | duration ms | init ms | cache hit | environment |");
    println!("|---|---|---|---|---|");
    let mut envs: HashMap<String, usize> = HashMap::new();
    for (i, (_, d, init, hit, stream)) in rows.iter().enumerate() {
        let n = envs.len();
        let env = *envs.entry(stream.clone()).or_insert(n + 1);
        if i < skip {
            continue;
        }
        println!(
            "| {} | {d:.1} | {} | {} | env-{env} |",
            i + 1 - skip,
            init.map_or("-".into(), |x| format!("{x:.1}")),
            hit.map_or("-".into(), |h| h.to_string()),
        );
    }
}

/// CPU seconds (user + system) used so far by this process, and by its
/// children: the ones reaped (direct runs) plus the live ones (the
/// environments' supervisors, with the containers they reaped), read from
/// `/proc/PID/stat`.
fn cpu_seconds() -> (f64, f64) {
    let usage = |who| {
        // SAFETY: getrusage fills the struct it is given.
        let mut u: libc::rusage = unsafe { std::mem::zeroed() };
        unsafe { libc::getrusage(who, &mut u) };
        let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
        tv(u.ru_utime) + tv(u.ru_stime)
    };
    // SAFETY: sysconf has no preconditions.
    let tick = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let mut live = 0.0;
    for task in std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
    {
        let children = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
        for pid in children.split_whitespace() {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // Fields after the command's closing parenthesis: state is the
            // 3rd field of the line, utime..cstime the 14th to 17th.
            let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
            let f: Vec<f64> = rest
                .split_whitespace()
                .skip(11)
                .take(4)
                .filter_map(|x| x.parse().ok())
                .collect();
            live += f.iter().sum::<f64>() / tick;
        }
    }
    (
        usage(libc::RUSAGE_SELF),
        usage(libc::RUSAGE_CHILDREN) + live,
    )
}

fn median(v: &mut [f64]) -> f64 {
    percentile(v, 0.5)
}

/// One file's invocation, from its log lines (ms timestamps).
#[derive(Default)]
struct Trace {
    stream: String,
    start: Option<i64>,
    report: Option<i64>,
    duration: f64,
    /// The supervisor's metrics line: when it was printed (after the
    /// upload, just before the answer), ScriptMs and UploadMs.
    metrics: Option<(i64, f64, f64)>,
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

/// Where the cloud's time went, from the function's log group, over the
/// invocations that processed a file (not the preheat pings): Lambda's
/// duration (median, 90th percentile, mean), the supervisor's script and
/// upload times, the time from its answer to the REPORT line, and how long
/// an environment sat between one REPORT and its next START.
async fn breakdown(cloud: &Cloud, function: &str) {
    let mut traces: HashMap<String, Trace> = HashMap::new();
    for e in &function_log_events(cloud.get(), function).await {
        let msg = e.message().unwrap_or_default();
        let ts = e.timestamp().unwrap_or(0);
        let stream = e.log_stream_name().unwrap_or_default().to_owned();
        let id_of = |rest: &str| {
            rest.split(['\t', ' '])
                .next()
                .unwrap_or_default()
                .to_owned()
        };
        if let Some(rest) = msg.strip_prefix("REPORT RequestId: ") {
            let t = traces.entry(id_of(rest)).or_default();
            t.report = Some(ts);
            t.stream = stream;
            t.duration = rest
                .split('\t')
                .find_map(|f| f.strip_prefix("Duration: "))
                .and_then(|v| v.trim_end_matches(" ms").parse::<f64>().ok())
                .unwrap_or(0.0);
        } else if let Some(rest) = msg.strip_prefix("START RequestId: ") {
            traces.entry(id_of(rest)).or_default().start = Some(ts);
        } else if let Ok(v) = serde_json::from_str::<Value>(msg)
            && v.get("_aws").is_some()
            && v["InputKey"].as_str().is_some_and(|k| !k.is_empty())
        {
            let id = v["RequestId"].as_str().unwrap_or_default().to_owned();
            traces.entry(id).or_default().metrics = Some((
                ts,
                v["ScriptMs"].as_f64().unwrap_or(0.0),
                v["UploadMs"].as_f64().unwrap_or(0.0),
            ));
        }
    }
    let files: Vec<&Trace> = traces.values().filter(|t| t.metrics.is_some()).collect();
    let mut durations: Vec<f64> = files.iter().map(|t| t.duration).collect();
    let mean = durations.iter().sum::<f64>() / durations.len().max(1) as f64;
    let mut scripts: Vec<f64> = files.iter().filter_map(|t| Some(t.metrics?.1)).collect();
    let mut uploads: Vec<f64> = files.iter().filter_map(|t| Some(t.metrics?.2)).collect();
    let mut tails: Vec<f64> = files
        .iter()
        .filter_map(|t| Some((t.report? - t.metrics?.0) as f64))
        .collect();
    let mut by_stream: HashMap<&str, Vec<(i64, i64)>> = HashMap::new();
    for t in &files {
        if let (Some(s), Some(r)) = (t.start, t.report) {
            by_stream.entry(t.stream.as_str()).or_default().push((s, r));
        }
    }
    let mut gaps = Vec::new();
    for runs in by_stream.values_mut() {
        runs.sort();
        gaps.extend(runs.windows(2).map(|w| (w[1].0 - w[0].1) as f64));
    }
    println!(
        "cloud, per file: invocation {:.1} ms median, {:.1} ms p90, {mean:.1} ms mean (script {:.0} ms, upload {:.0} ms, answer to REPORT {:.0} ms); environment idle between files {:.0} ms median; {} environments",
        median(&mut durations),
        percentile(&mut durations, 0.9),
        median(&mut scripts),
        median(&mut uploads),
        median(&mut tails),
        median(&mut gaps),
        by_stream.len()
    );
}

async fn drain(cloud: &Cloud) {
    let l = cloud.get().lambda().clone();
    eventually(Duration::from_secs(600), || {
        let l = l.clone();
        async move { (l.queued_events() == 0).then_some(()) }
    })
    .await
    .expect("queue drained");
}

async fn async_burst(cloud: &Cloud, name: &str, n: usize) {
    let client = lambda(cloud.get(), None);
    for _ in 0..n {
        client
            .invoke()
            .function_name(name)
            .invocation_type(InvocationType::Event)
            .payload(Blob::new(b"{}".to_vec()))
            .send()
            .await
            .expect("event");
    }
    drain(cloud).await;
}

async fn freeze_thaw_study() {
    println!("== Freeze/thaw study (SCAR paper, section 4.1), busybox image, trivial script");
    let mut cloud = Cloud::start().await;
    let script = "echo run $REQUEST_ID\n";
    create(&cloud, "rr", script, "[]", 4).await;
    let client = lambda(cloud.get(), None);
    for _ in 0..6 {
        client
            .invoke()
            .function_name("rr")
            .payload(Blob::new(b"{}".to_vec()))
            .send()
            .await
            .expect("invoke");
    }
    print_table(
        "(a) request-response, one after the other",
        &requests(&cloud, "rr").await,
        0,
    );

    create(&cloud, "burst", script, "[]", 4).await;
    async_burst(&cloud, "burst", 12).await;
    print_table(
        "(b) async burst of 12, no preheat (reserved concurrency 4)",
        &requests(&cloud, "burst").await,
        0,
    );

    create(&cloud, "preheated", script, "[]", 4).await;
    let pings = (0..4).map(|_| {
        let c = client.clone();
        tokio::spawn(async move {
            c.invoke()
                .function_name("preheated")
                .payload(Blob::new(br#"{"scar": "preheat"}"#.to_vec()))
                .send()
                .await
        })
    });
    futures_util::future::join_all(pings).await;
    async_burst(&cloud, "preheated", 12).await;
    print_table(
        "(c) the same burst after preheating 4 environments (first 4 rows: the pings)",
        &requests(&cloud, "preheated").await,
        0,
    );

    // (d) A short keep-warm period, then one invocation after it expired.
    if let Some(c) = cloud.cloud.take() {
        c.shutdown().await;
    }
    let mut config = test_config(cloud.dir.path());
    config.keep_warm = Duration::from_secs(2);
    cloud.cloud = Some(
        scar_local::LocalCloud::start(config)
            .await
            .expect("restart"),
    );
    let client = lambda(cloud.get(), None);
    create(&cloud, "expiry", script, "[]", 4).await;
    for pause in [0u64, 0, 3, 0] {
        tokio::time::sleep(Duration::from_secs(pause)).await;
        client
            .invoke()
            .function_name("expiry")
            .payload(Blob::new(b"{}".to_vec()))
            .send()
            .await
            .expect("invoke");
    }
    print_table(
        "(d) keep-warm 2 s: two invocations, a 3 s pause, two more (row 3 is cold again)",
        &requests(&cloud, "expiry").await,
        0,
    );
}

/// One timed pass of one side: wall time and CPU seconds (this process,
/// children) before and after.
struct Pass {
    time: Duration,
    cpu: ((f64, f64), (f64, f64)),
}

impl Pass {
    /// CPU ms per file: (this process, children).
    fn cpu_per_file(&self, n: usize) -> (f64, f64) {
        let ((s0, c0), (s1, c1)) = self.cpu;
        let k = 1000.0 / n as f64;
        ((s1 - s0) * k, (c1 - c0) * k)
    }
}

/// Cloud side of one round: `n` files `rR-fNNNNN.txt` put into `tin`,
/// timed until their outputs are all in `tout` and the queue is empty.
async fn cloud_pass(cloud: &Cloud, n: usize, round: usize) -> Pass {
    use futures_util::StreamExt;
    let s3c = s3(cloud.get(), None);
    let prefix = format!("r{round}-");
    println!("round {round}: putting {n} files into tin");
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let puts = futures_util::stream::iter(0..n).map(|i| {
        let (s3c, key) = (s3c.clone(), format!("{prefix}f{i:05}.txt"));
        async move {
            s3c.put_object()
                .bucket("tin")
                .key(key)
                .body(ByteStream::from(format!("file {i}\n").into_bytes()))
                .send()
                .await
                .expect("put")
        }
    });
    puts.buffer_unordered(16).collect::<Vec<_>>().await;
    // Done is when the queue has finished its last event (an event ends
    // after its outputs are uploaded), confirmed by listing the outputs. The
    // queue's count is read every millisecond: a coarser poll would add its
    // interval to the cloud's time (the direct side's end is exact).
    let l = cloud.get().lambda().clone();
    let deadline = Instant::now() + Duration::from_secs(1800);
    let time = loop {
        assert!(
            Instant::now() < deadline,
            "outputs missing after 30 minutes"
        );
        if l.queued_events() > 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
            continue;
        }
        let drained = started.elapsed();
        let mut count = 0;
        let mut token = None;
        loop {
            let page = s3c
                .list_objects_v2()
                .bucket("tout")
                .prefix(&prefix)
                .set_continuation_token(token)
                .send()
                .await
                .expect("list outputs");
            count += page.key_count().unwrap_or(0) as usize;
            token = page.next_continuation_token().map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
        if count >= n {
            break drained;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let cpu_after = cpu_seconds();
    println!("round {round}: all {n} outputs in tout");
    Pass {
        time,
        cpu: (cpu_before, cpu_after),
    }
}

/// The direct side: `scar-supervisor run` on the same image with the same
/// runtime and warm cache, `workers.len()` in parallel, each worker with
/// its own scratch folder (its TMPDIR).
struct Direct {
    dir: std::path::PathBuf,
    image: String,
    script: std::path::PathBuf,
    bin: std::path::PathBuf,
    workers: Vec<tempfile::TempDir>,
}

impl Direct {
    fn run_one(&self, round: usize, i: usize, worker: usize) -> std::process::Output {
        let input = self.dir.join(format!("r{round}-f{i:05}.txt"));
        std::fs::write(&input, format!("file {i}\n")).unwrap();
        std::process::Command::new(&self.bin)
            .args(["run", "--image", &self.image, "--script"])
            .arg(&self.script)
            .arg("--input")
            .arg(&input)
            .arg("--output-dir")
            .arg(self.dir.join("out"))
            .arg("--cache-dir")
            .arg(self.dir.join("cache"))
            .env("TMPDIR", self.workers[worker].path())
            .output()
            .expect("direct run")
    }

    fn pass(&self, n: usize, round: usize) -> Pass {
        let cpu_before = cpu_seconds();
        let started = Instant::now();
        let next = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|s| {
            for worker in 0..self.workers.len() {
                let next = &next;
                s.spawn(move || {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if i >= n {
                            return;
                        }
                        assert!(self.run_one(round, i, worker).status.success());
                    }
                });
            }
        });
        Pass {
            time: started.elapsed(),
            cpu: (cpu_before, cpu_seconds()),
        }
    }
}

async fn throughput(n: usize, parallel: i32, rounds: usize) {
    println!(
        "\n== Throughput: {n} files, trivial script, parallelism {parallel}, {rounds} rounds (cloud, then direct)"
    );
    let cloud = Cloud::start().await;
    let s3c = s3(cloud.get(), None);
    for b in ["tin", "tout"] {
        s3c.create_bucket().bucket(b).send().await.expect("bucket");
    }
    let script = "cp \"$INPUT_FILE_PATH\" \"$TMP_OUTPUT_DIR/\"\n";
    let arn = create(
        &cloud,
        "through",
        script,
        r#"[{"bucket": "tout"}]"#,
        parallel,
    )
    .await;
    // Preheat so both sides start from a warm cache.
    let client = lambda(cloud.get(), None);
    let pings = (0..parallel).map(|_| {
        let c = client.clone();
        tokio::spawn(async move {
            c.invoke()
                .function_name("through")
                .payload(Blob::new(br#"{"scar": "preheat"}"#.to_vec()))
                .send()
                .await
        })
    });
    futures_util::future::join_all(pings).await;
    client
        .add_permission()
        .function_name("through")
        .statement_id("s3")
        .action("lambda:InvokeFunction")
        .principal("s3.amazonaws.com")
        .source_arn("arn:aws:s3:::tin")
        .send()
        .await
        .expect("permission");
    s3c.put_bucket_notification_configuration()
        .bucket("tin")
        .notification_configuration(
            NotificationConfiguration::builder()
                .lambda_function_configurations(
                    LambdaFunctionConfiguration::builder()
                        .lambda_function_arn(&arn)
                        .events(Event::from("s3:ObjectCreated:*"))
                        .build()
                        .expect("config"),
                )
                .build(),
        )
        .send()
        .await
        .expect("notifications");

    // Each direct worker's scratch folder is made as the cloud makes an
    // environment's: in a spread folder (on ext4, a block group apart from
    // the others'), under a random name (ext4 places it by a hash of its
    // name). Both sides then pay the same filesystem costs for their
    // per-run folders.
    let dir = cloud.dir.path().join("direct");
    let scratch = dir.join("scratch");
    std::fs::create_dir_all(&scratch).unwrap();
    scar_local::spread_subdirectories(&scratch);
    let direct = Direct {
        image: busybox_image(cloud.dir.path()),
        script: dir.join("s.sh"),
        bin: supervisor_bin(),
        workers: (0..parallel)
            .map(|_| {
                tempfile::Builder::new()
                    .prefix("worker-")
                    .tempdir_in(&scratch)
                    .unwrap()
            })
            .collect(),
        dir,
    };
    std::fs::write(&direct.script, script).unwrap();
    assert!(direct.run_one(0, 0, 0).status.success(), "warm-up run");

    // A warm-up round of a tenth of the files on each side, not counted:
    // the environments' first S3 requests (their SDK clients' connections),
    // the cloud's blocking threads and the buckets' first directory blocks
    // are start-up costs, and the first round paid them (0.67 against 0.80
    // to 1.04 for the others in one run).
    let warm = (n / 10).max(1);
    cloud_pass(&cloud, warm, 0).await;
    direct.pass(warm, 0);

    // Rounds alternate the sides, so that both sample the same moments of
    // a machine whose load changes (other builds): medians are reported.
    let mut passes = Vec::new();
    for round in 1..=rounds {
        let c = cloud_pass(&cloud, n, round).await;
        let d = direct.pass(n, round);
        passes.push((c, d));
    }
    let failed = cloud.get().lambda().failed_events(None).len();
    breakdown(&cloud, "through").await;

    println!("| round | local cloud, s | direct, s | ratio |");
    println!("|---|---|---|---|");
    for (r, (c, d)) in (1..).zip(&passes) {
        println!(
            "| {r} | {:.2} | {:.2} | {:.2} |",
            c.time.as_secs_f64(),
            d.time.as_secs_f64(),
            d.time.as_secs_f64() / c.time.as_secs_f64()
        );
    }
    let med = |f: &dyn Fn(&(Pass, Pass)) -> f64| {
        let mut v: Vec<f64> = passes.iter().map(f).collect();
        median(&mut v)
    };
    let cloud_s = med(&|p| p.0.time.as_secs_f64());
    let direct_s = med(&|p| p.1.time.as_secs_f64());
    println!("\nmedians of {rounds} rounds:");
    println!("| path | {n} files, s | files/s |");
    println!("|---|---|---|");
    println!(
        "| local cloud (S3 put -> notification -> Lambda -> supervisor -> S3) | {cloud_s:.2} | {:.1} |",
        n as f64 / cloud_s
    );
    println!(
        "| direct (`scar-supervisor run`, {parallel} in parallel) | {direct_s:.2} | {:.1} |",
        n as f64 / direct_s
    );
    let paired = med(&|p| p.1.time.as_secs_f64() / p.0.time.as_secs_f64());
    println!(
        "ratio (direct time / cloud time): {:.2} of the medians, {paired:.2} median of the rounds' ratios (target >= 0.8); failed events: {failed}",
        direct_s / cloud_s
    );
    println!(
        "CPU per file: cloud {:.1} ms in the cloud's process (server and this client) + {:.1} ms in environments; direct {:.1} ms",
        med(&|p| p.0.cpu_per_file(n).0),
        med(&|p| p.0.cpu_per_file(n).1),
        med(&|p| {
            let (s, c) = p.1.cpu_per_file(n);
            s + c
        }),
    );
}

/// The allocator of the `scar-tui` binary, which hosts the local cloud:
/// measured as it runs there.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let n = std::env::var("SCAR_BENCH_FILES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("tempdir");
    let cloud = scar_local::LocalCloud::start(scar_local::LocalConfig::new(dir.path()))
        .await
        .expect("start");
    println!(
        "local cloud serving after {:.1} ms (target < 200 ms)",
        started.elapsed().as_secs_f64() * 1000.0
    );
    cloud.shutdown().await;
    if std::env::var("SCAR_BENCH_STUDY").as_deref() != Ok("0") {
        freeze_thaw_study().await;
    }
    let rounds = std::env::var("SCAR_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    throughput(n, 4, rounds).await;
}
