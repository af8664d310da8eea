//! Safe, streaming application of image layers onto a root filesystem.
//!
//! A layer arrives as a byte stream (gzip, zstd or plain tar, recognised by
//! its magic bytes rather than trusted from a media type). It is hashed while
//! it is read and decompressed (on a second thread, see `decode.rs`), and
//! applied entry by entry: nothing compressed is ever kept on disk, which
//! was SCAR's most common failure (compressed plus unpacked image not
//! fitting in Lambda's `/tmp`).
//!
//! Safety rules, applied to every entry (the same ones Docker's own applier
//! enforces, plus a few it leaves to its chroot):
//! - names are relative: an absolute name or any `..` component is refused;
//! - parent folders are resolved *inside* the root: a symlink in the path is
//!   followed as if the root were `/`, and one that climbs above the root is
//!   refused, so no write ever lands outside it;
//! - hard links must point at an existing non-directory inside the root;
//! - device nodes are skipped (an unprivileged process cannot use them anyway);
//! - whiteouts (`.wh.NAME`) delete what lower layers made, opaque markers
//!   (`.wh..wh..opq`) empty a folder of what lower layers made, and neither
//!   ever touches what the same layer wrote;
//! - modes are kept; folders stay writable for the owner until
//!   [`Unpacker::finish`] sets their final modes.

use std::collections::{HashSet, VecDeque};
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt, symlink};
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::decode;

/// Most symlinks followed while resolving one path, as the kernel's limit.
const MAX_SYMLINKS: usize = 40;

/// File contents go through this much at a time: one write per 64 KiB is
/// already cheap next to the file's creation, and the buffer is resident.
const COPY_BUFFER: usize = 64 * 1024;

/// Why a layer could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    /// A tar entry would write outside the root filesystem.
    #[error(
        "layer {layer}: entry {entry:?} refused: {reason}; the image is unsafe to unpack, rebuild it"
    )]
    Unsafe {
        /// The layer's digest or name.
        layer: String,
        /// The entry name as written in the tar header.
        entry: String,
        /// Why it was refused.
        reason: String,
    },
    /// The layer's bytes do not hash to what the manifest says.
    #[error(
        "layer {layer}: {what} digest mismatch: expected {expected}, got {actual}; the download was corrupted or the image was tampered with, pull again"
    )]
    Digest {
        /// The layer's digest or name.
        layer: String,
        /// `blob` (compressed bytes) or `diff_id` (uncompressed tar).
        what: &'static str,
        /// The digest the manifest or config promised.
        expected: String,
        /// The digest of what arrived.
        actual: String,
    },
    /// The disk holding the cache is full.
    #[error(
        "no space left on the device holding {path} while unpacking layer {layer}; free space there, give the function more ephemeral storage, or point --cache-dir/SCAR_CACHE_DIR elsewhere"
    )]
    NoSpace {
        /// The layer being unpacked.
        layer: String,
        /// The path being written.
        path: PathBuf,
    },
    /// Any other I/O failure, with the path involved.
    #[error("layer {layer}: {path}: {source}")]
    Io {
        /// The layer being unpacked.
        layer: String,
        /// The path being read or written.
        path: PathBuf,
        /// The underlying failure.
        #[source]
        source: io::Error,
    },
    /// The stream is not a readable (compressed) tar.
    #[error(
        "layer {layer}: not a valid tar stream: {source}; the layer is corrupt, pull again or rebuild the image"
    )]
    Corrupt {
        /// The layer being unpacked.
        layer: String,
        /// What the decoder or tar reader said.
        #[source]
        source: io::Error,
    },
}

/// What applying one layer did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LayerStats {
    /// Bytes read from the (possibly compressed) stream.
    pub compressed_bytes: u64,
    /// Bytes of regular file content written.
    pub file_bytes: u64,
    /// Entries applied (files, folders, links, whiteouts).
    pub entries: u64,
    /// Device nodes skipped.
    pub skipped_devices: u64,
    /// Time spent waiting for the source (network), not unpacking.
    pub waited: Duration,
    /// Wall time of the whole layer.
    pub elapsed: Duration,
}

