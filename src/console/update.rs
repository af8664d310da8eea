//! The one place the console state changes: keys (through the key map,
//! or the line being edited), task messages and ticks. Each returns the
//! [`Effect`]s to start; `tasks` runs them. Refreshes are scheduled here,
//! on ticks, with a backoff after failures, so that a lost network keeps
//! the panes' last data and retries at a falling rate.
//!
//! This file keeps the [`App`] itself, the schedule, key dispatch, cursor
//! movement and the helpers its children share; what a task's report does
//! is in `messages`, what an action does in `actions`, the `:` command line
//! in `commands` and the answered dialogs in `dialogs`.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::edit::{complete, edit_line};
use super::msg::Effect;
use super::state::{Fetched, FilterIndex, LogSource, Mode, Pane, PromptKind, Side, State};
use super::summary;

mod actions;
mod commands;
mod dialogs;
mod messages;

/// Rows moved by a half page.
pub const HALF_PAGE: usize = 10;

/// Longest wait between retries of a failing refresh.
pub const MAX_BACKOFF_MS: i64 = 60_000;

/// When a refresh is due: `interval` after the last success or attempt,
/// doubling per failure in a row up to [`MAX_BACKOFF_MS`].
fn due<T>(f: &Fetched<T>, last_attempt: Option<i64>, interval_ms: u64, now_ms: i64) -> bool {
    if f.loading {
        return false;
    }
    let Some(last) = last_attempt.or(f.at_ms) else {
        return true;
    };
    let wait = if f.failures == 0 {
        interval_ms as i64
    } else {
        (interval_ms as i64)
            .saturating_mul(1 << f.failures.min(10))
            .min(MAX_BACKOFF_MS)
    };
    now_ms - last >= wait
}

/// Attempt times of the periodic refreshes (not drawn, so not in `State`'s
/// public surface as data the views need; kept beside it).
#[derive(Debug, Clone, Default)]
pub struct Schedule {
    functions: Option<i64>,
    objects: Option<i64>,
    stats: Option<i64>,
    stats_loading: bool,
}

/// The console core: state plus its refresh schedule.
#[derive(Debug, Clone)]
pub struct App {
    /// What is drawn.
    pub state: State,
    schedule: Schedule,
    offered_demo: bool,
}

impl App {
    /// A console over `state`.
    pub fn new(state: State) -> App {
        App {
            state,
            schedule: Schedule::default(),
            offered_demo: false,
        }
    }

    /// Time passes: refreshes that are due, derived figures.
    pub fn tick(&mut self, now_ms: i64) -> Vec<Effect> {
        let s = &mut self.state;
        s.now_ms = now_ms;
        let mut fx = Vec::new();
        let r = s.settings.refresh.clone();
        if due(
            &s.functions,
            self.schedule.functions,
            r.functions_ms,
            now_ms,
        ) {
            s.functions.loading = true;
            self.schedule.functions = Some(now_ms);
            fx.push(Effect::RefreshFunctions);
        }
        if let Some(f) = s.function().cloned() {
            let objects_due =
                due(&s.inputs, self.schedule.objects, r.objects_ms, now_ms) && !s.outputs.loading;
            if objects_due {
                s.inputs.loading = true;
                s.outputs.loading = true;
                self.schedule.objects = Some(now_ms);
                fx.push(Effect::RefreshObjects {
                    function: f.info.name.clone(),
                    input: f.input.clone(),
                    outputs: f.outputs.clone(),
                });
            }
        }
        let stats_due = !self.schedule.stats_loading
            && self
                .schedule
                .stats
                .is_none_or(|t| now_ms - t >= r.stats_ms as i64);
        if stats_due && let Some(rows) = &s.functions.data {
            let names: Vec<String> = rows.iter().map(|r| r.info.name.clone()).collect();
            if !names.is_empty() {
                self.schedule.stats = Some(now_ms);
                self.schedule.stats_loading = true;
                fx.push(Effect::RefreshStats(names));
            }
        }
        self.resummarize();
        fx
    }

    fn resummarize(&mut self) {
        let s = &mut self.state;
        let second = s.now_ms.div_euclid(1000);
        if s.summary.version != s.history.version() || s.summary.second != second {
            s.summary = summary::compute(&s.history, s.now_ms);
        }
    }

