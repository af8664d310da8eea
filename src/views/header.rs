//! The header line: where the console points (backend, profile, region,
//! endpoint) and how many functions it sees on the left; on the right,
//! the actions under way and, while a batch runs, its compact progress.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use crate::console::state::{BatchPhase, BatchView, State};

use super::units;

/// Cells of the batch progress bar.
const BAR: usize = 10;

/// Draws the header in `area` (one line).
pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.settings.theme;
    let dim = Style::new().fg(theme.dim);
    let b = &state.backend;
    let mut left = vec![
        Span::styled(
            " scar-tui ",
            Style::new().fg(theme.focus).add_modifier(Modifier::BOLD),
        ),
        Span::styled(b.backend.clone(), Style::new().fg(theme.header)),
    ];
    if let Some(p) = &b.profile {
        left.push(Span::styled(" · profile ", dim));
        left.push(Span::raw(p.clone()));
    }
    if !b.region.is_empty() {
        left.push(Span::styled(" · ", dim));
        left.push(Span::raw(b.region.clone()));
    }
    if let Some(e) = &b.endpoint {
        left.push(Span::styled(" · ", dim));
        left.push(Span::raw(e.clone()));
    }
    if let Some(f) = &state.functions.data {
        let n = f.len();
        left.push(Span::styled(" │ ", dim));
        left.push(Span::raw(format!(
            "{n} function{}",
            if n == 1 { "" } else { "s" }
        )));
    }

    let mut right = vec![Span::raw(" ")];
    if !state.busy.is_empty() {
        right.push(Span::styled(
            format!("⟳ {}", state.busy.join(", ")),
            Style::new().fg(theme.warn),
        ));
    }
    if let Some(batch) = &state.batch {
        if !state.busy.is_empty() {
            right.push(Span::styled(" │ ", dim));
        }
        right.extend(progress(state, batch));
    }
    right.push(Span::raw(" "));

    let left = Line::from(left);
    let right = Line::from(right);
    let want = u16::try_from(right.width()).unwrap_or(u16::MAX);
    let left_width = u16::try_from(left.width()).unwrap_or(u16::MAX);
    // The right side takes what the left leaves, and at least half.
    let room = area
        .width
        .saturating_sub(left_width.saturating_add(1))
        .max(area.width / 2);
    let [l, r] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Length(want.min(room))]).areas(area);
    frame.render_widget(left, l);
    // Too long, it is cut at its end: what is under way matters more than
    // the batch's rate and eta.
    let right = if want > room {
        right
    } else {
        right.right_aligned()
    };
    frame.render_widget(right, r);
}

/// `batch demo ▕████░░░░░░▏ 40/100 · 2 failed · 12.3/s · eta 5s`.
fn progress(state: &State, batch: &BatchView) -> Vec<Span<'static>> {
    let theme = &state.settings.theme;
    let dim = Style::new().fg(theme.dim);
    let finished = batch.done + batch.failed + batch.rejected;
    let ratio = if batch.total > 0 {
        (finished as f64 / batch.total as f64).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let full = (ratio * BAR as f64).round() as usize;
    let mut spans = vec![
        Span::styled(
            format!("batch {} ", batch.function),
            Style::new().fg(theme.header),
        ),
        Span::styled(
            format!("▕{}{}▏", "█".repeat(full), "░".repeat(BAR - full)),
            Style::new().fg(theme.chart),
        ),
        Span::raw(format!(
            " {}/{}",
            units::count(finished),
            units::count(batch.total)
        )),
    ];
    let failed = batch.failed + batch.rejected;
    if failed > 0 {
        spans.push(Span::styled(" · ", dim));
        spans.push(Span::styled(
            format!("{} failed", units::count(failed)),
            Style::new().fg(theme.error),
        ));
    }
    match &batch.phase {
        BatchPhase::Dispatching | BatchPhase::Waiting => {
            spans.push(Span::styled(
                format!(
                    " · {} running · {:.1}/s",
                    batch.running(),
                    batch.rate(state.now_ms)
                ),
                dim,
            ));
            if let Some(eta) = batch.eta_s(state.now_ms) {
                spans.push(Span::styled(
                    format!(" · eta {}", units::span_s(eta.ceil() as i64)),
                    dim,
                ));
            }
        }
        BatchPhase::Done => {
            let took = batch.finished_ms.unwrap_or(state.now_ms) - batch.started_ms;
            spans.push(Span::styled(
                format!(" · done in {}", units::span_s(took / 1000)),
                Style::new().fg(theme.ok),
            ));
        }
        BatchPhase::Failed(e) => spans.push(Span::styled(
            format!(" · stopped: {e}"),
            Style::new().fg(theme.error),
        )),
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::testing::{self, NOW, has, render, style_at};

    fn draw_at(s: &State, w: u16) -> ratatui::buffer::Buffer {
        render(w, 1, |f, a| draw(f, a, s))
    }

    #[test]
    fn backend_and_counts() {
        let mut s = testing::with_functions(&["a", "b", "c"]);
        let b = draw_at(&s, 120);
        assert!(
            has(
                &b,
                "scar-tui local · us-east-1 · http://127.0.0.1:4566 │ 3 functions"
            ),
            "{}",
            testing::text(&b)
        );
        s.backend.backend = "aws".into();
        s.backend.profile = Some("dev".into());
        s.backend.endpoint = None;
        s.backend.region = "eu-west-1".into();
        assert!(has(
            &draw_at(&s, 120),
            "aws · profile dev · eu-west-1 │ 3 functions"
        ));
    }

    #[test]
    fn busy_actions_and_batch_progress() {
        let mut s = testing::with_functions(&["demo"]);
        s.busy = vec!["deploying demo".into(), "uploading 3 files".into()];
        s.batch = Some(BatchView {
            function: "demo".into(),
            phase: BatchPhase::Waiting,
            total: 100,
            dispatched: 60,
            skipped: 0,
            rejected: 0,
            retries: 0,
            done: 38,
            failed: 2,
            started_ms: NOW - 10_000,
            finished_ms: None,
        });
        let b = draw_at(&s, 200);
        let text = testing::text(&b);
        assert!(has(&b, "⟳ deploying demo, uploading 3 files"), "{text}");
        assert!(
            has(
                &b,
                "batch demo ▕████░░░░░░▏ 40/100 · 2 failed · 20 running · 4.0/s · eta 15s"
            ),
            "{text}"
        );
        assert_eq!(style_at(&b, "⟳").fg, Some(s.settings.theme.warn));
        assert_eq!(style_at(&b, "2 failed").fg, Some(s.settings.theme.error));

        if let Some(batch) = s.batch.as_mut() {
            batch.phase = BatchPhase::Done;
            batch.done = 98;
            batch.finished_ms = Some(NOW);
        }
        s.busy.clear();
        let b = draw_at(&s, 160);
        assert!(
            has(&b, "3 functions") || has(&b, "1 function"),
            "{}",
            testing::text(&b)
        );
        assert!(
            has(&b, "100/100 · 2 failed · done in 10s"),
            "{}",
            testing::text(&b)
        );
    }
}