/// Digests a layer must match. `None` skips that check (the caller verified
/// elsewhere or the format carries no such digest).
#[derive(Debug, Default, Clone)]
pub struct Expected {
    /// Digest of the bytes as they arrive (`sha256:HEX`).
    pub blob: Option<String>,
    /// Digest of the uncompressed tar (`sha256:HEX`), the config's diff_id.
    pub diff_id: Option<String>,
}

/// Makes a source's blocked `read` return soon (see [`TimedRead::interrupter`]).
pub type Interrupt = Box<dyn FnOnce() + Send>;

/// A layer source. It is read on the decoding thread (hence `Send`), and
/// reports how long its reader waited for data, so that network time and
/// unpack time can be told apart in the metrics.
pub trait TimedRead: Read + Send {
    /// Total time spent blocked waiting for data so far.
    fn waited(&self) -> Duration {
        Duration::ZERO
    }

    /// What to call when the unpacker gives up on the layer (a refused
    /// entry) while the decoder may be blocked reading: a network source
    /// stops its download. Sources whose reads never block for long (files,
    /// memory) need none.
    fn interrupter(&self) -> Option<Interrupt> {
        None
    }
}

impl TimedRead for fs::File {}
impl<R: Read + Send> TimedRead for io::Take<R> {}
impl TimedRead for &[u8] {}

/// Applies layers in order onto one root filesystem.
#[derive(Debug)]
pub struct Unpacker {
    root: PathBuf,
    /// Folders whose final mode is applied at the end, deepest first.
    dir_modes: Vec<(PathBuf, u32)>,
}

