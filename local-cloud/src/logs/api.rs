//! The CloudWatch Logs operations the local cloud serves, with the request
//! and response shapes of the API reference
//! (<https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_Operations.html>).

use serde_json::{Map, Value, json};

use super::LogStore;
use super::filter::FilterPattern;
use super::model::{Group, Stream};
use super::put::{put_log_events, sequence_token};
use super::query::{self, Cursor, MAX_KEY, MIN_KEY};
use super::tokens;
use super::wire::{self, ApiError, Input};

/// What every operation gets besides its input.
#[derive(Debug)]
pub(super) struct Context<'a> {
    /// The store.
    pub store: &'a LogStore,
    /// The region the client signed for (ARNs carry it).
    pub region: String,
    /// Now, in ms.
    pub now: i64,
}

/// Runs operation `op` (the part of `X-Amz-Target` after the dot).
pub(super) fn dispatch(cx: &Context<'_>, op: &str, input: &Input) -> Result<Value, ApiError> {
    match op {
        "CreateLogGroup" => create_log_group(cx, input),
        "DeleteLogGroup" => {
            let group = input.str("logGroupName")?;
            cx.store.write(|s| s.delete_group(group))?;
            Ok(json!({}))
        }
        "CreateLogStream" => {
            let (group, stream) = (input.str("logGroupName")?, input.str("logStreamName")?);
            wire::check_stream_name(stream)?;
            cx.store.write(|s| s.create_stream(group, stream, cx.now))?;
            Ok(json!({}))
        }
        "DeleteLogStream" => {
            let (group, stream) = (input.str("logGroupName")?, input.str("logStreamName")?);
            cx.store.write(|s| s.delete_stream(group, stream))?;
            Ok(json!({}))
        }
        "PutRetentionPolicy" => {
            let group = input.str("logGroupName")?;
            let days = input.opt_i64("retentionInDays")?.ok_or_else(|| {
                ApiError::invalid(
                    "1 validation error detected: Value null at 'retentionInDays' failed to satisfy constraint: Member must not be null",
                )
            })?;
            let days = u32::try_from(days).unwrap_or(0);
            cx.store
                .write(|s| s.set_retention(group, Some(days), cx.now))?;
            Ok(json!({}))
        }
        "DeleteRetentionPolicy" => {
            let group = input.str("logGroupName")?;
            cx.store.write(|s| s.set_retention(group, None, cx.now))?;
            Ok(json!({}))
        }
        "DescribeLogGroups" => describe_log_groups(cx, input),
        "DescribeLogStreams" => describe_log_streams(cx, input),
        "GetLogEvents" => get_log_events(cx, input),
        "FilterLogEvents" => filter_log_events(cx, input),
        "PutLogEvents" => put_log_events(cx, input),
        _ => Err(ApiError {
            status: http::StatusCode::BAD_REQUEST,
            kind: "UnknownOperationException",
            message: format!(
                "Operation {op} is not supported by the local cloud's CloudWatch Logs"
            ),
        }),
    }
}

fn create_log_group(cx: &Context<'_>, input: &Input) -> Result<Value, ApiError> {
    let group = input.str("logGroupName")?;
    wire::check_group_name(group)?;
    cx.store.write(|s| s.create_group(group, cx.now))?;
    Ok(json!({}))
}

/// Sets `key` when `value` is present (AWS omits absent members).
fn set_opt(obj: &mut Map<String, Value>, key: &str, value: Option<impl Into<Value>>) {
    if let Some(v) = value {
        obj.insert(key.into(), v.into());
    }
}

fn group_json(region: &str, g: &Group) -> Value {
    let arn = wire::group_arn(region, &g.name);
    let mut obj = Map::new();
    obj.insert("logGroupName".into(), g.name.clone().into());
    obj.insert("creationTime".into(), g.creation_time.into());
    set_opt(&mut obj, "retentionInDays", g.retention_in_days);
    obj.insert("metricFilterCount".into(), 0.into());
    obj.insert("arn".into(), format!("{arn}:*").into());
    obj.insert("logGroupArn".into(), arn.into());
    obj.insert("storedBytes".into(), g.stored_bytes().into());
    obj.insert("logGroupClass".into(), "STANDARD".into());
    Value::Object(obj)
}

