//! GetObject of a small object: the object and its sidecar files read in
//! one blocking call.

use std::path::Path;
use std::time::SystemTime;

use bytes::Bytes;
use s3s::crypto::{Checksum as _, Md5};
use s3s::dto::*;
use s3s::{S3Error, S3ErrorCode, S3Response, S3Result};

use super::{
    Attributes, CHECKSUM_KEYS, Paths, SMALL_OBJECT, checksum_fields, internal, no_such_bucket,
};
use crate::s3::layout::Layout;

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