impl Unpacker {
    /// Starts unpacking into `root`, which must exist and be empty (a fresh
    /// staging folder).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Unpacker {
            root: root.into(),
            dir_modes: Vec::new(),
        }
    }

    /// The root being written.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Applies one layer read from `source`; `layer` names it in errors.
    ///
    /// The stream is read, hashed and decompressed on a second thread
    /// (`decode.rs`) while this one creates the files.
    pub fn apply_layer<R: TimedRead>(
        &mut self,
        source: R,
        layer: &str,
        expected: &Expected,
    ) -> Result<LayerStats, UnpackError> {
        let started = Instant::now();
        let mut stats = LayerStats::default();
        let interrupt = source.interrupter();
        let (sender, mut reader) = decode::pipe();
        let (hash_blob, hash_tar) = (expected.blob.is_some(), expected.diff_id.is_some());
        let decoded = std::thread::scope(|s| {
            let decoder = std::thread::Builder::new()
                .name("scar-decode".into())
                .spawn_scoped(s, move || decode::run(source, hash_blob, hash_tar, sender))
                .map_err(|e| io_err(layer, &self.root, e))?;
            let applied = self
                .apply_tar(&mut reader, layer, &mut stats)
                .and_then(|()| reader.drain().map_err(|e| corrupt(layer, e)));
            let upstream_failed = reader.upstream_failed();
            if applied.is_err()
                && let Some(interrupt) = interrupt
            {
                // The decoder may be blocked on the network: wake it so the
                // failure is reported now rather than at the read timeout.
                interrupt();
            }
            // Hanging up stops the decoder at its next chunk.
            drop(reader);
            let decoded = decoder
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the decoding thread panicked")));
            match applied {
                // The unpacker's own refusal or write failure.
                Err(e) if !upstream_failed => Err(e),
                // Otherwise a failure is the decoder's: its own error says
                // more than the copy the unpacker read.
                applied => {
                    let decoded = decoded.map_err(|e| corrupt(layer, e))?.ok_or_else(|| {
                        corrupt(layer, io::Error::other("the decoder stopped early"))
                    })?;
                    applied.map(|()| decoded)
                }
            }
        })?;
        let checks = [
            ("diff_id", &expected.diff_id, decoded.tar_digest),
            ("blob", &expected.blob, decoded.blob_digest),
        ];
        for (what, want, got) in checks {
            if let (Some(want), Some(got)) = (want, got)
                && !digest_eq(want, &got)
            {
                return Err(UnpackError::Digest {
                    layer: layer.to_owned(),
                    what,
                    expected: want.clone(),
                    actual: got,
                });
            }
        }
        stats.compressed_bytes = decoded.compressed_bytes;
        stats.waited = decoded.waited;
        stats.elapsed = started.elapsed();
        Ok(stats)
    }

    /// Sets the final folder modes (deepest first, so a read-only parent
    /// never blocks a child) and returns the root.
    pub fn finish(mut self) -> Result<PathBuf, UnpackError> {
        self.dir_modes
            .sort_by_key(|(p, _)| std::cmp::Reverse(p.components().count()));
        self.dir_modes.dedup_by(|a, b| a.0 == b.0);
        for (path, mode) in &self.dir_modes {
            match fs::set_permissions(path, fs::Permissions::from_mode(*mode)) {
                Ok(()) => {}
                // A later layer may have replaced the folder with something else.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err("final modes", path, e)),
            }
        }
        Ok(self.root)
    }

    fn apply_tar(
        &mut self,
        stream: &mut dyn Read,
        layer: &str,
        stats: &mut LayerStats,
    ) -> Result<(), UnpackError> {
        let mut archive = tar::Archive::new(stream);
        // What this layer wrote: whiteouts and opaque markers only remove
        // what lower layers made.
        let mut written = Written::new(&self.root);
        // One copy buffer for every file of the layer.
        let mut buf = vec![0u8; COPY_BUFFER];
        let entries = archive.entries().map_err(|e| corrupt(layer, e))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| corrupt(layer, e))?;
            let raw_name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let unsafe_entry = |reason: &str| UnpackError::Unsafe {
                layer: layer.to_owned(),
                entry: raw_name.clone(),
                reason: reason.to_owned(),
            };
            let rel = relative_name(&entry.path_bytes()).map_err(&unsafe_entry)?;
            let Some(rel) = rel else {
                continue; // the root itself ("./")
            };
            let kind = entry.header().entry_type();
            let (parent_rel, file_name) = split_last(&rel);

            // Whiteouts never create anything.
            if let Some(hidden) = file_name.to_str().and_then(|n| n.strip_prefix(".wh.")) {
                let Some(parent) = self
                    .resolve_dir(&parent_rel, false)
                    .map_err(|r| r.into_error(layer, &raw_name))?
                else {
                    continue; // nothing below to hide
                };
                if hidden == ".wh..opq" {
                    written
                        .remove_others_in(&parent)
                        .map_err(|e| io_err(layer, &parent, e))?;
                } else {
                    let target = parent.join(hidden);
                    if !written.contains(&target) {
                        remove_any(&target).map_err(|e| io_err(layer, &target, e))?;
                    }
                }
                stats.entries += 1;
                continue;
            }

            if kind.is_character_special() || kind.is_block_special() {
                stats.skipped_devices += 1;
                continue;
            }
            if !(kind.is_file()
                || kind.is_contiguous()
                || kind.is_dir()
                || kind.is_symlink()
                || kind.is_hard_link()
                || kind.is_fifo())
            {
                // PAX and GNU long-name headers are consumed by the tar reader;
                // anything else (sparse files, volume labels) is not image content.
                continue;
            }

            let parent = self
                .resolve_dir(&parent_rel, true)
                .map_err(|r| r.into_error(layer, &raw_name))?
                .ok_or_else(|| unsafe_entry("its parent folder could not be created"))?;
            let dest = parent.join(&file_name);
            let mode = entry.header().mode().unwrap_or(0o644) & 0o7777;

            if kind.is_dir() {
                match fs::symlink_metadata(&dest) {
                    Ok(m) if m.is_dir() => {}
                    Ok(_) => {
                        remove_any(&dest).map_err(|e| io_err(layer, &dest, e))?;
                        create_dir(&dest).map_err(|e| io_err(layer, &dest, e))?;
                    }
                    Err(_) => create_dir(&dest).map_err(|e| io_err(layer, &dest, e))?,
                }
                // Writable for us until finish(), whatever the image says.
                fs::set_permissions(&dest, fs::Permissions::from_mode(mode | 0o700))
                    .map_err(|e| io_err(layer, &dest, e))?;
                self.dir_modes.push((dest.clone(), mode));
            } else {
                remove_any(&dest).map_err(|e| io_err(layer, &dest, e))?;
                if kind.is_symlink() {
                    let target = entry
                        .link_name_bytes()
                        .ok_or_else(|| unsafe_entry("symlink without a target"))?;
                    symlink(bytes_to_os(&target), &dest).map_err(|e| io_err(layer, &dest, e))?;
                } else if kind.is_hard_link() {
                    let target = entry
                        .link_name_bytes()
                        .ok_or_else(|| unsafe_entry("hard link without a target"))?;
                    let target_rel = relative_name(&target)
                        .map_err(|r| unsafe_entry(&format!("hard link target {r}")))?
                        .ok_or_else(|| unsafe_entry("hard link to the root folder"))?;
                    let (t_parent, t_name) = split_last(&target_rel);
                    let t_dir = self
                        .resolve_dir(&t_parent, false)
                        .map_err(|r| r.into_error(layer, &raw_name))?
                        .ok_or_else(|| {
                            unsafe_entry("hard link target does not exist in the image")
                        })?;
                    let t_path = t_dir.join(t_name);
                    match fs::symlink_metadata(&t_path) {
                        Ok(m) if !m.is_dir() => {}
                        Ok(_) => return Err(unsafe_entry("hard link to a folder")),
                        Err(_) => {
                            return Err(unsafe_entry(
                                "hard link target does not exist in the image",
                            ));
                        }
                    }
                    fs::hard_link(&t_path, &dest).map_err(|e| io_err(layer, &dest, e))?;
                } else if kind.is_fifo() {
                    make_fifo(&dest, mode).map_err(|e| io_err(layer, &dest, e))?;
                } else {
                    let mut file = fs::OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .mode(0o600)
                        .custom_flags(libc::O_NOFOLLOW)
                        .open(&dest)
                        .map_err(|e| io_err(layer, &dest, e))?;
                    let n =
                        copy_buffered(&mut entry, &mut file, &mut buf).map_err(|e| match e {
                            CopyError::Read(e) => corrupt(layer, e),
                            CopyError::Write(e) => io_err(layer, &dest, e),
                        })?;
                    stats.file_bytes += n;
                    file.set_permissions(fs::Permissions::from_mode(mode))
                        .map_err(|e| io_err(layer, &dest, e))?;
                }
            }
            written.insert(&dest);
            stats.entries += 1;
        }
        Ok(())
    }

    /// Resolves a folder path (components relative to the root) to a host
    /// path inside the root, following symlinks as if the root were `/`.
    /// With `create`, missing folders are made; without it, `Ok(None)` says
    /// the folder does not exist.
    fn resolve_dir(&self, rel: &[OsString], create: bool) -> Result<Option<PathBuf>, Refusal> {
        let mut pending: VecDeque<OsString> = rel.iter().cloned().collect();
        let mut current: Vec<OsString> = Vec::new();
        let mut links = 0;
        while let Some(part) = pending.pop_front() {
            if part == "." || part.is_empty() {
                continue;
            }
            if part == ".." {
                if current.pop().is_none() {
                    return Err(Refusal::Unsafe(
                        "a symlink in its path climbs above the image root".into(),
                    ));
                }
                continue;
            }
            let mut host = self.root.clone();
            host.extend(current.iter());
            host.push(&part);
            match fs::symlink_metadata(&host) {
                Ok(m) if m.is_dir() => current.push(part),
                Ok(m) if m.file_type().is_symlink() => {
                    links += 1;
                    if links > MAX_SYMLINKS {
                        return Err(Refusal::Unsafe(
                            "too many levels of symlinks in its path".into(),
                        ));
                    }
                    let target = fs::read_link(&host).map_err(|e| Refusal::Io(host.clone(), e))?;
                    if target.is_absolute() {
                        current.clear();
                    }
                    let mut parts: Vec<OsString> = target
                        .components()
                        .filter_map(|c| match c {
                            Component::Normal(n) => Some(n.to_os_string()),
                            Component::ParentDir => Some(OsString::from("..")),
                            _ => None,
                        })
                        .collect();
                    while let Some(p) = parts.pop() {
                        pending.push_front(p);
                    }
                }
                Ok(_) => return Err(Refusal::Unsafe("a path component is not a folder".into())),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    if !create {
                        return Ok(None);
                    }
                    create_dir(&host).map_err(|e| Refusal::Io(host.clone(), e))?;
                    current.push(part);
                }
                Err(e) => return Err(Refusal::Io(host, e)),
            }
        }
        let mut host = self.root.clone();
        host.extend(current.iter());
        Ok(Some(host))
    }
}

