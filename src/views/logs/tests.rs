//! Tests of the logs pane: its states, follow/scroll/wrap/timestamps,
//! the filter and its highlight, the badges, and the cost of a frame
//! over a full ring.

use std::time::Instant;

use ratatui::buffer::Buffer;
use ratatui::style::Modifier;

use super::*;
use crate::console::settings::Settings;
use crate::views::testing::{self, NOW, has, line_with, lines, render, style_at};

const STREAM: &str = "2024/05/01/[$LATEST]0123456789abcdef";

fn push(s: &mut State, at: i64, message: &str) {
    s.logs.lines.push(LogEntry {
        timestamp: at,
        stream: STREAM.into(),
        message: message.into(),
    });
}

fn numbered(n: usize) -> State {
    let mut s = testing::with_functions(&["demo"]);
    s.logs.timestamps = false;
    for i in 0..n {
        push(&mut s, NOW + i as i64, &format!("line {i:04}"));
    }
    s
}

fn draw_at(s: &State, w: u16, h: u16) -> Buffer {
    render(w, h, |f, a| draw(f, a, s))
}

/// The text of the pane's inner rows (inside the border).
fn rows(b: &Buffer) -> Vec<String> {
    let all = lines(b);
    all[1..all.len() - 1]
        .iter()
        .map(|l| {
            let inner: String = l.chars().skip(1).collect();
            let inner: String = inner.chars().take(inner.chars().count() - 1).collect();
            inner.trim_end().to_owned()
        })
        .collect()
}

#[test]
fn states_without_lines() {
    let mut s = testing::state();
    assert!(has(&draw_at(&s, 80, 8), "no function selected"));

    s.logs.source = LogSource::Function("demo".into());
    s.logs.tail.loading = true;
    assert!(has(&draw_at(&s, 80, 8), "loading…"));

    s.logs.tail.receive(Ok(()), NOW);
    assert!(has(&draw_at(&s, 80, 8), "no log lines yet"));

    s.logs
        .tail
        .receive(Err("FilterLogEvents: AccessDenied".into()), NOW);
    let b = draw_at(&s, 80, 8);
    assert!(has(&b, "FilterLogEvents: AccessDenied"));
    assert_eq!(
        style_at(&b, "FilterLogEvents").fg,
        Some(s.settings.theme.error)
    );
}

#[test]
fn a_failed_poll_keeps_the_lines_and_says_how_old_they_are() {
    let mut s = numbered(3);
    s.now_ms = NOW + 60_000;
    s.logs.tail.receive(Err("throttled".into()), s.now_ms);
    let b = draw_at(&s, 100, 8);
    assert!(has(&b, "line 0002"));
    assert!(has(&b, "stale 1m — throttled"), "{}", testing::text(&b));
}

#[test]
fn follow_shows_the_newest_lines_at_the_bottom() {
    let s = numbered(1000);
    let b = draw_at(&s, 60, 10);
    let r = rows(&b);
    assert_eq!(r.len(), 8);
    assert_eq!(r[7], "line 0999");
    assert_eq!(r[0], "line 0992");
    assert!(
        has(&b, "demo (live)") && has(&b, "FOLLOW"),
        "{}",
        testing::text(&b)
    );
    assert!(!has(&b, "WRAP"));
}

#[test]
fn scroll_counts_lines_above_the_bottom_and_stops_at_the_top() {
    let mut s = numbered(1000);
    s.logs.follow = false;
    s.logs.scroll = 100;
    let r = rows(&draw_at(&s, 60, 10));
    assert_eq!(r[7], "line 0899");
    assert!(has(&draw_at(&s, 60, 10), "↑100"));
    // Following ignores the scroll.
    s.logs.follow = true;
    assert_eq!(rows(&draw_at(&s, 60, 10))[7], "line 0999");
    // Past the oldest line: the oldest lines, from the top, screen full.
    s.logs.follow = false;
    s.logs.scroll = 995;
    let r = rows(&draw_at(&s, 60, 10));
    assert_eq!(r[0], "line 0000");
    assert_eq!(r[7], "line 0007");
    s.logs.scroll = 50_000;
    assert_eq!(rows(&draw_at(&s, 60, 10))[0], "line 0000");
}

