//! The headless commands, one file each: parse, call `app/` and `aws/`,
//! print a table or `--json`.

pub mod console;
pub mod get;
pub mod init;
pub mod invoke;
pub mod local;
pub mod logs;
pub mod ls;
pub mod metrics;
pub mod preheat;
pub mod put;
pub mod rm;
pub mod run;
pub mod update;

use color_eyre::eyre::{WrapErr, eyre};
use scar_tui::aws::Cloud;
use scar_tui::backend::ConnectOptions;

use crate::Global;

/// Connects as the global options say.
pub async fn connect(g: &Global) -> color_eyre::Result<Cloud> {
    scar_tui::backend::connect(ConnectOptions {
        backend: g.backend(),
        profile: g.profile.clone(),
        region: g.region.clone(),
        endpoint: g.endpoint.clone(),
        data_dir: g.data_dir.clone(),
    })
    .await
    .wrap_err_with(|| format!("connecting to the {} backend", g.backend()))
}

/// Parses `30s`, `15m`, `2h`, `1d` (a bare number is seconds).
pub fn parse_duration(text: &str) -> color_eyre::Result<std::time::Duration> {
    let t = text.trim();
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: u64 = num
        .parse()
        .map_err(|_| eyre!("{text:?} is not a duration: write 30s, 15m, 2h or 1d"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => {
            return Err(eyre!(
                "{text:?} is not a duration: write 30s, 15m, 2h or 1d"
            ));
        }
    };
    Ok(std::time::Duration::from_secs(secs))
}

/// Milliseconds since the epoch, `ago` before `clock`'s now.
pub fn since_ms(clock: &scar_contract::time::Clock, ago: std::time::Duration) -> i64 {
    clock.now_ms() - ago.as_millis() as i64
}

/// Prints a value as pretty JSON.
pub fn print_json<T: serde::Serialize>(v: &T) -> color_eyre::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}
