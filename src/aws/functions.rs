//! Lambda functions as a deploy sees them: read, create, update, wait,
//! concurrency, the S3 invoke permission, delete; and the function's log
//! group with its retention.
//!
//! Lambda applies creates and updates asynchronously: a new function is
//! `Pending`, an updated one `InProgress`, and a second update meanwhile
//! fails with ResourceConflictException
//! (<https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html>).
//! Every mutation here is therefore followed by [`Cloud::wait_function_ready`],
//! which uses the SDK's own waiters (GetFunction with backoff).

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_lambda::client::Waiters;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{
    Architecture, Environment, EphemeralStorage, FunctionCode, FunctionConfiguration, Runtime,
};

use super::{AwsError, Cloud};

/// What a function is configured with (the settings a deploy writes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionSpec {
    /// Name.
    pub name: String,
    /// Execution role ARN.
    pub role: String,
    /// Memory (MB).
    pub memory: u32,
    /// Timeout (s).
    pub timeout: u32,
    /// `/tmp` (MB).
    pub ephemeral_storage: u32,
    /// Environment variables.
    pub environment: BTreeMap<String, String>,
    /// Description.
    pub description: String,
}

/// A deployed function, as Lambda reports it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FunctionInfo {
    /// Name.
    pub name: String,
    /// ARN.
    pub arn: String,
    /// Execution role ARN.
    pub role: String,
    /// Memory (MB).
    pub memory: u32,
    /// Timeout (s).
    pub timeout: u32,
    /// `/tmp` (MB).
    pub ephemeral_storage: u32,
    /// Environment variables.
    pub environment: BTreeMap<String, String>,
    /// base64 sha256 of the code zip.
    pub code_sha256: String,
    /// `Active`, `Pending`, `Failed`... (not in ListFunctions answers).
    pub state: Option<String>,
    /// Reserved concurrency (GetFunction only).
    pub reserved_concurrency: Option<u32>,
    /// Last modification, as Lambda writes it.
    pub last_modified: String,
}

impl FunctionInfo {
    fn from_configuration(c: &FunctionConfiguration) -> FunctionInfo {
        FunctionInfo {
            name: c.function_name().unwrap_or_default().to_owned(),
            arn: c.function_arn().unwrap_or_default().to_owned(),
            role: c.role().unwrap_or_default().to_owned(),
            memory: c.memory_size().unwrap_or(128).max(0) as u32,
            timeout: c.timeout().unwrap_or(3).max(0) as u32,
            ephemeral_storage: c
                .ephemeral_storage()
                .map_or(512, |e| e.size().max(0) as u32),
            environment: c
                .environment()
                .and_then(|e| e.variables())
                .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
            code_sha256: c.code_sha256().unwrap_or_default().to_owned(),
            state: c.state().map(|s| s.as_str().to_owned()),
            reserved_concurrency: None,
            last_modified: c.last_modified().unwrap_or_default().to_owned(),
        }
    }
}

/// The statement id of the permission that lets S3 notify a function for `bucket`.
pub fn s3_permission_sid(bucket: &str) -> String {
    format!("scar-tui-s3-{bucket}")
}

/// How long a deploy waits for Lambda to apply a change.
pub const READY_TIMEOUT: Duration = Duration::from_secs(300);

impl Cloud {
    /// The function, or `None` if there is none of that name.
    pub async fn get_function(&self, name: &str) -> Result<Option<FunctionInfo>, AwsError> {
        let out = match self.lambda.get_function().function_name(name).send().await {
            Ok(out) => out,
            Err(e) => {
                let e = AwsError::call("GetFunction", name, &e);
                return if e.code() == Some("ResourceNotFoundException") {
                    Ok(None)
                } else {
                    Err(e)
                };
            }
        };
        let Some(c) = out.configuration() else {
            return Ok(None);
        };
        let mut info = FunctionInfo::from_configuration(c);
        info.reserved_concurrency = out
            .concurrency()
            .and_then(|c| c.reserved_concurrent_executions())
            .map(|n| n.max(0) as u32);
        Ok(Some(info))
    }

