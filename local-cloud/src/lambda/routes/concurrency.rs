//! PutFunctionConcurrency: a function's reserved concurrency, checked
//! against what the account has left once the other functions' reservations
//! are taken. (Deleting and reading it are one line each, in the router.)

use http::{Response, StatusCode};
use serde_json::{Value, json};

use super::{body_json, config_of, ok, store};
use crate::lambda::{ApiError, Lambda};
use crate::protocol::Body;
use crate::server::ServiceRequest;

/// PutFunctionConcurrency: reserves `ReservedConcurrentExecutions` within the account limit.
pub(super) fn put_concurrency(
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
