//! The `:` command line: pane aliases (`:fn`, `:in`, `:out`, `:logs`,
//! `:inv`, `:metrics`), `:profile` and `:region`, and the actions by name
//! (`:init FILE`, `:demo`, `:upload PATH`, `:preheat N`, `:run`, `:q`).

use super::App;
use crate::console::action::Action;
use crate::console::edit::new_form;
use crate::console::msg::Effect;
use crate::console::state::{LineEdit, Mode, Pane, Prompt, PromptKind, Side, State};

impl App {
    /// Runs a `:` command.
    pub fn command(&mut self, line: &str) -> Vec<Effect> {
        let mut words = line.split_whitespace();
        let Some(cmd) = words.next() else {
            return Vec::new();
        };
        let rest: Vec<&str> = words.collect();
        let arg = rest.join(" ");
        let s = &mut self.state;
        let focus = |s: &mut State, p: Pane| s.focus = p;
        match cmd {
            "q" | "q!" | "quit" | "exit" => s.quit = true,
            "fn" | "func" | "functions" => focus(s, Pane::Functions),
            "in" | "inputs" => {
                focus(s, Pane::Objects);
                s.side = Side::Input;
            }
            "out" | "outputs" => {
                focus(s, Pane::Objects);
                s.side = Side::Output;
            }
            "logs" | "log" => focus(s, Pane::Logs),
            "inv" | "invocations" => focus(s, Pane::Invocations),
            "metrics" | "m" => focus(s, Pane::Metrics),
            "help" | "h" => s.mode = Mode::Help,
            "profile" | "region" => {
                if arg.is_empty() {
                    let b = &s.backend;
                    let text = format!(
                        "profile {}, region {} (:{cmd} NAME to switch)",
                        b.profile.as_deref().unwrap_or("-"),
                        b.region
                    );
                    s.say(text, false);
                } else {
                    let (profile, region) = if cmd == "profile" {
                        (Some(arg), None)
                    } else {
                        (None, Some(arg))
                    };
                    return self.start(Effect::Reconnect { profile, region });
                }
            }
            "init" | "deploy" => {
                if arg.is_empty() {
                    s.mode = Mode::Prompt(Prompt {
                        kind: PromptKind::InitFile,
                        edit: LineEdit::default(),
                        error: None,
                        completions: Vec::new(),
                    });
                } else {
                    let p = Prompt {
                        kind: PromptKind::InitFile,
                        edit: LineEdit::with(&arg),
                        error: None,
                        completions: Vec::new(),
                    };
                    return self.prompt_done(p);
                }
            }
            "demo" => return self.start(Effect::Demo),
            "new" => s.mode = Mode::Form(new_form()),
            "preheat" => {
                let Some(f) = self.need_function() else {
                    return Vec::new();
                };
                let p = Prompt {
                    kind: PromptKind::Preheat {
                        function: f.info.name,
                    },
                    edit: LineEdit::with(if arg.is_empty() { "1" } else { &arg }),
                    error: None,
                    completions: Vec::new(),
                };
                return self.prompt_done(p);
            }
            "upload" | "put" => {
                if arg.is_empty() {
                    return self.act(Action::Upload);
                }
                let Some(f) = self.need_function() else {
                    return Vec::new();
                };
                let p = Prompt {
                    kind: PromptKind::Upload {
                        function: f.info.name,
                    },
                    edit: LineEdit::with(&arg),
                    error: None,
                    completions: Vec::new(),
                };
                return self.prompt_done(p);
            }
            "run" => return self.act(Action::Run),
            "invoke" => return self.act(Action::Invoke),
            "delete" | "rm" => return self.act(Action::Delete),
            "refresh" => return self.act(Action::Refresh),
            other => s.say(
                format!(
                    "unknown command :{other}: try :fn :in :out :logs :inv :metrics :profile NAME :region NAME :init FILE :demo :new :upload PATH :preheat N :run :q"
                ),
                true,
            ),
        }
        Vec::new()
    }
}
