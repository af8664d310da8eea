//! S3 objects and the input a function reads them from: listings streamed
//! page by page (a 100,000-key prefix never sits in memory at once), the
//! input filter of a deployed function, and the mapping between keys and
//! local paths. Uploads and downloads are in [`super::transfer`].
//!
//! Keys are S3's: any UTF-8, spaces and non-ASCII included. Local paths made
//! from keys resolve under the target folder; `..`, `.` and empty segments
//! are refused (STYLE.md rule 15).

use std::path::{Component, Path, PathBuf};

use super::{AwsError, Cloud};

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
    pub(crate) fn io(path: &Path, source: std::io::Error) -> ObjectError {
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
    /// Last modified, ms since the epoch.
    pub modified_ms: Option<i64>,
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
                        modified_ms: o.last_modified().and_then(|t| t.to_millis().ok()),
                    })
                })
                .collect(),
        ))
    }
}

/// The input a deployed function records (`SCAR_INPUT`): the contract's one shape.
pub use scar_contract::function::Storage as FunctionInput;

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
            .and_then(|v| v.get(scar_contract::function::env::INPUT))
        else {
            return Ok(None);
        };
        FunctionInput::input_from_env(text)
            .map(Some)
            .map_err(|e| AwsError::Call {
                op: "GetFunctionConfiguration",
                target: function.to_owned(),
                code: "InvalidScarInput".into(),
                message: format!("{e}; redeploy with `scar-tui init`"),
            })
    }

    /// GetObject of `s3://bucket/key`: the response, its body still to read.
    pub async fn open_object(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<aws_sdk_s3::operation::get_object::GetObjectOutput, AwsError> {
        self.s3
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| AwsError::call("GetObject", format!("s3://{bucket}/{key}"), &e))
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
