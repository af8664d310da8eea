//! Where the panes go for a given terminal size. Wide terminals show
//! every pane in three rows (functions | objects, logs | invocations,
//! metrics); narrower ones stack panes in one column and show as many as
//! fit, the focused pane always among them and given more room; expanded,
//! the focused pane takes the whole body.

use ratatui::layout::{Constraint, Layout, Rect};

use crate::console::state::Pane;

/// From this width on, panes sit two by two.
pub const WIDE_COLUMNS: u16 = 120;

/// One row of panes: the panes with their width shares, the least height
/// that still shows a few rows, the weight it grows with, and its rank
/// when not every row fits (lower is kept first).
struct Band {
    panes: &'static [(Pane, u16)],
    min: u16,
    weight: u16,
    rank: u8,
}

const WIDE: [Band; 3] = [
    Band {
        panes: &[(Pane::Functions, 55), (Pane::Objects, 45)],
        min: 8,
        weight: 3,
        rank: 0,
    },
    Band {
        panes: &[(Pane::Logs, 50), (Pane::Invocations, 50)],
        min: 8,
        weight: 5,
        rank: 1,
    },
    Band {
        panes: &[(Pane::Metrics, 100)],
        min: 10,
        weight: 2,
        rank: 2,
    },
];

const NARROW: [Band; 5] = [
    Band {
        panes: &[(Pane::Functions, 100)],
        min: 8,
        weight: 2,
        rank: 0,
    },
    Band {
        panes: &[(Pane::Objects, 100)],
        min: 8,
        weight: 2,
        rank: 3,
    },
    Band {
        panes: &[(Pane::Logs, 100)],
        min: 8,
        weight: 3,
        rank: 1,
    },
    Band {
        panes: &[(Pane::Invocations, 100)],
        min: 8,
        weight: 3,
        rank: 2,
    },
    Band {
        panes: &[(Pane::Metrics, 100)],
        min: 10,
        weight: 2,
        rank: 4,
    },
];

/// The panes to draw in `body`, with their areas.
pub fn arrange(body: Rect, focus: Pane, expanded: bool) -> Vec<(Pane, Rect)> {
    if expanded {
        return vec![(focus, body)];
    }
    let bands: &[Band] = if body.width >= WIDE_COLUMNS {
        &WIDE
    } else {
        &NARROW
    };
    let holds_focus = |b: &Band| b.panes.iter().any(|(p, _)| *p == focus);
    let narrow = body.width < WIDE_COLUMNS;
    // Stacked, the focused pane takes at least two fifths of the body, so
    // that it shows a page of rows and the others only what is left.
    let min_of = |b: &Band| {
        if narrow && holds_focus(b) {
            b.min.max(body.height * 2 / 5)
        } else {
            b.min
        }
    };
    // The focused band first, then by rank, while their least heights fit.
    let mut order: Vec<usize> = (0..bands.len()).collect();
    order.sort_by_key(|i| (!holds_focus(&bands[*i]), bands[*i].rank));
    let mut chosen = Vec::new();
    let mut used = 0u16;
    for i in order {
        let min = min_of(&bands[i]);
        if chosen.is_empty() || used + min <= body.height {
            chosen.push(i);
            used = used.saturating_add(min);
        }
    }
    chosen.sort_unstable();
    let heights = share(
        body.height,
        &chosen
            .iter()
            .map(|i| {
                let b = &bands[*i];
                // Side by side every pane shows: a stable layout reads
                // better than one that jumps with the focus.
                let bonus = if narrow && holds_focus(b) {
                    b.weight
                } else {
                    0
                };
                (min_of(b), b.weight + bonus)
            })
            .collect::<Vec<_>>(),
    );
    let mut out = Vec::new();
    let mut y = body.y;
    for (i, h) in chosen.iter().zip(heights) {
        let row = Rect {
            y,
            height: h,
            ..body
        };
        y += h;
        let b = &bands[*i];
        let cols = Layout::horizontal(b.panes.iter().map(|(_, pct)| Constraint::Percentage(*pct)))
            .split(row);
        out.extend(b.panes.iter().map(|(p, _)| *p).zip(cols.iter().copied()));
    }
    out
}

/// Splits `total` rows: each band its least height (as far as there is
/// room), the rest by weight, the remainder to the first bands.
fn share(total: u16, bands: &[(u16, u16)]) -> Vec<u16> {
    let mins: u16 = bands.iter().map(|(m, _)| *m).sum();
    if mins >= total {
        // Only the focused band was kept and even it does not fit.
        let mut left = total;
        return bands
            .iter()
            .map(|(m, _)| {
                let h = (*m).min(left);
                left -= h;
                h
            })
            .collect();
    }
    let extra = total - mins;
    let weights: u16 = bands.iter().map(|(_, w)| *w).sum::<u16>().max(1);
    let mut heights: Vec<u16> = bands
        .iter()
        .map(|(m, w)| m + (u32::from(extra) * u32::from(*w) / u32::from(weights)) as u16)
        .collect();
    let mut rest = total - heights.iter().sum::<u16>();
    for h in heights.iter_mut() {
        if rest == 0 {
            break;
        }
        *h += 1;
        rest -= 1;
    }
    heights
}

#[cfg(test)]
mod tests {
    use super::*;

    fn panes(v: &[(Pane, Rect)]) -> Vec<Pane> {
        v.iter().map(|(p, _)| *p).collect()
    }

    #[test]
    fn wide_shows_every_pane_in_three_rows() {
        let body = Rect::new(0, 1, 160, 46);
        let v = arrange(body, Pane::Functions, false);
        assert_eq!(panes(&v), Pane::ALL.to_vec());
        let (_, f) = v[0];
        let (_, o) = v[1];
        let (_, m) = v[4];
        assert_eq!(f.y, o.y, "functions and objects share a row");
        assert!(o.x > f.x);
        assert_eq!(m.width, 160, "metrics span the width");
        assert_eq!(m.bottom(), body.bottom(), "rows fill the body");
    }

    #[test]
    fn narrow_keeps_the_focused_pane_and_what_fits() {
        let body = Rect::new(0, 1, 100, 22);
        let v = arrange(body, Pane::Metrics, false);
        let shown = panes(&v);
        assert!(shown.contains(&Pane::Metrics), "{shown:?}");
        assert!(shown.len() < 5, "{shown:?}");
        assert!(v.iter().all(|(_, r)| r.width == 100));
        let total: u16 = v.iter().map(|(_, r)| r.height).sum();
        assert_eq!(total, 22);
        // The focused pane gets two fifths of the body at least, and more
        // than another pane of its kind.
        let v = arrange(Rect::new(0, 1, 100, 40), Pane::Objects, false);
        let h = |p| v.iter().find(|(q, _)| *q == p).map_or(0, |(_, r)| r.height);
        assert!(h(Pane::Objects) >= 16, "{v:?}");
        assert!(h(Pane::Objects) > h(Pane::Functions), "{v:?}");
        // Tall enough, every pane shows.
        assert_eq!(
            arrange(Rect::new(0, 1, 100, 80), Pane::Logs, false).len(),
            5
        );
    }

    #[test]
    fn expanded_fills_the_body() {
        let body = Rect::new(0, 1, 100, 30);
        assert_eq!(arrange(body, Pane::Logs, true), vec![(Pane::Logs, body)]);
    }
}
