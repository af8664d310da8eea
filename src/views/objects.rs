//! Pane 2, the objects of the selected function: its input objects (each
//! one an invocation, with that invocation's state) beside its output
//! objects. Keys are shown relative to the prefix the title names; the
//! list with the cursor has its header and selection highlighted.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph};

use crate::console::action::Action;
use crate::console::state::{Cursor, Fetched, FunctionRow, ObjectRow, Pane, Side, State};

use super::table::{self, Column};
use super::{pane, units};

const COLUMNS: [Column; 5] = [
    Column::fixed(" ", 1, 0),
    Column::fill("KEY", 1, 10, 0),
    Column::fixed("SIZE", 8, 2),
    Column::fixed("AGE", 4, 3),
    Column::fixed("STATE", 7, 1),
];

/// Draws the objects pane in `area`.
pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.settings.theme;
    let function = state.function();
    let mut left = Vec::new();
    if let Some(f) = function {
        left.push(pane::badge(
            f.info.name.clone(),
            Style::new().fg(theme.header),
        ));
        left.push(Span::styled(
            format!("in: {}  out: {} ", input_place(f), output_places(f)),
            Style::new().fg(theme.dim),
        ));
    }
    left.extend(pane::filter_badge(state, Pane::Objects));
    let block = pane::block(state, Pane::Objects, left, Vec::new());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(function) = function else {
        let dim = Style::new().fg(theme.dim);
        pane::message(
            frame,
            inner,
            "no function selected: pick one in 1 Functions",
            dim,
        );
        return;
    };
    let [inputs, _, outputs] = Layout::horizontal([
        Constraint::Fill(1),
        Constraint::Length(1),
        Constraint::Fill(1),
    ])
    .areas(inner);
    side(frame, inputs, state, function, Side::Input);
    side(frame, outputs, state, function, Side::Output);
}

/// `bucket/prefix` of the function's input.
fn input_place(f: &FunctionRow) -> String {
    match &f.input {
        Some(i) if i.prefix.is_empty() => i.bucket.clone(),
        Some(i) => format!("{}/{}", i.bucket, i.prefix),
        None => "-".to_owned(),
    }
}

