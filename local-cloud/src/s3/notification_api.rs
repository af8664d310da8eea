//! PutBucketNotificationConfiguration and GetBucketNotificationConfiguration
//! on the wire: AWS's validation of a put configuration, and the stored form
//! turned back into the answer of a get.
//!
//! Only Lambda destinations exist here: SQS and SNS destinations cannot be
//! validated, as on AWS when the queue or topic does not exist. A put is
//! all or nothing: one bad configuration, or two that overlap ("Configurations
//! overlap"), and the bucket keeps what it had.

use s3s::dto::{
    EventBridgeConfiguration, FilterRule, FilterRuleName, GetBucketNotificationConfigurationOutput,
    LambdaFunctionConfiguration, NotificationConfiguration, NotificationConfigurationFilter,
    S3KeyFilter,
};
use s3s::{S3Error, S3ErrorCode, S3Result};

use super::notifications::{BucketNotifications, KeyRule, LambdaTarget};

/// Every event type S3 accepts in a notification configuration
/// (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-how-to-event-types-and-destinations.html>).
/// All are stored and returned; only the `ObjectCreated` ones are delivered here.
const EVENT_TYPES: &[&str] = &[
    "s3:ObjectCreated:*",
    "s3:ObjectCreated:Put",
    "s3:ObjectCreated:Post",
    "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload",
    "s3:ObjectRemoved:*",
    "s3:ObjectRemoved:Delete",
    "s3:ObjectRemoved:DeleteMarkerCreated",
    "s3:ObjectRestore:*",
    "s3:ObjectRestore:Post",
    "s3:ObjectRestore:Completed",
    "s3:ObjectRestore:Delete",
    "s3:ReducedRedundancyLostObject",
    "s3:Replication:*",
    "s3:Replication:OperationFailedReplication",
    "s3:Replication:OperationMissedThreshold",
    "s3:Replication:OperationReplicatedAfterThreshold",
    "s3:Replication:OperationNotTracked",
    "s3:LifecycleExpiration:*",
    "s3:LifecycleExpiration:Delete",
    "s3:LifecycleExpiration:DeleteMarkerCreated",
    "s3:LifecycleTransition",
    "s3:IntelligentTiering",
    "s3:ObjectTagging:*",
    "s3:ObjectTagging:Put",
    "s3:ObjectTagging:Delete",
    "s3:ObjectAcl:Put",
];

/// AWS's message when two configurations could fire for the same event.
pub(crate) const OVERLAP_MESSAGE: &str =
    "Configurations overlap. Configurations on the same bucket cannot share a common event type.";

/// The longest filter value S3 accepts (a key's length).
const MAX_FILTER_VALUE: usize = 1024;

fn invalid(message: impl Into<String>) -> S3Error {
    S3Error::with_message(S3ErrorCode::InvalidArgument, message.into())
}

/// Checks a Lambda ARN the way S3 does before it asks Lambda: well formed,
/// and in the bucket's region.
fn check_function_arn(arn: &str, region: &str) -> S3Result<()> {
    let parts: Vec<&str> = arn.split(':').collect();
    let well_formed = (parts.len() == 7 || parts.len() == 8)
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "lambda"
        && parts[5] == "function"
        && !parts[6].is_empty();
    if !well_formed {
        return Err(invalid(format!(
            "The ARN is not well formed: {arn:?}; expected arn:aws:lambda:REGION:ACCOUNT:function:NAME"
        )));
    }
    if parts[3] != region {
        return Err(invalid(format!(
            "The notification destination service region is not valid for the bucket location constraint: \
             {arn} is not in {region}"
        )));
    }
    Ok(())
}

fn rules_from_dto(
    filter: Option<NotificationConfigurationFilter>,
) -> S3Result<Option<Vec<KeyRule>>> {
    let Some(filter) = filter else {
        return Ok(None);
    };
    let rules: Vec<KeyRule> = filter
        .key
        .and_then(|k| k.filter_rules)
        .unwrap_or_default()
        .into_iter()
        .map(|r| KeyRule {
            name: r.name.map(|n| n.as_str().to_owned()).unwrap_or_default(),
            value: r.value.unwrap_or_default(),
        })
        .collect();
    for name in ["prefix", "suffix"] {
        if rules
            .iter()
            .filter(|r| r.name.eq_ignore_ascii_case(name))
            .count()
            > 1
        {
            return Err(invalid(format!(
                "Cannot specify more than one {name} rule in a filter."
            )));
        }
    }
    for rule in &rules {
        if !rule.name.eq_ignore_ascii_case("prefix") && !rule.name.eq_ignore_ascii_case("suffix") {
            return Err(invalid(format!(
                "filter rule name must be either prefix or suffix, not {:?}",
                rule.name
            )));
        }
        if rule.value.len() > MAX_FILTER_VALUE {
            return Err(invalid("The filter rule value is longer than 1024 bytes."));
        }
    }
    Ok(Some(rules))
}

