//! S3 objects and the input a function reads them from: listings streamed
//! page by page (a 100,000-key prefix never sits in memory at once), file
//! uploads (multipart above 64 MiB, parts in parallel, aborted on failure so
//! nothing half-written stays), folder uploads that keep their structure,
//! and prefix downloads written temp-then-rename per file.
//!
//! Keys are S3's: any UTF-8, spaces and non-ASCII included. Local paths made
//! from keys resolve under the target folder; `..`, `.` and empty segments
//! are refused (STYLE.md rule 15).

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_s3::primitives::{ByteStream, Length};
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

use super::{AwsError, Cloud};

/// Files above this size go up in parts (S3 allows 5 GB in one PUT; parts
/// retry and run in parallel, see
/// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html>).
pub const MULTIPART_THRESHOLD: u64 = 64 * 1024 * 1024;
/// The smallest part we send (S3's minimum is 5 MiB).
const PART_SIZE: u64 = 16 * 1024 * 1024;
/// S3's limit on parts per upload.
const MAX_PARTS: u64 = 10_000;
/// Parts of one file in flight at once.
const PART_PARALLELISM: usize = 4;

/// A failure of an object operation, naming the bucket, key or path.
#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    /// A cloud call failed.
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// A local file or folder could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// A path to upload does not exist.
    #[error("{path}: no such file or folder")]
    Missing {
        /// The path.
        path: PathBuf,
    },
    /// A local name cannot become a key.
    #[error("{path}: the name is not valid UTF-8, so it cannot be an S3 key; rename it")]
    NotUtf8 {
        /// The path.
        path: PathBuf,
    },
    /// A key cannot become a local path under the target folder.
    #[error("s3://{bucket}/{key}: {why}; it cannot be written under {dir}")]
    UnsafeKey {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
        /// The target folder.
        dir: PathBuf,
        /// What is wrong with it.
        why: String,
    },
}

impl ObjectError {
    fn io(path: &Path, source: std::io::Error) -> ObjectError {
        ObjectError::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// One listed object.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ObjectInfo {
    /// Its key.
    pub key: String,
    /// Its size in bytes.
    pub size: u64,
}

/// A listing read one page (up to 1,000 keys) at a time.
#[derive(Debug)]
pub struct ObjectPages {
    s3: aws_sdk_s3::Client,
    bucket: String,
    prefix: String,
    token: Option<String>,
    done: bool,
}

impl ObjectPages {
    /// The next page, or `None` after the last one.
    pub async fn next_page(&mut self) -> Result<Option<Vec<ObjectInfo>>, AwsError> {
        if self.done {
            return Ok(None);
        }
        let out = self
            .s3
            .list_objects_v2()
            .bucket(&self.bucket)
            .set_prefix((!self.prefix.is_empty()).then(|| self.prefix.clone()))
            .set_continuation_token(self.token.take())
            .send()
            .await
            .map_err(|e| {
                AwsError::call(
                    "ListObjectsV2",
                    format!("s3://{}/{}", self.bucket, self.prefix),
                    &e,
                )
            })?;
        self.token = out.next_continuation_token().map(str::to_owned);
        self.done = !out.is_truncated().unwrap_or(false) || self.token.is_none();
        Ok(Some(
            out.contents()
                .iter()
                .filter_map(|o| {
                    Some(ObjectInfo {
                        key: o.key()?.to_owned(),
                        size: o.size().unwrap_or(0).max(0) as u64,
                    })
                })
                .collect(),
        ))
    }
}

/// Where a function reads its input: `SCAR_INPUT` of a deployed function.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FunctionInput {
    /// The input bucket.
    pub bucket: String,
    /// The key prefix ("" for the whole bucket).
    #[serde(default)]
    pub prefix: String,
    /// Key suffixes to take (all keys when empty).
    #[serde(default)]
    pub suffixes: Vec<String>,
}

impl FunctionInput {
    /// Whether a listed key is an input: not a folder marker, and ending in
    /// one of the suffixes when there are any.
    pub fn takes(&self, key: &str) -> bool {
        !key.ends_with('/')
            && (self.suffixes.is_empty() || self.suffixes.iter().any(|s| key.ends_with(s.as_str())))
    }
}

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

/// `prefix` + `/` + `rel`, without doubling or adding slashes.
pub fn join_key(prefix: &str, rel: &str) -> String {
    match prefix {
        "" => rel.to_owned(),
        p if p.ends_with('/') => format!("{p}{rel}"),
        p => format!("{p}/{rel}"),
    }
}

