//! `scar-tui ls [--all]`: the deployed functions.

use crate::Global;

/// Arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Also list functions scar-tui did not deploy.
    #[arg(long)]
    pub all: bool,
}

/// Runs it.
pub async fn run(g: &Global, a: Args) -> color_eyre::Result<()> {
    let cloud = super::connect(g).await?;
    let rows = scar_tui::app::deploy::listing::list(&cloud, a.all).await?;
    if g.json {
        return super::print_json(&rows);
    }
    if rows.is_empty() {
        eprintln!(
            "no functions on {}: create one with `scar-tui init`",
            cloud.describe()
        );
        return Ok(());
    }
    let dash = || "-".to_owned();
    let table: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            [
                r.name.clone(),
                r.image.clone().unwrap_or_else(dash),
                r.memory.to_string(),
                r.timeout.to_string(),
                r.runtime.clone().unwrap_or_else(dash),
                r.warm.map_or_else(dash, |w| w.to_string()),
                r.input.clone().unwrap_or_else(dash),
            ]
        })
        .collect();
    let header = [
        "NAME", "IMAGE", "MEMORY", "TIMEOUT", "RUNTIME", "WARM", "INPUT",
    ]
    .map(str::to_owned);
    let widths: Vec<usize> = (0..7)
        .map(|i| {
            std::iter::once(&header)
                .chain(&table)
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in std::iter::once(&header).chain(&table) {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", line.join("  ").trim_end());
    }
    Ok(())
}
