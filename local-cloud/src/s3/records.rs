//! Objects the cloud itself writes into S3: the records of asynchronous
//! invocations that failed every attempt, delivered to a function's
//! on-failure destination bucket as Lambda delivers them.
//!
//! It writes through s3s-fs's own `PutObject` over the same root as the S3
//! service (s3s-fs keeps no state beyond its files), so the objects are
//! ordinary objects to every client. Bucket notifications do not fire for
//! them.

use std::path::Path;

use futures_util::future::BoxFuture;
use s3s::S3;
use s3s::dto::{PutObjectInput, StreamingBlob};

use crate::LocalError;
use crate::lambda::RecordSink;

/// Writes objects into the local S3's buckets.
pub struct RecordWriter {
    fs: s3s_fs::FileSystem,
}

impl std::fmt::Debug for RecordWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordWriter").finish_non_exhaustive()
    }
}

impl RecordWriter {
    /// Over the S3 data under `dir` (the folder `build` was given).
    pub fn open(dir: &Path) -> Result<RecordWriter, LocalError> {
        let root = dir.join("buckets");
        let root = root.canonicalize().map_err(|e| LocalError::io(&root, e))?;
        let fs = s3s_fs::FileSystem::new(&root).map_err(|e| LocalError::Corrupt {
            path: root.clone(),
            detail: format!("s3s-fs cannot open it: {e:?}"),
        })?;
        Ok(RecordWriter { fs })
    }
}

/// A request made inside the cloud (no client, no credentials): how the
/// cloud calls s3s-fs itself, and how the tests do.
pub(crate) fn in_process_request<T>(
    input: T,
    method: http::Method,
    uri: http::Uri,
) -> s3s::S3Request<T> {
    s3s::S3Request {
        input,
        method,
        uri,
        headers: http::HeaderMap::new(),
        extensions: http::Extensions::new(),
        credentials: None,
        region: None,
        service: None,
        trailing_headers: None,
    }
}

impl RecordSink for RecordWriter {
    fn deliver(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
    ) -> BoxFuture<'_, std::io::Result<()>> {
        let uri = format!("/{bucket}/{key}").parse::<http::Uri>();
        let input = PutObjectInput {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            content_length: Some(body.len() as i64),
            content_type: Some("application/json".to_owned()),
            body: Some(StreamingBlob::from(s3s::Body::from(body))),
            ..Default::default()
        };
        let target = format!("s3://{bucket}/{key}");
        Box::pin(async move {
            let uri = uri.map_err(|e| std::io::Error::other(format!("{target}: {e}")))?;
            let req = in_process_request(input, http::Method::PUT, uri);
            self.fs
                .put_object(req)
                .await
                .map(|_| ())
                .map_err(|e| std::io::Error::other(format!("{target}: {e}")))
        })
    }
}
