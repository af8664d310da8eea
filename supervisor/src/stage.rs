//! Staging files in and out: S3 through aws-sdk-s3, or local folders in the
//! one-shot mode.
//!
//! The S3 client is configured from the function's environment only, as
//! Lambda provides it (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! `AWS_SESSION_TOKEN`, `AWS_REGION`), plus `AWS_ENDPOINT_URL_S3` /
//! `AWS_ENDPOINT_URL`, which the local cloud sets. Not pulling in aws-config
//! keeps the bootstrap binary small; a Lambda function never needs profiles.

use std::path::{Path, PathBuf};

use aws_sdk_s3::config::{Credentials, Region};
use aws_sdk_s3::primitives::ByteStream;
use futures_util::{StreamExt, TryStreamExt, stream};
use tokio::io::AsyncWriteExt;

/// Uploads in flight at once.
const UPLOAD_PARALLELISM: usize = 8;

/// Objects and outputs up to this size are staged in memory: read or
/// written with one plain call on the runtime's thread instead of through
/// `tokio::fs`, which hands every operation (create, each write, flush,
/// open, metadata, each read) to a blocking thread and back. For the small
/// files a function typically stages, those hops cost more than the bytes:
/// about 1 ms each on a busy machine in the local cloud's throughput
/// benchmark, three or four per file each way. An upload from memory also
/// has its checksum computed up front and goes out as one signed request
/// instead of an aws-chunked body with a signature per chunk and a trailer.
const IN_MEMORY: u64 = 1024 * 1024;

/// A staging failure, naming the object or file.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    /// The environment lacks what the S3 client needs.
    #[error("S3 is not configured: {0}")]
    Config(String),
    /// Reading the input object failed.
    #[error("download of s3://{bucket}/{key} failed: {detail}")]
    Download {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
        /// What went wrong.
        detail: String,
    },
    /// Writing an output object failed.
    #[error("upload of {path} to s3://{bucket}/{key} failed: {detail}")]
    Upload {
        /// The local file.
        path: PathBuf,
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
        /// What went wrong.
        detail: String,
    },
    /// A local file operation failed.
    #[error("{path}: {source}")]
    Local {
        /// The file.
        path: PathBuf,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
}

/// Where outputs go: every file under the output folder whose name ends in
/// one of `suffixes` (all files when empty) is written to
/// `s3://bucket/prefix + relative path`. The contract's one shape, as
/// `SCAR_OUTPUTS` carries it.
pub use scar_contract::function::Storage as OutputTarget;

/// A file found under the output folder.
#[derive(Debug, Clone)]
pub struct OutputFile {
    /// Its path relative to the output folder, with `/` separators.
    pub rel: String,
    /// Its path on disk.
    pub path: PathBuf,
    /// Its size.
    pub size: u64,
}

/// Every regular file under `dir`, sorted by relative name. Symlinks are not
/// followed: a script cannot make us upload files from outside its folder.
pub fn list_outputs(dir: &Path) -> Result<Vec<OutputFile>, StageError> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<OutputFile>) -> Result<(), StageError> {
        let rd = match std::fs::read_dir(dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(source) => {
                return Err(StageError::Local {
                    path: dir.into(),
                    source,
                });
            }
        };
        for entry in rd {
            let entry = entry.map_err(|source| StageError::Local {
                path: dir.into(),
                source,
            })?;
            let path = entry.path();
            let ft = entry.file_type().map_err(|source| StageError::Local {
                path: path.clone(),
                source,
            })?;
            if ft.is_dir() {
                walk(base, &path, out)?;
            } else if ft.is_file() {
                let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
                let rel = path
                    .strip_prefix(base)
                    .unwrap_or(&path)
                    .to_string_lossy()
                    .into_owned();
                out.push(OutputFile { rel, path, size });
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out)?;
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(out)
}

/// Copies outputs into a local folder (one-shot mode), keeping their
/// relative paths; writes each file under a temporary name, then renames it.
pub fn copy_outputs(files: &[OutputFile], dest: &Path) -> Result<u64, StageError> {
    let mut total = 0;
    for f in files {
        let target = dest.join(&f.rel);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|source| StageError::Local {
                path: parent.into(),
                source,
            })?;
        }
        let tmp = target.with_file_name(format!(
            ".{}.scar-partial",
            target
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        ));
        let copied =
            std::fs::copy(&f.path, &tmp).and_then(|n| std::fs::rename(&tmp, &target).map(|_| n));
        match copied {
            Ok(n) => total += n,
            Err(source) => {
                let _ = std::fs::remove_file(&tmp);
                return Err(StageError::Local {
                    path: target,
                    source,
                });
            }
        }
    }
    Ok(total)
}

