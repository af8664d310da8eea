//! What the console does with a task's report ([`Msg`]): new lists and
//! figures, log lines, the end of an action, a reconnection. Kept apart
//! from keys and actions because it is driven by the tasks, not the user:
//! late reports for a function no longer selected are dropped here.

use super::App;
use crate::console::msg::{Effect, Msg};
use crate::console::state::{Confirm, ConfirmKind, Fetched, LogSource, Mode, Side};

impl App {
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
}
