//! `init`, `ls`, `update` and `rm` through the real binary on the local
//! backend (each command starts the local cloud in-process on the test's
//! data folder, so state carries from one command to the next), checked
//! afterwards with the AWS SDK against a local cloud started on the same
//! folder; and one object dropped in an input bucket, end to end.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use scar_local::LocalCloud;
use serde_json::Value;

use crate::util::*;

const UPPER: &str = "name=$(basename \"$INPUT_FILE_PATH\")\ntr a-z A-Z < \"$INPUT_FILE_PATH\" > \"$TMP_OUTPUT_DIR/$name.out\"\n";

/// `scar-tui --backend local --data-dir DATA ARGS...`, with the
/// workspace's supervisor.
fn scar(data: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_scar-tui"));
    cmd.arg("--backend")
        .arg("local")
        .arg("--data-dir")
        .arg(data)
        .args(args);
    cmd.env("SCAR_SUPERVISOR", supervisor_bin())
        .env_remove("SCAR_BACKEND");
    cmd.output().expect("scar-tui runs")
}

/// Runs and insists on success; returns stdout.
fn ok(data: &Path, args: &[&str]) -> String {
    let out = scar(data, args);
    assert!(
        out.status.success(),
        "scar-tui {args:?} failed:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json(data: &Path, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    serde_json::from_str(&ok(data, &all)).expect("--json prints JSON")
}

/// A definition file in `dir`.
fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p
}

/// The local cloud on `data`, for checks after the commands ran.
async fn inspect(data: &Path) -> LocalCloud {
    LocalCloud::start(test_config(data))
        .await
        .expect("local cloud starts")
}

/// The function names `bucket` notifies.
async fn notified(cloud: &LocalCloud, bucket: &str) -> Vec<String> {
    let conf = s3(cloud, None)
        .get_bucket_notification_configuration()
        .bucket(bucket)
        .send()
        .await
        .expect("GetBucketNotificationConfiguration");
    let mut names: Vec<String> = conf
        .lambda_function_configurations()
        .iter()
        .map(|c| {
            c.lambda_function_arn()
                .rsplit(':')
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    names.sort();
    names
}

async fn bucket_exists(cloud: &LocalCloud, bucket: &str) -> bool {
    s3(cloud, None)
        .head_bucket()
        .bucket(bucket)
        .send()
        .await
        .is_ok()
}

fn row<'a>(ls: &'a Value, name: &str) -> Option<&'a Value> {
    ls.as_array()?.iter().find(|r| r["name"] == name)
}

