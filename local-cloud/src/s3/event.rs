//! The `s3:ObjectCreated:*` event a Lambda function receives, in the shape
//! AWS sends it (event structure version 2.1:
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html>),
//! with the object key URL-encoded as S3 does it, and the request ids S3
//! returns in `x-amz-request-id` / `x-amz-id-2`.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, HeaderValue};
use serde_json::{Value, json};

/// The operations that create an object and what S3 calls their events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CreatedBy {
    /// PutObject.
    Put,
    /// CopyObject.
    Copy,
    /// CompleteMultipartUpload.
    CompleteMultipartUpload,
}

impl CreatedBy {
    /// The record's `eventName` (a configuration names it with an `s3:` prefix).
    pub(crate) fn event_name(self) -> &'static str {
        match self {
            CreatedBy::Put => "ObjectCreated:Put",
            CreatedBy::Copy => "ObjectCreated:Copy",
            CreatedBy::CompleteMultipartUpload => "ObjectCreated:CompleteMultipartUpload",
        }
    }
}

/// Encodes a key the way S3 writes it in event records: form encoding
/// (`application/x-www-form-urlencoded`, space as `+`), except that `/` is
/// kept. Unreserved are ASCII letters and digits and `-_.*`; every other byte
/// of the UTF-8 key is `%XX`. Functions decode it with `unquote_plus` or
/// equivalent; notification filters are matched against this form too.
pub(crate) fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + key.len() / 2);
    for &b in key.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' | b'/' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// The ids S3 gives a request, echoed in the event's `responseElements`.
#[derive(Debug, Clone)]
pub(crate) struct RequestIds {
    /// `x-amz-request-id`: 16 upper-case hex digits.
    pub(crate) request_id: String,
    /// `x-amz-id-2`: an opaque base64 token.
    pub(crate) id_2: String,
}

impl RequestIds {
    /// Fresh random ids.
    pub(crate) fn generate() -> RequestIds {
        let a = uuid::Uuid::new_v4();
        let b = uuid::Uuid::new_v4();
        let mut token = Vec::with_capacity(32);
        token.extend_from_slice(b.as_bytes());
        token.extend_from_slice(a.as_bytes());
        RequestIds {
            request_id: hex::encode_upper(&a.as_bytes()[..8]),
            id_2: STANDARD.encode(token),
        }
    }

    /// Sets the two response headers, so the client sees the ids the event carries.
    pub(crate) fn insert_into(&self, headers: &mut HeaderMap) {
        for (name, value) in [
            ("x-amz-request-id", &self.request_id),
            ("x-amz-id-2", &self.id_2),
        ] {
            if let Ok(v) = HeaderValue::from_str(value) {
                headers.insert(name, v);
            }
        }
    }
}

/// Hands out S3's `sequencer` values: upper-case hex of a number that grows
/// with every event, across restarts too (it starts from the clock in ns),
/// so that for one key a later event always compares greater, as the S3
/// docs promise.
#[derive(Debug)]
pub(crate) struct Sequencer {
    last: AtomicU64,
}

impl Sequencer {
    /// A sequencer starting now.
    pub(crate) fn new() -> Sequencer {
        Sequencer {
            last: AtomicU64::new(0),
        }
    }

    /// The next value, fixed width so that string order is numeric order.
    pub(crate) fn next(&self) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX - 1))
            .unwrap_or(0);
        let previous = self
            .last
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |last| {
                Some(now.max(last.saturating_add(1)))
            })
            .unwrap_or(now);
        let value = now.max(previous.saturating_add(1));
        format!("{value:016X}")
    }
}

/// ISO 8601 with milliseconds, as in `eventTime`: `2026-11-03T09:15:42.123Z`.
pub(crate) fn event_time(at: SystemTime) -> String {
    let mut buf = Vec::new();
    match s3s::dto::Timestamp::from(at).format(s3s::dto::TimestampFormat::DateTime, &mut buf) {
        Ok(()) => String::from_utf8(buf).unwrap_or_default(),
        Err(_) => "1970-01-01T00:00:00.000Z".to_owned(),
    }
}

/// One created object, everything an event record says about it except the
/// configuration that matched.
#[derive(Debug, Clone)]
pub(crate) struct ObjectCreated<'a> {
    /// The region of the local cloud.
    pub(crate) region: &'a str,
    /// What created it.
    pub(crate) created_by: CreatedBy,
    /// When the request completed.
    pub(crate) time: SystemTime,
    /// The request's ids.
    pub(crate) ids: &'a RequestIds,
    /// Bucket name.
    pub(crate) bucket: &'a str,
    /// The key as stored (encoded here).
    pub(crate) key: &'a str,
    /// Bytes.
    pub(crate) size: u64,
    /// ETag without quotes.
    pub(crate) etag: &'a str,
    /// The event's sequencer.
    pub(crate) sequencer: &'a str,
}

