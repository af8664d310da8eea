//! The console's views: pure functions from the [`State`] to a frame. No
//! I/O, no clock (ages come from `state.now_ms`), no mutation: keys map
//! to actions and `app/` applies them. [`draw`] lays out the header, the
//! panes (one file each), the status line and the overlay of the mode.

mod edit;
mod functions;
mod header;
mod invocations;
mod layout;
mod logs;
mod metrics;
mod objects;
mod pane;
mod popups;
mod status;
mod table;
mod units;

#[cfg(test)]
mod testing;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use crate::console::state::{Pane, State};

/// Narrowest terminal the console draws in (columns).
pub const MIN_WIDTH: u16 = 60;

/// Shortest terminal the console draws in (rows).
pub const MIN_HEIGHT: u16 = 16;

/// Draws the whole console for `state`.
pub fn draw(frame: &mut Frame, state: &State) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        too_small(frame, area, state);
        return;
    }
    let [head, body, foot] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(area);
    header::draw(frame, head, state);
    for (pane, rect) in layout::arrange(body, state.focus, state.expanded) {
        draw_pane(frame, rect, state, pane);
    }
    status::draw(frame, foot, state);
    popups::draw(frame, area, state);
}

/// Draws one pane in `area`.
fn draw_pane(frame: &mut Frame, area: Rect, state: &State, pane: Pane) {
    match pane {
        Pane::Functions => functions::draw(frame, area, state),
        Pane::Objects => objects::draw(frame, area, state),
        Pane::Logs => logs::draw(frame, area, state),
        Pane::Invocations => invocations::draw(frame, area, state),
        Pane::Metrics => metrics::draw(frame, area, state),
    }
}

