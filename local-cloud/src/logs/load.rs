//! Loading the log store back from its folder on open: every group and
//! stream file is replayed; what an interrupted operation left behind
//! (temporary files, half-created groups and streams, groups being deleted,
//! a torn last line) is dropped, and expired events are pruned (their files
//! rewritten).

use std::collections::{BTreeMap, VecDeque};
use std::fs;
use std::path::{Path, PathBuf};

use super::disk::{self, GroupMeta};
use super::error::LogsError;
use super::model::{Group, Stored, Stream};
use super::store::State;
use crate::LocalError;

impl State {
    /// Loads the store from `root`, dropping what interrupted operations
    /// left behind and what retention has expired by `now`.
    pub fn open(root: &Path, now: i64) -> Result<State, LocalError> {
        fs::create_dir_all(root).map_err(|e| LocalError::io(root, e))?;
        let mut state = State {
            root: root.to_owned(),
            groups: BTreeMap::new(),
            next_id: 1,
            open_files: VecDeque::new(),
        };
        for entry in fs::read_dir(root).map_err(|e| LocalError::io(root, e))? {
            let entry = entry.map_err(|e| LocalError::io(root, e))?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if disk::is_leftover(&name) {
                remove_leftover(&path);
                continue;
            }
            if !path.is_dir() {
                continue;
            }
            let meta = disk::read_group_meta(&path).map_err(|e| LocalError::Corrupt {
                path: path.join(disk::GROUP_META),
                detail: format!(
                    "{e}; delete the folder {} to drop this log group",
                    path.display()
                ),
            })?;
            let Some(meta) = meta else {
                // Its creation never finished: nothing was ever stored in it.
                remove_leftover(&path);
                continue;
            };
            let group = state.load_group(path, meta, now)?;
            state.groups.insert(group.name.clone(), group);
        }
        Ok(state)
    }

    fn load_group(&mut self, dir: PathBuf, meta: GroupMeta, now: i64) -> Result<Group, LocalError> {
        let mut group = Group {
            name: meta.name,
            creation_time: meta.creation_time,
            retention_in_days: meta.retention_in_days,
            streams: BTreeMap::new(),
            dir: dir.clone(),
        };
        let cutoff = group.cutoff(now);
        for entry in fs::read_dir(&dir).map_err(|e| LocalError::io(&dir, e))? {
            let path = entry.map_err(|e| LocalError::io(&dir, e))?.path();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if disk::is_leftover(&name) {
                remove_leftover(&path);
                continue;
            }
            if !name.ends_with(".jsonl") {
                continue;
            }
            let replayed = disk::replay_stream(&path).map_err(|e| LocalError::Corrupt {
                path: path.clone(),
                detail: format!("{e}; delete the file to drop this log stream"),
            })?;
            let Some(r) = replayed else {
                remove_leftover(&path);
                continue;
            };
            let mut stream = Stream {
                name: r.header.stream,
                creation_time: r.header.created,
                events: BTreeMap::new(),
                last_ingestion_time: None,
                stored_bytes: 0,
                last_id: 0,
                path: path.clone(),
                file: None,
                dead_lines: r.bad_lines,
            };
            for e in r.events {
                self.next_id = self.next_id.max(e.id + 1);
                stream.last_id = stream.last_id.max(e.id);
                stream.last_ingestion_time = stream.last_ingestion_time.max(Some(e.i));
                stream.stored_bytes += e.m.len() as u64;
                if let Some(old) = stream.events.insert(
                    (e.t, e.id),
                    Stored {
                        ingestion_time: e.i,
                        message: e.m,
                    },
                ) {
                    stream.stored_bytes -= old.message.len() as u64;
                    stream.dead_lines += 1;
                }
            }
            stream.prune(cutoff);
            if stream.dead_lines > 0 {
                stream.compact().map_err(|e| match e {
                    LogsError::Io { path, source } => LocalError::Io { path, source },
                    other => LocalError::Corrupt {
                        path: path.clone(),
                        detail: other.to_string(),
                    },
                })?;
            }
            group.streams.insert(stream.name.clone(), stream);
        }
        Ok(group)
    }
}

fn remove_leftover(path: &Path) {
    let r = if path.is_dir() {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    };
    if let Err(e) = r {
        tracing::warn!(path = %path.display(), error = %e, "cannot remove a leftover log file");
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::logs::LogEvent;

    const NOW: i64 = 1_800_000_000_000;

    fn ev(t: i64, m: &str) -> LogEvent {
        LogEvent {
            timestamp: t,
            message: m.into(),
        }
    }

    fn messages(s: &Stream) -> Vec<&str> {
        s.events.values().map(|e| e.message.as_str()).collect()
    }

    #[test]
    fn leftovers_of_crashes_are_cleaned() {
        let dir = tempfile::tempdir().unwrap();
        let mut st = State::open(dir.path(), NOW).unwrap();
        st.create_group("g", NOW).unwrap();
        st.create_stream("g", "s", NOW).unwrap();
        st.append("g", "s", vec![ev(NOW, "kept")], NOW).unwrap();
        let gdir = st.group("g").unwrap().dir.clone();
        drop(st);
        fs::create_dir(dir.path().join("half-created")).unwrap();
        fs::create_dir(dir.path().join(".deleted-x")).unwrap();
        fs::write(gdir.join(".group.json.tmp"), b"{").unwrap();
        fs::write(gdir.join("t.jsonl"), b"{\"stream\":").unwrap();
        let mut f = fs::OpenOptions::new()
            .append(true)
            .open(gdir.join("s.jsonl"))
            .unwrap();
        f.write_all(b"{\"id\":99,\"t\":1,").unwrap();

        let mut st = State::open(dir.path(), NOW).unwrap();
        assert_eq!(st.groups.len(), 1);
        assert_eq!(st.group("g").unwrap().streams.len(), 1);
        assert_eq!(messages(st.stream("g", "s").unwrap()), ["kept"]);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        assert_eq!(fs::read_dir(&gdir).unwrap().count(), 2);
        st.append("g", "s", vec![ev(NOW, "after")], NOW).unwrap();
        drop(st);
        let st = State::open(dir.path(), NOW).unwrap();
        assert_eq!(messages(st.stream("g", "s").unwrap()), ["kept", "after"]);
    }
}
