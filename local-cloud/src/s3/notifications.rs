//! Bucket notification configurations for Lambda destinations: the stored
//! form and which configurations an event reaches.
//!
//! AWS's rules, from
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-how-to-filtering.html>:
//! a filter has at most one `prefix` and one `suffix` rule (names
//! case-insensitive, values case-sensitive) matched against the key *as it
//! appears in the event*, URL-encoded (so a space in a filter is written
//! `+`); two configurations of a bucket that share an event type must not
//! both match some key ([`LambdaTarget::overlaps`]). The request side
//! (validation, the wire types) is in `notification_api`.

use serde::{Deserialize, Serialize};

/// A bucket's notification configuration, as stored in
/// `notifications/BUCKET.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct BucketNotifications {
    /// Lambda destinations, in the order they were put.
    #[serde(default)]
    pub(crate) lambda: Vec<LambdaTarget>,
    /// Whether an (empty) `EventBridgeConfiguration` was put; stored and
    /// returned, nothing is delivered.
    #[serde(default)]
    pub(crate) event_bridge: bool,
}

/// One `LambdaFunctionConfiguration`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LambdaTarget {
    /// `Id` (generated when the request had none, as AWS does).
    pub(crate) id: String,
    /// `LambdaFunctionArn`.
    pub(crate) function_arn: String,
    /// `Event`s, e.g. `s3:ObjectCreated:*`.
    pub(crate) events: Vec<String>,
    /// `Filter.Key.FilterRules` as given; `None` when there was no `Filter`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) filter: Option<Vec<KeyRule>>,
}

/// One `FilterRule`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct KeyRule {
    /// `prefix` or `suffix`, in the case it was given.
    pub(crate) name: String,
    /// The value, matched against the URL-encoded key.
    pub(crate) value: String,
}

impl BucketNotifications {
    /// Whether nothing is configured (the bucket's notifications are off).
    pub(crate) fn is_empty(&self) -> bool {
        self.lambda.is_empty() && !self.event_bridge
    }

    /// The `(Id, LambdaFunctionArn)` of every configuration that an event
    /// `event_name` (`ObjectCreated:Put`...) on `encoded_key` reaches.
    pub(crate) fn targets(&self, event_name: &str, encoded_key: &str) -> Vec<(String, String)> {
        self.lambda
            .iter()
            .filter(|t| t.matches(event_name, encoded_key))
            .map(|t| (t.id.clone(), t.function_arn.clone()))
            .collect()
    }
}

impl LambdaTarget {
    fn rule(&self, name: &str) -> &str {
        self.filter
            .iter()
            .flatten()
            .find(|r| r.name.eq_ignore_ascii_case(name))
            .map_or("", |r| r.value.as_str())
    }

    /// The prefix rule's value, `""` when there is none.
    pub(crate) fn prefix(&self) -> &str {
        self.rule("prefix")
    }

    /// The suffix rule's value, `""` when there is none.
    pub(crate) fn suffix(&self) -> &str {
        self.rule("suffix")
    }

    /// Whether an event `event_name` (no `s3:` prefix) on `encoded_key` fires this configuration.
    pub(crate) fn matches(&self, event_name: &str, encoded_key: &str) -> bool {
        let full = format!("s3:{event_name}");
        self.events.iter().any(|e| event_covers(e, &full))
            && encoded_key.starts_with(self.prefix())
            && encoded_key.ends_with(self.suffix())
    }

    /// Whether some key and event could fire both `self` and `other`.
    pub(crate) fn overlaps(&self, other: &LambdaTarget) -> bool {
        let share_event = self
            .events
            .iter()
            .any(|a| other.events.iter().any(|b| events_overlap(a, b)));
        let (p1, p2) = (self.prefix(), other.prefix());
        let (s1, s2) = (self.suffix(), other.suffix());
        share_event
            && (p1.starts_with(p2) || p2.starts_with(p1))
            && (s1.ends_with(s2) || s2.ends_with(s1))
    }
}

/// Whether a configured event type (`s3:ObjectCreated:*`) covers a concrete one.
fn event_covers(configured: &str, concrete: &str) -> bool {
    configured == concrete
        || configured
            .strip_suffix('*')
            .is_some_and(|stem| stem.ends_with(':') && concrete.starts_with(stem))
}

