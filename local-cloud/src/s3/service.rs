//! [`LocalS3`]: the `s3s::S3` implementation of the local cloud. It hands
//! every operation s3s-fs implements to an inner [`s3s_fs::FileSystem`] and
//! adds what s3s-fs lacks and Lambda triggers need: bucket notification
//! configurations, `s3:ObjectCreated:*` events, sidecar clean-up after
//! deletes, and a few AWS answers s3s-fs does not give (NoSuchBucket on puts
//! to a missing bucket, BucketNotEmpty, the bucket's region).
//!
//! Every other operation is left to s3s's default, NotImplemented.

use std::path::Path;
use std::sync::Arc;

use http::HeaderMap;
use s3s::dto::*;
use s3s::{S3, S3Error, S3ErrorCode, S3Request, S3Response, S3Result};

use super::ObjectCreatedSink;
use super::event::{CreatedBy, ObjectCreated, RequestIds, Sequencer, encode_key};
use super::layout::{Layout, check_key};
use super::notification_api;
use super::notification_store::NotificationStore;
use super::small_objects;
use crate::LocalError;

/// The MD5 of zero bytes: the ETag S3 gives an empty object (s3s-fs gives
/// none to a folder marker `key/`).
const EMPTY_ETAG: &str = "d41d8cd98f00b204e9800998ecf8427e";

/// The local S3: s3s-fs plus notifications.
pub(crate) struct LocalS3 {
    fs: s3s_fs::FileSystem,
    layout: Layout,
    notifications: NotificationStore,
    sink: Arc<dyn ObjectCreatedSink>,
    region: String,
    sequencer: Sequencer,
    clock: scar_contract::time::Clock,
}

impl std::fmt::Debug for LocalS3 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalS3")
            .field("layout", &self.layout)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

fn no_such_bucket(bucket: &str) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::NoSuchBucket,
        format!("The specified bucket does not exist: {bucket}"),
    )
}

/// An internal failure, logged with its cause and answered as S3 does.
fn internal(what: &str, e: impl std::fmt::Display) -> S3Error {
    tracing::error!(error = %e, "{what}");
    S3Error::with_message(S3ErrorCode::InternalError, format!("{what}: {e}"))
}

impl LocalS3 {
    /// Opens the S3 data under `dir`: s3s-fs's root at `dir/buckets`, the
    /// notification configurations at `dir/notifications`.
    pub(crate) fn open(
        dir: &Path,
        region: &str,
        sink: Arc<dyn ObjectCreatedSink>,
        clock: scar_contract::time::Clock,
    ) -> Result<LocalS3, LocalError> {
        let root = dir.join("buckets");
        crate::create_dir_placed_at_random(&root).map_err(|e| LocalError::io(&root, e))?;
        // s3s-fs canonicalises its root; the layout must resolve paths the same way.
        let root = root.canonicalize().map_err(|e| LocalError::io(&root, e))?;
        let fs = s3s_fs::FileSystem::new(&root).map_err(|e| LocalError::Corrupt {
            path: root.clone(),
            detail: format!("s3s-fs cannot open it: {e:?}"),
        })?;
        let notifications = NotificationStore::open(&dir.join("notifications"), &root)?;
        Ok(LocalS3 {
            fs,
            layout: Layout::new(root),
            notifications,
            sink,
            region: region.to_owned(),
            sequencer: Sequencer::new(),
            clock,
        })
    }

    async fn require_bucket(&self, bucket: &str) -> S3Result<()> {
        if self.layout.bucket_exists(bucket).await {
            Ok(())
        } else {
            Err(no_such_bucket(bucket))
        }
    }

    /// After an object was created: sets the request ids on the response and
    /// hands one event per matching configuration to the sink. `size` is
    /// the object's, when the caller knows it.
    async fn object_created(
        &self,
        headers: &mut HeaderMap,
        created_by: CreatedBy,
        bucket: &str,
        key: &str,
        etag: Option<&ETag>,
        size: Option<u64>,
    ) {
        let ids = RequestIds::generate();
        ids.insert_into(headers);
        let Some(conf) = self.notifications.get(bucket) else {
            return;
        };
        let targets = conf.targets(created_by.event_name(), &encode_key(key));
        if targets.is_empty() {
            return;
        }
        let size = match size {
            Some(n) => n,
            None => match tokio::fs::metadata(self.layout.object_path(bucket, key)).await {
                Ok(m) if m.is_file() => m.len(),
                _ => 0,
            },
        };
        let sequencer = self.sequencer.next();
        let created = ObjectCreated {
            region: &self.region,
            created_by,
            time: self.clock.now(),
            ids: &ids,
            bucket,
            key,
            size,
            etag: etag.map_or(EMPTY_ETAG, ETag::value),
            sequencer: &sequencer,
        };
        for (id, arn) in targets {
            self.sink.object_created(&arn, created.to_event(&id));
        }
    }

