//! Dispatch rate of `run` (Event invokes per second), side by side with
//! SCAR 4.3.1's batch launcher, against the same loopback stub of the
//! Invoke API, in one run.
//!
//! The stub (hyper on 127.0.0.1:0, its own runtime) answers 202 to
//! `POST /2015-03-31/functions/*/invocations`, checks no signature, and
//! counts requests, TCP connections and the distinct keys the payloads
//! carry. Then:
//! (a) ours: `app::batch::dispatch` over N keys through the real
//!     aws-sdk-lambda client (`--endpoint`-style config, dummy key),
//!     concurrency 256, journal fsync'd per chunk as in a real `run`;
//! (b) SCAR 4.3.1's shape: `bench/scar_dispatch.py` (boto3, chunks of 500,
//!     a ThreadPool per chunk) against the same stub, in a venv under
//!     /var/tmp/scar-bench-venv (boto3 installed with pip if missing; if
//!     that fails the peer is skipped, saying why).
//!
//! Run: `cargo bench -p scar-tui --bench dispatch` (`SCAR_BENCH_KEYS` sets
//! N, default 10,000).

use std::collections::{HashSet, VecDeque};
use std::convert::Infallible;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, StatusCode};
use scar_tui::app::batch::{BatchOptions, BatchProgress, KeyList, dispatch};
use scar_tui::app::journal::{Journal, Record, journal_path};
use scar_tui::aws::Backend;
use scar_tui::backend::ConnectOptions;

const VENV: &str = "/var/tmp/scar-bench-venv";

#[derive(Default)]
struct Counts {
    requests: AtomicU64,
    connections: AtomicU64,
    keys: Mutex<HashSet<String>>,
}

impl Counts {
    fn snapshot(&self) -> (u64, u64, usize) {
        let keys = self.keys.lock().map(|k| k.len()).unwrap_or(0);
        (
            self.requests.load(Ordering::Relaxed),
            self.connections.load(Ordering::Relaxed),
            keys,
        )
    }

    fn reset(&self) {
        self.requests.store(0, Ordering::Relaxed);
        self.connections.store(0, Ordering::Relaxed);
        if let Ok(mut k) = self.keys.lock() {
            k.clear();
        }
    }
}

/// The key an event carries: ours (`input.key`) or an S3 notification's.
fn key_of(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    v.pointer("/input/key")
        .or_else(|| v.pointer("/Records/0/s3/object/key"))
        .and_then(|k| k.as_str())
        .map(str::to_owned)
}

async fn answer(
    req: Request<hyper::body::Incoming>,
    counts: Arc<Counts>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_owned();
    let invoke = req.method() == hyper::Method::POST
        && path.starts_with("/2015-03-31/functions/")
        && path.ends_with("/invocations");
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let mut r = Response::new(Full::new(Bytes::new()));
    if !invoke {
        *r.status_mut() = StatusCode::NOT_FOUND;
        return Ok(r);
    }
    let n = counts.requests.fetch_add(1, Ordering::Relaxed);
    if let Some(k) = key_of(&body)
        && let Ok(mut keys) = counts.keys.lock()
    {
        keys.insert(k);
    }
    *r.status_mut() = StatusCode::ACCEPTED;
    if let Ok(v) = http::HeaderValue::from_str(&format!("00000000-0000-4000-8000-{n:012}")) {
        r.headers_mut().insert("x-amzn-requestid", v);
    }
    Ok(r)
}

/// Serves the stub on its own two-thread runtime; returns its URL.
fn start_stub(counts: Arc<Counts>) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("stub runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let addr = listener.local_addr().expect("addr");
            tx.send(format!("http://{addr}")).expect("send url");
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                counts.connections.fetch_add(1, Ordering::Relaxed);
                let counts = counts.clone();
                tokio::spawn(async move {
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let svc = hyper::service::service_fn(move |req| answer(req, counts.clone()));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, svc)
                        .await;
                });
            }
        });
    });
    rx.recv().expect("stub url")
}

struct Figures {
    invokes: u64,
    seconds: f64,
    connections: u64,
    distinct_keys: usize,
    errors: u64,
}

impl Figures {
    fn rate(&self) -> f64 {
        self.invokes as f64 / self.seconds.max(1e-9)
    }
}

