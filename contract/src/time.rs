//! Time as an input: the [`Clock`] that everything comparing with "now"
//! takes (retention windows, keep-warm reaping, retry backoff, event ages,
//! SigV4's clock skew), and the date formats AWS writes.
//!
//! The program passes [`Clock::system`]; tests pass a clock set where they
//! need it ([`Clock::starting_at`], [`Clock::frozen`]) and move it forward
//! with [`Clock::advance`] instead of sleeping, so no verdict depends on the
//! day the suite runs. Civil-date arithmetic follows H. Hinnant's algorithms
//! (<https://howardhinnant.github.io/date_algorithms.html>): two conversions
//! do not justify a date crate in the supervisor's static binary.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The source of "now", cheap to clone and shared by whatever must agree on it.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    mode: Mode,
}

#[derive(Clone, Debug, Default)]
enum Mode {
    /// The system's wall clock.
    #[default]
    System,
    /// The wall clock shifted by a settable offset (ms): time runs, from
    /// where a test put it.
    Shifted(Arc<AtomicI64>),
    /// A clock that stands still until advanced (ms since the epoch).
    Frozen(Arc<AtomicI64>),
}

fn system_ms() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_millis() as i64,
        Err(e) => -(e.duration().as_millis() as i64),
    }
}

impl Clock {
    /// The system's wall clock: what the program runs on.
    pub fn system() -> Clock {
        Clock { mode: Mode::System }
    }

    /// A running clock that reads `ms` (since the epoch) now and moves on
    /// with real time from there.
    pub fn starting_at(ms: i64) -> Clock {
        Clock {
            mode: Mode::Shifted(Arc::new(AtomicI64::new(ms - system_ms()))),
        }
    }

    /// A clock that reads `ms` (since the epoch) until it is advanced or set.
    pub fn frozen(ms: i64) -> Clock {
        Clock {
            mode: Mode::Frozen(Arc::new(AtomicI64::new(ms))),
        }
    }

    /// Moves a test clock forward (every clone sees it); the system clock
    /// cannot be moved and ignores this.
    pub fn advance(&self, by: Duration) {
        let by = by.as_millis() as i64;
        match &self.mode {
            Mode::System => {}
            Mode::Shifted(offset) => {
                offset.fetch_add(by, Ordering::SeqCst);
            }
            Mode::Frozen(at) => {
                at.fetch_add(by, Ordering::SeqCst);
            }
        }
    }

    /// Whether this is the system clock (not a test's).
    pub fn is_system(&self) -> bool {
        matches!(self.mode, Mode::System)
    }

    /// Now, in milliseconds since the epoch (negative before 1970).
    pub fn now_ms(&self) -> i64 {
        match &self.mode {
            Mode::System => system_ms(),
            Mode::Shifted(offset) => system_ms() + offset.load(Ordering::SeqCst),
            Mode::Frozen(at) => at.load(Ordering::SeqCst),
        }
    }

    /// Now, in whole seconds since the epoch.
    pub fn now_secs(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    /// Now, as a `SystemTime`.
    pub fn now(&self) -> SystemTime {
        let ms = self.now_ms();
        if ms >= 0 {
            UNIX_EPOCH + Duration::from_millis(ms as u64)
        } else {
            UNIX_EPOCH - Duration::from_millis(ms.unsigned_abs())
        }
    }
}

/// Milliseconds since the epoch of a `SystemTime` (negative before 1970).
pub fn epoch_ms(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_millis() as i64,
        Err(e) => -(e.duration().as_millis() as i64),
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The (year, month, day) of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The UTC calendar fields of an epoch-ms instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Civil {
    /// Year.
    pub year: i64,
    /// Month, 1-12.
    pub month: i64,
    /// Day of month, 1-31.
    pub day: i64,
    /// Hour, 0-23.
    pub hour: i64,
    /// Minute, 0-59.
    pub minute: i64,
    /// Second, 0-59.
    pub second: i64,
    /// Millisecond, 0-999.
    pub milli: i64,
}

impl Civil {
    /// The calendar fields of `ms` since the epoch, in UTC.
    pub fn from_ms(ms: i64) -> Civil {
        let secs = ms.div_euclid(1000);
        let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
        let sod = secs.rem_euclid(86_400);
        Civil {
            year,
            month,
            day,
            hour: sod / 3600,
            minute: sod % 3600 / 60,
            second: sod % 60,
            milli: ms.rem_euclid(1000),
        }
    }
}

/// ISO 8601 UTC with milliseconds, as Lambda and S3 write timestamps
/// (`eventTime`): `2026-11-03T09:15:42.123Z`.
pub fn iso8601_millis(ms: i64) -> String {
    let c = Civil::from_ms(ms);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        c.year, c.month, c.day, c.hour, c.minute, c.second, c.milli
    )
}

/// ISO 8601 UTC as CloudWatch answers: `2026-11-26T10:00:00Z`, with
/// `.250` only when there are milliseconds.
pub fn iso8601_compact(ms: i64) -> String {
    let c = Civil::from_ms(ms);
    if c.milli == 0 {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            c.year, c.month, c.day, c.hour, c.minute, c.second
        )
    } else {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            c.year, c.month, c.day, c.hour, c.minute, c.second, c.milli
        )
    }
}

