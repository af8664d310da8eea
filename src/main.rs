//! `scar-tui`: run container images as serverless file processors.
//!
//! Argument parsing and dispatch only: each headless command lives in its
//! own file under `src/cli/`, over the library's `app/` (logic) and `aws/`
//! (the one layer that talks to a cloud). With no subcommand: the console
//! (`src/cli/console.rs`, over `scar_tui::tui`).

mod cli;

/// The local cloud serves thousands of small requests a second from tokio's
/// worker and blocking threads: glibc's malloc spent about 15% of the cloud
/// process's CPU in the throughput benchmark (arenas, consolidation);
/// mimalloc's thread-local free lists cost a fraction of that.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};

impl Global {
    /// The backend asked for, else local.
    pub fn backend(&self) -> scar_tui::aws::Backend {
        self.backend.unwrap_or(scar_tui::aws::Backend::Local)
    }
}

/// Options every command takes.
#[derive(clap::Args, Debug, Clone)]
pub struct Global {
    /// Cloud to use: local (the embedded local cloud) or aws [default: the
    /// console's config.toml, else local].
    #[arg(long, global = true, env = "SCAR_BACKEND")]
    pub backend: Option<scar_tui::aws::Backend>,
    /// AWS profile (aws backend).
    #[arg(long, global = true, env = "AWS_PROFILE")]
    pub profile: Option<String>,
    /// Region.
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// Endpoint of a standalone local cloud (`scar-tui local serve`).
    #[arg(long, global = true)]
    pub endpoint: Option<String>,
    /// Local cloud data folder [default: the user's data dir].
    #[arg(long, global = true)]
    pub data_dir: Option<std::path::PathBuf>,
    /// Machine-readable output.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Parser)]
#[command(
    name = "scar-tui",
    version,
    about = "Run container images as serverless file processors, from a terminal console"
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Create or update functions from a definition file (TOML or SCAR's YAML) or flags.
    Init(cli::init::Args),
    /// List the deployed functions.
    Ls(cli::ls::Args),
    /// Remove functions, their triggers and log groups (buckets with --purge).
    Rm(cli::rm::Args),
    /// Change a deployed function.
    Update(cli::update::Args),
    /// The embedded local cloud (S3, Lambda, CloudWatch Logs and metrics on loopback).
    Local {
        #[command(subcommand)]
        command: cli::local::LocalCommand,
    },
    /// Invoke a function once and print the request id, status and log tail.
    Invoke(cli::invoke::Args),
    /// Warm N execution environments so they hold the image.
    Preheat(cli::preheat::Args),
    /// A function's log lines (optionally one request's, filtered, followed).
    Logs(cli::logs::Args),
    /// One row per invocation and totals.
    Metrics(cli::metrics::Args),
    /// Upload files and folders into BUCKET[/PREFIX] (folders keep their structure).
    Put(cli::put::Args),
    /// Download every object under BUCKET[/PREFIX] into a folder.
    Get(cli::get::Args),
    /// Invoke the function once per input object (journaled, resumable).
    Run(cli::run::Args),
    /// The console's settings.
    Config {
        #[command(subcommand)]
        command: cli::console::ConfigCommand,
    },
}

fn main() -> color_eyre::Result<()> {
    // Piped into `head` and the like, end quietly as other command-line
    // tools do instead of failing on a closed stdout.
    // SAFETY: resetting a signal disposition before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // Plain text when stderr is not a terminal (scripts, CI logs).
    let theme = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        color_eyre::config::Theme::dark()
    } else {
        color_eyre::config::Theme::new()
    };
    color_eyre::config::HookBuilder::default()
        .theme(theme)
        .display_env_section(false)
        .install()?;
    let cli = Cli::parse();
    let rt = tokio::runtime::Runtime::new()?;
    let g = cli.global;
    rt.block_on(async move {
        let Some(command) = cli.command else {
            return cli::console::run(&g).await;
        };
        match command {
            Command::Config { command } => cli::console::config(&g, command),
            Command::Init(a) => cli::init::run(&g, a).await,
            Command::Ls(a) => cli::ls::run(&g, a).await,
            Command::Rm(a) => cli::rm::run(&g, a).await,
            Command::Update(a) => cli::update::run(&g, a).await,
            Command::Local { command } => cli::local::run(&g, command).await,
            Command::Invoke(a) => cli::invoke::run(&g, a).await,
            Command::Preheat(a) => cli::preheat::run(&g, a).await,
            Command::Logs(a) => cli::logs::run(&g, a).await,
            Command::Metrics(a) => cli::metrics::run(&g, a).await,
            Command::Put(a) => cli::put::run(&g, a).await,
            Command::Get(a) => cli::get::run(&g, a).await,
            Command::Run(a) => cli::run::run(&g, a).await,
        }
    })
}
