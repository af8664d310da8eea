//! The terminal side of the console: raw mode and the alternate screen
//! (restored on every exit, a panic included: `ratatui::init` installs a
//! hook that restores the terminal before the previous hook, color-eyre's,
//! prints), a thread that reads terminal events, and the one loop: select
//! a key, a task message or a tick; update; draw only when something
//! changed, after draining every queued event (yazi's rule).

use std::time::Duration;

use ratatui::crossterm::event::{self, Event, KeyEventKind};
use scar_contract::time::Clock;
use tokio::sync::mpsc;

use crate::console::msg::{Effect, Msg};
use crate::console::tasks::Tasks;
use crate::console::update::App;

/// How often time-driven work runs (refresh schedule, ages on screen).
pub const TICK: Duration = Duration::from_millis(250);

fn spawn_input() -> mpsc::UnboundedReceiver<Event> {
    let (tx, rx) = mpsc::unbounded_channel();
    // crossterm's read blocks; a thread of its own keeps the runtime free.
    std::thread::spawn(move || {
        while let Ok(ev) = event::read() {
            if tx.send(ev).is_err() {
                break;
            }
        }
    });
    rx
}

/// Runs the console until the user quits.
pub async fn run(
    mut app: App,
    mut tasks: Tasks,
    mut messages: mpsc::UnboundedReceiver<Msg>,
    clock: Clock,
) -> std::io::Result<()> {
    let mut terminal = ratatui::try_init()?;
    let mut input = spawn_input();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut dirty = true;
    let mut second = 0;
    let result = loop {
        if dirty {
            if let Err(e) = terminal.draw(|f| crate::views::draw(f, &app.state)) {
                break Err(e);
            }
            dirty = false;
        }
        if app.state.quit {
            break Ok(());
        }
        let mut effects: Vec<Effect> = Vec::new();
        tokio::select! {
            ev = input.recv() => {
                let Some(ev) = ev else { break Ok(()) };
                dirty |= on_event(&mut app, ev, &mut effects);
                while let Ok(ev) = input.try_recv() {
                    dirty |= on_event(&mut app, ev, &mut effects);
                }
            }
            msg = messages.recv() => {
                if let Some(msg) = msg {
                    effects.extend(app.message(msg));
                    while let Ok(msg) = messages.try_recv() {
                        effects.extend(app.message(msg));
                    }
                    dirty = true;
                }
            }
            _ = tick.tick() => {
                let now = clock.now_ms();
                effects.extend(app.tick(now));
                // Ages and the concurrency chart move once a second.
                if now / 1000 != second {
                    second = now / 1000;
                    dirty = true;
                }
            }
        }
        dirty |= !effects.is_empty();
        for e in effects {
            tasks.run(e);
        }
    };
    ratatui::restore();
    drop(tasks);
    result
}

fn on_event(app: &mut App, ev: Event, effects: &mut Vec<Effect>) -> bool {
    match ev {
        // Key releases (reported by some terminals) are not presses.
        Event::Key(k) if k.kind != KeyEventKind::Release => {
            effects.extend(app.key(k));
            true
        }
        Event::Resize(..) => true,
        _ => false,
    }
}
