//! The durable record of queued `Event` invocations: one append-only
//! JSON-lines file, `queue/journal.jsonl`.
//!
//! Each change is one line, written with one `write` before the caller is
//! answered: `{"put": EVENT}` when an event is accepted or rescheduled for a
//! retry (the newest line of an id wins), `{"done": ID}` when it finished or
//! went to the failed-events record. Replaying the file gives the events
//! still owed; a torn last line (a crash mid-write) is ignored. The file is
//! rewritten with only those (temp file, fsync, rename) when it opens and
//! once it holds several times more lines than live events.
//!
//! Why a journal rather than a file per event: accepting and finishing an
//! event is then two appends instead of create, write, rename and unlink:
//! no inode made and freed per event (on ext4 without a journal, every
//! inode allocation scans the recently freed ones), and one syscall each.
//! Durability is unchanged: a line is in the kernel before the 202 (or the
//! S3 response) goes out, so a crash or restart of the local cloud loses
//! nothing; like the logs and metrics, appends are not fsynced one by one.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::LocalError;

/// The journal's file name in the queue folder.
const FILE: &str = "journal.jsonl";

/// Lines written since the last rewrite before one is considered.
const REWRITE_MIN_LINES: usize = 4096;

/// One queued event, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Queued {
    /// The request id.
    pub id: String,
    /// The function's name.
    pub function: String,
    /// The event.
    pub payload: String,
    /// Attempts made.
    pub attempts: u32,
    /// When it was accepted, ms since the epoch.
    pub enqueued_ms: u64,
    /// Not to be attempted before, ms since the epoch.
    pub not_before_ms: u64,
    /// Why the last attempt failed.
    #[serde(default)]
    pub last_error: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Line {
    Put(Queued),
    Done(String),
}

/// The open journal.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: File,
    /// Events owed, by id: what a rewrite keeps.
    live: HashMap<String, Queued>,
    /// Lines in the file.
    lines: usize,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> LocalError + '_ {
    move |e| LocalError::io(path, e)
}

