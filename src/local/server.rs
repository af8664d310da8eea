//! The one loopback endpoint of the local cloud: every AWS client is pointed
//! at it with `AWS_ENDPOINT_URL`, as at a single AWS region.
//!
//! Each request is routed by its shape (as AWS's own front ends do by host):
//! Lambda by its dated REST paths, CloudWatch Logs and CloudWatch by their
//! `X-Amz-Target`, the CBOR path or an awsQuery form, and everything else to
//! S3 (s3s, which checks SigV4 itself). The other services' signatures are
//! checked here before they see the request.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::keys::AccessKey;
use super::protocol::{self, Body, Protocol};
use super::{lambda, logs, metrics, sigv4};

/// Largest request body read for the JSON services: a 50 MB zip upload in
/// base64 (CreateFunction), with room to spare. Invoke payload limits are
/// checked by Lambda itself, with Lambda's own error.
const MAX_BODY: usize = 72 * 1024 * 1024;

/// Lambda's API versions, the first path segment of its REST routes.
const LAMBDA_PREFIXES: [&str; 7] = [
    "/2015-03-31/",
    "/2016-08-19/",
    "/2017-10-31/",
    "/2018-10-31/",
    "/2019-09-25/",
    "/2019-09-30/",
    "/2021-10-31/",
];

/// A request for one of the services the local cloud implements itself,
/// authenticated and with its body read.
#[derive(Debug)]
pub struct ServiceRequest {
    /// Method.
    pub method: Method,
    /// URI (path and query).
    pub uri: Uri,
    /// Headers.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
    /// The protocol it came in.
    pub protocol: Protocol,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    S3,
    Lambda,
    Logs,
    Metrics(Protocol),
}

fn classify(method: &Method, uri: &Uri, headers: &HeaderMap) -> Route {
    let path = uri.path();
    if LAMBDA_PREFIXES.iter().any(|p| path.starts_with(p)) {
        return Route::Lambda;
    }
    if path.starts_with("/service/GraniteServiceVersion20100801/operation/") {
        return Route::Metrics(Protocol::Cbor);
    }
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if target.starts_with("Logs_20140328.") {
        return Route::Logs;
    }
    if target.starts_with("GraniteServiceVersion20100801.") {
        return Route::Metrics(Protocol::AwsJson10);
    }
    let form = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    if method == Method::POST && path == "/" && form {
        return Route::Metrics(Protocol::Query);
    }
    Route::S3
}

/// What the server routes to.
pub struct Services {
    /// The install's key (for the non-S3 services' SigV4).
    pub key: AccessKey,
    /// S3, with its own SigV4 check.
    pub s3: s3s::service::S3Service,
    /// Lambda.
    pub lambda: Arc<lambda::Lambda>,
    /// CloudWatch Logs.
    pub logs: Arc<logs::LogStore>,
    /// CloudWatch metrics.
    pub metrics: Arc<metrics::MetricStore>,
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

async fn handle(
    req: Request<Incoming>,
    services: Arc<Services>,
) -> Result<Response<Body>, Infallible> {
    let route = classify(req.method(), req.uri(), req.headers());
    let protocol = match route {
        Route::S3 => {
            return Ok(
                match hyper::service::Service::call(&services.s3, req).await {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::error!(error = ?e, "s3 service failed");
                        protocol::error(
                            Protocol::Query,
                            StatusCode::INTERNAL_SERVER_ERROR,
                            "InternalError",
                            "S3 failed",
                        )
                    }
                },
            );
        }
        Route::Lambda => Protocol::RestJson,
        Route::Logs => Protocol::AwsJson11,
        Route::Metrics(p) => p,
    };
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return Ok(protocol::error(
                protocol,
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestTooLargeException",
                "Request must be smaller than 72 MB",
            ));
        }
    };
    if let Err(e) = sigv4::verify(
        &parts.method,
        &parts.uri,
        &parts.headers,
        &body,
        &services.key,
        now_secs(),
    ) {
        let status = match e {
            sigv4::AuthError::Missing | sigv4::AuthError::Malformed(_) => StatusCode::BAD_REQUEST,
            _ => StatusCode::FORBIDDEN,
        };
        return Ok(protocol::error(
            protocol,
            status,
            e.error_type(),
            &e.to_string(),
        ));
    }
    let sreq = ServiceRequest {
        method: parts.method,
        uri: parts.uri,
        headers: parts.headers,
        body,
        protocol,
    };
    Ok(match route {
        Route::Lambda => services.lambda.handle(sreq).await,
        Route::Logs => services.logs.handle(sreq).await,
        Route::Metrics(_) => services.metrics.handle(sreq).await,
        Route::S3 => unreachable!("S3 returned above"),
    })
}

/// Accepts connections until `shutdown` turns true. Only loopback peers are
/// served (the listener is bound to 127.0.0.1; this is a second fence).
pub async fn serve(
    listener: TcpListener,
    services: Arc<Services>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let (stream, peer): (_, SocketAddr) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            },
            _ = shutdown.changed() => return,
        };
        if !peer.ip().is_loopback() {
            continue;
        }
        // Responses go out as several small writes (headers, body): with
        // Nagle's algorithm on, each waits for the client's delayed ACK
        // (40 ms on Linux), which dominated every S3 call of a function.
        let _ = stream.set_nodelay(true);
        let services = services.clone();
        let mut conn_shutdown = shutdown.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| handle(req, services.clone()));
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            let conn = builder.serve_connection(TokioIo::new(stream), svc);
            tokio::select! {
                _ = conn => {}
                _ = conn_shutdown.changed() => {}
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_by_shape() {
        let h = HeaderMap::new();
        let u = |s: &str| s.parse::<Uri>().unwrap();
        assert_eq!(
            classify(&Method::GET, &u("/2015-03-31/functions/"), &h),
            Route::Lambda
        );
        assert_eq!(classify(&Method::GET, &u("/bucket/key"), &h), Route::S3);
        assert_eq!(
            classify(
                &Method::POST,
                &u("/service/GraniteServiceVersion20100801/operation/GetMetricData"),
                &h
            ),
            Route::Metrics(Protocol::Cbor)
        );
        let mut t = HeaderMap::new();
        t.insert(
            "x-amz-target",
            "Logs_20140328.GetLogEvents".parse().unwrap(),
        );
        assert_eq!(classify(&Method::POST, &u("/"), &t), Route::Logs);
        let mut f = HeaderMap::new();
        f.insert(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8"
                .parse()
                .unwrap(),
        );
        assert_eq!(
            classify(&Method::POST, &u("/"), &f),
            Route::Metrics(Protocol::Query)
        );
    }
}
