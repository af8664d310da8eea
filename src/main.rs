//! `scar-tui`: run container images as serverless file processors, from a
//! terminal console. The console, the local cloud and the headless commands
//! land in later steps; today the binary only parses its arguments, and the
//! working part of the product is the `scar-supervisor` crate.

use clap::Parser;

#[derive(Parser)]
#[command(
    name = "scar-tui",
    version,
    about = "Run container images as serverless file processors, from a terminal console",
    long_about = "Run container images as serverless file processors, from a terminal console.\n\nThis build ships the in-function supervisor only: try `scar-supervisor run --help`."
)]
struct Cli {}

fn main() -> color_eyre::Result<()> {
    color_eyre::install()?;
    let _cli = Cli::parse();
    println!(
        "scar-tui {}: the console is not built yet; run `scar-supervisor run --help` for the supervisor",
        env!("CARGO_PKG_VERSION")
    );
    Ok(())
}