/// Validates a put configuration like S3 and turns it into the stored form.
/// `region` is the bucket's; missing `Id`s are generated.
pub(crate) fn from_request(
    conf: NotificationConfiguration,
    region: &str,
) -> S3Result<BucketNotifications> {
    let others = conf.queue_configurations.as_ref().map_or(0, Vec::len)
        + conf.topic_configurations.as_ref().map_or(0, Vec::len);
    if others > 0 {
        // What AWS says when a queue or topic cannot be reached; the local
        // cloud has neither SQS nor SNS.
        return Err(invalid(
            "Unable to validate the following destination configurations: the local cloud delivers \
             notifications to Lambda functions only (no SQS queues or SNS topics)",
        ));
    }
    let mut lambda = Vec::new();
    for c in conf.lambda_function_configurations.unwrap_or_default() {
        check_function_arn(&c.lambda_function_arn, region)?;
        if c.events.is_empty() {
            return Err(invalid(
                "A notification configuration must name at least one event.",
            ));
        }
        let mut events = Vec::with_capacity(c.events.len());
        for e in c.events {
            let e: String = e.into();
            if !EVENT_TYPES.contains(&e.as_str()) {
                return Err(invalid(format!(
                    "The event is not supported for notifications: {e}"
                )));
            }
            events.push(e);
        }
        let id = match c.id {
            Some(id) if !id.is_empty() => id,
            _ => uuid::Uuid::new_v4().to_string(),
        };
        if lambda.iter().any(|t: &LambdaTarget| t.id == id) {
            return Err(invalid(format!(
                "Duplicate notification configuration Id: {id}"
            )));
        }
        lambda.push(LambdaTarget {
            id,
            function_arn: c.lambda_function_arn,
            events,
            filter: rules_from_dto(c.filter)?,
        });
    }
    for (i, a) in lambda.iter().enumerate() {
        if lambda[i + 1..].iter().any(|b| a.overlaps(b)) {
            return Err(invalid(OVERLAP_MESSAGE));
        }
    }
    Ok(BucketNotifications {
        lambda,
        event_bridge: conf.event_bridge_configuration.is_some(),
    })
}

