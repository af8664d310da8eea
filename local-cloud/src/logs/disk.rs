//! The on-disk form of the log store, chosen so that a crash at any instant
//! leaves a readable state:
//!
//! - one folder per group, named by [`escape_name`], holding `.group.json`
//!   (name, creation time, retention), always written temp-then-rename;
//! - one append-only JSON-lines file per stream, `<escaped stream>.jsonl`:
//!   a header line (the stream's real name and creation time), then one line
//!   per event. An append is one `write` of whole lines; a crash mid-write
//!   leaves at most one torn last line, which [`replay_stream`] cuts off.
//!
//! The real names live inside the files, so escaping only has to be unique
//! and safe (long names are shortened with a hash). Files are not fsynced on
//! every append: a process crash loses nothing (the kernel has the bytes);
//! a power loss may lose the last appends but never corrupts the rest.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The group metadata file in each group folder. Escaped names never start
/// with a dot, so it cannot collide with a stream file.
pub(super) const GROUP_META: &str = ".group.json";

/// Prefix of group folders being deleted (renamed first, so a crash during
/// the removal never resurrects half a group).
const DELETED_PREFIX: &str = ".deleted-";

/// Escaped names longer than this are shortened to a prefix and a hash, so
/// that every name fits a file name (255 bytes on Linux) with its suffix.
const MAX_ESCAPED: usize = 160;

/// A file-name-safe, unique form of a group or stream name: ASCII letters,
/// digits, `-` and `_` are kept, every other byte is `%XX`; a long result is
/// cut and suffixed with `~` and a hash of the name (`~` is never produced
/// by the escaping, so the two forms cannot collide).
pub(super) fn escape_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for &b in name.as_bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.len() > MAX_ESCAPED {
        let digest = Sha256::digest(name.as_bytes());
        out.truncate(MAX_ESCAPED - 40);
        out.push('~');
        out.push_str(&hex::encode(&digest[..16]));
    }
    out
}

/// The metadata of one group, as stored in `.group.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct GroupMeta {
    /// The group's name.
    pub name: String,
    /// Milliseconds since the epoch.
    pub creation_time: i64,
    /// Days events are kept; `None` keeps them forever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_in_days: Option<u32>,
}

/// The first line of a stream file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct StreamHeader {
    /// The stream's name.
    pub stream: String,
    /// Milliseconds since the epoch.
    pub created: i64,
}

/// One event line of a stream file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct EventLine {
    /// The store-wide event id.
    pub id: u64,
    /// The event's timestamp (ms).
    pub t: i64,
    /// When it was ingested (ms).
    pub i: i64,
    /// The message.
    pub m: String,
}

/// Writes `bytes` to `path` through a temporary file and a rename, so that
/// readers see either the old or the new content.
pub(super) fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = path.with_file_name(format!(".{file_name}.tmp"));
    {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        // Makes the rename itself durable; failure here is not fatal.
        let _ = File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(())
}

/// Writes a group's metadata file.
pub(super) fn write_group_meta(group_dir: &Path, meta: &GroupMeta) -> io::Result<()> {
    let bytes = serde_json::to_vec(meta).map_err(io::Error::other)?;
    write_atomic(&group_dir.join(GROUP_META), &bytes)
}

/// Reads a group's metadata file; `None` if it is missing (a group whose
/// creation did not finish).
pub(super) fn read_group_meta(group_dir: &Path) -> io::Result<Option<GroupMeta>> {
    match fs::read(group_dir.join(GROUP_META)) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Removes a group folder: renamed aside first (atomic: from then on the
/// group is gone, even if the process dies), then deleted. A failure of the
/// deletion itself only leaves a leftover that the next open removes.
pub(super) fn remove_group_dir(root: &Path, group_dir: &Path) -> io::Result<()> {
    let aside = root.join(format!("{DELETED_PREFIX}{}", uuid::Uuid::new_v4()));
    match fs::rename(group_dir, &aside) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    }
    if let Err(e) = fs::remove_dir_all(&aside) {
        tracing::warn!(path = %aside.display(), error = %e, "cannot remove a deleted log group's folder");
    }
    Ok(())
}

/// True for folder entries that are leftovers of an interrupted operation
/// (temporary files, groups being deleted) and are removed on open.
pub(super) fn is_leftover(file_name: &str) -> bool {
    file_name.starts_with(DELETED_PREFIX)
        || (file_name.starts_with('.') && file_name.ends_with(".tmp"))
}

/// The path of a stream's file in its group folder.
pub(super) fn stream_path(group_dir: &Path, stream: &str) -> PathBuf {
    group_dir.join(format!("{}.jsonl", escape_name(stream)))
}

/// Serializes one line (with its newline) onto `out`.
pub(super) fn push_line<T: Serialize>(out: &mut Vec<u8>, value: &T) -> io::Result<()> {
    serde_json::to_writer(&mut *out, value).map_err(io::Error::other)?;
    out.push(b'\n');
    Ok(())
}

/// Creates a new stream file holding only its header.
pub(super) fn create_stream_file(path: &Path, header: &StreamHeader) -> io::Result<()> {
    let mut buf = Vec::new();
    push_line(&mut buf, header)?;
    write_atomic(path, &buf)
}

/// Opens a stream file for appending.
pub(super) fn open_for_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().append(true).open(path)
}

