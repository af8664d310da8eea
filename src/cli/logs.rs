//! `scar-tui logs NAME [--follow] [--request-id ID] [--filter PATTERN] [--since DURATION]`.

use std::collections::HashSet;
use std::time::Duration;

use crate::Global;

/// Arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The function.
    pub name: String,
    /// Keep printing new lines (polls FilterLogEvents once a second, within
    /// its quota of 5 requests per second per account).
    #[arg(long, short)]
    pub follow: bool,
    /// Only this request's lines, from its START to its REPORT.
    #[arg(long)]
    pub request_id: Option<String>,
    /// A CloudWatch Logs filter pattern (terms, "quoted phrases", ?alternatives).
    #[arg(long)]
    pub filter: Option<String>,
    /// How far back: 30s, 15m, 2h, 1d.
    #[arg(long, default_value = "1h", value_parser = super::parse_duration)]
    pub since: Duration,
}

fn print(g: &Global, l: &scar_tui::aws::logs::LogLine) -> color_eyre::Result<()> {
    if g.json {
        println!("{}", serde_json::to_string(l)?);
    } else {
        println!("{}", l.message);
    }
    Ok(())
}

/// Runs it.
pub async fn run(g: &Global, a: Args) -> color_eyre::Result<()> {
    let cloud = super::connect(g).await?;
    if let Some(id) = &a.request_id {
        for l in cloud.request_lines(&a.name, id).await? {
            print(g, &l)?;
        }
        return Ok(());
    }
    let mut start = super::since_ms(&cloud.clock, a.since);
    let mut seen: HashSet<String> = HashSet::new();
    loop {
        let lines = cloud
            .log_lines(&a.name, Some(start), a.filter.as_deref())
            .await?;
        for l in &lines {
            if seen.insert(if l.event_id.is_empty() {
                format!("{}{}", l.timestamp, l.message)
            } else {
                l.event_id.clone()
            }) {
                print(g, l)?;
            }
        }
        if !a.follow {
            return Ok(());
        }
        // Re-read from the newest timestamp seen; ids deduplicate the overlap.
        if let Some(max) = lines.iter().map(|l| l.timestamp).max() {
            start = max;
            seen.retain(|_| true);
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