/// Whether two configured event types share a concrete event.
fn events_overlap(a: &str, b: &str) -> bool {
    event_covers(a, b) || event_covers(b, a)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:lambda:us-east-1:000000000000:function:f";

    fn target(events: &[&str], prefix: Option<&str>, suffix: Option<&str>) -> LambdaTarget {
        let mut rules = Vec::new();
        if let Some(p) = prefix {
            rules.push(KeyRule {
                name: "prefix".into(),
                value: p.into(),
            });
        }
        if let Some(s) = suffix {
            rules.push(KeyRule {
                name: "Suffix".into(),
                value: s.into(),
            });
        }
        LambdaTarget {
            id: "t".into(),
            function_arn: ARN.into(),
            events: events.iter().map(|e| (*e).to_owned()).collect(),
            filter: (!rules.is_empty()).then_some(rules),
        }
    }

    #[test]
    fn filters_match_prefix_and_suffix_case_sensitively() {
        let t = target(&["s3:ObjectCreated:*"], Some("in/"), Some(".jpg"));
        assert!(t.matches("ObjectCreated:Put", "in/cat.jpg"));
        assert!(t.matches("ObjectCreated:CompleteMultipartUpload", "in/a/b.jpg"));
        assert!(!t.matches("ObjectCreated:Put", "in/cat.JPG"));
        assert!(!t.matches("ObjectCreated:Put", "In/cat.jpg"));
        assert!(!t.matches("ObjectCreated:Put", "out/cat.jpg"));
        assert!(!t.matches("ObjectRemoved:Delete", "in/cat.jpg"));
        let any = target(&["s3:ObjectCreated:*"], None, None);
        assert!(any.matches("ObjectCreated:Copy", "whatever"));
    }

    #[test]
    fn specific_events_match_only_themselves() {
        let t = target(
            &["s3:ObjectCreated:Put", "s3:ObjectCreated:Copy"],
            None,
            None,
        );
        assert!(t.matches("ObjectCreated:Put", "k"));
        assert!(t.matches("ObjectCreated:Copy", "k"));
        assert!(!t.matches("ObjectCreated:CompleteMultipartUpload", "k"));
        // A prefix rule is not a wildcard pattern.
        let star = target(&["s3:ObjectCreated:*"], Some("*"), None);
        assert!(!star.matches("ObjectCreated:Put", "abc"));
    }

    #[test]
    fn filters_see_the_encoded_key() {
        // AWS: "If your prefix or suffix contains a space, you must replace it with '+'".
        let encoded = crate::s3::event::encode_key("in dir/naïve file.txt");
        assert!(
            target(&["s3:ObjectCreated:*"], Some("in+dir/"), None)
                .matches("ObjectCreated:Put", &encoded)
        );
        assert!(
            !target(&["s3:ObjectCreated:*"], Some("in dir/"), None)
                .matches("ObjectCreated:Put", &encoded)
        );
        assert!(
            target(&["s3:ObjectCreated:*"], Some("in+dir/na%C3%AF"), None)
                .matches("ObjectCreated:Put", &encoded)
        );
    }

    #[test]
    fn overlap_follows_aws_rules() {
        let all = &["s3:ObjectCreated:*"];
        let put = &["s3:ObjectCreated:Put"];
        let copy = &["s3:ObjectCreated:Copy"];
        let removed = &["s3:ObjectRemoved:*"];
        // Same event type, no filters.
        assert!(target(all, None, None).overlaps(&target(all, None, None)));
        // A wildcard covers the specific type.
        assert!(target(all, None, None).overlaps(&target(put, None, None)));
        // Different specific types or categories do not overlap.
        assert!(!target(put, None, None).overlaps(&target(copy, None, None)));
        assert!(!target(all, None, None).overlaps(&target(removed, None, None)));
        // Disjoint prefixes are fine; nested ones overlap.
        assert!(!target(all, Some("images/"), None).overlaps(&target(all, Some("logs/"), None)));
        assert!(target(all, Some("images/"), None).overlaps(&target(
            all,
            Some("images/2026/"),
            None
        )));
        // Disjoint suffixes are fine; nested ones overlap.
        assert!(!target(all, None, Some(".jpg")).overlaps(&target(all, None, Some(".png"))));
        assert!(target(all, None, Some(".jpg")).overlaps(&target(all, None, Some("large.jpg"))));
        // A prefix-only and a suffix-only configuration can both match "images/x.jpg".
        assert!(target(all, Some("images/"), None).overlaps(&target(all, None, Some(".jpg"))));
        // Same prefix, different suffixes: fine.
        assert!(!target(all, Some("in/"), Some(".jpg")).overlaps(&target(
            all,
            Some("in/"),
            Some(".png")
        )));
        // Prefixes are case-sensitive.
        assert!(!target(all, Some("Images/"), None).overlaps(&target(all, Some("images/"), None)));
    }

    #[test]
    fn targets_lists_every_matching_configuration() {
        let stored = BucketNotifications {
            lambda: vec![
                LambdaTarget {
                    id: "jpg".into(),
                    ..target(&["s3:ObjectCreated:*"], Some("in/"), Some(".jpg"))
                },
                LambdaTarget {
                    id: "logs".into(),
                    ..target(&["s3:ObjectCreated:Put"], Some("logs/"), None)
                },
            ],
            event_bridge: false,
        };
        assert_eq!(
            stored.targets("ObjectCreated:Put", "in/a.jpg"),
            vec![("jpg".to_owned(), ARN.to_owned())]
        );
        assert_eq!(
            stored.targets("ObjectCreated:Put", "logs/x"),
            vec![("logs".to_owned(), ARN.to_owned())]
        );
        assert!(stored.targets("ObjectCreated:Copy", "logs/x").is_empty());
        assert!(stored.targets("ObjectCreated:Put", "in/a.png").is_empty());
    }
}
