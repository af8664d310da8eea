//! [`FakeRuntimeApi`]: the AWS Lambda Runtime API (2018-06-01) on a loopback
//! port, enough to host a custom runtime: `GET .../invocation/next` hands out
//! queued events (blocking while the queue is empty), `POST .../<id>/response`,
//! `.../<id>/error` and `.../init/error` are recorded as [`Answer`]s.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::http::{read_chunked, read_headers};

const PREFIX: &str = "/2018-06-01/runtime";

/// Which endpoint an answer was posted to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AnswerKind {
    /// `POST /2018-06-01/runtime/invocation/<id>/response`
    Response,
    /// `POST /2018-06-01/runtime/invocation/<id>/error`
    Error,
    /// `POST /2018-06-01/runtime/init/error` (no request id)
    InitError,
}

/// One recorded post.
#[derive(Clone, Debug)]
pub struct Answer {
    /// The invocation's request id (empty for init errors).
    pub request_id: String,
    pub kind: AnswerKind,
    /// The `lambda-runtime-function-error-type` header, when sent.
    pub error_type: Option<String>,
    pub body: Vec<u8>,
}

impl Answer {
    /// The body parsed as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
    /// The body as (lossy) text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

struct Event {
    id: String,
    body: String,
    deadline_ms: u128,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Event>,
    answers: Vec<Answer>,
    next_calls: usize,
    shutdown: bool,
}

type Shared = Arc<(Mutex<State>, Condvar)>;

/// The fake Runtime API server; stops accepting on drop (a `next` call
/// blocked on the empty queue then gets its connection closed).
pub struct FakeRuntimeApi {
    addr: String,
    shared: Shared,
    accept: Option<JoinHandle<()>>,
}

/// The function ARN sent with every event.
pub const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:f";

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn epoch_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis()
}

impl FakeRuntimeApi {
    /// Listen on a free loopback port and serve until dropped.
    pub fn start() -> FakeRuntimeApi {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind runtime api");
        let addr = listener.local_addr().expect("local addr").to_string();
        let shared: Shared = Arc::default();
        let s = shared.clone();
        let accept = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if s.0.lock().expect("state").shutdown {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let s = s.clone();
                std::thread::spawn(move || serve_connection(stream, s));
            }
        });
        FakeRuntimeApi {
            addr,
            shared,
            accept: Some(accept),
        }
    }

    /// `"127.0.0.1:PORT"`, the value for `AWS_LAMBDA_RUNTIME_API`.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Queue an event with a deadline 60 s from now; returns its request id.
    pub fn push_event(&self, body: &str) -> String {
        self.push_event_with_deadline(body, Duration::from_secs(60))
    }

    /// Queue an event whose deadline is `budget` from now; returns its request id.
    pub fn push_event_with_deadline(&self, body: &str, budget: Duration) -> String {
        let n = NEXT_ID.fetch_add(1, Ordering::SeqCst);
        let id = format!("{:08x}-0000-4000-8000-{:012x}", std::process::id(), n);
        let (lock, cv) = &*self.shared;
        lock.lock().expect("state").queue.push_back(Event {
            id: id.clone(),
            body: body.to_string(),
            deadline_ms: epoch_ms() + budget.as_millis(),
        });
        cv.notify_all();
        id
    }

    /// Wait (at most `timeout`) for the answer to `request_id`.
    pub fn wait_answer(&self, request_id: &str, timeout: Duration) -> Option<Answer> {
        self.wait_for(timeout, |s| {
            s.answers
                .iter()
                .find(|a| a.request_id == request_id)
                .cloned()
        })
    }

    /// Wait (at most `timeout`) until the runtime has called `next` `n` times.
    pub fn wait_next_calls(&self, n: usize, timeout: Duration) -> bool {
        self.wait_for(timeout, |s| (s.next_calls >= n).then_some(()))
            .is_some()
    }

    /// Every answer so far, in arrival order.
    pub fn answers(&self) -> Vec<Answer> {
        self.shared.0.lock().expect("state").answers.clone()
    }

    fn wait_for<T>(&self, timeout: Duration, mut f: impl FnMut(&State) -> Option<T>) -> Option<T> {
        let deadline = Instant::now() + timeout;
        let (lock, cv) = &*self.shared;
        let mut state = lock.lock().expect("state");
        loop {
            if let Some(v) = f(&state) {
                return Some(v);
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            state = cv.wait_timeout(state, deadline - now).expect("state").0;
        }
    }
}

