//! The image cache in the function's `/tmp`, shared by warm invocations.
//!
//! Layout under the cache root (default `$TMPDIR/scar`):
//! - `images/sha256-HEX/` one unpacked image: `rootfs/` and `image.json`
//!   (digest, reference, Env, WorkingDir). Present means complete: it is
//!   built in `tmp/` and renamed into place in one step.
//! - `refs/HASH.json` what a tag or a local file resolved to, so a warm
//!   invocation needs neither the network nor a manifest read.
//! - `locks/sha256-HEX.lock` an advisory lock held while an image is unpacked,
//!   so two invocations sharing the cache never unpack the same image twice.
//! - `tmp/` staging folders; whatever a crash left there is removed by the
//!   next holder of that image's lock.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// A cache failure, with the path involved.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// A cache path could not be read or written.
    #[error(
        "image cache {path}: {source}; check that the cache folder is writable (--cache-dir or SCAR_CACHE_DIR)"
    )]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The underlying failure.
        #[source]
        source: io::Error,
    },
    /// The disk holding the cache is full.
    #[error(
        "no space left for the image cache at {path}; free space there or give the function more ephemeral storage"
    )]
    NoSpace {
        /// The path being written.
        path: PathBuf,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> CacheError + '_ {
    move |source| {
        if source.raw_os_error() == Some(libc::ENOSPC) {
            CacheError::NoSpace {
                path: path.to_owned(),
            }
        } else {
            CacheError::Io {
                path: path.to_owned(),
                source,
            }
        }
    }
}

/// What the cache records about an unpacked image.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ImageMeta {
    /// The manifest digest (config digest for docker archives): the cache key.
    pub digest: String,
    /// The reference it was first pulled as.
    pub reference: String,
    /// The image's `Env` (`KEY=VALUE`).
    #[serde(default)]
    pub env: Vec<String>,
    /// The image's `WorkingDir`, if set.
    #[serde(default)]
    pub working_dir: Option<String>,
}

/// An unpacked image ready to run.
#[derive(Debug, Clone)]
pub struct CachedImage {
    /// Its metadata.
    pub meta: ImageMeta,
    /// The root filesystem.
    pub rootfs: PathBuf,
}

/// What a reference resolved to, remembered between invocations.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Resolution {
    /// The reference, as written.
    pub reference: String,
    /// The digest it resolved to.
    pub digest: String,
    /// When it was resolved, in seconds since the epoch.
    pub resolved_at: u64,
}

/// The cache folder.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

/// Folders an image root must have so that the runtimes can mount onto them.
const MOUNT_POINTS: [&str; 3] = ["proc", "dev", "tmp"];

impl Cache {
    /// Opens (creating if needed) the cache at `root`.
    pub fn open(root: impl Into<PathBuf>) -> Result<Cache, CacheError> {
        let root = root.into();
        for sub in ["images", "refs", "locks", "tmp"] {
            let p = root.join(sub);
            fs::create_dir_all(&p).map_err(io_err(&p))?;
        }
        Ok(Cache { root })
    }

    /// The cache root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn key(digest: &str) -> String {
        digest.replace(':', "-")
    }

    /// The folder an image with this digest lives in.
    pub fn image_dir(&self, digest: &str) -> PathBuf {
        self.root.join("images").join(Self::key(digest))
    }

    /// The unpacked image with this digest, if it is complete in the cache.
    pub fn lookup(&self, digest: &str) -> Option<CachedImage> {
        let dir = self.image_dir(digest);
        let meta: ImageMeta =
            serde_json::from_slice(&fs::read(dir.join("image.json")).ok()?).ok()?;
        let rootfs = dir.join("rootfs");
        rootfs.is_dir().then_some(CachedImage { meta, rootfs })
    }

    /// What `reference_key` resolved to last time, if it was remembered.
    pub fn resolution(&self, reference_key: &str) -> Option<Resolution> {
        let path = self.ref_path(reference_key);
        serde_json::from_slice(&fs::read(path).ok()?).ok()
    }

    /// Remembers that `reference_key` resolves to `digest`, as of
    /// `resolved_at` (seconds since the epoch).
    pub fn remember(
        &self,
        reference_key: &str,
        reference: &str,
        digest: &str,
        resolved_at: u64,
    ) -> Result<(), CacheError> {
        let res = Resolution {
            reference: reference.to_owned(),
            digest: digest.to_owned(),
            resolved_at,
        };
        let bytes = serde_json::to_vec(&res).map_err(|e| CacheError::Io {
            path: self.ref_path(reference_key),
            source: e.into(),
        })?;
        write_atomic(&self.ref_path(reference_key), &bytes)
    }

    fn ref_path(&self, reference_key: &str) -> PathBuf {
        let h = crate::unpack::sha256_digest(reference_key.as_bytes());
        self.root.join("refs").join(format!("{}.json", &h[7..39]))
    }

    /// Takes the unpack lock of an image, waiting for another holder.
    pub fn lock(&self, digest: &str) -> Result<ImageLock, CacheError> {
        let path = self
            .root
            .join("locks")
            .join(format!("{}.lock", Self::key(digest)));
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_err(&path))?;
        file.lock().map_err(io_err(&path))?;
        Ok(ImageLock { _file: file })
    }

    /// Starts a staging folder for an image, removing what an interrupted
    /// earlier attempt left behind. The lock proves nobody else is staging it.
    pub fn stage(&self, digest: &str, _lock: &ImageLock) -> Result<Staging, CacheError> {
        let key = Self::key(digest);
        let tmp = self.root.join("tmp");
        if let Ok(rd) = fs::read_dir(&tmp) {
            for e in rd.flatten() {
                if e.file_name()
                    .to_string_lossy()
                    .starts_with(&format!("{key}."))
                {
                    remove_tree(&e.path()).map_err(io_err(&e.path()))?;
                }
            }
        }
        let dir = tmp.join(format!("{key}.partial-{}", std::process::id()));
        let rootfs = dir.join("rootfs");
        fs::create_dir_all(&rootfs).map_err(io_err(&rootfs))?;
        Ok(Staging {
            dir,
            final_dir: self.image_dir(digest),
            done: false,
        })
    }
}

