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
//!
//! The work is split by responsibility: this file holds the public API
//! (errors, statistics, the [`Unpacker`] and its per-layer pipeline), and
//! its children hold the rest: `entries` applies a tar stream entry by
//! entry, `names` checks entry names and resolves them to paths inside the
//! root, and `fsops` holds the file-system operations they share.

use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::decode;

mod entries;
mod fsops;
mod names;
#[cfg(test)]
mod tests;

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
