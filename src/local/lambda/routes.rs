//! Lambda's REST-JSON API on AWS's paths
//! (<https://docs.aws.amazon.com/lambda/latest/api/API_Operations.html>):
//! the control plane and Invoke, with AWS's status codes, error types,
//! messages and payload limits.

use std::sync::Arc;

use base64::Engine;
use bytes::Bytes;
use http::{HeaderValue, Method, Response, StatusCode};
use serde_json::{Value, json};

use super::functions::{self, FunctionConfig};
use super::runtime_api::Outcome;
use super::{ApiError, Lambda, now_ms};
use crate::local::protocol::{self, Body, Protocol};
use crate::local::server::ServiceRequest;

/// Synchronous Invoke payload limit (6 MB).
pub const MAX_SYNC_PAYLOAD: usize = 6 * 1024 * 1024;
/// Asynchronous Invoke payload limit (256 KB).
pub const MAX_ASYNC_PAYLOAD: usize = 256 * 1024;
/// Bytes of log returned by `X-Amz-Log-Type: Tail`.
const TAIL_BYTES: usize = 4096;

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
    cfg.last_modified = functions::lambda_timestamp(now_ms());
    functions::save(&lambda.settings.dir, &cfg, code)?;
    lambda.put_config(cfg.clone());
    Ok(cfg)
}

fn create(lambda: &Arc<Lambda>, req: &ServiceRequest) -> Result<Response<Body>, ApiError> {
    let body = body_json(req)?;
    let name = body
        .get("FunctionName")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::invalid("FunctionName is required"))?;
    let name = functions::name_from_ref(name).to_owned();
    functions::validate_name(&name)?;
    if lambda.config(&name).is_some() {
        return Err(ApiError::conflict(format!(
            "Function already exist: {name}"
        )));
    }
    if body.get("Runtime").is_none() {
        return Err(ApiError::invalid(
            "Runtime is required for a .zip deployment package: use provided.al2023",
        ));
    }
    let code = functions::decode_zip(body.get("Code").unwrap_or(&Value::Null))?;
    let mut cfg = FunctionConfig {
        name,
        runtime: String::new(),
        role: String::new(),
        handler: "bootstrap".into(),
        description: String::new(),
        timeout: 3,
        memory_size: 128,
        ephemeral_storage: 512,
        environment: Default::default(),
        reserved_concurrency: None,
        code_sha256: code.sha256_b64.clone(),
        code_size: code.zip.len() as u64,
        last_modified: String::new(),
        revision_id: String::new(),
        policy: Vec::new(),
        generation: 1,
    };
    functions::apply_settings(&mut cfg, &body)?;
    if cfg.role.is_empty() {
        return Err(ApiError::invalid(
            "Role is required: an IAM role ARN (recorded, not enforced locally)",
        ));
    }
    let cfg = store(lambda, cfg, Some(&code))?;
    lambda
        .settings
        .logs
        .create_group_if_missing(&format!("/aws/lambda/{}", cfg.name));
    Ok(ok(
        StatusCode::CREATED,
        &cfg.to_wire(&lambda.settings.region),
    ))
}

fn list(lambda: &Lambda, req: &ServiceRequest) -> Result<Response<Body>, ApiError> {
    let max = query_param(req, "MaxItems")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(50)
        .clamp(1, 10_000);
    let marker = query_param(req, "Marker").unwrap_or_default();
    let all = lambda.configs();
    let page: Vec<&FunctionConfig> = all.iter().filter(|c| c.name > marker).take(max).collect();
    let next = (page.len() == max
        && all
            .iter()
            .any(|c| page.last().is_some_and(|l| c.name > l.name)))
    .then(|| page.last().map(|c| c.name.clone()))
    .flatten();
    let items: Vec<Value> = page
        .iter()
        .map(|c| c.to_wire(&lambda.settings.region))
        .collect();
    let mut v = json!({"Functions": items});
    if let Some(n) = next {
        v["NextMarker"] = json!(n);
    }
    Ok(ok(StatusCode::OK, &v))
}

fn get(lambda: &Lambda, f: &str) -> Result<Response<Body>, ApiError> {
    let cfg = config_of(lambda, f)?;
    let mut v = json!({
        "Configuration": cfg.to_wire(&lambda.settings.region),
        "Code": {
            "RepositoryType": "S3",
            "Location": format!("file://{}", functions::function_dir(&lambda.settings.dir, &cfg.name).join("code.zip").display()),
        },
        "Tags": {},
    });
    if let Some(n) = cfg.reserved_concurrency {
        v["Concurrency"] = json!({"ReservedConcurrentExecutions": n});
    }
    Ok(ok(StatusCode::OK, &v))
}