fn describe_log_groups(cx: &Context<'_>, input: &Input) -> Result<Value, ApiError> {
    let prefix = input.opt_str("logGroupNamePrefix")?;
    let pattern = input.opt_str("logGroupNamePattern")?;
    if prefix.is_some() && pattern.is_some() {
        return Err(ApiError::invalid(
            "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.",
        ));
    }
    let pattern = pattern.map(str::to_lowercase);
    let limit = input.limit(50, 50)?;
    let after = tokens::parse_name_token(input.opt_str("nextToken")?)?;
    cx.store.read(|s| {
        let mut page: Vec<&Group> = s
            .groups
            .values()
            .filter(|g| after.is_none_or(|a| g.name.as_str() > a))
            .filter(|g| prefix.is_none_or(|p| g.name.starts_with(p)))
            .filter(|g| pattern.as_ref().is_none_or(|p| g.name.to_lowercase().contains(p.as_str())))
            .take(limit + 1)
            .collect();
        let more = page.len() > limit;
        page.truncate(limit);
        let mut out = json!({ "logGroups": page.iter().map(|g| group_json(&cx.region, g)).collect::<Vec<_>>() });
        if let (true, Some(last)) = (more, page.last()) {
            out["nextToken"] = tokens::name_token(&last.name).into();
        }
        Ok(out)
    })
}

fn stream_json(region: &str, group: &str, s: &Stream) -> Value {
    let mut obj = Map::new();
    obj.insert("logStreamName".into(), s.name.clone().into());
    obj.insert("creationTime".into(), s.creation_time.into());
    set_opt(&mut obj, "firstEventTimestamp", s.first_event_timestamp());
    set_opt(&mut obj, "lastEventTimestamp", s.last_event_timestamp());
    set_opt(&mut obj, "lastIngestionTime", s.last_ingestion_time);
    obj.insert(
        "uploadSequenceToken".into(),
        sequence_token(s.last_id).into(),
    );
    obj.insert(
        "arn".into(),
        wire::stream_arn(region, group, &s.name).into(),
    );
    // AWS has reported 0 for streams since 2019 (the SDK marks it deprecated);
    // groups carry the real figure.
    obj.insert("storedBytes".into(), 0.into());
    Value::Object(obj)
}

/// Where a stream sorts: (last event time, name) by time, the name alone
/// otherwise (AWS lists streams without events first by time).
fn stream_sort_key(st: &Stream, by_time: bool) -> (i64, &str) {
    let t = if by_time {
        st.last_event_timestamp().unwrap_or(i64::MIN)
    } else {
        0
    };
    (t, st.name.as_str())
}

fn describe_log_streams(cx: &Context<'_>, input: &Input) -> Result<Value, ApiError> {
    let group = input.group()?;
    let prefix = input.opt_str("logStreamNamePrefix")?;
    let by_time = match input.opt_str("orderBy")? {
        None | Some("LogStreamName") => false,
        Some("LastEventTime") => true,
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "1 validation error detected: Value '{other}' at 'orderBy' failed to satisfy constraint: Member must satisfy enum value set: [LogStreamName, LastEventTime]"
            )));
        }
    };
    if by_time && prefix.is_some() {
        return Err(ApiError::invalid(
            "Cannot order by LastEventTime with a logStreamNamePrefix.",
        ));
    }
    let descending = input.opt_bool("descending")?.unwrap_or(false);
    let limit = input.limit(50, 50)?;
    // The token is the sort key of the last stream returned: `TS/NAME`
    // by time (TS holds no `/`), `NAME` by name.
    let after: Option<(i64, &str)> = match tokens::parse_name_token(input.opt_str("nextToken")?)? {
        None => None,
        Some(t) if by_time => {
            let (ts, name) = t
                .split_once('/')
                .ok_or_else(|| ApiError::invalid("The specified nextToken is invalid."))?;
            Some((
                ts.parse()
                    .map_err(|_| ApiError::invalid("The specified nextToken is invalid."))?,
                name,
            ))
        }
        Some(name) => Some((0, name)),
    };
    cx.store.read(|s| {
        let g = s.group(&group)?;
        let mut streams: Vec<(_, &Stream)> = g
            .streams
            .values()
            .filter(|st| prefix.is_none_or(|p| st.name.starts_with(p)))
            .map(|st| (stream_sort_key(st, by_time), st))
            .collect();
        if by_time {
            streams.sort_by(|a, b| a.0.cmp(&b.0));
        }
        if descending {
            streams.reverse();
        }
        let mut page: Vec<_> = streams
            .into_iter()
            .filter(|(k, _)| after.is_none_or(|a| if descending { *k < a } else { *k > a }))
            .take(limit + 1)
            .collect();
        let more = page.len() > limit;
        page.truncate(limit);
        let mut out = json!({
            "logStreams": page.iter().map(|(_, st)| stream_json(&cx.region, &g.name, st)).collect::<Vec<_>>()
        });
        if let (true, Some(((ts, name), _))) = (more, page.last()) {
            let token = if by_time { format!("{ts}/{name}") } else { (*name).to_owned() };
            out["nextToken"] = tokens::name_token(&token).into();
        }
        Ok(out)
    })
}

