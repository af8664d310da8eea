//! Tar entry names turned into paths inside the root.
//!
//! A name is first checked on its own (relative, no `..`, no NUL) and split
//! into components, then its parent folders are resolved against what is
//! already on disk, following symlinks as if the root were `/`. Both steps
//! are kept together, apart from the code that writes entries, because
//! together they are what keeps every write inside the root.

use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io;
use std::path::{Component, PathBuf};

use super::fsops::create_dir;
use super::{UnpackError, Unpacker, io_err};

/// Most symlinks followed while resolving one path, as the kernel's limit.
const MAX_SYMLINKS: usize = 40;

impl Unpacker {
    /// Resolves a folder path (components relative to the root) to a host
    /// path inside the root, following symlinks as if the root were `/`.
    /// With `create`, missing folders are made; without it, `Ok(None)` says
    /// the folder does not exist.
    pub(super) fn resolve_dir(
        &self,
        rel: &[OsString],
        create: bool,
    ) -> Result<Option<PathBuf>, Refusal> {
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
pub(super) enum Refusal {
    Unsafe(String),
    Io(PathBuf, io::Error),
}

impl Refusal {
    pub(super) fn into_error(self, layer: &str, entry: &str) -> UnpackError {
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
pub(super) fn relative_name(bytes: &[u8]) -> Result<Option<Vec<OsString>>, &'static str> {
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

pub(super) fn split_last(parts: &[OsString]) -> (Vec<OsString>, OsString) {
    let (last, parent) = parts
        .split_last()
        .expect("relative_name never yields an empty path");
    (parent.to_vec(), last.clone())
}

pub(super) fn bytes_to_os(b: &[u8]) -> &OsStr {
    use std::os::unix::ffi::OsStrExt;
    OsStr::from_bytes(b)
}
