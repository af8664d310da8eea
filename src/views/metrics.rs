//! Pane 5, the charts of the selected function: counts (invocations,
//! errors, throttles, cold starts, p50/p95), the cache-hit gauge, the
//! duration and concurrency sparklines and the duration histogram. It
//! draws `state.summary` as it is: `update` derives it from the table, so
//! a frame costs the same with 10 or 10,000 invocations.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Bar, BarChart, Gauge, Paragraph, Sparkline};

use crate::console::state::{LogSource, Pane, State};
use crate::console::summary::{CONCURRENCY_WINDOW_S, bucket_label};

use super::{pane, units};

/// Width of the counts column.
const COUNTS_WIDTH: u16 = 26;

/// Draws the metrics pane in `area`.
pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.settings.theme;
    let dim = Style::new().fg(theme.dim);
    let tail = &state.logs.tail;
    let empty = state.history.is_empty();
    let mut right = Vec::new();
    if let Some(e) = &tail.error
        && !empty
    {
        let age = tail
            .at_ms
            .map_or_else(|| "?".to_owned(), |at| units::age(state.now_ms, at));
        right.push(pane::badge(
            format!("stale {age} — {e}"),
            Style::new().fg(theme.error),
        ));
    }
    let left = state
        .selected_function
        .iter()
        .map(|f| pane::badge(f.clone(), Style::new().fg(theme.header)))
        .collect();
    let block = pane::block(state, Pane::Metrics, left, right);
    let inner = block.inner(area);
    frame.render_widget(block, area);

    if empty {
        let (text, style) =
            if state.selected_function.is_none() && matches!(state.logs.source, LogSource::None) {
                ("no function selected".to_owned(), dim)
            } else if let Some(e) = &tail.error {
                (e.clone(), Style::new().fg(theme.error))
            } else if tail.data.is_none() {
                ("loading…".to_owned(), dim)
            } else {
                (
                    "no invocations yet: charts appear after the first run".to_owned(),
                    dim,
                )
            };
        pane::message(frame, inner, &text, style);
        return;
    }

    if inner.width >= 80 {
        let [counts, sparks, histogram] = Layout::horizontal([
            Constraint::Length(COUNTS_WIDTH),
            Constraint::Fill(1),
            Constraint::Fill(1),
        ])
        .spacing(1)
        .areas(inner);
        draw_counts(frame, counts, state);
        draw_sparklines(frame, sparks, state);
        draw_histogram(frame, histogram, state);
    } else {
        let [counts, charts] =
            Layout::horizontal([Constraint::Length(COUNTS_WIDTH), Constraint::Fill(1)])
                .spacing(1)
                .areas(inner);
        let [sparks, histogram] =
            Layout::vertical([Constraint::Fill(1), Constraint::Fill(1)]).areas(charts);
        draw_counts(frame, counts, state);
        draw_sparklines(frame, sparks, state);
        draw_histogram(frame, histogram, state);
    }
}

/// The counts, one per line, then the cache-hit gauge.
fn draw_counts(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.settings.theme;
    let t = &state.summary.totals;
    let throttles = state
        .selected_function
        .as_ref()
        .and_then(|f| state.stats.get(f))
        .map_or_else(|| "-".to_owned(), |s| units::count(s.throttles));
    let label = Style::new().fg(theme.header);
    let width = usize::from(area.width).saturating_sub(13).max(1);
    let row = |name: &'static str, value: String, style: Style| {
        Line::from(vec![
            Span::styled(format!("{name:<13}"), label),
            Span::styled(format!("{value:>width$}"), style),
        ])
    };
    let errors = t.errors as u64;
    let error_style = if errors > 0 {
        Style::new().fg(theme.error)
    } else {
        Style::new()
    };
    let lines = vec![
        row("invocations", units::count(t.count as u64), Style::new()),
        row("errors", units::count(errors), error_style),
        row("throttles", throttles, Style::new()),
        row(
            "cold starts",
            units::count(state.summary.cold),
            Style::new(),
        ),
        row("p50", units::millis_or_dash(t.p50_ms), Style::new()),
        row("p95", units::millis_or_dash(t.p95_ms), Style::new()),
    ];
    let [text, gauge] = Layout::vertical([
        Constraint::Length(lines.len() as u16),
        Constraint::Length(1),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(lines), text);
    let (ratio, shown) = match t.cache_hit_ratio {
        Some(r) => (r.clamp(0.0, 1.0), units::percent(r)),
        None => (0.0, "-".to_owned()),
    };
    frame.render_widget(
        Gauge::default()
            .ratio(ratio)
            .label(format!("cache hit {shown}"))
            .gauge_style(Style::new().fg(theme.chart).bg(theme.selected_bg)),
        gauge,
    );
}

