//! The awsJson1_1 side of CloudWatch Logs shared by every operation: reading
//! request fields with AWS's validation messages, AWS's error types, names
//! and ARNs (pagination tokens are in [`super::tokens`]).
//!
//! Errors follow the service's documented exceptions
//! (<https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/CommonErrors.html>):
//! unreadable JSON or a wrongly typed field is `SerializationException`, a
//! missing or out-of-range value `InvalidParameterException`.

use http::{HeaderMap, Response, StatusCode};
use serde_json::{Map, Value};

use super::error::LogsError;
use crate::protocol::{self, Body, Protocol};

/// The account id in every ARN the local cloud hands out.
pub(super) const ACCOUNT: &str = "000000000000";

/// An operation's failure, in AWS's terms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {message}")]
pub(super) struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// AWS's error type (`__type`).
    pub kind: &'static str,
    /// The message.
    pub message: String,
}

impl ApiError {
    /// `InvalidParameterException`.
    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            kind: "InvalidParameterException",
            message: message.into(),
        }
    }

    /// `SerializationException`.
    pub fn serialization(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            kind: "SerializationException",
            message: message.into(),
        }
    }

    /// The response in awsJson1_1.
    pub fn response(&self) -> Response<Body> {
        protocol::error(Protocol::AwsJson11, self.status, self.kind, &self.message)
    }
}

impl From<LogsError> for ApiError {
    fn from(e: LogsError) -> ApiError {
        let (kind, message) = match &e {
            LogsError::GroupExists { .. } => (
                "ResourceAlreadyExistsException",
                "The specified log group already exists",
            ),
            LogsError::StreamExists { .. } => (
                "ResourceAlreadyExistsException",
                "The specified log stream already exists",
            ),
            LogsError::GroupNotFound { .. } => (
                "ResourceNotFoundException",
                "The specified log group does not exist.",
            ),
            LogsError::StreamNotFound { .. } => (
                "ResourceNotFoundException",
                "The specified log stream does not exist.",
            ),
            LogsError::InvalidParameter(m) => return ApiError::invalid(m.clone()),
            LogsError::Io { .. } => {
                tracing::error!(error = %e, "log store failed");
                return ApiError {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    kind: "ServiceUnavailableException",
                    message: "The local cloud could not read or write its log data; see its own log for the file"
                        .into(),
                };
            }
        };
        ApiError {
            status: StatusCode::BAD_REQUEST,
            kind,
            message: message.into(),
        }
    }
}

fn null_at(field: &str) -> ApiError {
    ApiError::invalid(format!(
        "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
    ))
}

/// The JSON object of one request.
#[derive(Debug)]
pub(super) struct Input(Map<String, Value>);

impl Input {
    /// Parses a request body; an empty body is `{}`.
    pub fn parse(body: &[u8]) -> Result<Input, ApiError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Input(Map::new()));
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(m)) => Ok(Input(m)),
            Ok(_) => Err(ApiError::serialization(
                "The request body must be a JSON object",
            )),
            Err(e) => Err(ApiError::serialization(format!(
                "The request body is not valid JSON: {e}"
            ))),
        }
    }

    fn field(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    /// An optional string.
    pub fn opt_str(&self, name: &str) -> Result<Option<&str>, ApiError> {
        match self.field(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(ApiError::serialization(format!(
                "Field '{name}' must be a string"
            ))),
        }
    }

    /// A required string.
    pub fn str(&self, name: &str) -> Result<&str, ApiError> {
        self.opt_str(name)?.ok_or_else(|| null_at(name))
    }

    /// An optional integer.
    pub fn opt_i64(&self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.field(name) {
            None => Ok(None),
            Some(v) => v.as_i64().map(Some).ok_or_else(|| {
                ApiError::serialization(format!("Field '{name}' must be an integer"))
            }),
        }
    }

    /// An optional boolean.
    pub fn opt_bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.field(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(ApiError::serialization(format!(
                "Field '{name}' must be a boolean"
            ))),
        }
    }

    /// An optional list.
    pub fn opt_list(&self, name: &str) -> Result<Option<&Vec<Value>>, ApiError> {
        match self.field(name) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(_) => Err(ApiError::serialization(format!(
                "Field '{name}' must be a list"
            ))),
        }
    }

    /// An optional list of strings.
    pub fn opt_str_list(&self, name: &str) -> Result<Option<Vec<&str>>, ApiError> {
        let Some(list) = self.opt_list(name)? else {
            return Ok(None);
        };
        list.iter()
            .map(|v| {
                v.as_str().ok_or_else(|| {
                    ApiError::serialization(format!("Field '{name}' must be a list of strings"))
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// `limit` in `1..=max`, or `default`.
    pub fn limit(&self, max: usize, default: usize) -> Result<usize, ApiError> {
        match self.opt_i64("limit")? {
            None => Ok(default),
            Some(n) if n >= 1 && n as u64 <= max as u64 => Ok(n as usize),
            Some(n) => Err(ApiError::invalid(format!(
                "1 validation error detected: Value '{n}' at 'limit' failed to satisfy constraint: Member must have value between 1 and {max}"
            ))),
        }
    }

    /// The group of a read: `logGroupName` or `logGroupIdentifier` (a name
    /// or an ARN), exactly one of them.
    pub fn group(&self) -> Result<String, ApiError> {
        match (
            self.opt_str("logGroupName")?,
            self.opt_str("logGroupIdentifier")?,
        ) {
            (Some(name), None) => Ok(name.to_owned()),
            (None, Some(id)) => Ok(group_from_identifier(id)),
            (Some(_), Some(_)) => Err(ApiError::invalid(
                "LogGroup name and LogGroup ARN are mutually exclusive parameters.",
            )),
            (None, None) => Err(ApiError::invalid(
                "Either logGroupName or logGroupIdentifier must be specified.",
            )),
        }
    }
}

/// The group name in `arn:aws:logs:R:A:log-group:NAME[:*]`, or the
/// identifier itself when it is a plain name.
pub(super) fn group_from_identifier(id: &str) -> String {
    match id
        .strip_prefix("arn:")
        .and_then(|rest| rest.split_once(":log-group:"))
    {
        Some((_, name)) => name.strip_suffix(":*").unwrap_or(name).to_owned(),
        None => id.to_owned(),
    }
}

/// Checks a group name as CreateLogGroup does: 1 to 512 of `[.\-_/#A-Za-z0-9]`.
pub(super) fn check_group_name(name: &str) -> Result<(), ApiError> {
    let ok = (1..=512).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-/#".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "1 validation error detected: Value '{name}' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+ and have length between 1 and 512"
        )))
    }
}