/// A resolution failure before it knows its layer and entry.
enum Refusal {
    Unsafe(String),
    Io(PathBuf, io::Error),
}

impl Refusal {
    fn into_error(self, layer: &str, entry: &str) -> UnpackError {
        match self {
            Refusal::Unsafe(reason) => UnpackError::Unsafe {
                layer: layer.to_owned(),
                entry: entry.to_owned(),
                reason,
            },
            Refusal::Io(path, e) => io_err(layer, &path, e),
        }
    }
}

/// Splits an archive name into checked components. `Ok(None)` is the root
/// itself; absolute names and `..` are refused.
fn relative_name(bytes: &[u8]) -> Result<Option<Vec<OsString>>, &'static str> {
    if bytes.first() == Some(&b'/') {
        return Err("absolute path");
    }
    if bytes.contains(&0) {
        return Err("NUL byte in name");
    }
    let mut parts = Vec::new();
    for part in bytes.split(|b| *b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => return Err("path climbs out with '..'"),
            p => parts.push(bytes_to_os(p).to_os_string()),
        }
    }
    Ok(if parts.is_empty() { None } else { Some(parts) })
}

fn split_last(parts: &[OsString]) -> (Vec<OsString>, OsString) {
    let (last, parent) = parts
        .split_last()
        .expect("relative_name never yields an empty path");
    (parent.to_vec(), last.clone())
}

