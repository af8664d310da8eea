//! The table panes' shared machinery: columns that drop out by priority
//! when the pane is narrow (the name stays, the p95 goes first), and
//! drawing only the rows on screen, so that a table of 10,000 rows costs
//! what a table of 20 does.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::widgets::{Cell, Row, Table};

use crate::console::state::State;

use super::pane;

/// One column.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// Header text.
    pub title: &'static str,
    /// Its width; `Fill` columns share what the fixed ones leave.
    pub width: Constraint,
    /// Cells it needs at least (for `Fill` columns).
    pub min: u16,
    /// Kept before columns of a higher number when space runs out.
    pub priority: u8,
}

impl Column {
    /// A column of a fixed width.
    pub const fn fixed(title: &'static str, width: u16, priority: u8) -> Column {
        Column {
            title,
            width: Constraint::Length(width),
            min: width,
            priority,
        }
    }

    /// A column sharing the free width by `weight`, at least `min` wide.
    pub const fn fill(title: &'static str, weight: u16, min: u16, priority: u8) -> Column {
        Column {
            title,
            width: Constraint::Fill(weight),
            min,
            priority,
        }
    }
}

/// The columns that fit in `width` (indices, in order): the columns of the
/// highest priority number go first until the rest fits.
pub fn fit(columns: &[Column], width: u16) -> Vec<usize> {
    let mut keep: Vec<usize> = (0..columns.len()).collect();
    let need = |keep: &[usize]| -> u32 {
        let cells: u32 = keep.iter().map(|i| u32::from(columns[*i].min)).sum();
        cells + keep.len().saturating_sub(1) as u32
    };
    while keep.len() > 1 && need(&keep) > u32::from(width) {
        let Some(pos) = keep
            .iter()
            .enumerate()
            .max_by_key(|(pos, i)| (columns[**i].priority, *pos))
            .map(|(pos, _)| pos)
        else {
            break;
        };
        keep.remove(pos);
    }
    keep
}

/// Cells the `Fill` column `index` gets in `width` (for a table with one
/// `Fill` column), or `None` when it is dropped: what a pane needs to cut
/// a long key from the left, keeping its informative end.
pub fn fill_width(columns: &[Column], width: u16, index: usize) -> Option<usize> {
    let keep = fit(columns, width);
    if !keep.contains(&index) {
        return None;
    }
    let fixed: u32 = keep
        .iter()
        .filter(|i| **i != index)
        .map(|i| match columns[*i].width {
            Constraint::Length(n) => u32::from(n),
            _ => u32::from(columns[*i].min),
        })
        .sum();
    let gaps = keep.len().saturating_sub(1) as u32;
    Some(u32::from(width).saturating_sub(fixed + gaps) as usize)
}

/// `text` cut to `width` chars from the left (`…/b/file.txt`), so that
/// the end of a key, its file name, stays readable.
pub fn tail_fit(text: &str, width: usize) -> String {
    let n = text.chars().count();
    if n <= width {
        return text.to_owned();
    }
    if width == 0 {
        return String::new();
    }
    let mut out = String::from("…");
    out.extend(text.chars().skip(n - (width - 1)));
    out
}

/// Draws a table of `columns` in `area`: the header, then `rows` (only
/// the rows on screen: cells in column order, and the row's style).
pub fn draw(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    columns: &[Column],
    rows: Vec<(Vec<Cell<'static>>, Style)>,
) {
    let keep = fit(columns, area.width);
    let header = pane::header_row(
        state,
        &keep.iter().map(|i| columns[*i].title).collect::<Vec<_>>(),
    );
    let rows = rows.into_iter().map(|(cells, style)| {
        let mut cells: Vec<Option<Cell>> = cells.into_iter().map(Some).collect();
        Row::new(
            keep.iter()
                .map(|i| cells.get_mut(*i).and_then(Option::take).unwrap_or_default()),
        )
        .style(style)
    });
    let widths: Vec<Constraint> = keep.iter().map(|i| columns[*i].width).collect();
    frame.render_widget(Table::new(rows, widths).header(header), area);
}

/// Rows of `area` left for data under the header.
pub fn body_rows(area: Rect) -> usize {
    usize::from(area.height.saturating_sub(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_tables_drop_the_least_needed_columns() {
        let cols = [
            Column::fill("NAME", 1, 10, 0),
            Column::fixed("MEM", 6, 1),
            Column::fixed("P95", 8, 3),
            Column::fixed("P50", 8, 2),
        ];
        assert_eq!(fit(&cols, 80), vec![0, 1, 2, 3]);
        // 10 + 6 + 8 + 3 gaps = 27: P95 goes, P50 stays.
        assert_eq!(fit(&cols, 30), vec![0, 1, 3]);
        assert_eq!(fit(&cols, 5), vec![0]);
        // 30 cells: NAME gets what MEM and P50 and two gaps leave.
        assert_eq!(fill_width(&cols, 30, 0), Some(14));
        assert_eq!(fill_width(&cols, 30, 2), None);
    }

    #[test]
    fn long_keys_keep_their_end() {
        assert_eq!(tail_fit("in/a.txt", 10), "in/a.txt");
        assert_eq!(tail_fit("demo-in/batch/doc-01.txt", 12), "…/doc-01.txt");
        assert_eq!(tail_fit("abc", 0), "");
    }
}