fn get_log_events(cx: &Context<'_>, input: &Input) -> Result<Value, ApiError> {
    let group = input.group()?;
    let stream = input.str("logStreamName")?;
    let (start, end) = (input.opt_i64("startTime")?, input.opt_i64("endTime")?);
    let limit = input.limit(10_000, 10_000)?;
    let token = input.opt_str("nextToken")?;
    let cursor = match token {
        Some(t) => tokens::parse_cursor(t)?,
        None if input.opt_bool("startFromHead")?.unwrap_or(false) => Cursor::After(MIN_KEY),
        None => Cursor::Before(MAX_KEY),
    };
    cx.store.read(|s| {
        let cutoff = s.group(&group)?.cutoff(cx.now);
        let st = s.stream(&group, stream)?;
        let (lo, hi) = tokens::time_range(start, end, false, cutoff);
        let mut page = query::page(st, lo, hi, cursor, limit);
        if token.is_none() && page.events.is_empty() {
            // Nothing yet: polling forward must see the first events to come.
            page.forward = Cursor::After(MIN_KEY);
        }
        let events: Vec<Value> = page
            .events
            .iter()
            .map(|((t, _), e)| json!({"timestamp": t, "message": e.message, "ingestionTime": e.ingestion_time}))
            .collect();
        Ok(json!({
            "events": events,
            "nextForwardToken": tokens::cursor_token(page.forward),
            "nextBackwardToken": tokens::cursor_token(page.backward),
        }))
    })
}