fn bytes_to_os(b: &[u8]) -> &OsStr {
    use std::os::unix::ffi::OsStrExt;
    OsStr::from_bytes(b)
}

fn create_dir(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    match fs::DirBuilder::new().mode(0o755).create(path) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    }
}

/// Removes a file, link or whole folder; a missing path is fine.
fn remove_any(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => {
            make_tree_writable(path);
            fs::remove_dir_all(path)
        }
        Ok(_) => fs::remove_file(path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Lets the owner delete inside a tree whose folders an earlier layer made
/// read-only. Best effort: the removal that follows reports what failed.
fn make_tree_writable(path: &Path) {
    if let Ok(m) = fs::symlink_metadata(path)
        && m.is_dir()
    {
        let _ = fs::set_permissions(
            path,
            fs::Permissions::from_mode(m.permissions().mode() | 0o700),
        );
        if let Ok(rd) = fs::read_dir(path) {
            for child in rd.flatten() {
                make_tree_writable(&child.path());
            }
        }
    }
}

/// The paths one layer wrote, kept relative to the root: a large layer
/// writes thousands, and the root's prefix would be most of each.
struct Written {
    root: PathBuf,
    paths: HashSet<Box<Path>>,
}

impl Written {
    fn new(root: &Path) -> Self {
        Written {
            root: root.to_owned(),
            paths: HashSet::new(),
        }
    }

    /// `host` is under the root: every path the unpacker resolves is.
    fn key<'a>(&self, host: &'a Path) -> &'a Path {
        host.strip_prefix(&self.root).unwrap_or(host)
    }

    fn insert(&mut self, host: &Path) {
        let key = self.key(host).into();
        self.paths.insert(key);
    }

    fn contains(&self, host: &Path) -> bool {
        self.paths.contains(self.key(host))
    }

    /// Removes what `dir` holds that this layer did not write (an opaque
    /// marker).
    fn remove_others_in(&self, dir: &Path) -> io::Result<()> {
        for child in fs::read_dir(dir)? {
            let path = child?.path();
            if !self.contains(&path) {
                remove_any(&path)?;
            }
        }
        Ok(())
    }
}

