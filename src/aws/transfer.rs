//! Moving files: uploads (multipart above 64 MiB, parts in parallel,
//! aborted on failure or cancellation so nothing half-written stays),
//! folder uploads that keep their structure, and prefix downloads written
//! temp-then-rename per file, their listing streamed.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_s3::primitives::{ByteStream, Length};
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

use super::objects::{ObjectError, join_key, local_path};
use super::{AwsError, Cloud};

/// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html>).
pub const MULTIPART_THRESHOLD: u64 = 64 * 1024 * 1024;
/// The smallest part we send (S3's minimum is 5 MiB).
const PART_SIZE: u64 = 16 * 1024 * 1024;
/// S3's limit on parts per upload.
const MAX_PARTS: u64 = 10_000;
/// Parts of one file in flight at once.
const PART_PARALLELISM: usize = 4;

/// Transfer counters, shared with whoever draws progress.
#[derive(Debug, Default)]
pub struct Transfer {
    /// Files done.
    pub files: AtomicU64,
    /// Bytes done.
    pub bytes: AtomicU64,
    /// Files known so far (grows while a listing streams).
    pub total_files: AtomicU64,
    /// Bytes known so far.
    pub total_bytes: AtomicU64,
    /// Files sent in parts.
    pub multipart: AtomicU64,
}

/// What an upload or download did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct TransferSummary {
    /// The bucket.
    pub bucket: String,
    /// The prefix.
    pub prefix: String,
    /// Files transferred.
    pub files: u64,
    /// Bytes transferred.
    pub bytes: u64,
    /// Files sent in parts.
    pub multipart: u64,
}

/// A file to upload and its key.
#[derive(Debug, Clone)]
struct Upload {
    path: PathBuf,
    key: String,
    size: u64,
}

/// Every file under `paths`, with the key it takes under `prefix`: a file
/// keeps its name, a folder's files keep their path relative to it
/// (`aws s3 cp --recursive` and SCAR's `put` do the same). Symlinks to
/// files are followed; symlinked folders are not (no loops).
fn plan_uploads(prefix: &str, paths: &[PathBuf]) -> Result<Vec<Upload>, ObjectError> {
    let mut out = Vec::new();
    for root in paths {
        let meta = std::fs::metadata(root).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ObjectError::Missing { path: root.clone() },
            _ => ObjectError::io(root, e),
        })?;
        if meta.is_file() {
            let name = root
                .file_name()
                .ok_or_else(|| ObjectError::Missing { path: root.clone() })?
                .to_str()
                .ok_or_else(|| ObjectError::NotUtf8 { path: root.clone() })?;
            out.push(Upload {
                path: root.clone(),
                key: join_key(prefix, name),
                size: meta.len(),
            });
            continue;
        }
        let mut stack = vec![(root.clone(), String::new())];
        while let Some((dir, rel)) = stack.pop() {
            let mut entries: Vec<_> = std::fs::read_dir(&dir)
                .map_err(|e| ObjectError::io(&dir, e))?
                .collect::<Result<_, _>>()
                .map_err(|e| ObjectError::io(&dir, e))?;
            entries.sort_by_key(|e| e.file_name());
            for entry in entries {
                let path = entry.path();
                let name = entry
                    .file_name()
                    .into_string()
                    .map_err(|_| ObjectError::NotUtf8 { path: path.clone() })?;
                let rel_name = if rel.is_empty() {
                    name
                } else {
                    format!("{rel}/{name}")
                };
                let kind = entry.file_type().map_err(|e| ObjectError::io(&path, e))?;
                if kind.is_dir() {
                    stack.push((path, rel_name));
                } else if kind.is_file() || kind.is_symlink() {
                    match std::fs::metadata(&path) {
                        Ok(m) if m.is_file() => out.push(Upload {
                            key: join_key(prefix, &rel_name),
                            path,
                            size: m.len(),
                        }),
                        // A symlinked folder or a dangling link: skipped.
                        Ok(_) | Err(_) if kind.is_symlink() => {}
                        Ok(_) => {}
                        Err(e) => return Err(ObjectError::io(&path, e)),
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Aborts a multipart upload unless disarmed: on failure, and on
/// cancellation (the future dropped mid-upload), so no parts linger.
struct AbortGuard {
    s3: aws_sdk_s3::Client,
    bucket: String,
    key: String,
    upload_id: String,
    armed: bool,
}

impl Drop for AbortGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let req = self
            .s3
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(&self.upload_id);
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                let _ = req.send().await;
            });
        }
    }
}