/// The GetBucketNotificationConfiguration answer for a stored configuration.
pub(crate) fn to_response(
    stored: &BucketNotifications,
) -> GetBucketNotificationConfigurationOutput {
    let lambda: Vec<LambdaFunctionConfiguration> = stored
        .lambda
        .iter()
        .map(|t| LambdaFunctionConfiguration {
            events: t.events.iter().cloned().map(Into::into).collect(),
            filter: t
                .filter
                .as_ref()
                .map(|rules| NotificationConfigurationFilter {
                    key: Some(S3KeyFilter {
                        filter_rules: Some(
                            rules
                                .iter()
                                .map(|r| FilterRule {
                                    name: Some(FilterRuleName::from(r.name.clone())),
                                    value: Some(r.value.clone()),
                                })
                                .collect(),
                        ),
                    }),
                }),
            id: Some(t.id.clone()),
            lambda_function_arn: t.function_arn.clone(),
        })
        .collect();
    GetBucketNotificationConfigurationOutput {
        event_bridge_configuration: stored.event_bridge.then_some(EventBridgeConfiguration {}),
        lambda_function_configurations: (!lambda.is_empty()).then_some(lambda),
        queue_configurations: None,
        topic_configurations: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:lambda:us-east-1:000000000000:function:f";

    fn config(
        id: Option<&str>,
        events: &[&str],
        rules: &[(&str, &str)],
    ) -> LambdaFunctionConfiguration {
        LambdaFunctionConfiguration {
            events: events.iter().map(|e| (*e).to_owned().into()).collect(),
            filter: (!rules.is_empty()).then(|| NotificationConfigurationFilter {
                key: Some(S3KeyFilter {
                    filter_rules: Some(
                        rules
                            .iter()
                            .map(|(n, v)| FilterRule {
                                name: Some(FilterRuleName::from((*n).to_owned())),
                                value: Some((*v).to_owned()),
                            })
                            .collect(),
                    ),
                }),
            }),
            id: id.map(str::to_owned),
            lambda_function_arn: ARN.into(),
        }
    }

    fn request(configs: Vec<LambdaFunctionConfiguration>) -> NotificationConfiguration {
        NotificationConfiguration {
            lambda_function_configurations: Some(configs),
            ..Default::default()
        }
    }

    fn message(e: &S3Error) -> &str {
        e.message().unwrap_or_default()
    }

    #[test]
    fn put_validates_and_keeps_everything() {
        let stored = from_request(
            request(vec![
                config(
                    Some("jpg"),
                    &["s3:ObjectCreated:*"],
                    &[("prefix", "in/"), ("suffix", ".jpg")],
                ),
                config(
                    Some("png"),
                    &["s3:ObjectCreated:Put"],
                    &[("Prefix", "in/"), ("Suffix", ".png")],
                ),
                config(None, &["s3:ObjectRemoved:*"], &[]),
            ]),
            "us-east-1",
        )
        .unwrap();
        assert_eq!(stored.lambda.len(), 3);
        assert_eq!(stored.lambda[1].filter.as_ref().unwrap()[0].name, "Prefix");
        assert!(!stored.lambda[2].id.is_empty(), "a missing Id is generated");
        let back = to_response(&stored);
        let configs = back.lambda_function_configurations.unwrap();
        assert_eq!(
            configs[0],
            config(
                Some("jpg"),
                &["s3:ObjectCreated:*"],
                &[("prefix", "in/"), ("suffix", ".jpg")]
            )
        );
        assert_eq!(
            configs[1],
            config(
                Some("png"),
                &["s3:ObjectCreated:Put"],
                &[("Prefix", "in/"), ("Suffix", ".png")]
            )
        );
        assert!(back.event_bridge_configuration.is_none());
    }

    #[test]
    fn put_refuses_what_aws_refuses() {
        let overlap = from_request(
            request(vec![
                config(Some("a"), &["s3:ObjectCreated:*"], &[("prefix", "in/")]),
                config(Some("b"), &["s3:ObjectCreated:Put"], &[("suffix", ".jpg")]),
            ]),
            "us-east-1",
        )
        .unwrap_err();
        assert_eq!(*overlap.code(), S3ErrorCode::InvalidArgument);
        assert_eq!(message(&overlap), OVERLAP_MESSAGE);

        let two_prefixes = from_request(
            request(vec![config(
                None,
                &["s3:ObjectCreated:*"],
                &[("prefix", "a"), ("Prefix", "b")],
            )]),
            "us-east-1",
        )
        .unwrap_err();
        assert!(message(&two_prefixes).contains("more than one prefix"));

        let bad_name = from_request(
            request(vec![config(
                None,
                &["s3:ObjectCreated:*"],
                &[("middle", "a")],
            )]),
            "us-east-1",
        )
        .unwrap_err();
        assert!(message(&bad_name).contains("prefix or suffix"));

        let bad_event = from_request(
            request(vec![config(None, &["s3:ObjectCreated:Upload"], &[])]),
            "us-east-1",
        )
        .unwrap_err();
        assert!(message(&bad_event).contains("not supported"));

        let no_event =
            from_request(request(vec![config(None, &[], &[])]), "us-east-1").unwrap_err();
        assert_eq!(*no_event.code(), S3ErrorCode::InvalidArgument);

        let mut bad_arn = config(None, &["s3:ObjectCreated:*"], &[]);
        bad_arn.lambda_function_arn = "f".into();
        assert!(
            message(&from_request(request(vec![bad_arn]), "us-east-1").unwrap_err())
                .contains("not well formed")
        );

        let other_region = from_request(
            request(vec![config(None, &["s3:ObjectCreated:*"], &[])]),
            "eu-west-1",
        )
        .unwrap_err();
        assert!(message(&other_region).contains("region"));

        let dup = from_request(
            request(vec![
                config(Some("x"), &["s3:ObjectCreated:Put"], &[]),
                config(Some("x"), &["s3:ObjectCreated:Copy"], &[]),
            ]),
            "us-east-1",
        )
        .unwrap_err();
        assert!(message(&dup).contains("Duplicate"));

        let queue = NotificationConfiguration {
            queue_configurations: Some(vec![Default::default()]),
            ..Default::default()
        };
        assert!(
            message(&from_request(queue, "us-east-1").unwrap_err()).contains("Unable to validate")
        );
    }

    #[test]
    fn empty_configuration_turns_notifications_off() {
        let stored = from_request(NotificationConfiguration::default(), "us-east-1").unwrap();
        assert!(stored.is_empty());
        let eb = from_request(
            NotificationConfiguration {
                event_bridge_configuration: Some(EventBridgeConfiguration {}),
                ..Default::default()
            },
            "us-east-1",
        )
        .unwrap();
        assert!(!eb.is_empty());
        assert!(to_response(&eb).event_bridge_configuration.is_some());
    }
}