async fn ours(url: &str, n: usize, counts: &Counts) -> Figures {
    let dir = tempfile::tempdir().expect("tempdir");
    let cloud = scar_tui::backend::connect(ConnectOptions {
        backend: Backend::Local,
        profile: None,
        region: Some("us-east-1".into()),
        endpoint: Some(url.to_owned()),
        data_dir: Some(dir.path().to_owned()),
    })
    .await
    .expect("clients");
    let journal = Journal::start(
        &journal_path(dir.path(), "bench"),
        Record::Begin {
            run: "bench".into(),
            ms: 0,
            function: "bench".into(),
            bucket: "input".into(),
            prefix: "in/".into(),
        },
    )
    .await
    .expect("journal");
    let keys: VecDeque<String> = (0..n).map(|i| format!("in/file-{i:05}.txt")).collect();
    counts.reset();
    let started = Instant::now();
    let (_, report) = dispatch(
        cloud,
        "bench",
        "input",
        KeyList(keys),
        |_| false,
        journal,
        &BatchOptions::default(),
        Arc::new(BatchProgress::default()),
    )
    .await;
    let seconds = started.elapsed().as_secs_f64();
    let report = report.expect("dispatch");
    let (requests, connections, distinct_keys) = counts.snapshot();
    assert_eq!(requests, n as u64, "the stub saw every invoke");
    Figures {
        invokes: report.dispatched,
        seconds,
        connections,
        distinct_keys,
        errors: report.rejected.len() as u64,
    }
}

/// The venv's python with boto3, installing it if missing.
fn python() -> Result<String, String> {
    let py = format!("{VENV}/bin/python");
    let has_boto3 = |py: &str| {
        Command::new(py)
            .args(["-c", "import boto3"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if has_boto3(&py) {
        return Ok(py);
    }
    if !Path::new(&py).exists() {
        let o = Command::new("python3")
            .args(["-m", "venv", VENV])
            .output()
            .map_err(|e| format!("python3 not runnable: {e}"))?;
        if !o.status.success() {
            return Err(format!(
                "python3 -m venv {VENV} failed: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            ));
        }
    }
    eprintln!("installing boto3 into {VENV} (once)...");
    let o = Command::new(&py)
        .args(["-m", "pip", "install", "--quiet", "boto3"])
        .output()
        .map_err(|e| format!("pip not runnable: {e}"))?;
    if !o.status.success() || !has_boto3(&py) {
        return Err(format!(
            "pip install boto3 failed: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        ));
    }
    Ok(py)
}

fn scar(url: &str, n: usize, counts: &Counts) -> Result<Figures, String> {
    let py = python()?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/scar_dispatch.py");
    counts.reset();
    let o = Command::new(py)
        .arg(&script)
        .args(["--endpoint", url, "--count", &n.to_string()])
        .output()
        .map_err(|e| format!("{}: {e}", script.display()))?;
    if !o.status.success() {
        return Err(format!(
            "{} failed: {}",
            script.display(),
            String::from_utf8_lossy(&o.stderr).trim()
        ));
    }
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).map_err(|e| {
        format!(
            "unreadable output ({e}): {}",
            String::from_utf8_lossy(&o.stdout)
        )
    })?;
    let (requests, connections, distinct_keys) = counts.snapshot();
    Ok(Figures {
        invokes: requests,
        seconds: v["elapsed_s"].as_f64().unwrap_or(f64::NAN),
        connections,
        distinct_keys,
        errors: v["errors"].as_u64().unwrap_or(0),
    })
}

fn main() {
    let n: usize = std::env::var("SCAR_BENCH_KEYS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let counts = Arc::new(Counts::default());
    let url = start_stub(counts.clone());
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    // A short warm-up: connection pool and code paths, not measured.
    rt.block_on(ours(&url, 500, &counts));
    let a = rt.block_on(ours(&url, n, &counts));
    let b = scar(&url, n, &counts);

    println!("\nDispatch rate: {n} Event invokes against a loopback Invoke stub ({url})\n");
    println!(
        "| {:<46} | {:>9} | {:>8} | {:>10} | {:>11} | {:>13} | {:>6} |",
        "dispatcher", "invokes", "seconds", "invokes/s", "TCP conns", "distinct keys", "errors"
    );
    println!(
        "|{:-<48}|{:->11}|{:->10}|{:->12}|{:->13}|{:->15}|{:->8}|",
        "", "", "", "", "", "", ""
    );
    let row = |name: &str, f: &Figures| {
        println!(
            "| {:<46} | {:>9} | {:>8.2} | {:>10.0} | {:>11} | {:>13} | {:>6} |",
            name,
            f.invokes,
            f.seconds,
            f.rate(),
            f.connections,
            f.distinct_keys,
            f.errors
        );
    };
    row("scar-tui run (aws-sdk-lambda, 256 in flight)", &a);
    match &b {
        Ok(b) => {
            row("SCAR 4.3.1 (boto3, ThreadPool, chunks of 500)", b);
            println!(
                "\nratio: scar-tui is {:.1}x SCAR 4.3.1's rate (target >= 10x)",
                a.rate() / b.rate()
            );
        }
        Err(why) => println!("\nSCAR 4.3.1 peer skipped: {why}"),
    }
}
