//! The new-function form: one row per field (label, value, hint), the
//! focused field highlighted and holding the cursor, each field's error
//! under it in red, and the deploy's error at the bottom.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::console::state::{Form, State};

use crate::views::edit;

/// Draws `form` over `area`.
pub fn draw(frame: &mut Frame, area: Rect, state: &State, form: &Form) {
    let theme = &state.settings.theme;
    let dim = Style::new().fg(theme.dim);
    let err = Style::new().fg(theme.error);
    let width = area.width.saturating_sub(4).clamp(30, 96);
    let inner_width = usize::from(width.saturating_sub(2));
    let label_width = form
        .fields
        .iter()
        .map(|f| f.label.chars().count())
        .max()
        .unwrap_or(0);
    // Marker, label, two spaces: the rest is shared by value and hint.
    let rest = inner_width.saturating_sub(label_width + 4);
    let value_width = (rest * 3 / 5).max(8);
    let indent = " ".repeat(label_width + 4);

    let mut lines = Vec::new();
    for (i, f) in form.fields.iter().enumerate() {
        let focused = i == form.focus;
        let (marker, label_style, value_style) = if focused {
            let s = Style::new().fg(theme.focus).add_modifier(Modifier::BOLD);
            ("› ", s, Style::new().bg(theme.selected_bg))
        } else {
            ("  ", Style::new().fg(theme.header), Style::new())
        };
        let mut spans = vec![
            Span::styled(marker, label_style),
            Span::styled(format!("{:<label_width$}  ", f.label), label_style),
        ];
        let value = edit::spans(&f.edit, value_width, value_style, focused);
        let used: usize = value.iter().map(Span::width).sum();
        spans.extend(value);
        // Pad the value to its column so that hints line up.
        spans.push(Span::styled(
            " ".repeat(value_width.saturating_sub(used)),
            value_style,
        ));
        spans.push(Span::styled(format!("  {}", f.hint), dim));
        lines.push(Line::from(spans));
        if let Some(e) = &f.error {
            lines.push(Line::styled(format!("{indent}⚠ {e}"), err));
        }
    }
    if let Some(e) = &form.error {
        lines.push(Line::raw(""));
        lines.push(Line::styled(format!("⚠ {e}"), err));
    }
    let rect = super::centred(area, width, lines.len() as u16 + 2);
    let inner = super::frame_popup(
        frame,
        rect,
        state,
        "New function",
        "tab next field · enter deploy · esc cancel",
    );
    frame.render_widget(Paragraph::new(lines), inner);
}

#[cfg(test)]
mod tests {
    use ratatui::style::Modifier;

    use crate::console::state::{Form, FormField, LineEdit, Mode};
    use crate::views::testing::{self, has, line_with, render, style_at};

    fn field(label: &'static str, hint: &'static str, value: &str) -> FormField {
        FormField {
            label,
            hint,
            edit: LineEdit::with(value),
            error: None,
        }
    }

    #[test]
    fn fields_focus_errors_and_footer() {
        let mut s = testing::with_functions(&["demo"]);
        let mut fields = vec![
            field("name", "letters, digits, - and _", "my fn"),
            field("image", "registry image or archive", "alpine:3.19"),
            field("memory", "MB, 128 to 10240", "64"),
        ];
        fields[0].error = Some("a name holds letters, digits, - and _ only".into());
        s.mode = Mode::Form(Form {
            fields,
            focus: 1,
            error: Some("CreateFunction failed: role not found".into()),
        });
        let b = render(110, 30, |f, _| crate::views::draw(f, &s));
        let text = testing::text(&b);
        assert!(has(&b, "New function"), "{text}");
        assert!(
            has(&b, "tab next field · enter deploy · esc cancel"),
            "{text}"
        );
        let name = line_with(&b, "name").unwrap_or_default();
        assert!(
            name.contains("my fn") && name.contains("letters, digits, - and _"),
            "{name:?}"
        );
        assert!(
            has(&b, "⚠ a name holds letters, digits, - and _ only"),
            "{text}"
        );
        assert_eq!(style_at(&b, "⚠ a name").fg, Some(s.settings.theme.error));
        assert!(has(&b, "⚠ CreateFunction failed: role not found"));
        // The focused field: marker, label in the focus colour, a cursor.
        assert!(has(&b, "› image"), "{text}");
        assert_eq!(style_at(&b, "image").fg, Some(s.settings.theme.focus));
        assert_ne!(style_at(&b, "memory").fg, Some(s.settings.theme.focus));
        // (The functions pane behind shows the image too: look in the form.)
        let (x, y) = testing::find(&b, "› image").unwrap_or_default();
        let row: String = (x..b.area.width).map(|x| b[(x, y)].symbol()).collect();
        let byte = row.find("alpine:3.19").unwrap_or(0);
        let at = x + row[..byte].chars().count() as u16;
        assert!(
            b[(at + 11, y)]
                .style()
                .add_modifier
                .contains(Modifier::REVERSED)
        );
        assert!(
            !b[(at + 10, y)]
                .style()
                .add_modifier
                .contains(Modifier::REVERSED)
        );
        let (x, y) = testing::find(&b, "my fn").unwrap_or_default();
        assert!(
            !b[(x + 5, y)]
                .style()
                .add_modifier
                .contains(Modifier::REVERSED)
        );
    }
}
