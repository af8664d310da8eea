//! `scar-tui` with no subcommand: the console. Loads the settings (a
//! broken file is reported in the status line, not fatal), lets flags and
//! the environment win over them, connects (the local cloud starts in
//! this process unless one is serving), and hands over to `scar_tui::tui`.
//! Also `scar-tui config path`.

use std::path::PathBuf;
use std::time::Duration;

use color_eyre::eyre::{WrapErr, eyre};
use scar_tui::aws::Backend;
use scar_tui::backend::ConnectOptions;
use scar_tui::console::settings::{self, ConfigPaths};
use scar_tui::console::state::State;
use scar_tui::console::tasks::{self, TaskOptions};
use scar_tui::console::update::App;

use crate::Global;

/// `scar-tui config ...`.
#[derive(clap::Subcommand, Debug)]
pub enum ConfigCommand {
    /// Print where the console's config.toml and theme.toml are read from.
    Path,
}

/// Runs `config`.
pub fn config(g: &Global, c: ConfigCommand) -> color_eyre::Result<()> {
    let ConfigCommand::Path = c;
    let p = ConfigPaths::user().ok_or_else(|| eyre!("no config folder: $HOME is not set"))?;
    if g.json {
        return super::print_json(&serde_json::json!({
            "dir": p.dir, "config": p.config, "theme": p.theme,
        }));
    }
    println!("{}", p.dir.display());
    println!("{}", p.config.display());
    println!("{}", p.theme.display());
    Ok(())
}

/// Where the console keeps its own files (demo image, batch journals).
fn work_dir(g: &Global, backend: Backend) -> color_eyre::Result<PathBuf> {
    Ok(match (&g.data_dir, backend) {
        (Some(d), _) => d.clone(),
        (None, Backend::Local) => scar_tui::backend::default_data_dir()?,
        (None, Backend::Aws) => directories::ProjectDirs::from("", "", "scar-tui")
            .map(|d| d.data_dir().to_owned())
            .ok_or_else(|| eyre!("no data folder: $HOME is not set; pass --data-dir"))?,
    })
}

/// Runs the console.
pub async fn run(g: &Global) -> color_eyre::Result<()> {
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        return Err(eyre!(
            "the console needs a terminal (stdin and stdout are not one): run it in a terminal, or use a headless command (scar-tui --help)"
        ));
    }
    let (mut settings, problems) = match ConfigPaths::user() {
        Some(p) => settings::load(&p),
        None => (
            Default::default(),
            vec!["no config folder ($HOME is not set): using the defaults".into()],
        ),
    };
    // Flags and the environment win over the file.
    let backend = g.backend.or(settings.backend).unwrap_or(Backend::Local);
    let connect = ConnectOptions {
        backend,
        profile: g.profile.clone().or(settings.profile.clone()),
        region: g.region.clone().or(settings.region.clone()),
        endpoint: g.endpoint.clone().or(settings.endpoint.clone()),
        data_dir: g.data_dir.clone(),
    };
    settings.backend = Some(backend);
    let cloud = scar_tui::backend::connect(connect.clone())
        .await
        .wrap_err_with(|| format!("connecting to the {backend} backend"))?;
    let work = work_dir(g, backend)?;
    let opts = TaskOptions {
        connect,
        journal_dir: tasks::journal_dir(&work, &cloud),
        work_dir: work,
        max_objects: 10_000,
        logs_interval: Duration::from_millis(settings.refresh.logs_ms),
        max_lines_per_poll: settings.buffers.log_lines,
        keep_warm_ms: (settings.keep_warm_minutes as i64) * 60_000,
        stats_window_s: (settings.history_minutes.clamp(1, 24 * 60) * 60) as i32,
        demo_samples: 5,
    };
    let mut state = State::new(settings, tasks::backend_info(&cloud));
    if let Some(first) = problems.first() {
        state.say(
            if problems.len() > 1 {
                format!("{first} (and {} more)", problems.len() - 1)
            } else {
                first.clone()
            },
            true,
        );
    }
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let clock = cloud.clock.clone();
    let tasks = tasks::Tasks::new(cloud, tx, opts);
    scar_tui::tui::run(App::new(state), tasks, rx, clock)
        .await
        .wrap_err("the console's terminal")?;
    Ok(())
}