fn delete(lambda: &Lambda, f: &str) -> Result<Response<Body>, ApiError> {
    let cfg = config_of(lambda, f)?;
    lambda.remove(&cfg.name);
    let dir = functions::function_dir(&lambda.settings.dir, &cfg.name);
    // Remove the configuration first: a crash then leaves no function.
    let _ = std::fs::remove_file(dir.join("function.json"));
    let _ = std::fs::remove_dir_all(&dir);
    Ok(empty(StatusCode::NO_CONTENT))
}

fn update_config(
    lambda: &Lambda,
    f: &str,
    req: &ServiceRequest,
) -> Result<Response<Body>, ApiError> {
    let body = body_json(req)?;
    let mut cfg = config_of(lambda, f)?;
    if let Some(rev) = body.get("RevisionId").and_then(Value::as_str)
        && rev != cfg.revision_id
    {
        return Err(ApiError {
            status: StatusCode::PRECONDITION_FAILED,
            error_type: "PreconditionFailedException",
            message: "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id".into(),
        });
    }
    functions::apply_settings(&mut cfg, &body)?;
    cfg.generation += 1;
    let cfg = store(lambda, cfg, None)?;
    Ok(ok(StatusCode::OK, &cfg.to_wire(&lambda.settings.region)))
}

fn update_code(lambda: &Lambda, f: &str, req: &ServiceRequest) -> Result<Response<Body>, ApiError> {
    let body = body_json(req)?;
    let mut cfg = config_of(lambda, f)?;
    let code = functions::decode_zip(&body)?;
    cfg.code_sha256 = code.sha256_b64.clone();
    cfg.code_size = code.zip.len() as u64;
    cfg.generation += 1;
    let cfg = store(lambda, cfg, Some(&code))?;
    Ok(ok(StatusCode::OK, &cfg.to_wire(&lambda.settings.region)))
}

fn put_concurrency(
    lambda: &Lambda,
    f: &str,
    req: &ServiceRequest,
) -> Result<Response<Body>, ApiError> {
    let body = body_json(req)?;
    let n = body
        .get("ReservedConcurrentExecutions")
        .and_then(Value::as_i64)
        .ok_or_else(|| ApiError::invalid("ReservedConcurrentExecutions is required"))?;
    let mut cfg = config_of(lambda, f)?;
    let others: u32 = lambda
        .configs()
        .iter()
        .filter(|c| c.name != cfg.name)
        .filter_map(|c| c.reserved_concurrency)
        .sum();
    let account = lambda.settings.account_concurrency;
    if n < 0 || others as i64 + n > account as i64 {
        return Err(ApiError::invalid(format!(
            "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [0]. (asked {n}, reserved elsewhere {others}, account limit {account})"
        )));
    }
    cfg.reserved_concurrency = Some(n as u32);
    store(lambda, cfg, None)?;
    Ok(ok(
        StatusCode::OK,
        &json!({"ReservedConcurrentExecutions": n}),
    ))
}

fn policy_doc(cfg: &FunctionConfig) -> Value {
    json!({
        "Version": "2012-10-17",
        "Id": "default",
        "Statement": cfg.policy,
    })
}

fn add_permission(
    lambda: &Lambda,
    f: &str,
    req: &ServiceRequest,
) -> Result<Response<Body>, ApiError> {
    let body = body_json(req)?;
    let mut cfg = config_of(lambda, f)?;
    let field = |k: &str| -> Result<String, ApiError> {
        body.get(k)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| ApiError::invalid(format!("{k} is required")))
    };
    let sid = field("StatementId")?;
    let action = field("Action")?;
    let principal = field("Principal")?;
    if cfg.policy.iter().any(|s| s["Sid"] == sid.as_str()) {
        return Err(ApiError::conflict(format!(
            "The statement id ({sid}) provided already exists. Please provide a new statement id, or remove the existing statement."
        )));
    }
    let principal_v = if principal.contains('.') {
        json!({"Service": principal})
    } else {
        json!({"AWS": principal})
    };
    let mut statement = json!({
        "Sid": sid,
        "Effect": "Allow",
        "Principal": principal_v,
        "Action": action,
        "Resource": cfg.arn(&lambda.settings.region),
    });
    let mut condition = serde_json::Map::new();
    if let Some(arn) = body.get("SourceArn").and_then(Value::as_str) {
        condition.insert("ArnLike".into(), json!({"AWS:SourceArn": arn}));
    }
    if let Some(acct) = body.get("SourceAccount").and_then(Value::as_str) {
        condition.insert("StringEquals".into(), json!({"AWS:SourceAccount": acct}));
    }
    if !condition.is_empty() {
        statement["Condition"] = Value::Object(condition);
    }
    cfg.policy.push(statement.clone());
    store(lambda, cfg, None)?;
    Ok(ok(
        StatusCode::CREATED,
        &json!({"Statement": statement.to_string()}),
    ))
}

