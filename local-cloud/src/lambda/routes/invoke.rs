//! Invoke: the three invocation types (RequestResponse, Event, DryRun) with
//! AWS's payload limits, response headers and the base64 log tail, over the
//! scheduler's [`Lambda::invoke`] and [`Lambda::enqueue`].

use std::sync::Arc;

use base64::Engine;
use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode};
use serde_json::{Value, json};

use super::{config_of, empty};
use crate::lambda::runtime_api::Outcome;
use crate::lambda::{ApiError, Lambda};
use crate::protocol::Body;
use crate::server::ServiceRequest;

/// Synchronous Invoke payload limit (6 MB).
pub const MAX_SYNC_PAYLOAD: usize = 6 * 1024 * 1024;
/// Asynchronous Invoke payload limit (256 KB).
pub const MAX_ASYNC_PAYLOAD: usize = 256 * 1024;
/// Bytes of log returned by `X-Amz-Log-Type: Tail`.
const TAIL_BYTES: usize = 4096;

/// Invoke: runs the function now, queues it (`Event`) or only checks the request (`DryRun`).
pub(super) async fn invoke(
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
