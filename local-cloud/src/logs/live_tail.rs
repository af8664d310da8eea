//! StartLiveTail: a session that pushes the events appended to some log
//! groups as an `application/vnd.amazon.eventstream` response, the way
//! CloudWatch Logs does
//! (<https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_StartLiveTail.html>):
//! one `sessionStart` event, then a `sessionUpdate` every second (empty
//! when nothing arrived), at most 500 events per update (more are sampled
//! down and the update says so), a `SessionTimeoutException` after three
//! hours. The session ends when the client closes the connection.
//!
//! Events come from [`LogStore::subscribe`], subscribed before the response
//! is sent, so nothing appended after the call returns is missed; a
//! subscriber that falls behind the store's buffer marks the next update
//! sampled, as AWS does when its own buffer overflows.

use std::convert::Infallible;
use std::time::Duration;

use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::StreamBody;
use hyper::body::Frame;
use serde_json::{Value, json};
use tokio::sync::broadcast::{self, error::TryRecvError};

use super::filter::FilterPattern;
use super::wire::{self, ApiError, Input};
use super::{LogStore, TailEvent};
use crate::protocol::Body;

/// Events in one update; beyond it, the update is sampled.
const MAX_EVENTS_PER_UPDATE: usize = 500;

/// Message bytes in one update; beyond them, the update is sampled (an
/// event-stream message holds at most 16 MB; 500 events of up to 256 KB
/// could exceed that).
const UPDATE_BYTES: usize = 8 * 1024 * 1024;

/// How often an update is sent.
const UPDATE_EVERY: Duration = Duration::from_secs(1);

/// How long a session lasts.
const SESSION_LIMIT: Duration = Duration::from_secs(3 * 3600);

/// Log groups one session may follow.
const MAX_GROUPS: usize = 10;

/// What a session follows.
#[derive(Debug)]
struct Selection {
    /// (identifier as given, group name).
    groups: Vec<(String, String)>,
    names: Option<Vec<String>>,
    prefixes: Option<Vec<String>>,
    pattern: FilterPattern,
}

impl Selection {
    /// The identifier the client gave for `group`, if the event is followed.
    fn wants(&self, (group, stream, event): &TailEvent) -> Option<&str> {
        let (id, _) = self.groups.iter().find(|(_, g)| g == group)?;
        if let Some(names) = &self.names
            && !names.iter().any(|n| n == stream)
        {
            return None;
        }
        if let Some(prefixes) = &self.prefixes
            && !prefixes.iter().any(|p| stream.starts_with(p.as_str()))
        {
            return None;
        }
        self.pattern.matches(&event.message).then_some(id.as_str())
    }
}

fn parse(store: &LogStore, input: &Input) -> Result<(Selection, Value), ApiError> {
    let ids = input
        .opt_str_list("logGroupIdentifiers")?
        .unwrap_or_default();
    if ids.is_empty() || ids.len() > MAX_GROUPS {
        return Err(ApiError::invalid(format!(
            "1 validation error detected: Value at 'logGroupIdentifiers' failed to satisfy constraint: Member must have length between 1 and {MAX_GROUPS}"
        )));
    }
    let names = input.opt_str_list("logStreamNames")?;
    let prefixes = input.opt_str_list("logStreamNamePrefixes")?;
    if names.is_some() && prefixes.is_some() {
        return Err(ApiError::invalid(
            "logStreamNames and logStreamNamePrefixes are mutually exclusive parameters.",
        ));
    }
    if (names.is_some() || prefixes.is_some()) && ids.len() > 1 {
        return Err(ApiError::invalid(
            "logStreamNames and logStreamNamePrefixes can only be used with a single log group.",
        ));
    }
    let filter = input.opt_str("logEventFilterPattern")?;
    let pattern = FilterPattern::parse(filter).map_err(|e| ApiError::invalid(e.to_string()))?;
    let mut groups = Vec::with_capacity(ids.len());
    for id in &ids {
        let name = wire::group_from_identifier(id);
        store.read(|s| s.group(&name).map(|_| ()).map_err(ApiError::from))?;
        groups.push(((*id).to_owned(), name));
    }
    let owned = |v: Option<Vec<&str>>| v.map(|v| v.into_iter().map(str::to_owned).collect());
    let mut start = json!({
        "requestId": uuid::Uuid::new_v4().to_string(),
        "sessionId": uuid::Uuid::new_v4().to_string(),
        "logGroupIdentifiers": ids,
    });
    if let Some(n) = &names {
        start["logStreamNames"] = json!(n);
    }
    if let Some(p) = &prefixes {
        start["logStreamNamePrefixes"] = json!(p);
    }
    if let Some(f) = filter {
        start["logEventFilterPattern"] = json!(f);
    }
    let selection = Selection {
        groups,
        names: owned(names),
        prefixes: owned(prefixes),
        pattern,
    };
    Ok((selection, start))
}