fn make_fifo(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in path"))?;
    // SAFETY: `c` is a valid NUL-terminated path for the duration of the call.
    if unsafe { libc::mkfifo(c.as_ptr(), mode as libc::mode_t) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

enum CopyError {
    Read(io::Error),
    Write(io::Error),
}

fn copy_buffered(from: &mut dyn Read, to: &mut fs::File, buf: &mut [u8]) -> Result<u64, CopyError> {
    let mut total = 0u64;
    loop {
        let n = match from.read(buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CopyError::Read(e)),
        };
        to.write_all(&buf[..n]).map_err(CopyError::Write)?;
        total += n as u64;
    }
}

fn digest_eq(want: &str, got: &str) -> bool {
    want.eq_ignore_ascii_case(got)
}

fn corrupt(layer: &str, e: io::Error) -> UnpackError {
    UnpackError::Corrupt {
        layer: layer.to_owned(),
        source: e,
    }
}

fn io_err(layer: &str, path: &Path, e: io::Error) -> UnpackError {
    if e.raw_os_error() == Some(libc::ENOSPC) || e.kind() == io::ErrorKind::StorageFull {
        UnpackError::NoSpace {
            layer: layer.to_owned(),
            path: path.to_owned(),
        }
    } else {
        UnpackError::Io {
            layer: layer.to_owned(),
            path: path.to_owned(),
            source: e,
        }
    }
}

/// The `sha256:HEX` digest of a byte slice.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_of(build: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        build(&mut b);
        b.into_inner().unwrap()
    }

    fn file(b: &mut tar::Builder<Vec<u8>>, path: &str, data: &[u8], mode: u32) {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(mode);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, path, data).unwrap();
    }

    fn link(b: &mut tar::Builder<Vec<u8>>, kind: tar::EntryType, path: &str, target: &str) {
        let mut h = tar::Header::new_gnu();
        h.set_size(0);
        h.set_mode(0o777);
        h.set_entry_type(kind);
        b.append_link(&mut h, path, target).unwrap();
    }

    fn apply(root: &Path, layer: &[u8]) -> Result<LayerStats, UnpackError> {
        let mut u = Unpacker::new(root);
        let s = u.apply_layer(layer, "test", &Expected::default())?;
        u.finish()?;
        Ok(s)
    }

    #[test]
    fn files_links_and_modes() {
        let dir = tempfile::tempdir().unwrap();
        let layer = tar_of(|b| {
            file(b, "usr/bin/tool", b"#!/bin/sh\n", 0o750);
            link(b, tar::EntryType::Symlink, "bin", "usr/bin");
            link(b, tar::EntryType::Link, "usr/bin/tool2", "usr/bin/tool");
            // Written through the `bin -> usr/bin` symlink: lands inside.
            file(b, "bin/extra", b"x", 0o644);
        });
        let s = apply(dir.path(), &layer).unwrap();
        assert_eq!(s.entries, 4);
        let tool = dir.path().join("usr/bin/tool");
        assert_eq!(
            fs::metadata(&tool).unwrap().permissions().mode() & 0o7777,
            0o750
        );
        assert_eq!(fs::read(dir.path().join("usr/bin/extra")).unwrap(), b"x");
        use std::os::unix::fs::MetadataExt;
        assert_eq!(
            fs::metadata(&tool).unwrap().ino(),
            fs::metadata(dir.path().join("usr/bin/tool2"))
                .unwrap()
                .ino()
        );
    }

    #[test]
    fn whiteouts_and_opaque_only_touch_lower_layers() {
        let dir = tempfile::tempdir().unwrap();
        let lower = tar_of(|b| {
            file(b, "etc/a", b"a", 0o644);
            file(b, "etc/b", b"b", 0o644);
            file(b, "data/old1", b"1", 0o644);
            file(b, "data/old2", b"2", 0o644);
        });
        let upper = tar_of(|b| {
            file(b, "etc/.wh.a", b"", 0o644);
            file(b, "data/new", b"n", 0o644);
            // Opaque marker after the same layer's new file: the new file stays.
            file(b, "data/.wh..wh..opq", b"", 0o644);
        });
        let mut u = Unpacker::new(dir.path());
        u.apply_layer(&lower[..], "lower", &Expected::default())
            .unwrap();
        u.apply_layer(&upper[..], "upper", &Expected::default())
            .unwrap();
        u.finish().unwrap();
        assert!(!dir.path().join("etc/a").exists());
        assert!(dir.path().join("etc/b").exists());
        assert!(!dir.path().join("etc/.wh.a").exists());
        let mut names: Vec<_> = fs::read_dir(dir.path().join("data"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["new"]);
    }

    #[test]
    fn escapes_are_refused_and_nothing_lands_outside() {
        let outside = tempfile::tempdir().unwrap();
        let out = outside.path().to_str().unwrap().to_owned();
        let cases: Vec<(&str, Vec<u8>)> = vec![
            (
                "absolute symlink parent",
                tar_of(|b| {
                    // An absolute target is resolved inside the root: this creates
                    // ROOT/<outside path>/pwned, never the real outside folder.
                    link(b, tar::EntryType::Symlink, "l", &out);
                    file(b, "l/pwned", b"x", 0o644);
                }),
            ),
            (
                "relative climb",
                tar_of(|b| {
                    link(b, tar::EntryType::Symlink, "up", "../../../../../../../..");
                    file(b, "up/pwned", b"x", 0o644);
                }),
            ),
            (
                "hardlink absolute",
                tar_of(|b| {
                    link(b, tar::EntryType::Link, "h", "/etc/passwd");
                }),
            ),
        ];
        for (name, layer) in cases {
            let root = tempfile::tempdir().unwrap();
            let result = apply(root.path(), &layer);
            if name == "absolute symlink parent" {
                result.unwrap();
                assert!(
                    root.path()
                        .join(out.trim_start_matches('/'))
                        .join("pwned")
                        .exists()
                );
            } else {
                let e = result.unwrap_err();
                assert!(matches!(e, UnpackError::Unsafe { .. }), "{name}: {e}");
            }
            assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0, "{name}");
        }
    }

    #[test]
    fn raw_evil_names_are_refused() {
        for evil in ["../escape", "/abs", "a/../../b"] {
            let mut h = tar::Header::new_gnu();
            // The tar crate's setters refuse these names; write them raw.
            let name = &mut h.as_old_mut().name;
            name[..evil.len()].copy_from_slice(evil.as_bytes());
            h.set_size(1);
            h.set_mode(0o644);
            h.set_entry_type(tar::EntryType::Regular);
            h.set_cksum();
            let mut data = h.as_bytes().to_vec();
            data.extend_from_slice(&[b'x'; 512][..512]);
            data.extend_from_slice(&[0; 1024]);
            let root = tempfile::tempdir().unwrap();
            let e = apply(root.path(), &data).unwrap_err();
            assert!(e.to_string().contains(evil), "{e}");
        }
    }

    #[test]
    fn digests_are_checked() {
        let layer = tar_of(|b| file(b, "f", b"data", 0o644));
        let root = tempfile::tempdir().unwrap();
        let mut u = Unpacker::new(root.path());
        let good = Expected {
            blob: Some(sha256_digest(&layer)),
            diff_id: Some(sha256_digest(&layer)),
        };
        u.apply_layer(&layer[..], "l", &good).unwrap();
        let bad = Expected {
            blob: Some(format!("sha256:{}", "0".repeat(64))),
            diff_id: None,
        };
        let e = u.apply_layer(&layer[..], "l", &bad).unwrap_err();
        assert!(matches!(e, UnpackError::Digest { what: "blob", .. }), "{e}");
    }

    #[test]
    fn gzip_and_zstd_are_recognised() {
        let layer = tar_of(|b| file(b, "f", b"data", 0o644));
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&layer).unwrap();
        let gz = gz.finish().unwrap();
        let zst = zstd::encode_all(&layer[..], 1).unwrap();
        for blob in [gz, zst] {
            let root = tempfile::tempdir().unwrap();
            let mut u = Unpacker::new(root.path());
            let expected = Expected {
                blob: Some(sha256_digest(&blob)),
                diff_id: Some(sha256_digest(&layer)),
            };
            u.apply_layer(&blob[..], "l", &expected).unwrap();
            assert_eq!(fs::read(root.path().join("f")).unwrap(), b"data");
        }
    }
}
