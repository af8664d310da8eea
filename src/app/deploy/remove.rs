//! Removing functions (`rm`): each function's notification entries (only
//! its own: other functions on the same bucket keep theirs), the function,
//! its log group. Buckets stay unless `purge` is asked, and even then a
//! bucket another remaining function reads or writes is kept and said so.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{DeployError, recorded_input, recorded_outputs};
use crate::aws::Cloud;
use crate::aws::functions::FunctionInfo;
use crate::aws::logs::log_group;

/// What removing one function did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RemoveReport {
    /// The function.
    pub name: String,
    /// Notification entries removed, per bucket.
    pub notifications_removed: BTreeMap<String, usize>,
    /// Whether its log group was there and is gone.
    pub log_group_deleted: bool,
}

/// What a removal did, buckets included.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RemoveSummary {
    /// One report per function.
    pub functions: Vec<RemoveReport>,
    /// Buckets emptied and deleted (`--purge`), with the objects deleted.
    pub buckets_purged: BTreeMap<String, u64>,
    /// Buckets kept, and why.
    pub buckets_kept: BTreeMap<String, String>,
}

fn buckets_of(info: &FunctionInfo) -> BTreeSet<String> {
    recorded_input(info)
        .into_iter()
        .chain(recorded_outputs(info))
        .map(|s| s.bucket)
        .collect()
}

/// Removes functions `names` (all must exist), and with `purge` their buckets.
pub async fn remove(
    cloud: &Cloud,
    names: &[String],
    purge: bool,
) -> Result<RemoveSummary, DeployError> {
    let mut infos = Vec::new();
    for name in names {
        infos.push(
            cloud
                .get_function(name)
                .await?
                .ok_or_else(|| DeployError::NotFound {
                    function: name.clone(),
                })?,
        );
    }
    let mut summary = RemoveSummary::default();
    // Scanning every bucket is the fallback for functions that record no
    // input (deployed by SCAR or by hand): their entries may be anywhere.
    let mut all_buckets: Option<Vec<String>> = None;
    for info in &infos {
        let mut report = RemoveReport {
            name: info.name.clone(),
            ..RemoveReport::default()
        };
        let buckets = match recorded_input(info) {
            Some(input) => vec![input.bucket],
            None => {
                if all_buckets.is_none() {
                    all_buckets = Some(cloud.bucket_names().await?);
                }
                all_buckets.clone().unwrap_or_default()
            }
        };
        for bucket in buckets {
            let n = cloud
                .remove_function_notifications(&bucket, &info.name)
                .await?;
            if n > 0 {
                report.notifications_removed.insert(bucket, n);
            }
        }
        cloud.delete_function(&info.name).await?;
        report.log_group_deleted = cloud.delete_log_group(&log_group(&info.name)).await?;
        summary.functions.push(report);
    }
    let mine: BTreeSet<String> = infos.iter().flat_map(buckets_of).collect();
    if !purge {
        for b in mine {
            summary
                .buckets_kept
                .insert(b, "kept (pass --purge to empty and delete it)".into());
        }
        return Ok(summary);
    }
    let remaining = cloud.list_functions().await?;
    for bucket in mine {
        if let Some(user) = remaining.iter().find(|f| buckets_of(f).contains(&bucket)) {
            summary.buckets_kept.insert(
                bucket,
                format!("kept: function {} still uses it", user.name),
            );
            continue;
        }
        let n = cloud.purge_bucket(&bucket).await?;
        summary.buckets_purged.insert(bucket, n);
    }
    Ok(summary)
}

/// The functions scar-tui deployed (those with `SCAR_IMAGE`), for `rm --all`.
pub async fn deployed_names(cloud: &Cloud) -> Result<Vec<String>, DeployError> {
    let mut names: Vec<String> = cloud
        .list_functions()
        .await?
        .into_iter()
        .filter(|f| {
            f.environment
                .contains_key(scar_contract::function::env::IMAGE)
        })
        .map(|f| f.name)
        .collect();
    names.sort();
    Ok(names)
}
