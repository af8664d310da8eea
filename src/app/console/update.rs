//! The one place the console state changes: keys (through the key map,
//! or the line being edited), task messages and ticks. Each returns the
//! [`Effect`]s to start; `tasks` runs them. Refreshes are scheduled here,
//! on ticks, with a backoff after failures, so that a lost network keeps
//! the panes' last data and retries at a falling rate.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;
use super::edit::{complete, edit_line, new_form};
use super::msg::{Effect, Msg};
use super::state::{
    Confirm, ConfirmKind, Fetched, FilterIndex, LineEdit, LogSource, Mode, Pane, Prompt,
    PromptKind, Side, State,
};
use super::summary;

mod commands;
mod dialogs;

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

    /// A task's report.
    pub fn message(&mut self, msg: Msg) -> Vec<Effect> {
        let now = self.state.now_ms;
        match msg {
            Msg::Functions(result) => {
                let s = &mut self.state;
                s.functions.receive(result, now);
                let names: Vec<String> = s
                    .visible_functions()
                    .iter()
                    .map(|r| r.info.name.clone())
                    .collect();
                s.marked_functions.retain(|m| names.contains(m));
                if s.functions.error.is_some() {
                    return Vec::new();
                }
                // A new user on an empty local cloud is offered the demo,
                // once, so that files are processed within a minute.
                if !self.offered_demo {
                    self.offered_demo = true;
                    if names.is_empty() && s.backend.backend == "local" && s.mode == Mode::Normal {
                        s.mode = Mode::Confirm(Confirm {
                            kind: ConfirmKind::Demo,
                        });
                    }
                }
                // Keep the selection on the same function when the list moves.
                let keep = s
                    .selected_function
                    .as_ref()
                    .and_then(|n| names.iter().position(|x| x == n));
                let (idx, name) = match keep {
                    Some(i) => (i, names.get(i).cloned()),
                    None => {
                        let i = s
                            .functions_cursor
                            .selected
                            .min(names.len().saturating_sub(1));
                        (i, names.get(i).cloned())
                    }
                };
                s.functions_cursor.selected = idx;
                self.select_function(name)
            }
            Msg::Stats(result) => {
                self.schedule.stats_loading = false;
                match result {
                    Ok(m) => self.state.stats = m,
                    Err(e) => self.state.say(format!("figures: {e}"), true),
                }
                Vec::new()
            }
            Msg::Objects {
                function,
                side,
                result,
            } => {
                let s = &mut self.state;
                if s.selected_function.as_deref() != Some(&function) {
                    return Vec::new();
                }
                match side {
                    Side::Input => s.inputs.receive(result, now),
                    Side::Output => s.outputs.receive(result, now),
                }
                let n = s.visible_objects(side).len();
                let c = match side {
                    Side::Input => &mut s.inputs_cursor,
                    Side::Output => &mut s.outputs_cursor,
                };
                c.selected = c.selected.min(n.saturating_sub(1));
                Vec::new()
            }
            Msg::LogLines {
                function,
                lines,
                sampled,
            } => {
                let s = &mut self.state;
                if s.selected_function.as_deref() != Some(&function) {
                    return Vec::new();
                }
                let added = lines.len();
                for l in lines {
                    s.history.push(l.timestamp, &l.stream, &l.message);
                    s.logs.lines.push(l);
                }
                if let Some(ix) = &mut s.logs.matches {
                    ix.extend(&s.logs.lines, added);
                }
                s.logs.sampled += sampled;
                s.logs.tail.receive(Ok(()), now);
                if !s.logs.follow && s.logs.source == LogSource::Function(function) {
                    // Keep the lines being read in place while new ones arrive.
                    s.logs.scroll = (s.logs.scroll + added).min(s.logs.lines.len());
                }
                self.resummarize();
                Vec::new()
            }
            Msg::TailError { function, error } => {
                let s = &mut self.state;
                if s.selected_function.as_deref() == Some(&function) {
                    s.logs.tail.receive(Err(error), now);
                }
                Vec::new()
            }
            Msg::RequestLines { request_id, result } => {
                let s = &mut self.state;
                if matches!(&s.logs.source, LogSource::Request { request_id: r, .. } if *r == request_id)
                {
                    s.logs.request.receive(result, now);
                }
                Vec::new()
            }
            Msg::Batch(view) => {
                self.state.batch = Some(view);
                Vec::new()
            }
            Msg::Done {
                what,
                result,
                select,
            } => {
                let s = &mut self.state;
                if let Some(i) = s.busy.iter().position(|b| *b == what) {
                    s.busy.remove(i);
                }
                match result {
                    Ok(text) => s.say(text, false),
                    Err(text) => s.say(format!("{what}: {text}"), true),
                }
                self.refresh_now();
                match select {
                    Some(name) => self.select_function(Some(name)),
                    None => Vec::new(),
                }
            }
            Msg::Reconnected(result) => {
                match result {
                    Ok(b) => {
                        let text = format!(
                            "now on {} {}{}",
                            b.backend,
                            b.region,
                            b.profile
                                .as_deref()
                                .map(|p| format!(" (profile {p})"))
                                .unwrap_or_default()
                        );
                        self.state.backend = b;
                        self.state.functions = Fetched::default();
                        self.state.stats.clear();
                        self.refresh_now();
                        self.state.say(text, false);
                        return self.select_function(None);
                    }
                    Err(e) => self.state.say(e, true),
                }
                Vec::new()
            }
        }
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

    fn selected_input_key(&self) -> Option<String> {
        let s = &self.state;
        s.visible_objects(Side::Input)
            .get(s.inputs_cursor.selected)
            .map(|o| o.key.clone())
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

    /// Applies a normal-mode action.
    pub fn act(&mut self, a: Action) -> Vec<Effect> {
        let s = &mut self.state;
        match a {
            Action::Quit => s.quit = true,
            Action::FocusFunctions
            | Action::FocusObjects
            | Action::FocusLogs
            | Action::FocusInvocations
            | Action::FocusMetrics => {
                s.focus = match a {
                    Action::FocusFunctions => Pane::Functions,
                    Action::FocusObjects => Pane::Objects,
                    Action::FocusLogs => Pane::Logs,
                    Action::FocusInvocations => Pane::Invocations,
                    _ => Pane::Metrics,
                };
            }
            Action::NextPane | Action::PrevPane => {
                let i = s.focus.number() - 1;
                let n = Pane::ALL.len();
                let j = if a == Action::NextPane {
                    (i + 1) % n
                } else {
                    (i + n - 1) % n
                };
                s.focus = Pane::ALL[j];
            }
            Action::Expand => s.expanded = !s.expanded,
            Action::Up => return self.move_cursor(-1, None),
            Action::Down => return self.move_cursor(1, None),
            Action::PageUp => return self.move_cursor(-(HALF_PAGE as isize), None),
            Action::PageDown => return self.move_cursor(HALF_PAGE as isize, None),
            Action::Top => return self.move_cursor(0, Some(true)),
            Action::Bottom => return self.move_cursor(0, Some(false)),
            Action::Open => return self.open(),
            Action::Back => {
                if matches!(s.logs.source, LogSource::Request { .. }) && s.focus == Pane::Logs {
                    s.logs.source = s
                        .selected_function
                        .clone()
                        .map_or(LogSource::None, LogSource::Function);
                    s.logs.request = Fetched::default();
                } else if s.focus == Pane::Logs && s.logs.filter.is_some() {
                    s.logs.filter = None;
                    s.logs.matches = None;
                } else if s.filters.remove(&s.focus).is_some() {
                } else if !s.marked_functions.is_empty() || !s.marked_inputs.is_empty() {
                    s.marked_functions.clear();
                    s.marked_inputs.clear();
                } else if s.expanded {
                    s.expanded = false;
                }
            }
            Action::Mark => {
                match s.focus {
                    Pane::Functions => {
                        if let Some(r) = s.visible_functions().get(s.functions_cursor.selected) {
                            let n = r.info.name.clone();
                            if !s.marked_functions.remove(&n) {
                                s.marked_functions.insert(n);
                            }
                        }
                    }
                    Pane::Objects if s.side == Side::Input => {
                        if let Some(k) = self.selected_input_key() {
                            let s = &mut self.state;
                            if !s.marked_inputs.remove(&k) {
                                s.marked_inputs.insert(k);
                            }
                        }
                    }
                    _ => return Vec::new(),
                }
                return self.move_cursor(1, None);
            }
            Action::Follow => {
                s.logs.follow = !s.logs.follow;
                if s.logs.follow {
                    s.logs.scroll = 0;
                }
            }
            Action::Wrap => s.logs.wrap = !s.logs.wrap,
            Action::Timestamps => s.logs.timestamps = !s.logs.timestamps,
            Action::Filter => {
                let current = match s.focus {
                    Pane::Logs => s.logs.filter.clone().unwrap_or_default(),
                    p => s.filters.get(&p).cloned().unwrap_or_default(),
                };
                s.mode = Mode::Filter(LineEdit::with(&current));
            }
            Action::Command => s.mode = Mode::Command(LineEdit::default()),
            Action::Help => s.mode = Mode::Help,
            Action::New => s.mode = Mode::Form(new_form()),
            Action::Preheat => {
                if let Some(f) = self.need_function() {
                    self.state.mode = Mode::Prompt(Prompt {
                        kind: PromptKind::Preheat {
                            function: f.info.name,
                        },
                        edit: LineEdit::with("1"),
                        error: None,
                        completions: Vec::new(),
                    });
                }
            }
            Action::Upload => {
                if let Some(f) = self.need_function() {
                    if f.input.is_none() {
                        self.state.say(
                            format!(
                                "{} has no input bucket: recreate it with an input (n)",
                                f.info.name
                            ),
                            true,
                        );
                    } else {
                        self.state.mode = Mode::Prompt(Prompt {
                            kind: PromptKind::Upload {
                                function: f.info.name,
                            },
                            edit: LineEdit::default(),
                            error: None,
                            completions: Vec::new(),
                        });
                    }
                }
            }
            Action::Run => {
                if let Some(f) = self.need_function() {
                    if f.input.is_none() {
                        self.state.say(
                            format!("{} has no input bucket to run over", f.info.name),
                            true,
                        );
                    } else {
                        let inputs = self.state.inputs.data.as_ref().map(Vec::len);
                        self.state.mode = Mode::Confirm(Confirm {
                            kind: ConfirmKind::BatchRun {
                                function: f.info.name,
                                inputs,
                            },
                        });
                    }
                }
            }
            Action::Invoke => return self.invoke(),
            Action::Delete => {
                let names: Vec<String> = if !s.marked_functions.is_empty() {
                    s.marked_functions.iter().cloned().collect()
                } else {
                    s.selected_function.iter().cloned().collect()
                };
                if names.is_empty() {
                    s.say(
                        "nothing to delete: select or mark functions in pane 1",
                        true,
                    );
                } else {
                    s.mode = Mode::Confirm(Confirm {
                        kind: ConfirmKind::Delete(names),
                    });
                }
            }
            Action::Refresh => {
                self.refresh_now();
                self.state.say("refreshing", false);
            }
            Action::SwitchSide => {
                if s.focus == Pane::Objects {
                    s.side = match s.side {
                        Side::Input => Side::Output,
                        Side::Output => Side::Input,
                    };
                }
            }
        }
        Vec::new()
    }

    fn open(&mut self) -> Vec<Effect> {
        let s = &mut self.state;
        match s.focus {
            Pane::Functions => {
                s.focus = Pane::Objects;
                Vec::new()
            }
            Pane::Invocations => {
                let picked = s
                    .visible_invocations()
                    .get(s.invocations_cursor.selected)
                    .map(|i| i.request_id.clone());
                match picked {
                    Some(id) => self.open_request(id),
                    None => Vec::new(),
                }
            }
            Pane::Objects if s.side == Side::Input => {
                let key = self.selected_input_key();
                let s = &mut self.state;
                match key.and_then(|k| s.history.for_key(&k).map(|i| i.request_id.clone())) {
                    Some(id) => self.open_request(id),
                    None => {
                        s.say("no invocation of this object in the history yet", false);
                        Vec::new()
                    }
                }
            }
            _ => Vec::new(),
        }
    }

    /// Shows one request's log lines in the logs pane.
    pub fn open_request(&mut self, request_id: String) -> Vec<Effect> {
        let s = &mut self.state;
        let Some(function) = s.selected_function.clone() else {
            return Vec::new();
        };
        s.logs.source = LogSource::Request {
            function: function.clone(),
            request_id: request_id.clone(),
        };
        s.logs.request = Fetched {
            loading: true,
            ..Fetched::default()
        };
        s.logs.scroll = 0;
        s.focus = Pane::Logs;
        vec![Effect::RequestLogs {
            function,
            request_id,
        }]
    }

    fn invoke(&mut self) -> Vec<Effect> {
        let Some(f) = self.need_function() else {
            return Vec::new();
        };
        let s = &self.state;
        let keys: Vec<String> = if s.focus == Pane::Objects && s.side == Side::Input {
            if s.marked_inputs.is_empty() {
                self.selected_input_key().into_iter().collect()
            } else {
                s.marked_inputs.iter().cloned().collect()
            }
        } else {
            Vec::new()
        };
        let bucket = f
            .input
            .as_ref()
            .map(|i| i.bucket.clone())
            .unwrap_or_default();
        self.state.marked_inputs.clear();
        self.start(Effect::Invoke {
            function: f.info.name,
            bucket,
            keys,
        })
    }
}

#[cfg(test)]
#[path = "update_tests.rs"]
mod tests;