    /// Every function of the account and region (all pages).
    pub async fn list_functions(&self) -> Result<Vec<FunctionInfo>, AwsError> {
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let page = self
                .lambda
                .list_functions()
                .set_marker(marker.clone())
                .send()
                .await
                .map_err(|e| AwsError::call("ListFunctions", "functions", &e))?;
            out.extend(
                page.functions()
                    .iter()
                    .map(FunctionInfo::from_configuration),
            );
            match page.next_marker() {
                Some(m) if Some(m) != marker.as_deref() && !m.is_empty() => {
                    marker = Some(m.to_owned())
                }
                _ => return Ok(out),
            }
        }
    }

    /// Creates a `provided.al2023` x86_64 function running `bootstrap` from `zip`.
    pub async fn create_function(
        &self,
        spec: &FunctionSpec,
        zip: Vec<u8>,
    ) -> Result<FunctionInfo, AwsError> {
        let out = self
            .lambda
            .create_function()
            .function_name(&spec.name)
            .runtime(Runtime::Providedal2023)
            .architectures(Architecture::X8664)
            .handler("bootstrap")
            .role(&spec.role)
            .memory_size(spec.memory as i32)
            .timeout(spec.timeout as i32)
            .ephemeral_storage(
                EphemeralStorage::builder()
                    .size(spec.ephemeral_storage as i32)
                    .build()
                    .map_err(|e| {
                        AwsError::Config(format!("ephemeral storage of {}: {e}", spec.name))
                    })?,
            )
            .environment(environment(&spec.environment))
            .description(&spec.description)
            .code(FunctionCode::builder().zip_file(Blob::new(zip)).build())
            .send()
            .await
            .map_err(|e| AwsError::call("CreateFunction", &spec.name, &e))?;
        Ok(FunctionInfo {
            name: out.function_name().unwrap_or(&spec.name).to_owned(),
            arn: out.function_arn().unwrap_or_default().to_owned(),
            role: spec.role.clone(),
            memory: spec.memory,
            timeout: spec.timeout,
            ephemeral_storage: spec.ephemeral_storage,
            environment: spec.environment.clone(),
            code_sha256: out.code_sha256().unwrap_or_default().to_owned(),
            state: out.state().map(|s| s.as_str().to_owned()),
            reserved_concurrency: None,
            last_modified: out.last_modified().unwrap_or_default().to_owned(),
        })
    }

    /// Replaces the function's code.
    pub async fn update_function_code(&self, name: &str, zip: Vec<u8>) -> Result<(), AwsError> {
        self.lambda
            .update_function_code()
            .function_name(name)
            .zip_file(Blob::new(zip))
            .send()
            .await
            .map_err(|e| AwsError::call("UpdateFunctionCode", name, &e))?;
        Ok(())
    }

    /// Replaces the function's settings with `spec`'s.
    pub async fn update_function_configuration(&self, spec: &FunctionSpec) -> Result<(), AwsError> {
        self.lambda
            .update_function_configuration()
            .function_name(&spec.name)
            .role(&spec.role)
            .handler("bootstrap")
            .runtime(Runtime::Providedal2023)
            .memory_size(spec.memory as i32)
            .timeout(spec.timeout as i32)
            .ephemeral_storage(
                EphemeralStorage::builder()
                    .size(spec.ephemeral_storage as i32)
                    .build()
                    .map_err(|e| {
                        AwsError::Config(format!("ephemeral storage of {}: {e}", spec.name))
                    })?,
            )
            .environment(environment(&spec.environment))
            .description(&spec.description)
            .send()
            .await
            .map_err(|e| AwsError::call("UpdateFunctionConfiguration", &spec.name, &e))?;
        Ok(())
    }

    /// Sets (`Some`) or removes (`None`) the function's reserved concurrency.
    pub async fn set_reserved_concurrency(
        &self,
        name: &str,
        n: Option<u32>,
    ) -> Result<(), AwsError> {
        match n {
            Some(n) => {
                self.lambda
                    .put_function_concurrency()
                    .function_name(name)
                    .reserved_concurrent_executions(n as i32)
                    .send()
                    .await
                    .map_err(|e| AwsError::call("PutFunctionConcurrency", name, &e))?;
            }
            None => {
                self.lambda
                    .delete_function_concurrency()
                    .function_name(name)
                    .send()
                    .await
                    .map_err(|e| AwsError::call("DeleteFunctionConcurrency", name, &e))?;
            }
        }
        Ok(())
    }

    /// Sets the function's asynchronous invocation settings
    /// (PutFunctionEventInvokeConfig): Lambda's two retries and six hours,
    /// and `on_failure_bucket` as the on-failure destination, where a
    /// record of every event that failed all its attempts is written.
    pub async fn set_failure_destination(
        &self,
        name: &str,
        on_failure_bucket: &str,
    ) -> Result<(), AwsError> {
        use aws_sdk_lambda::types::{DestinationConfig, OnFailure};
        self.lambda
            .put_function_event_invoke_config()
            .function_name(name)
            .maximum_retry_attempts(2)
            .maximum_event_age_in_seconds(21_600)
            .destination_config(
                DestinationConfig::builder()
                    .on_failure(
                        OnFailure::builder()
                            .destination(format!("arn:aws:s3:::{on_failure_bucket}"))
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await
            .map_err(|e| AwsError::call("PutFunctionEventInvokeConfig", name, &e))?;
        Ok(())
    }

    /// The S3 bucket of the function's on-failure destination, if it has one.
    pub async fn failure_destination_bucket(&self, name: &str) -> Result<Option<String>, AwsError> {
        use aws_sdk_lambda::error::ProvideErrorMetadata;
        let out = match self
            .lambda
            .get_function_event_invoke_config()
            .function_name(name)
            .send()
            .await
        {
            Ok(o) => o,
            Err(e) if e.code() == Some("ResourceNotFoundException") => return Ok(None),
            Err(e) => return Err(AwsError::call("GetFunctionEventInvokeConfig", name, &e)),
        };
        Ok(out
            .destination_config()
            .and_then(|d| d.on_failure())
            .and_then(|f| f.destination())
            .and_then(|arn| arn.strip_prefix("arn:aws:s3:::"))
            .filter(|b| !b.is_empty())
            .map(str::to_owned))
    }

    /// Waits until the function is `Active` and its last update done, at
    /// most `max`; the error carries Lambda's reason when it failed.
    pub async fn wait_function_ready(&self, name: &str, max: Duration) -> Result<(), AwsError> {
        let active = self
            .lambda
            .wait_until_function_active_v2()
            .function_name(name)
            .wait(max)
            .await;
        let ready = match active {
            Ok(_) => self
                .lambda
                .wait_until_function_updated_v2()
                .function_name(name)
                .wait(max)
                .await
                .is_ok(),
            Err(_) => false,
        };
        if ready {
            return Ok(());
        }
        // The waiter's errors say little; Lambda's own state says why.
        let info = self
            .lambda
            .get_function_configuration()
            .function_name(name)
            .send()
            .await;
        let detail = match info {
            Ok(c) => format!(
                "state {} ({}), last update {} ({})",
                c.state().map_or("unknown", |s| s.as_str()),
                c.state_reason().unwrap_or("no reason given"),
                c.last_update_status().map_or("unknown", |s| s.as_str()),
                c.last_update_status_reason().unwrap_or("no reason given"),
            ),
            Err(e) => AwsError::call("GetFunctionConfiguration", name, &e).to_string(),
        };
        Err(AwsError::Call {
            op: "GetFunction",
            target: name.to_owned(),
            code: "FunctionNotReady".into(),
            message: format!(
                "not Active within {} s: {detail}; see `scar-tui logs {name}` or the Lambda console",
                max.as_secs()
            ),
        })
    }

    /// Lets S3 invoke the function for notifications from `bucket`; false
    /// when the statement was already there.
    pub async fn allow_s3_invoke(&self, name: &str, bucket: &str) -> Result<bool, AwsError> {
        let sid = s3_permission_sid(bucket);
        if self.policy_statement_ids(name).await?.contains(&sid) {
            return Ok(false);
        }
        let added = self
            .lambda
            .add_permission()
            .function_name(name)
            .statement_id(&sid)
            .action("lambda:InvokeFunction")
            .principal("s3.amazonaws.com")
            .source_arn(format!("arn:aws:s3:::{bucket}"))
            .send()
            .await;
        match added {
            Ok(_) => Ok(true),
            Err(e) => {
                let e = AwsError::call("AddPermission", name, &e);
                // Added meanwhile by another deploy: what we wanted.
                if e.code() == Some("ResourceConflictException") {
                    Ok(false)
                } else {
                    Err(e)
                }
            }
        }
    }

    /// The statement ids of the function's resource policy (none when it has no policy).
    pub async fn policy_statement_ids(&self, name: &str) -> Result<Vec<String>, AwsError> {
        let policy = match self.lambda.get_policy().function_name(name).send().await {
            Ok(p) => p,
            Err(e) => {
                let e = AwsError::call("GetPolicy", name, &e);
                return if e.code() == Some("ResourceNotFoundException") {
                    Ok(Vec::new())
                } else {
                    Err(e)
                };
            }
        };
        let doc: serde_json::Value =
            serde_json::from_str(policy.policy().unwrap_or("{}")).unwrap_or_default();
        Ok(doc["Statement"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s["Sid"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Deletes the function; false when there was none.
    pub async fn delete_function(&self, name: &str) -> Result<bool, AwsError> {
        match self
            .lambda
            .delete_function()
            .function_name(name)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) => {
                let e = AwsError::call("DeleteFunction", name, &e);
                if e.code() == Some("ResourceNotFoundException") {
                    Ok(false)
                } else {
                    Err(e)
                }
            }
        }
    }

    /// Makes sure log group `group` exists, with `retention` days (`None`
    /// keeps events forever).
    pub async fn ensure_log_group(
        &self,
        group: &str,
        retention: Option<u32>,
    ) -> Result<(), AwsError> {
        if let Err(e) = self
            .logs
            .create_log_group()
            .log_group_name(group)
            .send()
            .await
        {
            let e = AwsError::call("CreateLogGroup", group, &e);
            if e.code() != Some("ResourceAlreadyExistsException") {
                return Err(e);
            }
        }
        let current = self.log_retention(group).await?;
        match retention {
            Some(days) if current != Some(days) => {
                self.logs
                    .put_retention_policy()
                    .log_group_name(group)
                    .retention_in_days(days as i32)
                    .send()
                    .await
                    .map_err(|e| AwsError::call("PutRetentionPolicy", group, &e))?;
            }
            None if current.is_some() => {
                self.logs
                    .delete_retention_policy()
                    .log_group_name(group)
                    .send()
                    .await
                    .map_err(|e| AwsError::call("DeleteRetentionPolicy", group, &e))?;
            }
            _ => {}
        }
        Ok(())
    }

    /// The retention of log group `group` (days), if it has one.
    pub async fn log_retention(&self, group: &str) -> Result<Option<u32>, AwsError> {
        let out = self
            .logs
            .describe_log_groups()
            .log_group_name_prefix(group)
            .send()
            .await
            .map_err(|e| AwsError::call("DescribeLogGroups", group, &e))?;
        Ok(out
            .log_groups()
            .iter()
            .find(|g| g.log_group_name() == Some(group))
            .and_then(|g| g.retention_in_days())
            .map(|d| d.max(0) as u32))
    }

    /// Deletes log group `group`; false when there was none.
    pub async fn delete_log_group(&self, group: &str) -> Result<bool, AwsError> {
        match self
            .logs
            .delete_log_group()
            .log_group_name(group)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) => {
                let e = AwsError::call("DeleteLogGroup", group, &e);
                if e.code() == Some("ResourceNotFoundException") {
                    Ok(false)
                } else {
                    Err(e)
                }
            }
        }
    }
}

fn environment(vars: &BTreeMap<String, String>) -> Environment {
    Environment::builder()
        .set_variables(Some(
            vars.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        ))
        .build()
}
