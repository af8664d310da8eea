//! Lambda's REST-JSON API on AWS's paths
//! (<https://docs.aws.amazon.com/lambda/latest/api/API_Operations.html>):
//! the control plane and Invoke, with AWS's status codes, error types,
//! messages and payload limits.
//!
//! This file maps method and path to a handler and holds what the handlers
//! share (responses, the request body and query, finding and storing a
//! configuration). The handlers sit by responsibility: `crud` (a function's
//! own life), `invoke`, `concurrency` and `policy` (resource permissions).

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Response, StatusCode};
use serde_json::{Value, json};

use super::functions::{self, FunctionConfig};
use super::{ApiError, Lambda};
use crate::protocol::{self, Body, Protocol};
use crate::server::ServiceRequest;

mod concurrency;
mod crud;
pub mod event_invoke;
mod invoke;
mod policy;

use concurrency::put_concurrency;
use crud::{create, delete, get, list, update_code, update_config};
use event_invoke::{delete_event_invoke, get_event_invoke, put_event_invoke};
use invoke::invoke;
pub use invoke::{MAX_ASYNC_PAYLOAD, MAX_SYNC_PAYLOAD};
use policy::{add_permission, get_policy, remove_permission};

fn ok(status: StatusCode, v: &Value) -> Response<Body> {
    protocol::json(Protocol::RestJson, status, v)
}

fn empty(status: StatusCode) -> Response<Body> {
    let mut r = Response::new(Body::from(Bytes::new()));
    *r.status_mut() = status;
    r
}

fn body_json(req: &ServiceRequest) -> Result<Value, ApiError> {
    if req.body.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(&req.body)
        .map_err(|e| ApiError::invalid(format!("Could not parse request body into json: {e}")))
}

fn query_param(req: &ServiceRequest, name: &str) -> Option<String> {
    req.uri.query().and_then(|q| {
        q.split('&').find_map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k == name).then(|| {
                percent_encoding::percent_decode_str(v)
                    .decode_utf8_lossy()
                    .into_owned()
            })
        })
    })
}

/// Dispatches one request.
pub async fn route(lambda: &Arc<Lambda>, req: ServiceRequest) -> Result<Response<Body>, ApiError> {
    let path = req.uri.path().to_owned();
    let segs: Vec<String> = path
        .trim_matches('/')
        .split('/')
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let m = &req.method;
    match segs.as_slice() {
        ["2015-03-31", "functions"] | ["2015-03-31", "functions", ""] if m == Method::POST => {
            create(lambda, &req)
        }
        ["2015-03-31", "functions"] | ["2015-03-31", "functions", ""] if m == Method::GET => {
            list(lambda, &req)
        }
        ["2015-03-31", "functions", f] if m == Method::GET => get(lambda, f),
        ["2015-03-31", "functions", f] if m == Method::DELETE => delete(lambda, f),
        ["2015-03-31", "functions", f, "configuration"] if m == Method::GET => Ok(ok(
            StatusCode::OK,
            &config_of(lambda, f)?.to_wire(&lambda.settings.region),
        )),
        ["2015-03-31", "functions", f, "configuration"] if m == Method::PUT => {
            update_config(lambda, f, &req)
        }
        ["2015-03-31", "functions", f, "code"] if m == Method::PUT => update_code(lambda, f, &req),
        ["2015-03-31", "functions", f, "invocations"] if m == Method::POST => {
            invoke(lambda, f, &req).await
        }
        ["2015-03-31", "functions", f, "policy"] if m == Method::POST => {
            add_permission(lambda, f, &req)
        }
        ["2015-03-31", "functions", f, "policy"] if m == Method::GET => get_policy(lambda, f),
        ["2015-03-31", "functions", f, "policy", sid] if m == Method::DELETE => {
            remove_permission(lambda, f, sid)
        }
        ["2019-09-25", "functions", f, "event-invoke-config"] if m == Method::PUT => {
            put_event_invoke(lambda, f, &req, false)
        }
        ["2019-09-25", "functions", f, "event-invoke-config"] if m == Method::POST => {
            put_event_invoke(lambda, f, &req, true)
        }
        ["2019-09-25", "functions", f, "event-invoke-config"] if m == Method::GET => {
            get_event_invoke(lambda, f)
        }
        ["2019-09-25", "functions", f, "event-invoke-config"] if m == Method::DELETE => {
            delete_event_invoke(lambda, f)
        }
        ["2017-10-31", "functions", f, "concurrency"] if m == Method::PUT => {
            put_concurrency(lambda, f, &req)
        }
        ["2017-10-31", "functions", f, "concurrency"] if m == Method::DELETE => {
            let mut cfg = config_of(lambda, f)?;
            cfg.reserved_concurrency = None;
            store(lambda, cfg, None)?;
            Ok(empty(StatusCode::NO_CONTENT))
        }
        ["2019-09-30", "functions", f, "concurrency"] if m == Method::GET => {
            let cfg = config_of(lambda, f)?;
            Ok(ok(
                StatusCode::OK,
                &match cfg.reserved_concurrency {
                    Some(n) => json!({"ReservedConcurrentExecutions": n}),
                    None => json!({}),
                },
            ))
        }
        ["2016-08-19", "account-settings"] | ["2016-08-19", "account-settings", ""]
            if m == Method::GET =>
        {
            let n = lambda.configs().len();
            let reserved: u32 = lambda
                .configs()
                .iter()
                .filter_map(|c| c.reserved_concurrency)
                .sum();
            Ok(ok(
                StatusCode::OK,
                &json!({
                    "AccountLimit": {
                        "TotalCodeSize": 80530636800u64,
                        "CodeSizeUnzipped": 262144000,
                        "CodeSizeZipped": 52428800,
                        "ConcurrentExecutions": lambda.settings.account_concurrency,
                        "UnreservedConcurrentExecutions": lambda.settings.account_concurrency.saturating_sub(reserved),
                    },
                    "AccountUsage": {"TotalCodeSize": 0, "FunctionCount": n},
                }),
            ))
        }
        _ => Err(ApiError {
            status: StatusCode::NOT_FOUND,
            error_type: "UnknownOperationException",
            message: format!("Unknown operation {m} {path}"),
        }),
    }
}

fn config_of(lambda: &Lambda, reference: &str) -> Result<FunctionConfig, ApiError> {
    let name = functions::name_from_ref(reference);
    lambda
        .config(name)
        .ok_or_else(|| ApiError::not_found(&lambda.settings.region, name))
}

/// Persists then publishes a configuration (and new code).
fn store(
    lambda: &Lambda,
    mut cfg: FunctionConfig,
    code: Option<&functions::Code>,
) -> Result<FunctionConfig, ApiError> {
    cfg.revision_id = uuid::Uuid::new_v4().to_string();
    cfg.last_modified = functions::lambda_timestamp(lambda.now_ms());
    functions::save(&lambda.settings.dir, &cfg, code)?;
    lambda.put_config(cfg.clone());
    Ok(cfg)
}
