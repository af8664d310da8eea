//! The local cloud's S3, driven only through the real aws-sdk-s3 client:
//! objects, multipart, notification configurations, the events they fire,
//! sidecar clean-up, SigV4, and state across restarts.
//!
//! Events are observed with a recording sink: the S3 service from
//! `s3::build` is served by a tiny hyper server in the test, so the events
//! are checked without the Lambda service that receives them in the cloud.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::operation::{RequestId, RequestIdExt};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    CompletedMultipartUpload, CompletedPart, Delete, Event, FilterRule, FilterRuleName,
    LambdaFunctionConfiguration, NotificationConfiguration, NotificationConfigurationFilter,
    ObjectIdentifier, S3KeyFilter,
};
use hyper_util::rt::{TokioExecutor, TokioIo};
use scar_local::AccessKey;
use scar_local::s3::{self, ObjectCreatedSink};
use serde_json::Value;

use crate::util;

const F1: &str = "arn:aws:lambda:us-east-1:000000000000:function:f1";
const F2: &str = "arn:aws:lambda:us-east-1:000000000000:function:f2";
const F3: &str = "arn:aws:lambda:us-east-1:000000000000:function:f3";
const REGION: &str = "us-east-1";
const KEY: &str = "in dir/naïve file.txt";

/// Remembers every event handed to it.
#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<(String, Value)>>,
}

impl Recorder {
    fn take(&self) -> Vec<(String, Value)> {
        std::mem::take(&mut *self.events.lock().unwrap())
    }
}

impl ObjectCreatedSink for Recorder {
    fn object_created(&self, function_arn: &str, event: Value) {
        self.events
            .lock()
            .unwrap()
            .push((function_arn.to_owned(), event));
    }
}

/// The S3 service of `s3::build` on a loopback port, with a recording sink.
struct Direct {
    endpoint: String,
    key: AccessKey,
    sink: Arc<Recorder>,
    server: tokio::task::JoinHandle<()>,
}

