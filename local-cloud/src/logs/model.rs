//! The in-memory records of the log store: groups, streams and their
//! events. Events of a stream live in a `BTreeMap` keyed by (timestamp,
//! event id), so an append is O(log n) in any time order, a time range is a
//! range scan, and retention pops from the front.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::PathBuf;

use super::disk::{self, EventLine, GroupMeta, StreamHeader};
use super::error::{LogsError, io_err};

/// A position in the event order: (timestamp in ms, event id).
pub(super) type Key = (i64, u64);

/// One day in milliseconds.
pub(super) const DAY_MS: i64 = 86_400_000;

/// One stored event (its key holds the timestamp and id).
#[derive(Debug, Clone)]
pub(super) struct Stored {
    /// When it was ingested (ms).
    pub ingestion_time: i64,
    /// The message.
    pub message: String,
}

/// One log stream.
#[derive(Debug)]
pub(super) struct Stream {
    /// Its name.
    pub name: String,
    /// Milliseconds since the epoch.
    pub creation_time: i64,
    /// The events, in (timestamp, id) order.
    pub events: BTreeMap<Key, Stored>,
    /// When the last event was ingested.
    pub last_ingestion_time: Option<i64>,
    /// Bytes of the live events' messages.
    pub stored_bytes: u64,
    /// The highest event id ever appended (the sequence token).
    pub last_id: u64,
    /// Its file.
    pub path: PathBuf,
    /// The file, while open for appending.
    pub file: Option<File>,
    /// Lines in the file that are no longer live (pruned or unreadable).
    pub dead_lines: usize,
}

impl Stream {
    /// The oldest live event's timestamp.
    pub fn first_event_timestamp(&self) -> Option<i64> {
        self.events.first_key_value().map(|(k, _)| k.0)
    }

    /// The newest live event's timestamp.
    pub fn last_event_timestamp(&self) -> Option<i64> {
        self.events.last_key_value().map(|(k, _)| k.0)
    }

    /// The first line of its file.
    pub fn header(&self) -> StreamHeader {
        StreamHeader {
            stream: self.name.clone(),
            created: self.creation_time,
        }
    }

    /// Drops events older than `cutoff`; returns how many.
    pub fn prune(&mut self, cutoff: i64) -> usize {
        let mut n = 0;
        while let Some(entry) = self.events.first_entry() {
            if entry.key().0 >= cutoff {
                break;
            }
            self.stored_bytes -= entry.remove().message.len() as u64;
            n += 1;
        }
        self.dead_lines += n;
        n
    }

    /// Rewrites the file with only the live events.
    pub fn compact(&mut self) -> Result<(), LogsError> {
        self.file = None;
        let lines = self.events.iter().map(|(&(t, id), e)| EventLine {
            id,
            t,
            i: e.ingestion_time,
            m: e.message.clone(),
        });
        disk::rewrite_stream_file(&self.path, &self.header(), lines).map_err(io_err(&self.path))?;
        self.dead_lines = 0;
        Ok(())
    }
}

/// One log group.
#[derive(Debug)]
pub(super) struct Group {
    /// Its name.
    pub name: String,
    /// Milliseconds since the epoch.
    pub creation_time: i64,
    /// Days events are kept; `None` keeps them forever.
    pub retention_in_days: Option<u32>,
    /// Its streams, by name.
    pub streams: BTreeMap<String, Stream>,
    /// Its folder.
    pub dir: PathBuf,
}

impl Group {
    /// Bytes stored in all its streams.
    pub fn stored_bytes(&self) -> u64 {
        self.streams.values().map(|s| s.stored_bytes).sum()
    }

    /// Events older than this (ms) are expired; `i64::MIN` without retention.
    pub fn cutoff(&self, now: i64) -> i64 {
        self.retention_in_days
            .map_or(i64::MIN, |d| now - i64::from(d) * DAY_MS)
    }

    /// Its metadata file's content.
    pub fn meta(&self) -> GroupMeta {
        GroupMeta {
            name: self.name.clone(),
            creation_time: self.creation_time,
            retention_in_days: self.retention_in_days,
        }
    }
}