impl Journal {
    /// Opens the journal in `dir`, returning it and the events still owed,
    /// oldest first. Events stored by earlier versions as one `ID.json` file
    /// each are taken over.
    pub fn open(dir: &Path) -> Result<(Journal, Vec<Queued>), LocalError> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let path = dir.join(FILE);
        let mut live: HashMap<String, Queued> = HashMap::new();
        match File::open(&path) {
            Ok(f) => {
                for line in BufReader::new(f).split(b'\n') {
                    let line = line.map_err(io(&path))?;
                    // A torn or foreign line is skipped: only the last
                    // line can be torn, and it was never acknowledged.
                    match serde_json::from_slice::<Line>(&line) {
                        Ok(Line::Put(ev)) => {
                            live.insert(ev.id.clone(), ev);
                        }
                        Ok(Line::Done(id)) => {
                            live.remove(&id);
                        }
                        Err(_) => {}
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(LocalError::io(&path, e)),
        }
        let mut legacy = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io(dir))?.flatten() {
            let p = entry.path();
            match p.extension().and_then(|x| x.to_str()) {
                Some("json") => {
                    if let Some(ev) = std::fs::read(&p)
                        .ok()
                        .and_then(|b| serde_json::from_slice::<Queued>(&b).ok())
                    {
                        live.entry(ev.id.clone()).or_insert(ev);
                    }
                    legacy.push(p);
                }
                // An unfinished write of the old layout: never acknowledged.
                Some("tmp") => legacy.push(p),
                _ => {}
            }
        }
        let file = rewrite(&path, &live)?;
        let journal = Journal {
            path,
            file,
            lines: live.len(),
            live,
        };
        // Only once their events are in the journal.
        for p in legacy {
            let _ = std::fs::remove_file(p);
        }
        let mut owed: Vec<Queued> = journal.live.values().cloned().collect();
        owed.sort_by(|a, b| (a.enqueued_ms, &a.id).cmp(&(b.enqueued_ms, &b.id)));
        Ok((journal, owed))
    }

    /// Records an accepted event, or its new state before a retry.
    pub fn put(&mut self, ev: &Queued) -> std::io::Result<()> {
        self.append(&Line::Put(ev.clone()))?;
        self.live.insert(ev.id.clone(), ev.clone());
        Ok(())
    }

    /// Records that an event is settled (succeeded, or recorded as failed).
    pub fn done(&mut self, id: &str) -> std::io::Result<()> {
        if self.live.remove(id).is_none() {
            return Ok(());
        }
        self.append(&Line::Done(id.to_owned()))?;
        if self.lines >= REWRITE_MIN_LINES && self.lines > 4 * self.live.len() {
            match rewrite(&self.path, &self.live) {
                Ok(file) => {
                    self.file = file;
                    self.lines = self.live.len();
                }
                // The long journal is still correct; the next try may work.
                Err(e) => tracing::warn!(error = %e, "queue journal not compacted"),
            }
        }
        Ok(())
    }

    fn append(&mut self, line: &Line) -> std::io::Result<()> {
        let mut buf = serde_json::to_vec(line).map_err(std::io::Error::other)?;
        buf.push(b'\n');
        // One write of a whole line (O_APPEND): a crash tears at most this one.
        self.file.write_all(&buf)?;
        self.lines += 1;
        Ok(())
    }

    /// Events owed.
    #[cfg(test)]
    fn live(&self) -> usize {
        self.live.len()
    }
}

/// Replaces the journal with the `live` events only (temp file, fsync,
/// rename: a crash leaves one whole version or the other) and opens it for
/// appending.
fn rewrite(path: &Path, live: &HashMap<String, Queued>) -> Result<File, LocalError> {
    let tmp = path.with_extension("jsonl.tmp");
    {
        let mut w = std::io::BufWriter::new(File::create(&tmp).map_err(io(&tmp))?);
        let mut evs: Vec<&Queued> = live.values().collect();
        evs.sort_by_key(|e| e.enqueued_ms);
        for ev in evs {
            serde_json::to_writer(&mut w, &Line::Put(ev.clone()))
                .map_err(|e| LocalError::io(&tmp, std::io::Error::other(e)))?;
            w.write_all(b"\n").map_err(io(&tmp))?;
        }
        let f = w
            .into_inner()
            .map_err(|e| LocalError::io(&tmp, e.into_error()))?;
        f.sync_all().map_err(io(&tmp))?;
    }
    std::fs::rename(&tmp, path).map_err(io(path))?;
    if let Some(dir) = path.parent() {
        // Makes the rename durable; failure here is not fatal.
        let _ = File::open(dir).and_then(|d| d.sync_all());
    }
    OpenOptions::new().append(true).open(path).map_err(io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(id: &str, at: u64) -> Queued {
        Queued {
            id: id.into(),
            function: "f".into(),
            payload: "{}".into(),
            attempts: 0,
            enqueued_ms: at,
            not_before_ms: at,
            last_error: None,
        }
    }

    #[test]
    fn owed_events_survive_a_reopen_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let (mut j, owed) = Journal::open(dir.path()).unwrap();
        assert!(owed.is_empty());
        j.put(&ev("b", 2)).unwrap();
        j.put(&ev("a", 1)).unwrap();
        j.put(&ev("c", 3)).unwrap();
        j.done("b").unwrap();
        let retried = Queued {
            attempts: 1,
            last_error: Some("boom".into()),
            ..ev("c", 3)
        };
        j.put(&retried).unwrap();
        drop(j);
        let (j, owed) = Journal::open(dir.path()).unwrap();
        assert_eq!(owed, [ev("a", 1), retried]);
        // Reopening compacted the file to the live events.
        assert_eq!(j.lines, 2);
    }

    #[test]
    fn a_torn_last_line_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let (mut j, _) = Journal::open(dir.path()).unwrap();
        j.put(&ev("a", 1)).unwrap();
        j.file.write_all(br#"{"put":{"id":"b","fun"#).unwrap();
        drop(j);
        let (_, owed) = Journal::open(dir.path()).unwrap();
        assert_eq!(owed, [ev("a", 1)]);
    }

    #[test]
    fn long_journals_are_compacted() {
        let dir = tempfile::tempdir().unwrap();
        let (mut j, _) = Journal::open(dir.path()).unwrap();
        j.put(&ev("keep", 0)).unwrap();
        for i in 0..REWRITE_MIN_LINES {
            let id = format!("e{i}");
            j.put(&ev(&id, 1)).unwrap();
            j.done(&id).unwrap();
        }
        assert!(j.lines < REWRITE_MIN_LINES, "{} lines", j.lines);
        assert_eq!(j.live(), 1);
        let text = std::fs::read_to_string(dir.path().join(FILE)).unwrap();
        assert!(text.lines().count() < REWRITE_MIN_LINES);
        drop(j);
        let (_, owed) = Journal::open(dir.path()).unwrap();
        assert_eq!(owed, [ev("keep", 0)]);
    }

    #[test]
    fn events_of_the_file_per_event_layout_are_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("old.json"),
            serde_json::to_vec(&ev("old", 5)).unwrap(),
        )
        .unwrap();
        std::fs::write(dir.path().join("half.tmp"), b"{").unwrap();
        let (_, owed) = Journal::open(dir.path()).unwrap();
        assert_eq!(owed, [ev("old", 5)]);
        assert!(!dir.path().join("old.json").exists());
        assert!(!dir.path().join("half.tmp").exists());
        let (_, owed) = Journal::open(dir.path()).unwrap();
        assert_eq!(owed, [ev("old", 5)]);
    }
}
