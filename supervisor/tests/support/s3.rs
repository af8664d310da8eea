//! [`S3Server`]: a real S3 endpoint in process (`s3s` + `s3s-fs` over
//! hyper-util, SigV4 checked against one access key), on a free loopback
//! port, with its own thread and tokio runtime; plus a blocking aws-sdk-s3
//! client for the tests to create buckets and put and read objects.

use std::thread::JoinHandle;
use std::time::Duration;

use aws_sdk_s3::config::{Credentials, Region};
use aws_sdk_s3::primitives::ByteStream;

/// The access key the server accepts.
pub const S3_ACCESS_KEY: &str = "AKIASCARTESTS3ACCESS";
/// Its secret key.
pub const S3_SECRET_KEY: &str = "scar-test-secret-key-0123456789abcdefghij";
/// The region the clients sign for.
pub const S3_REGION: &str = "us-east-1";

/// An S3 server storing objects as files under a temporary folder; stopped
/// (listener closed, connections dropped) on drop.
pub struct S3Server {
    endpoint: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    client: aws_sdk_s3::Client,
    client_rt: tokio::runtime::Runtime,
    _root: tempfile::TempDir,
}

impl S3Server {
    /// Start on `127.0.0.1:0` and wait until it listens.
    pub fn start() -> S3Server {
        let root = tempfile::Builder::new()
            .prefix("scar-s3-")
            .tempdir()
            .expect("s3 root tempdir");
        let fs = s3s_fs::FileSystem::new(root.path())
            .unwrap_or_else(|e| panic!("s3s-fs on {}: {e:?}", root.path().display()));
        let service = {
            let mut b = s3s::service::S3ServiceBuilder::new(fs);
            b.set_auth(s3s::auth::SimpleAuth::from_single(
                S3_ACCESS_KEY,
                S3_SECRET_KEY,
            ));
            b.build()
        };
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("s3-server".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("s3 server runtime");
                rt.block_on(async move {
                    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                        .await
                        .expect("bind s3 server");
                    addr_tx
                        .send(listener.local_addr().expect("s3 local addr"))
                        .expect("report s3 address");
                    let http = hyper_util::server::conn::auto::Builder::new(
                        hyper_util::rt::TokioExecutor::new(),
                    );
                    loop {
                        let socket = tokio::select! {
                            _ = &mut stop_rx => break,
                            accepted = listener.accept() => match accepted {
                                Ok((socket, _)) => socket,
                                Err(_) => continue,
                            },
                        };
                        let conn = http
                            .serve_connection(hyper_util::rt::TokioIo::new(socket), service.clone())
                            .into_owned();
                        tokio::spawn(async move {
                            let _ = conn.await;
                        });
                    }
                });
                // Open connections are dropped with the runtime.
                rt.shutdown_timeout(Duration::from_secs(2));
            })
            .expect("spawn s3 server thread");
        let addr = addr_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("s3 server did not start");
        let endpoint = format!("http://{addr}");
        let client_rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("s3 client runtime");
        let client = s3_client(&endpoint, S3_ACCESS_KEY, S3_SECRET_KEY);
        S3Server {
            endpoint,
            shutdown: Some(stop_tx),
            thread: Some(thread),
            client,
            client_rt,
            _root: root,
        }
    }

    /// `http://127.0.0.1:PORT`, the value for `AWS_ENDPOINT_URL_S3`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Create a bucket; panics on failure.
    pub fn create_bucket(&self, bucket: &str) {
        self.client_rt
            .block_on(self.client.create_bucket().bucket(bucket).send())
            .unwrap_or_else(|e| panic!("create bucket {bucket}: {}", sdk_error(&e)));
    }

    /// Put an object; panics on failure.
    pub fn put(&self, bucket: &str, key: &str, data: impl Into<Vec<u8>>) {
        let data = data.into();
        self.client_rt
            .block_on(
                self.client
                    .put_object()
                    .bucket(bucket)
                    .key(key)
                    .body(ByteStream::from(data))
                    .send(),
            )
            .unwrap_or_else(|e| panic!("put s3://{bucket}/{key}: {}", sdk_error(&e)));
    }

    /// An object's bytes, `None` when it does not exist (NoSuchKey);
    /// panics on any other failure.
    pub fn get(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        self.client_rt.block_on(async {
            match self
                .client
                .get_object()
                .bucket(bucket)
                .key(key)
                .send()
                .await
            {
                Ok(resp) => Some(
                    resp.body
                        .collect()
                        .await
                        .unwrap_or_else(|e| panic!("read s3://{bucket}/{key}: {e}"))
                        .to_vec(),
                ),
                Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => None,
                Err(e) => panic!("get s3://{bucket}/{key}: {}", sdk_error(&e)),
            }
        })
    }

    /// Every key in a bucket, sorted (names starting with `.` skipped: s3s-fs
    /// sidecar files).
    pub fn keys(&self, bucket: &str) -> Vec<String> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client_rt
                .block_on(
                    self.client
                        .list_objects_v2()
                        .bucket(bucket)
                        .set_continuation_token(token.clone())
                        .send(),
                )
                .unwrap_or_else(|e| panic!("list s3://{bucket}: {}", sdk_error(&e)));
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key())
                    .filter(|k| !k.rsplit('/').next().unwrap_or(k).starts_with('.'))
                    .map(str::to_owned),
            );
            match page.next_continuation_token() {
                Some(t) if page.is_truncated() == Some(true) => token = Some(t.to_owned()),
                _ => break,
            }
        }
        keys.sort();
        keys
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// An aws-sdk-s3 client for a custom endpoint, built as the supervisor
/// builds its own (`src/stage.rs`): explicit credentials, path-style.
pub fn s3_client(endpoint: &str, access_key: &str, secret_key: &str) -> aws_sdk_s3::Client {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let config = aws_sdk_s3::Config::builder()
        .behavior_version_latest()
        .region(Region::new(S3_REGION))
        .credentials_provider(Credentials::new(
            access_key, secret_key, None, None, "tests",
        ))
        .http_client(http)
        .endpoint_url(endpoint)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

fn sdk_error<E: std::error::Error + 'static>(e: &aws_sdk_s3::error::SdkError<E>) -> String {
    aws_sdk_s3::error::DisplayErrorContext(e).to_string()
}
