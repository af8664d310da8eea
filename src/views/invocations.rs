//! Pane 4, the invocations of the selected function, newest first: one
//! row per request joined from its log lines (START, REPORT and the
//! supervisor's metrics line), with its state coloured.
//!
//! The table holds up to 10,000 rows; a frame formats only the rows on
//! screen, reading them by position when no filter is set.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Span;
use ratatui::widgets::Cell;

use crate::app::report::Invocation;
use crate::console::state::{LogSource, Pane, State};

use super::table::{self, Column};
use super::{pane, units};

const COLUMNS: [Column; 10] = [
    Column::fixed("STATE", 7, 0),
    Column::fixed("REQUEST", 8, 0),
    Column::fill("KEY", 1, 10, 1),
    Column::fixed("START", 8, 2),
    Column::fixed("DURATION", 9, 0),
    Column::fixed("INIT", 9, 3),
    Column::fixed("CACHE", 5, 2),
    Column::fixed("MAX MEM", 7, 4),
    Column::fixed("EXIT", 4, 3),
    Column::fixed("STREAM", 6, 5),
];

/// Draws the invocations pane in `area`.
pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.settings.theme;
    let dim = Style::new().fg(theme.dim);
    let history = &state.history;
    let filter = state
        .filters
        .get(&Pane::Invocations)
        .filter(|f| !f.is_empty());
    // Reading by position costs nothing; a filter needs the matching rows.
    let filtered = filter.map(|_| state.visible_invocations());
    let len = filtered.as_ref().map_or(history.len(), Vec::len);

    let mut left = vec![pane::badge(format!("({})", units::count(len as u64)), dim)];
    left.extend(pane::filter_badge(state, Pane::Invocations));
    // Outcomes from the summary `update` keeps (no pass over the rows).
    let t = &state.summary.totals;
    if t.count > 0 {
        let done = t.count.saturating_sub(t.errors) as u64;
        let failed = t.errors as u64;
        let unfinished = history.len().saturating_sub(t.count) as u64;
        let mut spans = vec![
            Span::styled(
                format!(" {} done", units::count(done)),
                Style::new().fg(theme.ok),
            ),
            Span::styled(" · ", dim),
            Span::styled(
                format!("{} failed", units::count(failed)),
                if failed > 0 {
                    Style::new().fg(theme.error)
                } else {
                    dim
                },
            ),
        ];
        if unfinished > 0 {
            spans.push(Span::styled(" · ", dim));
            spans.push(Span::styled(
                format!("{} running", units::count(unfinished)),
                Style::new().fg(theme.warn),
            ));
        }
        spans.push(Span::raw(" "));
        left.extend(spans);
    }
    let mut right = Vec::new();
    if history.evicted() > 0 {
        right.push(pane::badge(
            format!("⚠ {} older dropped", units::count(history.evicted())),
            Style::new().fg(theme.warn),
        ));
    }
    let tail = &state.logs.tail;
    if let Some(e) = &tail.error
        && !history.is_empty()
    {
        let age = tail
            .at_ms
            .map_or_else(|| "?".to_owned(), |at| units::age(state.now_ms, at));
        right.push(pane::badge(
            format!("stale {age} — {e}"),
            Style::new().fg(theme.error),
        ));
    }
    let block = pane::block(state, Pane::Invocations, left, right);
    let inner = block.inner(area);
    frame.render_widget(block, area);

    // The rows come from the function's tail: its state is this pane's.
    if history.is_empty() {
        let (text, style) =
            if state.selected_function.is_none() && matches!(state.logs.source, LogSource::None) {
                ("no function selected".to_owned(), dim)
            } else if let Some(e) = &tail.error {
                (e.clone(), Style::new().fg(theme.error))
            } else if tail.data.is_none() {
                ("loading…".to_owned(), dim)
            } else {
                ("no invocations yet".to_owned(), dim)
            };
        pane::message(frame, inner, &text, style);
        return;
    }
    if len == 0 {
        let f = filter.map_or("", String::as_str);
        pane::message(frame, inner, &format!("no invocation matches /{f}"), dim);
        return;
    }

    let height = table::body_rows(inner);
    let cursor = &state.invocations_cursor;
    let selected = cursor.selected.min(len - 1);
    let first = pane::offset(selected, cursor.offset, len, height);
    let key_width = table::fill_width(&COLUMNS, inner.width, 2).unwrap_or(usize::MAX);
    let drawn = (first..len.min(first + height))
        .filter_map(|i| {
            let inv = match &filtered {
                Some(rows) => rows.get(i).copied(),
                None => history.newest(i),
            }?;
            Some(line(state, inv, key_width, i == selected))
        })
        .collect();
    table::draw(frame, inner, state, &COLUMNS, drawn);
}

