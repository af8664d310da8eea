//! Colours by role, with defaults that read on dark and light terminals;
//! `theme.toml` in the config folder overrides the roles it names
//! (`focus = "cyan"`, `error = "#ff5555"`, `selected_bg = "indexed(236)"`).

use std::str::FromStr;

use ratatui::style::Color;

/// The console's colours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theme {
    /// Pane borders.
    pub border: Color,
    /// The focused pane's border and title.
    pub focus: Color,
    /// Table headers and labels.
    pub header: Color,
    /// Background of the selected row.
    pub selected_bg: Color,
    /// Marked rows.
    pub mark: Color,
    /// Errors and failed rows.
    pub error: Color,
    /// Warnings, badges, running rows.
    pub warn: Color,
    /// Successes and done rows.
    pub ok: Color,
    /// Secondary text (timestamps, ages).
    pub dim: Color,
    /// Filter matches.
    pub highlight: Color,
    /// Charts and gauges.
    pub chart: Color,
}

impl Default for Theme {
    fn default() -> Self {
        Theme {
            border: Color::DarkGray,
            focus: Color::Cyan,
            header: Color::Yellow,
            selected_bg: Color::Indexed(237),
            mark: Color::Magenta,
            error: Color::Red,
            warn: Color::Yellow,
            ok: Color::Green,
            dim: Color::DarkGray,
            highlight: Color::LightYellow,
            chart: Color::Cyan,
        }
    }
}

impl Theme {
    /// The defaults with the roles named in `table` replaced.
    pub fn with_overrides(table: &toml::Table) -> Result<Theme, String> {
        let mut t = Theme::default();
        for (role, value) in table {
            let text = value
                .as_str()
                .ok_or_else(|| format!("{role}: write a colour as a string, like \"cyan\""))?;
            let c = Color::from_str(text).map_err(|_| {
                format!("{role} = {text:?} is not a colour: use a name (red, lightblue, darkgray), \"#rrggbb\" or a 0-255 index")
            })?;
            let slot = match role.as_str() {
                "border" => &mut t.border,
                "focus" => &mut t.focus,
                "header" => &mut t.header,
                "selected_bg" => &mut t.selected_bg,
                "mark" => &mut t.mark,
                "error" => &mut t.error,
                "warn" => &mut t.warn,
                "ok" => &mut t.ok,
                "dim" => &mut t.dim,
                "highlight" => &mut t.highlight,
                "chart" => &mut t.chart,
                other => {
                    return Err(format!(
                        "unknown role {other:?}: the roles are border, focus, header, selected_bg, mark, error, warn, ok, dim, highlight, chart"
                    ));
                }
            };
            *slot = c;
        }
        Ok(t)
    }
}
