//! What a metric is made of and how it is summed up: units, stored points,
//! CloudWatch's statistics (SampleCount, Average, Sum, Minimum, Maximum and
//! percentiles `pNN.NN`) and their aggregation per period.
//!
//! Periods are aligned to multiples of the period since the epoch, as
//! CloudWatch does for its standard periods, so a 60 s period always starts
//! on a whole minute and the same query asked twice gives the same buckets.
//! Percentiles follow CloudWatch's rules: they need raw values, so a
//! statistic set counts only when its Minimum equals its Maximum, and no
//! percentile is given for periods holding a negative value
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricStatistics.html>).

/// CloudWatch's standard units, in the API's spelling.
const UNITS: [&str; 27] = [
    "None",
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
];

/// A CloudWatch unit (one byte per stored point instead of a string).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Unit(u8);

impl Unit {
    /// `None`, the unit of data sent without one.
    pub const NONE: Unit = Unit(0);

    /// The unit named `name` (exact API spelling), if it is a standard one.
    pub fn parse(name: &str) -> Option<Unit> {
        UNITS.iter().position(|u| *u == name).map(|i| Unit(i as u8))
    }

    /// The unit named `name`, or `None` for anything unknown (EMF, internal callers).
    pub fn parse_lenient(name: &str) -> Unit {
        Unit::parse(name).unwrap_or(Unit::NONE)
    }

    /// The API's spelling.
    pub fn as_str(self) -> &'static str {
        UNITS.get(usize::from(self.0)).copied().unwrap_or("None")
    }
}

/// One stored observation: a value (count 1), a value seen `count` times
/// (PutMetricData's Values and Counts) or a statistic set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Milliseconds since the epoch.
    pub timestamp: i64,
    /// How many samples it stands for.
    pub count: f64,
    /// Their sum.
    pub sum: f64,
    /// The smallest sample.
    pub min: f64,
    /// The largest sample.
    pub max: f64,
    /// The unit it was sent with.
    pub unit: Unit,
}

impl Point {
    /// A single sample.
    pub fn value(timestamp: i64, value: f64, unit: Unit) -> Point {
        Point::repeated(timestamp, value, 1.0, unit)
    }

    /// `value` seen `count` times.
    pub fn repeated(timestamp: i64, value: f64, count: f64, unit: Unit) -> Point {
        Point {
            timestamp,
            count,
            sum: value * count,
            min: value,
            max: value,
            unit,
        }
    }

    /// True when the point carries exact values (usable for percentiles).
    fn is_exact(&self) -> bool {
        self.min == self.max
    }
}

/// A statistic CloudWatch computes over a period.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stat {
    /// Number of samples.
    SampleCount,
    /// Sum / SampleCount.
    Average,
    /// Sum of the samples.
    Sum,
    /// Smallest sample.
    Minimum,
    /// Largest sample.
    Maximum,
    /// The given percentile, 0 to 100 (`p95`, `p99.9`).
    Percentile(f64),
}

impl Stat {
    /// Parses `SampleCount`, `Average`, `Sum`, `Minimum`, `Maximum` or
    /// `pNN[.NN]` (0 to 100, at most two decimals, as CloudWatch accepts).
    pub fn parse(s: &str) -> Option<Stat> {
        match s {
            "SampleCount" => Some(Stat::SampleCount),
            "Average" => Some(Stat::Average),
            "Sum" => Some(Stat::Sum),
            "Minimum" => Some(Stat::Minimum),
            "Maximum" => Some(Stat::Maximum),
            _ => Stat::parse_percentile(s),
        }
    }

    /// Parses only `pNN[.NN]`, the ExtendedStatistics form.
    pub fn parse_percentile(s: &str) -> Option<Stat> {
        let digits = s.strip_prefix('p')?;
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let plain = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
        if int.is_empty() || int.len() > 3 || !plain(int) || !plain(frac) || frac.len() > 2 {
            return None;
        }
        if digits.ends_with('.') {
            return None;
        }
        let p: f64 = digits.parse().ok()?;
        (0.0..=100.0).contains(&p).then_some(Stat::Percentile(p))
    }
}

/// The points of one metric that fall in one period.
#[derive(Debug, Clone, PartialEq)]
pub struct Bucket {
    /// Start of the period, milliseconds since the epoch.
    pub start: i64,
    /// Number of samples.
    pub count: f64,
    /// Sum of the samples.
    pub sum: f64,
    /// Smallest sample.
    pub min: f64,
    /// Largest sample.
    pub max: f64,
    /// The unit of the points, `None` when they disagree.
    pub unit: Unit,
    /// Exact values and their weights, for percentiles; `None` once a
    /// point makes percentiles unavailable.
    exact: Option<Vec<(f64, f64)>>,
}