#[test]
fn timestamps_stream_ids_and_tabs() {
    let mut s = testing::with_functions(&["demo"]);
    push(
        &mut s,
        NOW + 123,
        "REPORT RequestId: r1\tDuration: 12.50 ms\tBilled Duration: 13 ms",
    );
    let b = draw_at(&s, 100, 5);
    let l = line_with(&b, "REPORT").unwrap_or_default();
    assert!(
        l.contains("12:00:00.123 abcdef REPORT RequestId: r1  Duration: 12.50 ms  Billed"),
        "{l:?}"
    );
    assert!(has(&b, "TS"));
    s.logs.timestamps = false;
    let l = line_with(&draw_at(&s, 100, 5), "REPORT").unwrap_or_default();
    assert!(!l.contains("12:00:00"), "{l:?}");
}

#[test]
fn the_filter_keeps_matching_lines_and_highlights_every_match() {
    let mut s = testing::with_functions(&["demo"]);
    s.logs.timestamps = false;
    push(&mut s, NOW, "alpha one alpha");
    push(&mut s, NOW, "beta two");
    push(&mut s, NOW, "gamma alpha three");
    s.logs.filter = Some("alpha".into());
    let b = draw_at(&s, 60, 8);
    assert!(!has(&b, "beta"), "{}", testing::text(&b));
    assert_eq!(rows(&b)[0], "alpha one alpha");
    assert_eq!(rows(&b)[1], "gamma alpha three");
    assert!(has(&b, "/alpha"));
    let hl = s.settings.theme.highlight;
    // Every match is highlighted, the text around it is not.
    let (x, y) = testing::find(&b, "alpha one").unwrap_or_default();
    for dx in [0, 10] {
        let st = b[(x + dx, y)].style();
        assert_eq!(st.fg, Some(hl), "cell {dx} of {:?}", rows(&b)[0]);
        assert!(st.add_modifier.contains(Modifier::REVERSED));
    }
    assert_ne!(b[(x + 6, y)].style().fg, Some(hl), "'one' is not a match");
    let (x, y) = testing::find(&b, "gamma").unwrap_or_default();
    assert_ne!(b[(x, y)].style().fg, Some(hl));
    assert_eq!(b[(x + 6, y)].style().fg, Some(hl));

    s.logs.filter = Some("zzz".into());
    assert!(has(&draw_at(&s, 60, 8), "no line matches /zzz"));
}

#[test]
fn wrap_cuts_long_lines_into_rows() {
    let mut s = testing::with_functions(&["demo"]);
    s.logs.timestamps = false;
    let long: String = (0..100)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    push(&mut s, NOW, "first");
    push(&mut s, NOW, &long);
    let b = draw_at(&s, 42, 10);
    // Unwrapped: one row, cut at the border.
    assert_eq!(rows(&b)[1], &long[..40]);
    s.logs.wrap = true;
    let b = draw_at(&s, 42, 10);
    let r = rows(&b);
    assert_eq!(&r[..4], &["first", &long[..40], &long[40..80], &long[80..]]);
    assert!(has(&b, "WRAP"));
    // Three rows free: the long line's last rows show, its head is cut.
    let b = draw_at(&s, 42, 4);
    assert_eq!(
        rows(&b),
        vec![long[40..80].to_owned(), long[80..].to_owned()]
    );
}

