//! The overlays drawn over the panes by mode: help, the one-line prompt,
//! the yes/no confirmation and the new-function form. Each clears what
//! is under it first (ratatui's `Clear`), so pane text never shows
//! through.

mod confirm;
mod form;
mod help;
mod prompt;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear};

use crate::console::state::{Mode, State};

/// Draws the overlay of `state.mode`, if it has one, over `area`.
pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    match &state.mode {
        Mode::Help => help::draw(frame, area, state),
        Mode::Prompt(p) => prompt::draw(frame, area, state, p),
        Mode::Confirm(c) => confirm::draw(frame, area, state, c),
        Mode::Form(f) => form::draw(frame, area, state, f),
        Mode::Normal | Mode::Command(_) | Mode::Filter(_) => {}
    }
}

/// A `width` x `height` box centred in `area` (shrunk to fit).
fn centred(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// Clears `rect` and draws a popup frame titled `title` with `footer`
/// under it; returns the area inside.
fn frame_popup(frame: &mut Frame, rect: Rect, state: &State, title: &str, footer: &str) -> Rect {
    let theme = &state.settings.theme;
    let focus = Style::new().fg(theme.focus);
    let mut block = Block::bordered().border_style(focus).title(Line::styled(
        format!(" {title} "),
        focus.add_modifier(Modifier::BOLD),
    ));
    if !footer.is_empty() {
        block = block.title_bottom(
            Line::styled(format!(" {footer} "), Style::new().fg(theme.dim)).right_aligned(),
        );
    }
    let inner = block.inner(rect);
    frame.render_widget(Clear, rect);
    frame.render_widget(block, rect);
    inner
}