/// An uploaded output.
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq)]
pub struct UploadedObject {
    /// Bucket.
    pub bucket: String,
    /// Key.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
}

/// The S3 side of staging.
#[derive(Debug, Clone)]
pub struct Storage {
    client: aws_sdk_s3::Client,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// One line for an SDK failure: S3's error code and message when S3
/// answered, else the transport failure and its causes (never the SDK's
/// whole debug dump, which carries the raw HTTP exchange).
fn sdk_error<E>(e: &aws_sdk_s3::error::SdkError<E>) -> String
where
    E: std::error::Error + aws_sdk_s3::error::ProvideErrorMetadata + 'static,
{
    use aws_sdk_s3::error::ProvideErrorMetadata;
    if let Some(code) = e.code() {
        return format!("{code}: {}", e.message().unwrap_or("no message"));
    }
    let mut s = e.to_string();
    let mut cur = std::error::Error::source(e);
    while let Some(inner) = cur {
        let m = inner.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = inner.source();
    }
    s
}

impl Storage {
    /// A client from the function's environment.
    pub fn from_env() -> Result<Storage, StageError> {
        let access = env("AWS_ACCESS_KEY_ID").ok_or_else(|| {
            StageError::Config(
                "AWS_ACCESS_KEY_ID is not set (Lambda sets it from the function's role)".into(),
            )
        })?;
        let secret = env("AWS_SECRET_ACCESS_KEY")
            .ok_or_else(|| StageError::Config("AWS_SECRET_ACCESS_KEY is not set".into()))?;
        let region = env("AWS_REGION")
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|| "us-east-1".into());
        let creds = Credentials::new(
            access,
            secret,
            env("AWS_SESSION_TOKEN"),
            None,
            "environment",
        );
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let mut builder = aws_sdk_s3::Config::builder()
            .behavior_version_latest()
            .region(Region::new(region))
            .credentials_provider(creds)
            .http_client(http);
        if let Some(endpoint) = env("AWS_ENDPOINT_URL_S3").or_else(|| env("AWS_ENDPOINT_URL")) {
            // Custom endpoints (the local cloud, MinIO) serve path-style only.
            builder = builder.endpoint_url(endpoint).force_path_style(true);
        }
        Ok(Storage {
            client: aws_sdk_s3::Client::from_conf(builder.build()),
        })
    }

