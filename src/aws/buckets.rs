//! Buckets as a deploy sees them: the notification entries that trigger
//! functions, and purging a bucket on `rm --purge`.
//!
//! A bucket has ONE notification configuration, shared by every function
//! it triggers, and PutBucketNotificationConfiguration replaces it whole
//! (<https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketNotificationConfiguration.html>).
//! So a deploy reads it, swaps only its own function's entries and writes
//! it back with everyone else's entries (and any queue, topic or
//! EventBridge destinations) untouched. Entries are recognised by the
//! function name in their ARN, so entries made by SCAR itself are found too.

use aws_sdk_s3::types::{
    Event, FilterRule, FilterRuleName, LambdaFunctionConfiguration, NotificationConfiguration,
    NotificationConfigurationFilter, ObjectIdentifier, S3KeyFilter,
};

use super::{AwsError, Cloud};

/// The event every entry made here listens to.
pub const OBJECT_CREATED: &str = "s3:ObjectCreated:*";

/// One notification entry's key filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct KeyFilter {
    /// Key prefix ("" for any).
    pub prefix: String,
    /// Key suffix ("" for any).
    pub suffix: String,
}

impl KeyFilter {
    /// One filter per suffix (S3 takes one suffix per entry), or one for
    /// the prefix alone.
    pub fn for_input(prefix: &str, suffixes: &[String]) -> Vec<KeyFilter> {
        if suffixes.is_empty() {
            return vec![KeyFilter {
                prefix: prefix.to_owned(),
                suffix: String::new(),
            }];
        }
        suffixes
            .iter()
            .map(|s| KeyFilter {
                prefix: prefix.to_owned(),
                suffix: s.clone(),
            })
            .collect()
    }

    /// Whether some key could match both (S3's "Configurations overlap").
    pub fn overlaps(&self, other: &KeyFilter) -> bool {
        (self.prefix.starts_with(&other.prefix) || other.prefix.starts_with(&self.prefix))
            && (self.suffix.ends_with(&other.suffix) || other.suffix.ends_with(&self.suffix))
    }

    fn of(c: &LambdaFunctionConfiguration) -> KeyFilter {
        let mut f = KeyFilter::default();
        for rule in c
            .filter()
            .and_then(|f| f.key())
            .map(|k| k.filter_rules())
            .unwrap_or_default()
        {
            let value = rule.value().unwrap_or_default().to_owned();
            match rule
                .name()
                .map(|n| n.as_str().to_ascii_lowercase())
                .as_deref()
            {
                Some("prefix") => f.prefix = value,
                Some("suffix") => f.suffix = value,
                _ => {}
            }
        }
        f
    }
}

/// The function name in a function ARN (`...:function:NAME[:QUALIFIER]`).
pub fn function_of_arn(arn: &str) -> &str {
    match arn.split_once(":function:") {
        Some((_, rest)) => rest.split(':').next().unwrap_or(rest),
        None => arn,
    }
}

/// Whether a configured event type includes object creation.
fn creates(event: &str) -> bool {
    event == "s3:*" || event.starts_with("s3:ObjectCreated:")
}

/// The error for the first of `filters` that overlaps one of `others`
/// (other functions' entries that fire on object creation).
fn overlap(
    bucket: &str,
    function: &str,
    others: &[LambdaFunctionConfiguration],
    filters: &[KeyFilter],
) -> Option<AwsError> {
    others.iter().find_map(|other| {
        if !other.events().iter().any(|e| creates(e.as_str())) {
            return None;
        }
        let theirs = KeyFilter::of(other);
        let mine = filters.iter().find(|f| f.overlaps(&theirs))?;
        Some(AwsError::Call {
            op: "PutBucketNotificationConfiguration",
            target: bucket.to_owned(),
            code: "ConfigurationsOverlap".into(),
            message: format!(
                "the input s3://{bucket}/{}*{} of {function} overlaps function {}'s trigger s3://{bucket}/{}*{}: give each function its own prefix or suffix",
                mine.prefix,
                mine.suffix,
                function_of_arn(other.lambda_function_arn()),
                theirs.prefix,
                theirs.suffix
            ),
        })
    })
}

impl Cloud {
    /// The bucket's notification configuration.
    async fn notification_configuration(
        &self,
        bucket: &str,
    ) -> Result<NotificationConfiguration, AwsError> {
        let out = self
            .s3
            .get_bucket_notification_configuration()
            .bucket(bucket)
            .send()
            .await
            .map_err(|e| AwsError::call("GetBucketNotificationConfiguration", bucket, &e))?;
        Ok(NotificationConfiguration::builder()
            .set_lambda_function_configurations(Some(out.lambda_function_configurations().to_vec()))
            .set_queue_configurations(Some(out.queue_configurations().to_vec()))
            .set_topic_configurations(Some(out.topic_configurations().to_vec()))
            .set_event_bridge_configuration(out.event_bridge_configuration().cloned())
            .build())
    }