/// The cells of one invocation and the row's style.
fn line(
    state: &State,
    inv: &Invocation,
    key_width: usize,
    selected: bool,
) -> (Vec<Cell<'static>>, Style) {
    let theme = &state.settings.theme;
    let st = inv.state();
    let st_style = match st {
        "done" => Style::new().fg(theme.ok),
        "failed" => Style::new().fg(theme.error),
        "running" => Style::new().fg(theme.warn),
        _ => Style::new().fg(theme.dim),
    };
    // A timeout or crash says so in the state column rather than "failed".
    let st_text = match (inv.report_status.as_deref(), inv.status.as_deref()) {
        (Some(r), _) => r.to_ascii_lowercase(),
        (None, Some("timed_out")) => "timeout".to_owned(),
        _ => st.to_owned(),
    };
    let cache = match inv.cache_hit {
        Some(true) => Cell::from("hit").style(Style::new().fg(theme.ok)),
        Some(false) => Cell::from("miss").style(Style::new().fg(theme.warn)),
        None => Cell::from("-"),
    };
    let exit = match inv.exit_code {
        Some(0) => Cell::from("0"),
        Some(c) => Cell::from(c.to_string()).style(Style::new().fg(theme.error)),
        None => Cell::from("-"),
    };
    let stream = units::stream_id(&inv.stream);
    let cells = vec![
        Cell::from(st_text).style(st_style),
        Cell::from(units::short(&inv.request_id, 8).to_owned()),
        Cell::from(
            inv.input_key
                .as_deref()
                .map_or_else(|| "-".to_owned(), |k| table::tail_fit(k, key_width)),
        ),
        Cell::from(inv.started_ms.map_or_else(|| "-".to_owned(), units::clock)),
        Cell::from(units::millis_or_dash(inv.duration_ms)),
        match inv.init_ms {
            Some(ms) => Cell::from(units::millis(ms)).style(Style::new().fg(theme.warn)),
            None => Cell::from("-").style(Style::new().fg(theme.dim)),
        },
        cache,
        Cell::from(
            inv.max_memory_mb
                .map_or_else(|| "-".to_owned(), |m| format!("{m} MB")),
        ),
        exit,
        Cell::from(stream.to_owned()).style(Style::new().fg(theme.dim)),
    ];
    let style = if selected {
        Style::new().bg(theme.selected_bg)
    } else {
        Style::new()
    };
    (cells, style)
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::views::testing::{self, NOW, has, line_with, render, style_at};

    fn draw_at(s: &State, w: u16, h: u16) -> ratatui::buffer::Buffer {
        render(w, h, |f, a| draw(f, a, s))
    }

    #[test]
    fn states_without_rows() {
        let mut s = testing::state();
        assert!(has(&draw_at(&s, 100, 8), "no function selected"));
        s.selected_function = Some("demo".into());
        s.logs.source = LogSource::Function("demo".into());
        s.logs.tail.loading = true;
        assert!(has(&draw_at(&s, 100, 8), "loading…"));
        s.logs.tail.receive(Ok(()), NOW);
        assert!(has(&draw_at(&s, 100, 8), "no invocations yet"));
        s.logs.tail.receive(Err("log group not found".into()), NOW);
        let b = draw_at(&s, 100, 8);
        assert_eq!(
            style_at(&b, "log group not found").fg,
            Some(s.settings.theme.error)
        );
        // Rows held: they stay, and the title says how old they are.
        testing::invocation(
            &mut s,
            "r1",
            "in/a.txt",
            NOW - 9_000,
            5.0,
            false,
            "succeeded",
        );
        s.now_ms = NOW + 60_000;
        let b = draw_at(&s, 120, 8);
        assert!(has(&b, "in/a.txt"), "{}", testing::text(&b));
        assert!(
            has(&b, "stale 1m — log group not found"),
            "{}",
            testing::text(&b)
        );
    }

    #[test]
    fn rows_newest_first_with_their_figures() {
        let mut s = testing::with_functions(&["demo"]);
        testing::invocation(
            &mut s,
            "r1-aaaaaaaa",
            "in/a.txt",
            NOW - 60_000,
            12.5,
            true,
            "succeeded",
        );
        testing::invocation(
            &mut s,
            "r2-bbbbbbbb",
            "in/b.txt",
            NOW - 30_000,
            250.0,
            false,
            "failed",
        );
        s.history.push(
            NOW - 1_000,
            "s",
            "START RequestId: r3-cccccccc Version: $LATEST",
        );
        s.invocations_cursor.selected = 1;
        let b = draw_at(&s, 120, 10);
        let text = testing::text(&b);
        let (r1, r2, r3) = (
            text.find("r1-aaaaa").unwrap_or(0),
            text.find("r2-bbbbb").unwrap_or(0),
            text.find("r3-ccccc").unwrap_or(0),
        );
        assert!(r3 < r2 && r2 < r1, "newest first:\n{text}");
        let a = line_with(&b, "r1-aaaaa").unwrap_or_default();
        for want in [
            "done", "in/a.txt", "11:59:00", "12.5 ms", "200 ms", "hit", "40 MB", "0", "abcdef",
        ] {
            assert!(a.contains(want), "{want:?} missing in {a:?}");
        }
        assert_eq!(style_at(&b, "done").fg, Some(s.settings.theme.ok));
        assert_eq!(style_at(&b, "failed").fg, Some(s.settings.theme.error));
        assert_eq!(style_at(&b, "running").fg, Some(s.settings.theme.warn));
        assert_eq!(
            style_at(&b, "r2-bbbbb").bg,
            Some(s.settings.theme.selected_bg)
        );
        assert_ne!(
            style_at(&b, "r1-aaaaa").bg,
            Some(s.settings.theme.selected_bg)
        );
        assert!(has(&b, "(3)  1 done · 1 failed · 1 running"), "{text}");
    }

    #[test]
    fn a_filter_keeps_matching_rows() {
        let mut s = testing::with_functions(&["demo"]);
        testing::invocation(
            &mut s,
            "r1",
            "in/a.txt",
            NOW - 60_000,
            12.5,
            false,
            "succeeded",
        );
        testing::invocation(
            &mut s,
            "r2",
            "in/b.txt",
            NOW - 30_000,
            12.5,
            false,
            "succeeded",
        );
        s.filters.insert(Pane::Invocations, "b.txt".into());
        let b = draw_at(&s, 120, 10);
        assert!(has(&b, "in/b.txt") && !has(&b, "in/a.txt"));
        assert!(has(&b, "(1)") && has(&b, "/b.txt"));
        s.filters.insert(Pane::Invocations, "nope".into());
        assert!(has(&draw_at(&s, 120, 10), "no invocation matches /nope"));
    }

    fn history_of(n: usize) -> State {
        let mut s = testing::with_functions(&["demo"]);
        for i in 0..n {
            let id = format!("q{i:05}");
            s.history
                .push(NOW, "s", &format!("START RequestId: {id} Version: $LATEST"));
            s.history.push(
                NOW + 5,
                "s",
                &format!("REPORT RequestId: {id}\tDuration: 5.00 ms\tBilled Duration: 5 ms\tMemory Size: 128 MB\tMax Memory Used: 9 MB"),
            );
        }
        s
    }

    fn frame_time(s: &State) -> std::time::Duration {
        let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(160, 50))
            .unwrap_or_else(|e| panic!("{e}"));
        term.draw(|f| draw(f, f.area(), s))
            .unwrap_or_else(|e| panic!("{e}"));
        let t = Instant::now();
        for _ in 0..10 {
            term.draw(|f| draw(f, f.area(), s))
                .unwrap_or_else(|e| panic!("{e}"));
        }
        t.elapsed() / 10
    }

    #[test]
    fn ten_thousand_rows_cost_a_screenful() {
        let mut s = history_of(10_500);
        s.invocations_cursor.selected = 5_000;
        let b = draw_at(&s, 160, 50);
        // 10,000 held, the 500 oldest dropped; the 5,000th newest is q05499.
        assert!(has(&b, "⚠ 500 older dropped"), "{}", testing::text(&b));
        assert_eq!(
            style_at(&b, "q05499").bg,
            Some(s.settings.theme.selected_bg)
        );
        assert_ne!(
            style_at(&b, "q05500").bg,
            Some(s.settings.theme.selected_bg)
        );
        // A frame costs about the same over 100 rows and over 10,000 (a
        // ratio, so that a busy machine does not fail it).
        let small = history_of(100);
        let (t_small, t_full) = (frame_time(&small), frame_time(&s));
        assert!(
            t_full < t_small * 3 + std::time::Duration::from_millis(1),
            "{t_full:?} over 10,000 rows, {t_small:?} over 100"
        );
    }
}
