//! PutObject and GetObject of small objects, each in one blocking call, in
//! s3s-fs's own layout.
//!
//! s3s-fs does every file operation through `tokio::fs`, a hop to a
//! blocking thread and back per call: a put took about fifteen (the object,
//! then each of its two sidecar files created, written, flushed, its folder
//! made, renamed), a get about seven. The local cloud's traffic is small
//! files, each written and read once per invocation, so those hops, not
//! the bytes, were the cost of S3 on every invocation's critical path.
//!
//! Here an object of at most [`SMALL_OBJECT`] bytes is held in memory and
//! its three files are written (each to a temp file, then renamed, as
//! s3s-fs does) or read in a single blocking call, byte for byte in the
//! format s3s-fs reads and writes ([`super::layout`]): either side reads
//! what the other wrote. The checks are s3s-fs's own (storage class,
//! checksums from headers or trailers, Content-MD5). Everything else, i.e.
//! conditional, ranged or folder-marker requests and larger bodies, is
//! left to s3s-fs.

use std::path::PathBuf;

use s3s::dto::*;
use s3s::{S3Error, S3ErrorCode};
use serde::{Deserialize, Serialize};

use super::layout::Layout;

mod get;
mod put;

pub(crate) use get::get;
pub(crate) use put::put;

/// Largest object taken here; larger ones stream through s3s-fs.
pub(crate) const SMALL_OBJECT: u64 = 1024 * 1024;

/// An object's `.metadata.json`: s3s-fs 0.14.1's `ObjectAttributes`
/// (fs.rs), field for field.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct Attributes {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) user_metadata: Option<Metadata>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) content_encoding: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) content_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) content_disposition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) content_language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) cache_control: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) expires: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) website_redirect_location: Option<String>,
}

/// The checksums s3s-fs keeps in an object's `.internal.json`, with its
/// ETag (s3s-fs 0.14.1 `checksum.rs`).
pub(super) const CHECKSUM_KEYS: [&str; 5] = [
    "checksum_crc32",
    "checksum_crc32c",
    "checksum_sha1",
    "checksum_sha256",
    "checksum_crc64nvme",
];

pub(super) fn checksum_fields(c: &mut Checksum) -> [&mut Option<String>; 5] {
    [
        &mut c.checksum_crc32,
        &mut c.checksum_crc32c,
        &mut c.checksum_sha1,
        &mut c.checksum_sha256,
        &mut c.checksum_crc64nvme,
    ]
}

/// An internal failure, logged with its cause and answered as s3s-fs does.
pub(super) fn internal(what: &str, e: impl std::fmt::Display) -> S3Error {
    tracing::error!(error = %e, "{what}");
    S3Error::with_message(S3ErrorCode::InternalError, format!("{what}: {e}"))
}

pub(super) fn no_such_bucket(bucket: &str) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::NoSuchBucket,
        format!("The specified bucket does not exist: {bucket}"),
    )
}

/// Whether this module takes a put: a small body, no condition, a plain key.
pub(crate) fn takes_put(input: &PutObjectInput) -> bool {
    input.body.is_some()
        && input
            .content_length
            .is_some_and(|n| (0..=SMALL_OBJECT as i64).contains(&n))
        && input.if_match.is_none()
        && input.if_none_match.is_none()
        && !input.key.ends_with('/')
}

/// Whether this module takes a get: the whole object, no condition.
pub(crate) fn takes_get(input: &GetObjectInput) -> bool {
    input.range.is_none() && input.part_number.is_none()
}

/// The files of one object.
pub(super) struct Paths {
    pub(super) root: PathBuf,
    pub(super) bucket: PathBuf,
    pub(super) object: PathBuf,
    pub(super) metadata: PathBuf,
    pub(super) internal: PathBuf,
}

