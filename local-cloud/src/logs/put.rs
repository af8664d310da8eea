//! PutLogEvents: the batch checks AWS makes (size, order, span) and the
//! split of a batch into accepted and rejected events (too old, expired by
//! the group's retention, too new), reported in `rejectedLogEventsInfo`.

use serde_json::{Map, Value, json};

use super::LogEvent;
use super::api::Context;
use super::wire::{ApiError, Input};

/// PutLogEvents refuses events older than this
/// (<https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html>).
const MAX_AGE_MS: i64 = 14 * 86_400_000;
/// ... or more than this in the future.
const MAX_AHEAD_MS: i64 = 2 * 3_600_000;
/// ... or a batch spanning more than this.
const MAX_SPAN_MS: i64 = 24 * 3_600_000;
const MAX_BATCH_EVENTS: usize = 10_000;
const MAX_BATCH_BYTES: usize = 1_048_576;

/// The token of a stream's sequence number, shaped like AWS's (56 digits).
pub(super) fn sequence_token(id: u64) -> String {
    format!("{id:056}")
}

/// Reads `logEvents[i]` (`{timestamp, message}`), naming the member the
/// way AWS's validation messages do (1-based).
fn input_log_event(i: usize, v: &Value) -> Result<(i64, &str), ApiError> {
    let member = |field: &str| format!("logEvents.{}.member.{field}", i + 1);
    let obj = v.as_object().ok_or_else(|| {
        ApiError::serialization(format!(
            "'{}' must be an object",
            format_args!("logEvents.{}", i + 1)
        ))
    })?;
    let timestamp = match obj.get("timestamp") {
        None | Some(Value::Null) => Err(ApiError::invalid(format!(
            "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
            member("timestamp")
        ))),
        Some(t) => t.as_i64().ok_or_else(|| {
            ApiError::serialization(format!(
                "Field '{}' must be an integer",
                member("timestamp")
            ))
        }),
    }?;
    let message = match obj.get("message") {
        Some(Value::String(m)) if !m.is_empty() => Ok(m.as_str()),
        Some(Value::String(_)) | None | Some(Value::Null) => Err(ApiError::invalid(format!(
            "1 validation error detected: Value at '{}' failed to satisfy constraint: Member must have length greater than or equal to 1",
            member("message")
        ))),
        Some(_) => Err(ApiError::serialization(format!(
            "Field '{}' must be a string",
            member("message")
        ))),
    }?;
    Ok((timestamp, message))
}

/// Serves PutLogEvents.
pub(super) fn put_log_events(cx: &Context<'_>, input: &Input) -> Result<Value, ApiError> {
    let group = input.str("logGroupName")?;
    let stream = input.str("logStreamName")?;
    let raw = input
        .opt_list("logEvents")?
        .ok_or_else(|| ApiError::invalid("1 validation error detected: Value null at 'logEvents' failed to satisfy constraint: Member must not be null"))?;
    if raw.is_empty() || raw.len() > MAX_BATCH_EVENTS {
        return Err(ApiError::invalid(format!(
            "1 validation error detected: Value at 'logEvents' failed to satisfy constraint: Member must have length between 1 and {MAX_BATCH_EVENTS}"
        )));
    }
    let mut events = Vec::with_capacity(raw.len());
    let mut bytes = 0;
    for (i, v) in raw.iter().enumerate() {
        let (timestamp, message) = input_log_event(i, v)?;
        bytes += message.len() + 26;
        events.push(LogEvent {
            timestamp,
            message: message.to_owned(),
        });
    }
    if bytes > MAX_BATCH_BYTES {
        return Err(ApiError::invalid(format!(
            "Upload too large: {bytes} bytes exceeds limit of {MAX_BATCH_BYTES}"
        )));
    }
    if events.windows(2).any(|w| w[0].timestamp > w[1].timestamp) {
        return Err(ApiError::invalid(
            "Log events in a single PutLogEvents request must be in chronological order.",
        ));
    }
    if let (Some(first), Some(last)) = (events.first(), events.last())
        && last.timestamp - first.timestamp > MAX_SPAN_MS
    {
        return Err(ApiError::invalid(
            "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.",
        ));
    }
    let cutoff = cx.store.read(|s| {
        s.stream(group, stream)?;
        Ok::<_, ApiError>(s.group(group)?.cutoff(cx.now))
    })?;
    // Events are sorted, so each kind of rejection is a prefix or a suffix.
    let too_old_end = events.partition_point(|e| e.timestamp < cx.now - MAX_AGE_MS);
    let expired_end = events.partition_point(|e| e.timestamp < cutoff);
    let too_new_start = events.partition_point(|e| e.timestamp <= cx.now + MAX_AHEAD_MS);
    let mut rejected = Map::new();
    if too_old_end > 0 {
        rejected.insert("tooOldLogEventEndIndex".into(), too_old_end.into());
    }
    if expired_end > 0 {
        rejected.insert("expiredLogEventEndIndex".into(), expired_end.into());
    }
    if too_new_start < events.len() {
        rejected.insert("tooNewLogEventStartIndex".into(), too_new_start.into());
    }
    let from = too_old_end.max(expired_end).min(too_new_start);
    events.truncate(too_new_start);
    let accepted = events.split_off(from);
    let token = cx.store.put_events(group, stream, accepted)?;
    let mut out = json!({ "nextSequenceToken": sequence_token(token) });
    if !rejected.is_empty() {
        out["rejectedLogEventsInfo"] = Value::Object(rejected);
    }
    Ok(out)
}