    async fn put_notification_configuration(
        &self,
        bucket: &str,
        conf: NotificationConfiguration,
    ) -> Result<(), AwsError> {
        self.s3
            .put_bucket_notification_configuration()
            .bucket(bucket)
            .notification_configuration(conf)
            .send()
            .await
            .map_err(|e| AwsError::call("PutBucketNotificationConfiguration", bucket, &e))?;
        Ok(())
    }

    /// The functions `bucket` notifies, with their key filters.
    pub async fn bucket_notifications(
        &self,
        bucket: &str,
    ) -> Result<Vec<(String, KeyFilter)>, AwsError> {
        let conf = self.notification_configuration(bucket).await?;
        Ok(conf
            .lambda_function_configurations()
            .iter()
            .map(|c| {
                (
                    function_of_arn(c.lambda_function_arn()).to_owned(),
                    KeyFilter::of(c),
                )
            })
            .collect())
    }

    /// Makes `filters` the entries of `function` (ARN `function_arn`) in
    /// `bucket`'s configuration, keeping every other entry; returns how
    /// many entries the function now has. A filter that overlaps another
    /// function's entry is refused before S3 is asked, naming that function.
    pub async fn set_function_notifications(
        &self,
        bucket: &str,
        function: &str,
        function_arn: &str,
        filters: &[KeyFilter],
    ) -> Result<usize, AwsError> {
        let conf = self.notification_configuration(bucket).await?;
        let (_, others): (Vec<_>, Vec<_>) = conf
            .lambda_function_configurations()
            .iter()
            .cloned()
            .partition(|c| function_of_arn(c.lambda_function_arn()) == function);
        if let Some(e) = overlap(bucket, function, &others, filters) {
            return Err(e);
        }
        let mut entries = others;
        for (i, f) in filters.iter().enumerate() {
            let mut rules = Vec::new();
            if !f.prefix.is_empty() {
                rules.push(
                    FilterRule::builder()
                        .name(FilterRuleName::Prefix)
                        .value(&f.prefix)
                        .build(),
                );
            }
            if !f.suffix.is_empty() {
                rules.push(
                    FilterRule::builder()
                        .name(FilterRuleName::Suffix)
                        .value(&f.suffix)
                        .build(),
                );
            }
            let mut entry = LambdaFunctionConfiguration::builder()
                .id(format!("scar-tui-{function}-{i}"))
                .lambda_function_arn(function_arn)
                .events(Event::from(OBJECT_CREATED));
            if !rules.is_empty() {
                entry = entry.filter(
                    NotificationConfigurationFilter::builder()
                        .key(S3KeyFilter::builder().set_filter_rules(Some(rules)).build())
                        .build(),
                );
            }
            entries.push(entry.build().map_err(|e| {
                AwsError::Config(format!("notification entry for {function}: {e}"))
            })?);
        }
        let conf = NotificationConfiguration::builder()
            .set_lambda_function_configurations(Some(entries))
            .set_queue_configurations(Some(conf.queue_configurations().to_vec()))
            .set_topic_configurations(Some(conf.topic_configurations().to_vec()))
            .set_event_bridge_configuration(conf.event_bridge_configuration().cloned())
            .build();
        self.put_notification_configuration(bucket, conf).await?;
        Ok(filters.len())
    }

    /// Refuses, before anything is deployed, `filters` for `function` that
    /// would overlap another function's entry in `bucket` (none if the
    /// bucket does not exist yet).
    pub async fn check_function_notifications(
        &self,
        bucket: &str,
        function: &str,
        filters: &[KeyFilter],
    ) -> Result<(), AwsError> {
        let conf = match self.notification_configuration(bucket).await {
            Ok(c) => c,
            Err(e) if e.code() == Some("NoSuchBucket") => return Ok(()),
            Err(e) => return Err(e),
        };
        let others: Vec<_> = conf
            .lambda_function_configurations()
            .iter()
            .filter(|c| function_of_arn(c.lambda_function_arn()) != function)
            .cloned()
            .collect();
        overlap(bucket, function, &others, filters).map_or(Ok(()), Err)
    }