impl Direct {
    async fn start(dir: &Path) -> Direct {
        let key = AccessKey {
            access_key_id: "AKIALOCALTEST0000001".into(),
            secret_access_key: "local-test-secret-0000000000000000000000".into(),
        };
        let sink = Arc::new(Recorder::default());
        let service = s3::build(
            dir,
            &key,
            REGION,
            sink.clone(),
            scar_contract::time::Clock::system(),
        )
        .expect("s3 builds");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let service = service.clone();
                tokio::spawn(async move {
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Direct {
            endpoint,
            key,
            sink,
            server,
        }
    }

    fn client(&self) -> aws_sdk_s3::Client {
        client_at(
            &self.endpoint,
            &self.key.access_key_id,
            &self.key.secret_access_key,
        )
    }
}

impl Drop for Direct {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn client_at(endpoint: &str, access_key_id: &str, secret: &str) -> aws_sdk_s3::Client {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version_latest()
        .region(aws_sdk_s3::config::Region::new(REGION))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            access_key_id,
            secret,
            None,
            None,
            "test",
        ))
        .endpoint_url(endpoint)
        .http_client(http)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

fn lambda_config(
    id: &str,
    arn: &str,
    events: &[&str],
    rules: &[(FilterRuleName, &str)],
) -> LambdaFunctionConfiguration {
    let mut b = LambdaFunctionConfiguration::builder()
        .id(id)
        .lambda_function_arn(arn);
    for e in events {
        b = b.events(Event::from(*e));
    }
    if !rules.is_empty() {
        let mut key = S3KeyFilter::builder();
        for (name, value) in rules {
            key = key.filter_rules(
                FilterRule::builder()
                    .name(name.clone())
                    .value(*value)
                    .build(),
            );
        }
        b = b.filter(
            NotificationConfigurationFilter::builder()
                .key(key.build())
                .build(),
        );
    }
    b.build().unwrap()
}

/// Four configurations that do not overlap.
fn four_configs() -> Vec<LambdaFunctionConfiguration> {
    vec![
        lambda_config(
            "in-txt",
            F1,
            &["s3:ObjectCreated:*"],
            &[
                (FilterRuleName::Prefix, "in+dir/"),
                (FilterRuleName::Suffix, ".txt"),
            ],
        ),
        lambda_config(
            "copies",
            F2,
            &["s3:ObjectCreated:Copy"],
            &[(FilterRuleName::Prefix, "copies/")],
        ),
        lambda_config(
            "big",
            F2,
            &["s3:ObjectCreated:CompleteMultipartUpload"],
            &[(FilterRuleName::Prefix, "big/")],
        ),
        lambda_config(
            "logs",
            F3,
            &["s3:ObjectCreated:Put"],
            &[
                (FilterRuleName::Prefix, "logs/"),
                (FilterRuleName::Suffix, ".log"),
            ],
        ),
    ]
}

/// Creates the functions F1..F3 and lets S3 invoke them from `bucket`: S3
/// refuses notifications to functions that do not exist or whose policy
/// does not allow s3.amazonaws.com, as AWS does.
async fn allow_targets(cloud: &util::Cloud, bucket: &str) {
    use aws_sdk_lambda::primitives::Blob;
    let l = util::lambda(cloud.get(), None);
    for name in ["f1", "f2", "f3"] {
        l.create_function()
            .function_name(name)
            .runtime(aws_sdk_lambda::types::Runtime::Providedal2023)
            .role("arn:aws:iam::000000000000:role/scar")
            .code(
                aws_sdk_lambda::types::FunctionCode::builder()
                    .zip_file(Blob::new(util::zip_of("#!/bin/sh\nexit 0\n", None)))
                    .build(),
            )
            .send()
            .await
            .expect("create target function");
        l.add_permission()
            .function_name(name)
            .statement_id("s3")
            .action("lambda:InvokeFunction")
            .principal("s3.amazonaws.com")
            .source_arn(format!("arn:aws:s3:::{bucket}"))
            .send()
            .await
            .expect("permission");
    }
}

async fn put_configs(
    c: &aws_sdk_s3::Client,
    bucket: &str,
    configs: Vec<LambdaFunctionConfiguration>,
) {
    c.put_bucket_notification_configuration()
        .bucket(bucket)
        .notification_configuration(
            NotificationConfiguration::builder()
                .set_lambda_function_configurations(Some(configs))
                .build(),
        )
        .send()
        .await
        .expect("notification configuration accepted");
}

async fn put(c: &aws_sdk_s3::Client, bucket: &str, key: &str, body: &[u8]) -> String {
    let out = c
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(body.to_vec()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("put {key}: {e:?}"));
    out.e_tag().unwrap().trim_matches('"').to_owned()
}

async fn get(c: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Vec<u8> {
    let out = c.get_object().bucket(bucket).key(key).send().await.unwrap();
    out.body.collect().await.unwrap().into_bytes().to_vec()
}

async fn keys(c: &aws_sdk_s3::Client, bucket: &str) -> Vec<String> {
    let out = c.list_objects_v2().bucket(bucket).send().await.unwrap();
    out.contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect()
}

/// s3s-fs's sidecar files left at the top of its root.
fn sidecars(buckets_root: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(buckets_root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(".bucket-"))
        })
        .collect()
}

fn record(event: &Value) -> &Value {
    let records = event["Records"].as_array().expect("Records array");
    assert_eq!(records.len(), 1, "{event}");
    &records[0]
}

async fn multipart(
    c: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    first: usize,
    second: usize,
) -> String {
    let up = c
        .create_multipart_upload()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    let id = up.upload_id().unwrap().to_owned();
    let mut parts = Vec::new();
    for (n, len) in [(1, first), (2, second)] {
        let body = vec![b'a' + n as u8; len];
        let p = c
            .upload_part()
            .bucket(bucket)
            .key(key)
            .upload_id(&id)
            .part_number(n)
            .body(ByteStream::from(body))
            .send()
            .await
            .unwrap();
        parts.push(
            CompletedPart::builder()
                .part_number(n)
                .e_tag(p.e_tag().unwrap())
                .build(),
        );
    }
    let listed = c
        .list_parts()
        .bucket(bucket)
        .key(key)
        .upload_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.parts().len(), 2);
    let done = c
        .complete_multipart_upload()
        .bucket(bucket)
        .key(key)
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .unwrap();
    done.e_tag().unwrap().trim_matches('"').to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn objects_multipart_and_listing_through_the_sdk() {
    let cloud = util::Cloud::start().await;
    let c = util::s3(cloud.get(), None);
    c.create_bucket().bucket("data").send().await.unwrap();
    let buckets = c.list_buckets().send().await.unwrap();
    assert!(buckets.buckets().iter().any(|b| b.name() == Some("data")));
    c.head_bucket().bucket("data").send().await.unwrap();

    put(&c, "data", KEY, b"hello").await;
    put(&c, "data", "a/b/c.txt", b"nested").await;
    assert_eq!(get(&c, "data", KEY).await, b"hello");
    let head = c
        .head_object()
        .bucket("data")
        .key(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_length(), Some(5));
    assert_eq!(
        keys(&c, "data").await,
        vec!["a/b/c.txt".to_owned(), KEY.to_owned()]
    );

    let big = 5 * 1024 * 1024;
    let etag = multipart(&c, "data", "big/blob.bin", big, 3).await;
    assert!(etag.ends_with("-2"), "{etag}");
    let body = get(&c, "data", "big/blob.bin").await;
    assert_eq!(body.len(), big + 3);
    assert_eq!(body[big], b'c');

    let copied = c
        .copy_object()
        .bucket("data")
        .key("copy.txt")
        .copy_source(format!("data/{}", urlencode(KEY)))
        .send()
        .await
        .unwrap();
    assert!(
        copied
            .copy_object_result()
            .and_then(|r| r.e_tag())
            .is_some()
    );
    assert_eq!(get(&c, "data", "copy.txt").await, b"hello");

    // An aborted upload leaves nothing behind.
    let up = c
        .create_multipart_upload()
        .bucket("data")
        .key("gone.bin")
        .send()
        .await
        .unwrap();
    c.abort_multipart_upload()
        .bucket("data")
        .key("gone.bin")
        .upload_id(up.upload_id().unwrap())
        .send()
        .await
        .unwrap();

    // S3's answers where s3s-fs alone would differ.
    let e = c
        .put_object()
        .bucket("nope")
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("NoSuchBucket"), "{e:?}");
    let e = c.delete_bucket().bucket("data").send().await.unwrap_err();
    assert_eq!(e.code(), Some("BucketNotEmpty"), "{e:?}");
    let e = c
        .get_object()
        .bucket("data")
        .key("missing")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("NoSuchKey"), "{e:?}");
    let e = c
        .put_object()
        .bucket("data")
        .key("a//b")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("InvalidArgument"), "{e:?}");
    let e = c
        .put_object()
        .bucket("data")
        .key("x/../../escape")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        e.code(),
        Some("InvalidArgument"),
        "a key with '..' must not reach the folder: {e:?}"
    );
    assert!(!cloud.dir.path().join("s3/buckets/escape").exists());

    // Delete everything: objects, then the bucket.
    c.delete_objects()
        .bucket("data")
        .delete(
            Delete::builder()
                .objects(ObjectIdentifier::builder().key(KEY).build().unwrap())
                .objects(
                    ObjectIdentifier::builder()
                        .key("a/b/c.txt")
                        .build()
                        .unwrap(),
                )
                .objects(
                    ObjectIdentifier::builder()
                        .key("big/blob.bin")
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    c.delete_object()
        .bucket("data")
        .key("copy.txt")
        .send()
        .await
        .unwrap();
    assert!(keys(&c, "data").await.is_empty());
    c.delete_bucket().bucket("data").send().await.unwrap();
    let e = c.head_bucket().bucket("data").send().await.unwrap_err();
    assert!(
        e.raw_response().is_some_and(|r| r.status().as_u16() == 404),
        "{e:?}"
    );
}

/// Percent-encodes a key for `x-amz-copy-source` (keeping '/').
fn urlencode(key: &str) -> String {
    let mut out = String::new();
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn deletes_leave_no_metadata_files() {
    let cloud = util::Cloud::start().await;
    let c = util::s3(cloud.get(), None);
    let root = cloud.dir.path().join("s3/buckets");
    c.create_bucket().bucket("meta").send().await.unwrap();
    for key in ["one.txt", "two.txt", "three.txt", KEY] {
        c.put_object()
            .bucket("meta")
            .key(key)
            .content_type("text/plain")
            .metadata("origin", "test")
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .unwrap();
    }
    // The sidecars exist while the objects do, and are never listed.
    assert_eq!(sidecars(&root).len(), 8);
    let mut listed = keys(&c, "meta").await;
    listed.sort();
    assert_eq!(listed, vec![KEY, "one.txt", "three.txt", "two.txt"]);
    let head = c
        .head_object()
        .bucket("meta")
        .key("one.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_type(), Some("text/plain"));
    assert_eq!(
        head.metadata()
            .and_then(|m| m.get("origin"))
            .map(String::as_str),
        Some("test")
    );

    c.delete_object()
        .bucket("meta")
        .key("one.txt")
        .send()
        .await
        .unwrap();
    c.delete_object()
        .bucket("meta")
        .key(KEY)
        .send()
        .await
        .unwrap();
    c.delete_objects()
        .bucket("meta")
        .delete(
            Delete::builder()
                .objects(ObjectIdentifier::builder().key("two.txt").build().unwrap())
                .objects(
                    ObjectIdentifier::builder()
                        .key("three.txt")
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert!(keys(&c, "meta").await.is_empty());
    assert_eq!(sidecars(&root), Vec::<PathBuf>::new());

    // A re-put of a deleted key does not resurrect its old metadata.
    c.put_object()
        .bucket("meta")
        .key("one.txt")
        .body(ByteStream::from_static(b"y"))
        .send()
        .await
        .unwrap();
    let head = c
        .head_object()
        .bucket("meta")
        .key("one.txt")
        .send()
        .await
        .unwrap();
    assert!(head.metadata().is_none_or(|m| m.is_empty()), "{head:?}");
    c.delete_object()
        .bucket("meta")
        .key("one.txt")
        .send()
        .await
        .unwrap();
    c.delete_bucket().bucket("meta").send().await.unwrap();
    assert_eq!(sidecars(&root), Vec::<PathBuf>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn notification_configurations_roundtrip_and_validate() {
    let cloud = util::Cloud::start().await;
    let c = util::s3(cloud.get(), None);
    c.create_bucket().bucket("notes").send().await.unwrap();
    allow_targets(&cloud, "notes").await;

    // Nothing configured yet.
    let got = c
        .get_bucket_notification_configuration()
        .bucket("notes")
        .send()
        .await
        .unwrap();
    assert!(got.lambda_function_configurations().is_empty());

    put_configs(&c, "notes", four_configs()).await;
    let got = c
        .get_bucket_notification_configuration()
        .bucket("notes")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.lambda_function_configurations(),
        four_configs().as_slice()
    );

    // Overlapping configurations are refused as a whole; the old ones stay.
    let overlapping = vec![
        lambda_config(
            "a",
            F1,
            &["s3:ObjectCreated:*"],
            &[(FilterRuleName::Prefix, "in/")],
        ),
        lambda_config(
            "b",
            F2,
            &["s3:ObjectCreated:Put"],
            &[(FilterRuleName::Suffix, ".jpg")],
        ),
    ];
    let e = c
        .put_bucket_notification_configuration()
        .bucket("notes")
        .notification_configuration(
            NotificationConfiguration::builder()
                .set_lambda_function_configurations(Some(overlapping))
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("InvalidArgument"), "{e:?}");
    assert!(
        e.message()
            .unwrap_or_default()
            .starts_with("Configurations overlap"),
        "{e:?}"
    );
    let got = c
        .get_bucket_notification_configuration()
        .bucket("notes")
        .send()
        .await
        .unwrap();
    assert_eq!(got.lambda_function_configurations().len(), 4);

    // A missing bucket.
    let e = c
        .put_bucket_notification_configuration()
        .bucket("missing")
        .notification_configuration(NotificationConfiguration::builder().build())
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("NoSuchBucket"), "{e:?}");
    let e = c
        .get_bucket_notification_configuration()
        .bucket("missing")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("NoSuchBucket"), "{e:?}");

    // The configuration is durable and lives outside the buckets' folder.
    let file = cloud.dir.path().join("s3/notifications/notes.json");
    assert!(file.exists());
    let listed = c.list_buckets().send().await.unwrap();
    let names: Vec<_> = listed.buckets().iter().filter_map(|b| b.name()).collect();
    assert_eq!(names, vec!["notes"]);

    // Deleting the bucket deletes its configuration; a new bucket of the same name starts clean.
    c.delete_bucket().bucket("notes").send().await.unwrap();
    assert!(!file.exists());
    c.create_bucket().bucket("notes").send().await.unwrap();
    let got = c
        .get_bucket_notification_configuration()
        .bucket("notes")
        .send()
        .await
        .unwrap();
    assert!(got.lambda_function_configurations().is_empty());

    // An empty configuration turns notifications off.
    put_configs(&c, "notes", four_configs()).await;
    put_configs(&c, "notes", vec![]).await;
    let got = c
        .get_bucket_notification_configuration()
        .bucket("notes")
        .send()
        .await
        .unwrap();
    assert!(got.lambda_function_configurations().is_empty());
    assert!(!file.exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_secret_is_refused() {
    let cloud = util::Cloud::start().await;
    let bad = util::s3(cloud.get(), Some("not-the-secret"));
    let e = bad.list_buckets().send().await.unwrap_err();
    assert_eq!(e.code(), Some("SignatureDoesNotMatch"), "{e:?}");
    let e = bad
        .create_bucket()
        .bucket("x-bucket")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("SignatureDoesNotMatch"), "{e:?}");
    let good = util::s3(cloud.get(), None);
    assert!(
        good.list_buckets()
            .send()
            .await
            .unwrap()
            .buckets()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn objects_and_configurations_survive_a_restart() {
    let mut cloud = util::Cloud::start().await;
    {
        let c = util::s3(cloud.get(), None);
        c.create_bucket().bucket("keep").send().await.unwrap();
        allow_targets(&cloud, "keep").await;
        put(&c, "keep", KEY, b"persisted").await;
        put_configs(&c, "keep", four_configs()).await;
    }
    cloud.restart().await;
    let c = util::s3(cloud.get(), None);
    assert_eq!(get(&c, "keep", KEY).await, b"persisted");
    assert_eq!(keys(&c, "keep").await, vec![KEY.to_owned()]);
    let got = c
        .get_bucket_notification_configuration()
        .bucket("keep")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.lambda_function_configurations(),
        four_configs().as_slice()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn created_objects_fire_matching_configurations_only() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = Direct::start(dir.path()).await;
    let c = s3.client();
    c.create_bucket().bucket("inbox").send().await.unwrap();
    put_configs(&c, "inbox", four_configs()).await;
    assert!(s3.sink.take().is_empty());

    // Put: the key with a space and a non-ASCII letter, URL-encoded in the event.
    let etag = put(&c, "inbox", KEY, b"hello world").await;
    let events = s3.sink.take();
    assert_eq!(events.len(), 1, "{events:?}");
    let (arn, event) = &events[0];
    assert_eq!(arn, F1);
    let r = record(event);
    assert_eq!(r["eventVersion"], "2.1");
    assert_eq!(r["eventSource"], "aws:s3");
    assert_eq!(r["awsRegion"], REGION);
    assert_eq!(r["eventName"], "ObjectCreated:Put");
    let time = r["eventTime"].as_str().unwrap();
    assert!(
        time.len() == 24 && time.ends_with('Z') && time.as_bytes()[19] == b'.',
        "{time}"
    );
    assert_eq!(r["userIdentity"]["principalId"], "AWS:local");
    assert_eq!(r["requestParameters"]["sourceIPAddress"], "127.0.0.1");
    assert_eq!(
        r["responseElements"]["x-amz-request-id"]
            .as_str()
            .unwrap()
            .len(),
        16
    );
    assert!(
        !r["responseElements"]["x-amz-id-2"]
            .as_str()
            .unwrap()
            .is_empty()
    );
    assert_eq!(r["s3"]["s3SchemaVersion"], "1.0");
    assert_eq!(r["s3"]["configurationId"], "in-txt");
    assert_eq!(r["s3"]["bucket"]["name"], "inbox");
    assert_eq!(r["s3"]["bucket"]["ownerIdentity"]["principalId"], "local");
    assert_eq!(r["s3"]["bucket"]["arn"], "arn:aws:s3:::inbox");
    assert_eq!(r["s3"]["object"]["key"], "in+dir/na%C3%AFve+file.txt");
    assert_eq!(r["s3"]["object"]["size"], 11);
    assert_eq!(r["s3"]["object"]["eTag"], etag.as_str());
    assert_eq!(etag.len(), 32);
    let first_sequencer = r["s3"]["object"]["sequencer"].as_str().unwrap().to_owned();
    assert!(first_sequencer.chars().all(|c| c.is_ascii_hexdigit()));

    // Not matching: wrong suffix, wrong prefix, Put where only Copy or
    // CompleteMultipartUpload is configured, suffix case.
    put(&c, "inbox", "in dir/picture.png", b"x").await;
    put(&c, "inbox", "out/naïve file.txt", b"x").await;
    put(&c, "inbox", "copies/direct.txt", b"x").await;
    put(&c, "inbox", "big/small.bin", b"x").await;
    put(&c, "inbox", "logs/app.LOG", b"x").await;
    assert_eq!(s3.sink.take(), vec![]);

    // Put on the "logs" configuration; the event carries the request id
    // the client saw.
    let out = c
        .put_object()
        .bucket("inbox")
        .key("logs/app.log")
        .body(ByteStream::from_static(b"log line"))
        .send()
        .await
        .unwrap();
    let events = s3.sink.take();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].0, F3);
    let r = record(&events[0].1);
    assert_eq!(r["s3"]["configurationId"], "logs");
    assert_eq!(
        r["responseElements"]["x-amz-request-id"].as_str(),
        out.request_id()
    );
    assert_eq!(
        r["responseElements"]["x-amz-id-2"].as_str(),
        out.extended_request_id()
    );

    // Copy: fires "copies" (Copy only) and, into in dir/, "in-txt" (ObjectCreated:*).
    let source = format!("inbox/{}", urlencode(KEY));
    c.copy_object()
        .bucket("inbox")
        .key("copies/x.txt")
        .copy_source(&source)
        .send()
        .await
        .unwrap();
    c.copy_object()
        .bucket("inbox")
        .key("in dir/copy.txt")
        .copy_source(&source)
        .send()
        .await
        .unwrap();
    let events = s3.sink.take();
    assert_eq!(events.len(), 2, "{events:?}");
    let (a, b) = (record(&events[0].1), record(&events[1].1));
    assert_eq!(events[0].0, F2);
    assert_eq!(a["eventName"], "ObjectCreated:Copy");
    assert_eq!(a["s3"]["configurationId"], "copies");
    assert_eq!(a["s3"]["object"]["key"], "copies/x.txt");
    assert_eq!(a["s3"]["object"]["size"], 11);
    assert_eq!(a["s3"]["object"]["eTag"], etag.as_str());
    assert_eq!(events[1].0, F1);
    assert_eq!(b["eventName"], "ObjectCreated:Copy");
    assert_eq!(b["s3"]["configurationId"], "in-txt");
    assert_eq!(b["s3"]["object"]["key"], "in+dir/copy.txt");
    let later_sequencer = b["s3"]["object"]["sequencer"].as_str().unwrap();
    assert!(later_sequencer > first_sequencer.as_str());

    // CompleteMultipartUpload on "big".
    let big = 5 * 1024 * 1024;
    let etag = multipart(&c, "inbox", "big/blob bin", big, 1).await;
    let events = s3.sink.take();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].0, F2);
    let r = record(&events[0].1);
    assert_eq!(r["eventName"], "ObjectCreated:CompleteMultipartUpload");
    assert_eq!(r["s3"]["configurationId"], "big");
    assert_eq!(r["s3"]["object"]["key"], "big/blob+bin");
    assert_eq!(r["s3"]["object"]["size"], big + 1);
    assert_eq!(r["s3"]["object"]["eTag"], etag.as_str());
    assert!(etag.ends_with("-2"));

    // Failed requests fire nothing.
    let e = c
        .put_object()
        .bucket("inbox")
        .key("a//b.txt")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await;
    assert!(e.is_err());
    assert_eq!(s3.sink.take(), vec![]);
}

#[tokio::test(flavor = "multi_thread")]
async fn events_keep_firing_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s3 = Direct::start(dir.path()).await;
        let c = s3.client();
        c.create_bucket().bucket("inbox").send().await.unwrap();
        put_configs(&c, "inbox", four_configs()).await;
    }
    let s3 = Direct::start(dir.path()).await;
    let c = s3.client();
    put(&c, "inbox", "in dir/after restart.txt", b"again").await;
    let events = s3.sink.take();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(
        record(&events[0].1)["s3"]["object"]["key"],
        "in+dir/after+restart.txt"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn notifications_need_an_existing_function_that_allows_s3() {
    let cloud = util::Cloud::start().await;
    let c = util::s3(cloud.get(), None);
    c.create_bucket().bucket("guarded").send().await.unwrap();
    let config = |arn: &str| {
        NotificationConfiguration::builder()
            .lambda_function_configurations(lambda_config("g", arn, &["s3:ObjectCreated:*"], &[]))
            .build()
    };
    // No such function.
    let e = c
        .put_bucket_notification_configuration()
        .bucket("guarded")
        .notification_configuration(config(F1))
        .send()
        .await
        .unwrap_err();
    assert!(
        format!("{}", aws_sdk_s3::error::DisplayErrorContext(&e)).contains("Unable to validate"),
        "{e:?}"
    );
    allow_targets(&cloud, "guarded").await;
    c.put_bucket_notification_configuration()
        .bucket("guarded")
        .notification_configuration(config(F1))
        .send()
        .await
        .expect("accepted once the function exists and allows S3");
}
