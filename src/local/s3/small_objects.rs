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

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use s3s::crypto::{Checksum as _, Md5};
use s3s::dto::*;
use s3s::{S3Error, S3ErrorCode, S3Request, S3Response, S3Result};
use serde::{Deserialize, Serialize};

use super::layout::Layout;

/// Largest object taken here; larger ones stream through s3s-fs.
pub(crate) const SMALL_OBJECT: u64 = 1024 * 1024;

/// An object's `.metadata.json`: s3s-fs 0.14.1's `ObjectAttributes`
/// (fs.rs), field for field.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Attributes {
    #[serde(skip_serializing_if = "Option::is_none")]
    user_metadata: Option<Metadata>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_encoding: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_disposition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cache_control: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    website_redirect_location: Option<String>,
}

/// The checksums s3s-fs keeps in an object's `.internal.json`, with its
/// ETag (s3s-fs 0.14.1 `checksum.rs`).
const CHECKSUM_KEYS: [&str; 5] = [
    "checksum_crc32",
    "checksum_crc32c",
    "checksum_sha1",
    "checksum_sha256",
    "checksum_crc64nvme",
];

fn checksum_fields(c: &mut Checksum) -> [&mut Option<String>; 5] {
    [
        &mut c.checksum_crc32,
        &mut c.checksum_crc32c,
        &mut c.checksum_sha1,
        &mut c.checksum_sha256,
        &mut c.checksum_crc64nvme,
    ]
}

/// An internal failure, logged with its cause and answered as s3s-fs does.
fn internal(what: &str, e: impl std::fmt::Display) -> S3Error {
    tracing::error!(error = %e, "{what}");
    S3Error::with_message(S3ErrorCode::InternalError, format!("{what}: {e}"))
}

