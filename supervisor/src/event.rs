//! Invocation events: what the function was asked to do.
//!
//! Three shapes arrive: an S3 notification (every record is processed; keys
//! arrive URL-encoded with `+` for spaces, as S3 sends them), a direct
//! payload (`{"input": {"bucket": "B", "key": "K"}}`, or no input at all),
//! and a preheat ping (`{"scar": "preheat"}`) that only warms the cache.

use percent_encoding::percent_decode_str;
use serde_json::Value;

/// An object to process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputObject {
    /// Its bucket.
    pub bucket: String,
    /// Its key, decoded.
    pub key: String,
    /// Its size, when the event says.
    pub size: Option<u64>,
    /// When it was created, when the event says (ISO 8601).
    pub event_time: Option<String>,
}

/// What an invocation asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Warm the image cache; run nothing.
    Preheat,
    /// Run the script once per object (an S3 notification or a direct payload).
    Objects(Vec<InputObject>),
    /// Run the script once, with no input file.
    NoInput,
}

/// An event that cannot be understood.
#[derive(Debug, thiserror::Error)]
#[error(
    "malformed event: {0}; send an S3 notification, {{\"input\": {{\"bucket\": \"B\", \"key\": \"K\"}}}}, {{}} or {{\"scar\": \"preheat\"}}"
)]
pub struct EventError(pub String);

fn field<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(k))
}

fn string(v: &Value, path: &[&str], what: &str) -> Result<String, EventError> {
    match field(v, path) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(Value::String(_)) => Err(EventError(format!("{what} is empty"))),
        Some(other) => Err(EventError(format!("{what} must be a string, not {other}"))),
        None => Err(EventError(format!("{what} is missing"))),
    }
}

/// Decodes an S3 notification key (`+` is a space; `%XX` escapes).
pub fn decode_s3_key(raw: &str) -> Result<String, EventError> {
    let plus = raw.replace('+', " ");
    percent_decode_str(&plus)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| EventError(format!("object key {raw:?} does not decode to UTF-8")))
}

/// Parses an invocation payload.
pub fn parse(v: &Value) -> Result<Event, EventError> {
    let Value::Object(map) = v else {
        return Err(EventError(format!("expected a JSON object, got {v}")));
    };
    if let Some(scar) = map.get("scar") {
        return match scar.as_str() {
            Some("preheat") => Ok(Event::Preheat),
            _ => Err(EventError(format!("unknown \"scar\" command {scar}"))),
        };
    }
    if let Some(records) = map.get("Records") {
        let Value::Array(records) = records else {
            return Err(EventError("\"Records\" must be a list".into()));
        };
        if records.is_empty() {
            return Err(EventError("\"Records\" is empty".into()));
        }
        let mut objects = Vec::with_capacity(records.len());
        for (i, r) in records.iter().enumerate() {
            let what = |f: &str| format!("Records[{i}].{f}");
            if let Some(src) = r.get("eventSource").and_then(Value::as_str)
                && src != "aws:s3"
            {
                return Err(EventError(format!(
                    "{} is {src:?}, only aws:s3 is handled",
                    what("eventSource")
                )));
            }
            let bucket = string(r, &["s3", "bucket", "name"], &what("s3.bucket.name"))?;
            let raw_key = string(r, &["s3", "object", "key"], &what("s3.object.key"))?;
            objects.push(InputObject {
                bucket,
                key: decode_s3_key(&raw_key)?,
                size: field(r, &["s3", "object", "size"]).and_then(Value::as_u64),
                event_time: r
                    .get("eventTime")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            });
        }
        return Ok(Event::Objects(objects));
    }
    match map.get("input") {
        None | Some(Value::Null) => {
            if let Some(k) = map.keys().find(|k| !k.starts_with('_')) {
                return Err(EventError(format!("unexpected field {k:?}")));
            }
            Ok(Event::NoInput)
        }
        Some(input @ Value::Object(_)) => Ok(Event::Objects(vec![InputObject {
            bucket: string(input, &["bucket"], "input.bucket")?,
            key: string(input, &["key"], "input.key")?,
            size: None,
            event_time: None,
        }])),
        Some(other) => Err(EventError(format!(
            "\"input\" must be an object, not {other}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn s3_notification_every_record_decoded() {
        let ev = json!({"Records": [
            {"eventSource": "aws:s3", "eventTime": "2026-11-26T10:00:00.000Z",
             "s3": {"bucket": {"name": "in"}, "object": {"key": "my+file%C3%A9%2B1.png", "size": 12}}},
            {"eventSource": "aws:s3", "s3": {"bucket": {"name": "in"}, "object": {"key": "b"}}}
        ]});
        let Event::Objects(objs) = parse(&ev).unwrap() else {
            panic!()
        };
        assert_eq!(objs.len(), 2);
        assert_eq!(objs[0].key, "my fileé+1.png");
        assert_eq!(objs[0].size, Some(12));
        assert_eq!(
            objs[0].event_time.as_deref(),
            Some("2026-11-26T10:00:00.000Z")
        );
        assert_eq!(objs[1].key, "b");
    }

    #[test]
    fn direct_preheat_and_empty() {
        assert_eq!(parse(&json!({"scar": "preheat"})).unwrap(), Event::Preheat);
        assert_eq!(parse(&json!({})).unwrap(), Event::NoInput);
        let Event::Objects(o) = parse(&json!({"input": {"bucket": "b", "key": "k k"}})).unwrap()
        else {
            panic!()
        };
        assert_eq!(o[0].key, "k k", "direct keys are taken literally");
    }

    #[test]
    fn malformed_events_name_the_field() {
        for (ev, needle) in [
            (json!([1, 2]), "JSON object"),
            (
                json!({"Records": [{"s3": {}}]}),
                "Records[0].s3.bucket.name",
            ),
            (json!({"Records": []}), "empty"),
            (json!({"input": {"bucket": 5}}), "input.bucket"),
            (json!({"input": {"bucket": "b"}}), "input.key"),
            (json!({"input": "x"}), "must be an object"),
            (json!({"scar": "explode"}), "unknown"),
            (json!({"bucket": "b"}), "unexpected field"),
        ] {
            let e = parse(&ev).unwrap_err().to_string();
            assert!(e.contains(needle), "{ev}: {e}");
        }
    }
}