impl Drop for FakeRuntimeApi {
    fn drop(&mut self) {
        self.shared.0.lock().expect("state").shutdown = true;
        self.shared.1.notify_all();
        let _ = TcpStream::connect(&self.addr); // wake the accept loop
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

fn serve_connection(stream: TcpStream, shared: Shared) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let mut parts = line.split_whitespace();
        let (Some(method), Some(path)) = (parts.next(), parts.next()) else {
            return;
        };
        let (method, path) = (method.to_string(), path.to_string());
        let Ok(headers) = read_headers(&mut reader) else {
            return;
        };
        let header = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        let body = if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
        {
            match read_chunked(&mut reader) {
                Ok(b) => b,
                Err(_) => return,
            }
        } else {
            let len: usize = header("content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let mut b = vec![0u8; len];
            if reader.read_exact(&mut b).is_err() {
                return;
            }
            b
        };
        let reply = if method == "GET" && path == format!("{PREFIX}/invocation/next") {
            let Some(event) = next_event(&shared) else {
                return;
            };
            let trace = format!(
                "Root=1-00000000-{:024x};Parent=0000000000000001;Sampled=0",
                1
            );
            respond(
                200,
                &[
                    ("Lambda-Runtime-Aws-Request-Id", event.id.as_str()),
                    ("Lambda-Runtime-Deadline-Ms", &event.deadline_ms.to_string()),
                    ("Lambda-Runtime-Invoked-Function-Arn", FUNCTION_ARN),
                    ("Lambda-Runtime-Trace-Id", &trace),
                ],
                event.body.as_bytes(),
            )
        } else if method == "POST" {
            let kind_and_id = if path == format!("{PREFIX}/init/error") {
                Some((AnswerKind::InitError, String::new()))
            } else {
                path.strip_prefix(&format!("{PREFIX}/invocation/"))
                    .and_then(|rest| {
                        if let Some(id) = rest.strip_suffix("/response") {
                            Some((AnswerKind::Response, id.to_string()))
                        } else {
                            rest.strip_suffix("/error")
                                .map(|id| (AnswerKind::Error, id.to_string()))
                        }
                    })
            };
            match kind_and_id {
                Some((kind, request_id)) => {
                    let (lock, cv) = &*shared;
                    lock.lock().expect("state").answers.push(Answer {
                        request_id,
                        kind,
                        error_type: header("lambda-runtime-function-error-type"),
                        body,
                    });
                    cv.notify_all();
                    respond(202, &[], br#"{"status":"OK"}"#)
                }
                None => respond(404, &[], br#"{"errorMessage":"unknown path"}"#),
            }
        } else {
            respond(404, &[], br#"{"errorMessage":"unknown path"}"#)
        };
        if writer
            .write_all(&reply)
            .and_then(|_| writer.flush())
            .is_err()
        {
            return;
        }
    }
}

/// Block until an event is queued (`None` on shutdown); counts the call.
fn next_event(shared: &Shared) -> Option<Event> {
    let (lock, cv) = &**shared;
    let mut state = lock.lock().expect("state");
    state.next_calls += 1;
    cv.notify_all();
    loop {
        if state.shutdown {
            return None;
        }
        if let Some(e) = state.queue.pop_front() {
            return Some(e);
        }
        state = cv
            .wait_timeout(state, Duration::from_millis(200))
            .expect("state")
            .0;
    }
}

fn respond(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let reason = match status {
        200 => "OK",
        202 => "Accepted",
        _ => "Not Found",
    };
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}
