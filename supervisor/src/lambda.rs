//! The Lambda custom runtime: one event at a time from the Runtime API.
//!
//! Per event: parse it, make sure the image is in the cache (which lives in
//! this environment's `/tmp` and so survives warm invocations), then for
//! each input object download it, run the script, upload the outputs even
//! after a timeout, print the metrics line and answer. Failures answer with
//! an error type the console and the async retry logic can tell apart:
//! `InvalidEvent`, `ConfigError`, `ImageError`, `StagingError`,
//! `ContainerError`, `ScriptFailed`, `ScriptTimedOut`.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::{Value, json};

use crate::config::{self, FunctionConfig};
use crate::event::{self, Event, InputObject};
use crate::image::ImageStore;
use crate::invocation::{self, InputSource, Job, Workspace, iso8601, now_ms};
use crate::stage::Storage;

struct State {
    config: FunctionConfig,
    store: ImageStore,
    storage: OnceLock<Result<Storage, String>>,
}

fn diag(kind: &str, message: impl Into<String>) -> Diagnostic {
    let message = message.into();
    eprintln!("scar: {kind}: {message}");
    Diagnostic {
        error_type: kind.to_owned(),
        error_message: message,
    }
}

/// Serves events until the Runtime API goes away.
pub async fn serve() -> Result<(), lambda_runtime::Error> {
    // A configuration error is answered to every event (a clear error in
    // the caller's hands) rather than crashing the environment in a loop.
    let state: Result<Arc<State>, String> = FunctionConfig::from_env()
        .and_then(|c| Ok((c, config::image_store(None)?)))
        .map(|(config, store)| {
            Arc::new(State {
                config,
                store,
                storage: OnceLock::new(),
            })
        })
        .map_err(|e| e.to_string());
    if let Err(e) = &state {
        eprintln!("scar: ConfigError: {e}");
    }
    lambda_runtime::run(service_fn(move |ev: LambdaEvent<Value>| {
        let state = state.clone();
        async move {
            match state {
                Ok(s) => handle(&s, ev).await,
                Err(e) => Err(diag("ConfigError", e)),
            }
        }
    }))
    .await
}

async fn handle(state: &State, ev: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
    let (payload, ctx) = ev.into_parts();
    let parsed = event::parse(&payload).map_err(|e| diag("InvalidEvent", e.to_string()))?;
    let cfg = &state.config;

    // Keep a reserve before Lambda's own deadline so outputs can still be
    // uploaded and the answer sent; never more than a quarter of the budget.
    let remaining = Duration::from_millis(ctx.deadline.saturating_sub(now_ms()));
    let reserve = cfg.reserve.min(remaining / 4);
    let deadline = Instant::now() + remaining.saturating_sub(reserve);

    let prepared = state
        .store
        .ensure(&cfg.image)
        .await
        .map_err(|e| diag("ImageError", e.to_string()))?;

    let objects: Vec<Option<InputObject>> = match parsed {
        Event::Preheat => {
            let m = crate::metrics::InvocationMetrics {
                function_name: cfg.name.clone(),
                request_id: ctx.request_id.clone(),
                image_digest: prepared.image.meta.digest.clone(),
                cache_hit: prepared.cache_hit,
                pull_ms: prepared.pull_ms,
                unpack_ms: prepared.unpack_ms,
                status: "preheated".into(),
                ..Default::default()
            };
            println!("{}", m.line(now_ms()));
            return Ok(json!({
                "status": "preheated",
                "request_id": ctx.request_id,
                "cache_hit": prepared.cache_hit,
                "image_digest": prepared.image.meta.digest,
                "timings": {"pull_ms": prepared.pull_ms, "unpack_ms": prepared.unpack_ms},
            }));
        }
        Event::NoInput => vec![None],
        Event::Objects(objs) => objs.into_iter().map(Some).collect(),
    };

    let event_text = payload.to_string();
    let many = objects.len() > 1;
    let mut runs = Vec::with_capacity(objects.len());
    let mut failure: Option<Diagnostic> = None;
    for (i, object) in objects.into_iter().enumerate() {
        let request_id = if many {
            format!("{}-{i}", ctx.request_id)
        } else {
            ctx.request_id.clone()
        };
        let job = Job {
            request_id,
            function_name: cfg.name.clone(),
            script: cfg.script.clone(),
            runtime: cfg.runtime,
            vars: cfg.vars.clone(),
            event: event_text.clone(),
            event_time: object
                .as_ref()
                .and_then(|o| o.event_time.clone())
                .unwrap_or_else(|| iso8601(now_ms())),
            deadline: Some(deadline),
        };
        match run_one(state, &job, &prepared, object.as_ref()).await {
            Ok((summary, problem)) => {
                runs.push(summary);
                if failure.is_none() {
                    failure = problem;
                }
            }
            Err(d) => {
                failure.get_or_insert(d);
                break;
            }
        }
    }
    if let Some(d) = failure {
        return Err(d);
    }
    Ok(if runs.len() == 1 {
        runs.pop().unwrap_or(Value::Null)
    } else {
        json!({"status": "succeeded", "request_id": ctx.request_id, "runs": runs})
    })
}

