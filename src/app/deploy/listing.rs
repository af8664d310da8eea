//! What `ls` shows: the deployed functions with the settings they were
//! deployed with (read back from their environment), and, when the cloud
//! is the in-process local one, how many warm environments each holds.

use serde::Serialize;

use super::{recorded_input, recorded_outputs};
use crate::aws::{AwsError, Cloud};

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
    /// Warm execution environments, where known (the in-process local cloud).
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
        .filter(|f| all || f.environment.contains_key("SCAR_IMAGE"))
        .map(|f| FunctionRow {
            image: f.environment.get("SCAR_IMAGE").cloned(),
            runtime: f.environment.get("SCAR_RUNTIME").cloned(),
            input: recorded_input(&f).map(|s| s.describe()),
            outputs: recorded_outputs(&f).iter().map(|s| s.describe()).collect(),
            warm: cloud.local().map(|l| l.lambda().warm_environments(&f.name)),
            memory: f.memory,
            timeout: f.timeout,
            state: f.state,
            name: f.name,
        })
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(rows)
}
