//! CloudWatch Embedded Metric Format: the JSON log lines from which
//! CloudWatch Logs extracts metrics, as the supervisor prints one per
//! invocation (namespace `SCAR`, dimension `FunctionName`).
//!
//! Specification:
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>.
//! `_aws.CloudWatchMetrics` lists directives; each names a namespace,
//! dimension sets (arrays of top-level keys whose values are strings) and
//! metrics whose values sit at the top level as a number or an array of
//! numbers. Every dimension set yields its own metric, as on AWS. Invalid
//! directives are skipped rather than failing the whole line, so one bad
//! metric never hides the others.

use serde_json::Value;

use super::Datum;

/// EMF's limits: dimensions per set and values per metric.
const MAX_DIMENSIONS: usize = 30;
const MAX_VALUES: usize = 100;

/// The data points of an EMF line, or `None` when the line is not EMF
/// (not a JSON object with `_aws.CloudWatchMetrics`). `fallback_ms` stands
/// in for a missing `_aws.Timestamp`.
pub fn parse(line: &str, fallback_ms: i64) -> Option<Vec<Datum>> {
    let line = line.trim();
    // Cheap test first: this runs on every log line a function prints.
    if !line.starts_with('{') || !line.contains("\"_aws\"") {
        return None;
    }
    let root: Value = serde_json::from_str(line).ok()?;
    let obj = root.as_object()?;
    let aws = obj.get("_aws")?.as_object()?;
    let directives = aws.get("CloudWatchMetrics")?.as_array()?;
    let timestamp = aws
        .get("Timestamp")
        .and_then(|t| t.as_i64().or_else(|| t.as_f64().map(|f| f as i64)))
        .unwrap_or(fallback_ms);
    let mut out = Vec::new();
    for d in directives {
        let Some(namespace) = d
            .get("Namespace")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
        else {
            continue;
        };
        let sets = dimension_sets(obj, d.get("Dimensions"));
        let Some(metrics) = d.get("Metrics").and_then(Value::as_array) else {
            continue;
        };
        for m in metrics {
            let Some(name) = m
                .get("Name")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
            else {
                continue;
            };
            let unit = m.get("Unit").and_then(Value::as_str).unwrap_or("None");
            let values: Vec<f64> = match obj.get(name) {
                Some(Value::Number(n)) => n.as_f64().into_iter().collect(),
                Some(Value::Array(a)) => a
                    .iter()
                    .take(MAX_VALUES)
                    .filter_map(Value::as_f64)
                    .collect(),
                _ => continue,
            };
            for dims in &sets {
                for &value in values.iter().filter(|v| v.is_finite()) {
                    out.push(Datum {
                        namespace: namespace.to_owned(),
                        name: name.to_owned(),
                        dimensions: dims.clone(),
                        timestamp,
                        value,
                        unit: unit.to_owned(),
                    });
                }
            }
        }
    }
    Some(out)
}

