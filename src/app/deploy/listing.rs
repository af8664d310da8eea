//! What `ls` shows: the deployed functions with the settings they were
//! deployed with (read back from their environment), and how many
//! execution environments each ran in the last keep-warm period (its log
//! streams that logged since: what CloudWatch Logs shows on any backend).

use scar_contract::function::env as vars;
use serde::Serialize;

use super::{recorded_input, recorded_outputs};
use crate::aws::{AwsError, Cloud};

/// How long an idle environment is assumed to stay warm: the local cloud's
/// default keep-warm period (AWS does not publish one; idle environments
/// are commonly seen to last 5 to 15 minutes).
const KEEP_WARM_MS: i64 = 15 * 60 * 1000;

/// One function.
#[derive(Debug, Clone, Serialize)]
pub struct FunctionRow {
    /// Name.
    pub name: String,
    /// Image (`SCAR_IMAGE`), if deployed by scar-tui.
    pub image: Option<String>,
    /// Memory (MB).
    pub memory: u32,
    /// Timeout (s).
    pub timeout: u32,
    /// Container runtime (`SCAR_RUNTIME`).
    pub runtime: Option<String>,
    /// Input, `s3://BUCKET/PREFIX`.
    pub input: Option<String>,
    /// Outputs.
    pub outputs: Vec<String>,
    /// Execution environments active in the last keep-warm period (log
    /// streams that logged), where the logs could be read.
    pub warm: Option<usize>,
    /// Lambda's state, where reported.
    pub state: Option<String>,
}

/// The functions, sorted by name: those scar-tui deployed, or every one with `all`.
pub async fn list(cloud: &Cloud, all: bool) -> Result<Vec<FunctionRow>, AwsError> {
    let mut rows: Vec<FunctionRow> = cloud
        .list_functions()
        .await?
        .into_iter()
        .filter(|f| all || f.environment.contains_key(vars::IMAGE))
        .map(|f| FunctionRow {
            image: f.environment.get(vars::IMAGE).cloned(),
            runtime: f.environment.get(vars::RUNTIME).cloned(),
            input: recorded_input(&f).map(|s| s.describe()),
            outputs: recorded_outputs(&f).iter().map(|s| s.describe()).collect(),
            warm: None,
            memory: f.memory,
            timeout: f.timeout,
            state: f.state,
            name: f.name,
        })
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    let since = cloud.clock.now_ms() - KEEP_WARM_MS;
    let counts = futures_util::future::join_all(
        rows.iter()
            .map(|r| cloud.active_environments(&r.name, since)),
    )
    .await;
    for (row, n) in rows.iter_mut().zip(counts) {
        row.warm = n.ok().map(|n| n as usize);
    }
    Ok(rows)
}
