//! How the panes write quantities: sizes, durations, ages, clock times
//! and counts. One place, so that every pane writes `1.2 KB`, `12.5 ms`
//! and `3m` the same way, and tests can pin the formats.

/// Bytes for people: `512 B`, `1.2 KB`, `3.4 MB` (powers of 1024, as the
/// S3 console writes them).
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KB", "MB", "GB", "TB", "PB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if v < 10.0 {
        format!("{v:.1} {}", UNITS[unit])
    } else {
        format!("{v:.0} {}", UNITS[unit])
    }
}

/// A duration in ms: `0.8 ms`, `12.5 ms`, `250 ms`, `1.25 s`, `2m05s`.
pub fn millis(ms: f64) -> String {
    if !ms.is_finite() || ms < 0.0 {
        return "-".to_owned();
    }
    if ms < 100.0 {
        format!("{ms:.1} ms")
    } else if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else if ms < 60_000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else {
        let s = (ms / 1000.0).round() as u64;
        format!("{}m{:02}s", s / 60, s % 60)
    }
}

/// An optional duration, `-` when unknown.
pub fn millis_or_dash(ms: Option<f64>) -> String {
    ms.map_or_else(|| "-".to_owned(), millis)
}

/// Seconds as a short span: `45s`, `3m`, `2h`, `4d`.
pub fn span_s(s: i64) -> String {
    let s = s.max(0);
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m", s / 60)
    } else if s < 86_400 {
        format!("{}h", s / 3600)
    } else {
        format!("{}d", s / 86_400)
    }
}

/// How long ago `then_ms` was, at `now_ms`: `now`, `45s`, `3m`, `2h`.
pub fn age(now_ms: i64, then_ms: i64) -> String {
    let s = (now_ms - then_ms).div_euclid(1000);
    if s < 1 { "now".to_owned() } else { span_s(s) }
}

/// Wall-clock time of `ms` since the epoch, UTC: `13:04:05`.
pub fn clock(ms: i64) -> String {
    let day_s = ms.div_euclid(1000).rem_euclid(86_400);
    format!(
        "{:02}:{:02}:{:02}",
        day_s / 3600,
        day_s / 60 % 60,
        day_s % 60
    )
}

/// Wall-clock time with milliseconds, UTC: `13:04:05.123`.
pub fn clock_ms(ms: i64) -> String {
    format!("{}.{:03}", clock(ms), ms.rem_euclid(1000))
}

/// A count with thousands separators: `1,234,567`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A share in 0..1 as a percentage: `85%`.
pub fn percent(ratio: f64) -> String {
    format!("{:.0}%", (ratio * 100.0).clamp(0.0, 100.0))
}

/// The first `n` chars of `s` (request ids are long; eight chars tell
/// them apart on one screen).
pub fn short(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// The short id of a log stream: Lambda names streams
/// `2024/05/01/[$LATEST]0123456789abcdef`, one per environment; the last
/// six hex digits tell the environments of one screen apart.
pub fn stream_id(stream: &str) -> &str {
    let tail = stream.rsplit(']').next().unwrap_or(stream);
    let n = tail.chars().count();
    match tail.char_indices().nth(n.saturating_sub(6)) {
        Some((i, _)) => &tail[i..],
        None => tail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1229), "1.2 KB");
        assert_eq!(bytes(5 * 1024 * 1024), "5.0 MB");
        assert_eq!(bytes(300 * 1024 * 1024), "300 MB");
        assert_eq!(millis(12.5), "12.5 ms");
        assert_eq!(millis(250.4), "250 ms");
        assert_eq!(millis(1250.0), "1.25 s");
        assert_eq!(millis(125_000.0), "2m05s");
        assert_eq!(millis_or_dash(None), "-");
        assert_eq!(age(10_000, 9_500), "now");
        assert_eq!(age(200_000, 20_000), "3m");
        assert_eq!(clock(13 * 3_600_000 + 4 * 60_000 + 5_123), "13:04:05");
        assert_eq!(
            clock_ms(13 * 3_600_000 + 4 * 60_000 + 5_123),
            "13:04:05.123"
        );
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(999), "999");
        assert_eq!(percent(0.854), "85%");
        assert_eq!(short("0123456789", 8), "01234567");
        assert_eq!(short("ab", 8), "ab");
        assert_eq!(stream_id("2024/05/01/[$LATEST]0123456789abcdef"), "abcdef");
        assert_eq!(stream_id("é"), "é");
    }
}
