//! Deploying a [`FunctionDefinition`]: create or update the function and
//! everything around it, over `aws/` (same calls for both backends).
//!
//! Order, so that a failure leaves nothing that fires half-configured:
//! role (checked before any call), package, buckets, function (create, or
//! code then configuration, each waited for), reserved concurrency, log
//! group and retention, the S3 invoke permission, then the bucket
//! notification (added next to other functions' entries, never replacing
//! them), and a final wait for `Active`.
//!
//! The deployed function records its own definition in its environment
//! (`SCAR_IMAGE`, `SCAR_RUNTIME`, `SCAR_OUTPUTS`, `SCAR_INPUT`): that is what
//! the supervisor reads, what `invoke --key` and `run` read, and what
//! `update` starts from ([`current_definition`]).

pub mod listing;
pub mod package;
pub mod remove;

use std::collections::BTreeMap;

use scar_contract::function::env as vars;
use serde::Serialize;

use super::definition::{DefinitionError, FunctionDefinition, Script, Storage};
use crate::aws::buckets::KeyFilter;
use crate::aws::functions::{FunctionInfo, FunctionSpec, READY_TIMEOUT};
use crate::aws::logs::log_group;
use crate::aws::{AwsError, Backend, Cloud};
use package::Bootstrap;

/// The role functions get on the local backend when none is named (the
/// local Lambda records roles and does not enforce them).
pub const LOCAL_ROLE: &str = "arn:aws:iam::000000000000:role/scar-local";

/// The variables a deploy sets; the rest of a function's environment is its definition's.
pub const DEPLOY_VARS: &[&str] = &[vars::IMAGE, vars::RUNTIME, vars::OUTPUTS, vars::INPUT];

/// A deploy, update or removal failure, naming the function and the fix.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// No role on `aws`.
    #[error(
        "function {function} has no IAM role: set `role = \"arn:aws:iam::ACCOUNT:role/NAME\"` in its definition (iam.role in a SCAR file) or pass --role; the role needs AWSLambdaBasicExecutionRole and S3 read/write on its buckets"
    )]
    MissingRole {
        /// The function.
        function: String,
    },
    /// The package could not be built.
    #[error("packaging {function}: {message}")]
    Package {
        /// The function.
        function: String,
        /// Why, and the fix.
        message: String,
    },
    /// No such function.
    #[error(
        "function {function} does not exist: see `scar-tui ls`, or create it with `scar-tui init`"
    )]
    NotFound {
        /// The function.
        function: String,
    },
    /// A function this tool did not deploy.
    #[error(
        "function {function} was not deployed by scar-tui (it has no SCAR_IMAGE variable): redeploy it with `scar-tui init`"
    )]
    NotScar {
        /// The function.
        function: String,
    },
    /// A new function needs its script.
    #[error("function {function} does not exist yet, so it needs a script: pass --script")]
    NoScript {
        /// The function.
        function: String,
    },
    /// A cloud call failed.
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// The definition is invalid.
    #[error(transparent)]
    Definition(#[from] DefinitionError),
}

/// What a deploy did.
#[derive(Debug, Clone, Serialize)]
pub struct DeployReport {
    /// The function.
    pub name: String,
    /// Its ARN.
    pub arn: String,
    /// `created` or `updated`.
    pub action: &'static str,
    /// `uploaded`, `unchanged` (same zip) or `kept` (no script given).
    pub code: &'static str,
    /// What `bootstrap` is, when code was packaged.
    pub bootstrap: Option<Bootstrap>,
    /// Image.
    pub image: String,
    /// Memory (MB).
    pub memory: u32,
    /// Timeout (s).
    pub timeout: u32,
    /// Container runtime.
    pub runtime: String,
    /// The role it runs with.
    pub role: String,
    /// Its input, `s3://BUCKET/PREFIX`.
    pub input: Option<String>,
    /// Its outputs.
    pub outputs: Vec<String>,
    /// Buckets this deploy created.
    pub buckets_created: Vec<String>,
    /// Notification entries the function has on its input bucket.
    pub notifications: usize,
    /// Where Lambda records the events that failed every attempt
    /// (`s3://BUCKET/aws/lambda/async/NAME/`), if set.
    pub failure_records: Option<String>,
    /// What did not go as planned but does not stop the function working.
    pub warnings: Vec<String>,
    /// Lambda's state at the end (`Active`).
    pub state: String,
}

/// The role a definition deploys with: its own, else the local default on
/// `local`; on `aws` a missing role is an error before any call is made.
pub fn resolve_role(def: &FunctionDefinition, backend: Backend) -> Result<String, DeployError> {
    match (&def.role, backend) {
        (Some(r), _) => Ok(r.clone()),
        (None, Backend::Local) => Ok(LOCAL_ROLE.to_owned()),
        (None, Backend::Aws) => Err(DeployError::MissingRole {
            function: def.name.clone(),
        }),
    }
}

