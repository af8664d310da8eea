//! ListMetrics: the metrics that hold data, filtered by namespace, name and
//! dimensions, 500 per page
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_ListMetrics.html>).
//!
//! A dimension filter with a value matches that exact dimension; without a
//! value it matches any metric that has the dimension. Pages are cut from
//! the metrics sorted by namespace, name and dimensions, and the token is
//! the next offset, so paging stays stable while new points arrive.

use super::request::{self, ApiError, ApiResult};
use super::store::{MetricId, Store};
use super::wire::{Node, Out};

/// Metrics per page, as on CloudWatch.
const PAGE: usize = 500;
/// RecentlyActive's one allowed value, three hours.
const RECENT_MS: i64 = 3 * 3600 * 1000;

/// The token that resumes at `offset`.
fn token(offset: usize) -> String {
    format!("scar-{offset}")
}

/// ListMetrics.
pub fn list(store: &Store, input: &Node, now: i64) -> ApiResult<Out> {
    let namespace = request::opt_name(input.get("Namespace"), "Namespace", 255)?;
    let name = request::opt_name(input.get("MetricName"), "MetricName", 255)?;
    let filters = request::list(input.get("Dimensions"), "Dimensions")?;
    if filters.len() > 10 {
        return Err(ApiError::invalid(
            "The collection Dimensions must not have a size greater than 10.",
        ));
    }
    let mut wanted = Vec::with_capacity(filters.len());
    for (i, f) in filters.iter().enumerate() {
        let p = format!("Dimensions.member.{}", i + 1);
        let n = request::req_name(f.get("Name"), &format!("{p}.Name"), 255)?;
        let v = request::opt_name(f.get("Value"), &format!("{p}.Value"), 1024)?;
        wanted.push((n, v));
    }
    let recent = match request::opt_str(input.get("RecentlyActive"), "RecentlyActive")? {
        None => false,
        Some("PT3H") => true,
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "The value {other} for parameter RecentlyActive is invalid: the only value is PT3H."
            )));
        }
    };
    let offset = match request::opt_str(input.get("NextToken"), "NextToken")? {
        None | Some("") => 0,
        Some(t) => t
            .strip_prefix("scar-")
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| {
                ApiError::invalid(format!("The value {t} for parameter NextToken is invalid."))
            })?,
    };

    let matches = |id: &MetricId, last: i64| {
        namespace.is_none_or(|n| n == id.namespace)
            && name.is_none_or(|n| n == id.name)
            && (!recent || last >= now - RECENT_MS)
            && wanted.iter().all(|(n, v)| {
                id.dimensions
                    .iter()
                    .any(|(dn, dv)| dn == n && v.is_none_or(|v| v == dv))
            })
    };
    let all: Vec<MetricId> = store
        .metrics()
        .into_iter()
        .filter(|(id, last)| matches(id, *last))
        .map(|(id, _)| id)
        .collect();
    let page: Vec<Out> = all.iter().skip(offset).take(PAGE).map(metric).collect();
    let mut out = vec![("Metrics", Out::List(page))];
    if offset + PAGE < all.len() {
        out.push(("NextToken", Out::Str(token(offset + PAGE))));
    }
    Ok(Out::Struct(out))
}

/// A Metric structure.
fn metric(id: &MetricId) -> Out {
    let dims = id
        .dimensions
        .iter()
        .map(|(n, v)| {
            Out::Struct(vec![
                ("Name", Out::Str(n.clone())),
                ("Value", Out::Str(v.clone())),
            ])
        })
        .collect();
    Out::Struct(vec![
        ("Namespace", Out::Str(id.namespace.clone())),
        ("MetricName", Out::Str(id.name.clone())),
        ("Dimensions", Out::List(dims)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::stats::{Point, Unit};
    use crate::metrics::store::Retention;

    const NOW: i64 = 1_795_687_200_000;

    fn node(v: serde_json::Value) -> Node {
        Node::from_json(v.to_string().as_bytes()).unwrap()
    }

    fn names(out: &Out) -> (Vec<String>, Option<String>) {
        let v = out.to_json();
        let names = v["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                format!(
                    "{}/{}",
                    m["Namespace"].as_str().unwrap(),
                    m["MetricName"].as_str().unwrap()
                )
            })
            .collect();
        (names, v["NextToken"].as_str().map(str::to_owned))
    }

    #[test]
    fn pages_of_500_and_filters() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), Retention::default(), NOW).unwrap();
        let batch = (0..1_203)
            .map(|i| {
                let dims = vec![("Shard".to_owned(), format!("{:04}", i % 3))];
                (
                    MetricId::new("Big", format!("M{i:04}"), dims),
                    Point::value(NOW, 1.0, Unit::NONE),
                )
            })
            .chain([(
                MetricId::new("Old", "X", vec![]),
                Point::value(NOW - 4 * 3_600_000, 1.0, Unit::NONE),
            )])
            .collect();
        store.record(batch, NOW);

        let mut seen = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let input = match &token {
                Some(t) => serde_json::json!({"Namespace": "Big", "NextToken": t}),
                None => serde_json::json!({"Namespace": "Big"}),
            };
            let (page, next) = names(&list(&store, &node(input), NOW).unwrap());
            assert!(page.len() <= PAGE);
            seen.extend(page);
            match next {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        assert_eq!(seen.len(), 1_203);
        assert_eq!(seen.first().map(String::as_str), Some("Big/M0000"));

        let shard1 = serde_json::json!({"Dimensions": [{"Name": "Shard", "Value": "0001"}]});
        assert_eq!(
            names(&list(&store, &node(shard1), NOW).unwrap()).0.len(),
            401
        );
        let recent = serde_json::json!({"RecentlyActive": "PT3H", "MetricName": "X"});
        assert_eq!(names(&list(&store, &node(recent), NOW).unwrap()).0.len(), 0);
        let old = serde_json::json!({"MetricName": "X"});
        assert_eq!(
            names(&list(&store, &node(old), NOW).unwrap()).0,
            vec!["Old/X"]
        );

        let bad = serde_json::json!({"NextToken": "garbage"});
        let e = list(&store, &node(bad), NOW).unwrap_err();
        assert_eq!(e.code, "InvalidParameterValue");
        assert!(e.message.contains("NextToken"));
        let bad = serde_json::json!({"RecentlyActive": "PT1H"});
        assert!(
            list(&store, &node(bad), NOW)
                .unwrap_err()
                .message
                .contains("RecentlyActive")
        );
    }
}
