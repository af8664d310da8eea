//! The one metrics line each invocation prints, in CloudWatch Embedded
//! Metric Format (namespace `SCAR`, dimension `FunctionName`).
//!
//! CloudWatch turns the line into metrics on AWS; the local cloud and the
//! console parse the same line and join it with Lambda's `REPORT` line by
//! `RequestId`. See
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>.

use serde_json::{Value, json};

/// The figures of one invocation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvocationMetrics {
    /// The function's name (`AWS_LAMBDA_FUNCTION_NAME`, or `local` one-shot).
    pub function_name: String,
    /// The request id.
    pub request_id: String,
    /// The input object's key (empty without input).
    pub input_key: String,
    /// The image's digest.
    pub image_digest: String,
    /// Whether the image was already unpacked.
    pub cache_hit: bool,
    /// Resolve and download time.
    pub pull_ms: u64,
    /// Unpack time.
    pub unpack_ms: u64,
    /// Script wall time.
    pub script_ms: u64,
    /// Output upload (or copy) time.
    pub upload_ms: u64,
    /// The script's exit code (124 on timeout, -1 when it never ran).
    pub exit_code: i32,
    /// Input bytes staged in.
    pub input_bytes: u64,
    /// Output bytes staged out.
    pub output_bytes: u64,
    /// `succeeded`, `failed`, `timed_out` or `preheated`.
    pub status: String,
}

const METRICS: [(&str, &str); 8] = [
    ("CacheHit", "Count"),
    ("PullMs", "Milliseconds"),
    ("UnpackMs", "Milliseconds"),
    ("ScriptMs", "Milliseconds"),
    ("UploadMs", "Milliseconds"),
    ("ExitCode", "None"),
    ("InputBytes", "Bytes"),
    ("OutputBytes", "Bytes"),
];

impl InvocationMetrics {
    /// The EMF JSON object.
    pub fn to_json(&self, timestamp_ms: u64) -> Value {
        let defs: Vec<Value> = METRICS
            .iter()
            .map(|(name, unit)| json!({"Name": name, "Unit": unit}))
            .collect();
        json!({
            "_aws": {
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": "SCAR",
                    "Dimensions": [["FunctionName"]],
                    "Metrics": defs,
                }],
            },
            "FunctionName": self.function_name,
            "CacheHit": u8::from(self.cache_hit),
            "PullMs": self.pull_ms,
            "UnpackMs": self.unpack_ms,
            "ScriptMs": self.script_ms,
            "UploadMs": self.upload_ms,
            "ExitCode": self.exit_code,
            "InputBytes": self.input_bytes,
            "OutputBytes": self.output_bytes,
            "RequestId": self.request_id,
            "InputKey": self.input_key,
            "ImageDigest": self.image_digest,
            "Status": self.status,
        })
    }

    /// The line as printed (one line of compact JSON, no newline),
    /// stamped `now_ms`.
    pub fn line(&self, now_ms: u64) -> String {
        self.to_json(now_ms).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_shape() {
        let m = InvocationMetrics {
            function_name: "f".into(),
            request_id: "r".into(),
            cache_hit: true,
            exit_code: 3,
            ..Default::default()
        };
        let line = m.line(1_000);
        assert!(!line.contains('\n'));
        let v: Value = serde_json::from_str(&line).unwrap();
        let cw = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(cw["Namespace"], "SCAR");
        assert_eq!(cw["Dimensions"], json!([["FunctionName"]]));
        // Every declared metric has a top-level value, as EMF requires.
        for d in cw["Metrics"].as_array().unwrap() {
            assert!(v.get(d["Name"].as_str().unwrap()).is_some());
        }
        assert_eq!(v["CacheHit"], 1);
        assert_eq!(v["ExitCode"], 3);
        assert_eq!(v["FunctionName"], "f");
    }
}