/// One event-stream message: `message_type` `event` (`type_header`
/// `:event-type`) or `exception` (`:exception-type`), of kind `kind`.
fn frame(message_type: &'static str, type_header: &'static str, kind: &str, body: &Value) -> Bytes {
    let message = Message::new(Bytes::from(body.to_string()))
        .add_header(Header::new(
            ":message-type",
            HeaderValue::String(message_type.into()),
        ))
        .add_header(Header::new(
            type_header,
            HeaderValue::String(kind.to_owned().into()),
        ))
        .add_header(Header::new(
            ":content-type",
            HeaderValue::String("application/json".into()),
        ));
    let mut out = Vec::new();
    // Writing to a Vec fails only for a message over the format's 16 MB
    // limit, which updates stay under (UPDATE_BYTES).
    match aws_smithy_eventstream::frame::write_message_to(&message, &mut out) {
        Ok(()) => Bytes::from(out),
        Err(e) => {
            tracing::warn!(error = %e, "live tail message not encodable");
            Bytes::new()
        }
    }
}

/// The session's state between two updates.
struct Session {
    rx: broadcast::Receiver<TailEvent>,
    selection: Selection,
    started: tokio::time::Instant,
    next_update: tokio::time::Instant,
    start_sent: Option<Value>,
    ended: bool,
}

impl Session {
    /// The next message to send, waiting for the next second when needed.
    async fn next(&mut self) -> Option<Bytes> {
        if self.ended {
            return None;
        }
        if let Some(start) = self.start_sent.take() {
            return Some(frame("event", ":event-type", "sessionStart", &start));
        }
        tokio::time::sleep_until(self.next_update).await;
        self.next_update += UPDATE_EVERY;
        if self.started.elapsed() >= SESSION_LIMIT {
            self.ended = true;
            return Some(frame(
                "exception",
                ":exception-type",
                "SessionTimeoutException",
                &json!({"message": "Session timed out after three hours"}),
            ));
        }
        let mut results = Vec::new();
        let mut bytes = 0;
        let mut sampled = false;
        loop {
            match self.rx.try_recv() {
                Ok(ev) => {
                    let Some(id) = self.selection.wants(&ev) else {
                        continue;
                    };
                    let (_, stream, event) = &ev;
                    let size = event.message.len() + stream.len() + id.len() + 100;
                    if results.len() == MAX_EVENTS_PER_UPDATE || bytes + size > UPDATE_BYTES {
                        sampled = true;
                        continue;
                    }
                    bytes += size;
                    results.push(json!({
                        "logStreamName": stream,
                        "logGroupIdentifier": id,
                        "message": event.message,
                        "timestamp": event.timestamp,
                        "ingestionTime": event.timestamp,
                    }));
                }
                Err(TryRecvError::Lagged(_)) => sampled = true,
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Closed) => {
                    self.ended = true;
                    break;
                }
            }
        }
        Some(frame(
            "event",
            ":event-type",
            "sessionUpdate",
            &json!({
                "sessionMetadata": {"sampled": sampled},
                "sessionResults": results,
            }),
        ))
    }
}

/// Starts a session: the streaming response, or the error of a bad request
/// (unknown group, bad filter) as a plain awsJson1_1 error.
pub(super) fn start(store: &LogStore, input: &Input) -> Result<Response<Body>, ApiError> {
    let (selection, start) = parse(store, input)?;
    let now = tokio::time::Instant::now();
    let session = Session {
        rx: store.subscribe(),
        selection,
        started: now,
        next_update: now + UPDATE_EVERY,
        start_sent: Some(start),
        ended: false,
    };
    let frames = futures_util::stream::unfold(session, |mut s| async move {
        let bytes = s.next().await?;
        Some((Ok::<_, Infallible>(Frame::data(bytes)), s))
    });
    let body = Body::http_body_unsync(StreamBody::new(frames));
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/vnd.amazon.eventstream")
        .header("x-amzn-requestid", uuid::Uuid::new_v4().to_string())
        .body(body)
        .map_err(|e| ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            kind: "ServiceUnavailableException",
            message: e.to_string(),
        })
}
