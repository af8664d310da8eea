//! The Lambda Runtime API of one execution environment
//! (<https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html>).
//!
//! Each environment gets its own listener on 127.0.0.1, named to the
//! `bootstrap` by `AWS_LAMBDA_RUNTIME_API`. `GET .../invocation/next` blocks
//! until the environment is handed an invocation, exactly as `lambda_runtime`
//! 1.x expects (it panics on a 204 or a missing header), and carries the
//! request id, deadline, function ARN and trace id headers. The function's
//! answer arrives on `.../response` or `.../error`; `.../init/error` reports
//! a failed start.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};

/// Largest response a function may return (Lambda's 6 MB).
pub const MAX_RESPONSE: usize = 6 * 1024 * 1024;

/// One invocation handed to the environment.
#[derive(Debug)]
pub struct Invocation {
    /// The request id.
    pub request_id: String,
    /// The event.
    pub payload: Bytes,
    /// The deadline, ms since the epoch.
    pub deadline_ms: u64,
    /// The function's ARN.
    pub function_arn: String,
    /// Where the outcome goes.
    pub reply: oneshot::Sender<Outcome>,
}

/// How the function answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `.../response`.
    Response(Bytes),
    /// `.../error`, or a failure of the environment: error type and JSON body.
    Error {
        /// `errorType` (`Runtime.ExitError`, the handler's own type...).
        error_type: String,
        /// The JSON error document returned to the caller.
        body: Bytes,
    },
}

impl Outcome {
    /// An error outcome with Lambda's `{"errorMessage", "errorType"}` body.
    pub fn error(error_type: &str, message: &str) -> Outcome {
        Outcome::Error {
            error_type: error_type.to_owned(),
            body: Bytes::from(
                json!({"errorMessage": message, "errorType": error_type}).to_string(),
            ),
        }
    }
}

/// The shared state of one environment's Runtime API.
#[derive(Debug)]
pub struct RuntimeApi {
    /// Where it listens.
    pub addr: SocketAddr,
    next: tokio::sync::Mutex<mpsc::Receiver<Invocation>>,
    pending: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    /// Set when the bootstrap first asks for an event (end of init).
    pub ready: watch::Sender<Option<Instant>>,
    /// Set when the bootstrap reports an init error.
    pub init_error: watch::Sender<Option<String>>,
}

