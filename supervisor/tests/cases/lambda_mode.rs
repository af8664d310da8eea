//! Lambda custom-runtime mode: the supervisor started with
//! `AWS_LAMBDA_RUNTIME_API` pointing at a [`FakeRuntimeApi`] answers a preheat
//! ping, runs its script for an event without input (printing the metrics
//! line), answers malformed events and a failing script with error posts, and
//! keeps serving after them.

use std::time::Duration;

use base64::Engine;

use crate::support::*;

/// A supervisor in Lambda mode on a busybox OCI layout, with `script`.
/// Fields drop in order: the child is killed before the API and the folders go.
struct Function {
    child: ChildGuard,
    api: FakeRuntimeApi,
    sandbox: Sandbox,
    image: BuiltImage,
}

impl Function {
    fn start(script: &str) -> Function {
        let sandbox = Sandbox::new();
        let image = ImageSpec::busybox().build();
        let layout = sandbox.path().join("layout");
        image.write_oci_layout(&layout, "latest");
        let api = FakeRuntimeApi::start();
        let mut cmd = std::process::Command::new(supervisor_bin());
        scrub_env(&mut cmd)
            .env("AWS_LAMBDA_RUNTIME_API", api.addr())
            .env("AWS_LAMBDA_FUNCTION_NAME", "f")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/f")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "2024/01/01/[$LATEST]test")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            // Nothing in these tests should reach a cloud; if it tries, it fails fast.
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .env("SCAR_IMAGE", format!("oci:{}", layout.display()))
            .env(
                "SCAR_SCRIPT",
                base64::engine::general_purpose::STANDARD.encode(script),
            )
            .env("TMPDIR", sandbox.tmpdir());
        let child = ChildGuard::spawn(cmd);
        Function {
            child,
            api,
            sandbox,
            image,
        }
    }

    /// Send `event` and wait (bounded) for its answer, failing early if the
    /// supervisor exits.
    fn invoke(&mut self, event: &str) -> (String, Answer) {
        let id = self.api.push_event(event);
        let deadline = std::time::Instant::now() + Duration::from_secs(90);
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
            if std::time::Instant::now() > deadline {
                panic!(
                    "no answer to {event} within 90 s\n{}",
                    self.child.describe()
                );
            }
        }
    }
}

/// An error answer: posted to `/error` with a non-empty error type (header or
/// body `errorType`) and a non-empty `errorMessage`.
fn assert_error_answer(answer: &Answer, event: &str, f: &Function) {
    assert_eq!(
        answer.kind,
        AnswerKind::Error,
        "{event} must be answered on /error, got {:?}: {}\n{}",
        answer.kind,
        answer.text(),
        f.child.describe()
    );
    let body = answer.json();
    let error_type = body["errorType"].as_str().unwrap_or_default();
    assert!(
        !error_type.is_empty() || answer.error_type.as_deref().is_some_and(|t| !t.is_empty()),
        "{event}: error type missing: {}",
        answer.text()
    );
    assert!(
        body["errorMessage"]
            .as_str()
            .is_some_and(|m| !m.trim().is_empty()),
        "{event}: errorMessage missing: {}",
        answer.text()
    );
}

const SCRIPT: &str =
    "echo \"hello from lambda $REQUEST_ID\"\necho out > \"$TMP_OUTPUT_DIR/out.txt\"\n";

#[test]
fn lambda_mode_answers_preheat_events_and_malformed_events() {
    let mut f = Function::start(SCRIPT);

    let (_, preheat) = f.invoke(r#"{"scar":"preheat"}"#);
    assert_eq!(
        preheat.kind,
        AnswerKind::Response,
        "{}\n{}",
        preheat.text(),
        f.child.describe()
    );
    assert_eq!(preheat.json()["status"], "preheated", "{}", preheat.text());
    assert!(
        !f.child.stdout().contains("hello from lambda"),
        "preheat ran the script"
    );
    let rootfs = rootfs_dir(&f.sandbox.tmpdir().join("scar"), &f.image.manifest_digest);
    assert!(
        rootfs.join("bin/busybox").is_file(),
        "preheat must warm $TMPDIR/scar: {}",
        rootfs.display()
    );

    let (id, run) = f.invoke("{}");
    assert_eq!(
        run.kind,
        AnswerKind::Response,
        "{}\n{}",
        run.text(),
        f.child.describe()
    );
    assert_eq!(run.json()["exit_code"], 0, "{}", run.text());
    let found = poll_until(Duration::from_secs(10), || {
        metrics_lines(&f.child.stdout())
            .into_iter()
            .find(|m| m["RequestId"] == id.as_str())
    });
    let m = found.unwrap_or_else(|| panic!("no metrics line for {id}\n{}", f.child.describe()));
    assert!(emf_problems(&m).is_empty(), "{:?}\n{m:#}", emf_problems(&m));
    assert_eq!(m["FunctionName"], "f", "{m:#}");
    assert_eq!(m["ExitCode"], 0, "{m:#}");
    assert_eq!(m["CacheHit"], 1, "the preheat warmed the cache\n{m:#}");
    assert!(
        f.child
            .stdout()
            .contains(&format!("hello from lambda {id}")),
        "script output (with REQUEST_ID = the Lambda request id) on stdout\n{}",
        f.child.describe()
    );

    for event in [
        r#"[1,2]"#,
        r#"{"Records": [{"s3": {}}]}"#,
        r#"{"input": {"bucket": 5}}"#,
    ] {
        let (_, answer) = f.invoke(event);
        assert_error_answer(&answer, event, &f);
    }

    // Still serving after the bad events.
    let (_, again) = f.invoke("{}");
    assert_eq!(
        again.kind,
        AnswerKind::Response,
        "{}\n{}",
        again.text(),
        f.child.describe()
    );
    assert_eq!(again.json()["exit_code"], 0, "{}", again.text());
    assert!(
        !f.child.stderr().contains("panicked"),
        "{}",
        f.child.describe()
    );
}

#[test]
fn lambda_mode_failing_script_posts_an_error() {
    let mut f = Function::start("echo failing\nexit 3\n");
    let (id, answer) = f.invoke("{}");
    assert_error_answer(&answer, "{} with exit 3", &f);
    assert!(
        answer.text().contains('3'),
        "the error should give the exit code: {}",
        answer.text()
    );
    let found = poll_until(Duration::from_secs(10), || {
        metrics_lines(&f.child.stdout())
            .into_iter()
            .find(|m| m["RequestId"] == id.as_str())
    });
    let m = found.unwrap_or_else(|| panic!("no metrics line for {id}\n{}", f.child.describe()));
    assert_eq!(m["ExitCode"], 3, "{m:#}");
}
