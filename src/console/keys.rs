//! The key map: typed defaults (k9s conventions) that a user's
//! `[keys]` table patches, action by action (gitui's key_list.rs does the
//! same). A remapped action loses its default keys; every other action
//! keeps them.

use std::collections::HashMap;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;

/// A key with its modifiers (shift folded into the character).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    /// The key.
    pub code: KeyCode,
    /// Ctrl and Alt.
    pub mods: KeyModifiers,
}

impl Key {
    /// The key of a terminal event: shift is part of the character for
    /// printable keys (`G`, `?`), so it is dropped there.
    pub fn of(ev: &KeyEvent) -> Key {
        let mut mods = ev.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT);
        if let KeyCode::BackTab = ev.code {
            mods = KeyModifiers::NONE;
        }
        Key {
            code: ev.code,
            mods,
        }
    }

    /// Parses `q`, `G`, `ctrl-d`, `alt-x`, `enter`, `esc`, `tab`,
    /// `backtab`, `space`, `up`, `pagedown`, `home`, `f5`...
    pub fn parse(text: &str) -> Result<Key, String> {
        let mut mods = KeyModifiers::NONE;
        let mut rest = text;
        loop {
            if let Some(r) = rest.strip_prefix("ctrl-") {
                mods |= KeyModifiers::CONTROL;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("alt-") {
                mods |= KeyModifiers::ALT;
                rest = r;
            } else {
                break;
            }
        }
        let code = match rest {
            "enter" => KeyCode::Enter,
            "esc" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "backtab" | "shift-tab" => KeyCode::BackTab,
            "space" => KeyCode::Char(' '),
            "backspace" => KeyCode::Backspace,
            "delete" => KeyCode::Delete,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "pageup" => KeyCode::PageUp,
            "pagedown" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            f if f.len() > 1 && f.starts_with('f') && f[1..].parse::<u8>().is_ok() => {
                KeyCode::F(f[1..].parse().unwrap_or(1))
            }
            c if c.chars().count() == 1 => KeyCode::Char(c.chars().next().unwrap_or(' ')),
            _ => {
                return Err(format!(
                    "{text:?} is not a key: write a character (q, G, ?), ctrl-X, alt-X, enter, esc, tab, backtab, space, up, down, left, right, pageup, pagedown, home, end or f1..f12"
                ));
            }
        };
        Ok(Key { code, mods })
    }

    /// How the help overlay writes it.
    pub fn label(&self) -> String {
        let mut s = String::new();
        if self.mods.contains(KeyModifiers::CONTROL) {
            s.push_str("ctrl-");
        }
        if self.mods.contains(KeyModifiers::ALT) {
            s.push_str("alt-");
        }
        match self.code {
            KeyCode::Char(' ') => s.push_str("space"),
            KeyCode::Char(c) => s.push(c),
            KeyCode::Enter => s.push_str("enter"),
            KeyCode::Esc => s.push_str("esc"),
            KeyCode::Tab => s.push_str("tab"),
            KeyCode::BackTab => s.push_str("backtab"),
            KeyCode::Up => s.push('↑'),
            KeyCode::Down => s.push('↓'),
            KeyCode::Left => s.push('←'),
            KeyCode::Right => s.push('→'),
            KeyCode::PageUp => s.push_str("pgup"),
            KeyCode::PageDown => s.push_str("pgdn"),
            KeyCode::Home => s.push_str("home"),
            KeyCode::End => s.push_str("end"),
            KeyCode::F(n) => s.push_str(&format!("f{n}")),
            other => s.push_str(&format!("{other:?}")),
        }
        s
    }
}