    /// Asks for every refresh at the next tick.
    fn refresh_now(&mut self) {
        self.schedule = Schedule {
            stats_loading: self.schedule.stats_loading,
            ..Schedule::default()
        };
        let s = &mut self.state;
        s.functions.at_ms = None;
        s.functions.failures = 0;
        s.inputs.at_ms = None;
        s.inputs.failures = 0;
    }

    /// Selects a function by name: the panes below follow it.
    fn select_function(&mut self, name: Option<String>) -> Vec<Effect> {
        let s = &mut self.state;
        if s.selected_function == name {
            return Vec::new();
        }
        s.selected_function = name.clone();
        s.inputs = Fetched::default();
        s.outputs = Fetched::default();
        s.inputs_cursor = Default::default();
        s.outputs_cursor = Default::default();
        s.marked_inputs.clear();
        s.history.clear();
        s.invocations_cursor = Default::default();
        s.logs.lines.clear();
        s.logs.matches = s
            .logs
            .filter
            .as_deref()
            .map(|f| FilterIndex::build(f, &s.logs.lines));
        s.logs.sampled = 0;
        s.logs.scroll = 0;
        s.logs.tail = Fetched::default();
        s.logs.request = Fetched::default();
        s.logs.source = name.clone().map_or(LogSource::None, LogSource::Function);
        self.schedule.objects = None;
        let since_ms = s.now_ms - s.settings.history_ms();
        if name.is_some() {
            s.logs.tail.loading = true;
        }
        self.resummarize();
        vec![Effect::Tail {
            function: name,
            since_ms,
        }]
    }

    /// A key press.
    pub fn key(&mut self, ev: KeyEvent) -> Vec<Effect> {
        // ctrl-c always leaves, whatever the mode: the terminal is restored
        // by the caller.
        if ev.code == KeyCode::Char('c') && ev.modifiers.contains(KeyModifiers::CONTROL) {
            self.state.quit = true;
            return Vec::new();
        }
        let mode = std::mem::replace(&mut self.state.mode, Mode::Normal);
        match mode {
            Mode::Normal => match self.state.settings.keys.action(&ev) {
                Some(a) => self.act(a),
                None => Vec::new(),
            },
            Mode::Help => Vec::new(),
            Mode::Command(mut edit) => match ev.code {
                KeyCode::Enter => self.command(&edit.text),
                KeyCode::Esc => Vec::new(),
                _ => {
                    edit_line(&mut edit, &ev);
                    self.state.mode = Mode::Command(edit);
                    Vec::new()
                }
            },
            Mode::Filter(mut edit) => {
                match ev.code {
                    KeyCode::Enter => {}
                    KeyCode::Esc => self.set_filter(String::new()),
                    _ => {
                        edit_line(&mut edit, &ev);
                        self.set_filter(edit.text.clone());
                        self.state.mode = Mode::Filter(edit);
                    }
                }
                Vec::new()
            }
            Mode::Confirm(c) => match ev.code {
                KeyCode::Char('y' | 'Y') | KeyCode::Enter => self.confirmed(c),
                KeyCode::Char('n' | 'N') | KeyCode::Esc => {
                    self.state.say("cancelled", false);
                    Vec::new()
                }
                _ => {
                    self.state.mode = Mode::Confirm(c);
                    Vec::new()
                }
            },
            Mode::Prompt(mut p) => match ev.code {
                KeyCode::Esc => Vec::new(),
                KeyCode::Enter => self.prompt_done(p),
                KeyCode::Tab => {
                    if matches!(p.kind, PromptKind::Upload { .. } | PromptKind::InitFile) {
                        complete(&mut p);
                    }
                    self.state.mode = Mode::Prompt(p);
                    Vec::new()
                }
                _ => {
                    edit_line(&mut p.edit, &ev);
                    p.error = None;
                    self.state.mode = Mode::Prompt(p);
                    Vec::new()
                }
            },
            Mode::Form(mut f) => match ev.code {
                KeyCode::Esc => Vec::new(),
                KeyCode::Tab | KeyCode::Down => {
                    f.focus = (f.focus + 1) % f.fields.len();
                    self.state.mode = Mode::Form(f);
                    Vec::new()
                }
                KeyCode::BackTab | KeyCode::Up => {
                    f.focus = (f.focus + f.fields.len() - 1) % f.fields.len();
                    self.state.mode = Mode::Form(f);
                    Vec::new()
                }
                KeyCode::Enter => self.form_done(f),
                _ => {
                    if let Some(field) = f.fields.get_mut(f.focus) {
                        edit_line(&mut field.edit, &ev);
                        field.error = None;
                    }
                    self.state.mode = Mode::Form(f);
                    Vec::new()
                }
            },
        }
    }

