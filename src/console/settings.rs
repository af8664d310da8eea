//! The console's settings: `config.toml` (backend, profile, region,
//! endpoint, refresh rates, buffer sizes, keys) and `theme.toml`, both in
//! the user's config folder (`directories`). Typed defaults; a file
//! overrides only what it names. A broken file never stops the console:
//! it starts with the defaults and says which line is wrong.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::app::definition::line_column;
use crate::aws::Backend;

use super::action::Action;
use super::keys::KeyMap;
use super::theme::Theme;

/// How often each kind of data is fetched.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Refresh {
    /// The functions list, ms.
    pub functions_ms: u64,
    /// The objects of the selected function, ms.
    pub objects_ms: u64,
    /// Log tail polls, ms (FilterLogEvents allows 5 per second per account).
    pub logs_ms: u64,
    /// Per-function figures (CloudWatch), ms.
    pub stats_ms: u64,
}

impl Default for Refresh {
    fn default() -> Self {
        Refresh {
            functions_ms: 5_000,
            objects_ms: 3_000,
            logs_ms: 1_000,
            stats_ms: 10_000,
        }
    }
}

/// Ring buffer sizes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Buffers {
    /// Log lines kept.
    pub log_lines: usize,
    /// Invocations kept.
    pub invocations: usize,
}

impl Default for Buffers {
    fn default() -> Self {
        Buffers {
            log_lines: 100_000,
            invocations: 10_000,
        }
    }
}

/// Everything configurable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Backend (flags and `SCAR_BACKEND` win).
    pub backend: Option<Backend>,
    /// AWS profile.
    pub profile: Option<String>,
    /// Region.
    pub region: Option<String>,
    /// A standalone local cloud's endpoint.
    pub endpoint: Option<String>,
    /// Refresh rates.
    pub refresh: Refresh,
    /// Buffer sizes.
    pub buffers: Buffers,
    /// How far back the log tail starts, minutes.
    pub history_minutes: u64,
    /// Environments idle longer than this are not counted warm, minutes.
    pub keep_warm_minutes: u64,
    /// Keys.
    pub keys: KeyMap,
    /// Colours.
    pub theme: Theme,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            backend: None,
            profile: None,
            region: None,
            endpoint: None,
            refresh: Refresh::default(),
            buffers: Buffers::default(),
            history_minutes: 60,
            keep_warm_minutes: 15,
            keys: KeyMap::default(),
            theme: Theme::default(),
        }
    }
}

impl Settings {
    /// The tail's history window, ms.
    pub fn history_ms(&self) -> i64 {
        (self.history_minutes as i64).saturating_mul(60_000)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    backend: Option<String>,
    profile: Option<String>,
    region: Option<String>,
    endpoint: Option<String>,
    #[serde(default)]
    refresh: Refresh,
    #[serde(default)]
    buffers: Buffers,
    history_minutes: Option<u64>,
    keep_warm_minutes: Option<u64>,
    #[serde(default)]
    keys: toml::Table,
}

/// Where the files are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigPaths {
    /// The folder.
    pub dir: PathBuf,
    /// `config.toml`.
    pub config: PathBuf,
    /// `theme.toml`.
    pub theme: PathBuf,
}

impl ConfigPaths {
    /// The files in `dir`.
    pub fn in_dir(dir: &Path) -> ConfigPaths {
        ConfigPaths {
            dir: dir.to_owned(),
            config: dir.join("config.toml"),
            theme: dir.join("theme.toml"),
        }
    }

    /// The user's config folder (`SCAR_TUI_CONFIG_DIR` overrides it).
    pub fn user() -> Option<ConfigPaths> {
        if let Some(d) = std::env::var_os("SCAR_TUI_CONFIG_DIR").filter(|d| !d.is_empty()) {
            return Some(ConfigPaths::in_dir(Path::new(&d)));
        }
        directories::ProjectDirs::from("", "", "scar-tui")
            .map(|d| ConfigPaths::in_dir(d.config_dir()))
    }
}

fn located(path: &Path, text: &str, e: &toml::de::Error) -> String {
    match e.span() {
        Some(span) => {
            let (line, col) = line_column(text, span.start);
            format!(
                "{}:{line}:{col}: {}",
                path.display(),
                e.message().trim_end()
            )
        }
        None => format!("{}: {}", path.display(), e.message().trim_end()),
    }
}

/// Parses the two files' text; each problem is one line naming the file,
/// line and column, and means the defaults are used for that file.
pub fn parse(
    paths: &ConfigPaths,
    config: Option<&str>,
    theme: Option<&str>,
) -> (Settings, Vec<String>) {
    let mut s = Settings::default();
    let mut problems = Vec::new();
    if let Some(text) = config {
        match apply_config(&mut s, &paths.config, text) {
            Ok(()) => {}
            Err(p) => {
                // All or nothing: a half-applied file is harder to reason
                // about than the defaults.
                let theme_kept = s.theme.clone();
                s = Settings {
                    theme: theme_kept,
                    ..Settings::default()
                };
                problems.push(format!("{p}; using the default settings"));
            }
        }
    }
    if let Some(text) = theme {
        let parsed = toml::from_str::<toml::Table>(text)
            .map_err(|e| located(&paths.theme, text, &e))
            .and_then(|t| {
                Theme::with_overrides(&t).map_err(|m| format!("{}: {m}", paths.theme.display()))
            });
        match parsed {
            Ok(t) => s.theme = t,
            Err(p) => problems.push(format!("{p}; using the default theme")),
        }
    }
    (s, problems)
}