/// Checks a stream name as CreateLogStream does: 1 to 512 characters,
/// neither `:` nor `*`.
pub(super) fn check_stream_name(name: &str) -> Result<(), ApiError> {
    if (1..=512).contains(&name.chars().count()) && !name.contains([':', '*']) {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "1 validation error detected: Value '{name}' at 'logStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]* and have length between 1 and 512"
        )))
    }
}

/// The region the request was signed for (its SigV4 credential scope):
/// the local cloud answers as whatever region the client believes it talks to.
pub(super) fn region(headers: &HeaderMap) -> String {
    headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|auth| auth.split("Credential=").nth(1))
        .and_then(|cred| cred.split('/').nth(2))
        .filter(|r| !r.is_empty())
        .unwrap_or("us-east-1")
        .to_owned()
}

/// `arn:aws:logs:REGION:ACCOUNT:log-group:NAME` (DescribeLogGroups'
/// `logGroupArn`; its `arn` adds `:*`).
pub(super) fn group_arn(region: &str, group: &str) -> String {
    format!("arn:aws:logs:{region}:{ACCOUNT}:log-group:{group}")
}

/// A stream's ARN.
pub(super) fn stream_arn(region: &str, group: &str, stream: &str) -> String {
    format!("{}:log-stream:{stream}", group_arn(region, group))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_checked_with_named_errors() {
        let i = Input::parse(br#"{"logGroupName":"g","limit":"x","startTime":5,"names":["a",1]}"#)
            .unwrap();
        assert_eq!(i.str("logGroupName").unwrap(), "g");
        let e = i.str("logStreamName").unwrap_err();
        assert_eq!(e.kind, "InvalidParameterException");
        assert!(e.message.contains("'logStreamName'"));
        let e = i.limit(50, 50).unwrap_err();
        assert_eq!(e.kind, "SerializationException");
        assert!(e.message.contains("'limit'"));
        assert_eq!(i.opt_i64("startTime").unwrap(), Some(5));
        assert!(
            i.opt_str_list("names")
                .unwrap_err()
                .message
                .contains("'names'")
        );
        assert_eq!(
            Input::parse(b"{nope").unwrap_err().kind,
            "SerializationException"
        );
        assert_eq!(
            Input::parse(b"[1]").unwrap_err().kind,
            "SerializationException"
        );
        assert!(Input::parse(b"").is_ok());
        let over = Input::parse(br#"{"limit":51}"#)
            .unwrap()
            .limit(50, 50)
            .unwrap_err();
        assert!(over.message.contains("'51'"));
    }

    #[test]
    fn group_by_name_or_arn() {
        let by_arn = Input::parse(
            br#"{"logGroupIdentifier":"arn:aws:logs:eu-west-1:1:log-group:/aws/lambda/f:*"}"#,
        )
        .unwrap();
        assert_eq!(by_arn.group().unwrap(), "/aws/lambda/f");
        let both = Input::parse(br#"{"logGroupIdentifier":"a","logGroupName":"a"}"#).unwrap();
        assert!(both.group().is_err());
        assert!(Input::parse(b"{}").unwrap().group().is_err());
    }

    #[test]
    fn names_and_region() {
        assert!(check_group_name("/aws/lambda/my-fn_1.x#y").is_ok());
        assert!(check_group_name("bad name").is_err());
        assert!(check_group_name("").is_err());
        assert!(check_group_name(&"a".repeat(513)).is_err());
        assert!(check_stream_name("2026/01/02/[$LATEST]0123abcd").is_ok());
        assert!(check_stream_name("a:b").is_err());
        assert!(check_stream_name("a*").is_err());
        let mut h = HeaderMap::new();
        assert_eq!(region(&h), "us-east-1");
        h.insert(
            http::header::AUTHORIZATION,
            "AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-3/logs/aws4_request, SignedHeaders=host, Signature=00"
                .parse()
                .unwrap(),
        );
        assert_eq!(region(&h), "eu-west-3");
        assert_eq!(
            stream_arn("r", "g", "s"),
            "arn:aws:logs:r:000000000000:log-group:g:log-stream:s"
        );
    }
}
