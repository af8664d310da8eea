//! A line being edited (command, filter, prompt, form field) as spans
//! with a visible cursor: the char under the cursor drawn reversed, and
//! the text shifted left when it is wider than its field, so that the
//! cursor never leaves the screen.

use ratatui::style::{Modifier, Style};
use ratatui::text::Span;

use crate::console::state::LineEdit;

/// The spans of `edit` in a field `width` cells wide. `cursor` false
/// draws the text without a cursor (an unfocused form field).
pub fn spans(edit: &LineEdit, width: usize, style: Style, cursor: bool) -> Vec<Span<'static>> {
    let chars: Vec<char> = edit.text.chars().collect();
    let at = edit.cursor.min(chars.len());
    let width = width.max(1);
    // The cursor takes a cell of its own at the end of the text.
    let start = if cursor && at >= width {
        at + 1 - width
    } else {
        0
    };
    let end = chars.len().min(start + width);
    if !cursor {
        return vec![Span::styled(
            chars[start..end].iter().collect::<String>(),
            style,
        )];
    }
    let before: String = chars[start..at].iter().collect();
    let under = chars
        .get(at)
        .map_or_else(|| " ".to_owned(), char::to_string);
    let after: String = chars[(at + 1).min(end)..end].iter().collect();
    vec![
        Span::styled(before, style),
        Span::styled(under, style.add_modifier(Modifier::REVERSED)),
        Span::styled(after, style),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(spans: &[Span]) -> Vec<String> {
        spans.iter().map(|s| s.content.to_string()).collect()
    }

    #[test]
    fn cursor_is_reversed_and_kept_in_view() {
        let e = LineEdit {
            text: "hello".into(),
            cursor: 1,
        };
        let s = spans(&e, 20, Style::new(), true);
        assert_eq!(text(&s), vec!["h", "e", "llo"]);
        assert!(s[1].style.add_modifier.contains(Modifier::REVERSED));
        // At the end, the cursor is a reversed blank.
        let s = spans(&LineEdit::with("hello"), 20, Style::new(), true);
        assert_eq!(text(&s), vec!["hello", " ", ""]);
        // Wider than the field: the head scrolls out, the cursor stays.
        let s = spans(&LineEdit::with("abcdefghij"), 4, Style::new(), true);
        assert_eq!(text(&s), vec!["hij", " ", ""]);
        let s = spans(&LineEdit::with("abcdefghij"), 4, Style::new(), false);
        assert_eq!(text(&s), vec!["abcd"]);
    }
}
