//! The metric data points: in memory per metric, bounded, and durable in an
//! append-only JSON-lines file in the data folder.
//!
//! Retention follows CloudWatch's one-minute resolution (15 days), and a cap
//! on the total number of points drops the oldest first, so a long session
//! never grows without bound (STYLE.md 9). Each append is one `write` of
//! whole lines, so a crash can only tear the last line: replay ignores it
//! and cuts it off before appending again. When the file holds much more
//! than the live points (pruned or dropped ones), it is rewritten, temp
//! file then rename, on open or when the live set is next pruned.

use std::collections::{HashMap, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::super::LocalError;
use super::stats::{self, Bucket, Point, Unit};

/// The points file inside the metrics folder.
const FILE: &str = "points.jsonl";
/// Lines the file may hold beyond twice the live points before a rewrite.
const COMPACT_SLACK: usize = 10_000;
/// How often points past retention are looked for.
const AGE_PRUNE_EVERY_MS: i64 = 60_000;

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

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

/// A line of the points file. A single value is written as `v`, anything
/// else (Values with Counts, statistic sets) as `c`, `s`, `lo`, `hi`.
#[derive(Debug, Serialize, Deserialize)]
struct Record {
    ns: String,
    m: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    d: Vec<(String, String)>,
    t: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    v: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    c: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    s: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lo: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hi: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    u: Option<String>,
}

/// The same line, written without copying the metric's strings.
#[derive(Serialize)]
struct RecordRef<'a> {
    ns: &'a str,
    m: &'a str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    d: &'a [(String, String)],
    t: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    v: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    c: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lo: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hi: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    u: Option<&'static str>,
}

fn write_record(buf: &mut Vec<u8>, id: &MetricId, p: &Point) -> serde_json::Result<()> {
    let single = p.count == 1.0 && p.min == p.max;
    let r = RecordRef {
        ns: &id.namespace,
        m: &id.name,
        d: &id.dimensions,
        t: p.timestamp,
        v: single.then_some(p.min),
        c: (!single).then_some(p.count),
        s: (!single).then_some(p.sum),
        lo: (!single).then_some(p.min),
        hi: (!single).then_some(p.max),
        u: (p.unit != Unit::NONE).then(|| p.unit.as_str()),
    };
    serde_json::to_writer(&mut *buf, &r)?;
    buf.push(b'\n');
    Ok(())
}

fn read_record(line: &[u8]) -> Option<(MetricId, Point)> {
    let r: Record = serde_json::from_slice(line).ok()?;
    let unit =
        r.u.as_deref()
            .map(Unit::parse_lenient)
            .unwrap_or(Unit::NONE);
    let p = match (r.v, r.c, r.s, r.lo, r.hi) {
        (Some(v), ..) => Point::value(r.t, v, unit),
        (None, Some(count), Some(sum), Some(min), Some(max)) => Point {
            timestamp: r.t,
            count,
            sum,
            min,
            max,
            unit,
        },
        _ => return None,
    };
    Some((MetricId::new(r.ns, r.m, r.d), p))
}

/// The append-only points file.
#[derive(Debug)]
struct Log {
    path: PathBuf,
    file: Option<File>,
    /// Complete lines in the file (live or not).
    lines: usize,
    /// The last write failed, so the file may end in a partial line.
    torn: bool,
}

impl Log {
    fn append(&mut self, buf: &[u8], lines: usize) {
        let Some(file) = self.file.as_mut() else {
            return;
        };
        // After a failed write, end the partial line so it spoils only itself.
        let fix = if self.torn { &b"\n"[..] } else { &b""[..] };
        let result = file.write_all(&[fix, buf].concat());
        match result {
            Ok(()) => {
                self.torn = false;
                self.lines += lines;
            }
            Err(e) => {
                if !self.torn {
                    tracing::warn!(path = %self.path.display(), error = %e, "cannot append metric points; they are kept in memory only");
                }
                self.torn = true;
            }
        }
    }
}

#[derive(Debug)]
struct Inner {
    series: HashMap<MetricId, VecDeque<Point>>,
    total: usize,
    log: Log,
    last_age_prune: i64,
}