#[tokio::test(flavor = "multi_thread")]
async fn init_from_toml_then_ls_update_and_rm() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::write(dir.path().join("upper.sh"), UPPER).unwrap();
    let def = write(
        dir.path(),
        "upper.toml",
        r#"
name = "upper"
image = "grycap/ffmpeg"
script = "upper.sh"
memory = 512
timeout = 60
runtime = "auto"
log_retention_days = 7
[environment]
GREETING = "hi"
[input]
bucket = "toml-in"
prefix = "in"
suffixes = [".txt"]
[[outputs]]
bucket = "toml-out"
prefix = "out/"
"#,
    );
    let out = ok(&data, &["init", "-f", def.to_str().unwrap()]);
    assert!(out.contains("created upper"), "{out}");
    assert!(out.contains("s3://toml-in/in/"), "{out}");

    let ls = ok(&data, &["ls"]);
    assert!(ls.lines().next().unwrap().starts_with("NAME"), "{ls}");
    let line = ls
        .lines()
        .find(|l| l.starts_with("upper"))
        .expect("ls lists upper");
    assert!(
        line.contains("grycap/ffmpeg") && line.contains("512") && line.contains("auto"),
        "{ls}"
    );
    let rows = json(&data, &["ls"]);
    let r = row(&rows, "upper").expect("upper in ls --json");
    assert_eq!(r["memory"], 512);
    assert_eq!(r["timeout"], 60);
    assert_eq!(r["runtime"], "auto");
    assert_eq!(r["image"], "grycap/ffmpeg");
    assert_eq!(r["input"], "s3://toml-in/in/ (.txt)");

    // init again with the same file: an update that uploads nothing.
    let again = json(&data, &["init", "-f", def.to_str().unwrap()]);
    assert_eq!(again[0]["action"], "updated");
    assert_eq!(again[0]["code"], "unchanged");

    let updated = json(
        &data,
        &["update", "upper", "--memory", "1024", "--env", "EXTRA=1"],
    );
    assert_eq!(updated["memory"], 1024);
    assert_eq!(updated["code"], "kept");
    let r = json(&data, &["ls"]);
    assert_eq!(row(&r, "upper").unwrap()["memory"], 1024);
    let bad = scar(&data, &["update", "upper", "--memory", "64"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--memory: memory 64 is out of range"));

    {
        let cloud = inspect(&data).await;
        assert_eq!(notified(&cloud, "toml-in").await, ["upper"]);
        let cfg = lambda(&cloud, None)
            .get_function_configuration()
            .function_name("upper")
            .send()
            .await
            .unwrap();
        let vars = cfg.environment().unwrap().variables().unwrap();
        assert_eq!(vars["GREETING"], "hi");
        assert_eq!(vars["EXTRA"], "1");
        assert_eq!(vars["SCAR_IMAGE"], "grycap/ffmpeg");
        assert_eq!(cfg.memory_size(), Some(1024));
        let groups = logs(&cloud, None)
            .describe_log_groups()
            .log_group_name_prefix("/aws/lambda/upper")
            .send()
            .await
            .unwrap();
        assert_eq!(groups.log_groups()[0].retention_in_days(), Some(7));
        cloud.shutdown().await;
    }

    let rm = ok(&data, &["rm", "upper"]);
    assert!(rm.contains("removed upper"), "{rm}");
    assert!(rm.contains("bucket toml-in kept"), "{rm}");
    let rows = json(&data, &["ls"]);
    assert!(row(&rows, "upper").is_none(), "{rows}");
    let missing = scar(&data, &["rm", "upper"]);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("function upper does not exist"));

    let cloud = inspect(&data).await;
    assert!(notified(&cloud, "toml-in").await.is_empty());
    assert!(bucket_exists(&cloud, "toml-in").await && bucket_exists(&cloud, "toml-out").await);
    let groups = logs(&cloud, None)
        .describe_log_groups()
        .log_group_name_prefix("/aws/lambda/upper")
        .send()
        .await
        .unwrap();
    assert!(groups.log_groups().is_empty(), "log group removed");
    cloud.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn init_from_a_scar_yaml_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/scar-demo.yaml");
    let reports = json(&data, &["init", "-f", example.to_str().unwrap()]);
    let r = &reports[0];
    assert_eq!(r["name"], "scar-demo-upper");
    assert_eq!(r["role"], "arn:aws:iam::000000000000:role/scar-demo");
    assert_eq!(r["input"], "s3://scar-demo-yaml/input/ (.txt)");
    assert_eq!(r["outputs"][0], "s3://scar-demo-yaml/output/");
    let rows = json(&data, &["ls"]);
    let row = row(&rows, "scar-demo-upper").expect("listed");
    assert_eq!(row["memory"], 1024);
    assert_eq!(row["timeout"], 120);

    // SCAR 1.x's shape, as in the paper's examples.
    std::fs::write(dir.path().join("grayify.sh"), UPPER).unwrap();
    let legacy = write(
        dir.path(),
        "scar-legacy.yaml",
        "functions:\n  scar-legacy:\n    image: grycap/imagemagick\n    init_script: grayify.sh\n    memory: 256\n    s3:\n      input_bucket: scar-legacy\n",
    );
    let reports = json(&data, &["init", "-f", legacy.to_str().unwrap()]);
    assert_eq!(reports[0]["input"], "s3://scar-legacy/input/");
    assert_eq!(reports[0]["outputs"][0], "s3://scar-legacy/output/");

    let cloud = inspect(&data).await;
    assert_eq!(
        notified(&cloud, "scar-demo-yaml").await,
        ["scar-demo-upper"]
    );
    let cfg = lambda(&cloud, None)
        .get_function_configuration()
        .function_name("scar-demo-upper")
        .send()
        .await
        .unwrap();
    let vars = cfg.environment().unwrap().variables().unwrap();
    assert_eq!(vars["STAGE"], "demo");
    assert_eq!(vars["LANG"], "C.UTF-8");
    assert_eq!(vars["SCAR_TIMEOUT_RESERVE_S"], "10");
    cloud.shutdown().await;
}

