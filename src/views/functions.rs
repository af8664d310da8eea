//! Pane 1, the functions: one row per deployed function with its image,
//! memory, timeout and the recent figures (warm environments,
//! invocations, errors, p50/p95 duration, cache-hit share). The selected
//! row is highlighted, marked rows carry a sign; figures not yet fetched
//! read "-".

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::widgets::Cell;

use crate::console::action::Action;
use crate::console::state::{FunctionRow, FunctionStats, Pane, State};

use super::table::{self, Column};
use super::{pane, units};

const COLUMNS: [Column; 11] = [
    Column::fixed(" ", 1, 0),
    Column::fill("NAME", 3, 12, 0),
    Column::fill("IMAGE", 2, 12, 4),
    Column::fixed("MEMORY", 7, 3),
    Column::fixed("TIMEOUT", 7, 6),
    Column::fixed("WARM", 4, 2),
    Column::fixed("INVOKED", 7, 1),
    Column::fixed("ERRORS", 6, 1),
    Column::fixed("P50", 8, 2),
    Column::fixed("P95", 8, 5),
    Column::fixed("CACHE", 5, 3),
];

/// Draws the functions pane in `area`.
pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let rows = state.visible_functions();
    let mut left = Vec::new();
    if let Some(all) = &state.functions.data {
        let count = if rows.len() == all.len() {
            format!("({})", all.len())
        } else {
            format!("({}/{})", rows.len(), all.len())
        };
        left.push(pane::badge(
            count,
            Style::new().fg(state.settings.theme.dim),
        ));
    }
    left.extend(pane::filter_badge(state, Pane::Functions));
    if !state.marked_functions.is_empty() {
        left.push(pane::badge(
            format!("{} marked", state.marked_functions.len()),
            Style::new().fg(state.settings.theme.mark),
        ));
    }
    let right = pane::stale(state, &state.functions).into_iter().collect();
    let block = pane::block(state, Pane::Functions, left, right);
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let new_key = state
        .settings
        .keys
        .keys_of(Action::New)
        .into_iter()
        .next()
        .unwrap_or_else(|| "n".to_owned());
    let empty = format!("no functions yet: press {new_key} to create one, or :demo");
    if let Some((text, style)) = pane::placeholder(state, &state.functions, &empty) {
        pane::message(frame, inner, &text, style);
        return;
    }
    if rows.is_empty() {
        let f = state
            .filters
            .get(&Pane::Functions)
            .map_or("", String::as_str);
        let dim = Style::new().fg(state.settings.theme.dim);
        pane::message(frame, inner, &format!("no function matches /{f}"), dim);
        return;
    }

    let height = table::body_rows(inner);
    let cursor = &state.functions_cursor;
    let selected = cursor.selected.min(rows.len() - 1);
    let first = pane::offset(selected, cursor.offset, rows.len(), height);
    let drawn = rows
        .iter()
        .enumerate()
        .skip(first)
        .take(height)
        .map(|(i, row)| line(state, row, i == selected))
        .collect();
    table::draw(frame, inner, state, &COLUMNS, drawn);
}