impl Cloud {
    /// Uploads one file as `key`; multipart above [`MULTIPART_THRESHOLD`].
    /// Adds to `progress.bytes` as parts land. Returns the size.
    pub async fn put_file(
        &self,
        bucket: &str,
        key: &str,
        path: &Path,
        progress: &Transfer,
    ) -> Result<u64, ObjectError> {
        let size = tokio::fs::metadata(path)
            .await
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => ObjectError::Missing {
                    path: path.to_owned(),
                },
                _ => ObjectError::io(path, e),
            })?
            .len();
        let target = || format!("s3://{bucket}/{key}");
        if size <= MULTIPART_THRESHOLD {
            let body = ByteStream::read_from()
                .path(path)
                .build()
                .await
                .map_err(|e| ObjectError::io(path, std::io::Error::other(e)))?;
            self.s3
                .put_object()
                .bucket(bucket)
                .key(key)
                .body(body)
                .send()
                .await
                .map_err(|e| AwsError::call("PutObject", target(), &e))?;
            progress.bytes.fetch_add(size, Ordering::Relaxed);
            return Ok(size);
        }
        let part_size = PART_SIZE.max(size.div_ceil(MAX_PARTS).next_multiple_of(1024 * 1024));
        let parts = size.div_ceil(part_size);
        let created = self
            .s3
            .create_multipart_upload()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| AwsError::call("CreateMultipartUpload", target(), &e))?;
        let upload_id = created.upload_id().unwrap_or_default().to_owned();
        let mut guard = AbortGuard {
            s3: self.s3.clone(),
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            upload_id: upload_id.clone(),
            armed: true,
        };
        let results: Vec<Result<CompletedPart, ObjectError>> =
            futures_util::stream::iter(1..=parts)
                .map(|n| {
                    let upload_id = upload_id.clone();
                    async move {
                        let offset = (n - 1) * part_size;
                        let len = part_size.min(size - offset);
                        let body = ByteStream::read_from()
                            .path(path)
                            .offset(offset)
                            .length(Length::Exact(len))
                            .build()
                            .await
                            .map_err(|e| ObjectError::io(path, std::io::Error::other(e)))?;
                        let out = self
                            .s3
                            .upload_part()
                            .bucket(bucket)
                            .key(key)
                            .upload_id(&upload_id)
                            .part_number(n as i32)
                            .body(body)
                            .send()
                            .await
                            .map_err(|e| {
                                AwsError::call("UploadPart", format!("{} part {n}", target()), &e)
                            })?;
                        progress.bytes.fetch_add(len, Ordering::Relaxed);
                        Ok(CompletedPart::builder()
                            .part_number(n as i32)
                            .set_e_tag(out.e_tag().map(str::to_owned))
                            .build())
                    }
                })
                .buffered(PART_PARALLELISM)
                .collect()
                .await;
        // The guard aborts the upload if any part failed.
        let completed: Vec<CompletedPart> = results.into_iter().collect::<Result<_, _>>()?;
        self.s3
            .complete_multipart_upload()
            .bucket(bucket)
            .key(key)
            .upload_id(&upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(completed))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| AwsError::call("CompleteMultipartUpload", target(), &e))?;
        guard.armed = false;
        progress.multipart.fetch_add(1, Ordering::Relaxed);
        Ok(size)
    }

    /// Uploads files and folders under `prefix`, `concurrency` files at a
    /// time. Every path is checked before anything is sent.
    pub async fn put_paths(
        &self,
        bucket: &str,
        prefix: &str,
        paths: &[PathBuf],
        concurrency: usize,
        progress: Arc<Transfer>,
    ) -> Result<TransferSummary, ObjectError> {
        let owned = (prefix.to_owned(), paths.to_vec());
        let plan = tokio::task::spawn_blocking(move || plan_uploads(&owned.0, &owned.1))
            .await
            .map_err(|e| ObjectError::io(Path::new("."), std::io::Error::other(e)))??;
        progress
            .total_files
            .store(plan.len() as u64, Ordering::Relaxed);
        progress
            .total_bytes
            .store(plan.iter().map(|u| u.size).sum(), Ordering::Relaxed);
        let results: Vec<Result<u64, ObjectError>> = futures_util::stream::iter(plan)
            .map(|u| {
                let progress = progress.clone();
                async move {
                    let n = self.put_file(bucket, &u.key, &u.path, &progress).await?;
                    progress.files.fetch_add(1, Ordering::Relaxed);
                    Ok(n)
                }
            })
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
        let mut summary = TransferSummary {
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
            ..Default::default()
        };
        for r in results {
            summary.bytes += r?;
            summary.files += 1;
        }
        summary.multipart = progress.multipart.load(Ordering::Relaxed);
        Ok(summary)
    }

    /// Downloads one object to `dest`: written beside it under a temporary
    /// name, then renamed, so `dest` is never half-written.
    pub async fn get_file(
        &self,
        bucket: &str,
        key: &str,
        dest: &Path,
        progress: &Transfer,
    ) -> Result<u64, ObjectError> {
        let parent = dest.parent().unwrap_or(Path::new("."));
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(|e| ObjectError::io(parent, e))?;
        let out = self.open_object(bucket, key).await?;
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = parent.join(format!(".{name}.{}.part", uuid::Uuid::new_v4().simple()));
        let result: Result<u64, ObjectError> = async {
            let mut file = tokio::fs::File::create(&tmp)
                .await
                .map_err(|e| ObjectError::io(&tmp, e))?;
            let mut body = out.body;
            let mut n = 0u64;
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|e| AwsError::Call {
                    op: "GetObject",
                    target: format!("s3://{bucket}/{key}"),
                    code: "RequestFailed".into(),
                    message: e.to_string(),
                })?;
                file.write_all(&chunk)
                    .await
                    .map_err(|e| ObjectError::io(&tmp, e))?;
                n += chunk.len() as u64;
                progress
                    .bytes
                    .fetch_add(chunk.len() as u64, Ordering::Relaxed);
            }
            file.flush().await.map_err(|e| ObjectError::io(&tmp, e))?;
            drop(file);
            tokio::fs::rename(&tmp, dest)
                .await
                .map_err(|e| ObjectError::io(dest, e))?;
            Ok(n)
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
        }
        result
    }

    /// Downloads every object under `prefix` into `dir`, keeping the key
    /// structure below the prefix. The listing streams: pages are fetched
    /// as downloads finish. An empty prefix is not an error.
    pub async fn get_prefix(
        &self,
        bucket: &str,
        prefix: &str,
        dir: &Path,
        concurrency: usize,
        progress: Arc<Transfer>,
    ) -> Result<TransferSummary, ObjectError> {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| ObjectError::io(dir, e))?;
        let mut pages = self.list_objects(bucket, prefix);
        let mut running = tokio::task::JoinSet::new();
        let mut summary = TransferSummary {
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
            ..Default::default()
        };
        let mut first_error: Option<ObjectError> = None;
        fn collect(
            r: Result<Result<u64, ObjectError>, tokio::task::JoinError>,
            summary: &mut TransferSummary,
            first_error: &mut Option<ObjectError>,
            dir: &Path,
        ) {
            match r {
                Ok(Ok(n)) => {
                    summary.files += 1;
                    summary.bytes += n;
                }
                Ok(Err(e)) => {
                    first_error.get_or_insert(e);
                }
                Err(e) => {
                    first_error.get_or_insert(ObjectError::io(dir, std::io::Error::other(e)));
                }
            }
        }
        'pages: while let Some(page) = match pages.next_page().await {
            Ok(p) => p,
            Err(e) => {
                first_error.get_or_insert(e.into());
                None
            }
        } {
            for obj in page {
                if obj.key.ends_with('/') {
                    continue; // a folder marker
                }
                // A key that cannot be a path stops the download, after
                // the files in flight are finished (no temporary file left).
                let dest = match local_path(bucket, &obj.key, prefix, dir) {
                    Ok(d) => d,
                    Err(e) => {
                        first_error.get_or_insert(e);
                        break 'pages;
                    }
                };
                progress.total_files.fetch_add(1, Ordering::Relaxed);
                progress.total_bytes.fetch_add(obj.size, Ordering::Relaxed);
                while running.len() >= concurrency.max(1) {
                    if let Some(r) = running.join_next().await {
                        collect(r, &mut summary, &mut first_error, dir);
                    }
                }
                if first_error.is_some() {
                    break 'pages;
                }
                let (cloud, bucket, progress) = (self.clone(), bucket.to_owned(), progress.clone());
                running.spawn(async move {
                    let n = cloud.get_file(&bucket, &obj.key, &dest, &progress).await?;
                    progress.files.fetch_add(1, Ordering::Relaxed);
                    Ok(n)
                });
            }
        }
        while let Some(r) = running.join_next().await {
            collect(r, &mut summary, &mut first_error, dir);
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(summary),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_keep_folder_structure_and_missing_paths_are_named() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("f/sub dir")).unwrap();
        std::fs::write(d.path().join("f/a.txt"), "a").unwrap();
        std::fs::write(d.path().join("f/sub dir/ü.txt"), "bb").unwrap();
        std::fs::write(d.path().join("one.txt"), "c").unwrap();
        let plan = plan_uploads("in", &[d.path().join("f"), d.path().join("one.txt")]).unwrap();
        let mut keys: Vec<_> = plan.iter().map(|u| (u.key.as_str(), u.size)).collect();
        keys.sort();
        assert_eq!(
            keys,
            vec![("in/a.txt", 1), ("in/one.txt", 1), ("in/sub dir/ü.txt", 2)]
        );
        let missing = d.path().join("nope");
        match plan_uploads("", std::slice::from_ref(&missing)) {
            Err(e @ ObjectError::Missing { .. }) => assert!(e.to_string().contains("nope")),
            other => panic!("{other:?}"),
        }
    }
}
