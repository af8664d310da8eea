//! The metric data points: in memory per metric, in time order, bounded,
//! and durable through the points file (`points_file`).
//!
//! Retention follows CloudWatch's one-minute resolution (15 days), and a cap
//! on the total number of points drops the oldest first, so a long session
//! never grows without bound (STYLE.md 9). One mutex guards everything: an
//! append is a hash lookup, a push and one `write`, tens of thousands per
//! second. When the file holds much more than the live points (pruned or
//! dropped ones), it is rewritten, on open or when the live set is next
//! pruned.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use super::points_file::{self, FILE, PointsFile};
use super::stats::{self, Bucket, Point, Unit};
use crate::LocalError;
/// Lines the file may hold beyond twice the live points before a rewrite.
const COMPACT_SLACK: usize = 10_000;
/// How often points past retention are looked for.
const AGE_PRUNE_EVERY_MS: i64 = 60_000;

/// One metric: namespace, name and dimension set (sorted by name, since
/// CloudWatch does not distinguish dimension order).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MetricId {
    /// Namespace (`AWS/Lambda`, `SCAR`).
    pub namespace: String,
    /// Metric name.
    pub name: String,
    /// Dimensions, name and value, sorted by name.
    pub dimensions: Vec<(String, String)>,
}

impl MetricId {
    /// The metric with these dimensions (in any order).
    pub fn new(
        namespace: impl Into<String>,
        name: impl Into<String>,
        mut dimensions: Vec<(String, String)>,
    ) -> MetricId {
        dimensions.sort();
        MetricId {
            namespace: namespace.into(),
            name: name.into(),
            dimensions,
        }
    }
}

/// How much the store keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Points older than this are dropped (CloudWatch keeps one-minute data 15 days).
    pub max_age: Duration,
    /// At most this many points in all; the oldest go first.
    pub max_points: usize,
}

impl Default for Retention {
    fn default() -> Retention {
        Retention {
            max_age: Duration::from_secs(15 * 24 * 3600),
            // About 40,000 invocations' worth (5 Lambda + 8 SCAR points each), ~25 MB.
            max_points: 500_000,
        }
    }
}

/// Adds `p` to a series kept in time order. Points nearly always arrive
/// in order; the rest are slotted in.
fn insert(s: &mut VecDeque<Point>, p: Point) {
    if s.back().is_none_or(|b| b.timestamp <= p.timestamp) {
        s.push_back(p);
    } else {
        let i = s.partition_point(|q| q.timestamp <= p.timestamp);
        s.insert(i, p);
    }
}

#[derive(Debug)]
struct Inner {
    series: HashMap<MetricId, VecDeque<Point>>,
    total: usize,
    log: PointsFile,
    last_age_prune: i64,
}

impl Inner {
    fn insert(&mut self, id: MetricId, p: Point) {
        insert(self.series.entry(id).or_default(), p);
        self.total += 1;
    }

    fn recount(&mut self) {
        self.series.retain(|_, s| !s.is_empty());
        self.total = self.series.values().map(VecDeque::len).sum();
    }

    /// Drops points older than `cutoff`.
    fn prune_age(&mut self, cutoff: i64) -> bool {
        let before = self.total;
        for s in self.series.values_mut() {
            while s.front().is_some_and(|p| p.timestamp < cutoff) {
                s.pop_front();
            }
        }
        self.recount();
        self.total != before
    }

    /// Drops the oldest points until at most `target` remain (ties on the
    /// cutoff timestamp may take a few more).
    fn prune_count(&mut self, target: usize) -> bool {
        if self.total <= target {
            return false;
        }
        let drop = self.total - target;
        let mut times: Vec<i64> = self
            .series
            .values()
            .flat_map(|s| s.iter().map(|p| p.timestamp))
            .collect();
        let (_, cutoff, _) = times.select_nth_unstable(drop - 1);
        let cutoff = *cutoff;
        for s in self.series.values_mut() {
            while s.front().is_some_and(|p| p.timestamp <= cutoff) {
                s.pop_front();
            }
        }
        self.recount();
        true
    }

    /// Rewrites the file with the live points only.
    fn compact(&mut self) -> Result<(), LocalError> {
        let mut ids: Vec<&MetricId> = self.series.keys().collect();
        ids.sort();
        let points = ids.into_iter().flat_map(|id| {
            self.series
                .get(id)
                .into_iter()
                .flatten()
                .map(move |p| (id, p))
        });
        self.log.rewrite(points, self.total)
    }

