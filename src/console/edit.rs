//! Editing in the console: the line editor of the command line, filters
//! and prompts, path splitting and tab completion for uploads, and the
//! new-function form with per-field validation (the same checks as
//! `init`).

use std::path::{Path, PathBuf};

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::app::definition::{self, FunctionDefinition, Script, Storage};

use super::state::{Form, FormField, LineEdit, Prompt};

/// Applies an editing key to a line.
pub fn edit_line(e: &mut LineEdit, ev: &KeyEvent) {
    let chars: Vec<char> = e.text.chars().collect();
    let at = e.cursor.min(chars.len());
    let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
    let mut chars = chars;
    let mut cur = at;
    match ev.code {
        KeyCode::Char('u') if ctrl => {
            chars.drain(..cur);
            cur = 0;
        }
        KeyCode::Char('w') if ctrl => {
            let mut i = cur;
            while i > 0 && chars[i - 1] == ' ' {
                i -= 1;
            }
            while i > 0 && chars[i - 1] != ' ' {
                i -= 1;
            }
            chars.drain(i..cur);
            cur = i;
        }
        KeyCode::Char('a') if ctrl => cur = 0,
        KeyCode::Char('e') if ctrl => cur = chars.len(),
        KeyCode::Char(c) if !ctrl => {
            chars.insert(cur, c);
            cur += 1;
        }
        KeyCode::Backspace if cur > 0 => {
            chars.remove(cur - 1);
            cur -= 1;
        }
        KeyCode::Delete if cur < chars.len() => {
            chars.remove(cur);
        }
        KeyCode::Left => cur = cur.saturating_sub(1),
        KeyCode::Right => cur = (cur + 1).min(chars.len()),
        KeyCode::Home => cur = 0,
        KeyCode::End => cur = chars.len(),
        _ => {}
    }
    e.text = chars.into_iter().collect();
    e.cursor = cur;
}

/// `~/x` to `$HOME/x`.
pub fn expand_home(p: &str) -> String {
    match (p.strip_prefix("~/"), std::env::var("HOME")) {
        (Some(rest), Ok(home)) => format!("{home}/{rest}"),
        _ => p.to_owned(),
    }
}

/// Splits a prompt's answer into paths: whitespace separates, quotes
/// ('...' or "...") and backslash-escaped spaces keep a path whole.
pub fn split_paths(text: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    let mut it = text.chars();
    while let Some(c) = it.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                any = true;
            }
            (None, '\\') => {
                if let Some(n) = it.next() {
                    cur.push(n);
                    any = true;
                }
            }
            (None, c) if c.is_whitespace() => {
                if any || !cur.is_empty() {
                    out.push(PathBuf::from(expand_home(&cur)));
                    cur.clear();
                    any = false;
                }
            }
            (None, c) => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(PathBuf::from(expand_home(&cur)));
    }
    out
}

