//! Invoking functions: once synchronously (with the log tail), or as an
//! `Event` (queued by Lambda, retried by Lambda).

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{InvocationType, LogType};
use base64::Engine;

use super::{AwsError, Cloud};

/// What a synchronous invocation returned.
#[derive(Debug, Clone, serde::Serialize)]
pub struct InvokeOutput {
    /// The request id.
    pub request_id: String,
    /// HTTP status Lambda answered.
    pub status_code: i32,
    /// `Unhandled` when the function failed.
    pub function_error: Option<String>,
    /// The function's answer (JSON when it is).
    pub payload: serde_json::Value,
    /// The last 4 KB of its log.
    pub log_tail: String,
}

impl Cloud {
    /// Invokes `function` and waits for its answer and log tail.
    pub async fn invoke_sync(
        &self,
        function: &str,
        payload: Vec<u8>,
    ) -> Result<InvokeOutput, AwsError> {
        let out = self
            .lambda
            .invoke()
            .function_name(function)
            .log_type(LogType::Tail)
            .payload(Blob::new(payload))
            .send()
            .await
            .map_err(|e| AwsError::call("Invoke", function, &e))?;
        let request_id = aws_types_request_id(&out).unwrap_or_default();
        let payload = out
            .payload()
            .map(|p| {
                serde_json::from_slice(p.as_ref()).unwrap_or_else(|_| {
                    serde_json::Value::String(String::from_utf8_lossy(p.as_ref()).into_owned())
                })
            })
            .unwrap_or(serde_json::Value::Null);
        let log_tail = out
            .log_result()
            .and_then(|l| base64::engine::general_purpose::STANDARD.decode(l).ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        Ok(InvokeOutput {
            request_id,
            status_code: out.status_code(),
            function_error: out.function_error().map(str::to_owned),
            payload,
            log_tail,
        })
    }

    /// Queues an `Event` invocation; returns Lambda's request id.
    pub async fn invoke_event(&self, function: &str, payload: Vec<u8>) -> Result<String, AwsError> {
        let out = self
            .lambda
            .invoke()
            .function_name(function)
            .invocation_type(InvocationType::Event)
            .payload(Blob::new(payload))
            .send()
            .await
            .map_err(|e| AwsError::call("Invoke", function, &e))?;
        Ok(aws_types_request_id(&out).unwrap_or_default())
    }
}

fn aws_types_request_id(out: &aws_sdk_lambda::operation::invoke::InvokeOutput) -> Option<String> {
    use aws_sdk_lambda::operation::RequestId;
    out.request_id().map(str::to_owned)
}