impl Bucket {
    fn new(start: i64, p: &Point) -> Bucket {
        let mut b = Bucket {
            start,
            count: 0.0,
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            unit: p.unit,
            exact: Some(Vec::new()),
        };
        b.add(p);
        b
    }

    fn add(&mut self, p: &Point) {
        self.count += p.count;
        self.sum += p.sum;
        self.min = self.min.min(p.min);
        self.max = self.max.max(p.max);
        if self.unit != p.unit {
            self.unit = Unit::NONE;
        }
        match &mut self.exact {
            Some(v) if p.is_exact() && p.min >= 0.0 => v.push((p.min, p.count)),
            _ => self.exact = None,
        }
    }

    /// The statistic's value, or `None` (a percentile over data that
    /// cannot give one, or an empty period).
    pub fn value(&self, stat: Stat) -> Option<f64> {
        if self.count <= 0.0 {
            return match stat {
                Stat::SampleCount | Stat::Sum => Some(0.0),
                _ => None,
            };
        }
        match stat {
            Stat::SampleCount => Some(self.count),
            Stat::Sum => Some(self.sum),
            Stat::Average => Some(self.sum / self.count),
            Stat::Minimum => Some(self.min),
            Stat::Maximum => Some(self.max),
            Stat::Percentile(p) => percentile(self.exact.as_deref()?, p),
        }
    }
}

/// Nearest-rank percentile over weighted values: the smallest value whose
/// cumulative weight reaches `p`% of the total, so the answer is always a
/// value that was actually sent (p0 is the minimum, p100 the maximum).
fn percentile(values: &[(f64, f64)], p: f64) -> Option<f64> {
    let mut sorted: Vec<(f64, f64)> = values.iter().copied().filter(|(_, w)| *w > 0.0).collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: f64 = sorted.iter().map(|(_, w)| w).sum();
    let target = total * p / 100.0;
    let mut cumulative = 0.0;
    for (v, w) in &sorted {
        cumulative += w;
        // A relative epsilon keeps p100 from missing the last value to rounding.
        if cumulative >= target - total * 1e-12 {
            return Some(*v);
        }
    }
    sorted.last().map(|(v, _)| *v)
}

/// `timestamp` rounded down to a multiple of `period_ms`.
pub fn align(timestamp: i64, period_ms: i64) -> i64 {
    timestamp.div_euclid(period_ms) * period_ms
}

