//! What the dialogs do when answered: a confirmation's action, a
//! prompt's answer (checked first: a wrong answer keeps the prompt open
//! with the reason, nothing typed is lost), the new-function form.

use std::path::PathBuf;

use super::App;
use crate::console::edit::{definition_of_form, expand_home, split_paths};
use crate::console::msg::Effect;
use crate::console::state::{Confirm, ConfirmKind, Form, Mode, Pane, Prompt, PromptKind};

impl App {
    pub(super) fn confirmed(&mut self, c: Confirm) -> Vec<Effect> {
        match c.kind {
            ConfirmKind::Demo => self.start(Effect::Demo),
            ConfirmKind::Delete(names) => {
                self.state.marked_functions.clear();
                self.start(Effect::Delete(names))
            }
            ConfirmKind::BatchRun { function, .. } => {
                self.state.focus = Pane::Invocations;
                self.start(Effect::BatchRun { function })
            }
        }
    }

    pub(super) fn prompt_done(&mut self, mut p: Prompt) -> Vec<Effect> {
        let text = p.edit.text.trim().to_owned();
        match &p.kind {
            PromptKind::Preheat { function } => match text.parse::<usize>() {
                Ok(n) if (1..=1000).contains(&n) => {
                    let function = function.clone();
                    self.start(Effect::Preheat { function, n })
                }
                _ => {
                    p.error = Some(format!(
                        "{text:?} is not a number of environments: write 1 to 1000"
                    ));
                    self.state.mode = Mode::Prompt(p);
                    Vec::new()
                }
            },
            PromptKind::Upload { function } => {
                let function = function.clone();
                let paths = split_paths(&text);
                if paths.is_empty() {
                    p.error = Some("write one or more files or folders (tab completes)".into());
                    self.state.mode = Mode::Prompt(p);
                    return Vec::new();
                }
                if let Some(missing) = paths.iter().find(|p| !p.exists()) {
                    p.error = Some(format!(
                        "{} does not exist: check the path (tab completes)",
                        missing.display()
                    ));
                    self.state.mode = Mode::Prompt(p);
                    return Vec::new();
                }
                let Some(input) = self.state.function().and_then(|f| f.input.clone()) else {
                    self.state
                        .say(format!("{function} has no input bucket"), true);
                    return Vec::new();
                };
                self.start(Effect::Upload {
                    function,
                    input,
                    paths,
                })
            }
            PromptKind::InitFile => {
                let path = PathBuf::from(expand_home(&text));
                if !path.is_file() {
                    p.error = Some(format!(
                        "{} is not a file: give a TOML or SCAR YAML definition (config/function.example.toml)",
                        path.display()
                    ));
                    self.state.mode = Mode::Prompt(p);
                    return Vec::new();
                }
                self.start(Effect::DeployFile(path))
            }
        }
    }

    pub(super) fn form_done(&mut self, mut f: Form) -> Vec<Effect> {
        match definition_of_form(&mut f) {
            Some(def) => self.start(Effect::Deploy(Box::new(def))),
            None => {
                self.state.mode = Mode::Form(f);
                Vec::new()
            }
        }
    }
}