fn get_policy(lambda: &Lambda, f: &str) -> Result<Response<Body>, ApiError> {
    let cfg = config_of(lambda, f)?;
    if cfg.policy.is_empty() {
        return Err(ApiError {
            status: StatusCode::NOT_FOUND,
            error_type: "ResourceNotFoundException",
            message: "The resource you requested does not exist.".into(),
        });
    }
    Ok(ok(
        StatusCode::OK,
        &json!({"Policy": policy_doc(&cfg).to_string(), "RevisionId": cfg.revision_id}),
    ))
}

fn remove_permission(lambda: &Lambda, f: &str, sid: &str) -> Result<Response<Body>, ApiError> {
    let mut cfg = config_of(lambda, f)?;
    let before = cfg.policy.len();
    cfg.policy.retain(|s| s["Sid"] != sid);
    if cfg.policy.len() == before {
        return Err(ApiError {
            status: StatusCode::NOT_FOUND,
            error_type: "ResourceNotFoundException",
            message: format!("Statement {sid} is not found in resource policy."),
        });
    }
    store(lambda, cfg, None)?;
    Ok(empty(StatusCode::NO_CONTENT))
}

async fn invoke(
    lambda: &Arc<Lambda>,
    f: &str,
    req: &ServiceRequest,
) -> Result<Response<Body>, ApiError> {
    let cfg = config_of(lambda, f)?;
    let header = |k: &str| {
        req.headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let kind = match header("x-amz-invocation-type") {
        "" | "RequestResponse" => "RequestResponse",
        "Event" => "Event",
        "DryRun" => "DryRun",
        other => {
            return Err(ApiError::invalid(format!(
                "1 validation error detected: Value '{other}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]"
            )));
        }
    };
    let len = req.body.len();
    let payload = if req.body.is_empty() {
        Bytes::from_static(b"{}")
    } else {
        req.body.clone()
    };
    if serde_json::from_slice::<Value>(&payload).is_err() {
        return Err(ApiError {
            status: StatusCode::BAD_REQUEST,
            error_type: "InvalidRequestContentException",
            message: "Could not parse request body into json: Could not parse payload into json"
                .into(),
        });
    }
    match kind {
        "DryRun" => Ok(empty(StatusCode::NO_CONTENT)),
        "Event" => {
            if len > MAX_ASYNC_PAYLOAD {
                return Err(ApiError::too_large(format!(
                    "{len} byte payload is too large for the Event invocation type (limit {MAX_ASYNC_PAYLOAD} bytes)"
                )));
            }
            let request_id = lambda.enqueue(&cfg.name, payload)?;
            let mut r = empty(StatusCode::ACCEPTED);
            r.headers_mut().insert(
                "x-amz-executed-version",
                HeaderValue::from_static("$LATEST"),
            );
            // As Lambda: the 202 carries the id the invocation will run under.
            if let Ok(v) = HeaderValue::from_str(&request_id) {
                r.headers_mut().insert("x-amzn-requestid", v);
            }
            Ok(r)
        }
        _ => {
            if len > MAX_SYNC_PAYLOAD {
                return Err(ApiError::too_large(format!(
                    "Request must be smaller than {MAX_SYNC_PAYLOAD} bytes for the InvokeFunction operation"
                )));
            }
            let request_id = uuid::Uuid::new_v4().to_string();
            let result = lambda
                .invoke(&cfg.name, &request_id, payload, false)
                .await?;
            let (body, function_error) = match result.outcome {
                Outcome::Response(b) => (b, None),
                Outcome::Error { body, error_type } => {
                    let body = if body.is_empty() {
                        Bytes::from(
                            json!({"errorType": error_type, "errorMessage": error_type})
                                .to_string(),
                        )
                    } else {
                        body
                    };
                    (body, Some("Unhandled"))
                }
            };
            let mut r = Response::new(Body::from(body));
            *r.status_mut() = StatusCode::OK;
            let h = r.headers_mut();
            h.insert(
                "x-amz-executed-version",
                HeaderValue::from_static("$LATEST"),
            );
            h.insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            if let Ok(v) = HeaderValue::from_str(&result.request_id) {
                h.insert("x-amzn-requestid", v);
            }
            if let Some(fe) = function_error {
                h.insert("x-amz-function-error", HeaderValue::from_static(fe));
            }
            if header("x-amz-log-type") == "Tail" {
                let tail = &result.log_tail;
                let mut start = tail.len().saturating_sub(TAIL_BYTES);
                while !tail.is_char_boundary(start) {
                    start += 1;
                }
                let b64 =
                    base64::engine::general_purpose::STANDARD.encode(&tail.as_bytes()[start..]);
                if let Ok(v) = HeaderValue::from_str(&b64) {
                    h.insert("x-amz-log-result", v);
                }
            }
            Ok(r)
        }
    }
}
