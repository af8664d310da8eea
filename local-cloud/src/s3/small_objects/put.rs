//! PutObject of a small object: checked as s3s-fs checks it, then its
//! three files written in one blocking call.

use std::io::Write;
use std::path::Path;

use bytes::BytesMut;
use futures_util::StreamExt;
use s3s::crypto::{Checksum as _, Md5};
use s3s::dto::*;
use s3s::{S3Error, S3ErrorCode, S3Request, S3Response, S3Result};

use super::{Attributes, CHECKSUM_KEYS, Paths, checksum_fields, internal, no_such_bucket};
use crate::s3::layout::Layout;

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