/// The dimension sets of a directive, each resolved against the top-level
/// values; a set naming a missing or non-string value is dropped. No
/// `Dimensions` (or an empty array) means one set without dimensions.
fn dimension_sets(
    obj: &serde_json::Map<String, Value>,
    dims: Option<&Value>,
) -> Vec<Vec<(String, String)>> {
    let sets = match dims.and_then(Value::as_array) {
        Some(a) if !a.is_empty() => a,
        _ => return vec![Vec::new()],
    };
    sets.iter()
        .filter_map(|set| {
            let keys = set.as_array()?;
            if keys.len() > MAX_DIMENSIONS {
                return None;
            }
            keys.iter()
                .map(|k| {
                    let k = k.as_str()?;
                    let v = obj.get(k)?.as_str()?;
                    Some((k.to_owned(), v.to_owned()))
                })
                .collect::<Option<Vec<_>>>()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Exactly what the supervisor prints (supervisor/src/metrics.rs, `line`).
    const SUPERVISOR_LINE: &str = r#"{"_aws":{"CloudWatchMetrics":[{"Dimensions":[["FunctionName"]],"Metrics":[{"Name":"CacheHit","Unit":"Count"},{"Name":"PullMs","Unit":"Milliseconds"},{"Name":"UnpackMs","Unit":"Milliseconds"},{"Name":"ScriptMs","Unit":"Milliseconds"},{"Name":"UploadMs","Unit":"Milliseconds"},{"Name":"ExitCode","Unit":"None"},{"Name":"InputBytes","Unit":"Bytes"},{"Name":"OutputBytes","Unit":"Bytes"}],"Namespace":"SCAR"}],"Timestamp":1795000800123},"CacheHit":1,"ExitCode":0,"FunctionName":"thumbs","ImageDigest":"sha256:ab","InputBytes":2048,"InputKey":"in/a.jpg","OutputBytes":512,"PullMs":0,"RequestId":"r-1","ScriptMs":37,"Status":"succeeded","UnpackMs":0,"UploadMs":4}"#;

    #[test]
    fn supervisor_line() {
        let d = parse(SUPERVISOR_LINE, 0).unwrap();
        assert_eq!(d.len(), 8);
        assert!(d.iter().all(|d| d.namespace == "SCAR"
            && d.timestamp == 1_795_000_800_123
            && d.dimensions == vec![("FunctionName".to_owned(), "thumbs".to_owned())]));
        let get = |n: &str| d.iter().find(|d| d.name == n).unwrap();
        assert_eq!(get("CacheHit").value, 1.0);
        assert_eq!(get("CacheHit").unit, "Count");
        assert_eq!(get("ScriptMs").value, 37.0);
        assert_eq!(get("ScriptMs").unit, "Milliseconds");
        assert_eq!(get("InputBytes").value, 2048.0);
        assert_eq!(get("ExitCode").unit, "None");
    }

    #[test]
    fn supervisor_crate_output_parses() {
        // The same shape built the way supervisor/src/metrics.rs builds it,
        // with negative exit codes and no timestamp fallback needed.
        let line = serde_json::json!({
            "_aws": {"Timestamp": 5, "CloudWatchMetrics": [{"Namespace": "SCAR", "Dimensions": [["FunctionName"]],
                "Metrics": [{"Name": "ExitCode", "Unit": "None"}]}]},
            "FunctionName": "f", "ExitCode": -1,
        })
        .to_string();
        let d = parse(&line, 99).unwrap();
        assert_eq!((d[0].value, d[0].timestamp), (-1.0, 5));
    }

    #[test]
    fn arrays_sets_and_fallbacks() {
        let line = r#"{"_aws":{"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["A"],["A","B"],["Missing"]],"Metrics":[{"Name":"Lat"},{"Name":"Gone"}]}]},"A":"a","B":"b","Lat":[1,2.5,"x"]}"#;
        let d = parse(line, 77).unwrap();
        // Two valid sets x two numeric values; "Missing" and "Gone" skipped.
        assert_eq!(d.len(), 4);
        assert!(
            d.iter()
                .all(|d| d.timestamp == 77 && d.unit == "None" && d.name == "Lat")
        );
        assert_eq!(d.iter().filter(|d| d.dimensions.len() == 2).count(), 2);
        // No dimensions at all.
        let line = r#"{"_aws":{"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[],"Metrics":[{"Name":"X"}]}]},"X":3}"#;
        assert_eq!(parse(line, 0).unwrap()[0].dimensions, vec![]);
    }

    #[test]
    fn not_emf() {
        for line in [
            "START RequestId: 1 Version: $LATEST",
            "{\"a\":1}",
            "{\"_aws\": 3}",
            "{\"_aws\":{\"Timestamp\":1}}",
            "{\"_aws\": {broken",
        ] {
            assert!(parse(line, 0).is_none(), "{line}");
        }
    }
}
