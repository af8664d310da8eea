//! `scar-tui local serve`: the local cloud, standalone.

use std::path::PathBuf;

use clap::Subcommand;
use color_eyre::eyre::WrapErr;
use scar_local::{LocalCloud, LocalConfig};

use crate::Global;

/// `local` subcommands.
#[derive(Subcommand, Debug)]
pub enum LocalCommand {
    /// Serve it standalone and print the lines that point any AWS client at it.
    Serve {
        /// Port on 127.0.0.1 (0 picks a free one).
        #[arg(long, default_value_t = 4566)]
        port: u16,
        /// Seconds an idle execution environment is kept warm.
        #[arg(long, default_value_t = 900)]
        keep_warm: u64,
    },
    /// Build the offline demo image (Debian's static busybox) as an OCI
    /// layout in DIR and print its reference (`oci:DIR:demo`).
    DemoImage {
        /// Where the layout goes (kept if it is already there).
        dir: PathBuf,
    },
}

/// Runs a `local` subcommand.
pub async fn run(g: &Global, command: LocalCommand) -> color_eyre::Result<()> {
    let (port, keep_warm) = match command {
        LocalCommand::Serve { port, keep_warm } => (port, keep_warm),
        LocalCommand::DemoImage { dir } => {
            let reference = scar_tui::app::demo::build_image(&dir)
                .wrap_err_with(|| format!("building the demo image in {}", dir.display()))?;
            println!("{reference}");
            return Ok(());
        }
    };
    let data_dir: PathBuf = match &g.data_dir {
        Some(d) => d.clone(),
        None => LocalConfig::default_data_dir()?,
    };
    let mut config = LocalConfig::new(&data_dir);
    config.port = port;
    config.keep_warm = std::time::Duration::from_secs(keep_warm);
    if let Some(r) = &g.region {
        config.region = r.clone();
    }
    let cloud = LocalCloud::start(config)
        .await
        .wrap_err_with(|| format!("starting the local cloud in {}", data_dir.display()))?;
    // Commands on the same data folder find this server by this record.
    let record = scar_tui::backend::ServingRecord {
        endpoint: cloud.endpoint().to_owned(),
        pid: std::process::id(),
    };
    let record_path = scar_tui::backend::serving_record_path(&data_dir);
    std::fs::write(&record_path, serde_json::to_vec(&record)?)
        .wrap_err_with(|| format!("writing {}", record_path.display()))?;
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
    let _ = std::fs::remove_file(&record_path);
    Ok(())
}
