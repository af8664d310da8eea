//! S3 for the local cloud: s3s over an s3s-fs folder, plus the bucket
//! notifications s3s-fs lacks, so that objects landing in a bucket trigger
//! Lambda functions as on AWS (DESIGN.md, "Two backends, one code path").
//!
//! Layout of the S3 data folder:
//! - `buckets/`: the s3s-fs root, one folder per bucket (and s3s-fs's
//!   sidecar files at its top);
//! - `notifications/`: one JSON file per bucket with a notification
//!   configuration, kept outside the root so it is never taken for a bucket.
//!
//! The parts: `service` implements `s3s::S3` over s3s-fs;
//! `notification_api` validates put configurations and answers gets;
//! `notifications` matches events to configurations; `notification_store`
//! keeps them on disk; `event` builds the S3 event records; `layout`
//! knows s3s-fs's files; `small_objects` puts and gets small objects in
//! that layout in one blocking call instead of s3s-fs's dozen.

mod event;
mod layout;
mod notification_api;
mod notification_store;
mod notifications;
mod records;
mod service;
mod small_objects;

use std::path::Path;
use std::sync::Arc;

use super::LocalError;
use super::keys::AccessKey;

/// Where `s3:ObjectCreated:*` notifications for Lambda functions go.
///
/// It is called on the S3 request's task once the object is in place (so an
/// event is handed over before the client sees success), once per matching
/// configuration: implementations must only queue the invocation and return.
pub trait ObjectCreatedSink: Send + Sync + 'static {
    /// Queues an asynchronous invocation of `function_arn` with an S3 event
    /// (`{"Records":[...]}`, one record).
    fn object_created(&self, function_arn: &str, event: serde_json::Value);

    /// Whether S3 may notify `function_arn` for `bucket`: on AWS,
    /// PutBucketNotificationConfiguration fails with "Unable to validate the
    /// following destination configurations" unless the function exists and
    /// its resource policy lets `s3.amazonaws.com` invoke it. The default
    /// accepts every destination.
    fn accepts_destination(&self, function_arn: &str, bucket: &str) -> bool {
        let _ = (function_arn, bucket);
        true
    }
}

pub use records::RecordWriter;

/// Builds the S3 service over the S3 data folder `dir`, checking SigV4
/// against `key` and reporting created objects in `region` to `sink`.
pub fn build(
    dir: &Path,
    key: &AccessKey,
    region: &str,
    sink: Arc<dyn ObjectCreatedSink>,
    clock: scar_contract::time::Clock,
) -> Result<s3s::service::S3Service, LocalError> {
    let s3 = service::LocalS3::open(dir, region, sink, clock)?;
    let mut b = s3s::service::S3ServiceBuilder::new(s3);
    b.set_auth(s3s::auth::SimpleAuth::from_single(
        key.access_key_id.clone(),
        key.secret_access_key.clone(),
    ));
    Ok(b.build())
}
