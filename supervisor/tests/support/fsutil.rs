//! Where the supervisor's cache keeps things (`CACHE/images/sha256-<hex>/rootfs`,
//! `CACHE/tmp/`) and filesystem walks the assertions use to prove what was,
//! and was not, written.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// `CACHE/images/sha256-<hex>` for a `sha256:<hex>` digest.
pub fn image_dir(cache: &Path, digest: &str) -> PathBuf {
    cache
        .join("images")
        .join(format!("sha256-{}", super::digest_hex(digest)))
}

/// `CACHE/images/sha256-<hex>/rootfs` for a `sha256:<hex>` digest.
pub fn rootfs_dir(cache: &Path, digest: &str) -> PathBuf {
    image_dir(cache, digest).join("rootfs")
}

/// Every path under `dir` (not `dir` itself), depth first, symlinks not
/// followed; empty when `dir` does not exist.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in rd.flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(path.clone());
            }
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Paths under `dir` whose file name is `name`.
pub fn find_named(dir: &Path, name: &str) -> Vec<PathBuf> {
    walk(dir)
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n == name))
        .collect()
}

/// Names of the entries directly in `dir`, sorted; empty when it does not exist.
pub fn list_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Everything left in `CACHE/tmp` except lock files (`*.lock`): half-written
/// unpacks the supervisor should have removed or renamed into place.
pub fn cache_tmp_leftovers(cache: &Path) -> Vec<String> {
    list_names(&cache.join("tmp"))
        .into_iter()
        .filter(|n| !n.ends_with(".lock"))
        .collect()
}

/// Folders under `CACHE/images` (lock files not counted): cached images.
pub fn cached_images(cache: &Path) -> Vec<String> {
    list_names(&cache.join("images"))
        .into_iter()
        .filter(|n| cache.join("images").join(n).is_dir())
        .collect()
}

/// `st_mode & 0o7777` of `path` (symlinks not followed).
pub fn mode_of(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap_or_else(|e| panic!("stat {}: {e}", path.display()))
        .mode()
        & 0o7777
}

/// Inode number of `path` (symlinks not followed).
pub fn inode_of(path: &Path) -> u64 {
    std::fs::symlink_metadata(path)
        .unwrap_or_else(|e| panic!("stat {}: {e}", path.display()))
        .ino()
}

/// Whether anything (even a dangling symlink) exists at `path`.
pub fn exists_nofollow(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

/// One entry of a [`snapshot`]: relative path, size, mode, mtime (ns), link count.
pub type SnapshotEntry = (PathBuf, u64, u32, i128, u64);

/// A snapshot of a folder tree, the folder itself included (as `""`): every
/// entry's size, mode, mtime and link count, to prove a folder outside the
/// cache was left exactly as it was.
pub fn snapshot(dir: &Path) -> Vec<SnapshotEntry> {
    std::iter::once(dir.to_path_buf())
        .chain(walk(dir))
        .filter_map(|p| {
            let m = std::fs::symlink_metadata(&p).ok()?;
            let mtime = i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec());
            let rel = p.strip_prefix(dir).unwrap_or(&p).to_path_buf();
            Some((rel, m.len(), m.mode(), mtime, m.nlink()))
        })
        .collect()
}