#[test]
fn badges_for_dropped_and_sampled_lines() {
    let mut settings = Settings::default();
    settings.buffers.log_lines = 5;
    let mut s = State::new(settings, testing::state().backend);
    s.now_ms = NOW;
    s.logs.source = LogSource::Function("demo".into());
    s.logs.tail.receive(Ok(()), NOW);
    for i in 0..1239 {
        push(&mut s, NOW, &format!("l{i}"));
    }
    s.logs.sampled = 42;
    let b = draw_at(&s, 100, 8);
    assert!(has(&b, "⚠ 1,234 dropped"), "{}", testing::text(&b));
    assert!(has(&b, "⚠ 42 sampled"));
    assert_eq!(style_at(&b, "⚠ 1,234").fg, Some(s.settings.theme.warn));
}

#[test]
fn one_requests_lines() {
    let mut s = testing::with_functions(&["demo"]);
    s.logs.source = LogSource::Request {
        function: "demo".into(),
        request_id: "0f1e2d3c-4b5a-6978".into(),
    };
    s.logs.request.loading = true;
    let b = draw_at(&s, 80, 8);
    assert!(has(&b, "request 0f1e2d3c of demo"), "{}", testing::text(&b));
    assert!(has(&b, "loading…"));
    s.logs.request.receive(Err("ResourceNotFound".into()), NOW);
    assert!(has(&draw_at(&s, 80, 8), "ResourceNotFound"));
    s.logs.request.receive(
        Ok(vec![LogEntry {
            timestamp: NOW,
            stream: STREAM.into(),
            message: "converting a.mp4".into(),
        }]),
        NOW,
    );
    let b = draw_at(&s, 80, 8);
    assert!(has(&b, "converting a.mp4"));
    assert!(!has(&b, "ResourceNotFound"));
}

/// Mean time of a frame of the logs pane over `s` (after one warm-up).
fn frame_time(s: &State) -> std::time::Duration {
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(200, 50))
        .unwrap_or_else(|e| panic!("{e}"));
    term.draw(|f| draw(f, f.area(), s))
        .unwrap_or_else(|e| panic!("{e}"));
    let frames = 10;
    let t = Instant::now();
    for _ in 0..frames {
        term.draw(|f| draw(f, f.area(), s))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    t.elapsed() / frames
}

/// A ring of `n` lines (at most 100,000 held), one in ten holding MATCH.
fn ring_of(n: i64) -> State {
    let mut s = testing::with_functions(&["demo"]);
    for i in 0..n {
        let msg = if i % 10 == 0 {
            format!("processed key in/{i}.txt with MATCH")
        } else {
            format!("line {i} of a long batch, nothing to see here")
        };
        push(&mut s, NOW + i, &msg);
    }
    s
}

#[test]
fn a_frame_over_a_full_ring_touches_only_what_it_draws() {
    let mut small = ring_of(1_000);
    let mut full = ring_of(150_000);
    assert_eq!(full.logs.lines.len(), 100_000);
    for (follow, wrap, filter) in [
        (true, false, None),
        (false, true, None),
        (true, true, Some("MATCH")),
        (false, false, Some("MATCH")),
    ] {
        for s in [&mut small, &mut full] {
            s.logs.follow = follow;
            s.logs.scroll = 50;
            s.logs.wrap = wrap;
            s.logs.filter = filter.map(str::to_owned);
        }
        // A frame costs the same over 1,000 lines and over 100,000: the
        // pane reads only the lines it draws. (A ratio, not a bound in ms,
        // so that a slow or busy machine does not fail it; a pass over the
        // whole ring makes the full case about 100 times slower.)
        let (t_small, t_full) = (frame_time(&small), frame_time(&full));
        assert!(
            t_full < t_small * 3 + std::time::Duration::from_millis(1),
            "follow={follow} wrap={wrap} filter={filter:?}: {t_full:?} over 100,000 lines, {t_small:?} over 1,000"
        );
    }
    full.logs.follow = true;
    let b = draw_at(&full, 100, 10);
    assert!(has(&b, "in/149990.txt with MATCH"), "{}", testing::text(&b));
}