fn no_such_bucket(bucket: &str) -> S3Error {
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

/// Writes `bytes` to `dest` through a temp file in the s3s-fs root, named
/// as s3s-fs names its own so that its start-up removes leftovers.
fn write_via_temp(root: &Path, dest: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = root.join(format!(
        ".tmp.small-{}.internal.part",
        uuid::Uuid::new_v4().simple()
    ));
    let written = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(bytes))
        .and_then(|()| {
            if let Some(parent) = dest.parent()
                && !parent.is_dir()
            {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::rename(&tmp, dest)
        });
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// PutObject for a request [`takes_put`] accepted. Returns the response and
/// the object's size (for the event).
pub(crate) async fn put(
    layout: &Layout,
    mut req: S3Request<PutObjectInput>,
) -> S3Result<(S3Response<PutObjectOutput>, u64)> {
    let input = &mut req.input;
    if let Some(class) = &input.storage_class
        && !["STANDARD", "REDUCED_REDUNDANCY"].contains(&class.as_str())
    {
        return Err(S3Error::new(S3ErrorCode::InvalidStorageClass));
    }
    let mut hasher = s3s::checksum::ChecksumHasher::default();
    let requested = [
        input.checksum_crc32.is_some(),
        input.checksum_crc32c.is_some(),
        input.checksum_sha1.is_some(),
        input.checksum_sha256.is_some(),
        input.checksum_crc64nvme.is_some(),
    ];
    let by_algorithm = input.checksum_algorithm.as_ref().map(|a| a.as_str());
    let wants = |i: usize, name: &str| requested[i] || by_algorithm == Some(name);
    if let Some(a) = by_algorithm
        && ![
            ChecksumAlgorithm::CRC32,
            ChecksumAlgorithm::CRC32C,
            ChecksumAlgorithm::SHA1,
            ChecksumAlgorithm::SHA256,
            ChecksumAlgorithm::CRC64NVME,
        ]
        .contains(&a)
    {
        return Err(S3Error::with_message(
            S3ErrorCode::NotImplemented,
            "Unsupported checksum algorithm",
        ));
    }
    if wants(0, ChecksumAlgorithm::CRC32) {
        hasher.crc32 = Some(Default::default());
    }
    if wants(1, ChecksumAlgorithm::CRC32C) {
        hasher.crc32c = Some(Default::default());
    }
    if wants(2, ChecksumAlgorithm::SHA1) {
        hasher.sha1 = Some(Default::default());
    }
    if wants(3, ChecksumAlgorithm::SHA256) {
        hasher.sha256 = Some(Default::default());
    }
    if wants(4, ChecksumAlgorithm::CRC64NVME) {
        hasher.crc64nvme = Some(Default::default());
    }

    let declared = input.content_length.unwrap_or(0) as usize;
    let mut body = input
        .body
        .take()
        .ok_or_else(|| S3Error::new(S3ErrorCode::IncompleteBody))?;
    let mut data = BytesMut::with_capacity(declared);
    let mut md5 = Md5::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| internal("reading the request body failed", e))?;
        if data.len() + chunk.len() > declared {
            return Err(S3Error::with_message(
                S3ErrorCode::IncompleteBody,
                "the body is longer than its declared length",
            ));
        }
        md5.update(&chunk);
        hasher.update(&chunk);
        data.extend_from_slice(&chunk);
    }
    let data = data.freeze();
    let md5_sum = hex::encode(md5.finalize());
    if let Some(content_md5) = &input.content_md5 {
        use base64::Engine as _;
        let given = base64::engine::general_purpose::STANDARD
            .decode(content_md5)
            .map_err(|_| S3Error::new(S3ErrorCode::InvalidArgument))?;
        if hex::encode(given) != md5_sum {
            return Err(S3Error::with_message(
                S3ErrorCode::BadDigest,
                "content_md5 mismatch",
            ));
        }
    }
    // Checksums sent after the body (aws-chunked trailers), as s3s-fs reads them.
    if let Some(trailers) = req.trailing_headers.as_ref().and_then(|t| t.take()) {
        let mut given = Checksum {
            checksum_crc32: input.checksum_crc32.take(),
            checksum_crc32c: input.checksum_crc32c.take(),
            checksum_sha1: input.checksum_sha1.take(),
            checksum_sha256: input.checksum_sha256.take(),
            checksum_crc64nvme: input.checksum_crc64nvme.take(),
            ..Default::default()
        };
        for (key, field) in CHECKSUM_KEYS.iter().zip(checksum_fields(&mut given)) {
            let header = format!("x-amz-{}", key.replace('_', "-"));
            if let Some(v) = trailers.get(header.as_str()) {
                *field = Some(
                    v.to_str()
                        .map_err(|_| S3Error::new(S3ErrorCode::InvalidArgument))?
                        .to_owned(),
                );
            }
        }
        input.checksum_crc32 = given.checksum_crc32;
        input.checksum_crc32c = given.checksum_crc32c;
        input.checksum_sha1 = given.checksum_sha1;
        input.checksum_sha256 = given.checksum_sha256;
        input.checksum_crc64nvme = given.checksum_crc64nvme;
    }
    let mut computed = hasher.finalize();
    let given = [
        &input.checksum_crc32,
        &input.checksum_crc32c,
        &input.checksum_sha1,
        &input.checksum_sha256,
        &input.checksum_crc64nvme,
    ];
    for ((key, mine), theirs) in CHECKSUM_KEYS
        .iter()
        .zip(checksum_fields(&mut computed))
        .zip(given)
    {
        if *mine != *theirs {
            return Err(S3Error::with_message(
                S3ErrorCode::BadDigest,
                format!(
                    "{key} mismatch: expected `{}`, got `{}`",
                    theirs.as_deref().unwrap_or_default(),
                    mine.as_deref().unwrap_or_default()
                ),
            ));
        }
    }

    let mut attributes = Attributes {
        user_metadata: input.metadata.take(),
        content_encoding: input.content_encoding.take(),
        content_type: input.content_type.take(),
        content_disposition: input.content_disposition.take(),
        content_language: input.content_language.take(),
        cache_control: input.cache_control.take(),
        expires: None,
        website_redirect_location: input.website_redirect_location.take(),
    };
    if let Some(ts) = &input.expires {
        let mut buf = Vec::new();
        if ts.format(TimestampFormat::DateTime, &mut buf).is_ok() {
            attributes.expires = Some(String::from_utf8_lossy(&buf).into_owned());
        }
    }
    let mut info = serde_json::Map::new();
    info.insert("e_tag".into(), md5_sum.clone().into());
    for (key, value) in CHECKSUM_KEYS.iter().zip(checksum_fields(&mut computed)) {
        if let Some(v) = value {
            info.insert((*key).into(), v.clone().into());
        }
    }
    let attributes =
        serde_json::to_vec(&attributes).map_err(|e| internal("encoding metadata", e))?;
    let info = serde_json::to_vec(&info).map_err(|e| internal("encoding checksums", e))?;

    let (bucket, key) = (input.bucket.clone(), input.key.clone());
    let paths = Paths::of(layout, &bucket, &key);
    let size = data.len() as u64;
    tokio::task::spawn_blocking(move || {
        if !paths.bucket.is_dir() {
            return Err(no_such_bucket(&bucket));
        }
        write_via_temp(&paths.root, &paths.object, &data)
            .and_then(|()| write_via_temp(&paths.root, &paths.metadata, &attributes))
            .and_then(|()| write_via_temp(&paths.root, &paths.internal, &info))
            .map_err(|e| internal(&format!("cannot store s3://{bucket}/{key}"), e))
    })
    .await
    .map_err(|e| internal("the write task failed", e))??;

    let output = PutObjectOutput {
        e_tag: Some(ETag::Strong(md5_sum)),
        checksum_crc32: computed.checksum_crc32,
        checksum_crc32c: computed.checksum_crc32c,
        checksum_sha1: computed.checksum_sha1,
        checksum_sha256: computed.checksum_sha256,
        checksum_crc64nvme: computed.checksum_crc64nvme,
        ..Default::default()
    };
    Ok((S3Response::new(output), size))
}