/// An HTTP date (RFC 9110's IMF-fixdate), as a server's `Date` header:
/// `Tue, 08 Dec 2026 01:36:41 GMT`.
pub fn http_date(ms: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let c = Civil::from_ms(ms);
    let weekday = DAYS[ms.div_euclid(86_400_000).rem_euclid(7) as usize];
    format!(
        "{weekday}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
        c.day,
        MONTHS[(c.month - 1) as usize],
        c.year,
        c.hour,
        c.minute,
        c.second
    )
}

/// Parses ISO 8601 date-times as AWS clients send them:
/// `YYYY-MM-DDTHH:MM:SS[.fff...][Z|±HH:MM]` (no zone means UTC), in ms.
pub fn parse_iso8601(s: &str) -> Option<i64> {
    let s = s.trim();
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    let mut millis = 0;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
        let frac = &s[start..i.min(start + 3)];
        millis = frac.parse::<i64>().ok()? * 10_i64.pow(3 - frac.len() as u32);
    }
    let offset_s = match s.get(i..)? {
        "" | "Z" | "z" => 0,
        zone => {
            let sign = match zone.as_bytes().first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => return None,
            };
            let digits: String = zone.get(1..)?.chars().filter(|c| *c != ':').collect();
            if digits.len() != 4 || !digits.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let hh: i64 = digits[..2].parse().ok()?;
            let mm: i64 = digits[2..].parse().ok()?;
            sign * (hh * 3600 + mm * 60)
        }
    };
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - offset_s;
    Some(secs * 1000 + millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses() {
        assert_eq!(iso8601_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601_millis(951_782_400_000), "2000-02-29T00:00:00.000Z");
        let t = parse_iso8601("2026-11-26T10:00:00Z").unwrap();
        assert_eq!(iso8601_compact(t), "2026-11-26T10:00:00Z");
        assert_eq!(iso8601_compact(t + 250), "2026-11-26T10:00:00.250Z");
        assert_eq!(parse_iso8601("2026-11-26T11:30:00+01:30"), Some(t));
        assert_eq!(parse_iso8601("2026-11-26T10:00:00.123456Z"), Some(t + 123));
        for bad in [
            "2026-11-26",
            "2026-13-01T00:00:00Z",
            "2026-11-26T10:00:00Q",
            "2026-11-26T10:00:00.",
            "2026-11-26T10:00:00+0",
        ] {
            assert_eq!(parse_iso8601(bad), None, "{bad}");
        }
        assert_eq!(http_date(t), "Thu, 26 Nov 2026 10:00:00 GMT");
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        // Round trip over four centuries of days, leap years included.
        for day in (-146_097..146_097).step_by(97) {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
    }

    #[test]
    fn test_clocks_move_only_when_told() {
        let frozen = Clock::frozen(1_000);
        let view = frozen.clone();
        assert_eq!(frozen.now_ms(), 1_000);
        frozen.advance(Duration::from_secs(2));
        assert_eq!(view.now_ms(), 3_000);
        assert_eq!(epoch_ms(view.now()), 3_000);

        let sys = Clock::system();
        let shifted = Clock::starting_at(sys.now_ms() - 86_400_000);
        let gap = sys.now_ms() - shifted.now_ms();
        assert!((86_399_000..=86_401_000).contains(&gap), "{gap}");
        shifted.advance(Duration::from_secs(86_400));
        assert!((sys.now_ms() - shifted.now_ms()).abs() < 1_000);
        assert!(sys.is_system() && !shifted.is_system());
    }
}
