//! Figures the metrics pane draws, derived from the invocation table:
//! totals, the recent durations, a duration histogram and concurrency per
//! second. Recomputed by `update` when the table changes or a second
//! passes, never by a view, so that a frame costs the same with 10 or
//! 10,000 invocations.

use crate::app::report::{Totals, totals};

use super::history::History;

/// Upper bounds (ms) of the histogram's buckets; the last is open.
pub const BUCKETS_MS: [f64; 9] = [
    10.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0,
];

/// Seconds of concurrency history shown.
pub const CONCURRENCY_WINDOW_S: usize = 120;

/// Durations kept for the sparkline.
pub const SPARK_POINTS: usize = 240;

/// The derived figures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// The table version these come from.
    pub version: u64,
    /// The second (since the epoch) the concurrency series ends at.
    pub second: i64,
    /// Count, errors, p50/p95, cache-hit ratio.
    pub totals: Totals,
    /// Durations of the newest finished invocations (ms), oldest first.
    pub durations: Vec<u64>,
    /// Invocations per duration bucket (see [`BUCKETS_MS`]).
    pub histogram: Vec<u64>,
    /// Invocations running in each of the last seconds, oldest first.
    pub concurrency: Vec<u64>,
    /// Cold starts (an Init Duration) among the finished.
    pub cold: u64,
}

/// The label of bucket `i`.
pub fn bucket_label(i: usize) -> String {
    fn ms(v: f64) -> String {
        if v >= 1000.0 {
            format!("{}s", v / 1000.0)
        } else {
            format!("{v}ms")
        }
    }
    match BUCKETS_MS.get(i) {
        Some(b) => format!("<{}", ms(*b)),
        None => format!("≥{}", ms(BUCKETS_MS[BUCKETS_MS.len() - 1])),
    }
}

/// Computes the figures at `now_ms`.
pub fn compute(history: &History, now_ms: i64) -> Summary {
    let t = totals(history.iter());
    let mut durations: Vec<u64> = history
        .iter()
        .rev()
        .filter_map(|i| i.duration_ms)
        .take(SPARK_POINTS)
        .map(|d| d.round() as u64)
        .collect();
    durations.reverse();
    let mut histogram = vec![0u64; BUCKETS_MS.len() + 1];
    let mut cold = 0;
    let second = now_ms.div_euclid(1000);
    let first = second - CONCURRENCY_WINDOW_S as i64 + 1;
    // A difference array over the window: +1 where a run starts, -1 after
    // it ends, so the series costs one pass over the table.
    let mut delta = vec![0i64; CONCURRENCY_WINDOW_S + 1];
    for inv in history.iter() {
        if let Some(d) = inv.duration_ms {
            let b = BUCKETS_MS
                .iter()
                .position(|b| d < *b)
                .unwrap_or(BUCKETS_MS.len());
            histogram[b] += 1;
            if inv.init_ms.is_some() {
                cold += 1;
            }
        }
        let Some(start) = inv.started_ms else {
            continue;
        };
        let end_ms = match inv.duration_ms {
            Some(d) => start + d.ceil() as i64,
            None if inv.state() == "running" => now_ms,
            None => continue,
        };
        let (s, e) = (start.div_euclid(1000), end_ms.div_euclid(1000));
        if e < first || s > second {
            continue;
        }
        let s = (s.max(first) - first) as usize;
        let e = (e.min(second) - first) as usize;
        delta[s] += 1;
        delta[e + 1] -= 1;
    }
    let mut running = 0i64;
    let concurrency = delta[..CONCURRENCY_WINDOW_S]
        .iter()
        .map(|d| {
            running += d;
            running.max(0) as u64
        })
        .collect();
    Summary {
        version: history.version(),
        second,
        totals: t,
        durations,
        histogram,
        concurrency,
        cold,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(h: &mut History, id: &str, start: i64, ms: f64, init: bool) {
        h.push(
            start,
            "s",
            &format!("START RequestId: {id} Version: $LATEST"),
        );
        let init = if init { "\tInit Duration: 5.00 ms" } else { "" };
        h.push(
            start + ms as i64,
            "s",
            &format!("REPORT RequestId: {id}\tDuration: {ms:.2} ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 9 MB{init}"),
        );
    }

    #[test]
    fn histogram_concurrency_and_cold_starts() {
        let mut h = History::new(100);
        let now = 1_000_000_000;
        report(&mut h, "a", now - 5000, 2500.0, true);
        report(&mut h, "b", now - 4000, 40.0, false);
        h.push(now - 1000, "s", "START RequestId: c Version: $LATEST");
        let s = compute(&h, now);
        assert_eq!(s.totals.count, 2);
        assert_eq!(s.cold, 1);
        assert_eq!(s.durations, vec![2500, 40]);
        assert_eq!(s.histogram[1], 1, "40 ms is in <50ms");
        assert_eq!(s.histogram[7], 1, "2500 ms is in <5s");
        let c = &s.concurrency;
        assert_eq!(c.len(), CONCURRENCY_WINDOW_S);
        // Seconds -5..-3 hold `a`, -4 also `b`; -1 and 0 hold the running `c`.
        assert_eq!(c[CONCURRENCY_WINDOW_S - 1 - 5], 1);
        assert_eq!(c[CONCURRENCY_WINDOW_S - 1 - 4], 2);
        assert_eq!(c[CONCURRENCY_WINDOW_S - 1 - 2], 0);
        assert_eq!(c[CONCURRENCY_WINDOW_S - 1], 1);
        assert_eq!(bucket_label(0), "<10ms");
        assert_eq!(bucket_label(9), "≥10s");
    }
}
