//! Pane 3, the logs: the live tail of the selected function, or one
//! request's lines. Follows the newest line, scrolls, wraps, shows
//! timestamps and a short stream id, keeps only the lines holding the
//! filter and highlights every match.
//!
//! The ring holds up to 100,000 lines and a frame must stay far below
//! 5 ms, so this pane only ever touches the lines it draws: it walks back
//! from the bottom (or from the scroll position) until the screen is
//! full, and formats nothing else. See `window` for the walk.

use std::borrow::Cow;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::console::ring::Ring;
use crate::console::state::{LogEntry, LogSource, Pane, State};

use super::{pane, units};

/// The lines shown: the live ring or one request's lines.
#[derive(Clone, Copy)]
enum Lines<'a> {
    Ring(&'a Ring<LogEntry>),
    /// The lines of the ring that hold the filter, by sequence number (kept
    /// by `update`): a rare filter costs the visible lines, not a scan.
    Matches(&'a Ring<LogEntry>, &'a std::collections::VecDeque<u64>),
    Slice(&'a [LogEntry]),
}

impl<'a> Lines<'a> {
    fn len(self) -> usize {
        match self {
            Lines::Ring(r) => r.len(),
            Lines::Matches(_, m) => m.len(),
            Lines::Slice(s) => s.len(),
        }
    }

    fn get(self, i: usize) -> Option<&'a LogEntry> {
        match self {
            Lines::Ring(r) => r.get(i),
            Lines::Matches(r, m) => m.get(i).and_then(|seq| r.by_seq(*seq)),
            Lines::Slice(s) => s.get(i),
        }
    }
}

/// Draws the logs pane in `area`.
pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.settings.theme;
    let logs = &state.logs;
    let dim = Style::new().fg(theme.dim);
    let err = Style::new().fg(theme.error);
    let warn = Style::new().fg(theme.warn);

    let mut left = Vec::new();
    let mut right = Vec::new();
    match &logs.source {
        LogSource::None => {}
        LogSource::Function(f) => left.push(pane::badge(
            format!("{f} (live)"),
            Style::new().fg(theme.header),
        )),
        LogSource::Request {
            function,
            request_id,
        } => left.push(pane::badge(
            format!("request {} of {function}", units::short(request_id, 8)),
            Style::new().fg(theme.header),
        )),
    }
    let mut flags = Vec::new();
    if logs.follow {
        flags.push("FOLLOW".to_owned());
    } else if logs.scroll > 0 {
        flags.push(format!("↑{}", logs.scroll));
    }
    if logs.wrap {
        flags.push("WRAP".to_owned());
    }
    if logs.timestamps {
        flags.push("TS".to_owned());
    }
    if !flags.is_empty() {
        left.push(pane::badge(flags.join(" "), Style::new().fg(theme.focus)));
    }
    let filter = logs.filter.as_deref().filter(|f| !f.is_empty());
    if let Some(f) = filter {
        left.push(pane::badge(
            format!("/{f}"),
            Style::new().fg(theme.highlight),
        ));
    }

    // What to draw, or the message drawn instead.
    let (lines, placeholder) = match &logs.source {
        LogSource::None => (None, Some(("no function selected".to_owned(), dim))),
        LogSource::Function(_) => {
            let lines = match (&logs.matches, filter) {
                (Some(ix), Some(f)) if ix.filter == f => Lines::Matches(&logs.lines, &ix.seqs),
                _ => Lines::Ring(&logs.lines),
            };
            if logs.lines.evicted() > 0 {
                right.push(pane::badge(
                    format!("⚠ {} dropped", units::count(logs.lines.evicted())),
                    warn,
                ));
            }
            if logs.sampled > 0 {
                right.push(pane::badge(
                    format!("⚠ {} sampled", units::count(logs.sampled)),
                    warn,
                ));
            }
            let tail = &logs.tail;
            let placeholder = match (&tail.error, logs.lines.is_empty()) {
                (Some(e), true) => Some((e.clone(), err)),
                (Some(e), false) => {
                    let age = tail
                        .at_ms
                        .map_or_else(|| "?".to_owned(), |at| units::age(state.now_ms, at));
                    right.push(pane::badge(format!("stale {age} — {e}"), err));
                    None
                }
                (None, true) if tail.data.is_none() => Some(("loading…".to_owned(), dim)),
                (None, true) => Some(("no log lines yet".to_owned(), dim)),
                (None, false) => None,
            };
            (Some(lines), placeholder)
        }
        LogSource::Request { .. } => {
            right.extend(pane::stale(state, &logs.request));
            let lines = logs.request.data.as_deref().map(Lines::Slice);
            let placeholder = pane::placeholder(state, &logs.request, "no log lines yet");
            (lines, placeholder)
        }
    };

    let block = pane::block(state, Pane::Logs, left, right);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if let Some((text, style)) = placeholder {
        pane::message(frame, inner, &text, style);
        return;
    }
    let Some(lines) = lines else {
        return;
    };
    let shown = window(state, lines, filter, inner);
    if shown.is_empty() {
        let text = match filter {
            Some(f) => format!("no line matches /{f}"),
            None => "no log lines yet".to_owned(),
        };
        pane::message(frame, inner, &text, dim);
        return;
    }
    frame.render_widget(Paragraph::new(shown), inner);
}