/// Groups `points` (sorted by timestamp) into periods of `period_s`
/// seconds aligned to the epoch, keeping those in `[start, end)` after
/// `start` is rounded down to its period, and only points of `unit` when
/// one is given. Periods without points are left out, as CloudWatch does.
pub fn aggregate<'a>(
    points: impl IntoIterator<Item = &'a Point>,
    start: i64,
    end: i64,
    period_s: i64,
    unit: Option<Unit>,
) -> Vec<Bucket> {
    let period_ms = period_s.max(1).saturating_mul(1000);
    let from = align(start, period_ms);
    let mut out: Vec<Bucket> = Vec::new();
    for p in points {
        if p.timestamp < from || p.timestamp >= end || unit.is_some_and(|u| u != p.unit) {
            continue;
        }
        let at = align(p.timestamp, period_ms);
        match out.last_mut() {
            Some(b) if b.start == at => b.add(p),
            _ => out.push(Bucket::new(at, p)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(values: &[(i64, f64)]) -> Vec<Point> {
        values
            .iter()
            .map(|&(t, v)| Point::value(t, v, Unit::NONE))
            .collect()
    }

    #[test]
    fn units_round_trip() {
        for u in UNITS {
            assert_eq!(Unit::parse(u).map(Unit::as_str), Some(u));
        }
        assert_eq!(Unit::parse("Furlongs"), None);
        assert_eq!(Unit::parse_lenient("Furlongs"), Unit::NONE);
    }

    #[test]
    fn stats_parse() {
        assert_eq!(Stat::parse("Sum"), Some(Stat::Sum));
        assert_eq!(Stat::parse("p95"), Some(Stat::Percentile(95.0)));
        assert_eq!(Stat::parse("p99.9"), Some(Stat::Percentile(99.9)));
        assert_eq!(Stat::parse("p100"), Some(Stat::Percentile(100.0)));
        for bad in ["p", "p101", "p9.999", "p-1", "P50", "p50.", "sum", "tm99"] {
            assert_eq!(Stat::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn periods_align_to_the_epoch() {
        // 10:00:30, 10:00:59, 10:01:00, 10:02:10 with a 60 s period from 10:00:45.
        let base = 1_795_000_800_000; // a whole minute
        let p = pts(&[
            (base + 30_000, 1.0),
            (base + 59_999, 2.0),
            (base + 60_000, 4.0),
            (base + 130_000, 8.0),
        ]);
        let b = aggregate(&p, base + 45_000, base + 180_000, 60, None);
        let starts: Vec<i64> = b.iter().map(|b| b.start - base).collect();
        // The start rounds down to 10:00:00, so the 10:00:30 point counts.
        assert_eq!(starts, vec![0, 60_000, 120_000]);
        assert_eq!(b[0].value(Stat::Sum), Some(3.0));
        assert_eq!(b[0].value(Stat::SampleCount), Some(2.0));
        assert_eq!(b[0].value(Stat::Average), Some(1.5));
        assert_eq!(b[1].value(Stat::Maximum), Some(4.0));
        assert_eq!(b[2].value(Stat::Minimum), Some(8.0));
        // End is exclusive.
        let b = aggregate(&p, base, base + 60_000, 60, None);
        assert_eq!(b.len(), 1);
        // Before the epoch too.
        assert_eq!(align(-1, 60_000), -60_000);
    }

    #[test]
    fn five_statistics_over_sets_and_counts() {
        let t = 600_000;
        let p = vec![
            Point::value(t, 10.0, Unit::NONE),
            Point::repeated(t + 1, 2.0, 3.0, Unit::NONE),
            Point {
                timestamp: t + 2,
                count: 4.0,
                sum: 20.0,
                min: 1.0,
                max: 9.0,
                unit: Unit::NONE,
            },
        ];
        let b = &aggregate(&p, t, t + 60_000, 60, None)[0];
        assert_eq!(b.value(Stat::SampleCount), Some(8.0));
        assert_eq!(b.value(Stat::Sum), Some(36.0));
        assert_eq!(b.value(Stat::Average), Some(4.5));
        assert_eq!(b.value(Stat::Minimum), Some(1.0));
        assert_eq!(b.value(Stat::Maximum), Some(10.0));
        // A statistic set with Min != Max makes percentiles unavailable.
        assert_eq!(b.value(Stat::Percentile(50.0)), None);
    }

    #[test]
    fn percentiles_nearest_rank() {
        let p: Vec<Point> = (1..=100)
            .map(|i| Point::value(i, f64::from(i as u8), Unit::NONE))
            .collect();
        let b = &aggregate(&p, 0, 1_000, 60, None)[0];
        assert_eq!(b.value(Stat::Percentile(50.0)), Some(50.0));
        assert_eq!(b.value(Stat::Percentile(95.0)), Some(95.0));
        assert_eq!(b.value(Stat::Percentile(99.5)), Some(100.0));
        assert_eq!(b.value(Stat::Percentile(0.0)), Some(1.0));
        assert_eq!(b.value(Stat::Percentile(100.0)), Some(100.0));
        // Weighted: 1 seen 9 times, 100 once.
        let p = vec![
            Point::repeated(0, 1.0, 9.0, Unit::NONE),
            Point::value(1, 100.0, Unit::NONE),
        ];
        let b = &aggregate(&p, 0, 1_000, 60, None)[0];
        assert_eq!(b.value(Stat::Percentile(90.0)), Some(1.0));
        assert_eq!(b.value(Stat::Percentile(91.0)), Some(100.0));
        // Negative values: no percentiles.
        let b = &aggregate(&pts(&[(0, -1.0), (1, 2.0)]), 0, 1_000, 60, None)[0];
        assert_eq!(b.value(Stat::Percentile(50.0)), None);
    }

    #[test]
    fn unit_filter_and_mixed_units() {
        let ms = Unit::parse("Milliseconds").unwrap_or_default();
        let count = Unit::parse("Count").unwrap_or_default();
        let p = vec![Point::value(0, 1.0, ms), Point::value(1, 5.0, count)];
        let all = aggregate(&p, 0, 1_000, 60, None);
        assert_eq!(all[0].unit, Unit::NONE);
        let only = aggregate(&p, 0, 1_000, 60, Some(count));
        assert_eq!(only[0].value(Stat::Sum), Some(5.0));
        assert_eq!(only[0].unit, count);
    }
}