/// `bucket/prefix` of each output, comma separated.
fn output_places(f: &FunctionRow) -> String {
    if f.outputs.is_empty() {
        return "-".to_owned();
    }
    f.outputs
        .iter()
        .map(|(b, p)| {
            if p.is_empty() {
                b.clone()
            } else {
                format!("{b}/{p}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One list: its header line, then its rows or why there are none.
fn side(frame: &mut Frame, area: Rect, state: &State, function: &FunctionRow, which: Side) {
    let theme = &state.settings.theme;
    let (fetched, cursor, label): (&Fetched<Vec<ObjectRow>>, &Cursor, &str) = match which {
        Side::Input => (&state.inputs, &state.inputs_cursor, "Inputs"),
        Side::Output => (&state.outputs, &state.outputs_cursor, "Outputs"),
    };
    let active = state.side == which;
    let rows = state.visible_objects(which);
    let [head, body] = Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);

    let head_style = if active && state.focus == Pane::Objects {
        Style::new().fg(theme.focus).add_modifier(Modifier::BOLD)
    } else if active {
        Style::new().add_modifier(Modifier::BOLD)
    } else {
        Style::new().fg(theme.dim)
    };
    let mut spans = vec![Span::styled(label.to_owned(), head_style)];
    if let Some(all) = &fetched.data {
        spans.push(Span::styled(
            format!(" ({})", all.len()),
            Style::new().fg(theme.dim),
        ));
    }
    if which == Side::Input && !state.marked_inputs.is_empty() {
        spans.push(Span::styled(
            format!(" {} marked", state.marked_inputs.len()),
            Style::new().fg(theme.mark),
        ));
    }
    spans.extend(pane::stale(state, fetched));
    frame.render_widget(Paragraph::new(Line::from(spans)), head);

    if which == Side::Input && function.input.is_none() && fetched.data.is_none() {
        let dim = Style::new().fg(theme.dim);
        pane::message(frame, body, "this function has no input bucket", dim);
        return;
    }
    let empty = match which {
        Side::Input => {
            let key = state
                .settings
                .keys
                .keys_of(Action::Upload)
                .into_iter()
                .next()
                .unwrap_or_else(|| "u".to_owned());
            format!("no input objects: press {key} to upload")
        }
        Side::Output => "no output objects yet".to_owned(),
    };
    if let Some((text, style)) = pane::placeholder(state, fetched, &empty) {
        pane::message(frame, body, &text, style);
        return;
    }
    if rows.is_empty() {
        let f = state.filters.get(&Pane::Objects).map_or("", String::as_str);
        let dim = Style::new().fg(theme.dim);
        pane::message(frame, body, &format!("no object matches /{f}"), dim);
        return;
    }
    let height = table::body_rows(body);
    let selected = cursor.selected.min(rows.len() - 1);
    let first = pane::offset(selected, cursor.offset, rows.len(), height);
    let key_width = table::fill_width(&COLUMNS, body.width, 1).unwrap_or(usize::MAX);
    let prefixes: Vec<&str> = match which {
        Side::Input => function.input.iter().map(|i| i.prefix.as_str()).collect(),
        Side::Output => function.outputs.iter().map(|(_, p)| p.as_str()).collect(),
    };
    let drawn = rows
        .iter()
        .enumerate()
        .skip(first)
        .take(height)
        .map(|(i, o)| {
            let key = relative(&o.key, &prefixes);
            let key = table::tail_fit(key, key_width);
            line(state, o, which, key, active && i == selected)
        })
        .collect();
    table::draw(frame, body, state, &COLUMNS, drawn);
}

/// `key` without the first of `prefixes` it starts with (and its slash).
fn relative<'a>(key: &'a str, prefixes: &[&str]) -> &'a str {
    prefixes
        .iter()
        .filter(|p| !p.is_empty())
        .find_map(|p| key.strip_prefix(p))
        .map(|rest| rest.strip_prefix('/').unwrap_or(rest))
        .filter(|rest| !rest.is_empty())
        .unwrap_or(key)
}

/// The cells of one object and the row's style.
fn line(
    state: &State,
    o: &ObjectRow,
    which: Side,
    key: String,
    selected: bool,
) -> (Vec<Cell<'static>>, Style) {
    let theme = &state.settings.theme;
    let marked = which == Side::Input && state.marked_inputs.contains(&o.key);
    let st = match which {
        Side::Input => state.input_state(&o.key, o.modified_ms),
        Side::Output => "done",
    };
    let st_style = match st {
        "done" => Style::new().fg(theme.ok),
        "failed" => Style::new().fg(theme.error),
        "running" => Style::new().fg(theme.warn),
        "pending" => Style::new(),
        _ => Style::new().fg(theme.dim),
    };
    let age = o
        .modified_ms
        .map_or_else(|| "-".to_owned(), |m| units::age(state.now_ms, m));
    let cells = vec![
        Cell::from(if marked { "●" } else { " " }),
        Cell::from(key),
        Cell::from(units::bytes(o.size)),
        Cell::from(age).style(Style::new().fg(theme.dim)),
        Cell::from(st).style(st_style),
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
    use crate::views::testing::{self, NOW, has, line_with, render, style_at};

    fn draw_at(state: &State) -> ratatui::buffer::Buffer {
        render(120, 12, |f, a| draw(f, a, state))
    }

    #[test]
    fn no_function_selected() {
        let s = testing::state();
        assert!(has(&draw_at(&s), "no function selected"));
    }

    #[test]
    fn loading_empty_and_error_per_side() {
        let mut s = testing::with_functions(&["demo"]);
        s.inputs.loading = true;
        s.outputs.receive(Ok(vec![]), NOW);
        let b = draw_at(&s);
        assert!(has(&b, "loading…"), "{}", testing::text(&b));
        assert!(has(&b, "no output objects yet"));
        // The title names where the function reads and writes.
        assert!(has(&b, "in: in-bucket/demo/in  out: out-bucket/demo/out"));

        s.inputs.receive(Ok(vec![]), NOW);
        s.outputs
            .receive(Err("NoSuchBucket: out-bucket".into()), NOW);
        let b = draw_at(&s);
        assert!(has(&b, "no input objects: press u to upload"));
        assert!(has(&b, "NoSuchBucket: out-bucket"));
        assert_eq!(
            style_at(&b, "NoSuchBucket").fg,
            Some(s.settings.theme.error)
        );
    }

    #[test]
    fn rows_show_size_age_and_state() {
        let mut s = testing::with_functions(&["demo"]);
        s.inputs.receive(
            Ok(vec![
                testing::object("demo/in/a.txt", 1229, NOW - 180_000),
                testing::object("demo/in/b.txt", 10, NOW - 5_000),
                testing::object("demo/in/c.txt", 10, NOW - 90_000_000),
                testing::object("demo/in/d.txt", 10, NOW - 7_200_000),
            ]),
            NOW,
        );
        s.outputs.receive(
            Ok(vec![testing::object(
                "demo/out/a.txt.out",
                4096,
                NOW - 1_000,
            )]),
            NOW,
        );
        testing::invocation(
            &mut s,
            "r1",
            "demo/in/a.txt",
            NOW - 170_000,
            12.5,
            true,
            "succeeded",
        );
        testing::invocation(
            &mut s,
            "r2",
            "demo/in/c.txt",
            NOW - 4_000,
            30.0,
            false,
            "failed",
        );
        s.marked_inputs.insert("demo/in/b.txt".into());
        s.inputs_cursor.selected = 1;

        let b = draw_at(&s);
        let a = line_with(&b, "a.txt ").unwrap_or_default();
        assert!(
            a.contains("1.2 KB") && a.contains("3m") && a.contains("done"),
            "{a:?}"
        );
        assert_eq!(style_at(&b, "done").fg, Some(s.settings.theme.ok));
        assert_eq!(style_at(&b, "failed").fg, Some(s.settings.theme.error));
        // b.txt arrived inside the tail's window with no invocation yet.
        let bl = line_with(&b, "b.txt").unwrap_or_default();
        assert!(bl.contains("pending") && bl.contains("●"), "{bl:?}");
        assert_eq!(style_at(&b, "b.txt").bg, Some(s.settings.theme.selected_bg));
        assert_eq!(style_at(&b, "b.txt").fg, Some(s.settings.theme.mark));
        let c = line_with(&b, "c.txt").unwrap_or_default();
        assert!(c.contains("failed") && c.contains("1d"), "{c:?}");
        // d.txt is older than the tail's window and no invocation took it.
        let d = line_with(&b, "d.txt").unwrap_or_default();
        assert!(d.trim_end_matches([' ', '│']).ends_with(" -"), "{d:?}");
        let out = line_with(&b, "a.txt.out").unwrap_or_default();
        assert!(out.contains("4.0 KB"), "{out:?}");
        assert!(has(&b, "Inputs (4) 1 marked"));
        assert!(has(&b, "Outputs (1)"));
    }

    #[test]
    fn long_keys_keep_their_file_name() {
        let mut s = testing::with_functions(&["demo"]);
        let key = "demo/in/a/very/long/folder/name/that/goes/on/and/on/file-01.txt";
        s.inputs
            .receive(Ok(vec![testing::object(key, 1, NOW)]), NOW);
        let b = draw_at(&s);
        let row = line_with(&b, "file-01.txt").unwrap_or_default();
        assert!(row.contains("…") && !row.contains("a/very"), "{row:?}");
    }

    #[test]
    fn relative_keys() {
        assert_eq!(relative("p/in/a.txt", &["p/in"]), "a.txt");
        assert_eq!(relative("p/in/a.txt", &["p/in/"]), "a.txt");
        assert_eq!(relative("a.txt", &[""]), "a.txt");
        assert_eq!(relative("p/in/", &["p/in"]), "p/in/");
    }
}
