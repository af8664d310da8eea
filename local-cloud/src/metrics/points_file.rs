//! The metric points on disk: an append-only JSON-lines file, one point
//! per line, replayed on open.
//!
//! Each append is one `write` of whole lines, so a crash can only tear the
//! last line; replay ignores it and cuts it off so the next append starts a
//! fresh line. A rewrite (compaction) goes to a temp file that is fsynced
//! and renamed over the old one, so a crash mid-rewrite leaves either file
//! whole (STYLE.md 15).

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::stats::{Point, Unit};
use super::store::MetricId;
use crate::LocalError;

/// The points file inside the metrics folder.
pub const FILE: &str = "points.jsonl";

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

/// Appends the line of one point to `buf`.
pub fn encode(buf: &mut Vec<u8>, id: &MetricId, p: &Point) -> serde_json::Result<()> {
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

/// The point on one line, if it is readable.
fn decode(line: &[u8]) -> Option<(MetricId, Point)> {
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
pub struct PointsFile {
    path: PathBuf,
    file: Option<File>,
    /// Complete lines in the file (live or not).
    lines: usize,
    /// The last write failed, so the file may end in a partial line.
    torn: bool,
}

impl PointsFile {
    /// Reads `path` (missing is empty), handing each readable point to
    /// `each`; returns the file (not yet open for appending) and the number
    /// of unreadable lines. A last line without its newline is a torn
    /// write: it is ignored and cut off.
    pub fn replay(
        path: &Path,
        mut each: impl FnMut(MetricId, Point),
    ) -> Result<(PointsFile, usize), LocalError> {
        let mut out = PointsFile {
            path: path.to_owned(),
            file: None,
            lines: 0,
            torn: false,
        };
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((out, 0)),
            Err(e) => return Err(LocalError::io(path, e)),
        };
        let io = |e| LocalError::io(path, e);
        let mut reader = BufReader::new(file);
        let mut line = Vec::with_capacity(256);
        let (mut bad, mut valid_len) = (0usize, 0u64);
        loop {
            line.clear();
            let n = reader.read_until(b'\n', &mut line).map_err(io)?;
            if n == 0 {
                break;
            }
            if line.last() != Some(&b'\n') {
                tracing::warn!(path = %path.display(), bytes = n, "ignoring a torn last line of the metric points file");
                let f = OpenOptions::new().write(true).open(path).map_err(io)?;
                f.set_len(valid_len).map_err(io)?;
                break;
            }
            valid_len += n as u64;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            out.lines += 1;
            match decode(&line) {
                Some((id, p)) => each(id, p),
                None => bad += 1,
            }
        }
        if bad > 0 {
            tracing::warn!(path = %path.display(), lines = bad, "skipped unreadable lines of the metric points file");
        }
        Ok((out, bad))
    }

    /// Complete lines in the file, live or not.
    pub fn lines(&self) -> usize {
        self.lines
    }

    /// Opens the file for appending (creating it).
    pub fn open_append(&mut self) -> Result<(), LocalError> {
        let f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| LocalError::io(&self.path, e))?;
        self.file = Some(f);
        Ok(())
    }

    /// Appends `buf` (`lines` whole lines) in one write. A failure is
    /// logged once and the points stay in memory only.
    pub fn append(&mut self, buf: &[u8], lines: usize) {
        let Some(file) = self.file.as_mut() else {
            return;
        };
        // After a failed write, end the partial line so it spoils only itself.
        let result = if self.torn {
            file.write_all(&[b"\n", buf].concat())
        } else {
            file.write_all(buf)
        };
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

    /// Replaces the file with `points` (`live` of them): temp file, fsync,
    /// rename, then reopens it for appending.
    pub fn rewrite<'a>(
        &mut self,
        points: impl IntoIterator<Item = (&'a MetricId, &'a Point)>,
        live: usize,
    ) -> Result<(), LocalError> {
        let tmp = self.path.with_extension("jsonl.tmp");
        let io = |e| LocalError::io(&tmp, e);
        let mut w = BufWriter::new(File::create(&tmp).map_err(io)?);
        let mut buf = Vec::with_capacity(256);
        for (id, p) in points {
            buf.clear();
            if encode(&mut buf, id, p).is_ok() {
                w.write_all(&buf).map_err(io)?;
            }
        }
        let f = w.into_inner().map_err(|e| io(e.into_error()))?;
        f.sync_all().map_err(io)?;
        drop(f);
        std::fs::rename(&tmp, &self.path).map_err(|e| LocalError::io(&self.path, e))?;
        if let Some(dir) = self.path.parent()
            && let Ok(d) = File::open(dir)
        {
            let _ = d.sync_all();
        }
        self.open_append()?;
        self.lines = live;
        self.torn = false;
        Ok(())
    }
}