    fn compact_if_bloated(&mut self) {
        if self.log.lines() > 2 * self.total + COMPACT_SLACK
            && let Err(e) = self.compact()
        {
            tracing::warn!(error = %e, "cannot compact the metric points file");
        }
    }
}

/// The thread-safe point store behind [`super::MetricStore`].
#[derive(Debug)]
pub struct Store {
    inner: Mutex<Inner>,
    retention: Retention,
}

impl Store {
    /// Replays `dir`'s points file (ignoring a torn last line) and opens
    /// it for appending.
    pub fn open(dir: &Path, retention: Retention, now: i64) -> Result<Store, LocalError> {
        std::fs::create_dir_all(dir).map_err(|e| LocalError::io(dir, e))?;
        let mut series: HashMap<MetricId, VecDeque<Point>> = HashMap::new();
        let mut loaded = 0;
        let (log, bad) = PointsFile::replay(&dir.join(FILE), |id, p| {
            insert(series.entry(id).or_default(), p);
            loaded += 1;
        })?;
        let mut inner = Inner {
            series,
            total: loaded,
            log,
            last_age_prune: now,
        };
        let cutoff = now - retention.max_age.as_millis() as i64;
        inner.prune_age(cutoff);
        inner.prune_count(retention.max_points);
        if bad > 0 || inner.log.lines() > 2 * inner.total + COMPACT_SLACK {
            inner.compact()?;
        } else {
            inner.log.open_append()?;
        }
        Ok(Store {
            inner: Mutex::new(inner),
            retention,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic elsewhere while holding the lock leaves consistent data
        // (every mutation completes before the guard drops), so go on.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds points, appending them to the file in one write. Points past
    /// retention or with non-finite figures are ignored.
    pub fn record(&self, batch: Vec<(MetricId, Point)>, now: i64) {
        let cutoff = now - self.retention.max_age.as_millis() as i64;
        let mut buf = Vec::with_capacity(160 * batch.len());
        let mut lines = 0;
        let mut inner = self.lock();
        for (id, p) in batch {
            let finite = [p.count, p.sum, p.min, p.max].iter().all(|f| f.is_finite());
            if p.timestamp < cutoff || !finite {
                continue;
            }
            if points_file::encode(&mut buf, &id, &p).is_ok() {
                lines += 1;
            }
            inner.insert(id, p);
        }
        if lines > 0 {
            inner.log.append(&buf, lines);
        }
        let mut pruned = false;
        if now - inner.last_age_prune >= AGE_PRUNE_EVERY_MS {
            inner.last_age_prune = now;
            pruned |= inner.prune_age(cutoff);
        }
        if inner.total > self.retention.max_points {
            // Down to 90% so the (linear) eviction runs once per many appends.
            pruned |= inner.prune_count(self.retention.max_points / 10 * 9);
        }
        if pruned {
            inner.compact_if_bloated();
        }
    }

    /// The periods of `id` between `start` and `end` (ms), see [`stats::aggregate`].
    pub fn aggregate(
        &self,
        id: &MetricId,
        start: i64,
        end: i64,
        period_s: i64,
        unit: Option<Unit>,
    ) -> Vec<Bucket> {
        let inner = self.lock();
        let Some(s) = inner.series.get(id) else {
            return Vec::new();
        };
        let from = stats::align(start, period_s.max(1).saturating_mul(1000));
        let lo = s.partition_point(|p| p.timestamp < from);
        let hi = s.partition_point(|p| p.timestamp < end);
        if lo >= hi {
            return Vec::new();
        }
        stats::aggregate(s.range(lo..hi), start, end, period_s, unit)
    }

    /// Every metric with its latest timestamp, sorted by namespace, name
    /// and dimensions.
    pub fn metrics(&self) -> Vec<(MetricId, i64)> {
        let inner = self.lock();
        let mut out: Vec<(MetricId, i64)> = inner
            .series
            .iter()
            .map(|(id, s)| (id.clone(), s.back().map_or(0, |p| p.timestamp)))
            .collect();
        out.sort();
        out
    }

    /// The number of points held.
    pub fn len(&self) -> usize {
        self.lock().total
    }
}

#[cfg(test)]
mod tests {
    use std::fs::OpenOptions;
    use std::io::Write;

    use super::*;

    fn id(f: &str) -> MetricId {
        MetricId::new("SCAR", "ScriptMs", vec![("FunctionName".into(), f.into())])
    }

    fn sums(store: &Store, id: &MetricId, now: i64) -> Vec<(i64, f64)> {
        store
            .aggregate(id, now - 3_600_000, now + 1, 60, None)
            .iter()
            .map(|b| (b.start, b.sum))
            .collect()
    }

    #[test]
    fn replay_ignores_a_torn_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let now = 1_795_687_200_000;
        {
            let s = Store::open(dir.path(), Retention::default(), now).unwrap();
            s.record(
                vec![(id("a"), Point::value(now - 120_000, 1.0, Unit::NONE))],
                now,
            );
            s.record(
                vec![
                    (id("a"), Point::value(now - 60_000, 2.0, Unit::NONE)),
                    (
                        id("b"),
                        Point::repeated(now - 60_000, 3.0, 4.0, Unit::parse_lenient("Count")),
                    ),
                ],
                now,
            );
        }
        let path = dir.path().join(FILE);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(br#"{"ns":"SCAR","m":"ScriptMs","d":[["FunctionName","a"]],"t":17956"#)
            .unwrap();
        drop(f);
        let s = Store::open(dir.path(), Retention::default(), now).unwrap();
        assert_eq!(s.len(), 3);
        assert_eq!(
            sums(&s, &id("a"), now),
            vec![(now - 120_000, 1.0), (now - 60_000, 2.0)]
        );
        let b = s.aggregate(&id("b"), now - 60_000, now, 60, None);
        assert_eq!(
            (b[0].count, b[0].sum, b[0].unit.as_str()),
            (4.0, 12.0, "Count")
        );
        // The torn bytes are gone, so the next append starts a clean line.
        s.record(vec![(id("a"), Point::value(now, 5.0, Unit::NONE))], now);
        drop(s);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.ends_with("\n") && text.lines().count() == 4, "{text}");
        let s = Store::open(dir.path(), Retention::default(), now).unwrap();
        assert_eq!(s.len(), 4);
    }

    #[test]
    fn bounded_by_count_and_age() {
        let dir = tempfile::tempdir().unwrap();
        let now = 1_795_687_200_000;
        let retention = Retention {
            max_age: Duration::from_secs(3600),
            max_points: 100,
        };
        let s = Store::open(dir.path(), retention, now).unwrap();
        // Too old to keep at all.
        s.record(
            vec![(id("a"), Point::value(now - 7_200_000, 1.0, Unit::NONE))],
            now,
        );
        assert_eq!(s.len(), 0);
        for i in 0..150 {
            s.record(
                vec![(id("a"), Point::value(now + i, i as f64, Unit::NONE))],
                now,
            );
        }
        assert!(s.len() <= 100, "{}", s.len());
        // The newest survive.
        let b = s.aggregate(&id("a"), now, now + 1_000, 60, None);
        assert_eq!(b[0].max, 149.0);
        assert!(b[0].min > 0.0);
        // Time passes: everything ages out, and the metric disappears.
        let later = now + 7_200_000;
        s.record(vec![(id("b"), Point::value(later, 1.0, Unit::NONE))], later);
        assert_eq!(s.len(), 1);
        assert_eq!(s.metrics().len(), 1);
    }

    #[test]
    fn compacts_on_open_when_bloated() {
        let dir = tempfile::tempdir().unwrap();
        let now = 1_795_687_200_000;
        let path = dir.path().join(FILE);
        {
            let s = Store::open(dir.path(), Retention::default(), now).unwrap();
            let batch = (0..COMPACT_SLACK as i64 + 50)
                .map(|i| (id("a"), Point::value(now - 7_200_000 + i, 1.0, Unit::NONE)))
                .collect();
            s.record(batch, now);
            s.record(vec![(id("a"), Point::value(now, 1.0, Unit::NONE))], now);
        }
        let short = Retention {
            max_age: Duration::from_secs(3600),
            ..Retention::default()
        };
        let s = Store::open(dir.path(), short, now).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 1);
        // Still appendable after the rename.
        s.record(vec![(id("a"), Point::value(now + 1, 1.0, Unit::NONE))], now);
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 2);
    }

    #[test]
    fn out_of_order_points_are_sorted() {
        let dir = tempfile::tempdir().unwrap();
        let now = 1_795_687_200_000;
        let s = Store::open(dir.path(), Retention::default(), now).unwrap();
        for t in [3, 1, 2] {
            s.record(
                vec![(
                    id("a"),
                    Point::value(now - t * 60_000, t as f64, Unit::NONE),
                )],
                now,
            );
        }
        let got: Vec<f64> = sums(&s, &id("a"), now)
            .into_iter()
            .map(|(_, v)| v)
            .collect();
        assert_eq!(got, vec![3.0, 2.0, 1.0]);
    }
}
