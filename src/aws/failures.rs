//! The records Lambda writes to a function's S3 on-failure destination
//! for asynchronous invocations that failed every attempt: the one way
//! scar-tui learns of them, on AWS as on the local cloud.

use super::{AwsError, Cloud};

/// One failed invocation, as its record tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureRecord {
    /// The record's object key.
    pub key: String,
    /// The invocation's request id.
    pub request_id: String,
    /// Why Lambda gave up: `RetriesExhausted`, `EventAgeExceeded`...
    pub condition: String,
    /// The function's last error, when the record carries one.
    pub error: Option<String>,
}

impl Cloud {
    /// The record at `bucket`/`key`; `None` if it is not a Lambda
    /// invocation record (another object under the prefix).
    pub async fn failure_record(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<Option<FailureRecord>, AwsError> {
        let out = self.open_object(bucket, key).await?;
        let bytes = out.body.collect().await.map_err(|e| AwsError::Call {
            op: "GetObject",
            target: format!("s3://{bucket}/{key}"),
            code: "ReadError".into(),
            message: e.to_string(),
        })?;
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes.into_bytes()) else {
            return Ok(None);
        };
        let Some(request_id) = v
            .pointer("/requestContext/requestId")
            .and_then(|r| r.as_str())
        else {
            return Ok(None);
        };
        Ok(Some(FailureRecord {
            key: key.to_owned(),
            request_id: request_id.to_owned(),
            condition: v
                .pointer("/requestContext/condition")
                .and_then(|c| c.as_str())
                .unwrap_or_default()
                .to_owned(),
            error: v
                .pointer("/responsePayload/errorMessage")
                .and_then(|m| m.as_str())
                .map(str::to_owned),
        }))
    }
}