/// The newest `width` points of `data` (a sparkline draws from the left).
fn newest(data: &[u64], width: u16) -> &[u64] {
    &data[data.len().saturating_sub(usize::from(width))..]
}

/// Durations of the newest invocations, then concurrency per second.
fn draw_sparklines(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.settings.theme;
    let s = &state.summary;
    let label = Style::new().fg(theme.header);
    let dim = Style::new().fg(theme.dim);
    let [d_label, d_chart, c_label, c_chart] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
        Constraint::Fill(1),
    ])
    .areas(area);
    let d_max = s.durations.iter().copied().max().unwrap_or(0);
    frame.render_widget(
        Line::from(vec![
            Span::styled("duration", label),
            Span::styled(
                format!(
                    " last {} · max {}",
                    s.durations.len(),
                    units::millis(d_max as f64)
                ),
                dim,
            ),
        ]),
        d_label,
    );
    frame.render_widget(
        Sparkline::default()
            .data(newest(&s.durations, d_chart.width))
            .style(Style::new().fg(theme.chart)),
        d_chart,
    );
    let peak = s.concurrency.iter().copied().max().unwrap_or(0);
    let now = s.concurrency.last().copied().unwrap_or(0);
    frame.render_widget(
        Line::from(vec![
            Span::styled("concurrency", label),
            Span::styled(
                format!(" {CONCURRENCY_WINDOW_S}s · peak {peak} · now {now}"),
                dim,
            ),
        ]),
        c_label,
    );
    frame.render_widget(
        Sparkline::default()
            .data(newest(&s.concurrency, c_chart.width))
            .style(Style::new().fg(theme.chart)),
        c_chart,
    );
}

