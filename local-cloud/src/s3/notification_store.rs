//! Durable notification configurations: one JSON file per bucket in
//! `notifications/` (beside the s3s-fs root, so it is never taken for a
//! bucket), written temp-then-rename and fsynced, and cached in memory for
//! the event path.
//!
//! Changes to a bucket's configuration and to the bucket's existence (create,
//! delete) are serialised by one lock, so a configuration never outlives its
//! bucket; a crash between the two steps of a delete leaves a stale file
//! that the next [`NotificationStore::open`] drops.

use std::collections::HashMap;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};

use tokio::sync::{Mutex, MutexGuard};

use super::notifications::BucketNotifications;
use crate::LocalError;

/// The token proving the caller holds the bucket-change lock.
pub(crate) type ChangeGuard<'a> = MutexGuard<'a, ()>;

/// Every bucket's notification configuration.
#[derive(Debug)]
pub(crate) struct NotificationStore {
    dir: PathBuf,
    cache: RwLock<HashMap<String, Arc<BucketNotifications>>>,
    changes: Mutex<()>,
}

const SUFFIX: &str = ".json";
const TMP_SUFFIX: &str = ".json.tmp";

impl NotificationStore {
    /// Loads `dir` (created if missing). Files of buckets that no longer
    /// exist under `buckets_root` and leftover temp files are removed.
    pub(crate) fn open(dir: &Path, buckets_root: &Path) -> Result<NotificationStore, LocalError> {
        std::fs::create_dir_all(dir).map_err(|e| LocalError::io(dir, e))?;
        let mut cache = HashMap::new();
        let entries = std::fs::read_dir(dir).map_err(|e| LocalError::io(dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| LocalError::io(dir, e))?;
            let path = entry.path();
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            if name.ends_with(TMP_SUFFIX) {
                // An interrupted write: the previous file is still whole.
                std::fs::remove_file(&path).map_err(|e| LocalError::io(&path, e))?;
                continue;
            }
            let Some(bucket) = name.strip_suffix(SUFFIX) else {
                continue;
            };
            if !buckets_root.join(bucket).is_dir() {
                std::fs::remove_file(&path).map_err(|e| LocalError::io(&path, e))?;
                continue;
            }
            let bytes = std::fs::read(&path).map_err(|e| LocalError::io(&path, e))?;
            let conf: BucketNotifications = serde_json::from_slice(&bytes).map_err(|e| LocalError::Corrupt {
                path: path.clone(),
                detail: format!(
                    "{e}; fix the JSON or delete the file to drop bucket {bucket}'s notification configuration"
                ),
            })?;
            cache.insert(bucket.to_owned(), Arc::new(conf));
        }
        Ok(NotificationStore {
            dir: dir.to_owned(),
            cache: RwLock::new(cache),
            changes: Mutex::new(()),
        })
    }

    /// Takes the lock that serialises configuration and bucket changes.
    pub(crate) async fn lock_changes(&self) -> ChangeGuard<'_> {
        self.changes.lock().await
    }

    /// The bucket's configuration; `None` when notifications are off.
    pub(crate) fn get(&self, bucket: &str) -> Option<Arc<BucketNotifications>> {
        self.cache
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(bucket)
            .cloned()
    }

    fn path(&self, bucket: &str) -> PathBuf {
        self.dir.join(format!("{bucket}{SUFFIX}"))
    }

    /// Replaces the bucket's configuration (an empty one removes it), on disk
    /// first, then in memory. `bucket` must be a valid bucket name.
    pub(crate) async fn put(
        &self,
        changes: &ChangeGuard<'_>,
        bucket: &str,
        conf: BucketNotifications,
    ) -> Result<(), LocalError> {
        if conf.is_empty() {
            return self.remove(changes, bucket).await;
        }
        let path = self.path(bucket);
        let tmp = self.dir.join(format!("{bucket}{TMP_SUFFIX}"));
        let bytes = serde_json::to_vec_pretty(&conf).map_err(|e| LocalError::Corrupt {
            path: path.clone(),
            detail: format!("cannot serialise the configuration: {e}"),
        })?;
        let dir = self.dir.clone();
        let target = path.clone();
        tokio::task::spawn_blocking(move || write_atomically(&dir, &tmp, &target, &bytes))
            .await
            .map_err(|e| LocalError::io(&path, io::Error::other(e)))?
            .map_err(|e| LocalError::io(&path, e))?;
        self.cache
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(bucket.to_owned(), Arc::new(conf));
        Ok(())
    }

    /// Forgets the bucket's configuration (the bucket was deleted or created anew).
    pub(crate) async fn remove(
        &self,
        _changes: &ChangeGuard<'_>,
        bucket: &str,
    ) -> Result<(), LocalError> {
        let path = self.path(bucket);
        match tokio::fs::remove_file(&path).await {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(LocalError::io(&path, e)),
            _ => {}
        }
        self.cache
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(bucket);
        Ok(())
    }
}

/// Writes `bytes` to `tmp`, syncs it, renames it over `target` and syncs the
/// folder, so a crash leaves either the old file or the new one.
fn write_atomically(dir: &Path, tmp: &Path, target: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = std::fs::File::create(tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(tmp, target)?;
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::super::notifications::LambdaTarget;
    use super::*;

    fn sample() -> BucketNotifications {
        BucketNotifications {
            lambda: vec![LambdaTarget {
                id: "a".into(),
                function_arn: "arn:aws:lambda:us-east-1:000000000000:function:f".into(),
                events: vec!["s3:ObjectCreated:*".into()],
                filter: None,
            }],
            event_bridge: false,
        }
    }

    #[tokio::test]
    async fn survives_reopen_and_drops_stale_files() {
        let tmp = tempfile::tempdir().unwrap();
        let buckets = tmp.path().join("buckets");
        let dir = tmp.path().join("notifications");
        std::fs::create_dir_all(buckets.join("kept")).unwrap();
        std::fs::create_dir_all(buckets.join("gone")).unwrap();
        let store = NotificationStore::open(&dir, &buckets).unwrap();
        {
            let g = store.lock_changes().await;
            store.put(&g, "kept", sample()).await.unwrap();
            store.put(&g, "gone", sample()).await.unwrap();
        }
        std::fs::remove_dir(buckets.join("gone")).unwrap();
        std::fs::write(dir.join("kept.json.tmp"), b"half").unwrap();

        let reopened = NotificationStore::open(&dir, &buckets).unwrap();
        assert_eq!(reopened.get("kept").as_deref(), Some(&sample()));
        assert!(reopened.get("gone").is_none());
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        files.sort();
        assert_eq!(files, vec![std::ffi::OsString::from("kept.json")]);

        let g = reopened.lock_changes().await;
        reopened
            .put(&g, "kept", BucketNotifications::default())
            .await
            .unwrap();
        assert!(reopened.get("kept").is_none());
        assert!(!dir.join("kept.json").exists());
    }

    #[test]
    fn corrupt_file_names_itself_and_the_fix() {
        let tmp = tempfile::tempdir().unwrap();
        let buckets = tmp.path().join("buckets");
        let dir = tmp.path().join("notifications");
        std::fs::create_dir_all(buckets.join("b1")).unwrap();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("b1.json"), b"{not json").unwrap();
        let err = NotificationStore::open(&dir, &buckets)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("b1.json") && err.contains("delete the file"),
            "{err}"
        );
    }
}
