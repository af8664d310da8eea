//! `scar-tui invoke NAME [--payload JSON | --key KEY] [--async]`.

use color_eyre::eyre::{WrapErr, eyre};
use serde_json::json;

use crate::Global;

/// Arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The function.
    pub name: String,
    /// The event, as JSON.
    #[arg(long, conflicts_with = "key")]
    pub payload: Option<String>,
    /// An input object to process (in the function's input bucket, or BUCKET/KEY).
    #[arg(long)]
    pub key: Option<String>,
    /// Queue it (Event) instead of waiting for the answer.
    #[arg(long = "async")]
    pub asynchronous: bool,
}

/// The input bucket a deployed function records in `SCAR_INPUT` (set by `init`).
async fn input_bucket(
    cloud: &scar_tui::aws::Cloud,
    function: &str,
) -> color_eyre::Result<Option<String>> {
    let cfg = cloud
        .lambda
        .get_function_configuration()
        .function_name(function)
        .send()
        .await
        .map_err(|e| scar_tui::aws::AwsError::call("GetFunctionConfiguration", function, &e))?;
    Ok(cfg
        .environment()
        .and_then(|e| e.variables())
        .and_then(|v| v.get(scar_contract::function::env::INPUT))
        .and_then(|s| scar_contract::function::Storage::input_from_env(s).ok())
        .map(|input| input.bucket))
}

/// Runs it.
pub async fn run(g: &Global, a: Args) -> color_eyre::Result<()> {
    let cloud = super::connect(g).await?;
    let payload = match (&a.payload, &a.key) {
        (Some(p), _) => {
            serde_json::from_str::<serde_json::Value>(p).wrap_err("--payload is not valid JSON")?;
            p.clone().into_bytes()
        }
        (None, Some(k)) => {
            let (bucket, key) = match input_bucket(&cloud, &a.name).await? {
                Some(b) => (b, k.clone()),
                None => match k.split_once('/') {
                    Some((b, k)) if !b.is_empty() && !k.is_empty() => (b.to_owned(), k.to_owned()),
                    _ => {
                        return Err(eyre!(
                            "function {} records no input bucket: pass --key BUCKET/KEY",
                            a.name
                        ));
                    }
                },
            };
            json!({"input": {"bucket": bucket, "key": key}})
                .to_string()
                .into_bytes()
        }
        (None, None) => b"{}".to_vec(),
    };
    if a.asynchronous {
        let id = cloud.invoke_event(&a.name, payload).await?;
        if g.json {
            return super::print_json(&json!({"request_id": id, "status": "queued"}));
        }
        println!("{id}\tqueued");
        return Ok(());
    }
    let out = cloud.invoke_sync(&a.name, payload).await?;
    if g.json {
        return super::print_json(&out);
    }
    let status = match &out.function_error {
        None => "succeeded".to_owned(),
        Some(e) => format!(
            "failed ({e}): {}",
            out.payload["errorType"].as_str().unwrap_or("error")
        ),
    };
    println!("{}\t{status}", out.request_id);
    println!("{}", serde_json::to_string_pretty(&out.payload)?);
    if !out.log_tail.is_empty() {
        println!("--- log tail");
        print!("{}", out.log_tail);
    }
    if out.function_error.is_some() {
        std::process::exit(1);
    }
    Ok(())
}