/// A clear message instead of a layout that cannot fit.
fn too_small(frame: &mut Frame, area: Rect, state: &State) {
    let text = format!(
        "terminal too small: {}x{}, scar-tui needs at least {MIN_WIDTH}x{MIN_HEIGHT} — enlarge the window",
        area.width, area.height
    );
    let style = Style::new().fg(state.settings.theme.warn);
    let line = Line::styled(text, style).centered();
    // Word wrapping may take a row more than the plain division says.
    let rows = u16::try_from(line.width().div_ceil(usize::from(area.width.max(1))) + 1)
        .unwrap_or(area.height);
    let p = Paragraph::new(line).wrap(Wrap { trim: true });
    let [_, middle, _] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(rows.min(area.height)),
        Constraint::Fill(1),
    ])
    .areas(area);
    frame.render_widget(p, middle);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::action::Action;
    use crate::console::keys::KeyMap;
    use crate::console::state::Mode;
    use crate::views::testing::{self, NOW, has, render};

    fn whole(s: &State, w: u16, h: u16) -> ratatui::buffer::Buffer {
        render(w, h, |f, _| draw(f, s))
    }

    fn titles(b: &ratatui::buffer::Buffer) -> Vec<&'static str> {
        Pane::ALL
            .iter()
            .filter(|p| has(b, &format!("{} {}", p.number(), p.title())))
            .map(|p| p.title())
            .collect()
    }

    #[test]
    fn too_small_draws_only_a_message() {
        let s = testing::with_functions(&["demo"]);
        let b = whole(&s, 52, 12);
        let text = testing::text(&b);
        assert!(text.contains("terminal too small: 52x12"), "{text}");
        assert!(text.contains("needs at least"), "{text}");
        assert!(text.contains("60x16 — enlarge the window"), "{text}");
        assert!(titles(&b).is_empty(), "no pane is drawn:\n{text}");
        // Just large enough: panes again.
        assert!(!titles(&whole(&s, MIN_WIDTH, MIN_HEIGHT)).is_empty());
    }

    #[test]
    fn wide_terminals_show_every_pane() {
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
        let b = whole(&s, 160, 48);
        assert_eq!(
            titles(&b),
            vec!["Functions", "Objects", "Logs", "Invocations", "Metrics"],
            "{}",
            testing::text(&b)
        );
        assert!(has(&b, "scar-tui local"));
        assert!(has(&b, "? help  : command  q quit"));
        // The focused pane's border is in the focus colour.
        let focus = s.settings.theme.focus;
        assert_eq!(testing::style_at(&b, "1 Functions").fg, Some(focus));
        assert_ne!(testing::style_at(&b, "3 Logs").fg, Some(focus));
    }

    #[test]
    fn narrow_terminals_keep_the_focused_pane() {
        let mut s = testing::with_functions(&["demo"]);
        for pane in Pane::ALL {
            s.focus = pane;
            let b = whole(&s, 80, 24);
            let shown = titles(&b);
            assert!(shown.contains(&pane.title()), "{pane:?} hidden: {shown:?}");
            assert!(shown.len() < 5, "{shown:?}");
        }
    }

    #[test]
    fn expanded_pane_fills_the_body() {
        let mut s = testing::with_functions(&["demo"]);
        s.focus = Pane::Invocations;
        s.expanded = true;
        let b = whole(&s, 160, 48);
        assert_eq!(titles(&b), vec!["Invocations"], "{}", testing::text(&b));
        let (_, y) = testing::find(&b, "4 Invocations").unwrap_or_default();
        assert_eq!(y, 1, "right under the header");
        let bottom = testing::lines(&b)[46].clone();
        assert!(bottom.starts_with('└'), "{bottom:?}");
    }

    #[test]
    fn help_lists_the_focused_panes_keys_as_mapped() {
        let mut s = testing::with_functions(&["demo"]);
        s.focus = Pane::Logs;
        s.mode = Mode::Help;
        s.settings.keys =
            KeyMap::with_overrides(&[(Action::Wrap, vec!["W".into()])]).unwrap_or_default();
        let b = whole(&s, 120, 40);
        let text = testing::text(&b);
        assert!(has(&b, "Help — 3 Logs"), "{text}");
        assert!(has(&b, "global") && has(&b, "3 Logs"), "{text}");
        let line = |needle: &str| testing::line_with(&b, needle).unwrap_or_default();
        assert!(line("follow the tail").contains("f "), "{text}");
        assert!(line("wrap lines").contains("W "), "the user's key:\n{text}");
        assert!(line("quit").contains("q "), "{text}");
        assert!(line("half page down").contains("ctrl-f"), "{text}");
        assert!(
            !has(&b, "new function"),
            "functions actions are not logs keys"
        );
        // The functions pane lists its actions.
        s.focus = Pane::Functions;
        let b = whole(&s, 120, 40);
        assert!(has(&b, "Help — 1 Functions") && has(&b, "actions"));
        assert!(
            testing::line_with(&b, "delete function")
                .unwrap_or_default()
                .contains("ctrl-d")
        );
        // Small screens flow the groups into columns, still all there.
        let b = whole(&s, MIN_WIDTH + 40, MIN_HEIGHT);
        assert!(
            has(&b, "quit") && has(&b, "delete function"),
            "{}",
            testing::text(&b)
        );
    }

    #[test]
    fn every_size_mode_and_focus_draws_without_panicking() {
        use crate::console::state::{
            Confirm, ConfirmKind, Form, FormField, LineEdit, Prompt, PromptKind,
        };
        let mut s = testing::with_functions(&["demo", "other"]);
        testing::invocation(
            &mut s,
            "r1",
            "in/a.txt",
            NOW - 5_000,
            40.0,
            true,
            "succeeded",
        );
        s.logs.lines.push(crate::console::state::LogEntry {
            timestamp: NOW,
            stream: "s".into(),
            message: "a line\twith a tab and é wide 字 chars".into(),
        });
        s.logs.wrap = true;
        s.logs.filter = Some("字".into());
        let modes = [
            Mode::Normal,
            Mode::Help,
            Mode::Command(LineEdit::with("q")),
            Mode::Filter(LineEdit::with("字")),
            Mode::Prompt(Prompt {
                kind: PromptKind::InitFile,
                edit: LineEdit::with("x"),
                error: Some("no".into()),
                completions: vec!["a".into()],
            }),
            Mode::Confirm(Confirm {
                kind: ConfirmKind::Delete(vec!["demo".into()]),
            }),
            Mode::Form(Form {
                fields: vec![FormField {
                    label: "name",
                    hint: "h",
                    edit: LineEdit::with("n"),
                    error: Some("e".into()),
                }],
                focus: 0,
                error: None,
            }),
        ];
        let sizes = [
            (1, 1),
            (59, 16),
            (60, 15),
            (60, 16),
            (61, 17),
            (139, 40),
            (140, 18),
            (220, 70),
        ];
        for (w, h) in sizes {
            for mode in &modes {
                for pane in Pane::ALL {
                    for expanded in [false, true] {
                        s.mode = mode.clone();
                        s.focus = pane;
                        s.expanded = expanded;
                        let b = whole(&s, w, h);
                        assert_eq!(b.area.width, w);
                    }
                }
            }
        }
    }
}