    /// Removes `function`'s entries from `bucket`'s configuration, keeping
    /// every other; returns how many were removed (a missing bucket has none).
    pub async fn remove_function_notifications(
        &self,
        bucket: &str,
        function: &str,
    ) -> Result<usize, AwsError> {
        let conf = match self.notification_configuration(bucket).await {
            Ok(c) => c,
            Err(e) if e.code() == Some("NoSuchBucket") => return Ok(0),
            Err(e) => return Err(e),
        };
        let all = conf.lambda_function_configurations();
        let kept: Vec<_> = all
            .iter()
            .filter(|c| function_of_arn(c.lambda_function_arn()) != function)
            .cloned()
            .collect();
        let removed = all.len() - kept.len();
        if removed == 0 {
            return Ok(0);
        }
        let conf = NotificationConfiguration::builder()
            .set_lambda_function_configurations(Some(kept))
            .set_queue_configurations(Some(conf.queue_configurations().to_vec()))
            .set_topic_configurations(Some(conf.topic_configurations().to_vec()))
            .set_event_bridge_configuration(conf.event_bridge_configuration().cloned())
            .build();
        self.put_notification_configuration(bucket, conf).await?;
        Ok(removed)
    }

    /// Every bucket's name.
    pub async fn bucket_names(&self) -> Result<Vec<String>, AwsError> {
        let mut names = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .s3
                .list_buckets()
                .set_continuation_token(token.clone())
                .send()
                .await
                .map_err(|e| AwsError::call("ListBuckets", "buckets", &e))?;
            names.extend(
                out.buckets()
                    .iter()
                    .filter_map(|b| b.name().map(str::to_owned)),
            );
            match out.continuation_token() {
                Some(t) if !t.is_empty() && Some(t) != token.as_deref() => {
                    token = Some(t.to_owned())
                }
                _ => return Ok(names),
            }
        }
    }

    /// Deletes every object of `bucket` (1,000 per DeleteObjects call,
    /// page by page), then the bucket; returns how many objects went.
    /// A bucket that does not exist counts as purged.
    pub async fn purge_bucket(&self, bucket: &str) -> Result<u64, AwsError> {
        let mut deleted = 0u64;
        let mut pages = self.list_objects(bucket, "");
        loop {
            let page = match pages.next_page().await {
                Ok(Some(p)) => p,
                Ok(None) => break,
                Err(e) if e.code() == Some("NoSuchBucket") => return Ok(deleted),
                Err(e) => return Err(e),
            };
            if page.is_empty() {
                continue;
            }
            let ids = page
                .iter()
                .map(|o| ObjectIdentifier::builder().key(&o.key).build())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| AwsError::Config(format!("deleting from {bucket}: {e}")))?;
            let n = ids.len() as u64;
            let delete = aws_sdk_s3::types::Delete::builder()
                .set_objects(Some(ids))
                .quiet(true)
                .build()
                .map_err(|e| AwsError::Config(format!("deleting from {bucket}: {e}")))?;
            let out = self
                .s3
                .delete_objects()
                .bucket(bucket)
                .delete(delete)
                .send()
                .await
                .map_err(|e| AwsError::call("DeleteObjects", bucket, &e))?;
            if let Some(err) = out.errors().first() {
                return Err(AwsError::Call {
                    op: "DeleteObjects",
                    target: format!("s3://{bucket}/{}", err.key().unwrap_or_default()),
                    code: err.code().unwrap_or("Error").to_owned(),
                    message: err.message().unwrap_or("not deleted").to_owned(),
                });
            }
            deleted += n;
        }
        match self.s3.delete_bucket().bucket(bucket).send().await {
            Ok(_) => Ok(deleted),
            Err(e) => {
                let e = AwsError::call("DeleteBucket", bucket, &e);
                if e.code() == Some("NoSuchBucket") {
                    Ok(deleted)
                } else {
                    Err(e)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_and_overlaps() {
        assert_eq!(
            function_of_arn("arn:aws:lambda:us-east-1:0:function:f"),
            "f"
        );
        assert_eq!(
            function_of_arn("arn:aws:lambda:us-east-1:0:function:f:$LATEST"),
            "f"
        );
        let k = |p: &str, s: &str| KeyFilter {
            prefix: p.into(),
            suffix: s.into(),
        };
        assert!(k("in/", "").overlaps(&k("", "")));
        assert!(!k("a/", "").overlaps(&k("b/", "")));
        assert!(!k("", ".jpg").overlaps(&k("", ".png")));
        assert!(k("a/", ".jpg").overlaps(&k("a/x", "")));
        assert_eq!(
            KeyFilter::for_input("p/", &[".a".into(), ".b".into()]).len(),
            2
        );
    }
}
