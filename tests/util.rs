//! Shared helpers: a local cloud per test (own data folder), AWS SDK clients
//! pointed at it, the supervisor binary, a busybox image and function zips.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use scar_local::{LocalCloud, LocalConfig};

/// A running local cloud and the folder it lives in.
pub struct Cloud {
    /// The cloud.
    pub cloud: Option<LocalCloud>,
    /// Its data folder (kept for restarts).
    pub dir: tempfile::TempDir,
}

impl Cloud {
    /// Starts a cloud with test-friendly timings.
    pub async fn start() -> Cloud {
        Cloud::start_with(|_| {}).await
    }

    /// Starts a cloud with test-friendly timings, then `adjust`'s changes
    /// (a clock of its own, say).
    pub async fn start_with(adjust: impl FnOnce(&mut LocalConfig)) -> Cloud {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = test_config(dir.path());
        adjust(&mut config);
        let cloud = LocalCloud::start(config).await.expect("local cloud starts");
        Cloud {
            cloud: Some(cloud),
            dir,
        }
    }

    /// The running cloud.
    pub fn get(&self) -> &LocalCloud {
        self.cloud.as_ref().expect("cloud running")
    }

    /// Stops it and starts a new one on the same data folder.
    pub async fn restart(&mut self) {
        if let Some(c) = self.cloud.take() {
            c.shutdown().await;
        }
        self.cloud = Some(
            LocalCloud::start(test_config(self.dir.path()))
                .await
                .expect("restart"),
        );
    }
}

/// Short keep-warm and retry delays for tests.
pub fn test_config(dir: &Path) -> LocalConfig {
    let mut c = LocalConfig::new(dir);
    c.keep_warm = Duration::from_secs(120);
    c.retry_delays = [Duration::from_millis(200), Duration::from_millis(400)];
    c
}

fn http_client() -> aws_sdk_s3::config::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// Signs with the cloud's clock, as a client whose clock agrees with the
/// server's does (SigV4 allows 15 minutes of skew).
#[derive(Debug)]
pub struct CloudTime(pub scar_contract::time::Clock);

impl aws_smithy_async::time::TimeSource for CloudTime {
    fn now(&self) -> std::time::SystemTime {
        self.0.now()
    }
}

macro_rules! client_fn {
    ($name:ident, $krate:ident $(, $extra:ident)?) => {
        /// An SDK client for the cloud, signed with its key (or `secret` if given).
        pub fn $name(cloud: &LocalCloud, secret: Option<&str>) -> $krate::Client {
            let key = cloud.key();
            let creds = $krate::config::Credentials::new(
                key.access_key_id.clone(),
                secret.unwrap_or(&key.secret_access_key).to_owned(),
                None,
                None,
                "test",
            );
            let conf = $krate::Config::builder()
                .behavior_version_latest()
                .region($krate::config::Region::new(cloud.region().to_owned()))
                .credentials_provider(creds)
                .endpoint_url(cloud.endpoint())
                .http_client(http_client())
                .time_source(CloudTime(cloud.clock().clone()))
                $(.$extra(true))?
                .build();
            $krate::Client::from_conf(conf)
        }
    };
}

client_fn!(s3, aws_sdk_s3, force_path_style);
client_fn!(lambda, aws_sdk_lambda);
client_fn!(logs, aws_sdk_cloudwatchlogs);
client_fn!(cloudwatch, aws_sdk_cloudwatch);

/// The bytes of `s3://bucket/key`, read through the SDK.
pub async fn object_bytes(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> bytes::Bytes {
    s3.get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("get s3://{bucket}/{key}: {e:?}"))
        .body
        .collect()
        .await
        .expect("object body")
        .into_bytes()
}

/// Every log event of `function`'s log group (`/aws/lambda/NAME`), all
/// FilterLogEvents pages, interleaved in time order.
pub async fn function_log_events(
    cloud: &LocalCloud,
    function: &str,
) -> Vec<aws_sdk_cloudwatchlogs::types::FilteredLogEvent> {
    let client = logs(cloud, None);
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = client
            .filter_log_events()
            .log_group_name(format!("/aws/lambda/{function}"))
            .set_next_token(token)
            .send()
            .await
            .expect("filter_log_events");
        out.extend_from_slice(page.events());
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            return out;
        }
    }
}

