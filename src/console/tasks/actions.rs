//! The action effects that take more than one call: deploying a
//! definition file, making the demo (image, function, sample uploads) and
//! invoking a function once or over chosen keys. They run side by side
//! and answer with the text of the status line.

use std::path::PathBuf;
use std::sync::Arc;

use crate::app::batch::payload_for;
use crate::app::{definition, demo, deploy};
use crate::aws::Cloud;

use super::text;

pub(super) async fn deploy_file(
    cloud: &Cloud,
    path: PathBuf,
) -> Result<(String, Option<String>), String> {
    let loaded = tokio::task::spawn_blocking(move || definition::load(&path))
        .await
        .map_err(text)?
        .map_err(text)?;
    let mut names = Vec::new();
    for def in &loaded.functions {
        let r = deploy::deploy(cloud, def).await.map_err(text)?;
        names.push(format!("{} {}", r.action, r.name));
    }
    let first = loaded.functions.first().map(|d| d.name.clone());
    let mut text = names.join(", ");
    if let Some(w) = loaded.warnings.first() {
        text.push_str(&format!(" (warning: {w})"));
    }
    Ok((text, first))
}

pub(super) async fn make_demo(
    cloud: &Cloud,
    work: &std::path::Path,
    samples: usize,
) -> Result<String, String> {
    let dir = work.to_owned();
    let (def, sample_dir) = tokio::task::spawn_blocking(move || {
        let image = demo::build_image(&dir.join("image"))?;
        let def = demo::definition(&dir, &image)?;
        let samples = demo::samples(&dir, samples)?;
        Ok::<_, demo::DemoError>((def, samples))
    })
    .await
    .map_err(text)?
    .map_err(text)?;
    let r = deploy::deploy(cloud, &def).await.map_err(text)?;
    let mut said = format!(
        "{} {} (busybox image, input demo-in, output demo-out)",
        r.action, r.name
    );
    if samples > 0
        && let Some(input) = &def.input
    {
        let t = Arc::new(crate::aws::transfer::Transfer::default());
        let s = cloud
            .put_paths(&input.bucket, &input.prefix, &[sample_dir], 8, t)
            .await
            .map_err(text)?;
        said.push_str(&format!(
            "; uploaded {} sample file(s): watch panes 3 and 4",
            s.files
        ));
    }
    Ok(said)
}

pub(super) async fn invoke(
    cloud: &Cloud,
    function: &str,
    bucket: &str,
    keys: &[String],
) -> Result<String, String> {
    if keys.is_empty() {
        let out = cloud
            .invoke_sync(function, b"{}".to_vec())
            .await
            .map_err(text)?;
        let status = out.payload["status"]
            .as_str()
            .unwrap_or("answered")
            .to_owned();
        let short = out.request_id.get(..8).unwrap_or(&out.request_id);
        return match out.function_error {
            Some(e) => Err(format!("request {short}: {e} ({status})")),
            None => Ok(format!("invoked {function}: {status} (request {short})")),
        };
    }
    let mut sent = 0;
    for k in keys {
        cloud
            .invoke_event(function, payload_for(bucket, k))
            .await
            .map_err(|e| format!("{k}: {e}"))?;
        sent += 1;
    }
    Ok(format!("sent {sent} invocation(s) of {function}"))
}