#[test]
fn bad_definitions_name_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let bad = write(
        dir.path(),
        "bad.toml",
        "name = \"f\"\nimage = \"grycap/ffmpeg\"\nscript_inline = \"true\"\nmemroy = 512\n",
    );
    let out = scar(&data, &["init", "-f", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml:4:1: unknown key `memroy`"), "{err}");
    assert!(err.contains("did you mean `memory`"), "{err}");

    let range = write(
        dir.path(),
        "range.toml",
        "name = \"f\"\nimage = \"grycap/ffmpeg\"\nscript_inline = \"true\"\ntimeout = 1000\n",
    );
    let err =
        String::from_utf8_lossy(&scar(&data, &["init", "-f", range.to_str().unwrap()]).stderr)
            .into_owned();
    assert!(
        err.contains("range.toml:4:11: timeout 1000 is out of range: use 1 to 900 seconds"),
        "{err}"
    );

    let syntax = write(dir.path(), "syntax.toml", "name = \"f\"\nimage = [\n");
    let err =
        String::from_utf8_lossy(&scar(&data, &["init", "-f", syntax.to_str().unwrap()]).stderr)
            .into_owned();
    assert!(err.contains("syntax.toml:"), "{err}");

    let yaml = write(
        dir.path(),
        "bad.yaml",
        "functions:\n  aws:\n  - lambda:\n      name: f\n      init_script: missing.sh\n      container:\n        image: x\n",
    );
    let err = String::from_utf8_lossy(&scar(&data, &["init", "-f", yaml.to_str().unwrap()]).stderr)
        .into_owned();
    assert!(
        err.contains("bad.yaml:5:20: cannot read init_script"),
        "{err}"
    );
    assert!(
        !data.join("lambda/functions/f").exists(),
        "nothing deployed"
    );
}

#[test]
fn a_missing_role_on_aws_is_a_clear_error_before_any_call() {
    let dir = tempfile::tempdir().unwrap();
    let def = write(
        dir.path(),
        "f.toml",
        "name = \"f\"\nimage = \"grycap/ffmpeg\"\nscript_inline = \"true\"\n",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_scar-tui"))
        .args([
            "--backend",
            "aws",
            "--region",
            "us-east-1",
            "init",
            "-f",
            def.to_str().unwrap(),
        ])
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "dummy")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", dir.path().join("none"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.path().join("none"))
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("function f has no IAM role"), "{err}");
    assert!(
        err.contains("role = \"arn:aws:iam::ACCOUNT:role/NAME\""),
        "{err}"
    );
    assert!(!err.contains("127.0.0.1:9"), "no call was tried: {err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn two_functions_on_one_input_bucket_keep_both_triggers() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    for (name, prefix) in [("alpha", "a"), ("beta", "b")] {
        ok(
            &data,
            &[
                "init",
                "--name",
                name,
                "--image",
                "grycap/ffmpeg",
                "--script-inline",
                UPPER,
                "--input",
                &format!("shared-in/{prefix}"),
                "--output",
                &format!("shared-out/{prefix}"),
            ],
        );
    }
    // A third one whose trigger would overlap alpha's is refused, naming alpha.
    let clash = scar(
        &data,
        &[
            "init",
            "--name",
            "gamma",
            "--image",
            "x",
            "--script-inline",
            "true",
            "--input",
            "shared-in/a/deeper",
        ],
    );
    assert!(!clash.status.success());
    let err = String::from_utf8_lossy(&clash.stderr);
    assert!(err.contains("overlaps function alpha"), "{err}");
    let rows = json(&data, &["ls"]);
    assert!(
        row(&rows, "gamma").is_none(),
        "nothing of gamma was deployed: {rows}"
    );

    {
        let cloud = inspect(&data).await;
        assert_eq!(notified(&cloud, "shared-in").await, ["alpha", "beta"]);
        cloud.shutdown().await;
    }
    // Redeploying alpha elsewhere in the same bucket keeps beta's entry.
    ok(
        &data,
        &[
            "update",
            "alpha",
            "--input",
            "shared-in/a2",
            "--timeout",
            "30",
        ],
    );
    ok(&data, &["rm", "alpha"]);
    let cloud = inspect(&data).await;
    assert_eq!(notified(&cloud, "shared-in").await, ["beta"]);
    assert!(bucket_exists(&cloud, "shared-in").await);
    cloud.shutdown().await;

    // --purge keeps a bucket another function uses, deletes the rest.
    let summary = json(&data, &["rm", "--all", "--purge"]);
    assert_eq!(summary["functions"].as_array().unwrap().len(), 1);
    assert_eq!(summary["functions"][0]["name"], "beta");
    assert!(
        summary["buckets_purged"]["shared-in"].is_number(),
        "{summary}"
    );
    let cloud = inspect(&data).await;
    assert!(!bucket_exists(&cloud, "shared-in").await);
    assert!(!bucket_exists(&cloud, "shared-out").await);
    cloud.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_object_in_the_input_bucket_produces_its_output() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let image = busybox_image(dir.path());
    std::fs::write(dir.path().join("upper.sh"), UPPER).unwrap();
    let def = write(
        dir.path(),
        "e2e.toml",
        &format!(
            "name = \"e2e-upper\"\nimage = \"{image}\"\nscript = \"upper.sh\"\ntimeout = 120\n[input]\nbucket = \"e2e-in\"\nprefix = \"in/\"\n[[outputs]]\nbucket = \"e2e-out\"\nprefix = \"done/\"\n"
        ),
    );
    let report = json(&data, &["init", "-f", def.to_str().unwrap()]);
    assert_eq!(report[0]["state"], "Active");

    let cloud = inspect(&data).await;
    let s3c = s3(&cloud, None);
    s3c.put_object()
        .bucket("e2e-in")
        .key("in/hello world.txt")
        .body(ByteStream::from_static(b"hello from scar-tui\n"))
        .send()
        .await
        .expect("put_object");
    let body = eventually(Duration::from_secs(120), || {
        let s3c = s3c.clone();
        async move {
            let o = s3c
                .get_object()
                .bucket("e2e-out")
                .key("done/hello world.txt.out")
                .send()
                .await
                .ok()?;
            Some(o.body.collect().await.ok()?.into_bytes())
        }
    })
    .await;
    let Some(body) = body else {
        let events = logs(&cloud, None)
            .filter_log_events()
            .log_group_name("/aws/lambda/e2e-upper")
            .send()
            .await
            .map(|o| {
                o.events()
                    .iter()
                    .map(|e| e.message().unwrap_or_default().to_owned())
                    .collect::<Vec<_>>()
            });
        panic!("no output in e2e-out/done/; the function logged: {events:#?}");
    };
    assert_eq!(&body[..], b"HELLO FROM SCAR-TUI\n");
    cloud.shutdown().await;
}