fn filter_log_events(cx: &Context<'_>, input: &Input) -> Result<Value, ApiError> {
    let group = input.group()?;
    let names = input.opt_str_list("logStreamNames")?;
    let prefix = input.opt_str("logStreamNamePrefix")?;
    if names.is_some() && prefix.is_some() {
        return Err(ApiError::invalid(
            "logStreamNames and logStreamNamePrefix are mutually exclusive parameters.",
        ));
    }
    let (start, end) = (input.opt_i64("startTime")?, input.opt_i64("endTime")?);
    let pattern = FilterPattern::parse(input.opt_str("filterPattern")?)
        .map_err(|e| ApiError::invalid(e.to_string()))?;
    let limit = input.limit(10_000, 10_000)?;
    let after = tokens::parse_key_token(input.opt_str("nextToken")?)?;
    cx.store.read(|s| {
        let g = s.group(&group)?;
        let streams: Vec<&Stream> = match &names {
            Some(names) => names.iter().filter_map(|n| g.streams.get(*n)).collect(),
            None => g
                .streams
                .values()
                .filter(|st| prefix.is_none_or(|p| st.name.starts_with(p)))
                .collect(),
        };
        let (lo, hi) = tokens::time_range(start, end, true, g.cutoff(cx.now));
        let (hits, more) = query::filter(&streams, lo, hi, after, &pattern, limit);
        let events: Vec<Value> = hits
            .iter()
            .map(|h| {
                json!({
                    "logStreamName": h.stream,
                    "timestamp": h.key.0,
                    "message": h.event.message,
                    "ingestionTime": h.event.ingestion_time,
                    "eventId": h.key.1.to_string(),
                })
            })
            .collect();
        let searched: Vec<Value> = streams
            .iter()
            .map(|st| json!({"logStreamName": st.name, "searchedCompletely": true}))
            .collect();
        let mut out = json!({"events": events, "searchedLogStreams": searched});
        if let (true, Some(last)) = (more, hits.last()) {
            out["nextToken"] = tokens::key_token(last.key).into();
        }
        Ok(out)
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use bytes::Bytes;
    use http::{HeaderMap, Method};
    use http_body_util::BodyExt;

    use crate::logs::LogStore;
    use crate::metrics::MetricStore;
    use crate::protocol::Protocol;
    use crate::server::ServiceRequest;

    use super::*;

    fn store() -> (tempfile::TempDir, Arc<LogStore>) {
        let dir = tempfile::tempdir().unwrap();
        let metrics = MetricStore::open(
            &dir.path().join("metrics"),
            scar_contract::time::Clock::system(),
        )
        .unwrap();
        let logs = LogStore::open(&dir.path().join("logs"), metrics).unwrap();
        (dir, logs)
    }

    async fn call(logs: &LogStore, target: &str, body: &str) -> (u16, Value) {
        let mut headers = HeaderMap::new();
        headers.insert("x-amz-target", target.parse().unwrap());
        let req = ServiceRequest {
            method: Method::POST,
            uri: "/".parse().unwrap(),
            headers,
            body: Bytes::from(body.to_owned()),
            protocol: Protocol::AwsJson11,
        };
        let resp = logs.handle(req).await;
        let status = resp.status().as_u16();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn wire_errors_name_the_problem() {
        let (_d, logs) = store();
        let (status, v) = call(&logs, "Logs_20140328.StartQuery", "{}").await;
        assert_eq!(
            (status, v["__type"].as_str()),
            (400, Some("UnknownOperationException"))
        );
        // A live tail without groups is refused before any stream starts.
        let (status, v) = call(&logs, "Logs_20140328.StartLiveTail", "{}").await;
        assert_eq!(
            (status, v["__type"].as_str()),
            (400, Some("InvalidParameterException"))
        );
        assert!(
            v["message"]
                .as_str()
                .unwrap()
                .contains("logGroupIdentifiers"),
            "{v}"
        );
        let (_, v) = call(&logs, "Logs_20140328.CreateLogGroup", "{not json").await;
        assert_eq!(v["__type"], "SerializationException");
        let (_, v) = call(
            &logs,
            "Logs_20140328.CreateLogStream",
            r#"{"logGroupName":"g"}"#,
        )
        .await;
        assert_eq!(v["__type"], "InvalidParameterException");
        assert!(
            v["message"].as_str().unwrap().contains("'logStreamName'"),
            "{v}"
        );
        let (_, v) = call(
            &logs,
            "Logs_20140328.GetLogEvents",
            r#"{"logGroupName":"g","logStreamName":1}"#,
        )
        .await;
        assert_eq!(v["__type"], "SerializationException");
        let (_, v) = call(
            &logs,
            "Logs_20140328.DeleteLogGroup",
            r#"{"logGroupName":"g"}"#,
        )
        .await;
        assert_eq!(v["__type"], "ResourceNotFoundException");
        let (status, v) = call(
            &logs,
            "Logs_20140328.CreateLogGroup",
            r#"{"logGroupName":"g"}"#,
        )
        .await;
        assert_eq!((status, v), (200, serde_json::json!({})));
        let (_, v) = call(
            &logs,
            "Logs_20140328.PutRetentionPolicy",
            r#"{"logGroupName":"g","retentionInDays":4}"#,
        )
        .await;
        assert_eq!(v["__type"], "InvalidParameterException");
        let body = r#"{"logGroupName":"g","logStreamName":"s","logEvents":[{"timestamp":1}]}"#;
        let (_, v) = call(&logs, "Logs_20140328.PutLogEvents", body).await;
        assert!(
            v["message"]
                .as_str()
                .unwrap()
                .contains("logEvents.1.member.message"),
            "{v}"
        );
    }
}
