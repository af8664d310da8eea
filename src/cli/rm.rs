//! `scar-tui rm NAME... | --all [--purge]`: remove functions, their
//! notification entries and log groups; buckets only with `--purge`.

use color_eyre::eyre::eyre;
use scar_tui::app::deploy::remove;

use crate::Global;

/// Arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The functions.
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub names: Vec<String>,
    /// Every function scar-tui deployed.
    #[arg(long)]
    pub all: bool,
    /// Also empty and delete their buckets (not those another function still uses).
    #[arg(long)]
    pub purge: bool,
}

/// Runs it.
pub async fn run(g: &Global, a: Args) -> color_eyre::Result<()> {
    let cloud = super::connect(g).await?;
    let names = if a.all {
        remove::deployed_names(&cloud).await?
    } else {
        a.names.clone()
    };
    if names.is_empty() {
        if a.all {
            if g.json {
                return super::print_json(&remove::RemoveSummary::default());
            }
            eprintln!("no scar-tui functions on {}", cloud.describe());
            return Ok(());
        }
        return Err(eyre!("name a function, or pass --all"));
    }
    let summary = remove::remove(&cloud, &names, a.purge).await?;
    if g.json {
        return super::print_json(&summary);
    }
    for f in &summary.functions {
        let notes: Vec<String> = f
            .notifications_removed
            .iter()
            .map(|(b, n)| format!("{n} notification entries on {b}"))
            .collect();
        println!(
            "removed {}{}{}",
            f.name,
            if notes.is_empty() {
                String::new()
            } else {
                format!(", {}", notes.join(", "))
            },
            if f.log_group_deleted {
                ", log group"
            } else {
                ""
            }
        );
    }
    for (b, n) in &summary.buckets_purged {
        println!("purged bucket {b} ({n} objects)");
    }
    for (b, why) in &summary.buckets_kept {
        println!("bucket {b} {why}");
    }
    Ok(())
}
