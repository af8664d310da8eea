//! `scar-tui metrics NAME [--since DURATION]`: one row per invocation,
//! joined from REPORT and metrics lines, and totals.

use std::time::Duration;

use scar_tui::app::report::{Joiner, totals};
use serde_json::json;

use crate::Global;

/// Arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The function.
    pub name: String,
    /// How far back: 30s, 15m, 2h, 1d.
    #[arg(long, default_value = "1h", value_parser = super::parse_duration)]
    pub since: Duration,
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or("-".into(), |x| x.to_string())
}

/// Runs it.
pub async fn run(g: &Global, a: Args) -> color_eyre::Result<()> {
    let cloud = super::connect(g).await?;
    let mut j = Joiner::default();
    for l in cloud
        .log_lines(&a.name, Some(super::since_ms(&cloud.clock, a.since)), None)
        .await?
    {
        j.push(l.timestamp, &l.stream, &l.message);
    }
    let rows = j.invocations();
    let t = totals(&rows);
    if g.json {
        return super::print_json(&json!({"invocations": rows, "totals": t}));
    }
    println!(
        "{:<36}  {:<28}  {:>10}  {:>9}  {:>5}  {:>7}  {:>4}  STATUS",
        "REQUEST", "KEY", "DURATION", "INIT", "CACHE", "MEM MB", "EXIT"
    );
    for r in &rows {
        let key = r.input_key.clone().unwrap_or_else(|| "-".into());
        let key = if key.chars().count() > 28 {
            format!(
                "…{}",
                key.chars()
                    .rev()
                    .take(27)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect::<String>()
            )
        } else {
            key
        };
        println!(
            "{:<36}  {:<28}  {:>10}  {:>9}  {:>5}  {:>7}  {:>4}  {}",
            r.request_id,
            key,
            r.duration_ms.map_or("-".into(), |d| format!("{d:.1} ms")),
            r.init_ms.map_or("-".into(), |d| format!("{d:.0} ms")),
            r.cache_hit.map_or("-", |h| if h { "hit" } else { "miss" }),
            opt(r.max_memory_mb),
            opt(r.exit_code),
            r.state()
        );
    }
    println!(
        "\n{} invocations, {} errors, p50 {}, p95 {}, cache hits {}",
        t.count,
        t.errors,
        t.p50_ms.map_or("-".into(), |v| format!("{v:.1} ms")),
        t.p95_ms.map_or("-".into(), |v| format!("{v:.1} ms")),
        t.cache_hit_ratio
            .map_or("-".into(), |v| format!("{:.0}%", v * 100.0)),
    );
    Ok(())
}
