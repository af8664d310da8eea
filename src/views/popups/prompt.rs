//! The one-line prompt: what it asks (by kind), the answer being typed
//! with its cursor, why the last answer was refused (in red), and the
//! path completions on offer.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::console::state::{Prompt, PromptKind, State};

use crate::views::edit;

/// Completions listed at most; the rest are counted.
const MAX_COMPLETIONS: usize = 8;

/// The prompt's title.
fn title(kind: &PromptKind) -> String {
    match kind {
        PromptKind::Preheat { function } => format!("Preheat N environments of {function}"),
        PromptKind::Upload { function } => format!("Upload to {function}'s input (tab completes)"),
        PromptKind::InitFile => "Deploy a definition file".to_owned(),
    }
}

/// Draws `prompt` over `area`.
pub fn draw(frame: &mut Frame, area: Rect, state: &State, prompt: &Prompt) {
    let theme = &state.settings.theme;
    let dim = Style::new().fg(theme.dim);
    let width = area.width.saturating_sub(4).clamp(20, 80);
    let field = usize::from(width).saturating_sub(4);
    let mut lines = Vec::new();
    let mut edit_line = vec![Span::styled("> ", Style::new().fg(theme.focus))];
    edit_line.extend(edit::spans(&prompt.edit, field, Style::new(), true));
    lines.push(Line::from(edit_line));
    if let Some(e) = &prompt.error {
        lines.push(Line::styled(e.clone(), Style::new().fg(theme.error)));
    }
    let n = prompt.completions.len();
    for c in prompt.completions.iter().take(MAX_COMPLETIONS) {
        lines.push(Line::styled(format!("  {c}"), dim));
    }
    if n > MAX_COMPLETIONS {
        lines.push(Line::styled(
            format!("  … {} more", n - MAX_COMPLETIONS),
            dim,
        ));
    }
    let rect = super::centred(area, width, lines.len() as u16 + 2);
    let inner = super::frame_popup(
        frame,
        rect,
        state,
        &title(&prompt.kind),
        "enter ok · esc cancel",
    );
    frame.render_widget(Paragraph::new(lines), inner);
}

#[cfg(test)]
mod tests {
    use ratatui::style::Modifier;

    use crate::console::state::{LineEdit, Mode, Prompt, PromptKind};
    use crate::views::testing::{self, has, render, style_at};

    fn shown(
        kind: PromptKind,
        error: Option<&str>,
        completions: &[&str],
    ) -> (crate::console::state::State, ratatui::buffer::Buffer) {
        let mut s = testing::with_functions(&["demo"]);
        s.mode = Mode::Prompt(Prompt {
            kind,
            edit: LineEdit::with("./da"),
            error: error.map(str::to_owned),
            completions: completions.iter().map(|c| (*c).to_owned()).collect(),
        });
        let b = render(100, 30, |f, _| crate::views::draw(f, &s));
        (s, b)
    }

    #[test]
    fn titles_by_kind() {
        let (_, b) = shown(
            PromptKind::Preheat {
                function: "demo".into(),
            },
            None,
            &[],
        );
        assert!(
            has(&b, "Preheat N environments of demo"),
            "{}",
            testing::text(&b)
        );
        let (_, b) = shown(
            PromptKind::Upload {
                function: "demo".into(),
            },
            None,
            &[],
        );
        assert!(has(&b, "Upload to demo's input (tab completes)"));
        let (_, b) = shown(PromptKind::InitFile, None, &[]);
        assert!(has(&b, "Deploy a definition file"));
    }

    #[test]
    fn the_answer_its_error_and_completions() {
        let many: Vec<String> = (0..12).map(|i| format!("./data/{i:02}.txt")).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        let (s, b) = shown(
            PromptKind::Upload {
                function: "demo".into(),
            },
            Some("./da: no such file or folder"),
            &refs,
        );
        let text = testing::text(&b);
        assert!(has(&b, "> ./da "), "{text}");
        // The cursor sits after the text.
        let (x, y) = testing::find(&b, "> ./da").unwrap_or_default();
        assert!(
            b[(x + 6, y)]
                .style()
                .add_modifier
                .contains(Modifier::REVERSED)
        );
        assert_eq!(
            style_at(&b, "./da: no such").fg,
            Some(s.settings.theme.error)
        );
        assert!(
            has(&b, "./data/00.txt") && has(&b, "./data/07.txt"),
            "{text}"
        );
        assert!(!has(&b, "./data/08.txt"));
        assert!(has(&b, "… 4 more"));
    }
}
