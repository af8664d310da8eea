//! The yes/no question before an action that deletes or launches many
//! invocations: what `y` would do, named in full.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::console::state::{Confirm, ConfirmKind, State};

use crate::views::units;

/// The question.
fn question(kind: &ConfirmKind) -> String {
    match kind {
        ConfirmKind::Demo => "No functions yet. Create the demo function (a busybox image built offline, the paper's Figure 3 script shape) and process 5 sample files?".to_owned(),
        ConfirmKind::Delete(names) if names.len() == 1 => {
            format!(
                "Delete function {} (its trigger and log group too)?",
                names[0]
            )
        }
        ConfirmKind::Delete(names) => format!(
            "Delete functions {} (triggers and log groups too)?",
            names.join(", ")
        ),
        ConfirmKind::BatchRun {
            function,
            inputs: Some(1),
        } => format!("Run {function} over 1 input object?"),
        ConfirmKind::BatchRun {
            function,
            inputs: Some(n),
        } => format!(
            "Run {function} over {} input objects?",
            units::count(*n as u64)
        ),
        ConfirmKind::BatchRun {
            function,
            inputs: None,
        } => format!("Run {function} over every input object?"),
    }
}

/// Draws `confirm` over `area`.
pub fn draw(frame: &mut Frame, area: Rect, state: &State, confirm: &Confirm) {
    let theme = &state.settings.theme;
    let q = question(&confirm.kind);
    let yn = Style::new().fg(theme.focus).add_modifier(Modifier::BOLD);
    let line = Line::from(vec![Span::raw(format!("{q} ")), Span::styled("y/n", yn)]);
    let width = area.width.saturating_sub(4).clamp(20, 72);
    let text_width = usize::from(width.saturating_sub(2)).max(1);
    let rows = (line.width().div_ceil(text_width)).max(1) as u16;
    // Wrapping by words can take a row more than the division says.
    let rows = if rows > 1 { rows + 1 } else { rows };
    let rect = super::centred(area, width, rows + 2);
    let title = match confirm.kind {
        ConfirmKind::Demo => "Welcome to scar-tui",
        ConfirmKind::Delete(_) => "Delete",
        ConfirmKind::BatchRun { .. } => "Batch run",
    };
    let inner = super::frame_popup(frame, rect, state, title, "y yes · n no");
    frame.render_widget(Paragraph::new(line).wrap(Wrap { trim: true }), inner);
}

#[cfg(test)]
mod tests {
    use crate::console::state::{Confirm, ConfirmKind, Mode};
    use crate::views::testing::{self, has, render};

    fn shown(kind: ConfirmKind) -> ratatui::buffer::Buffer {
        let mut s = testing::with_functions(&["a", "b"]);
        s.mode = Mode::Confirm(Confirm { kind });
        render(120, 30, |f, _| crate::views::draw(f, &s))
    }

    #[test]
    fn questions_name_what_y_does() {
        let b = shown(ConfirmKind::Delete(vec!["a".into(), "b".into()]));
        assert!(
            has(
                &b,
                "Delete functions a, b (triggers and log groups too)? y/n"
            ),
            "{}",
            testing::text(&b)
        );
        let b = shown(ConfirmKind::BatchRun {
            function: "demo".into(),
            inputs: Some(1500),
        });
        assert!(
            has(&b, "Run demo over 1,500 input objects? y/n"),
            "{}",
            testing::text(&b)
        );
        let b = shown(ConfirmKind::BatchRun {
            function: "demo".into(),
            inputs: None,
        });
        assert!(has(&b, "Run demo over every input object? y/n"));
        let b = shown(ConfirmKind::Demo);
        let text = testing::text(&b);
        assert!(has(&b, "Welcome to scar-tui"), "{text}");
        assert!(has(&b, "Create the demo function"), "{text}");
        assert!(has(&b, "files? y/n"), "{text}");
    }
}
