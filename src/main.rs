//! `scar-tui`: run container images as serverless file processors, from a
//! terminal console. Today the binary serves the embedded local cloud
//! standalone (`scar-tui local serve`); the console and the headless
//! commands come next (see DESIGN.md).

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use color_eyre::eyre::{WrapErr, eyre};
use scar_tui::local::{LocalCloud, LocalConfig};

#[derive(Parser)]
#[command(
    name = "scar-tui",
    version,
    about = "Run container images as serverless file processors, from a terminal console"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// The embedded local cloud (S3, Lambda, CloudWatch Logs and metrics on loopback).
    Local {
        #[command(subcommand)]
        command: LocalCommand,
    },
}

#[derive(Subcommand)]
enum LocalCommand {
    /// Serve it standalone and print the lines that point any AWS client at it.
    Serve {
        /// Port on 127.0.0.1 (0 picks a free one).
        #[arg(long, default_value_t = 4566)]
        port: u16,
        /// Data folder [default: the user's data dir, scar-tui/local].
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Seconds an idle execution environment is kept warm.
        #[arg(long, default_value_t = 900)]
        keep_warm: u64,
    },
}

fn main() -> color_eyre::Result<()> {
    color_eyre::install()?;
    let cli = Cli::parse();
    match cli.command {
        None => Err(eyre!(
            "the console is not built yet; run `scar-tui local serve` for the local cloud, or `scar-supervisor run --help`"
        )),
        Some(Command::Local {
            command:
                LocalCommand::Serve {
                    port,
                    data_dir,
                    keep_warm,
                },
        }) => {
            let data_dir = match data_dir {
                Some(d) => d,
                None => LocalConfig::default_data_dir()?,
            };
            let mut config = LocalConfig::new(&data_dir);
            config.port = port;
            config.keep_warm = std::time::Duration::from_secs(keep_warm);
            let rt = tokio::runtime::Runtime::new().wrap_err("starting the async runtime")?;
            rt.block_on(async move {
                let cloud = LocalCloud::start(config).await.wrap_err_with(|| {
                    format!("starting the local cloud in {}", data_dir.display())
                })?;
                print!("{}", cloud.export_lines());
                eprintln!(
                    "# local cloud serving on {} (data in {}); ctrl-c stops it",
                    cloud.endpoint(),
                    data_dir.display()
                );
                tokio::signal::ctrl_c()
                    .await
                    .wrap_err("waiting for ctrl-c")?;
                cloud.shutdown().await;
                Ok(())
            })
        }
    }
}
