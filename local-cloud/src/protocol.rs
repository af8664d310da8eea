//! Wire helpers shared by the services the local cloud speaks: responses and
//! errors in each AWS protocol, so every service fails the way AWS does and
//! the SDKs map the error to the right type.
//!
//! - Lambda: REST-JSON, error type in `x-amzn-ErrorType`.
//! - CloudWatch Logs: awsJson1_1, `{"__type", "message"}`.
//! - CloudWatch: rpcv2Cbor (aws-sdk-cloudwatch 1.100+), awsJson1_0 and
//!   awsQuery (the AWS CLI, boto3).

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode};
use serde_json::{Value, json};

/// The response body type of the whole server (s3s's, so S3 responses pass through).
pub type Body = s3s::Body;

/// The protocols the local cloud speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// REST with JSON bodies (Lambda).
    RestJson,
    /// `application/x-amz-json-1.0` (CloudWatch for the AWS CLI and boto3).
    AwsJson10,
    /// `application/x-amz-json-1.1` (CloudWatch Logs).
    AwsJson11,
    /// Smithy RPC v2 CBOR (aws-sdk-cloudwatch).
    Cbor,
    /// AWS Query, form-encoded in, XML out (older CloudWatch clients).
    Query,
}

fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn with_headers(status: StatusCode, content_type: &str, body: Bytes) -> Response<Body> {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        h.insert(http::header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&request_id()) {
        h.insert("x-amzn-requestid", v);
    }
    r
}

/// A successful JSON response in `protocol` (RestJson, AwsJson10 or AwsJson11).
pub fn json(protocol: Protocol, status: StatusCode, value: &Value) -> Response<Body> {
    let ct = match protocol {
        Protocol::AwsJson10 => "application/x-amz-json-1.0",
        Protocol::AwsJson11 => "application/x-amz-json-1.1",
        _ => "application/json",
    };
    with_headers(status, ct, Bytes::from(value.to_string()))
}

/// A successful rpcv2Cbor response holding `value` (encoded as CBOR).
pub fn cbor(value: &ciborium::Value) -> Response<Body> {
    let mut buf = Vec::new();
    if ciborium::into_writer(value, &mut buf).is_err() {
        return error(
            Protocol::Cbor,
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServiceFault",
            "CBOR encoding failed",
        );
    }
    let mut r = with_headers(StatusCode::OK, "application/cbor", Bytes::from(buf));
    r.headers_mut()
        .insert("smithy-protocol", HeaderValue::from_static("rpc-v2-cbor"));
    r
}

/// A successful awsQuery response: `<{action}Response><{action}Result>{inner}</...>`.
pub fn query(action: &str, inner_xml: &str) -> Response<Body> {
    let xmlns = "http://monitoring.amazonaws.com/doc/2010-08-01/";
    let body = format!(
        "<{action}Response xmlns=\"{xmlns}\"><{action}Result>{inner_xml}</{action}Result><ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></{action}Response>",
        request_id()
    );
    with_headers(StatusCode::OK, "text/xml", Bytes::from(body))
}

/// Escapes text for XML.
pub fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// An error in `protocol`'s shape, with AWS's error type and message.
pub fn error(
    protocol: Protocol,
    status: StatusCode,
    error_type: &str,
    message: &str,
) -> Response<Body> {
    match protocol {
        Protocol::RestJson => {
            let mut r = json(
                protocol,
                status,
                &json!({"Type": "User", "message": message}),
            );
            if let Ok(v) = HeaderValue::from_str(error_type) {
                r.headers_mut().insert("x-amzn-errortype", v);
            }
            r
        }
        Protocol::AwsJson10 | Protocol::AwsJson11 => json(
            protocol,
            status,
            &json!({"__type": error_type, "message": message}),
        ),
        Protocol::Cbor => {
            let v = ciborium::Value::Map(vec![
                (
                    ciborium::Value::Text("__type".into()),
                    ciborium::Value::Text(error_type.into()),
                ),
                (
                    ciborium::Value::Text("message".into()),
                    ciborium::Value::Text(message.into()),
                ),
            ]);
            let mut buf = Vec::new();
            let _ = ciborium::into_writer(&v, &mut buf);
            let mut r = with_headers(status, "application/cbor", Bytes::from(buf));
            let h = r.headers_mut();
            h.insert("smithy-protocol", HeaderValue::from_static("rpc-v2-cbor"));
            // Query-compatible services also say the code here (awsQueryCompatible).
            if let Ok(v) = HeaderValue::from_str(&format!("{error_type};Sender")) {
                h.insert("x-amzn-query-error", v);
            }
            r
        }
        Protocol::Query => {
            let body = format!(
                "<ErrorResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\"><Error><Type>Sender</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
                xml_escape(error_type),
                xml_escape(message),
                request_id()
            );
            with_headers(status, "text/xml", Bytes::from(body))
        }
    }
}