/// The function's environment: the definition's variables plus what the
/// supervisor and the batch runner read.
pub fn function_environment(def: &FunctionDefinition) -> BTreeMap<String, String> {
    let mut env = def.environment.clone();
    env.insert(vars::IMAGE.into(), def.image.clone());
    env.insert(vars::RUNTIME.into(), def.runtime.as_str().into());
    env.insert(vars::OUTPUTS.into(), Storage::outputs_to_env(&def.outputs));
    if let Some(input) = &def.input {
        env.insert(vars::INPUT.into(), input.input_to_env());
    }
    env
}

/// The input a deployed function records, if any (and readable).
pub fn recorded_input(info: &FunctionInfo) -> Option<Storage> {
    Storage::input_from_env(info.environment.get(vars::INPUT)?).ok()
}

/// The outputs a deployed function records (none if unreadable).
pub fn recorded_outputs(info: &FunctionInfo) -> Vec<Storage> {
    info.environment
        .get(vars::OUTPUTS)
        .and_then(|v| Storage::outputs_from_env(v).ok())
        .unwrap_or_default()
}

/// The definition a deployed function was made from (its script being the
/// deployed one), or `None` if scar-tui did not deploy it.
pub fn definition_of(
    info: &FunctionInfo,
    log_retention_days: Option<u32>,
) -> Option<FunctionDefinition> {
    let image = info.environment.get(vars::IMAGE)?.clone();
    let mut def = FunctionDefinition::new(info.name.clone(), image, Script::Deployed);
    def.memory = info.memory;
    def.timeout = info.timeout;
    def.ephemeral_storage = info.ephemeral_storage;
    def.runtime = info
        .environment
        .get(vars::RUNTIME)
        .and_then(|r| r.parse().ok())
        .unwrap_or_default();
    def.input = recorded_input(info);
    def.outputs = recorded_outputs(info);
    def.environment = info
        .environment
        .iter()
        .filter(|(k, _)| !DEPLOY_VARS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    def.reserved_concurrency = info.reserved_concurrency;
    def.role = (!info.role.is_empty()).then(|| info.role.clone());
    def.log_retention_days = log_retention_days;
    Some(def)
}

/// The definition of deployed function `name`, for `update` to change.
pub async fn current_definition(
    cloud: &Cloud,
    name: &str,
) -> Result<FunctionDefinition, DeployError> {
    let info = cloud
        .get_function(name)
        .await?
        .ok_or_else(|| DeployError::NotFound {
            function: name.to_owned(),
        })?;
    let retention = cloud.log_retention(&log_group(name)).await?;
    definition_of(&info, retention).ok_or_else(|| DeployError::NotScar {
        function: name.to_owned(),
    })
}

/// Creates or updates the function `def` describes, and everything around it.
pub async fn deploy(cloud: &Cloud, def: &FunctionDefinition) -> Result<DeployReport, DeployError> {
    let role = resolve_role(def, cloud.backend)?;
    def.validate()?;
    let name = def.name.as_str();
    let package_error = |message: String| DeployError::Package {
        function: name.to_owned(),
        message,
    };
    let package = match def.script.text() {
        Some(text) => {
            let supervisor = package::find_supervisor().map_err(package_error)?;
            Some(package::package(text, &supervisor, cloud.backend).map_err(package_error)?)
        }
        None => None,
    };
    let existing = cloud.get_function(name).await?;
    if existing.is_none() && package.is_none() {
        return Err(DeployError::NoScript {
            function: name.to_owned(),
        });
    }

    // A trigger that would clash with another function's is refused
    // before anything is created.
    if let Some(input) = &def.input {
        let filters = KeyFilter::for_input(&input.prefix, &input.suffixes);
        cloud
            .check_function_notifications(&input.bucket, name, &filters)
            .await?;
    }

    let buckets: std::collections::BTreeSet<&str> = def
        .input
        .iter()
        .chain(def.outputs.iter())
        .map(|s| s.bucket.as_str())
        .collect();
    let mut buckets_created = Vec::new();
    for b in buckets {
        if cloud.ensure_bucket(b).await? {
            buckets_created.push(b.to_owned());
        }
    }

    let spec = FunctionSpec {
        name: name.to_owned(),
        role: role.clone(),
        memory: def.memory,
        timeout: def.timeout,
        ephemeral_storage: def.ephemeral_storage,
        environment: function_environment(def),
        description: format!("scar-tui: {}", def.image),
    };
    let (arn, action, code) = match &existing {
        None => {
            let zip = package.as_ref().map(|p| p.zip.clone()).unwrap_or_default();
            let info = cloud.create_function(&spec, zip).await?;
            cloud.wait_function_ready(name, READY_TIMEOUT).await?;
            (info.arn, "created", "uploaded")
        }
        Some(info) => {
            let code = match &package {
                Some(p) if p.sha256_b64 != info.code_sha256 => {
                    cloud.update_function_code(name, p.zip.clone()).await?;
                    cloud.wait_function_ready(name, READY_TIMEOUT).await?;
                    "uploaded"
                }
                Some(_) => "unchanged",
                None => "kept",
            };
            let same = info.role == spec.role
                && info.memory == spec.memory
                && info.timeout == spec.timeout
                && info.ephemeral_storage == spec.ephemeral_storage
                && info.environment == spec.environment;
            if !same {
                cloud.update_function_configuration(&spec).await?;
                cloud.wait_function_ready(name, READY_TIMEOUT).await?;
            }
            (info.arn.clone(), "updated", code)
        }
    };

    let current_reserved = existing.as_ref().and_then(|i| i.reserved_concurrency);
    if def.reserved_concurrency != current_reserved {
        cloud
            .set_reserved_concurrency(name, def.reserved_concurrency)
            .await?;
    }
    cloud
        .ensure_log_group(&log_group(name), def.log_retention_days)
        .await?;
    // Events that fail every attempt are recorded in a bucket of the
    // function's own (its first output's, else its input's), where `run`
    // and `status` read them back: the same on AWS and the local cloud.
    let mut warnings = Vec::new();
    let mut failure_records = None;
    if let Some(bucket) = def
        .outputs
        .first()
        .or(def.input.as_ref())
        .map(|s| s.bucket.clone())
    {
        match cloud.set_failure_destination(name, &bucket).await {
            Ok(()) => {
                failure_records = Some(format!(
                    "s3://{bucket}/{}",
                    scar_contract::function::failure_record_prefix(name)
                ));
            }
            // AWS checks that the function's role may write there; without
            // it the function still runs, and `run --wait` follows the logs.
            Err(e) if cloud.backend == Backend::Aws => warnings.push(format!(
                "failed events will not be recorded in s3://{bucket}: {e}; grant the function's role s3:PutObject on that bucket and run init again"
            )),
            Err(e) => return Err(e.into()),
        }
    }

    // A function that moved to another input bucket (or lost its input)
    // leaves no trigger behind on the old one.
    let old_input = existing.as_ref().and_then(recorded_input);
    if let Some(old) = &old_input
        && def.input.as_ref().is_none_or(|i| i.bucket != old.bucket)
    {
        cloud
            .remove_function_notifications(&old.bucket, name)
            .await?;
    }
    let notifications = match &def.input {
        Some(input) => {
            cloud.allow_s3_invoke(name, &input.bucket).await?;
            let filters = KeyFilter::for_input(&input.prefix, &input.suffixes);
            cloud
                .set_function_notifications(&input.bucket, name, &arn, &filters)
                .await?
        }
        None => 0,
    };

    cloud.wait_function_ready(name, READY_TIMEOUT).await?;
    let state = cloud
        .get_function(name)
        .await?
        .and_then(|i| i.state)
        .unwrap_or_else(|| "Active".into());
    Ok(DeployReport {
        name: name.to_owned(),
        arn,
        action,
        code,
        bootstrap: package.map(|p| p.bootstrap),
        image: def.image.clone(),
        memory: def.memory,
        timeout: def.timeout,
        runtime: def.runtime.to_string(),
        role,
        input: def.input.as_ref().map(Storage::describe),
        outputs: def.outputs.iter().map(Storage::describe).collect(),
        buckets_created,
        notifications,
        failure_records,
        warnings,
        state,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::definition::Runtime;

    #[test]
    fn environment_round_trips_through_the_function() {
        let mut def = FunctionDefinition::new(
            "f",
            "grycap/ffmpeg",
            Script::Inline {
                text: "echo".into(),
            },
        );
        def.runtime = Runtime::Proot;
        def.environment.insert("A".into(), "1".into());
        def.input = Some(Storage::parse_path("in-bucket/in").unwrap());
        def.outputs
            .push(Storage::parse_path("out-bucket/out").unwrap());
        let env = function_environment(&def);
        assert_eq!(
            env["SCAR_INPUT"],
            r#"{"bucket":"in-bucket","prefix":"in/","suffixes":[]}"#
        );
        let info = FunctionInfo {
            name: "f".into(),
            arn: String::new(),
            role: LOCAL_ROLE.into(),
            memory: def.memory,
            timeout: def.timeout,
            ephemeral_storage: def.ephemeral_storage,
            environment: env,
            code_sha256: String::new(),
            state: None,
            reserved_concurrency: None,
            last_modified: String::new(),
        };
        let back = definition_of(&info, None).unwrap();
        assert_eq!(back.input, def.input);
        assert_eq!(back.outputs, def.outputs);
        assert_eq!(back.environment, def.environment);
        assert_eq!(back.runtime, Runtime::Proot);
        assert_eq!(back.script, Script::Deployed);
    }

    #[test]
    fn role_is_required_on_aws_only() {
        let def = FunctionDefinition::new("f", "i", Script::Deployed);
        assert_eq!(resolve_role(&def, Backend::Local).unwrap(), LOCAL_ROLE);
        let e = resolve_role(&def, Backend::Aws).unwrap_err().to_string();
        assert!(e.contains("no IAM role") && e.contains("--role"), "{e}");
    }
}