/// The local path a key takes under `dir`, its prefix removed; refuses
/// anything that would leave `dir`.
pub fn local_path(
    bucket: &str,
    key: &str,
    prefix: &str,
    dir: &Path,
) -> Result<PathBuf, ObjectError> {
    let unsafe_key = |why: &str| ObjectError::UnsafeKey {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        dir: dir.to_owned(),
        why: why.to_owned(),
    };
    let rel = key
        .strip_prefix(prefix)
        .ok_or_else(|| unsafe_key("it is outside the prefix"))?;
    let rel = rel.trim_start_matches('/');
    if rel.is_empty() {
        return Err(unsafe_key("it names the prefix itself"));
    }
    let mut path = dir.to_owned();
    for seg in rel.split('/') {
        match seg {
            "" => return Err(unsafe_key("it has an empty path segment (//)")),
            "." | ".." => return Err(unsafe_key("it has a . or .. segment")),
            s if s.contains('\0') => return Err(unsafe_key("it contains a NUL character")),
            s => {
                let p = Path::new(s);
                if p.components().count() != 1
                    || !matches!(p.components().next(), Some(Component::Normal(_)))
                {
                    return Err(unsafe_key("a segment is not a plain name"));
                }
                path.push(s);
            }
        }
    }
    Ok(path)
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
    /// The input a deployed function records in its `SCAR_INPUT` variable.
    pub async fn function_input(&self, function: &str) -> Result<Option<FunctionInput>, AwsError> {
        let cfg = self
            .lambda
            .get_function_configuration()
            .function_name(function)
            .send()
            .await
            .map_err(|e| AwsError::call("GetFunctionConfiguration", function, &e))?;
        let Some(text) = cfg
            .environment()
            .and_then(|e| e.variables())
            .and_then(|v| v.get("SCAR_INPUT"))
        else {
            return Ok(None);
        };
        serde_json::from_str(text).map(Some).map_err(|e| AwsError::Call {
            op: "GetFunctionConfiguration",
            target: function.to_owned(),
            code: "InvalidScarInput".into(),
            message: format!("SCAR_INPUT is not {{\"bucket\", \"prefix\", \"suffixes\"}} JSON ({e}); redeploy with `scar-tui init`"),
        })
    }

    /// A listing of `bucket` under `prefix`, read page by page.
    pub fn list_objects(&self, bucket: &str, prefix: &str) -> ObjectPages {
        ObjectPages {
            s3: self.s3.clone(),
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
            token: None,
            done: false,
        }
    }

    /// Creates `bucket` if it does not exist; true if it was created.
    pub async fn ensure_bucket(&self, bucket: &str) -> Result<bool, AwsError> {
        match self.s3.head_bucket().bucket(bucket).send().await {
            Ok(_) => Ok(false),
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => {
                let mut req = self.s3.create_bucket().bucket(bucket);
                // us-east-1 is the one region that takes no location constraint.
                if self.region != "us-east-1" && self.backend == super::Backend::Aws {
                    req = req.create_bucket_configuration(
                        aws_sdk_s3::types::CreateBucketConfiguration::builder()
                            .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(
                                self.region.as_str(),
                            ))
                            .build(),
                    );
                }
                req.send()
                    .await
                    .map_err(|e| AwsError::call("CreateBucket", bucket, &e))?;
                Ok(true)
            }
            Err(e) => Err(AwsError::call("HeadBucket", bucket, &e)),
        }
    }

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
        let out = self
            .s3
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| AwsError::call("GetObject", format!("s3://{bucket}/{key}"), &e))?;
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
        'pages: while let Some(page) = pages.next_page().await? {
            for obj in page {
                if obj.key.ends_with('/') {
                    continue; // a folder marker
                }
                let dest = local_path(bucket, &obj.key, prefix, dir)?;
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
    fn keys_map_to_paths_under_the_folder_only() {
        let dir = Path::new("/out");
        let p = |k: &str, pre: &str| local_path("b", k, pre, dir);
        assert_eq!(
            p("in/a b/é.txt", "in/").unwrap(),
            Path::new("/out/a b/é.txt")
        );
        assert_eq!(p("x.txt", "").unwrap(), Path::new("/out/x.txt"));
        for bad in ["in/../x", "in/a//b", "in/./x", "in/"] {
            assert!(
                matches!(p(bad, "in/"), Err(ObjectError::UnsafeKey { .. })),
                "{bad}"
            );
        }
        assert_eq!(join_key("", "a"), "a");
        assert_eq!(join_key("in", "a"), "in/a");
        assert_eq!(join_key("in/", "a/b"), "in/a/b");
    }

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

    #[test]
    fn input_filters_by_suffix_and_skips_folder_markers() {
        let i = FunctionInput {
            bucket: "b".into(),
            prefix: "in/".into(),
            suffixes: vec![".jpg".into()],
        };
        assert!(i.takes("in/a.jpg"));
        assert!(!i.takes("in/a.png"));
        assert!(!i.takes("in/sub/"));
    }
}
