//! The on-disk layout of s3s-fs, as far as the wrapper needs to know it:
//! where an object's file and its sidecar files live, and which object keys
//! can be stored as file paths at all.
//!
//! s3s-fs keeps each object as `ROOT/BUCKET/KEY` and two sidecar files at the
//! top of `ROOT`: `.bucket-B64(BUCKET).object-B64(KEY).metadata.json` (user
//! metadata, content type...) and `.internal.json` (ETag, checksums), with
//! URL-safe unpadded base64 (s3s-fs 0.14.1 `fs.rs`, `get_metadata_path` and
//! `get_internal_info_path`). Its deletes remove only the object file, so the
//! wrapper removes the sidecars itself. The sidecars sit beside the bucket
//! folders, never inside one, so they are never listed as objects.
//!
//! s3s-fs resolves `BUCKET/KEY` "virtually" under `ROOT`: a key with a `..`
//! segment would reach another bucket or the sidecars, and `a//b` would alias
//! `a/b`. AWS accepts such keys; a folder cannot keep them apart, so they are
//! refused with a clear error before s3s-fs sees them.

use std::io;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use s3s::{S3Error, S3ErrorCode, S3Result};

/// The longest key S3 accepts, in UTF-8 bytes.
const MAX_KEY_BYTES: usize = 1024;

/// Paths of the s3s-fs root folder.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    root: PathBuf,
}

impl Layout {
    /// The layout under `root`, which must be canonical (as s3s-fs makes it).
    pub(crate) fn new(root: PathBuf) -> Layout {
        Layout { root }
    }

    /// The s3s-fs root.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// The folder of `bucket`.
    pub(crate) fn bucket_path(&self, bucket: &str) -> PathBuf {
        self.root.join(bucket)
    }

    /// The file of an object whose key passed [`check_key`].
    pub(crate) fn object_path(&self, bucket: &str, key: &str) -> PathBuf {
        self.root.join(bucket).join(key)
    }

    /// Whether the bucket's folder exists.
    pub(crate) async fn bucket_exists(&self, bucket: &str) -> bool {
        tokio::fs::metadata(self.bucket_path(bucket))
            .await
            .is_ok_and(|m| m.is_dir())
    }

    fn sidecar_prefix(bucket: &str) -> String {
        format!(".bucket-{}.object-", URL_SAFE_NO_PAD.encode(bucket))
    }

    /// The two sidecar files of an object.
    pub(crate) fn sidecar_paths(&self, bucket: &str, key: &str) -> [PathBuf; 2] {
        let stem = format!(
            "{}{}",
            Self::sidecar_prefix(bucket),
            URL_SAFE_NO_PAD.encode(key)
        );
        [
            self.root.join(format!("{stem}.metadata.json")),
            self.root.join(format!("{stem}.internal.json")),
        ]
    }

    /// Removes the sidecars of an object that no longer exists. If the
    /// object is there again (a concurrent put won), its sidecars are kept.
    pub(crate) async fn remove_object_sidecars(&self, bucket: &str, key: &str) -> io::Result<()> {
        if tokio::fs::symlink_metadata(self.object_path(bucket, key))
            .await
            .is_ok()
        {
            return Ok(());
        }
        for path in self.sidecar_paths(bucket, key) {
            remove_if_present(&path).await?;
        }
        Ok(())
    }

    /// Removes every sidecar of a deleted bucket (its objects' metadata and
    /// those of multipart uploads that were never completed).
    pub(crate) async fn remove_bucket_sidecars(&self, bucket: &str) -> io::Result<()> {
        // The prefix ends in `.object-`, and '.' is not in the base64url
        // alphabet, so another bucket's name can never match it.
        let prefix = Self::sidecar_prefix(bucket);
        let mut entries = tokio::fs::read_dir(&self.root).await?;
        while let Some(entry) = entries.next_entry().await? {
            let name = entry.file_name();
            if name.to_str().is_some_and(|n| n.starts_with(&prefix)) {
                remove_if_present(&entry.path()).await?;
            }
        }
        Ok(())
    }

    /// Whether any object file is left in the bucket. Empty folders do not
    /// count: s3s-fs leaves the parents of deleted keys behind.
    pub(crate) async fn bucket_has_objects(&self, bucket: &str) -> io::Result<bool> {
        let mut pending = vec![self.bucket_path(bucket)];
        while let Some(dir) = pending.pop() {
            let mut entries = tokio::fs::read_dir(&dir).await?;
            while let Some(entry) = entries.next_entry().await? {
                if entry.file_type().await?.is_dir() {
                    pending.push(entry.path());
                } else {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }
}

async fn remove_if_present(path: &Path) -> io::Result<()> {
    match tokio::fs::remove_file(path).await {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Refuses keys that cannot be stored as a path under their bucket folder:
/// longer than S3's 1024 bytes, or with an empty, `.` or `..` segment
/// (a trailing `/`, S3's folder marker, is fine).
pub(crate) fn check_key(key: &str) -> S3Result<()> {
    if key.len() > MAX_KEY_BYTES {
        return Err(S3Error::with_message(
            S3ErrorCode::KeyTooLongError,
            "Your key is too long: object keys are at most 1024 bytes of UTF-8",
        ));
    }
    let body = key.strip_suffix('/').unwrap_or(key);
    let bad_segment = body.is_empty()
        || body
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..");
    if bad_segment || key.contains('\0') {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            format!(
                "object key {key:?} has an empty, '.' or '..' path segment or a NUL byte: the local cloud \
                 stores keys as file paths and cannot keep it apart from other keys; rename the object \
                 (AWS itself would accept it)"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_that_fit_a_folder_pass() {
        for key in [
            "a",
            "in dir/naïve file.txt",
            "dir/",
            "a/b/c.txt",
            ".hidden",
            "a..b",
            "x/.../y",
        ] {
            assert!(check_key(key).is_ok(), "{key}");
        }
    }

    #[test]
    fn keys_that_escape_or_alias_are_refused() {
        for key in [
            "",
            "/",
            "../b/x",
            "a/../b",
            "./a",
            "a//b",
            "/abs",
            "a/./b",
            "a/..",
            "nul\0byte",
        ] {
            let err = check_key(key).unwrap_err();
            assert_eq!(*err.code(), S3ErrorCode::InvalidArgument, "{key:?}");
        }
        let long = "k".repeat(1025);
        assert_eq!(
            *check_key(&long).unwrap_err().code(),
            S3ErrorCode::KeyTooLongError
        );
        assert!(check_key(&"k".repeat(1024)).is_ok());
    }

    #[test]
    fn sidecar_names_follow_s3s_fs() {
        let layout = Layout::new(PathBuf::from("/root"));
        let [meta, internal] = layout.sidecar_paths("bkt", "a/b c");
        // base64url("bkt") = "Ymt0", base64url("a/b c") = "YS9iIGM"
        assert_eq!(
            meta,
            PathBuf::from("/root/.bucket-Ymt0.object-YS9iIGM.metadata.json")
        );
        assert_eq!(
            internal,
            PathBuf::from("/root/.bucket-Ymt0.object-YS9iIGM.internal.json")
        );
    }
}