/// One object: stage in, run, stage out, print metrics. Returns the run's
/// summary and, if the script failed, the error to answer with.
async fn run_one(
    state: &State,
    job: &Job,
    prepared: &crate::image::Prepared,
    object: Option<&InputObject>,
) -> Result<(Value, Option<Diagnostic>), Diagnostic> {
    let cfg = &state.config;
    let ws = Workspace::create(&config::work_root(), &job.request_id, cfg.runtime)
        .map_err(|e| diag("StagingError", e.to_string()))?;
    let needs_s3 = object.is_some() || !cfg.outputs.is_empty();
    let storage = if needs_s3 {
        let s = state
            .storage
            .get_or_init(|| Storage::from_env().map_err(|e| e.to_string()));
        Some(s.clone().map_err(|e| diag("StagingError", e))?)
    } else {
        None
    };
    let input = match (object, &storage) {
        (Some(o), Some(s)) => {
            let dest = ws.input_dir().join(invocation::input_name(&o.key));
            let bytes = s
                .download(&o.bucket, &o.key, &dest)
                .await
                .map_err(|e| diag("StagingError", e.to_string()))?;
            Some(InputSource::Staged {
                key: o.key.clone(),
                bytes,
            })
        }
        _ => None,
    };
    let mut outcome = invocation::run_job(job, prepared, &ws, input.as_ref())
        .await
        .map_err(|e| diag("ContainerError", e.to_string()))?;
    // Outputs are delivered even after a timeout or a failed exit: partial
    // results are results (SCAR did this too, but without saying so).
    let upload_started = Instant::now();
    let uploaded = match &storage {
        Some(s) if !cfg.outputs.is_empty() => s.upload(&outcome.outputs, &cfg.outputs).await,
        _ => Ok(Vec::new()),
    };
    outcome.metrics.upload_ms = upload_started.elapsed().as_millis() as u64;
    println!("{}", outcome.metrics.line(now_ms()));
    let uploaded = uploaded.map_err(|e| diag("StagingError", e.to_string()))?;
    let m = &outcome.metrics;
    let summary = json!({
        "status": m.status,
        "request_id": m.request_id,
        "exit_code": m.exit_code,
        "runtime": outcome.runtime.to_string(),
        "input": object.map(|o| json!({"bucket": o.bucket, "key": o.key})),
        "outputs": uploaded,
        "cache_hit": m.cache_hit,
        "image_digest": m.image_digest,
        "timings": {"pull_ms": m.pull_ms, "unpack_ms": m.unpack_ms, "script_ms": m.script_ms, "upload_ms": m.upload_ms},
    });
    let what = object
        .map(|o| format!("s3://{}/{}", o.bucket, o.key))
        .unwrap_or_else(|| "the invocation without input".into());
    let problem = if outcome.timed_out {
        Some(diag(
            "ScriptTimedOut",
            format!(
                "the script on {what} was killed at the deadline (function timeout minus SCAR_TIMEOUT_RESERVE_S); {} partial output uploads were made; raise the function's timeout",
                uploaded.len()
            ),
        ))
    } else if m.exit_code != 0 {
        Some(diag(
            "ScriptFailed",
            format!(
                "the script on {what} exited with code {}; its output is in the log above; {} output uploads were made",
                m.exit_code,
                uploaded.len()
            ),
        ))
    } else {
        None
    };
    Ok((summary, problem))
}