    /// Streams an object to `dest`, returning its size. A partial file is removed.
    pub async fn download(&self, bucket: &str, key: &str, dest: &Path) -> Result<u64, StageError> {
        let fail = |detail: String| StageError::Download {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            detail,
        };
        let resp = self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| fail(sdk_error(&e)))?;
        if resp
            .content_length()
            .is_some_and(|n| (0..=IN_MEMORY as i64).contains(&n))
        {
            let bytes = resp
                .body
                .collect()
                .await
                .map_err(|e| fail(e.to_string()))?
                .into_bytes();
            if let Err(source) = std::fs::write(dest, &bytes) {
                let _ = std::fs::remove_file(dest);
                return Err(StageError::Local {
                    path: dest.into(),
                    source,
                });
            }
            return Ok(bytes.len() as u64);
        }
        let mut body = resp.body;
        let mut file = tokio::fs::File::create(dest)
            .await
            .map_err(|source| StageError::Local {
                path: dest.into(),
                source,
            })?;
        let mut total = 0u64;
        let result: Result<(), StageError> = async {
            while let Some(chunk) = body.try_next().await.map_err(|e| fail(e.to_string()))? {
                file.write_all(&chunk)
                    .await
                    .map_err(|source| StageError::Local {
                        path: dest.into(),
                        source,
                    })?;
                total += chunk.len() as u64;
            }
            file.flush().await.map_err(|source| StageError::Local {
                path: dest.into(),
                source,
            })
        }
        .await;
        if let Err(e) = result {
            let _ = tokio::fs::remove_file(dest).await;
            return Err(e);
        }
        Ok(total)
    }

    /// Uploads each output file to every target that accepts it, a few at a time.
    pub async fn upload(
        &self,
        files: &[OutputFile],
        targets: &[OutputTarget],
    ) -> Result<Vec<UploadedObject>, StageError> {
        let jobs: Vec<(&OutputFile, String, String)> = files
            .iter()
            .flat_map(|f| {
                targets
                    .iter()
                    .filter(|t| t.accepts(&f.rel))
                    .map(move |t| (f, t.bucket.clone(), t.key_for(&f.rel)))
            })
            .collect();
        stream::iter(jobs)
            .map(|(f, bucket, key)| async move {
                let fail = |detail: String| StageError::Upload {
                    path: f.path.clone(),
                    bucket: bucket.clone(),
                    key: key.clone(),
                    detail,
                };
                let (body, size) = if f.size <= IN_MEMORY {
                    let bytes = std::fs::read(&f.path).map_err(|e| fail(e.to_string()))?;
                    let size = bytes.len() as u64;
                    (ByteStream::from(bytes), size)
                } else {
                    let body = ByteStream::from_path(&f.path)
                        .await
                        .map_err(|e| fail(e.to_string()))?;
                    (body, f.size)
                };
                self.client
                    .put_object()
                    .bucket(&bucket)
                    .key(&key)
                    .content_length(size as i64)
                    .body(body)
                    .send()
                    .await
                    .map_err(|e| fail(sdk_error(&e)))?;
                Ok(UploadedObject {
                    bucket: bucket.clone(),
                    key: key.clone(),
                    size,
                })
            })
            .buffer_unordered(UPLOAD_PARALLELISM)
            .try_collect()
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_targets_filter_and_key() {
        let t = OutputTarget::outputs_from_env(
            r#"[{"bucket": "out", "prefix": "p/", "suffixes": [".png"]}, {"bucket": "all"}]"#,
        )
        .unwrap();
        assert!(t[0].accepts("a/b.png"));
        assert!(!t[0].accepts("a/b.txt"));
        assert!(t[1].accepts("anything"));
        assert_eq!(t[0].key_for("a/b.png"), "p/a/b.png");
        assert!(
            OutputTarget::outputs_from_env("{}")
                .unwrap_err()
                .to_string()
                .contains("SCAR_OUTPUTS")
        );
        assert!(OutputTarget::outputs_from_env(r#"[{"bucket": ""}]"#).is_err());
        assert!(OutputTarget::outputs_from_env("").unwrap().is_empty());
    }

    #[test]
    fn outputs_listed_and_copied_without_following_symlinks() {
        let src = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(src.path().join("sub")).unwrap();
        std::fs::write(src.path().join("a.txt"), b"aa").unwrap();
        std::fs::write(src.path().join("sub/b.txt"), b"bbb").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", src.path().join("evil")).unwrap();
        let files = list_outputs(src.path()).unwrap();
        let names: Vec<_> = files.iter().map(|f| f.rel.as_str()).collect();
        assert_eq!(names, ["a.txt", "sub/b.txt"]);
        let dst = tempfile::tempdir().unwrap();
        assert_eq!(copy_outputs(&files, dst.path()).unwrap(), 5);
        assert_eq!(std::fs::read(dst.path().join("sub/b.txt")).unwrap(), b"bbb");
    }
}
