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
    /// The clock SigV4's allowed skew is measured against.
    pub clock: scar_contract::time::Clock,
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
        services.clock.now_secs(),
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

/// What answers one request: the cloud's router, or a test's.
pub type Handler = Arc<
    dyn Fn(Request<Incoming>) -> futures_util::future::BoxFuture<'static, Response<Body>>
        + Send
        + Sync,
>;

/// The local cloud's handler: routes to the services, survives a panicking
/// handler (the request gets a 500 in its service's protocol, the panic is
/// logged, the next request is served), and dates every response by the
/// cloud's clock, as AWS's `Date` header does (SDKs correct their signing
/// clock from it).
pub fn cloud_handler(services: Arc<Services>) -> Handler {
    Arc::new(move |req| {
        let services = services.clone();
        Box::pin(async move {
            let clock = services.clock.clone();
            let protocol = match classify(req.method(), req.uri(), req.headers()) {
                Route::S3 => Protocol::Query,
                Route::Lambda => Protocol::RestJson,
                Route::Logs => Protocol::AwsJson11,
                Route::Metrics(p) => p,
            };
            let answer = async move {
                match handle(req, services).await {
                    Ok(r) => r,
                    Err(never) => match never {},
                }
            };
            let mut response = guarded(protocol, answer).await;
            if let Ok(date) =
                http::HeaderValue::from_str(&scar_contract::time::http_date(clock.now_ms()))
            {
                response.headers_mut().insert(http::header::DATE, date);
            }
            response
        })
    })
}

/// Runs `answer`; a panic in it becomes a 500 in `protocol` (logged with
/// its message), so one bad request cannot take the cloud down.
pub async fn guarded(
    protocol: Protocol,
    answer: impl std::future::Future<Output = Response<Body>>,
) -> Response<Body> {
    use futures_util::FutureExt;
    match std::panic::AssertUnwindSafe(answer).catch_unwind().await {
        Ok(r) => r,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".to_owned());
            tracing::error!(panic = %what, "a request handler panicked; answered 500");
            protocol::error(
                protocol,
                StatusCode::INTERNAL_SERVER_ERROR,
                if protocol == Protocol::Query {
                    "InternalError"
                } else {
                    "ServiceException"
                },
                "the local cloud failed on this request (its log has the details); it goes on serving",
            )
        }
    }
}

/// Accepts connections until `shutdown` turns true. Only loopback peers are
/// served (the listener is bound to 127.0.0.1; this is a second fence).
pub async fn serve(listener: TcpListener, handler: Handler, mut shutdown: watch::Receiver<bool>) {
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
        let handler = handler.clone();
        let mut conn_shutdown = shutdown.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| {
                let answer = handler(req);
                async move { Ok::<_, Infallible>(answer.await) }
            });
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

    /// One HTTP/1.1 request on a new connection; the status code.
    async fn status_of(addr: SocketAddr, path: &str) -> u16 {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(
            format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).await.unwrap();
        text.split(' ').nth(1).unwrap().parse().unwrap()
    }

    /// A handler that panics answers 500, and the same server serves the
    /// next request (the process unwinds; only that request fails).
    #[tokio::test]
    async fn a_panicking_handler_answers_500_and_the_server_goes_on() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let handler: Handler = Arc::new(|req: Request<Incoming>| {
            let boom = req.uri().path() == "/boom";
            Box::pin(guarded(Protocol::RestJson, async move {
                assert!(!boom, "injected failure");
                protocol::json(Protocol::RestJson, StatusCode::OK, &serde_json::json!({}))
            }))
        });
        let (stop, rx) = watch::channel(false);
        let server = tokio::spawn(serve(listener, handler, rx));
        assert_eq!(status_of(addr, "/ok").await, 200);
        assert_eq!(status_of(addr, "/boom").await, 500);
        assert_eq!(status_of(addr, "/ok").await, 200);
        let _ = stop.send(true);
        server.await.unwrap();
    }

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
