//! The headless commands `invoke`, `preheat`, `logs` and `metrics`, run as
//! the real binary against a local cloud started in the test.

use std::process::Command;

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Environment, FunctionCode, Runtime};
use base64::Engine;
use serde_json::Value;

use crate::util::*;

fn scar(cloud: &Cloud, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_scar-tui"))
        .args(["--endpoint", cloud.get().endpoint(), "--data-dir"])
        .arg(cloud.dir.path())
        .args(args)
        .output()
        .expect("scar-tui runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn function(cloud: &Cloud, name: &str, script: &str) {
    lambda(cloud.get(), None)
        .create_function()
        .function_name(name)
        .runtime(Runtime::Providedal2023)
        .role("arn:aws:iam::000000000000:role/scar")
        .timeout(60)
        .memory_size(256)
        .environment(
            Environment::builder()
                .variables("SCAR_IMAGE", busybox_image(cloud.dir.path()))
                .variables(
                    "SCAR_SCRIPT",
                    base64::engine::general_purpose::STANDARD.encode(script),
                )
                .build(),
        )
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(zip_of(&supervisor_bootstrap(), None)))
                .build(),
        )
        .send()
        .await
        .expect("create_function");
}

#[tokio::test(flavor = "multi_thread")]
async fn preheat_invoke_logs_and_metrics() {
    let cloud = Cloud::start().await;
    function(
        &cloud,
        "cli",
        "echo line one for $REQUEST_ID\necho line two\n",
    )
    .await;

    let (code, out, err) = scar(&cloud, &["--json", "preheat", "cli", "--environments", "2"]);
    assert_eq!(code, 0, "{out}{err}");
    let report: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(report["warm"], 2, "{report}");

    // Two invocations; the second one's lines must come back alone.
    let (code, out, err) = scar(&cloud, &["--json", "invoke", "cli"]);
    assert_eq!(code, 0, "{out}{err}");
    let first: Value = serde_json::from_str(&out).unwrap();
    let (code, out, _) = scar(&cloud, &["--json", "invoke", "cli", "--payload", "{}"]);
    assert_eq!(code, 0);
    let second: Value = serde_json::from_str(&out).unwrap();
    let id = second["request_id"]
        .as_str()
        .expect("request id")
        .to_owned();
    assert!(!id.is_empty() && id != first["request_id"].as_str().unwrap());
    assert!(
        second["log_tail"]
            .as_str()
            .unwrap()
            .contains("line one for")
    );

    let (code, out, err) = scar(&cloud, &["logs", "cli", "--request-id", &id]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines
            .first()
            .unwrap()
            .starts_with(&format!("START RequestId: {id}")),
        "{out}"
    );
    assert!(
        lines
            .last()
            .unwrap()
            .starts_with(&format!("REPORT RequestId: {id}")),
        "{out}"
    );
    assert!(
        lines.contains(&format!("line one for {id}").as_str()),
        "{out}"
    );
    assert!(
        !out.contains(first["request_id"].as_str().unwrap()),
        "another request's lines leaked:\n{out}"
    );
    assert_eq!(lines.iter().filter(|l| l.starts_with("START")).count(), 1);

    let (code, out, err) = scar(&cloud, &["--json", "metrics", "cli"]);
    assert_eq!(code, 0, "{err}");
    let m: Value = serde_json::from_str(&out).unwrap();
    let rows = m["invocations"].as_array().unwrap();
    assert_eq!(rows.len(), 4, "2 pings + 2 invocations: {m}");
    let runs: Vec<&Value> = rows.iter().filter(|r| r["status"] == "succeeded").collect();
    assert_eq!(runs.len(), 2);
    assert!(
        runs.iter().all(|r| r["cache_hit"] == true),
        "after preheat every run hits: {m}"
    );
    assert_eq!(m["totals"]["cache_hit_ratio"], 1.0);
    assert_eq!(m["totals"]["errors"], 0);

    // The human table has the same rows.
    let (code, out, _) = scar(&cloud, &["metrics", "cli"]);
    assert_eq!(code, 0);
    assert!(out.contains("4 invocations, 0 errors"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_gives_one_clear_error() {
    let cloud = Cloud::start().await;
    let (code, _, err) = scar(&cloud, &["invoke", "missing-fn"]);
    assert_ne!(code, 0);
    assert!(
        err.contains("ResourceNotFoundException") && err.contains("missing-fn"),
        "{err}"
    );
    let (code, _, err) = scar(&cloud, &["invoke", "x", "--payload", "{not json"]);
    assert_ne!(code, 0);
    assert!(err.contains("--payload is not valid JSON"), "{err}");
    let (code, _, err) = scar(&cloud, &["logs", "x", "--since", "ten minutes"]);
    assert_ne!(code, 0);
    assert!(err.contains("not a duration"), "{err}");
    let (code, _, err) = scar(&cloud, &["logs", "nope"]);
    assert_ne!(code, 0);
    assert!(err.contains("ResourceNotFoundException"), "{err}");
}
