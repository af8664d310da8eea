//! `scar-tui update NAME [--memory --timeout --image --script ...]`:
//! change a deployed function. It starts from the definition the function
//! records, applies the flags and redeploys; the code is replaced only
//! when `--script` (or `--script-inline`) is given.

use std::path::PathBuf;

use color_eyre::eyre::WrapErr;
use scar_tui::app::definition::Script;
use scar_tui::app::deploy;

use super::init::{parse_env, parse_storage, print_report, read_script};
use crate::Global;

/// Arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The function.
    pub name: String,
    /// Memory (MB).
    #[arg(long)]
    pub memory: Option<u32>,
    /// Timeout (s).
    #[arg(long)]
    pub timeout: Option<u32>,
    /// `/tmp` size (MB).
    #[arg(long)]
    pub ephemeral_storage: Option<u32>,
    /// Image reference.
    #[arg(long)]
    pub image: Option<String>,
    /// A new script (repackages the function's code).
    #[arg(long, value_name = "PATH")]
    pub script: Option<PathBuf>,
    /// A new script, written on the command line.
    #[arg(long, value_name = "TEXT", conflicts_with = "script")]
    pub script_inline: Option<String>,
    /// Container runtime: auto, userns, proot or host.
    #[arg(long)]
    pub runtime: Option<String>,
    /// Set a variable (repeatable).
    #[arg(long, value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Remove a variable (repeatable).
    #[arg(long, value_name = "KEY")]
    pub unset_env: Vec<String>,
    /// A new input (its trigger moves there).
    #[arg(long, value_name = "BUCKET[/PREFIX]", conflicts_with = "no_input")]
    pub input: Option<String>,
    /// Input suffix filters (repeatable; replace the current ones).
    #[arg(long, value_name = "SUFFIX")]
    pub input_suffix: Vec<String>,
    /// Remove the input trigger.
    #[arg(long)]
    pub no_input: bool,
    /// Outputs (repeatable; replace the current ones).
    #[arg(long, value_name = "BUCKET[/PREFIX]", conflicts_with = "no_outputs")]
    pub output: Vec<String>,
    /// Remove every output.
    #[arg(long)]
    pub no_outputs: bool,
    /// Reserved concurrency.
    #[arg(long, conflicts_with = "unreserved")]
    pub reserved_concurrency: Option<u32>,
    /// Remove the reserved concurrency.
    #[arg(long)]
    pub unreserved: bool,
    /// IAM role ARN.
    #[arg(long)]
    pub role: Option<String>,
    /// Log retention (days).
    #[arg(long, conflicts_with = "no_log_retention")]
    pub log_retention_days: Option<u32>,
    /// Keep log events forever.
    #[arg(long)]
    pub no_log_retention: bool,
}

/// Runs it.
pub async fn run(g: &Global, a: Args) -> color_eyre::Result<()> {
    let cloud = super::connect(g).await?;
    let mut def = deploy::current_definition(&cloud, &a.name).await?;
    if let Some(m) = a.memory {
        def.memory = m;
    }
    if let Some(t) = a.timeout {
        def.timeout = t;
    }
    if let Some(e) = a.ephemeral_storage {
        def.ephemeral_storage = e;
    }
    if let Some(i) = &a.image {
        def.image = i.clone();
    }
    if let Some(p) = &a.script {
        def.script = read_script(p)?;
    } else if let Some(t) = &a.script_inline {
        def.script = Script::Inline { text: t.clone() };
    }
    if let Some(r) = &a.runtime {
        def.runtime = r
            .parse()
            .map_err(|e: scar_contract::runtime::UnknownRuntime| {
                color_eyre::eyre::eyre!("--runtime: {e}")
            })?;
    }
    for k in &a.unset_env {
        def.environment.remove(k);
    }
    for pair in &a.env {
        let (k, v) = parse_env(pair)?;
        def.environment.insert(k, v);
    }
    if a.no_input {
        def.input = None;
    }
    if let Some(i) = &a.input {
        def.input = Some(parse_storage("--input", i)?);
    }
    if !a.input_suffix.is_empty() {
        match def.input.as_mut() {
            Some(input) => input.suffixes = a.input_suffix.clone(),
            None => {
                return Err(color_eyre::eyre::eyre!(
                    "--input-suffix: {} has no input; pass --input too",
                    a.name
                ));
            }
        }
    }
    if a.no_outputs {
        def.outputs.clear();
    }
    if !a.output.is_empty() {
        def.outputs = a
            .output
            .iter()
            .map(|o| parse_storage("--output", o))
            .collect::<Result<_, _>>()?;
    }
    if a.unreserved {
        def.reserved_concurrency = None;
    } else if let Some(n) = a.reserved_concurrency {
        def.reserved_concurrency = Some(n);
    }
    if let Some(r) = &a.role {
        def.role = Some(r.clone());
    }
    if a.no_log_retention {
        def.log_retention_days = None;
    } else if let Some(d) = a.log_retention_days {
        def.log_retention_days = Some(d);
    }
    def.validate()?;
    let r = deploy::deploy(&cloud, &def)
        .await
        .wrap_err_with(|| format!("updating {}", a.name))?;
    if g.json {
        return super::print_json(&r);
    }
    print_report(&r);
    Ok(())
}