/// The defaults: (action, keys).
pub const DEFAULTS: &[(Action, &[&str])] = &[
    (Action::Quit, &["q"]),
    (Action::FocusFunctions, &["1"]),
    (Action::FocusObjects, &["2"]),
    (Action::FocusLogs, &["3"]),
    (Action::FocusInvocations, &["4"]),
    (Action::FocusMetrics, &["5"]),
    (Action::NextPane, &["tab"]),
    (Action::PrevPane, &["backtab"]),
    (Action::Expand, &["e"]),
    (Action::Up, &["k", "up"]),
    (Action::Down, &["j", "down"]),
    // ctrl-d deletes (the issue's binding), so half pages are ctrl-u and ctrl-f.
    (Action::PageUp, &["ctrl-u", "ctrl-b", "pageup"]),
    (Action::PageDown, &["ctrl-f", "pagedown"]),
    (Action::Top, &["g", "home"]),
    (Action::Bottom, &["G", "end"]),
    (Action::Open, &["enter"]),
    (Action::Back, &["esc"]),
    (Action::Mark, &["space"]),
    (Action::Follow, &["f"]),
    (Action::Wrap, &["w"]),
    (Action::Timestamps, &["t"]),
    (Action::Filter, &["/"]),
    (Action::Command, &[":"]),
    (Action::Help, &["?"]),
    (Action::New, &["n"]),
    (Action::Preheat, &["p"]),
    (Action::Upload, &["u"]),
    (Action::Run, &["r"]),
    (Action::Invoke, &["i"]),
    (Action::Delete, &["ctrl-d"]),
    (Action::Refresh, &["ctrl-r", "R"]),
    (Action::SwitchSide, &["h", "l", "left", "right"]),
];

/// Keys to actions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyMap {
    map: HashMap<Key, Action>,
}

impl Default for KeyMap {
    fn default() -> Self {
        let mut map = HashMap::new();
        for (action, keys) in DEFAULTS {
            for k in *keys {
                if let Ok(key) = Key::parse(k) {
                    map.insert(key, *action);
                }
            }
        }
        KeyMap { map }
    }
}

impl KeyMap {
    /// The defaults with `overrides` (action -> keys) applied.
    pub fn with_overrides(overrides: &[(Action, Vec<String>)]) -> Result<KeyMap, String> {
        let mut km = KeyMap::default();
        for (action, keys) in overrides {
            let parsed = keys
                .iter()
                .map(|k| Key::parse(k))
                .collect::<Result<Vec<_>, _>>()?;
            km.map.retain(|_, a| a != action);
            for k in parsed {
                km.map.insert(k, *action);
            }
        }
        Ok(km)
    }

    /// The action of a key.
    pub fn action(&self, ev: &KeyEvent) -> Option<Action> {
        self.map.get(&Key::of(ev)).copied()
    }

    /// The keys of an action, for help, shortest first.
    pub fn keys_of(&self, action: Action) -> Vec<String> {
        let mut v: Vec<String> = self
            .map
            .iter()
            .filter(|(_, a)| **a == action)
            .map(|(k, _)| k.label())
            .collect();
        v.sort_by(|a, b| a.len().cmp(&b.len()).then(a.cmp(b)));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn defaults_follow_the_conventions() {
        let km = KeyMap::default();
        assert_eq!(
            km.action(&ev(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            Some(Action::Bottom)
        );
        assert_eq!(
            km.action(&ev(KeyCode::Char('d'), KeyModifiers::CONTROL)),
            Some(Action::Delete)
        );
        assert_eq!(
            km.action(&ev(KeyCode::Char('?'), KeyModifiers::SHIFT)),
            Some(Action::Help)
        );
        assert_eq!(km.keys_of(Action::Down), vec!["j", "↓"]);
    }

    #[test]
    fn an_override_replaces_only_its_action() {
        let km = KeyMap::with_overrides(&[(Action::Quit, vec!["ctrl-q".into()])]).unwrap();
        assert_eq!(km.action(&ev(KeyCode::Char('q'), KeyModifiers::NONE)), None);
        assert_eq!(
            km.action(&ev(KeyCode::Char('q'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
        assert_eq!(
            km.action(&ev(KeyCode::Char('j'), KeyModifiers::NONE)),
            Some(Action::Down)
        );
        let err = KeyMap::with_overrides(&[(Action::Quit, vec!["hyper-q".into()])]).unwrap_err();
        assert!(err.contains("\"hyper-q\" is not a key"), "{err}");
    }
}
