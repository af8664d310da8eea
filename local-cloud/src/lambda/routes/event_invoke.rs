//! A function's asynchronous invocation settings: Put-, Update-, Get- and
//! DeleteFunctionEventInvokeConfig, with AWS's ranges (0 to 2 retries, 60 s
//! to 6 h of event age). The local cloud delivers on-failure records to an
//! S3 bucket (`arn:aws:s3:::BUCKET`), the destination AWS accepts for
//! asynchronous invocations since 2024; other destination types are refused
//! with a message saying so.

use http::{Response, StatusCode};
use serde_json::{Value, json};

use super::{body_json, config_of, empty, ok, store};
use crate::lambda::functions::EventInvokeConfig;
use crate::lambda::{ApiError, Lambda};
use crate::protocol::Body;
use crate::server::ServiceRequest;

/// The bucket of an S3 bucket ARN.
pub fn s3_destination_bucket(arn: &str) -> Option<&str> {
    arn.strip_prefix("arn:aws:s3:::")
        .filter(|b| !b.is_empty() && !b.contains('/'))
}

fn parse(
    body: &Value,
    base: Option<EventInvokeConfig>,
    now_s: f64,
) -> Result<EventInvokeConfig, ApiError> {
    let mut cfg = base.unwrap_or(EventInvokeConfig {
        maximum_retry_attempts: None,
        maximum_event_age_in_seconds: None,
        on_failure: None,
        last_modified_s: now_s,
    });
    if let Some(v) = body.get("MaximumRetryAttempts") {
        let n = v
            .as_u64()
            .filter(|n| *n <= 2)
            .ok_or_else(|| ApiError::invalid("MaximumRetryAttempts must be 0, 1 or 2"))?;
        cfg.maximum_retry_attempts = Some(n as u32);
    }
    if let Some(v) = body.get("MaximumEventAgeInSeconds") {
        let n = v
            .as_u64()
            .filter(|n| (60..=21_600).contains(n))
            .ok_or_else(|| {
                ApiError::invalid("MaximumEventAgeInSeconds must be between 60 and 21600")
            })?;
        cfg.maximum_event_age_in_seconds = Some(n as u32);
    }
    if let Some(dest) = body.get("DestinationConfig") {
        if dest
            .pointer("/OnSuccess/Destination")
            .and_then(Value::as_str)
            .is_some_and(|d| !d.is_empty())
        {
            return Err(ApiError::invalid(
                "the local cloud delivers on-failure records only; remove DestinationConfig.OnSuccess",
            ));
        }
        match dest
            .pointer("/OnFailure/Destination")
            .and_then(Value::as_str)
        {
            None | Some("") => cfg.on_failure = None,
            Some(arn) if s3_destination_bucket(arn).is_some() => {
                cfg.on_failure = Some(arn.to_owned())
            }
            Some(arn) => {
                return Err(ApiError::invalid(format!(
                    "The destination ARN {arn} is not supported by the local cloud: use an S3 bucket, arn:aws:s3:::BUCKET"
                )));
            }
        }
    }
    cfg.last_modified_s = now_s;
    Ok(cfg)
}

fn wire(lambda: &Lambda, name: &str, cfg: &EventInvokeConfig) -> Value {
    let arn = format!(
        "{}:$LATEST",
        crate::lambda::functions::function_arn(&lambda.settings.region, name)
    );
    let mut v = json!({
        "FunctionArn": arn,
        "LastModified": cfg.last_modified_s,
        "DestinationConfig": {
            "OnSuccess": {},
            "OnFailure": cfg.on_failure.as_ref().map_or(json!({}), |d| json!({"Destination": d})),
        },
    });
    if let Some(n) = cfg.maximum_retry_attempts {
        v["MaximumRetryAttempts"] = json!(n);
    }
    if let Some(n) = cfg.maximum_event_age_in_seconds {
        v["MaximumEventAgeInSeconds"] = json!(n);
    }
    v
}

/// Put (replace) or Update (merge) the settings.
pub(super) fn put_event_invoke(
    lambda: &Lambda,
    f: &str,
    req: &ServiceRequest,
    merge: bool,
) -> Result<Response<Body>, ApiError> {
    let body = body_json(req)?;
    let mut cfg = config_of(lambda, f)?;
    let base = if merge {
        cfg.event_invoke.clone()
    } else {
        None
    };
    let now_s = lambda.now_ms() as f64 / 1000.0;
    let settings = parse(&body, base, now_s)?;
    let answer = wire(lambda, &cfg.name, &settings);
    cfg.event_invoke = Some(settings);
    store(lambda, cfg, None)?;
    Ok(ok(StatusCode::OK, &answer))
}

/// GetFunctionEventInvokeConfig.
pub(super) fn get_event_invoke(lambda: &Lambda, f: &str) -> Result<Response<Body>, ApiError> {
    let cfg = config_of(lambda, f)?;
    match &cfg.event_invoke {
        Some(e) => Ok(ok(StatusCode::OK, &wire(lambda, &cfg.name, e))),
        None => Err(ApiError::not_found_message(format!(
            "The function {} doesn't have an EventInvokeConfig",
            crate::lambda::functions::function_arn(&lambda.settings.region, &cfg.name)
        ))),
    }
}

/// DeleteFunctionEventInvokeConfig.
pub(super) fn delete_event_invoke(lambda: &Lambda, f: &str) -> Result<Response<Body>, ApiError> {
    let mut cfg = config_of(lambda, f)?;
    cfg.event_invoke = None;
    store(lambda, cfg, None)?;
    Ok(empty(StatusCode::NO_CONTENT))
}
