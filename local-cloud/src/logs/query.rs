//! The read side of the log store: pages of one stream in either direction
//! (GetLogEvents), the merge of many streams in event order with a filter
//! (FilterLogEvents), and the tail of a stream (Lambda's `LogType: Tail`).
//!
//! Positions are [`Key`]s, (timestamp, event id), which order every event
//! of the store; pagination tokens are keys, so a page never repeats or
//! skips an event even while appends go on.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use super::filter::FilterPattern;
use super::model::{Key, Stored, Stream};

/// Before every event.
pub(super) const MIN_KEY: Key = (i64::MIN, 0);
/// After every event.
pub(super) const MAX_KEY: Key = (i64::MAX, u64::MAX);

/// AWS counts each event's message plus 26 bytes against a 1 MB response
/// (<https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_GetLogEvents.html>).
pub(super) const MAX_RESPONSE_BYTES: usize = 1_048_576;
const EVENT_OVERHEAD: usize = 26;

/// The next key in the order.
pub(super) fn succ(k: Key) -> Key {
    match k.1.checked_add(1) {
        Some(id) => (k.0, id),
        None => (k.0.saturating_add(1), 0),
    }
}

/// The previous key in the order.
pub(super) fn pred(k: Key) -> Key {
    match k.1.checked_sub(1) {
        Some(id) => (k.0, id),
        None => (k.0.saturating_sub(1), u64::MAX),
    }
}

/// Events with `lo <= key <= hi`, in order (empty if `lo > hi`).
pub(super) fn between(
    events: &BTreeMap<Key, Stored>,
    lo: Key,
    hi: Key,
) -> impl DoubleEndedIterator<Item = (&Key, &Stored)> {
    (lo <= hi)
        .then(|| events.range(lo..=hi))
        .into_iter()
        .flatten()
}

/// Where a GetLogEvents page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cursor {
    /// Events after this key, oldest first.
    After(Key),
    /// Events before this key, newest first (returned oldest first).
    Before(Key),
}

/// One GetLogEvents page.
#[derive(Debug)]
pub(super) struct Page<'a> {
    /// The events, oldest first.
    pub events: Vec<(Key, &'a Stored)>,
    /// The cursor of `nextForwardToken`.
    pub forward: Cursor,
    /// The cursor of `nextBackwardToken`.
    pub backward: Cursor,
}

/// Reads one page of `stream` within `[lo, hi]` from `cursor`. At either
/// end the token for that direction is the cursor that was passed in, as
/// AWS does (its SDK paginators stop on a repeated token).
pub(super) fn page(stream: &Stream, lo: Key, hi: Key, cursor: Cursor, limit: usize) -> Page<'_> {
    let mut bytes = 0;
    let mut fits = |e: &Stored, taken: usize| {
        bytes += e.message.len() + EVENT_OVERHEAD;
        taken == 0 || (taken < limit && bytes <= MAX_RESPONSE_BYTES)
    };
    let mut events = Vec::new();
    match cursor {
        Cursor::After(c) => {
            for (k, e) in between(&stream.events, lo.max(succ(c)), hi) {
                if !fits(e, events.len()) {
                    break;
                }
                events.push((*k, e));
            }
        }
        Cursor::Before(c) => {
            for (k, e) in between(&stream.events, lo, hi.min(pred(c))).rev() {
                if !fits(e, events.len()) {
                    break;
                }
                events.push((*k, e));
            }
            events.reverse();
        }
    }
    let (forward, backward) = match (events.first(), events.last()) {
        (Some(first), Some(last)) => (Cursor::After(last.0), Cursor::Before(first.0)),
        _ => match cursor {
            Cursor::After(c) => (cursor, Cursor::Before(succ(c))),
            Cursor::Before(c) => (Cursor::After(pred(c)), cursor),
        },
    };
    Page {
        events,
        forward,
        backward,
    }
}

/// One FilterLogEvents result.
#[derive(Debug)]
pub(super) struct Hit<'a> {
    /// The stream it is in.
    pub stream: &'a str,
    /// Its position.
    pub key: Key,
    /// The event.
    pub event: &'a Stored,
}

