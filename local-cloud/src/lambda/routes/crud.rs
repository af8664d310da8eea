//! The function's own life: CreateFunction, ListFunctions, GetFunction,
//! DeleteFunction, UpdateFunctionConfiguration and UpdateFunctionCode, each
//! persisting through [`super::store`] so that a restart finds what AWS would.

use std::sync::Arc;

use http::{Response, StatusCode};
use serde_json::{Value, json};

use super::{body_json, config_of, empty, ok, query_param, store};
use crate::lambda::functions::{self, FunctionConfig};
use crate::lambda::{ApiError, Lambda};
use crate::protocol::Body;
use crate::server::ServiceRequest;

/// CreateFunction: a new function from a zip, at generation 1.
pub(super) fn create(
    lambda: &Arc<Lambda>,
    req: &ServiceRequest,
) -> Result<Response<Body>, ApiError> {
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
        event_invoke: None,
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

/// ListFunctions: one page by name after `Marker`, at most `MaxItems`.
pub(super) fn list(lambda: &Lambda, req: &ServiceRequest) -> Result<Response<Body>, ApiError> {
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

/// GetFunction: the configuration, where the code is, and any reserved concurrency.
pub(super) fn get(lambda: &Lambda, f: &str) -> Result<Response<Body>, ApiError> {
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

/// DeleteFunction: forgets the function, then removes its directory.
pub(super) fn delete(lambda: &Lambda, f: &str) -> Result<Response<Body>, ApiError> {
    let cfg = config_of(lambda, f)?;
    lambda.remove(&cfg.name);
    let dir = functions::function_dir(&lambda.settings.dir, &cfg.name);
    // Remove the configuration first: a crash then leaves no function.
    let _ = std::fs::remove_file(dir.join("function.json"));
    let _ = std::fs::remove_dir_all(&dir);
    Ok(empty(StatusCode::NO_CONTENT))
}

/// UpdateFunctionConfiguration, guarded by `RevisionId` when one is given.
pub(super) fn update_config(
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

/// UpdateFunctionCode: new zip, next generation.
pub(super) fn update_code(
    lambda: &Lambda,
    f: &str,
    req: &ServiceRequest,
) -> Result<Response<Body>, ApiError> {
    let body = body_json(req)?;
    let mut cfg = config_of(lambda, f)?;
    let code = functions::decode_zip(&body)?;
    cfg.code_sha256 = code.sha256_b64.clone();
    cfg.code_size = code.zip.len() as u64;
    cfg.generation += 1;
    let cfg = store(lambda, cfg, Some(&code))?;
    Ok(ok(StatusCode::OK, &cfg.to_wire(&lambda.settings.region)))
}
