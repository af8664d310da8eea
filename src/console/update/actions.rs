//! What a normal-mode [`Action`] does: focus, cursor and panes, marks,
//! filters, and the dialogs or tasks the actions start (opening a
//! request's logs, invoking the selected or marked inputs). Kept apart
//! from the key dispatch in `update.rs`, which maps keys to these actions.

use super::{App, HALF_PAGE};
use crate::console::action::Action;
use crate::console::edit::new_form;
use crate::console::msg::Effect;
use crate::console::state::{
    Confirm, ConfirmKind, Fetched, LineEdit, LogSource, Mode, Pane, Prompt, PromptKind, Side,
};

impl App {
    fn selected_input_key(&self) -> Option<String> {
        let s = &self.state;
        s.visible_objects(Side::Input)
            .get(s.inputs_cursor.selected)
            .map(|o| o.key.clone())
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
