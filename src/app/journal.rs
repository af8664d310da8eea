//! The batch journal: one append-only JSON-lines file per function in the
//! data folder, so that a `run` killed at any instant can be relaunched
//! without sending twice a key that Lambda acknowledged.
//!
//! The rule that makes it work: a key's `intent` is on disk (fsync'd)
//! before its Invoke request leaves, and its `ack` (with Lambda's request
//! id) is appended once the 202 came back. Intents go in chunks, and each
//! chunk's fsync also carries the acks gathered since the last one, so the
//! disk sees one write per chunk, not one per key. On replay:
//! - a key with an `ack` was accepted: never sent again;
//! - a key with no record was never sent: it is sent;
//! - a key with an `intent` but no later `ack` is *in doubt* (killed between
//!   the request and the fsync of its ack). At most one chunk plus the keys
//!   in flight are ever in doubt. The batch resolves them from the logs
//!   (the supervisor's metrics line names the key) before sending any.
//!
//! A file holds one *campaign*: `begin`, then records, then `complete` when
//! every listed key was acknowledged. A `run` after a complete campaign
//! starts a new one (the old file is kept as `.prev.jsonl`); a `run` after
//! an incomplete one resumes it. A line torn by a crash is skipped.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

/// A journal failure, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The file could not be read, written or synced.
    #[error("batch journal {path}: {source}")]
    Io {
        /// The journal file.
        path: PathBuf,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
}

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Record {
    /// A campaign starts: what it lists.
    Begin {
        /// Campaign id.
        run: String,
        /// When, ms since the epoch.
        ms: i64,
        /// The function.
        function: String,
        /// Input bucket.
        bucket: String,
        /// Input prefix.
        prefix: String,
    },
    /// A relaunch resumed the campaign.
    Resume {
        /// When.
        ms: i64,
    },
    /// These keys are about to be sent (durable before they are).
    Intent {
        /// When.
        ms: i64,
        /// The keys.
        keys: Vec<String>,
    },
    /// Lambda accepted the key's event.
    Ack {
        /// The key.
        key: String,
        /// Lambda's request id.
        id: String,
    },
    /// An in-doubt key found in the logs: it had been accepted.
    Reconciled {
        /// The key.
        key: String,
        /// The request id the logs show.
        id: String,
    },
    /// The key could not be sent (a permanent error); a relaunch retries it.
    Reject {
        /// The key.
        key: String,
        /// Why.
        error: String,
    },
    /// Every listed key was acknowledged.
    Complete {
        /// When.
        ms: i64,
        /// Keys acknowledged in the campaign.
        keys: u64,
    },
}

/// What the journal says about one key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeyState {
    /// Request ids Lambda gave it, oldest first (more than one after `--retry-failed`).
    pub ids: Vec<String>,
    /// Set while an intent has no ack after it: when that intent was written.
    pub in_doubt_since: Option<i64>,
    /// The last permanent error, if the last attempt was rejected.
    pub rejected: Option<String>,
    /// When its latest intent was written: its latest event ran after this.
    pub intent_ms: Option<i64>,
}

impl KeyState {
    /// The request id of its latest accepted event.
    pub fn current_id(&self) -> Option<&str> {
        self.ids.last().map(String::as_str)
    }
}

/// The campaign a journal holds, replayed.
#[derive(Debug, Clone, Default)]
pub struct Campaign {
    /// Its id (from `begin`).
    pub run: String,
    /// When it began, ms since the epoch.
    pub started_ms: i64,
    /// Input bucket.
    pub bucket: String,
    /// Input prefix.
    pub prefix: String,
    /// Every key seen, with its state.
    pub keys: HashMap<String, KeyState>,
    /// A `complete` record closes it.
    pub complete: bool,
    /// Lines that did not parse (a torn last line after a crash).
    pub skipped_lines: usize,
}

