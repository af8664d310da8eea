//! The status line at the bottom: the `:` command or `/` filter being
//! typed (with its cursor), the keys of the open popup, or the last
//! status message with its age (red for an error), and on the right the
//! keys that open help, command mode and quit.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::console::action::Action;
use crate::console::state::{LineEdit, Mode, PromptKind, State};

use super::{edit, units};

/// Draws the status line in `area` (one line).
pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.settings.theme;
    let dim = Style::new().fg(theme.dim);
    let key = |a: Action, default: &str| {
        state
            .settings
            .keys
            .keys_of(a)
            .into_iter()
            .next()
            .unwrap_or_else(|| default.to_owned())
    };
    let line_edit = |sigil: &str, e: &LineEdit, hint: &str| {
        let width = usize::from(area.width).saturating_sub(sigil.len() + hint.len() + 3);
        let mut spans = vec![Span::styled(sigil.to_owned(), Style::new().fg(theme.focus))];
        spans.extend(edit::spans(e, width, Style::new(), true));
        (spans, hint.to_owned())
    };
    let (left, right): (Vec<Span>, String) = match &state.mode {
        Mode::Command(e) => line_edit(":", e, "enter run · esc cancel"),
        Mode::Filter(e) => line_edit("/", e, "enter apply · esc clear"),
        Mode::Prompt(p) => {
            let tab = matches!(p.kind, PromptKind::Upload { .. } | PromptKind::InitFile);
            let hint = if tab {
                "enter confirm · tab completes · esc cancel"
            } else {
                "enter confirm · esc cancel"
            };
            (Vec::new(), hint.to_owned())
        }
        Mode::Confirm(_) => (Vec::new(), "y yes · n or esc no".to_owned()),
        Mode::Form(_) => (
            Vec::new(),
            "tab next field · enter deploy · esc cancel".to_owned(),
        ),
        Mode::Help => (
            Vec::new(),
            format!("{} or esc close help", key(Action::Help, "?")),
        ),
        Mode::Normal => {
            let hint = format!(
                "{} help  {} command  {} quit",
                key(Action::Help, "?"),
                key(Action::Command, ":"),
                key(Action::Quit, "q")
            );
            match &state.status {
                Some(st) => {
                    let style = if st.error {
                        Style::new().fg(theme.error)
                    } else {
                        Style::new()
                    };
                    let spans = vec![
                        Span::styled(st.text.clone(), style),
                        Span::styled(format!(" · {}", units::age(state.now_ms, st.at_ms)), dim),
                    ];
                    (spans, hint)
                }
                None => (vec![Span::styled(hint, dim)], String::new()),
            }
        }
    };
    let right = Line::styled(format!("{right} "), dim).right_aligned();
    let want = u16::try_from(right.width()).unwrap_or(u16::MAX);
    let [l, r] = Layout::horizontal([
        Constraint::Fill(1),
        Constraint::Length(want.min(area.width / 2)),
    ])
    .areas(area);
    let mut left = left;
    left.insert(0, Span::raw(" "));
    frame.render_widget(Line::from(left), l);
    frame.render_widget(right, r);
}

#[cfg(test)]
mod tests {
    use ratatui::style::Modifier;

    use super::*;
    use crate::console::state::Status;
    use crate::views::testing::{self, NOW, has, render, style_at};

    fn draw_at(s: &State) -> ratatui::buffer::Buffer {
        render(100, 1, |f, a| draw(f, a, s))
    }

    #[test]
    fn default_hint_then_status_with_its_age() {
        let mut s = testing::state();
        assert!(has(&draw_at(&s), "? help  : command  q quit"));
        s.status = Some(Status {
            text: "deploy failed: image not found".into(),
            error: true,
            at_ms: NOW - 5_000,
        });
        let b = draw_at(&s);
        assert!(
            has(&b, "deploy failed: image not found · 5s"),
            "{}",
            testing::text(&b)
        );
        assert_eq!(
            style_at(&b, "deploy failed").fg,
            Some(s.settings.theme.error)
        );
        s.status = Some(Status {
            text: "deployed demo".into(),
            error: false,
            at_ms: NOW,
        });
        let b = draw_at(&s);
        assert_ne!(style_at(&b, "deployed").fg, Some(s.settings.theme.error));
    }

    #[test]
    fn command_and_filter_lines_show_their_cursor() {
        let mut s = testing::state();
        s.mode = Mode::Command(LineEdit {
            text: "deploy".into(),
            cursor: 2,
        });
        let b = draw_at(&s);
        assert!(has(&b, " :deploy"), "{}", testing::text(&b));
        assert!(has(&b, "enter run · esc cancel"));
        assert!(
            style_at(&b, "ploy")
                .add_modifier
                .contains(Modifier::REVERSED)
        );
        assert!(
            !style_at(&b, "eploy")
                .add_modifier
                .contains(Modifier::REVERSED)
        );
        s.mode = Mode::Filter(LineEdit::with("err"));
        let b = draw_at(&s);
        assert!(has(&b, " /err "), "{}", testing::text(&b));
    }
}