/// An image's unpack lock; released on drop.
#[derive(Debug)]
pub struct ImageLock {
    _file: fs::File,
}

/// A staging folder; removed on drop unless committed.
#[derive(Debug)]
pub struct Staging {
    dir: PathBuf,
    final_dir: PathBuf,
    done: bool,
}

impl Staging {
    /// Where layers are unpacked.
    pub fn rootfs(&self) -> PathBuf {
        self.dir.join("rootfs")
    }

    /// Records the metadata and moves the image into place in one rename.
    pub fn commit(mut self, meta: ImageMeta) -> Result<CachedImage, CacheError> {
        let rootfs = self.rootfs();
        for m in MOUNT_POINTS {
            let p = rootfs.join(m);
            if fs::symlink_metadata(&p).is_err() {
                fs::create_dir(&p).map_err(io_err(&p))?;
            }
        }
        let meta_path = self.dir.join("image.json");
        let bytes = serde_json::to_vec_pretty(&meta).map_err(|e| CacheError::Io {
            path: meta_path.clone(),
            source: e.into(),
        })?;
        write_atomic(&meta_path, &bytes)?;
        // A leftover with the same name cannot be complete (lookup failed
        // before we took the lock), so it is safe to replace.
        if self.final_dir.exists() {
            remove_tree(&self.final_dir).map_err(io_err(&self.final_dir))?;
        }
        fs::rename(&self.dir, &self.final_dir).map_err(io_err(&self.final_dir))?;
        self.done = true;
        Ok(CachedImage {
            meta,
            rootfs: self.final_dir.join("rootfs"),
        })
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.done {
            let _ = remove_tree(&self.dir);
        }
    }
}

/// Removes a tree even where an image made folders read-only.
pub fn remove_tree(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fn unlock(path: &Path) {
        if let Ok(m) = fs::symlink_metadata(path)
            && m.is_dir()
        {
            if m.permissions().mode() & 0o700 != 0o700 {
                let _ = fs::set_permissions(
                    path,
                    fs::Permissions::from_mode(m.permissions().mode() | 0o700),
                );
            }
            if let Ok(rd) = fs::read_dir(path) {
                for c in rd.flatten() {
                    if c.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                        unlock(&c.path());
                    }
                }
            }
        }
    }
    match fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(_) => {
            unlock(path);
            fs::remove_dir_all(path)
        }
    }
}

/// Writes a small file by temp-then-rename, so readers never see half of it.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), CacheError> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let mut f = fs::File::create(&tmp).map_err(io_err(&tmp))?;
    f.write_all(bytes).map_err(io_err(&tmp))?;
    drop(f);
    fs::rename(&tmp, path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        io_err(path)(e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uncommitted_staging_leaves_nothing_and_stale_partials_are_swept() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let d = format!("sha256:{}", "ab".repeat(32));
        // A crash left this behind.
        let stale = dir
            .path()
            .join("tmp")
            .join(format!("{}.partial-999", Cache::key(&d)));
        fs::create_dir_all(stale.join("rootfs/x")).unwrap();
        let lock = cache.lock(&d).unwrap();
        {
            let s = cache.stage(&d, &lock).unwrap();
            assert!(!stale.exists());
            fs::write(s.rootfs().join("f"), b"1").unwrap();
        }
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
        assert!(cache.lookup(&d).is_none());
        let s = cache.stage(&d, &lock).unwrap();
        let meta = ImageMeta {
            digest: d.clone(),
            reference: "r".into(),
            env: vec!["A=1".into()],
            working_dir: None,
        };
        let img = s.commit(meta.clone()).unwrap();
        assert!(img.rootfs.join("proc").is_dir());
        assert_eq!(cache.lookup(&d).unwrap().meta, meta);
        cache.remember("ref-key", "r", &d, 7).unwrap();
        assert_eq!(cache.resolution("ref-key").unwrap().digest, d);
    }
}