impl Campaign {
    /// Applies one record.
    pub fn apply(&mut self, r: Record) {
        match r {
            Record::Begin {
                run,
                ms,
                bucket,
                prefix,
                ..
            } => {
                *self = Campaign {
                    run,
                    started_ms: ms,
                    bucket,
                    prefix,
                    skipped_lines: self.skipped_lines,
                    ..Default::default()
                }
            }
            Record::Resume { .. } => {}
            Record::Intent { ms, keys } => {
                for k in keys {
                    let s = self.keys.entry(k).or_default();
                    s.in_doubt_since = Some(ms);
                    s.intent_ms = Some(ms);
                }
            }
            Record::Ack { key, id } | Record::Reconciled { key, id } => {
                let s = self.keys.entry(key).or_default();
                if !s.ids.contains(&id) {
                    s.ids.push(id);
                }
                s.in_doubt_since = None;
                s.rejected = None;
            }
            Record::Reject { key, error } => {
                let s = self.keys.entry(key).or_default();
                s.in_doubt_since = None;
                s.rejected = Some(error);
            }
            Record::Complete { .. } => self.complete = true,
        }
    }

    /// Keys whose event Lambda accepted, with their current request id
    /// (empty if the cloud did not return one: see [`KeyState::intent_ms`]).
    pub fn acknowledged(&self) -> impl Iterator<Item = (&str, &str)> {
        self.acknowledged_states()
            .filter_map(|(k, s)| Some((k, s.current_id()?)))
    }

    /// Keys whose event Lambda accepted, with their state.
    pub fn acknowledged_states(&self) -> impl Iterator<Item = (&str, &KeyState)> {
        self.keys
            .iter()
            .filter(|(_, s)| {
                s.in_doubt_since.is_none() && s.rejected.is_none() && !s.ids.is_empty()
            })
            .map(|(k, s)| (k.as_str(), s))
    }

    /// Keys in doubt, with when their intent was written.
    pub fn in_doubt(&self) -> Vec<(String, i64)> {
        let mut v: Vec<(String, i64)> = self
            .keys
            .iter()
            .filter_map(|(k, s)| Some((k.clone(), s.in_doubt_since?)))
            .collect();
        v.sort();
        v
    }

    /// Whether the listing should skip `key`: it was accepted, or it is in
    /// doubt (resolved separately).
    pub fn settled_or_in_doubt(&self, key: &str) -> bool {
        self.keys.get(key).is_some_and(|s| {
            s.in_doubt_since.is_some() || (s.rejected.is_none() && !s.ids.is_empty())
        })
    }
}

/// An open journal, appending.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: Arc<Mutex<std::fs::File>>,
    buf: Vec<u8>,
}

/// The file name of a function's journal (names are `[A-Za-z0-9-_]` on
/// Lambda; anything else, as in an ARN, becomes `_`).
pub fn journal_path(dir: &Path, function: &str) -> PathBuf {
    let safe: String = function
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    dir.join(format!("{safe}.jsonl"))
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> JournalError + '_ {
    move |source| JournalError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Replays a journal file (none yet: an empty campaign).
pub fn replay(path: &Path) -> Result<Option<Campaign>, JournalError> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(path)(e)),
    };
    let mut c = Campaign::default();
    let mut began = false;
    for line in std::io::BufReader::new(file).split(b'\n') {
        let line = line.map_err(io(path))?;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Record>(&line) {
            Ok(r) => {
                began |= matches!(r, Record::Begin { .. });
                c.apply(r);
            }
            Err(_) => c.skipped_lines += 1,
        }
    }
    Ok(began.then_some(c))
}

