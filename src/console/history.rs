//! The console's invocation table: log lines joined by request id into
//! [`Invocation`] rows (the same parsing as `metrics`), bounded so that a
//! batch of 100,000 invocations keeps memory flat: past the capacity the
//! oldest rows go, and their request ids with them.
//!
//! It also keeps, per input key, the newest request that processed it, so
//! that the objects pane can show each input's state without a scan.

use std::collections::{HashMap, VecDeque};

use crate::app::report::{Invocation, parse_line};

/// At most `cap` invocations, oldest first, addressable by request id.
#[derive(Debug, Clone)]
pub struct History {
    rows: VecDeque<Invocation>,
    /// Sequence number of `rows[0]`; a row's sequence number never changes.
    first_seq: u64,
    by_id: HashMap<String, u64>,
    by_key: HashMap<String, u64>,
    cap: usize,
    evicted: u64,
    version: u64,
}

impl History {
    /// An empty table of at most `cap` rows.
    pub fn new(cap: usize) -> History {
        History {
            rows: VecDeque::new(),
            first_seq: 0,
            by_id: HashMap::new(),
            by_key: HashMap::new(),
            cap: cap.max(1),
            evicted: 0,
            version: 0,
        }
    }

    fn slot(&self, seq: u64) -> Option<usize> {
        seq.checked_sub(self.first_seq)
            .map(|i| i as usize)
            .filter(|i| *i < self.rows.len())
    }

    /// Takes in one log line; true if it changed a row.
    pub fn push(&mut self, timestamp_ms: i64, stream: &str, message: &str) -> bool {
        let line = parse_line(message);
        let Some(id) = line.request_id() else {
            return false;
        };
        let seq = match self.by_id.get(id) {
            Some(seq) => *seq,
            None => {
                if self.rows.len() == self.cap {
                    self.evict_oldest();
                }
                let seq = self.first_seq + self.rows.len() as u64;
                self.rows.push_back(Invocation {
                    request_id: id.to_owned(),
                    ..Default::default()
                });
                self.by_id.insert(id.to_owned(), seq);
                seq
            }
        };
        let Some(i) = self.slot(seq) else {
            return false;
        };
        let row = &mut self.rows[i];
        row.absorb(timestamp_ms, stream, &line);
        if let Some(k) = &row.input_key
            && self.by_key.get(k) != Some(&seq)
        {
            // The newest request for a key wins: a retried key shows its
            // latest outcome.
            let newer = self.by_key.get(k).is_none_or(|old| *old < seq);
            if newer {
                self.by_key.insert(k.clone(), seq);
            }
        }
        self.version += 1;
        true
    }

    fn evict_oldest(&mut self) {
        if let Some(old) = self.rows.pop_front() {
            let seq = self.first_seq;
            self.first_seq += 1;
            self.evicted += 1;
            self.by_id.remove(&old.request_id);
            if let Some(k) = &old.input_key
                && self.by_key.get(k) == Some(&seq)
            {
                self.by_key.remove(k);
            }
        }
    }

    /// Rows held.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Rows dropped to stay within the capacity.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// The capacity.
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Bumped on every change (for caches of derived figures).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Invocation> + ExactSizeIterator {
        self.rows.iter()
    }

    /// The `i`-th newest row (0 is the newest).
    pub fn newest(&self, i: usize) -> Option<&Invocation> {
        self.rows
            .len()
            .checked_sub(i + 1)
            .and_then(|j| self.rows.get(j))
    }

    /// One request.
    pub fn get(&self, request_id: &str) -> Option<&Invocation> {
        self.by_id
            .get(request_id)
            .and_then(|seq| self.slot(*seq))
            .map(|i| &self.rows[i])
    }

    /// The newest request that processed `key`.
    pub fn for_key(&self, key: &str) -> Option<&Invocation> {
        self.by_key
            .get(key)
            .and_then(|seq| self.slot(*seq))
            .map(|i| &self.rows[i])
    }

    /// Forgets everything (another function was selected).
    pub fn clear(&mut self) {
        self.rows.clear();
        self.by_id.clear();
        self.by_key.clear();
        self.first_seq = 0;
        self.evicted = 0;
        self.version += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(id: &str, key: &str, status: &str) -> String {
        format!(
            r#"{{"_aws":{{"CloudWatchMetrics":[]}},"RequestId":"{id}","InputKey":"{key}","Status":"{status}","CacheHit":1,"ExitCode":0}}"#
        )
    }

    #[test]
    fn joins_by_request_id_and_evicts_the_oldest() {
        let mut h = History::new(2);
        assert!(h.push(1, "s", "START RequestId: a Version: $LATEST"));
        assert!(!h.push(2, "s", "plain output"));
        h.push(3, "s", &metrics("a", "in/1.txt", "succeeded"));
        h.push(4, "s", "START RequestId: b Version: $LATEST");
        assert_eq!(h.for_key("in/1.txt").unwrap().request_id, "a");
        assert_eq!(h.get("a").unwrap().state(), "done");
        h.push(5, "s", "START RequestId: c Version: $LATEST");
        assert_eq!(h.len(), 2);
        assert_eq!(h.evicted(), 1);
        assert!(h.get("a").is_none());
        assert!(h.for_key("in/1.txt").is_none());
        assert_eq!(h.newest(0).unwrap().request_id, "c");
        assert_eq!(h.newest(1).unwrap().request_id, "b");
        // A late line of an evicted request starts a new row, never panics.
        h.push(6, "s", "END RequestId: a");
        assert_eq!(h.newest(0).unwrap().request_id, "a");
    }

    #[test]
    fn a_retried_key_shows_its_newest_outcome() {
        let mut h = History::new(10);
        h.push(1, "s", &metrics("r1", "k", "failed"));
        h.push(2, "s", &metrics("r2", "k", "succeeded"));
        assert_eq!(h.for_key("k").unwrap().request_id, "r2");
        assert_eq!(h.for_key("k").unwrap().state(), "done");
    }
}
