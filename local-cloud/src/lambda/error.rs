//! [`ApiError`]: a Lambda API error with AWS's status, type and message.

use http::{Response, StatusCode};

use super::functions;
use crate::protocol::{self, Body, Protocol};

/// A Lambda API error: HTTP status, AWS error type, message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// AWS error type (`ResourceNotFoundException`...).
    pub error_type: &'static str,
    /// Message.
    pub message: String,
}

impl ApiError {
    /// InvalidParameterValueException (400).
    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            error_type: "InvalidParameterValueException",
            message: message.into(),
        }
    }
    /// ResourceNotFoundException (404) for a function.
    pub fn not_found(region: &str, name: &str) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            error_type: "ResourceNotFoundException",
            message: format!(
                "Function not found: {}",
                functions::function_arn(region, name)
            ),
        }
    }
    /// ResourceNotFoundException (404) with its own message.
    pub fn not_found_message(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            error_type: "ResourceNotFoundException",
            message: message.into(),
        }
    }
    /// ResourceConflictException (409).
    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::CONFLICT,
            error_type: "ResourceConflictException",
            message: message.into(),
        }
    }
    /// TooManyRequestsException (429).
    pub fn throttled() -> ApiError {
        ApiError {
            status: StatusCode::TOO_MANY_REQUESTS,
            error_type: "TooManyRequestsException",
            message: "Rate Exceeded.".into(),
        }
    }
    /// RequestTooLargeException (413).
    pub fn too_large(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            error_type: "RequestTooLargeException",
            message: message.into(),
        }
    }
    /// ServiceException (500).
    pub fn service(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            error_type: "ServiceException",
            message: message.into(),
        }
    }
    /// The REST-JSON response.
    pub fn response(&self) -> Response<Body> {
        protocol::error(
            Protocol::RestJson,
            self.status,
            self.error_type,
            &self.message,
        )
    }
}