    async fn remove_sidecars(&self, bucket: &str, key: &str) {
        if let Err(e) = self.layout.remove_object_sidecars(bucket, key).await {
            // The object is gone either way; a leftover sidecar is only clutter.
            tracing::warn!(bucket, key, error = %e, "cannot remove the object's metadata files");
        }
    }
}

fn copy_source(source: &CopySource) -> S3Result<(&str, &str)> {
    match source {
        CopySource::Bucket { bucket, key, .. } => Ok((bucket, key)),
        _ => Err(S3Error::with_message(
            S3ErrorCode::NotImplemented,
            "the local cloud copies from bucket/key sources only (no access points or outposts)",
        )),
    }
}

#[async_trait::async_trait]
impl S3 for LocalS3 {
    async fn create_bucket(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        let bucket = req.input.bucket.clone();
        let changes = self.notifications.lock_changes().await;
        let resp = self.fs.create_bucket(req).await?;
        // A new bucket starts without notifications, whatever a crash left behind.
        if let Err(e) = self.notifications.remove(&changes, &bucket).await {
            tracing::warn!(bucket, error = %e, "cannot clear a stale notification configuration");
        }
        Ok(resp)
    }

    async fn delete_bucket(
        &self,
        req: S3Request<DeleteBucketInput>,
    ) -> S3Result<S3Response<DeleteBucketOutput>> {
        let bucket = req.input.bucket.clone();
        let changes = self.notifications.lock_changes().await;
        self.require_bucket(&bucket).await?;
        // s3s-fs would remove a bucket with its objects; S3 refuses.
        match self.layout.bucket_has_objects(&bucket).await {
            Ok(false) => {}
            Ok(true) => {
                return Err(S3Error::with_message(
                    S3ErrorCode::BucketNotEmpty,
                    format!("The bucket you tried to delete is not empty: {bucket}"),
                ));
            }
            Err(e) => return Err(internal(&format!("cannot read bucket {bucket}"), e)),
        }
        let resp = self.fs.delete_bucket(req).await?;
        if let Err(e) = self.notifications.remove(&changes, &bucket).await {
            tracing::warn!(bucket, error = %e, "cannot remove the deleted bucket's notification configuration");
        }
        if let Err(e) = self.layout.remove_bucket_sidecars(&bucket).await {
            tracing::warn!(bucket, error = %e, "cannot remove the deleted bucket's metadata files");
        }
        Ok(resp)
    }

