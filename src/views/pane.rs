//! What every pane shares: its bordered frame ("1 Functions", focus
//! colour, badges on the right), the message a pane draws instead of rows
//! (loading, empty, error), the "stale 2m — error" badge of a failed
//! refresh, and the scroll offset that keeps a selection on screen.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Row, Wrap};

use crate::console::state::{Fetched, Pane, State};

use super::units;

/// The bordered frame of `pane`: its number and title, `left` after the
/// title, `right` on the right of the top border. The focused pane's
/// border and title take the theme's focus colour.
pub fn block<'a>(
    state: &State,
    pane: Pane,
    left: Vec<Span<'a>>,
    right: Vec<Span<'a>>,
) -> Block<'a> {
    let theme = &state.settings.theme;
    let focused = state.focus == pane;
    let (border, title) = if focused {
        let s = Style::new().fg(theme.focus);
        (s, s.add_modifier(Modifier::BOLD))
    } else {
        (Style::new().fg(theme.border), Style::new())
    };
    let mut spans = vec![Span::styled(
        format!(" {} {} ", pane.number(), pane.title()),
        title,
    )];
    spans.extend(left);
    let mut block = Block::bordered()
        .border_style(border)
        .title(Line::from(spans));
    if !right.is_empty() {
        let mut r = right;
        r.push(Span::raw(" "));
        block = block.title(Line::from(r).right_aligned());
    }
    block
}

/// A span for the title: ` text ` in `style`.
pub fn badge(text: impl Into<String>, style: Style) -> Span<'static> {
    Span::styled(format!(" {} ", text.into()), style)
}

/// Draws `text` in `style` at the top of `area`, wrapped: what a pane
/// shows when it has no rows (loading, empty, an error).
pub fn message(frame: &mut Frame, area: Rect, text: &str, style: Style) {
    let p = Paragraph::new(Line::styled(text.to_owned(), style)).wrap(Wrap { trim: true });
    let inner = Rect {
        x: area.x.saturating_add(1).min(area.right()),
        width: area.width.saturating_sub(2),
        ..area
    };
    frame.render_widget(p, inner);
}

/// What a list pane draws instead of its rows, if anything: "loading…"
/// before the first answer, the error when the first fetch failed,
/// `empty` when the answer holds nothing; `None` when there are rows.
pub fn placeholder<T>(
    state: &State,
    fetched: &Fetched<Vec<T>>,
    empty: &str,
) -> Option<(String, Style)> {
    let theme = &state.settings.theme;
    match (&fetched.data, &fetched.error) {
        (None, Some(e)) if fetched.loading => {
            Some((format!("{e} (retrying…)"), Style::new().fg(theme.error)))
        }
        (None, Some(e)) => Some((e.clone(), Style::new().fg(theme.error))),
        (None, None) => Some(("loading…".to_owned(), Style::new().fg(theme.dim))),
        (Some(d), _) if d.is_empty() => Some((empty.to_owned(), Style::new().fg(theme.dim))),
        (Some(_), _) => None,
    }
}

/// "stale 2m — error" when a refresh failed but older data is still
/// shown, so that nobody mistakes old rows for fresh ones.
pub fn stale<T>(state: &State, fetched: &Fetched<T>) -> Option<Span<'static>> {
    let error = fetched.error.as_deref()?;
    fetched.data.as_ref()?;
    let age = fetched
        .at_ms
        .map_or_else(|| "?".to_owned(), |at| units::age(state.now_ms, at));
    Some(badge(
        format!("stale {age} — {error}"),
        Style::new().fg(state.settings.theme.error),
    ))
}

/// The first row to draw so that `selected` stays within `height` rows.
/// The cursor's last `hint` is kept when it still shows the selection
/// (rows do not jump while moving inside a page), otherwise the page
/// moves just enough.
pub fn offset(selected: usize, hint: usize, len: usize, height: usize) -> usize {
    if len == 0 || height == 0 {
        return 0;
    }
    let selected = selected.min(len - 1);
    let max_offset = len.saturating_sub(height);
    let hint = hint.min(max_offset);
    if selected >= hint && selected < hint + height {
        hint
    } else if selected < hint {
        selected
    } else {
        selected + 1 - height
    }
}

/// A table header in the theme's header colour.
pub fn header_row<'a>(state: &State, cells: &[&'a str]) -> Row<'a> {
    Row::new(cells.iter().copied()).style(
        Style::new()
            .fg(state.settings.theme.header)
            .add_modifier(Modifier::BOLD),
    )
}

/// The filter of a table pane, as a title span: ` /text `.
pub fn filter_badge(state: &State, pane: Pane) -> Option<Span<'static>> {
    let f = state.filters.get(&pane).filter(|f| !f.is_empty())?;
    Some(badge(
        format!("/{f}"),
        Style::new().fg(state.settings.theme.highlight),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_keeps_the_selection_visible() {
        assert_eq!(offset(0, 0, 100, 10), 0);
        assert_eq!(offset(9, 0, 100, 10), 0);
        assert_eq!(offset(10, 0, 100, 10), 1);
        assert_eq!(offset(50, 0, 100, 10), 41);
        // A hint that still shows the selection is kept...
        assert_eq!(offset(45, 41, 100, 10), 41);
        // ...one above it moves the page up to the selection.
        assert_eq!(offset(30, 41, 100, 10), 30);
        // Out of range selections and hints are clamped.
        assert_eq!(offset(500, 0, 100, 10), 90);
        assert_eq!(offset(95, 400, 100, 10), 90);
        assert_eq!(offset(3, 0, 0, 10), 0);
    }
}