impl Inner {
    fn insert(&mut self, id: MetricId, p: Point) {
        let s = self.series.entry(id).or_default();
        // Points nearly always arrive in time order; the rest are slotted in.
        if s.back().is_none_or(|b| b.timestamp <= p.timestamp) {
            s.push_back(p);
        } else {
            let i = s.partition_point(|q| q.timestamp <= p.timestamp);
            s.insert(i, p);
        }
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

    /// Rewrites the file with the live points only: temp file, fsync, rename.
    fn compact(&mut self) -> Result<(), LocalError> {
        let path = self.log.path.clone();
        let tmp = path.with_extension("jsonl.tmp");
        let io = |e| LocalError::io(&tmp, e);
        let mut w = BufWriter::new(File::create(&tmp).map_err(io)?);
        let mut buf = Vec::with_capacity(256);
        let mut ids: Vec<&MetricId> = self.series.keys().collect();
        ids.sort();
        for id in ids {
            for p in self.series.get(id).into_iter().flatten() {
                buf.clear();
                if write_record(&mut buf, id, p).is_ok() {
                    w.write_all(&buf).map_err(io)?;
                }
            }
        }
        let f = w.into_inner().map_err(|e| io(e.into_error()))?;
        f.sync_all().map_err(io)?;
        drop(f);
        std::fs::rename(&tmp, &path).map_err(|e| LocalError::io(&path, e))?;
        if let Some(dir) = path.parent()
            && let Ok(d) = File::open(dir)
        {
            let _ = d.sync_all();
        }
        self.log.file = Some(open_append(&path)?);
        self.log.lines = self.total;
        self.log.torn = false;
        Ok(())
    }

    fn compact_if_bloated(&mut self) {
        if self.log.lines > 2 * self.total + COMPACT_SLACK
            && let Err(e) = self.compact()
        {
            tracing::warn!(error = %e, "cannot compact the metric points file");
        }
    }
}

fn open_append(path: &Path) -> Result<File, LocalError> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| LocalError::io(path, e))
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
        let path = dir.join(FILE);
        let mut inner = Inner {
            series: HashMap::new(),
            total: 0,
            log: Log {
                path: path.clone(),
                file: None,
                lines: 0,
                torn: false,
            },
            last_age_prune: now,
        };
        let (lines, bad) = replay(&path, &mut inner)?;
        inner.log.lines = lines;
        let cutoff = now - retention.max_age.as_millis() as i64;
        inner.prune_age(cutoff);
        inner.prune_count(retention.max_points);
        if bad > 0 || lines > 2 * inner.total + COMPACT_SLACK {
            inner.compact()?;
        } else {
            inner.log.file = Some(open_append(&path)?);
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
            if write_record(&mut buf, &id, &p).is_ok() {
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

/// Loads the points file into `inner`: (complete lines, unreadable lines).
/// A last line without its newline is a torn write: it is ignored and cut
/// off so the next append starts a fresh line.
fn replay(path: &Path, inner: &mut Inner) -> Result<(usize, usize), LocalError> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((0, 0)),
        Err(e) => return Err(LocalError::io(path, e)),
    };
    let mut reader = BufReader::new(file);
    let mut line = Vec::with_capacity(256);
    let (mut complete, mut bad, mut valid_len) = (0usize, 0usize, 0u64);
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| LocalError::io(path, e))?;
        if n == 0 {
            break;
        }
        if line.last() != Some(&b'\n') {
            tracing::warn!(path = %path.display(), bytes = n, "ignoring a torn last line of the metric points file");
            let f = OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| LocalError::io(path, e))?;
            f.set_len(valid_len).map_err(|e| LocalError::io(path, e))?;
            break;
        }
        valid_len += n as u64;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        complete += 1;
        match read_record(&line) {
            Some((id, p)) => inner.insert(id, p),
            None => bad += 1,
        }
    }
    if bad > 0 {
        tracing::warn!(path = %path.display(), lines = bad, "skipped unreadable lines of the metric points file");
    }
    Ok((complete, bad))
}

#[cfg(test)]
mod tests {
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
#[cfg(test)]
mod tmp_bench {
    use super::*;
    #[test]
    fn tmp_append_rate() {
        let dir = tempfile::tempdir().unwrap();
        let now = now_ms();
        let s = Store::open(dir.path(), Retention::default(), now).unwrap();
        let t = std::time::Instant::now();
        for i in 0..50_000i64 {
            let id = MetricId::new("SCAR", "ScriptMs", vec![("FunctionName".into(), format!("f{}", i % 10))]);
            s.record(vec![(id, Point::value(now + i, 1.0, Unit::NONE))], now);
        }
        let el = t.elapsed();
        let t2 = std::time::Instant::now();
        drop(s);
        let s = Store::open(dir.path(), Retention::default(), now).unwrap();
        eprintln!("50k appends {:?} ({:.0}/s); replay {:?} len {}", el, 50_000.0 / el.as_secs_f64(), t2.elapsed(), s.len());
    }
}