/// The screen rows to draw: the newest lines that fit above the scroll
/// position, or, once the walk reaches the oldest line held, the oldest
/// lines from the top. Lines are visited newest first and only until the
/// screen is full; only those are formatted.
fn window(state: &State, lines: Lines, filter: Option<&str>, area: Rect) -> Vec<Line<'static>> {
    let height = usize::from(area.height);
    let width = usize::from(area.width);
    if height == 0 || width == 0 {
        return Vec::new();
    }
    let logs = &state.logs;
    let keep = |e: &LogEntry| filter.is_none_or(|f| e.message.contains(f));
    let mut back = (0..lines.len())
        .rev()
        .filter_map(|i| lines.get(i))
        .filter(|e| keep(e));
    let skip = if logs.follow { 0 } else { logs.scroll };
    let mut from_top = false;
    for _ in 0..skip {
        if back.next().is_none() {
            from_top = true;
            break;
        }
    }
    if !from_top {
        let mut entries: Vec<Vec<Line<'static>>> = Vec::new();
        let mut rows = 0;
        for e in back.by_ref() {
            let r = rows_of(state, e, filter, width);
            rows += r.len();
            entries.push(r);
            if rows >= height {
                break;
            }
        }
        // Scrolled up near the oldest line: fill the screen from the top
        // rather than leave it half empty.
        if rows >= height || skip == 0 {
            let mut out: Vec<Line<'static>> = entries.into_iter().rev().flatten().collect();
            let extra = out.len().saturating_sub(height);
            out.drain(..extra);
            return out;
        }
    }
    let mut out = Vec::new();
    for e in (0..lines.len())
        .filter_map(|i| lines.get(i))
        .filter(|e| keep(e))
    {
        out.extend(rows_of(state, e, filter, width));
        if out.len() >= height {
            break;
        }
    }
    out.truncate(height);
    out
}

/// The text a terminal can draw: tabs as two spaces, other control
/// chars dropped (the buffer would drop them anyway, shifting matches).
fn printable(text: &str) -> Cow<'_, str> {
    if !text.contains(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\t' => out.push_str("  "),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// The screen rows of one entry: the prefix (timestamp, stream), the
/// message with every filter match highlighted, cut to `width` cells
/// per row when wrapping, else one row the terminal clips.
fn rows_of(state: &State, e: &LogEntry, filter: Option<&str>, width: usize) -> Vec<Line<'static>> {
    let theme = &state.settings.theme;
    let mut spans: Vec<Span<'static>> = Vec::new();
    if state.logs.timestamps {
        let dim = Style::new().fg(theme.dim);
        spans.push(Span::styled(units::clock_ms(e.timestamp), dim));
        spans.push(Span::styled(
            format!(" {} ", units::stream_id(&e.stream)),
            dim,
        ));
    }
    let text = printable(&e.message);
    // Platform lines are quieter than what the script prints.
    let base = if text.starts_with("START RequestId") || text.starts_with("END RequestId") {
        Style::new().fg(theme.dim)
    } else {
        Style::new()
    };
    // One row needs at most `width` chars (each at least one cell wide
    // when printable), so a huge line is cut before it is copied.
    let text: &str = if state.logs.wrap {
        &text
    } else {
        match text.char_indices().nth(width.saturating_mul(2)) {
            Some((i, _)) => &text[..i],
            None => &text,
        }
    };
    let hl = Style::new()
        .fg(theme.highlight)
        .add_modifier(Modifier::REVERSED | Modifier::BOLD);
    let needle = filter.map(printable);
    match needle.as_deref().filter(|n| !n.is_empty()) {
        Some(n) => {
            let mut last = 0;
            for (at, m) in text.match_indices(n) {
                if at > last {
                    spans.push(Span::styled(text[last..at].to_owned(), base));
                }
                spans.push(Span::styled(m.to_owned(), hl));
                last = at + m.len();
            }
            if last < text.len() {
                spans.push(Span::styled(text[last..].to_owned(), base));
            }
        }
        None => spans.push(Span::styled(text.to_owned(), base)),
    }
    if state.logs.wrap {
        wrap(spans, width)
    } else {
        vec![Line::from(spans)]
    }
}

/// Cuts `spans` into rows of at most `width` cells, keeping each piece's
/// style. By cells, not words: log lines are ids and numbers more than
/// prose, and a fixed cut keeps the row count exact.
fn wrap(spans: Vec<Span<'static>>, width: usize) -> Vec<Line<'static>> {
    let mut rows: Vec<Line<'static>> = Vec::new();
    let mut row: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    for span in spans {
        let mut piece = String::new();
        for c in span.content.chars() {
            let mut buf = [0u8; 4];
            let w = Span::raw(&*c.encode_utf8(&mut buf)).width();
            if used + w > width && used > 0 {
                if !piece.is_empty() {
                    row.push(Span::styled(std::mem::take(&mut piece), span.style));
                }
                rows.push(Line::from(std::mem::take(&mut row)));
                used = 0;
            }
            piece.push(c);
            used += w;
        }
        if !piece.is_empty() {
            row.push(Span::styled(piece, span.style));
        }
    }
    if !row.is_empty() || rows.is_empty() {
        rows.push(Line::from(row));
    }
    rows
}

#[cfg(test)]
mod tests;
