//! The help overlay for the focused pane: the keys of every action that
//! works there, grouped (global, the pane's own, actions), read from the
//! key map in force so that a user's remapping shows. The groups flow
//! into as many columns as the screen needs.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::console::action::Action;
use crate::console::state::{Pane, State};

const GLOBAL: &[Action] = &[
    Action::Help,
    Action::Command,
    Action::Filter,
    Action::FocusFunctions,
    Action::FocusObjects,
    Action::FocusLogs,
    Action::FocusInvocations,
    Action::FocusMetrics,
    Action::NextPane,
    Action::PrevPane,
    Action::Expand,
    Action::Refresh,
    Action::Back,
    Action::Quit,
];

const MOVES: &[Action] = &[
    Action::Up,
    Action::Down,
    Action::PageUp,
    Action::PageDown,
    Action::Top,
    Action::Bottom,
];

/// The pane's own keys beyond moving, and its actions.
fn of_pane(pane: Pane) -> (&'static [Action], &'static [Action]) {
    match pane {
        Pane::Functions => (
            &[Action::Open, Action::Mark],
            &[
                Action::New,
                Action::Preheat,
                Action::Upload,
                Action::Run,
                Action::Invoke,
                Action::Delete,
            ],
        ),
        Pane::Objects => (
            &[Action::SwitchSide, Action::Mark, Action::Open],
            &[Action::Upload, Action::Invoke, Action::Run],
        ),
        Pane::Logs => (&[Action::Follow, Action::Wrap, Action::Timestamps], &[]),
        Pane::Invocations => (&[Action::Open], &[]),
        Pane::Metrics => (&[], &[]),
    }
}

/// Draws the help overlay over `area`.
pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.settings.theme;
    let head = Style::new().fg(theme.header).add_modifier(Modifier::BOLD);
    let key_style = Style::new().fg(theme.focus);
    let pane = state.focus;
    let (own, actions) = of_pane(pane);
    let moves: &[Action] = if pane == Pane::Metrics { &[] } else { MOVES };

    let mut groups: Vec<(String, Vec<Action>)> = vec![("global".to_owned(), GLOBAL.to_vec())];
    let mut pane_keys = moves.to_vec();
    pane_keys.extend_from_slice(own);
    groups.push((format!("{} {}", pane.number(), pane.title()), pane_keys));
    if !actions.is_empty() {
        groups.push(("actions".to_owned(), actions.to_vec()));
    }

    let mut items: Vec<Item> = Vec::new();
    for (title, acts) in &groups {
        if !items.is_empty() {
            items.push(Item::Blank);
        }
        items.push(Item::Head(title.clone()));
        let before = items.len();
        for a in acts {
            let keys = state.settings.keys.keys_of(*a);
            if !keys.is_empty() {
                items.push(Item::Keys(keys.join(" "), a.describe()));
            }
        }
        if items.len() == before {
            items.push(Item::Note("no keys of its own"));
        }
    }
    if pane == Pane::Metrics {
        items.push(Item::Blank);
        items.push(Item::Note("charts of the selected function"));
    }

    // One column if it fits, else as many as needed side by side.
    let rows_free = area.height.saturating_sub(4).max(1);
    let columns = (items.len() as u16).div_ceil(rows_free).max(1);
    let per_column = items.len().div_ceil(usize::from(columns)).max(1);
    let chunks: Vec<&[Item]> = items.chunks(per_column).collect();
    let widths: Vec<usize> = chunks.iter().map(|c| column_width(c)).collect();
    let width = widths.iter().sum::<usize>() + 2 + 2 * (widths.len().saturating_sub(1));
    let width = u16::try_from(width).unwrap_or(u16::MAX);
    let rect = super::centred(area, width, per_column as u16 + 2);
    let title = format!("Help — {} {}", pane.number(), pane.title());
    let inner = super::frame_popup(frame, rect, state, &title, "esc close");
    let cols = Layout::horizontal(widths.iter().map(|w| Constraint::Fill(*w as u16)))
        .spacing(2)
        .split(inner);
    for (chunk, col) in chunks.iter().zip(cols.iter()) {
        let key_width = chunk
            .iter()
            .map(|i| match i {
                Item::Keys(k, _) => k.chars().count(),
                _ => 0,
            })
            .max()
            .unwrap_or(0);
        let lines: Vec<Line> = chunk
            .iter()
            .map(|i| match i {
                Item::Head(t) => Line::styled(t.clone(), head),
                Item::Keys(k, what) => Line::from(vec![
                    Span::styled(format!("{k:<key_width$}  "), key_style),
                    Span::raw(*what),
                ]),
                Item::Note(t) => Line::styled(*t, Style::new().fg(theme.dim)),
                Item::Blank => Line::raw(""),
            })
            .collect();
        frame.render_widget(Paragraph::new(lines), *col);
    }
}

/// One line of the overlay.
enum Item {
    /// A group's title.
    Head(String),
    /// An action's keys and what it does.
    Keys(String, &'static str),
    /// A remark.
    Note(&'static str),
    /// Space between groups.
    Blank,
}

/// Cells a column of `items` needs.
fn column_width(items: &[Item]) -> usize {
    let keys = items
        .iter()
        .map(|i| match i {
            Item::Keys(k, _) => k.chars().count(),
            _ => 0,
        })
        .max()
        .unwrap_or(0);
    items
        .iter()
        .map(|i| match i {
            Item::Head(t) => t.chars().count(),
            Item::Keys(_, what) => keys + 2 + what.chars().count(),
            Item::Note(t) => t.chars().count(),
            Item::Blank => 0,
        })
        .max()
        .unwrap_or(1)
}