impl Paths {
    pub(super) fn of(layout: &Layout, bucket: &str, key: &str) -> Paths {
        let [metadata, internal] = layout.sidecar_paths(bucket, key);
        Paths {
            root: layout.root().to_owned(),
            bucket: layout.bucket_path(bucket),
            object: layout.object_path(bucket, key),
            metadata,
            internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use futures_util::StreamExt;
    use s3s::S3 as _;
    use s3s::crypto::Checksum as _;
    use s3s::{S3Request, S3Response, S3Result};

    fn request<T>(input: T) -> S3Request<T> {
        crate::s3::records::in_process_request(
            input,
            http::Method::GET,
            http::Uri::from_static("/"),
        )
    }

    fn put_input(key: &str, body: &'static [u8]) -> PutObjectInput {
        let mut metadata = Metadata::new();
        metadata.insert("origin".into(), "test".into());
        PutObjectInput::builder()
            .bucket("b".into())
            .key(key.into())
            .body(Some(StreamingBlob::from(s3s::Body::from(
                Bytes::from_static(body),
            ))))
            .content_length(Some(body.len() as i64))
            .content_type(Some("text/plain".into()))
            .metadata(Some(metadata))
            .checksum_crc32(Some({
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD.encode(s3s::crypto::Crc32::checksum(body))
            }))
            .build()
            .unwrap()
    }

    async fn body_of(out: GetObjectOutput) -> Vec<u8> {
        let mut body = out.body.unwrap();
        let mut all = Vec::new();
        while let Some(chunk) = body.next().await {
            all.extend_from_slice(&chunk.unwrap());
        }
        all
    }

    /// What this module writes, s3s-fs reads, and the other way round.
    #[tokio::test]
    async fn same_files_as_s3s_fs() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir(root.join("b")).unwrap();
        let fs = s3s_fs::FileSystem::new(&root).unwrap();
        let layout = Layout::new(root.clone());

        // Ours, read back by s3s-fs (a ranged get goes to s3s-fs).
        let input = put_input("dir/ours.txt", b"hello, ours");
        assert!(takes_put(&input));
        let (resp, size) = put(&layout, request(input)).await.unwrap();
        assert_eq!(size, 11);
        let ours = resp.output;
        let got = fs
            .get_object(request(
                GetObjectInput::builder()
                    .bucket("b".into())
                    .key("dir/ours.txt".into())
                    .range(Some(Range::Int {
                        first: 7,
                        last: None,
                    }))
                    .build()
                    .unwrap(),
            ))
            .await
            .unwrap()
            .output;
        assert_eq!(got.e_tag, ours.e_tag);
        assert_eq!(got.content_type.as_deref(), Some("text/plain"));
        assert_eq!(got.metadata.as_ref().unwrap()["origin"], "test");
        assert_eq!(body_of(got).await, b"ours");

        // s3s-fs's, read back here.
        let theirs = fs
            .put_object(request(put_input("theirs.txt", b"hello, theirs")))
            .await
            .unwrap()
            .output;
        let get_input = GetObjectInput::builder()
            .bucket("b".into())
            .key("theirs.txt".into())
            .build()
            .unwrap();
        assert!(takes_get(&get_input));
        let got = get(&layout, &get_input).await.unwrap().unwrap().output;
        assert_eq!(got.e_tag, theirs.e_tag);
        assert!(got.checksum_crc32.is_some());
        assert_eq!(got.checksum_crc32, theirs.checksum_crc32);
        assert_eq!(got.content_type.as_deref(), Some("text/plain"));
        assert_eq!(got.metadata.as_ref().unwrap()["origin"], "test");
        assert_eq!(got.content_length, Some(13));
        assert_eq!(body_of(got).await, b"hello, theirs");
    }

    #[tokio::test]
    async fn missing_objects_buckets_and_bad_digests_are_s3_errors() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir(root.join("b")).unwrap();
        let layout = Layout::new(root);
        let get_of = |bucket: &str| {
            GetObjectInput::builder()
                .bucket(bucket.into())
                .key("nope".into())
                .build()
                .unwrap()
        };
        let code =
            |r: S3Result<Option<S3Response<GetObjectOutput>>>| r.err().map(|e| e.code().clone());
        assert_eq!(
            code(get(&layout, &get_of("b")).await),
            Some(S3ErrorCode::NoSuchKey)
        );
        assert_eq!(
            code(get(&layout, &get_of("x")).await),
            Some(S3ErrorCode::NoSuchBucket)
        );

        let mut input = put_input("k", b"data");
        input.checksum_crc32 = Some("AAAAAA==".into());
        let err = put(&layout, request(input)).await.err().unwrap();
        assert_eq!(*err.code(), S3ErrorCode::BadDigest);
        let mut input = put_input("k", b"data");
        input.bucket = "x".into();
        let err = put(&layout, request(input)).await.err().unwrap();
        assert_eq!(*err.code(), S3ErrorCode::NoSuchBucket);
        // Nothing was stored by the failed puts.
        assert!(!layout.object_path("b", "k").exists());
    }
}