impl ObjectCreated<'_> {
    /// The whole event (`{"Records":[...]}`) for the configuration `configuration_id`.
    pub(crate) fn to_event(&self, configuration_id: &str) -> Value {
        json!({
            "Records": [{
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": self.region,
                "eventTime": event_time(self.time),
                "eventName": self.created_by.event_name(),
                "userIdentity": { "principalId": "AWS:local" },
                "requestParameters": { "sourceIPAddress": "127.0.0.1" },
                "responseElements": {
                    "x-amz-request-id": self.ids.request_id,
                    "x-amz-id-2": self.ids.id_2,
                },
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": configuration_id,
                    "bucket": {
                        "name": self.bucket,
                        "ownerIdentity": { "principalId": "local" },
                        "arn": format!("arn:aws:s3:::{}", self.bucket),
                    },
                    "object": {
                        "key": encode_key(self.key),
                        "size": self.size,
                        "eTag": self.etag,
                        "sequencer": self.sequencer,
                    },
                },
            }]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_form_encoded_but_keep_slashes() {
        assert_eq!(
            encode_key("in dir/naïve file.txt"),
            "in+dir/na%C3%AFve+file.txt"
        );
        assert_eq!(encode_key("plain/Key-1_2.3*"), "plain/Key-1_2.3*");
        assert_eq!(encode_key("a+b=c&d"), "a%2Bb%3Dc%26d");
        assert_eq!(
            encode_key("year=2026/(1),~'!"),
            "year%3D2026/%281%29%2C%7E%27%21"
        );
        assert_eq!(encode_key("日本"), "%E6%97%A5%E6%9C%AC");
        assert_eq!(encode_key("100%"), "100%25");
    }

    #[test]
    fn sequencer_grows_and_is_fixed_width() {
        let s = Sequencer::new();
        let mut last = s.next();
        for _ in 0..1000 {
            let next = s.next();
            assert_eq!(next.len(), 16);
            assert!(next > last, "{next} <= {last}");
            last = next;
        }
    }

    #[test]
    fn event_time_has_milliseconds() {
        let t = UNIX_EPOCH + std::time::Duration::from_millis(1_789_000_000_123);
        assert_eq!(event_time(t), "2026-09-10T00:26:40.123Z");
    }

    #[test]
    fn request_ids_look_like_s3s() {
        let ids = RequestIds::generate();
        assert_eq!(ids.request_id.len(), 16);
        assert!(
            ids.request_id
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
        );
        let mut h = HeaderMap::new();
        ids.insert_into(&mut h);
        assert_eq!(h["x-amz-request-id"], ids.request_id.as_str());
        assert_eq!(h["x-amz-id-2"], ids.id_2.as_str());
    }

    #[test]
    fn record_has_the_aws_shape() {
        let ids = RequestIds {
            request_id: "0123456789ABCDEF".into(),
            id_2: "token".into(),
        };
        let created = ObjectCreated {
            region: "eu-west-1",
            created_by: CreatedBy::Copy,
            time: UNIX_EPOCH,
            ids: &ids,
            bucket: "in",
            key: "a b.txt",
            size: 7,
            etag: "abc",
            sequencer: "00000000000000FF",
        };
        let v = created.to_event("cfg-1");
        let r = &v["Records"][0];
        assert_eq!(r["eventVersion"], "2.1");
        assert_eq!(r["eventSource"], "aws:s3");
        assert_eq!(r["awsRegion"], "eu-west-1");
        assert_eq!(r["eventTime"], "1970-01-01T00:00:00.000Z");
        assert_eq!(r["eventName"], "ObjectCreated:Copy");
        assert_eq!(r["userIdentity"]["principalId"], "AWS:local");
        assert_eq!(r["requestParameters"]["sourceIPAddress"], "127.0.0.1");
        assert_eq!(
            r["responseElements"]["x-amz-request-id"],
            "0123456789ABCDEF"
        );
        assert_eq!(r["responseElements"]["x-amz-id-2"], "token");
        assert_eq!(r["s3"]["s3SchemaVersion"], "1.0");
        assert_eq!(r["s3"]["configurationId"], "cfg-1");
        assert_eq!(r["s3"]["bucket"]["name"], "in");
        assert_eq!(r["s3"]["bucket"]["ownerIdentity"]["principalId"], "local");
        assert_eq!(r["s3"]["bucket"]["arn"], "arn:aws:s3:::in");
        assert_eq!(r["s3"]["object"]["key"], "a+b.txt");
        assert_eq!(r["s3"]["object"]["size"], 7);
        assert_eq!(r["s3"]["object"]["eTag"], "abc");
        assert_eq!(r["s3"]["object"]["sequencer"], "00000000000000FF");
    }
}
