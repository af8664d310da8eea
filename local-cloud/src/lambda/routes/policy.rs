//! The function's resource policy: AddPermission, GetPolicy and
//! RemovePermission. Statements are recorded as AWS writes them, not
//! enforced locally.

use http::{Response, StatusCode};
use serde_json::{Value, json};

use super::{body_json, config_of, empty, ok, store};
use crate::lambda::functions::FunctionConfig;
use crate::lambda::{ApiError, Lambda};
use crate::protocol::Body;
use crate::server::ServiceRequest;

fn policy_doc(cfg: &FunctionConfig) -> Value {
    json!({
        "Version": "2012-10-17",
        "Id": "default",
        "Statement": cfg.policy,
    })
}

/// AddPermission: one more statement, its `Sid` unique.
pub(super) fn add_permission(
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

/// GetPolicy: the policy document, or not found when it has no statement.
pub(super) fn get_policy(lambda: &Lambda, f: &str) -> Result<Response<Body>, ApiError> {
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

/// RemovePermission: drops the statement `sid`.
pub(super) fn remove_permission(
    lambda: &Lambda,
    f: &str,
    sid: &str,
) -> Result<Response<Body>, ApiError> {
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