/// Merges `streams` in event order from after `cursor` within `[lo, hi]`,
/// keeping events that match `pattern`, up to `limit` (and 1 MB). The flag
/// says whether more matching events follow the last hit.
pub(super) fn filter<'a>(
    streams: &[&'a Stream],
    lo: Key,
    hi: Key,
    cursor: Key,
    pattern: &FilterPattern,
    limit: usize,
) -> (Vec<Hit<'a>>, bool) {
    let lo = lo.max(succ(cursor));
    let mut iters: Vec<_> = streams
        .iter()
        .map(|&s| between(&s.events, lo, hi))
        .collect();
    let mut heap = BinaryHeap::new();
    let mut heads: Vec<Option<(Key, &'a Stored)>> = Vec::with_capacity(iters.len());
    for (i, it) in iters.iter_mut().enumerate() {
        let head = it.next().map(|(k, e)| (*k, e));
        if let Some((k, _)) = head {
            heap.push(Reverse((k, i)));
        }
        heads.push(head);
    }
    let mut hits = Vec::new();
    let mut bytes = 0;
    while let Some(Reverse((key, i))) = heap.pop() {
        let Some((_, event)) = heads[i].take() else {
            continue;
        };
        if let Some((k, e)) = iters[i].next() {
            heads[i] = Some((*k, e));
            heap.push(Reverse((*k, i)));
        }
        if !pattern.matches(&event.message) {
            continue;
        }
        bytes += event.message.len() + EVENT_OVERHEAD;
        if hits.len() >= limit || (!hits.is_empty() && bytes > MAX_RESPONSE_BYTES) {
            return (hits, true);
        }
        hits.push(Hit {
            stream: &streams[i].name,
            key,
            event,
        });
    }
    (hits, false)
}

/// The end of `stream` since `since` (ms), one line per event (each ending
/// in a newline), cut to its last `max_bytes` bytes on a character boundary.
pub(super) fn tail(stream: &Stream, lo: Key, max_bytes: usize) -> String {
    let mut lines = Vec::new();
    let mut len = 0;
    for (_, e) in between(&stream.events, lo, MAX_KEY).rev() {
        if len >= max_bytes {
            break;
        }
        len += e.message.len() + usize::from(!e.message.ends_with('\n'));
        lines.push(e.message.as_str());
    }
    let mut out = String::with_capacity(len);
    for line in lines.iter().rev() {
        out.push_str(line);
        if !line.ends_with('\n') {
            out.push('\n');
        }
    }
    if out.len() > max_bytes {
        let mut cut = out.len() - max_bytes;
        while !out.is_char_boundary(cut) {
            cut += 1;
        }
        out.drain(..cut);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::LogEvent;
    use crate::logs::store::State;

    const NOW: i64 = 1_800_000_000_000;

    fn state(streams: &[(&str, &[(i64, &str)])]) -> (tempfile::TempDir, State) {
        let dir = tempfile::tempdir().unwrap();
        let mut st = State::open(dir.path(), NOW).unwrap();
        st.create_group("g", NOW).unwrap();
        for (name, events) in streams {
            st.create_stream("g", name, NOW).unwrap();
            let evs = events
                .iter()
                .map(|(t, m)| LogEvent {
                    timestamp: *t,
                    message: (*m).into(),
                })
                .collect();
            st.append("g", name, evs, NOW).unwrap();
        }
        (dir, st)
    }

    fn msgs(p: &Page<'_>) -> Vec<String> {
        p.events.iter().map(|(_, e)| e.message.clone()).collect()
    }

    #[test]
    fn pages_forward_and_backward_with_stable_end_tokens() {
        let evs: Vec<(i64, String)> = (0..5).map(|i| (NOW + i, format!("e{i}"))).collect();
        let evs: Vec<(i64, &str)> = evs.iter().map(|(t, m)| (*t, m.as_str())).collect();
        let (_d, st) = state(&[("s", &evs)]);
        let s = st.stream("g", "s").unwrap();

        let p = page(s, MIN_KEY, MAX_KEY, Cursor::After(MIN_KEY), 2);
        assert_eq!(msgs(&p), ["e0", "e1"]);
        let p = page(s, MIN_KEY, MAX_KEY, p.forward, 2);
        assert_eq!(msgs(&p), ["e2", "e3"]);
        let p = page(s, MIN_KEY, MAX_KEY, p.forward, 2);
        assert_eq!(msgs(&p), ["e4"]);
        let end = p.forward;
        let p = page(s, MIN_KEY, MAX_KEY, end, 2);
        assert!(p.events.is_empty());
        assert_eq!(p.forward, end);
        // Backward from the end gives the newest first pages, oldest first inside.
        let back = page(s, MIN_KEY, MAX_KEY, p.backward, 2);
        assert_eq!(msgs(&back), ["e3", "e4"]);
        let tail = page(s, MIN_KEY, MAX_KEY, Cursor::Before(MAX_KEY), 3);
        assert_eq!(msgs(&tail), ["e2", "e3", "e4"]);
        let head = page(s, MIN_KEY, MAX_KEY, tail.backward, 3);
        assert_eq!(msgs(&head), ["e0", "e1"]);
        let start = page(s, MIN_KEY, MAX_KEY, head.backward, 3);
        assert!(start.events.is_empty());
        assert_eq!(start.backward, head.backward);
        // A time range: [NOW+1, NOW+3).
        let r = page(
            s,
            (NOW + 1, 0),
            pred((NOW + 3, 0)),
            Cursor::After(MIN_KEY),
            10,
        );
        assert_eq!(msgs(&r), ["e1", "e2"]);
    }

    #[test]
    fn filter_interleaves_streams_and_resumes_after_cursor() {
        let (_d, st) = state(&[
            (
                "a",
                &[
                    (NOW + 1, "a1 ERROR"),
                    (NOW + 3, "a3 INFO"),
                    (NOW + 5, "a5 ERROR"),
                ],
            ),
            (
                "b",
                &[
                    (NOW + 2, "b2 ERROR"),
                    (NOW + 4, "b4 ERROR"),
                    (NOW + 6, "b6 INFO"),
                ],
            ),
        ]);
        let g = st.group("g").unwrap();
        let streams: Vec<&Stream> = g.streams.values().collect();
        let all = FilterPattern::parse(None).unwrap();
        let (hits, more) = filter(&streams, MIN_KEY, MAX_KEY, MIN_KEY, &all, 100);
        let order: Vec<&str> = hits.iter().map(|h| h.event.message.as_str()).collect();
        assert_eq!(
            order,
            [
                "a1 ERROR", "b2 ERROR", "a3 INFO", "b4 ERROR", "a5 ERROR", "b6 INFO"
            ]
        );
        assert!(!more);

        let err = FilterPattern::parse(Some("ERROR")).unwrap();
        let (hits, more) = filter(&streams, MIN_KEY, MAX_KEY, MIN_KEY, &err, 2);
        assert_eq!(
            hits.iter().map(|h| h.stream).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert!(more);
        let (hits, more) = filter(&streams, MIN_KEY, MAX_KEY, hits[1].key, &err, 2);
        let order: Vec<&str> = hits.iter().map(|h| h.event.message.as_str()).collect();
        assert_eq!(order, ["b4 ERROR", "a5 ERROR"]);
        assert!(!more, "no ERROR after a5");

        let (hits, _) = filter(
            &streams,
            (NOW + 2, 0),
            (NOW + 4, u64::MAX),
            MIN_KEY,
            &all,
            100,
        );
        assert_eq!(hits.len(), 3);
    }

    #[test]
    fn tail_keeps_the_last_bytes_of_lines() {
        let (_d, st) = state(&[(
            "s",
            &[(NOW, "START"), (NOW + 1, "héllo\n"), (NOW + 2, "END")],
        )]);
        let s = st.stream("g", "s").unwrap();
        assert_eq!(tail(s, (NOW, 0), 4096), "START\nhéllo\nEND\n");
        assert_eq!(tail(s, (NOW + 1, 0), 4096), "héllo\nEND\n");
        assert_eq!(tail(s, (NOW, 0), 7), "llo\nEND\n".get(1..).unwrap());
        // The cut never splits a character.
        assert_eq!(tail(s, (NOW, 0), 9), "llo\nEND\n");
    }
}