fn sync_dir(dir: &Path) {
    // Makes a new file's name durable; best effort (not every filesystem allows it).
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

impl Journal {
    /// Opens a journal to append to (after [`replay`]).
    pub fn open(path: &Path) -> Result<Journal, JournalError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io(dir))?;
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(path)
            .map_err(io(path))?;
        // A crash can leave a torn last line: start ours on a line of its own.
        let len = file.metadata().map_err(io(path))?.len();
        if len > 0 {
            use std::io::{Read, Seek, SeekFrom};
            let mut last = [0u8; 1];
            file.seek(SeekFrom::Start(len - 1)).map_err(io(path))?;
            file.read_exact(&mut last).map_err(io(path))?;
            if last[0] != b'\n' {
                file.write_all(b"\n").map_err(io(path))?;
            }
        }
        Ok(Journal {
            path: path.to_owned(),
            file: Arc::new(Mutex::new(file)),
            buf: Vec::new(),
        })
    }

    /// Starts a new campaign: the previous file (if any) is kept as
    /// `NAME.prev.jsonl`, and the new one begins with `begin`, synced.
    pub async fn start(path: &Path, begin: Record) -> Result<Journal, JournalError> {
        if path.exists() {
            let prev = path.with_extension("prev.jsonl");
            std::fs::rename(path, &prev).map_err(io(path))?;
        }
        let mut j = Journal::open(path)?;
        if let Some(dir) = path.parent() {
            sync_dir(dir);
        }
        j.push(&begin);
        j.sync().await?;
        Ok(j)
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Buffers a record (written by the next [`Journal::sync`]).
    pub fn push(&mut self, r: &Record) {
        // Serializing an enum of strings and integers cannot fail.
        if let Ok(mut line) = serde_json::to_vec(r) {
            line.push(b'\n');
            self.buf.extend_from_slice(&line);
        }
    }

    /// Writes what is buffered and waits until it is on disk (fdatasync).
    pub async fn sync(&mut self) -> Result<(), JournalError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let buf = std::mem::take(&mut self.buf);
        let file = self.file.clone();
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let mut f = file.lock().unwrap_or_else(|p| p.into_inner());
            f.write_all(&buf)
                .and_then(|_| f.sync_data())
                .map_err(io(&path))
        })
        .await
        .map_err(|e| JournalError::Io {
            path: self.path.clone(),
            source: std::io::Error::other(e),
        })?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn begin() -> Record {
        Record::Begin {
            run: "r".into(),
            ms: 1,
            function: "f".into(),
            bucket: "b".into(),
            prefix: "in/".into(),
        }
    }

    #[tokio::test]
    async fn replay_tells_acknowledged_in_doubt_and_unsent_keys_apart() {
        let d = tempfile::tempdir().unwrap();
        let path = journal_path(d.path(), "fn");
        let mut j = Journal::start(&path, begin()).await.unwrap();
        j.push(&Record::Intent {
            ms: 5,
            keys: vec!["in/a b".into(), "in/é".into(), "in/c".into()],
        });
        j.push(&Record::Ack {
            key: "in/a b".into(),
            id: "id1".into(),
        });
        j.push(&Record::Reject {
            key: "in/c".into(),
            error: "too large".into(),
        });
        j.sync().await.unwrap();
        drop(j);
        // A torn line, as a kill mid-write leaves it.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(br#"{"t":"ack","key":"in/"#)
            .unwrap();
        let c = replay(&path).unwrap().unwrap();
        assert_eq!(c.skipped_lines, 1);
        assert_eq!(
            c.acknowledged().collect::<Vec<_>>(),
            vec![("in/a b", "id1")]
        );
        assert_eq!(c.in_doubt(), vec![("in/é".to_owned(), 5)]);
        assert!(c.settled_or_in_doubt("in/a b") && c.settled_or_in_doubt("in/é"));
        assert!(!c.settled_or_in_doubt("in/c") && !c.settled_or_in_doubt("in/new"));
        assert!(!c.complete);

        // Appending after the torn line starts on a fresh line.
        let mut j = Journal::open(&path).unwrap();
        j.push(&Record::Reconciled {
            key: "in/é".into(),
            id: "id2".into(),
        });
        j.push(&Record::Complete { ms: 9, keys: 2 });
        j.sync().await.unwrap();
        let c = replay(&path).unwrap().unwrap();
        assert!(c.in_doubt().is_empty() && c.complete);
        assert_eq!(c.keys["in/é"].current_id(), Some("id2"));

        // A new campaign keeps the old file aside.
        Journal::start(&path, begin()).await.unwrap();
        assert!(path.with_extension("prev.jsonl").exists());
        assert!(replay(&path).unwrap().unwrap().keys.is_empty());
    }
}