/// Invocations per duration bucket. Vertical bars when each bar can hold
/// its label, horizontal ones when there are rows for them, else
/// vertical with labels shortened.
fn draw_histogram(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.settings.theme;
    let hist = &state.summary.histogram;
    let [head, chart] = Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
    frame.render_widget(
        Line::styled("durations", Style::new().fg(theme.header)),
        head,
    );
    let n = hist.len().max(1) as u16;
    let bar_width = (chart.width.saturating_add(1) / n).saturating_sub(1).max(1);
    let labels: Vec<String> = (0..hist.len()).map(bucket_label).collect();
    let widest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0) as u16;
    let value_style = Style::new()
        .fg(theme.chart)
        .add_modifier(Modifier::REVERSED);
    if bar_width < widest && chart.height > n {
        let bars: Vec<Bar> = hist
            .iter()
            .zip(&labels)
            .map(|(v, l)| Bar::default().value(*v).label(Line::from(l.clone())))
            .collect();
        frame.render_widget(
            BarChart::horizontal(bars)
                .bar_width(1)
                .bar_gap(0)
                .bar_style(Style::new().fg(theme.chart))
                .value_style(value_style),
            chart,
        );
        return;
    }
    let bars: Vec<Bar> = hist
        .iter()
        .zip(&labels)
        .map(|(v, l)| {
            // "<250ms" reads "<250" under a narrow bar: the header says ms.
            let l = if bar_width < widest {
                l.trim_end_matches("ms").to_owned()
            } else {
                l.clone()
            };
            Bar::default().value(*v).label(Line::from(l))
        })
        .collect();
    frame.render_widget(
        BarChart::vertical(bars)
            .bar_width(bar_width)
            .bar_gap(1)
            .bar_style(Style::new().fg(theme.chart))
            .value_style(value_style)
            .label_style(Style::new().fg(theme.dim)),
        chart,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::state::FunctionStats;
    use crate::views::testing::{self, NOW, has, line_with, render, style_at};

    fn draw_at(s: &State, w: u16, h: u16) -> ratatui::buffer::Buffer {
        render(w, h, |f, a| draw(f, a, s))
    }

    #[test]
    fn states_without_invocations() {
        let mut s = testing::state();
        assert!(has(&draw_at(&s, 120, 12), "no function selected"));
        s.selected_function = Some("demo".into());
        s.logs.source = LogSource::Function("demo".into());
        s.logs.tail.loading = true;
        assert!(has(&draw_at(&s, 120, 12), "loading…"));
        s.logs.tail.receive(Ok(()), NOW);
        assert!(has(&draw_at(&s, 120, 12), "no invocations yet"));
        s.logs.tail.receive(Err("metrics unavailable".into()), NOW);
        let b = draw_at(&s, 120, 12);
        assert_eq!(
            style_at(&b, "metrics unavailable").fg,
            Some(s.settings.theme.error)
        );
    }

    fn full() -> State {
        let mut s = testing::with_functions(&["demo"]);
        testing::invocation(
            &mut s,
            "r1",
            "in/a.txt",
            NOW - 5_000,
            40.0,
            true,
            "succeeded",
        );
        testing::invocation(
            &mut s,
            "r2",
            "in/b.txt",
            NOW - 4_000,
            2_500.0,
            false,
            "failed",
        );
        testing::invocation(
            &mut s,
            "r3",
            "in/c.txt",
            NOW - 3_000,
            45.0,
            false,
            "succeeded",
        );
        s.stats.insert(
            "demo".into(),
            FunctionStats {
                throttles: 7,
                ..Default::default()
            },
        );
        s
    }

    #[test]
    fn counts_gauge_sparklines_and_histogram() {
        let s = full();
        let b = draw_at(&s, 130, 14);
        let text = testing::text(&b);
        let row = |name: &str| line_with(&b, name).unwrap_or_default();
        assert!(row("invocations").contains(" 3 "), "{text}");
        assert!(row("errors").contains(" 1 "), "{text}");
        assert!(row("throttles").contains(" 7 "), "{text}");
        assert!(row("cold starts").contains(" 1 "), "{text}");
        assert!(row("p50").contains("45.0 ms"), "{text}");
        assert!(has(&b, "cache hit 100%"), "{text}");
        assert!(has(&b, "duration last 3 · max 2.50 s"), "{text}");
        assert!(has(&b, "concurrency 120s · peak"), "{text}");
        // The buckets of 40 ms and 45 ms (<50ms) and of 2.5 s (<5s).
        assert!(
            has(&b, "<50ms") && has(&b, "<5s") && has(&b, "≥10s"),
            "{text}"
        );
        let errors_value = testing::find(&b, "errors").map(|(_, y)| y).unwrap_or(0);
        let cells: Vec<_> = (0..b.area.width)
            .map(|x| b[(x, errors_value)].clone())
            .filter(|c| c.symbol() == "1")
            .collect();
        assert!(
            cells
                .iter()
                .any(|c| c.style().fg == Some(s.settings.theme.error)),
            "the error count is red"
        );
    }

    #[test]
    fn narrow_metrics_still_show_every_chart() {
        let s = full();
        let b = draw_at(&s, 70, 20);
        let text = testing::text(&b);
        assert!(
            has(&b, "invocations") && has(&b, "duration") && has(&b, "durations"),
            "{text}"
        );
        assert!(has(&b, "cache hit 100%"), "{text}");
    }
}
