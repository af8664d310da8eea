//! `scar-tui preheat NAME [--environments N]`.

use crate::Global;

/// Arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The function.
    pub name: String,
    /// How many environments to warm.
    #[arg(long, short = 'n', default_value_t = 1)]
    pub environments: usize,
}

/// Runs it.
pub async fn run(g: &Global, a: Args) -> color_eyre::Result<()> {
    let cloud = super::connect(g).await?;
    let r = scar_tui::app::preheat::preheat(&cloud, &a.name, a.environments).await?;
    if g.json {
        super::print_json(&r)?;
    } else {
        println!(
            "{}: {} of {} pings warm ({} already cached){} in {} ms",
            a.name,
            r.warm,
            r.requested,
            r.already_cached,
            r.environments
                .map(|n| format!(", {n} environments hold the image"))
                .unwrap_or_default(),
            r.elapsed_ms
        );
        for e in &r.errors {
            eprintln!("  error: {e}");
        }
    }
    if r.warm == 0 {
        std::process::exit(1);
    }
    Ok(())
}