/// The files of one object.
struct Paths {
    root: PathBuf,
    bucket: PathBuf,
    object: PathBuf,
    metadata: PathBuf,
    internal: PathBuf,
}

impl Paths {
    fn of(layout: &Layout, bucket: &str, key: &str) -> Paths {
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

/// What a get read.
struct Read {
    data: Bytes,
    modified: SystemTime,
    attributes: Option<Attributes>,
    info: Option<serde_json::Map<String, serde_json::Value>>,
}

/// GetObject for a request [`takes_get`] accepted; `None` when the object
/// is not small after all and s3s-fs must serve it.
pub(crate) async fn get(
    layout: &Layout,
    input: &GetObjectInput,
) -> S3Result<Option<S3Response<GetObjectOutput>>> {
    let bucket = input.bucket.clone();
    let paths = Paths::of(layout, &bucket, &input.key);
    // `None`: larger than SMALL_OBJECT, or not a file (a folder marker).
    let read = tokio::task::spawn_blocking(move || -> S3Result<Option<Read>> {
        let Ok(mut file) = std::fs::File::open(&paths.object) else {
            return Err(if paths.bucket.is_dir() {
                S3Error::new(S3ErrorCode::NoSuchKey)
            } else {
                no_such_bucket(&bucket)
            });
        };
        let meta = file
            .metadata()
            .map_err(|e| internal("cannot read an object's attributes", e))?;
        if !meta.is_file() || meta.len() > SMALL_OBJECT {
            return Ok(None);
        }
        let mut data = Vec::with_capacity(meta.len() as usize);
        std::io::Read::read_to_end(&mut file, &mut data)
            .map_err(|e| internal("cannot read an object", e))?;
        // As s3s-fs: an unreadable sidecar is an error, a missing one is not.
        let sidecar = |path: &Path| -> S3Result<Option<Vec<u8>>> {
            match std::fs::read(path) {
                Ok(b) => Ok(Some(b)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(internal("cannot read an object's metadata", e)),
            }
        };
        let attributes = match sidecar(&paths.metadata)? {
            None => None,
            Some(b) => Some(match serde_json::from_slice::<Attributes>(&b) {
                Ok(a) => a,
                // s3s-fs's older format: the user metadata alone.
                Err(_) => Attributes {
                    user_metadata: Some(
                        serde_json::from_slice(&b)
                            .map_err(|e| internal("cannot parse an object's metadata", e))?,
                    ),
                    ..Default::default()
                },
            }),
        };
        let info = match sidecar(&paths.internal)? {
            None => None,
            Some(b) => Some(
                serde_json::from_slice(&b)
                    .map_err(|e| internal("cannot parse an object's checksums", e))?,
            ),
        };
        Ok(Some(Read {
            data: Bytes::from(data),
            modified: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            attributes,
            info,
        }))
    })
    .await
    .map_err(|e| internal("the read task failed", e))??;
    let Some(Read {
        data,
        modified,
        attributes,
        info,
    }) = read
    else {
        return Ok(None);
    };
    let e_tag = info
        .as_ref()
        .and_then(|i| i.get("e_tag")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| hex::encode(Md5::checksum(&data)));
    let mut checksum = Checksum::default();
    if let Some(info) = &info {
        for (key, field) in CHECKSUM_KEYS.iter().zip(checksum_fields(&mut checksum)) {
            *field = info.get(*key).and_then(|v| v.as_str()).map(str::to_owned);
        }
    }
    let a = attributes.unwrap_or_default();
    let expires = a
        .expires
        .as_deref()
        .and_then(|s| Timestamp::parse(TimestampFormat::DateTime, s).ok());
    let output = GetObjectOutput {
        content_length: Some(data.len() as i64),
        body: Some(StreamingBlob::from(s3s::Body::from(data))),
        last_modified: Some(Timestamp::from(modified)),
        metadata: a.user_metadata,
        content_encoding: a.content_encoding,
        content_type: a.content_type,
        content_disposition: a.content_disposition,
        content_language: a.content_language,
        cache_control: a.cache_control,
        expires,
        website_redirect_location: a.website_redirect_location,
        e_tag: Some(ETag::Strong(e_tag)),
        checksum_crc32: checksum.checksum_crc32,
        checksum_crc32c: checksum.checksum_crc32c,
        checksum_sha1: checksum.checksum_sha1,
        checksum_sha256: checksum.checksum_sha256,
        checksum_crc64nvme: checksum.checksum_crc64nvme,
        ..Default::default()
    };
    Ok(Some(S3Response::new(output)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use s3s::S3 as _;

    fn request<T>(input: T) -> S3Request<T> {
        S3Request {
            input,
            method: http::Method::GET,
            uri: http::Uri::from_static("/"),
            headers: http::HeaderMap::new(),
            extensions: http::Extensions::new(),
            credentials: None,
            region: None,
            service: None,
            trailing_headers: None,
        }
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
