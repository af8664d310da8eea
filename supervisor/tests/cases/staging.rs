//! S3 staging through the real S3 protocol: the supervisor in Lambda mode
//! (under a [`FakeRuntimeApi`]) talks SigV4 to an in-process S3 server
//! ([`S3Server`]: s3s + s3s-fs). An S3 notification with an encoded
//! non-ASCII key is downloaded, processed and its outputs routed by
//! `SCAR_OUTPUTS`; a script killed at the deadline still has its partial
//! output uploaded; a wrong secret key and a missing object are
//! `StagingError` answers naming the object, without a panic.

use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

use crate::support::*;

/// Where outputs go in these tests: `.txt` files to `out/results/`, everything to `all/`.
const OUTPUTS: &str =
    r#"[{"bucket":"out","prefix":"results/","suffixes":[".txt"]},{"bucket":"all"}]"#;

/// A supervisor in Lambda mode on a busybox OCI layout, staging through `s3`.
/// Fields drop in order: the child is killed before the API and the folders go.
struct Function {
    child: ChildGuard,
    api: FakeRuntimeApi,
    sandbox: Sandbox,
}

impl Function {
    /// Start with `script`, the S3 endpoint of `s3`, the secret key `secret`
    /// and extra variables `extra`.
    fn start(s3: &S3Server, script: &str, secret: &str, extra: &[(&str, &str)]) -> Function {
        let sandbox = Sandbox::new();
        let layout = sandbox.path().join("layout");
        ImageSpec::busybox()
            .build()
            .write_oci_layout(&layout, "latest");
        let api = FakeRuntimeApi::start();
        let mut cmd = std::process::Command::new(supervisor_bin());
        scrub_env(&mut cmd);
        for k in [
            "AWS_ENDPOINT_URL",
            "AWS_SESSION_TOKEN",
            "AWS_DEFAULT_REGION",
            "AWS_PROFILE",
        ] {
            cmd.env_remove(k);
        }
        cmd.env("AWS_LAMBDA_RUNTIME_API", api.addr())
            .env("AWS_LAMBDA_FUNCTION_NAME", "stager")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/stager")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "2024/01/01/[$LATEST]test")
            .env("AWS_REGION", S3_REGION)
            .env("AWS_ACCESS_KEY_ID", S3_ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .env("AWS_ENDPOINT_URL_S3", s3.endpoint())
            .env("SCAR_IMAGE", format!("oci:{}", layout.display()))
            .env(
                "SCAR_SCRIPT",
                base64::engine::general_purpose::STANDARD.encode(script),
            )
            .env("SCAR_OUTPUTS", OUTPUTS)
            .env("TMPDIR", sandbox.tmpdir());
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let child = ChildGuard::spawn(cmd);
        Function {
            child,
            api,
            sandbox,
        }
    }

    /// Send `event` with a deadline `budget` ahead and wait (bounded) for
    /// its answer, failing early if the supervisor exits.
    fn invoke_with_budget(&mut self, event: &str, budget: Duration) -> (String, Answer) {
        let id = self.api.push_event_with_deadline(event, budget);
        let deadline = Instant::now() + budget + Duration::from_secs(20);
        loop {
            if let Some(answer) = self.api.wait_answer(&id, Duration::from_millis(200)) {
                return (id, answer);
            }
            if let Some(code) = self.child.exited() {
                panic!(
                    "supervisor exited with {code} before answering {event}\nanswers: {:?}\n{}",
                    self.api.answers(),
                    self.child.describe()
                );
            }
            assert!(
                Instant::now() < deadline,
                "no answer to {event} in time\n{}",
                self.child.describe()
            );
        }
    }

    fn invoke(&mut self, event: &str) -> (String, Answer) {
        self.invoke_with_budget(event, Duration::from_secs(60))
    }

    /// The metrics line printed for `request_id` (waits briefly for it).
    fn metrics(&self, request_id: &str) -> Value {
        poll_until(Duration::from_secs(10), || {
            metrics_lines(&self.child.stdout())
                .into_iter()
                .find(|m| m["RequestId"] == request_id)
        })
        .unwrap_or_else(|| {
            panic!(
                "no metrics line for {request_id}\n{}",
                self.child.describe()
            )
        })
    }

    /// Per-invocation folders left under `TMPDIR/scar-run`.
    fn leftover_workspaces(&self) -> Vec<String> {
        list_names(&self.sandbox.tmpdir().join("scar-run"))
    }
}

/// A key as S3 writes it into a notification: form-urlencoded, `+` for a
/// space, `/` kept, other bytes outside the unreserved set `%XX`-escaped.
fn s3_event_key(key: &str) -> String {
    let mut out = String::new();
    for b in key.bytes() {
        match b {
            b' ' => out.push('+'),
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A one-record `ObjectCreated:Put` notification, shaped as S3 sends it.
fn object_created(bucket: &str, key: &str, size: usize) -> String {
    json!({"Records": [{
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": S3_REGION,
        "eventTime": "2026-11-26T10:00:00.000Z",
        "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {
            "x-amz-request-id": "C3D13FE58DE4C810",
            "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"
        },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "scar-input",
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                "arn": format!("arn:aws:s3:::{bucket}")
            },
            "object": {
                "key": s3_event_key(key),
                "size": size,
                "eTag": "d41d8cd98f00b204e9800998ecf8427e",
                "sequencer": "0055AED6DCD90281E5"
            }
        }
    }]})
    .to_string()
}

/// The error type of an `/error` answer: the body's `errorType` (what
/// Lambda hands the caller). The `lambda-runtime-function-error-type` header
/// is no use here: lambda_runtime always sends `unhandled` in it.
fn error_type(answer: &Answer) -> String {
    answer.json()["errorType"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| answer.error_type.clone())
        .unwrap_or_default()
}

/// The answer is an `/error` of type `kind`; returns its `errorMessage`.
fn expect_error(answer: &Answer, kind: &str, f: &Function) -> String {
    assert_eq!(
        answer.kind,
        AnswerKind::Error,
        "want an /error answer of type {kind}, got {:?}: {}\n{}",
        answer.kind,
        answer.text(),
        f.child.describe()
    );
    assert_eq!(
        error_type(answer),
        kind,
        "{}\n{}",
        answer.text(),
        f.child.describe()
    );
    let message = answer.json()["errorMessage"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!message.trim().is_empty(), "{}", answer.text());
    message
}

fn assert_no_panic(f: &Function) {
    assert!(
        !f.child.stderr().contains("panicked"),
        "{}",
        f.child.describe()
    );
}

const INPUT_KEY: &str = "in dir/naïve file.txt";

#[test]
fn s3_notification_downloads_decoded_key_and_routes_outputs() {
    assert_eq!(s3_event_key(INPUT_KEY), "in+dir/na%C3%AFve+file.txt");
    let s3 = S3Server::start();
    // Real S3 bucket names have at least 3 characters: "in" is refused.
    for b in ["input", "out", "all"] {
        s3.create_bucket(b);
    }
    let content = "hello staging, line one\nand two\n";
    s3.put("input", INPUT_KEY, content);

    let script = r#"echo "seen key=[$STORAGE_OBJECT_KEY] file=[$(basename "$INPUT_FILE_PATH")]"
tr a-z A-Z < "$INPUT_FILE_PATH" > "$TMP_OUTPUT_DIR/$(basename "$INPUT_FILE_PATH")"
mkdir -p "$TMP_OUTPUT_DIR/sub"
echo x > "$TMP_OUTPUT_DIR/sub/other.log"
"#;
    let mut f = Function::start(&s3, script, S3_SECRET_KEY, &[]);
    let (id, answer) = f.invoke(&object_created("input", INPUT_KEY, content.len()));
    assert_eq!(
        answer.kind,
        AnswerKind::Response,
        "{}\n{}",
        answer.text(),
        f.child.describe()
    );
    assert!(
        f.child
            .stdout()
            .contains("seen key=[in dir/naïve file.txt] file=[naïve file.txt]"),
        "the script must see the decoded key and file name\n{}",
        f.child.describe()
    );

    // Outputs routed by SCAR_OUTPUTS, read back through the S3 API.
    let upper = content.to_uppercase();
    assert_eq!(
        s3.get("out", "results/naïve file.txt").as_deref(),
        Some(upper.as_bytes()),
        "out/results/naïve file.txt\n{}",
        f.child.describe()
    );
    assert_eq!(
        s3.keys("out"),
        ["results/naïve file.txt"],
        ".log is not a .txt"
    );
    assert_eq!(s3.keys("all"), ["naïve file.txt", "sub/other.log"]);
    assert_eq!(
        s3.get("all", "naïve file.txt").as_deref(),
        Some(upper.as_bytes())
    );
    assert_eq!(s3.get("all", "sub/other.log").as_deref(), Some(&b"x\n"[..]));
    assert_eq!(s3.keys("input"), [INPUT_KEY], "the input is left alone");

    // The answer lists what was uploaded.
    let body = answer.json();
    assert_eq!(body["status"], "succeeded", "{body:#}");
    assert_eq!(body["exit_code"], 0, "{body:#}");
    assert_eq!(body["request_id"], id.as_str(), "{body:#}");
    assert_eq!(
        body["input"],
        json!({"bucket": "input", "key": INPUT_KEY}),
        "{body:#}"
    );
    let mut listed: Vec<(String, String, u64)> = body["outputs"]
        .as_array()
        .unwrap_or_else(|| panic!("outputs is not a list: {body:#}"))
        .iter()
        .map(|o| {
            (
                o["bucket"].as_str().unwrap_or_default().to_owned(),
                o["key"].as_str().unwrap_or_default().to_owned(),
                o["size"].as_u64().unwrap_or(u64::MAX),
            )
        })
        .collect();
    listed.sort();
    let n = content.len() as u64;
    assert_eq!(
        listed,
        [
            ("all".into(), "naïve file.txt".into(), n),
            ("all".into(), "sub/other.log".into(), 2),
            ("out".into(), "results/naïve file.txt".into(), n),
        ],
        "{body:#}"
    );

    let m = f.metrics(&id);
    assert!(emf_problems(&m).is_empty(), "{:?}\n{m:#}", emf_problems(&m));
    assert_eq!(m["InputKey"], INPUT_KEY, "{m:#}");
    assert_eq!(m["InputBytes"], content.len(), "{m:#}");
    assert!(m["OutputBytes"].as_u64().is_some_and(|b| b > 0), "{m:#}");
    assert!(m["UploadMs"].is_u64(), "{m:#}");
    assert_eq!(m["ExitCode"], 0, "{m:#}");
    assert_eq!(f.leftover_workspaces(), Vec::<String>::new());
    assert_no_panic(&f);
}

#[test]
fn script_killed_at_deadline_still_uploads_partial_output() {
    let s3 = S3Server::start();
    for b in ["input", "out", "all"] {
        s3.create_bucket(b);
    }
    s3.put("input", "slow/job.txt", "work\n");
    let script = r#"cp "$INPUT_FILE_PATH" "$TMP_OUTPUT_DIR/partial.txt"
echo "partial written"
sleep 30
echo never > "$TMP_OUTPUT_DIR/never.txt"
"#;
    let mut f = Function::start(
        &s3,
        script,
        S3_SECRET_KEY,
        &[("SCAR_TIMEOUT_RESERVE_S", "1")],
    );
    let budget = Duration::from_secs(5);
    let started = Instant::now();
    let (id, answer) = f.invoke_with_budget(&object_created("input", "slow/job.txt", 5), budget);
    let took = started.elapsed();
    let message = expect_error(&answer, "ScriptTimedOut", &f);
    assert!(
        message.contains("s3://input/slow/job.txt"),
        "the message names the input: {message}"
    );
    // Killed at deadline minus the 1 s reserve, answered before Lambda's deadline.
    assert!(
        took >= Duration::from_millis(3500) && took < budget,
        "answered after {took:?} with a {budget:?} budget and a 1 s reserve\n{}",
        f.child.describe()
    );
    assert!(f.child.stdout().contains("partial written"));
    assert_eq!(
        s3.get("out", "results/partial.txt").as_deref(),
        Some(&b"work\n"[..]),
        "the partial output reaches the bucket\n{}",
        f.child.describe()
    );
    assert_eq!(s3.keys("out"), ["results/partial.txt"]);
    assert_eq!(s3.keys("all"), ["partial.txt"]);
    let m = f.metrics(&id);
    assert_eq!(m["ExitCode"], 124, "{m:#}");
    assert!(m["UploadMs"].is_u64(), "{m:#}");
    assert_no_panic(&f);
}

#[test]
fn wrong_secret_and_missing_object_are_staging_errors() {
    let s3 = S3Server::start();
    for b in ["input", "out", "all"] {
        s3.create_bucket(b);
    }
    let key = "inbox/report 1.csv";
    s3.put("input", key, "a,b\n");
    let script = "echo SCRIPT-RAN\necho r > \"$TMP_OUTPUT_DIR/r.txt\"\n";

    // A secret the server does not accept: SigV4 really is checked.
    let mut bad = Function::start(&s3, script, "not-the-secret", &[]);
    for _ in 0..2 {
        let (_, answer) = bad.invoke(&object_created("input", key, 4));
        let message = expect_error(&answer, "StagingError", &bad);
        assert!(
            message.contains(&format!("s3://input/{key}")),
            "the message names bucket and key: {message}"
        );
        assert!(
            message.contains("SignatureDoesNotMatch"),
            "the message gives S3's reason: {message}"
        );
    }
    assert!(
        !bad.child.stdout().contains("SCRIPT-RAN"),
        "no script without its input\n{}",
        bad.child.describe()
    );
    assert_eq!(bad.leftover_workspaces(), Vec::<String>::new());
    assert_no_panic(&bad);
    drop(bad);

    // The right secret, but an object that is not there.
    let mut good = Function::start(&s3, script, S3_SECRET_KEY, &[]);
    let missing = "inbox/gone é.csv";
    let (_, answer) = good.invoke(&object_created("input", missing, 4));
    let message = expect_error(&answer, "StagingError", &good);
    assert!(
        message.contains(&format!("s3://input/{missing}")),
        "the message names bucket and key: {message}"
    );
    assert!(
        message.contains("NoSuchKey"),
        "the message gives S3's reason: {message}"
    );
    assert!(!good.child.stdout().contains("SCRIPT-RAN"));
    assert_eq!(good.leftover_workspaces(), Vec::<String>::new());

    // Still serving: the next, valid event runs.
    let (_, answer) = good.invoke(&object_created("input", key, 4));
    assert_eq!(
        answer.kind,
        AnswerKind::Response,
        "{}\n{}",
        answer.text(),
        good.child.describe()
    );
    assert_eq!(s3.keys("all"), ["r.txt"]);
    assert_no_panic(&good);
}
