//! Preheating: N `{"scar": "preheat"}` pings sent at once as synchronous
//! invocations, so that N execution environments each pull the image into
//! their `/tmp` before a batch arrives (the paper's section 4.1 remedy for
//! cold bursts).

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::aws::{AwsError, Cloud};

/// What preheating did.
#[derive(Debug, Clone, Serialize)]
pub struct PreheatReport {
    /// Pings sent.
    pub requested: usize,
    /// Pings answered `preheated`.
    pub warm: usize,
    /// Of those, environments that already held the image.
    pub already_cached: usize,
    /// Distinct environments that answered (by log stream), when known.
    pub environments: Option<usize>,
    /// Failures, one line each.
    pub errors: Vec<String>,
    /// Wall time.
    pub elapsed_ms: u64,
}

/// Sends `n` preheat pings to `function` at once.
pub async fn preheat(cloud: &Cloud, function: &str, n: usize) -> Result<PreheatReport, AwsError> {
    let started = Instant::now();
    let began_ms = cloud.clock.now_ms();
    let pings = (0..n.max(1)).map(|_| {
        let cloud = cloud.clone();
        let function = function.to_owned();
        tokio::spawn(async move {
            cloud
                .invoke_sync(&function, br#"{"scar": "preheat"}"#.to_vec())
                .await
        })
    });
    let results = futures_util::future::join_all(pings).await;
    let mut report = PreheatReport {
        requested: n.max(1),
        warm: 0,
        already_cached: 0,
        environments: None,
        errors: Vec::new(),
        elapsed_ms: 0,
    };
    for r in results {
        match r {
            Ok(Ok(out)) if out.function_error.is_none() && out.payload["status"] == "preheated" => {
                report.warm += 1;
                if out.payload["cache_hit"] == true {
                    report.already_cached += 1;
                }
            }
            Ok(Ok(out)) => report.errors.push(format!(
                "{}: {}",
                out.function_error
                    .unwrap_or_else(|| "unexpected answer".into()),
                out.payload
            )),
            Ok(Err(e)) => {
                // The first error usually explains them all (throttling, no such function).
                if e.code() == Some("ResourceNotFoundException") {
                    return Err(e);
                }
                report.errors.push(e.to_string());
            }
            Err(e) => report.errors.push(format!("ping task failed: {e}")),
        }
    }
    // The environments that logged since the preheat began, each one log
    // stream: what the APIs show, on any backend.
    report.environments = cloud
        .active_environments(function, began_ms)
        .await
        .ok()
        .map(|n| n as usize);
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    let _ = Duration::ZERO;
    Ok(report)
}