    async fn head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        self.fs.head_bucket(req).await
    }

    async fn list_buckets(
        &self,
        req: S3Request<ListBucketsInput>,
    ) -> S3Result<S3Response<ListBucketsOutput>> {
        self.fs.list_buckets(req).await
    }

    async fn get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        let mut resp = self.fs.get_bucket_location(req).await?;
        // S3 answers null for us-east-1 and the region's name elsewhere.
        if self.region != "us-east-1" {
            resp.output.location_constraint =
                Some(BucketLocationConstraint::from(self.region.clone()));
        }
        Ok(resp)
    }

    async fn list_objects(
        &self,
        req: S3Request<ListObjectsInput>,
    ) -> S3Result<S3Response<ListObjectsOutput>> {
        self.fs.list_objects(req).await
    }

    async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        self.fs.list_objects_v2(req).await
    }

    async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        check_key(&req.input.key)?;
        if small_objects::takes_get(&req.input)
            && let Some(resp) = small_objects::get(&self.layout, &req.input).await?
        {
            return Ok(resp);
        }
        self.require_bucket(&req.input.bucket).await?;
        self.fs.get_object(req).await
    }

    async fn head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        check_key(&req.input.key)?;
        self.fs.head_object(req).await
    }

    async fn put_object(
        &self,
        req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
        check_key(&key)?;
        let (mut resp, size) = if small_objects::takes_put(&req.input) {
            let (resp, size) = small_objects::put(&self.layout, req).await?;
            (resp, Some(size))
        } else {
            // s3s-fs would create the bucket's folder, and so the bucket.
            self.require_bucket(&bucket).await?;
            (self.fs.put_object(req).await?, None)
        };
        let etag = resp.output.e_tag.clone();
        self.object_created(
            &mut resp.headers,
            CreatedBy::Put,
            &bucket,
            &key,
            etag.as_ref(),
            size,
        )
        .await;
        Ok(resp)
    }

    async fn copy_object(
        &self,
        req: S3Request<CopyObjectInput>,
    ) -> S3Result<S3Response<CopyObjectOutput>> {
        let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
        check_key(&key)?;
        let (_, source_key) = copy_source(&req.input.copy_source)?;
        check_key(source_key)?;
        let mut resp = self.fs.copy_object(req).await?;
        let etag = resp
            .output
            .copy_object_result
            .as_ref()
            .and_then(|r| r.e_tag.clone());
        self.object_created(
            &mut resp.headers,
            CreatedBy::Copy,
            &bucket,
            &key,
            etag.as_ref(),
            None,
        )
        .await;
        Ok(resp)
    }

    async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
        check_key(&key)?;
        let resp = self.fs.delete_object(req).await?;
        self.remove_sidecars(&bucket, &key).await;
        Ok(resp)
    }

    async fn delete_objects(
        &self,
        req: S3Request<DeleteObjectsInput>,
    ) -> S3Result<S3Response<DeleteObjectsOutput>> {
        let bucket = req.input.bucket.clone();
        let keys: Vec<String> = req
            .input
            .delete
            .objects
            .iter()
            .map(|o| o.key.clone())
            .collect();
        for key in &keys {
            check_key(key)?;
        }
        self.require_bucket(&bucket).await?;
        let resp = self.fs.delete_objects(req).await?;
        for key in &keys {
            self.remove_sidecars(&bucket, key).await;
        }
        Ok(resp)
    }

    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        check_key(&req.input.key)?;
        self.require_bucket(&req.input.bucket).await?;
        self.fs.create_multipart_upload(req).await
    }

    async fn upload_part(
        &self,
        req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        self.fs.upload_part(req).await
    }

    async fn upload_part_copy(
        &self,
        req: S3Request<UploadPartCopyInput>,
    ) -> S3Result<S3Response<UploadPartCopyOutput>> {
        let (_, source_key) = copy_source(&req.input.copy_source)?;
        check_key(source_key)?;
        self.fs.upload_part_copy(req).await
    }

    async fn list_parts(
        &self,
        req: S3Request<ListPartsInput>,
    ) -> S3Result<S3Response<ListPartsOutput>> {
        self.fs.list_parts(req).await
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
        check_key(&key)?;
        self.require_bucket(&bucket).await?;
        let mut resp = self.fs.complete_multipart_upload(req).await?;
        // s3s-fs answers through a keep-alive future that is ready at once;
        // resolve it here to learn the ETag (the object is already in place).
        if let Some(done) = resp.output.future.take() {
            resp.output = done.await?;
        }
        let etag = resp.output.e_tag.clone();
        self.object_created(
            &mut resp.headers,
            CreatedBy::CompleteMultipartUpload,
            &bucket,
            &key,
            etag.as_ref(),
            None,
        )
        .await;
        Ok(resp)
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        self.fs.abort_multipart_upload(req).await
    }

    async fn put_bucket_notification_configuration(
        &self,
        req: S3Request<PutBucketNotificationConfigurationInput>,
    ) -> S3Result<S3Response<PutBucketNotificationConfigurationOutput>> {
        let input = req.input;
        let changes = self.notifications.lock_changes().await;
        self.require_bucket(&input.bucket).await?;
        let conf = notification_api::from_request(input.notification_configuration, &self.region)?;
        if input.skip_destination_validation != Some(true) {
            for target in &conf.lambda {
                if !self
                    .sink
                    .accepts_destination(&target.function_arn, &input.bucket)
                {
                    return Err(S3Error::with_message(
                        S3ErrorCode::InvalidArgument,
                        format!(
                            "Unable to validate the following destination configurations: {} (the function \
                             must exist and allow s3.amazonaws.com to invoke it: AddPermission)",
                            target.function_arn
                        ),
                    ));
                }
            }
        }
        self.notifications
            .put(&changes, &input.bucket, conf)
            .await
            .map_err(|e| internal("cannot store the notification configuration", e))?;
        Ok(S3Response::new(PutBucketNotificationConfigurationOutput {}))
    }

    async fn get_bucket_notification_configuration(
        &self,
        req: S3Request<GetBucketNotificationConfigurationInput>,
    ) -> S3Result<S3Response<GetBucketNotificationConfigurationOutput>> {
        self.require_bucket(&req.input.bucket).await?;
        let stored = self
            .notifications
            .get(&req.input.bucket)
            .unwrap_or_default();
        Ok(S3Response::new(notification_api::to_response(&stored)))
    }
}
