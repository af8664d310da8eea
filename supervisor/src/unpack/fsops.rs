//! The file-system operations the unpacker is built from.
//!
//! Creating and removing folders and files (including trees an earlier
//! layer made read-only), making FIFOs, copying entry contents through one
//! reused buffer, and `Written`, the set of paths one layer wrote, which
//! whiteouts and opaque markers consult. None of them knows about tar or
//! about the root's safety rules: callers pass paths already resolved
//! inside the root.

use std::collections::HashSet;
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

pub(super) fn create_dir(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    match fs::DirBuilder::new().mode(0o755).create(path) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    }
}

/// Removes a file, link or whole folder; a missing path is fine.
pub(super) fn remove_any(path: &Path) -> io::Result<()> {
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
pub(super) struct Written {
    root: PathBuf,
    paths: HashSet<Box<Path>>,
}

impl Written {
    pub(super) fn new(root: &Path) -> Self {
        Written {
            root: root.to_owned(),
            paths: HashSet::new(),
        }
    }

    /// `host` is under the root: every path the unpacker resolves is.
    fn key<'a>(&self, host: &'a Path) -> &'a Path {
        host.strip_prefix(&self.root).unwrap_or(host)
    }

    pub(super) fn insert(&mut self, host: &Path) {
        let key = self.key(host).into();
        self.paths.insert(key);
    }

    pub(super) fn contains(&self, host: &Path) -> bool {
        self.paths.contains(self.key(host))
    }

    /// Removes what `dir` holds that this layer did not write (an opaque
    /// marker).
    pub(super) fn remove_others_in(&self, dir: &Path) -> io::Result<()> {
        for child in fs::read_dir(dir)? {
            let path = child?.path();
            if !self.contains(&path) {
                remove_any(&path)?;
            }
        }
        Ok(())
    }
}

pub(super) fn make_fifo(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in path"))?;
    // SAFETY: `c` is a valid NUL-terminated path for the duration of the call.
    if unsafe { libc::mkfifo(c.as_ptr(), mode as libc::mode_t) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

pub(super) enum CopyError {
    Read(io::Error),
    Write(io::Error),
}

pub(super) fn copy_buffered(
    from: &mut dyn Read,
    to: &mut fs::File,
    buf: &mut [u8],
) -> Result<u64, CopyError> {
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