/// The cells of one function and the row's style.
fn line(state: &State, row: &FunctionRow, selected: bool) -> (Vec<Cell<'static>>, Style) {
    let theme = &state.settings.theme;
    let name = &row.info.name;
    let marked = state.marked_functions.contains(name);
    let stats = state.stats.get(name);
    let dash = || Cell::from("-");
    let num =
        |f: fn(&FunctionStats) -> Option<String>| stats.and_then(f).map_or_else(dash, Cell::from);
    let errors = match stats {
        Some(s) if s.errors > 0 => {
            Cell::from(units::count(s.errors)).style(Style::new().fg(theme.error))
        }
        Some(s) => Cell::from(units::count(s.errors)),
        None => dash(),
    };
    let name_cell = match row.info.state.as_deref() {
        // A function Lambda could not set up: its name says so.
        Some("Failed") => {
            Cell::from(format!("{name} (failed)")).style(Style::new().fg(theme.error))
        }
        Some("Pending") => Cell::from(format!("{name} (pending)")),
        _ => Cell::from(name.clone()),
    };
    let cells = vec![
        Cell::from(if marked { "●" } else { " " }),
        name_cell,
        Cell::from(row.image.clone()),
        Cell::from(format!("{} MB", row.info.memory)),
        Cell::from(format!("{}s", row.info.timeout)),
        num(|s| s.warm.map(|w| w.to_string())),
        num(|s| Some(units::count(s.invocations))),
        errors,
        num(|s| s.p50_ms.map(units::millis)),
        num(|s| s.p95_ms.map(units::millis)),
        num(|s| s.cache_hit.map(units::percent)),
    ];
    let mut style = Style::new();
    if marked {
        style = style.fg(theme.mark);
    }
    if selected {
        style = style.bg(theme.selected_bg);
    }
    (cells, style)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::state::FunctionStats;
    use crate::views::testing::{self, has, line_with, render, style_at};

    fn draw_at(state: &State, w: u16, h: u16) -> ratatui::buffer::Buffer {
        render(w, h, |f, a| draw(f, a, state))
    }

    #[test]
    fn loading_then_empty_then_error() {
        let mut s = testing::state();
        s.functions.loading = true;
        assert!(has(&draw_at(&s, 120, 10), "loading…"));

        s.functions.receive(Ok(vec![]), testing::NOW);
        let b = draw_at(&s, 120, 10);
        assert!(
            has(&b, "no functions yet: press n to create one, or :demo"),
            "{}",
            testing::text(&b)
        );

        let mut s = testing::state();
        s.functions.receive(
            Err("ListFunctions failed: connection refused".into()),
            testing::NOW,
        );
        let b = draw_at(&s, 120, 10);
        assert!(has(&b, "ListFunctions failed: connection refused"));
        assert_eq!(
            style_at(&b, "ListFunctions").fg,
            Some(s.settings.theme.error)
        );
    }

    #[test]
    fn rows_show_figures_or_dashes_and_the_selection() {
        let mut s = testing::with_functions(&["alpha", "beta"]);
        s.stats.insert(
            "alpha".into(),
            FunctionStats {
                warm: Some(3),
                invocations: 1234,
                errors: 2,
                throttles: 0,
                p50_ms: Some(12.5),
                p95_ms: Some(250.0),
                cache_hit: Some(0.85),
            },
        );
        s.functions_cursor.selected = 1;
        s.marked_functions.insert("alpha".into());
        let b = draw_at(&s, 140, 10);
        let alpha = line_with(&b, "alpha").unwrap_or_default();
        for want in [
            "●",
            "alpine:3.19",
            "512 MB",
            "300s",
            "1,234",
            "12.5 ms",
            "250 ms",
            "85%",
        ] {
            assert!(alpha.contains(want), "{want:?} missing in {alpha:?}");
        }
        assert_eq!(style_at(&b, "alpha").fg, Some(s.settings.theme.mark));
        let (x, _) = testing::find(&b, "ERRORS").unwrap_or_default();
        let (_, y) = testing::find(&b, "alpha").unwrap_or_default();
        assert_eq!(b[(x, y)].symbol(), "2");
        assert_eq!(
            b[(x, y)].style().fg,
            Some(s.settings.theme.error),
            "errors in red"
        );
        // No stats for beta: dashes, and it is the selected row.
        let beta = line_with(&b, "beta").unwrap_or_default();
        assert!(beta.contains(" - "), "{beta:?}");
        assert_eq!(style_at(&b, "beta").bg, Some(s.settings.theme.selected_bg));
        assert_ne!(style_at(&b, "alpha").bg, Some(s.settings.theme.selected_bg));
        assert!(has(&b, "1 Functions"));
    }

    #[test]
    fn scrolls_to_keep_the_selection_visible() {
        let names: Vec<String> = (0..50).map(|i| format!("fn-{i:02}")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut s = testing::with_functions(&refs);
        s.functions_cursor.selected = 40;
        // The cursor's offset is stale: the view must not trust it.
        s.functions_cursor.offset = 0;
        let b = draw_at(&s, 120, 10);
        assert!(has(&b, "fn-40"), "{}", testing::text(&b));
        assert!(!has(&b, "fn-00"));
        assert_eq!(style_at(&b, "fn-40").bg, Some(s.settings.theme.selected_bg));
    }

    #[test]
    fn stale_data_keeps_its_rows_and_says_so() {
        let mut s = testing::with_functions(&["alpha"]);
        s.now_ms = testing::NOW + 120_000;
        s.functions.receive(Err("throttled".into()), s.now_ms);
        let b = draw_at(&s, 120, 10);
        assert!(has(&b, "alpha"));
        assert!(has(&b, "stale 2m — throttled"), "{}", testing::text(&b));
    }

    #[test]
    fn a_filter_without_matches_says_so() {
        let mut s = testing::with_functions(&["alpha"]);
        s.filters.insert(Pane::Functions, "zzz".into());
        let b = draw_at(&s, 120, 10);
        assert!(has(&b, "no function matches /zzz"));
        assert!(has(&b, "(0/1)"));
    }
}