impl RuntimeApi {
    /// Starts the listener; invocations are sent into the returned sender.
    pub async fn start(
        shutdown: watch::Receiver<bool>,
    ) -> std::io::Result<(Arc<RuntimeApi>, mpsc::Sender<Invocation>)> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let (tx, rx) = mpsc::channel(1);
        let api = Arc::new(RuntimeApi {
            addr: listener.local_addr()?,
            next: tokio::sync::Mutex::new(rx),
            pending: Mutex::new(HashMap::new()),
            ready: watch::channel(None).0,
            init_error: watch::channel(None).0,
        });
        tokio::spawn(serve(listener, api.clone(), shutdown));
        Ok((api, tx))
    }

    /// Fails every invocation still waiting for an answer (the process died).
    pub fn fail_pending(&self, outcome: &Outcome) {
        let drained: Vec<_> = self
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain()
            .collect();
        for (_, tx) in drained {
            let _ = tx.send(outcome.clone());
        }
    }

    async fn route(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let path = req.uri().path().to_owned();
        let method = req.method().clone();
        let rest = path.strip_prefix("/2018-06-01/runtime/").unwrap_or("");
        if method == http::Method::GET && rest == "invocation/next" {
            return self.next().await;
        }
        if method != http::Method::POST {
            return reply(
                StatusCode::NOT_FOUND,
                json!({"errorMessage": "unknown path", "errorType": "NotFound"}),
            );
        }
        let error_type = req
            .headers()
            .get("lambda-runtime-function-error-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = match Limited::new(req.into_body(), MAX_RESPONSE + 1)
            .collect()
            .await
        {
            Ok(b) => b.to_bytes(),
            Err(_) => Bytes::new(),
        };
        if rest == "init/error" {
            let _ = self.init_error.send(Some(
                error_type.unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned()),
            ));
            return reply(StatusCode::ACCEPTED, json!({"status": "OK"}));
        }
        let Some(inner) = rest.strip_prefix("invocation/") else {
            return reply(
                StatusCode::NOT_FOUND,
                json!({"errorMessage": "unknown path", "errorType": "NotFound"}),
            );
        };
        let (id, kind) = match inner.rsplit_once('/') {
            Some((id, k)) if k == "response" || k == "error" => (id.to_owned(), k),
            _ => {
                return reply(
                    StatusCode::NOT_FOUND,
                    json!({"errorMessage": "unknown path", "errorType": "NotFound"}),
                );
            }
        };
        let Some(tx) = self
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id)
        else {
            return reply(
                StatusCode::BAD_REQUEST,
                json!({"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"}),
            );
        };
        let outcome = if kind == "response" {
            if body.len() > MAX_RESPONSE {
                Outcome::error(
                    "Function.ResponseSizeTooLarge",
                    &format!(
                        "Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE} bytes)."
                    ),
                )
            } else {
                Outcome::Response(body)
            }
        } else {
            let from_body = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| {
                    v.get("errorType")
                        .and_then(|t| t.as_str())
                        .map(str::to_owned)
                });
            // lambda_runtime sends the header as `unhandled` whatever the
            // error; the body's `errorType` is the real one.
            let header = error_type.filter(|t| !t.eq_ignore_ascii_case("unhandled"));
            Outcome::Error {
                error_type: from_body.or(header).unwrap_or_else(|| "Unhandled".into()),
                body,
            }
        };
        let _ = tx.send(outcome);
        reply(StatusCode::ACCEPTED, json!({"status": "OK"}))
    }

    async fn next(&self) -> Response<Full<Bytes>> {
        self.ready.send_if_modified(|r| {
            if r.is_none() {
                *r = Some(Instant::now());
                true
            } else {
                false
            }
        });
        // One poller at a time, as one runtime per environment.
        let mut rx = self.next.lock().await;
        let Some(inv) = rx.recv().await else {
            // The environment is going away; the process is about to be killed.
            return reply(
                StatusCode::GONE,
                json!({"errorMessage": "environment shutting down", "errorType": "Gone"}),
            );
        };
        drop(rx);
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(inv.request_id.clone(), inv.reply);
        let mut r = Response::new(Full::new(inv.payload));
        let h = r.headers_mut();
        let mut set = |k: &'static str, v: &str| {
            if let Ok(v) = http::HeaderValue::from_str(v) {
                h.insert(k, v);
            }
        };
        set("lambda-runtime-aws-request-id", &inv.request_id);
        set("lambda-runtime-deadline-ms", &inv.deadline_ms.to_string());
        set("lambda-runtime-invoked-function-arn", &inv.function_arn);
        set(
            "lambda-runtime-trace-id",
            &format!(
                "Root=1-{:08x}-{};Parent={};Sampled=0",
                inv.deadline_ms / 1000,
                &uuid::Uuid::new_v4().simple().to_string()[..24],
                &uuid::Uuid::new_v4().simple().to_string()[..16]
            ),
        );
        set("content-type", "application/json");
        r
    }
}

fn reply(status: StatusCode, v: serde_json::Value) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(v.to_string())));
    *r.status_mut() = status;
    r
}

async fn serve(listener: TcpListener, api: Arc<RuntimeApi>, mut shutdown: watch::Receiver<bool>) {
    loop {
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((s, _)) => {
                    // No Nagle: /next answers must not wait for a delayed ACK.
                    let _ = s.set_nodelay(true);
                    s
                }
                Err(_) => continue,
            },
            _ = shutdown.changed() => return,
        };
        let api = api.clone();
        let mut stop = shutdown.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| {
                let api = api.clone();
                async move { Ok::<_, Infallible>(api.route(req).await) }
            });
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            let conn = builder.serve_connection(TokioIo::new(stream), svc);
            tokio::select! {
                _ = conn => {}
                _ = stop.changed() => {}
            }
        });
    }
}