fn apply_config(s: &mut Settings, path: &Path, text: &str) -> Result<(), String> {
    let f: File = toml::from_str(text).map_err(|e| located(path, text, &e))?;
    let at = |m: String| format!("{}: {m}", path.display());
    if let Some(b) = f.backend {
        s.backend = Some(b.parse::<Backend>().map_err(at)?);
    }
    s.profile = f.profile;
    s.region = f.region;
    s.endpoint = f.endpoint;
    if f.refresh.logs_ms < 200 {
        return Err(at(format!(
            "refresh.logs_ms = {} is below 200: FilterLogEvents allows 5 requests per second per account",
            f.refresh.logs_ms
        )));
    }
    if f.refresh.functions_ms < 500 || f.refresh.objects_ms < 500 || f.refresh.stats_ms < 500 {
        return Err(at("refresh rates are in ms and at least 500".into()));
    }
    s.refresh = f.refresh;
    if f.buffers.log_lines == 0 || f.buffers.invocations == 0 {
        return Err(at(
            "buffers.log_lines and buffers.invocations must be at least 1".into(),
        ));
    }
    s.buffers = f.buffers;
    s.history_minutes = f.history_minutes.unwrap_or(s.history_minutes);
    s.keep_warm_minutes = f.keep_warm_minutes.unwrap_or(s.keep_warm_minutes);
    let mut overrides = Vec::new();
    for (name, value) in &f.keys {
        let action: Action =
            Action::deserialize(toml::Value::String(name.clone())).map_err(|_| {
                at(format!(
                    "[keys] {name:?} is not an action: see `?` in the console or README's key map"
                ))
            })?;
        let keys = match value {
            toml::Value::String(k) => vec![k.clone()],
            toml::Value::Array(a) => a
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| at(format!("[keys] {name}: write a key or a list of keys")))?,
            _ => return Err(at(format!("[keys] {name}: write a key or a list of keys"))),
        };
        overrides.push((action, keys));
    }
    s.keys = KeyMap::with_overrides(&overrides).map_err(|m| at(format!("[keys] {m}")))?;
    Ok(())
}

/// Reads the files (a missing file is no problem).
pub fn load(paths: &ConfigPaths) -> (Settings, Vec<String>) {
    let read = |p: &Path| match std::fs::read_to_string(p) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", p.display())),
    };
    let mut problems = Vec::new();
    let config = read(&paths.config).unwrap_or_else(|p| {
        problems.push(p);
        None
    });
    let theme = read(&paths.theme).unwrap_or_else(|p| {
        problems.push(p);
        None
    });
    let (s, mut more) = parse(paths, config.as_deref(), theme.as_deref());
    problems.append(&mut more);
    (s, problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    fn paths() -> ConfigPaths {
        ConfigPaths::in_dir(Path::new("/cfg"))
    }

    #[test]
    fn a_file_overrides_only_what_it_names() {
        let (s, p) = parse(
            &paths(),
            Some(
                "region = \"eu-west-1\"\n[refresh]\nlogs_ms = 500\n[keys]\nquit = [\"ctrl-q\", \"Q\"]\n",
            ),
            Some("focus = \"#ff0000\"\n"),
        );
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(s.region.as_deref(), Some("eu-west-1"));
        assert_eq!(s.refresh.logs_ms, 500);
        assert_eq!(s.refresh.functions_ms, 5_000);
        assert_eq!(s.buffers, Buffers::default());
        assert_eq!(
            s.keys
                .action(&KeyEvent::new(KeyCode::Char('Q'), KeyModifiers::SHIFT)),
            Some(Action::Quit)
        );
        assert_eq!(s.theme.focus, ratatui::style::Color::Rgb(255, 0, 0));
    }

    #[test]
    fn a_broken_file_names_its_line_and_falls_back_to_defaults() {
        let (s, p) = parse(
            &paths(),
            Some("region = \"x\"\n[buffers]\nlog_line = 5\n"),
            None,
        );
        assert_eq!(s, Settings::default());
        assert_eq!(p.len(), 1);
        assert!(
            p[0].starts_with("/cfg/config.toml:3:1: unknown field `log_line`"),
            "{}",
            p[0]
        );
        assert!(p[0].ends_with("using the default settings"), "{}", p[0]);
        let (_, p) = parse(&paths(), None, Some("focus = \"blurple\"\n"));
        assert!(p[0].contains("\"blurple\" is not a colour"), "{}", p[0]);
        let (_, p) = parse(&paths(), Some("[keys]\nfly = \"x\"\n"), None);
        assert!(p[0].contains("\"fly\" is not an action"), "{}", p[0]);
        let (_, p) = parse(&paths(), Some("[refresh]\nlogs_ms = 10\n"), None);
        assert!(
            p[0].contains("FilterLogEvents allows 5 requests per second"),
            "{}",
            p[0]
        );
    }
}
