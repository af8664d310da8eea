//! The log store's state and its mutations, each written through to disk
//! ([`super::disk`]) before it becomes visible (`load` reads it back on open).
//!
//! Event ids are store-wide and only grow (across restarts too), so
//! (timestamp, id) orders the events of every stream (FilterLogEvents
//! interleaves by it) and is a stable pagination position.

use std::collections::{BTreeMap, VecDeque};
use std::fs;
use std::io::{self, Write};
use std::path::PathBuf;

use super::LogEvent;
use super::disk::{self, EventLine};
use super::error::{LogsError, io_err};
use super::model::{Group, Stored, Stream};

/// Retention values PutRetentionPolicy accepts, in days
/// (<https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html>).
pub const RETENTION_DAYS: [u32; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// Stream files kept open for appending; older handles are closed (and
/// reopened on the next append), so thousands of streams never exhaust
/// file descriptors.
const MAX_OPEN_FILES: usize = 64;

/// Pruned lines a stream file may carry before it is rewritten (and at
/// least as many as live events, so rewrites stay amortized O(1)).
const MIN_DEAD_LINES_TO_COMPACT: usize = 1024;

/// Every group, stream and event, and where they are stored.
#[derive(Debug)]
pub(super) struct State {
    /// The data folder.
    pub(super) root: PathBuf,
    /// The groups, by name.
    pub groups: BTreeMap<String, Group>,
    /// The id the next event gets.
    pub(super) next_id: u64,
    /// Streams whose file is open, oldest first.
    pub(super) open_files: VecDeque<(String, String)>,
}

impl State {
    /// The group named `group`.
    pub fn group(&self, group: &str) -> Result<&Group, LogsError> {
        self.groups
            .get(group)
            .ok_or_else(|| LogsError::GroupNotFound {
                group: group.into(),
            })
    }

    /// The stream `stream` of `group`.
    pub fn stream(&self, group: &str, stream: &str) -> Result<&Stream, LogsError> {
        self.group(group)?
            .streams
            .get(stream)
            .ok_or_else(|| LogsError::StreamNotFound {
                group: group.into(),
                stream: stream.into(),
            })
    }

    /// Creates a group.
    pub fn create_group(&mut self, name: &str, now: i64) -> Result<(), LogsError> {
        if self.groups.contains_key(name) {
            return Err(LogsError::GroupExists { group: name.into() });
        }
        let dir = self.root.join(disk::escape_name(name));
        if dir.exists() {
            // Not a group we know: a leftover of an unfinished creation.
            fs::remove_dir_all(&dir).map_err(io_err(&dir))?;
        }
        fs::create_dir(&dir).map_err(io_err(&dir))?;
        let group = Group {
            name: name.into(),
            creation_time: now,
            retention_in_days: None,
            streams: BTreeMap::new(),
            dir,
        };
        disk::write_group_meta(&group.dir, &group.meta()).map_err(io_err(&group.dir))?;
        self.groups.insert(name.into(), group);
        Ok(())
    }

    /// Deletes a group and its streams.
    pub fn delete_group(&mut self, name: &str) -> Result<(), LogsError> {
        let group = self.group(name)?;
        disk::remove_group_dir(&self.root, &group.dir).map_err(io_err(&group.dir))?;
        self.groups.remove(name);
        Ok(())
    }

    /// Sets (or with `None` removes) a group's retention, pruning at once.
    pub fn set_retention(
        &mut self,
        name: &str,
        days: Option<u32>,
        now: i64,
    ) -> Result<(), LogsError> {
        if let Some(d) = days.filter(|d| !RETENTION_DAYS.contains(d)) {
            return Err(LogsError::InvalidParameter(format!(
                "1 validation error detected: Value '{d}' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: {RETENTION_DAYS:?}"
            )));
        }
        let group = self
            .groups
            .get_mut(name)
            .ok_or_else(|| LogsError::GroupNotFound { group: name.into() })?;
        let mut meta = group.meta();
        meta.retention_in_days = days;
        disk::write_group_meta(&group.dir, &meta).map_err(io_err(&group.dir))?;
        group.retention_in_days = days;
        let cutoff = group.cutoff(now);
        for stream in group.streams.values_mut() {
            if stream.prune(cutoff) > 0 {
                stream.compact()?;
            }
        }
        Ok(())
    }

    /// Creates a stream in an existing group.
    pub fn create_stream(&mut self, group: &str, name: &str, now: i64) -> Result<(), LogsError> {
        let g = self
            .groups
            .get_mut(group)
            .ok_or_else(|| LogsError::GroupNotFound {
                group: group.into(),
            })?;
        if g.streams.contains_key(name) {
            return Err(LogsError::StreamExists {
                group: group.into(),
                stream: name.into(),
            });
        }
        let path = disk::stream_path(&g.dir, name);
        let stream = Stream {
            name: name.into(),
            creation_time: now,
            events: BTreeMap::new(),
            last_ingestion_time: None,
            stored_bytes: 0,
            last_id: 0,
            path,
            file: None,
            dead_lines: 0,
        };
        disk::create_stream_file(&stream.path, &stream.header()).map_err(io_err(&stream.path))?;
        g.streams.insert(name.into(), stream);
        Ok(())
    }

    /// Deletes a stream.
    pub fn delete_stream(&mut self, group: &str, name: &str) -> Result<(), LogsError> {
        let path = self.stream(group, name)?.path.clone();
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&path)(e)),
        }
        if let Some(g) = self.groups.get_mut(group) {
            g.streams.remove(name);
        }
        Ok(())
    }

    /// Appends events (any timestamp order) to an existing stream; events
    /// already past the group's retention are dropped. Returns the stream's
    /// sequence token (its highest event id).
    pub fn append(
        &mut self,
        group: &str,
        stream: &str,
        events: Vec<LogEvent>,
        now: i64,
    ) -> Result<u64, LogsError> {
        let State {
            groups,
            next_id,
            open_files,
            ..
        } = self;
        let g = groups
            .get_mut(group)
            .ok_or_else(|| LogsError::GroupNotFound {
                group: group.into(),
            })?;
        let cutoff = g.cutoff(now);
        let s = g
            .streams
            .get_mut(stream)
            .ok_or_else(|| LogsError::StreamNotFound {
                group: group.into(),
                stream: stream.into(),
            })?;
        let mut lines = Vec::new();
        let mut accepted = Vec::with_capacity(events.len());
        for e in events {
            if e.timestamp < cutoff {
                continue;
            }
            let line = EventLine {
                id: *next_id,
                t: e.timestamp,
                i: now,
                m: e.message,
            };
            *next_id += 1;
            disk::push_line(&mut lines, &line).map_err(io_err(&s.path))?;
            accepted.push(line);
        }
        if accepted.is_empty() {
            return Ok(s.last_id);
        }
        if s.file.is_none() {
            s.file = Some(disk::open_for_append(&s.path).map_err(io_err(&s.path))?);
            open_files.push_back((group.to_owned(), stream.to_owned()));
        }
        // One write of whole lines: a crash leaves at most one torn line.
        if let Some(f) = s.file.as_mut()
            && let Err(e) = f.write_all(&lines)
        {
            s.file = None;
            return Err(io_err(&s.path)(e));
        }
        for line in accepted {
            s.last_id = s.last_id.max(line.id);
            s.stored_bytes += line.m.len() as u64;
            s.events.insert(
                (line.t, line.id),
                Stored {
                    ingestion_time: line.i,
                    message: line.m,
                },
            );
        }
        s.last_ingestion_time = Some(now);
        s.prune(cutoff);
        if s.dead_lines > MIN_DEAD_LINES_TO_COMPACT.max(s.events.len()) {
            s.compact()?;
        }
        let token = s.last_id;
        self.close_extra_files();
        Ok(token)
    }

    fn close_extra_files(&mut self) {
        while self.open_files.len() > MAX_OPEN_FILES {
            let Some((g, s)) = self.open_files.pop_front() else {
                break;
            };
            if let Some(stream) = self.groups.get_mut(&g).and_then(|g| g.streams.get_mut(&s)) {
                stream.file = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::model::DAY_MS;

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
    fn groups_streams_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        let mut st = State::open(dir.path(), NOW).unwrap();
        st.create_group("/aws/lambda/f", NOW).unwrap();
        assert!(matches!(
            st.create_group("/aws/lambda/f", NOW),
            Err(LogsError::GroupExists { .. })
        ));
        assert!(matches!(
            st.create_stream("nope", "s", NOW),
            Err(LogsError::GroupNotFound { .. })
        ));
        st.create_stream("/aws/lambda/f", "2026/01/01/[$LATEST]abc", NOW)
            .unwrap();
        assert!(matches!(
            st.create_stream("/aws/lambda/f", "2026/01/01/[$LATEST]abc", NOW),
            Err(LogsError::StreamExists { .. })
        ));
        assert!(matches!(
            st.append("/aws/lambda/f", "other", vec![ev(NOW, "x")], NOW),
            Err(LogsError::StreamNotFound { .. })
        ));
        st.delete_stream("/aws/lambda/f", "2026/01/01/[$LATEST]abc")
            .unwrap();
        assert!(st.group("/aws/lambda/f").unwrap().streams.is_empty());
        st.delete_group("/aws/lambda/f").unwrap();
        assert!(matches!(
            st.delete_group("/aws/lambda/f"),
            Err(LogsError::GroupNotFound { .. })
        ));
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn appends_sort_by_time_and_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let mut st = State::open(dir.path(), NOW).unwrap();
        st.create_group("g", NOW).unwrap();
        st.create_stream("g", "s", NOW).unwrap();
        let t1 = st
            .append("g", "s", vec![ev(NOW + 2, "b"), ev(NOW + 1, "a")], NOW)
            .unwrap();
        let t2 = st
            .append("g", "s", vec![ev(NOW + 3, "c")], NOW + 5)
            .unwrap();
        assert!(t2 > t1);
        let s = st.stream("g", "s").unwrap();
        assert_eq!(messages(s), ["a", "b", "c"]);
        assert_eq!(
            (s.first_event_timestamp(), s.last_event_timestamp()),
            (Some(NOW + 1), Some(NOW + 3))
        );
        assert_eq!((s.stored_bytes, s.last_ingestion_time), (3, Some(NOW + 5)));
        drop(st);

        let mut st = State::open(dir.path(), NOW).unwrap();
        let s = st.stream("g", "s").unwrap();
        assert_eq!(messages(s), ["a", "b", "c"]);
        assert_eq!(s.creation_time, NOW);
        assert_eq!(s.last_id, t2);
        // Ids keep growing after a restart.
        assert!(st.append("g", "s", vec![ev(NOW, "d")], NOW).unwrap() > t2);
    }

    #[test]
    fn many_streams_do_not_keep_many_files_open() {
        let dir = tempfile::tempdir().unwrap();
        let mut st = State::open(dir.path(), NOW).unwrap();
        st.create_group("g", NOW).unwrap();
        for i in 0..(MAX_OPEN_FILES * 2) {
            let name = format!("s{i}");
            st.create_stream("g", &name, NOW).unwrap();
            st.append("g", &name, vec![ev(NOW, "x")], NOW).unwrap();
        }
        let open = st.groups["g"]
            .streams
            .values()
            .filter(|s| s.file.is_some())
            .count();
        assert!(open <= MAX_OPEN_FILES, "{open}");
        st.append("g", "s0", vec![ev(NOW, "y")], NOW).unwrap();
        assert_eq!(messages(st.stream("g", "s0").unwrap()), ["x", "y"]);
    }

    #[test]
    fn retention_prunes_on_set_append_and_open() {
        let dir = tempfile::tempdir().unwrap();
        let mut st = State::open(dir.path(), NOW).unwrap();
        st.create_group("g", NOW).unwrap();
        st.create_stream("g", "s", NOW).unwrap();
        let day = DAY_MS;
        st.append(
            "g",
            "s",
            vec![
                ev(NOW - 10 * day, "old"),
                ev(NOW - 2 * day, "mid"),
                ev(NOW, "new"),
            ],
            NOW,
        )
        .unwrap();
        assert!(matches!(
            st.set_retention("g", Some(2), NOW),
            Err(LogsError::InvalidParameter(_))
        ));
        st.set_retention("g", Some(5), NOW).unwrap();
        assert_eq!(messages(st.stream("g", "s").unwrap()), ["mid", "new"]);
        assert_eq!(st.stream("g", "s").unwrap().stored_bytes, 6);
        // An append of an expired event drops it.
        st.append("g", "s", vec![ev(NOW - 6 * day, "expired")], NOW)
            .unwrap();
        assert_eq!(messages(st.stream("g", "s").unwrap()), ["mid", "new"]);
        drop(st);

        // Three days later, "mid" (then 5 days old) is still kept; a day
        // after that it is gone on open, and the file was compacted.
        let st = State::open(dir.path(), NOW + 3 * day).unwrap();
        assert_eq!(messages(st.stream("g", "s").unwrap()), ["mid", "new"]);
        drop(st);
        let st = State::open(dir.path(), NOW + 4 * day).unwrap();
        assert_eq!(messages(st.stream("g", "s").unwrap()), ["new"]);
        let path = &st.stream("g", "s").unwrap().path;
        assert_eq!(fs::read_to_string(path).unwrap().lines().count(), 2);
        assert_eq!(st.group("g").unwrap().retention_in_days, Some(5));
    }
}