/// The workspace's supervisor binary, from this checkout, in the target
/// folder the running test or bench came from (Cargo's layout:
/// `<target>/<profile>/deps/<test>`), never a fixed path.
///
/// In a debug run, Cargo is asked once per test process to bring the
/// workspace's test build up to date: a no-op after `cargo test
/// --workspace` (the README's command), and what makes a narrower command
/// (`cargo test -p scar-tui`) use a supervisor built from these sources
/// rather than a stale one. It is the same command on purpose: building
/// `-p scar-supervisor` alone unifies features differently and would
/// rebuild half the dependency tree back and forth. A bench (release)
/// builds it only when missing.
pub fn supervisor_bin() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let exe = std::env::current_exe().expect("test exe");
            let profile_dir = exe.parent().and_then(Path::parent).expect("profile dir");
            let target_dir = profile_dir.parent().expect("target dir");
            let bin = profile_dir.join("scar-supervisor");
            let release = profile_dir.file_name().is_some_and(|n| n == "release");
            if release && bin.exists() {
                return bin;
            }
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let mut cmd = std::process::Command::new(cargo);
            if release {
                cmd.args([
                    "build",
                    "--release",
                    "-p",
                    "scar-supervisor",
                    "--bin",
                    "scar-supervisor",
                ]);
            } else {
                cmd.args(["test", "--workspace", "--no-run"]);
            }
            // Without the variables Cargo sets for a running test
            // (CARGO_PKG_NAME, CARGO_MANIFEST_DIR...): build scripts that
            // watch them would see another value than in the outer build
            // and rebuild half the tree, back and forth, on every run.
            for (k, _) in std::env::vars_os() {
                let k = k.to_string_lossy().into_owned();
                if (k.starts_with("CARGO_") && k != "CARGO_HOME" && k != "CARGO_TARGET_DIR")
                    || k == "OUT_DIR"
                {
                    cmd.env_remove(k);
                }
            }
            cmd.arg("-q")
                .arg("--manifest-path")
                .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
                .arg("--target-dir")
                .arg(target_dir);
            let ok = cmd.status().map(|s| s.success()).unwrap_or(false);
            assert!(
                ok && bin.exists(),
                "scar-supervisor binary missing at {}",
                bin.display()
            );
            bin
        })
        .clone()
}

/// Builds the offline busybox demo image once per folder, with the very
/// builder the console's demo and `scar-tui local demo-image` use, and
/// returns its `oci:` reference.
pub fn busybox_image(dir: &Path) -> String {
    scar_tui::app::demo::build_image(&dir.join("image")).expect("the demo image builds")
}

/// A zip holding `bootstrap` (mode 0755) and optionally `script.sh`.
pub fn zip_of(bootstrap: &str, script: Option<&str>) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut buf);
        let exec = zip::write::SimpleFileOptions::default().unix_permissions(0o755);
        w.start_file("bootstrap", exec).expect("zip");
        w.write_all(bootstrap.as_bytes()).expect("zip");
        if let Some(s) = script {
            w.start_file(
                "script.sh",
                zip::write::SimpleFileOptions::default().unix_permissions(0o644),
            )
            .expect("zip");
            w.write_all(s.as_bytes()).expect("zip");
        }
        w.finish().expect("zip");
    }
    buf.into_inner()
}

/// A `bootstrap` that execs the workspace's supervisor binary: the real,
/// unmodified supervisor, without copying a debug binary into every zip.
pub fn supervisor_bootstrap() -> String {
    format!("#!/bin/sh\nexec '{}' \"$@\"\n", supervisor_bin().display())
}

/// Polls `check` every 50 ms until it yields or `timeout` passes.
pub async fn eventually<T, F, Fut>(timeout: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return Some(v);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A raw HTTP response: status, headers (names lowercase) and body.
#[derive(Debug)]
pub struct RawResponse {
    /// Status code.
    pub status: u16,
    /// Headers, names lowercase.
    pub headers: Vec<(String, String)>,
    /// The whole body.
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The first header named `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// POSTs `body` to `/` of the cloud, SigV4-signed for `service` with the
/// cloud's key by the `aws-sigv4` crate (what the AWS SDKs use), the way
/// clients without a Rust SDK (the AWS CLI, boto3) reach it: awsJson and
/// awsQuery requests written by hand.
pub async fn signed_post(
    cloud: &LocalCloud,
    service: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> RawResponse {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let host = cloud.endpoint().trim_start_matches("http://").to_owned();
    let uri = format!("{}/", cloud.endpoint());
    let mut all: Vec<(String, String)> = vec![("host".into(), host.clone())];
    all.extend(
        headers
            .iter()
            .map(|(k, v)| (k.to_lowercase(), (*v).to_owned())),
    );
    let key = cloud.key();
    let identity = aws_sdk_cloudwatch::config::Credentials::new(
        key.access_key_id.clone(),
        key.secret_access_key.clone(),
        None,
        None,
        "test",
    )
    .into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(cloud.region())
        .name(service)
        .time(std::time::SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .expect("signing params")
        .into();
    let signable = SignableRequest::new(
        "POST",
        uri.as_str(),
        all.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .expect("signable request");
    let (instructions, _) = sign(signable, &params).expect("sign").into_parts();
    let (signed, _) = instructions.into_parts();
    all.extend(
        signed
            .iter()
            .map(|h| (h.name().to_owned(), h.value().to_owned())),
    );

    let mut head = String::from("POST / HTTP/1.1\r\n");
    for (k, v) in &all {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    ));
    let mut stream = tokio::net::TcpStream::connect(&host)
        .await
        .expect("connect");
    stream.write_all(head.as_bytes()).await.expect("write");
    stream.write_all(body).await.expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read");

    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("response head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    RawResponse {
        status,
        headers,
        body,
    }
}

/// Decodes a `Transfer-Encoding: chunked` body.
fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = b.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&b[..eol]).into_owned();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("0").trim(), 16)
            .expect("chunk size");
        if size == 0 {
            break;
        }
        let start = eol + 2;
        out.extend_from_slice(&b[start..start + size]);
        b = &b[start + size + 2..];
    }
    out
}