    fn set_filter(&mut self, text: String) {
        let s = &mut self.state;
        match s.focus {
            Pane::Logs => {
                s.logs.matches =
                    (!text.is_empty()).then(|| FilterIndex::build(&text, &s.logs.lines));
                s.logs.filter = (!text.is_empty()).then_some(text);
                s.logs.scroll = 0;
            }
            pane => {
                if text.is_empty() {
                    s.filters.remove(&pane);
                } else {
                    s.filters.insert(pane, text);
                }
                s.functions_cursor.selected = 0;
                s.inputs_cursor.selected = 0;
                s.outputs_cursor.selected = 0;
                s.invocations_cursor.selected = 0;
            }
        }
    }

    /// Rows in the focused list, and its cursor.
    fn rows_and_cursor(&mut self) -> Option<(usize, &mut super::state::Cursor)> {
        let s = &mut self.state;
        match s.focus {
            Pane::Functions => {
                let n = s.visible_functions().len();
                Some((n, &mut s.functions_cursor))
            }
            Pane::Objects => {
                let n = s.visible_objects(s.side).len();
                Some(match s.side {
                    Side::Input => (n, &mut s.inputs_cursor),
                    Side::Output => (n, &mut s.outputs_cursor),
                })
            }
            Pane::Invocations => {
                let n = s.visible_invocations().len();
                Some((n, &mut s.invocations_cursor))
            }
            Pane::Logs | Pane::Metrics => None,
        }
    }

    fn move_cursor(&mut self, delta: isize, to: Option<bool>) -> Vec<Effect> {
        if self.state.focus == Pane::Logs {
            let logs = &mut self.state.logs;
            let held = match &logs.source {
                LogSource::Request { .. } => logs.request.data.as_ref().map_or(0, Vec::len),
                _ => logs.lines.len(),
            };
            match to {
                Some(true) => {
                    logs.scroll = held;
                    logs.follow = false;
                }
                Some(false) => {
                    logs.scroll = 0;
                    logs.follow = true;
                }
                None => {
                    // Up (negative) scrolls back in time.
                    let back = logs.scroll as isize - delta;
                    logs.scroll = back.clamp(0, held as isize) as usize;
                    if delta < 0 {
                        logs.follow = false;
                    }
                }
            }
            return Vec::new();
        }
        let Some((n, c)) = self.rows_and_cursor() else {
            return Vec::new();
        };
        if n == 0 {
            c.selected = 0;
            return Vec::new();
        }
        c.selected = match to {
            Some(true) => 0,
            Some(false) => n - 1,
            None => (c.selected as isize + delta).clamp(0, n as isize - 1) as usize,
        };
        let sel = c.selected;
        if self.state.focus == Pane::Functions {
            let name = self
                .state
                .visible_functions()
                .get(sel)
                .map(|r| r.info.name.clone());
            return self.select_function(name);
        }
        Vec::new()
    }

    fn need_function(&mut self) -> Option<super::state::FunctionRow> {
        let f = self.state.function().cloned();
        if f.is_none() {
            let text = match &self.state.selected_function {
                // Just deployed: the next list brings it.
                Some(name) => format!("{name} is not listed yet: try again in a moment"),
                None => "no function selected: pick one in pane 1, or press n to create one".into(),
            };
            self.state.say(text, true);
        }
        f
    }

    /// Starts an action: it joins the busy list until its task reports.
    fn start(&mut self, e: Effect) -> Vec<Effect> {
        if let Some(l) = e.label() {
            self.state.busy.push(l);
        }
        vec![e]
    }
}

#[cfg(test)]
#[path = "update_tests.rs"]
mod tests;
