//! Which asynchronous invocations of a function Lambda gave up on, read
//! from the records in its S3 on-failure destination (which `init` sets),
//! the same way on AWS and on the local cloud. Each record is read once:
//! a follower remembers the keys it has seen, so polling costs one listing.

use std::collections::HashSet;

use scar_contract::function::failure_record_prefix;

use crate::aws::failures::FailureRecord;
use crate::aws::{AwsError, Cloud};

/// Follows a function's failure records.
#[derive(Debug)]
pub struct FailureFollower {
    function: String,
    /// The destination bucket, once asked (`Some(None)`: none configured).
    bucket: Option<Option<String>>,
    seen: HashSet<String>,
}

impl FailureFollower {
    /// A follower for `function`.
    pub fn new(function: &str) -> FailureFollower {
        FailureFollower {
            function: function.to_owned(),
            bucket: None,
            seen: HashSet::new(),
        }
    }

    /// The records written since the last call (all of them the first time).
    pub async fn new_records(&mut self, cloud: &Cloud) -> Result<Vec<FailureRecord>, AwsError> {
        let bucket = match &self.bucket {
            Some(b) => b.clone(),
            None => {
                let b = cloud.failure_destination_bucket(&self.function).await?;
                self.bucket = Some(b.clone());
                b
            }
        };
        let Some(bucket) = bucket else {
            return Ok(Vec::new());
        };
        let mut pages = cloud.list_objects(&bucket, &failure_record_prefix(&self.function));
        let mut out = Vec::new();
        while let Some(page) = pages.next_page().await? {
            for obj in page {
                if !self.seen.insert(obj.key.clone()) {
                    continue;
                }
                if let Some(r) = cloud.failure_record(&bucket, &obj.key).await? {
                    out.push(r);
                }
            }
        }
        Ok(out)
    }
}