/// Rewrites a stream file with only `events` (after retention pruning).
pub(super) fn rewrite_stream_file(
    path: &Path,
    header: &StreamHeader,
    events: impl Iterator<Item = EventLine>,
) -> io::Result<()> {
    let mut buf = Vec::new();
    push_line(&mut buf, header)?;
    for e in events {
        push_line(&mut buf, &e)?;
    }
    write_atomic(path, &buf)
}

/// What a stream file held.
#[derive(Debug)]
pub(super) struct Replayed {
    /// The header.
    pub header: StreamHeader,
    /// The events, in file order.
    pub events: Vec<EventLine>,
    /// Complete lines that could not be read (skipped).
    pub bad_lines: usize,
}

/// Reads a stream file back. A torn last line (no newline: the process died
/// mid-write) is cut off the file, so later appends start on a clean line.
/// `Ok(None)` means the file never got its header (its creation did not
/// finish): there is no stream.
pub(super) fn replay_stream(path: &Path) -> io::Result<Option<Replayed>> {
    let bytes = fs::read(path)?;
    let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
    if complete < bytes.len() {
        tracing::warn!(path = %path.display(), torn = bytes.len() - complete, "dropping a torn last log line");
        OpenOptions::new()
            .write(true)
            .open(path)?
            .set_len(complete as u64)?;
    }
    let mut lines = bytes[..complete]
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty());
    let Some(first) = lines.next() else {
        return Ok(None);
    };
    let header: StreamHeader =
        serde_json::from_slice(first).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    let mut events = Vec::new();
    let mut bad_lines = 0;
    for line in lines {
        match serde_json::from_slice::<EventLine>(line) {
            Ok(e) => events.push(e),
            Err(_) => bad_lines += 1,
        }
    }
    if bad_lines > 0 {
        tracing::warn!(path = %path.display(), bad_lines, "skipped unreadable log lines");
    }
    Ok(Some(Replayed {
        header,
        events,
        bad_lines,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_is_safe_and_unique() {
        assert_eq!(escape_name("/aws/lambda/f"), "%2Faws%2Flambda%2Ff");
        assert_eq!(
            escape_name("2026/01/02/[$LATEST]ab"),
            "2026%2F01%2F02%2F%5B%24LATEST%5Dab"
        );
        assert_eq!(escape_name(".."), "%2E%2E");
        assert_ne!(escape_name("a.b"), escape_name("a%2Eb"));
        let long = "é".repeat(400);
        let e = escape_name(&long);
        assert!(e.len() <= MAX_ESCAPED + 1 && e.contains('~'));
        assert_ne!(e, escape_name(&"é".repeat(401)));
        assert!(!escape_name("x").starts_with('.'));
    }

    #[test]
    fn torn_last_line_is_cut_and_appends_continue() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.jsonl");
        let header = StreamHeader {
            stream: "s".into(),
            created: 1,
        };
        create_stream_file(&path, &header).unwrap();
        let mut buf = Vec::new();
        let ev = |id| EventLine {
            id,
            t: 10,
            i: 11,
            m: format!("line {id}"),
        };
        push_line(&mut buf, &ev(1)).unwrap();
        push_line(&mut buf, &ev(2)).unwrap();
        buf.truncate(buf.len() - 5); // the crash
        open_for_append(&path).unwrap().write_all(&buf).unwrap();

        let r = replay_stream(&path).unwrap().unwrap();
        assert_eq!(r.header, header);
        assert_eq!(r.events, vec![ev(1)]);
        assert_eq!(r.bad_lines, 0);

        let mut more = Vec::new();
        push_line(&mut more, &ev(3)).unwrap();
        open_for_append(&path).unwrap().write_all(&more).unwrap();
        let r = replay_stream(&path).unwrap().unwrap();
        assert_eq!(r.events, vec![ev(1), ev(3)]);
    }

    #[test]
    fn headerless_file_is_no_stream() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.jsonl");
        fs::write(&path, b"{\"stream\":\"s\",\"cre").unwrap();
        assert!(replay_stream(&path).unwrap().is_none());
    }

    #[test]
    fn group_meta_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_group_meta(dir.path()).unwrap(), None);
        let meta = GroupMeta {
            name: "/aws/lambda/f".into(),
            creation_time: 5,
            retention_in_days: Some(7),
        };
        write_group_meta(dir.path(), &meta).unwrap();
        assert_eq!(read_group_meta(dir.path()).unwrap(), Some(meta));
        assert!(is_leftover(".group.json.tmp"));
        assert!(!is_leftover(GROUP_META));
    }
}