/// Completes the last path of a prompt: one match is written out, several
/// are listed and their common prefix written.
pub fn complete(p: &mut Prompt) {
    let text = p.edit.text.clone();
    let start = text.rfind(' ').map_or(0, |i| i + 1);
    let word = &text[start..];
    let expanded = expand_home(word);
    let (dir, stem) = match expanded.rfind('/') {
        Some(i) => (expanded[..=i].to_owned(), expanded[i + 1..].to_owned()),
        None => (String::new(), expanded.clone()),
    };
    let read_dir = if dir.is_empty() { "." } else { dir.as_str() };
    let mut names: Vec<String> = match std::fs::read_dir(read_dir) {
        Ok(rd) => rd
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                if !name.starts_with(&stem) || (name.starts_with('.') && !stem.starts_with('.')) {
                    return None;
                }
                let is_dir = e.file_type().is_ok_and(|t| t.is_dir())
                    || (e.file_type().is_ok_and(|t| t.is_symlink())
                        && Path::new(read_dir).join(&name).is_dir());
                Some(if is_dir { format!("{name}/") } else { name })
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    if names.is_empty() {
        p.error = Some(format!("nothing matches {word:?}"));
        p.completions.clear();
        return;
    }
    let common = names.iter().skip(1).fold(names[0].clone(), |acc, n| {
        acc.chars()
            .zip(n.chars())
            .take_while(|(a, b)| a == b)
            .map(|(a, _)| a)
            .collect()
    });
    let completed = format!("{}{}{}", &text[..start], dir, common);
    p.edit = LineEdit::with(&completed);
    p.completions = if names.len() > 1 { names } else { Vec::new() };
    p.error = None;
}

/// The new-function form, with defaults filled in.
pub fn new_form() -> Form {
    let field = |label, hint, value: &str| FormField {
        label,
        hint,
        edit: LineEdit::with(value),
        error: None,
    };
    Form {
        fields: vec![
            field("name", "1-64 letters, digits, - or _", ""),
            field(
                "image",
                "grycap/ffmpeg, docker://HOST/REPO:TAG, oci:PATH[:TAG]",
                "",
            ),
            field("script", "path of the shell script", ""),
            field("input", "BUCKET[/PREFIX]: uploads there trigger it", ""),
            field("output", "BUCKET[/PREFIX] for the results", ""),
            field("memory", "MB, 128-10240", "512"),
            field("timeout", "seconds, 1-900", "300"),
        ],
        focus: 0,
        error: None,
    }
}

/// Builds the definition a form describes, or marks its wrong fields.
pub fn definition_of_form(f: &mut Form) -> Option<FunctionDefinition> {
    let value = |f: &Form, i: usize| f.fields[i].edit.text.trim().to_owned();
    let mut bad = false;
    let mut fail = |f: &mut Form, i: usize, m: String| {
        f.fields[i].error = Some(m);
        bad = true;
    };
    let name = value(f, 0);
    if let Err(m) = definition::check::name(&name) {
        fail(f, 0, m);
    }
    let image = value(f, 1);
    if let Err(m) = definition::check::image(&image) {
        fail(f, 1, m);
    }
    let script_path = PathBuf::from(expand_home(&value(f, 2)));
    let script = match std::fs::read_to_string(&script_path) {
        Ok(text) => match definition::check::script(&text) {
            Ok(()) => Some(Script::File {
                path: script_path.clone(),
                text,
            }),
            Err(m) => {
                fail(f, 2, m);
                None
            }
        },
        Err(e) => {
            fail(
                f,
                2,
                format!(
                    "cannot read {:?} ({e}): give the path of a shell script",
                    value(f, 2)
                ),
            );
            None
        }
    };
    let storage = |text: String| -> Result<Option<Storage>, String> {
        if text.is_empty() {
            Ok(None)
        } else {
            Storage::parse_path(&text)
                .map(Some)
                .map_err(|e| e.to_string())
        }
    };
    let input = match storage(value(f, 3)) {
        Ok(s) => s,
        Err(m) => {
            fail(f, 3, m);
            None
        }
    };
    let output = match storage(value(f, 4)) {
        Ok(s) => s,
        Err(m) => {
            fail(f, 4, m);
            None
        }
    };
    let number = |f: &mut Form,
                  i: usize,
                  check: fn(i64) -> Result<u32, String>,
                  fail: &mut dyn FnMut(&mut Form, usize, String)| {
        let v = value(f, i);
        match v.parse::<i64>() {
            Ok(n) => match check(n) {
                Ok(n) => Some(n),
                Err(m) => {
                    fail(f, i, m);
                    None
                }
            },
            Err(_) => {
                fail(f, i, format!("{v:?} is not a whole number"));
                None
            }
        }
    };
    let memory = number(f, 5, definition::check::memory, &mut fail);
    let timeout = number(f, 6, definition::check::timeout, &mut fail);
    if bad {
        return None;
    }
    let mut def = FunctionDefinition::new(name, image, script?);
    def.memory = memory?;
    def.timeout = timeout?;
    def.input = input;
    def.outputs = output.into_iter().collect();
    if let Err(e) = def.validate() {
        // validate() names flags; point at the matching field.
        let msg = e.to_string();
        let idx = [
            "--name",
            "--image",
            "--script",
            "--input",
            "--output",
            "--memory",
            "--timeout",
        ]
        .iter()
        .position(|flag| msg.contains(flag));
        match idx {
            Some(i) => f.fields[i].error = Some(msg),
            None => f.error = Some(msg),
        }
        return None;
    }
    Some(def)
}
