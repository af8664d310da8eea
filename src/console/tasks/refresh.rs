//! The refresh effects' fetches: the function list with what each
//! function's recorded trigger says, the per-function figures (CloudWatch
//! metrics and warm environments) and an object listing, turned into the
//! rows the panes show. Each runs in its kind's slot, newest wins.

use std::collections::HashMap;

use crate::app::deploy;
use crate::aws::Cloud;

use super::text;
use crate::console::state::{FunctionRow, FunctionStats, ObjectRow};

pub(super) async fn list_functions(cloud: &Cloud) -> Result<Vec<FunctionRow>, String> {
    let mut rows: Vec<FunctionRow> = cloud
        .list_functions()
        .await
        .map_err(text)?
        .into_iter()
        .map(|info| FunctionRow {
            image: info
                .environment
                .get(scar_contract::function::env::IMAGE)
                .cloned()
                .unwrap_or_default(),
            input: deploy::recorded_input(&info),
            outputs: deploy::recorded_outputs(&info)
                .into_iter()
                .map(|s| (s.bucket, s.prefix))
                .collect(),
            info,
        })
        .collect();
    rows.sort_by(|a, b| a.info.name.cmp(&b.info.name));
    Ok(rows)
}

/// Functions whose warm environments are counted per refresh (one
/// DescribeLogStreams each).
const WARM_COUNTED: usize = 20;

pub(super) async fn stats(
    cloud: &Cloud,
    names: &[String],
    window_s: i32,
    keep_warm_ms: i64,
) -> Result<HashMap<String, FunctionStats>, String> {
    let now = cloud.clock.now_ms();
    let figures = cloud
        .function_figures(names, now, window_s)
        .await
        .map_err(text)?;
    let mut out = HashMap::new();
    for (i, name) in names.iter().enumerate() {
        let f = figures.get(name).cloned().unwrap_or_default();
        let warm = if i < WARM_COUNTED {
            cloud
                .active_environments(name, now - keep_warm_ms)
                .await
                .ok()
        } else {
            None
        };
        out.insert(
            name.clone(),
            FunctionStats {
                warm,
                invocations: f.invocations,
                errors: f.errors,
                throttles: f.throttles,
                p50_ms: f.p50_ms,
                p95_ms: f.p95_ms,
                cache_hit: f.cache_hit,
            },
        );
    }
    Ok(out)
}

pub(super) async fn list(
    cloud: &Cloud,
    bucket: &str,
    prefix: &str,
    max: usize,
) -> Result<Vec<ObjectRow>, String> {
    let mut pages = cloud.list_objects(bucket, prefix);
    let mut out = Vec::new();
    while let Some(page) = pages.next_page().await.map_err(text)? {
        out.extend(page.into_iter().map(|o| ObjectRow {
            key: o.key,
            size: o.size,
            modified_ms: o.modified_ms,
        }));
        if out.len() >= max {
            out.truncate(max);
            break;
        }
    }
    Ok(out)
}
