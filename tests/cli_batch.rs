//! `put`, `get` and `run` as the real binary against a local cloud started
//! in the test (`--endpoint` + `--data-dir`, the key read from the folder):
//! a folder of 200 files up, a batch over them, outputs back down; a `run`
//! killed with SIGKILL mid-way and relaunched sends no key twice;
//! `--retry-failed` resends only the failures.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Environment, FunctionCode, Runtime};
use aws_sdk_s3::primitives::ByteStream;
use base64::Engine;
use serde_json::Value;

use crate::util::*;

/// Uppercases the input into `done/NAME.out`; fails on names with `bad`
/// unless the function's `LET_BAD_PASS` variable is set.
const SCRIPT: &str = r#"name=$(basename "$INPUT_FILE_PATH")
case "$name" in *bad*) if [ -z "$LET_BAD_PASS" ]; then echo "refusing $name"; exit 3; fi;; esac
tr a-z A-Z < "$INPUT_FILE_PATH" > "$TMP_OUTPUT_DIR/$name.out"
"#;

fn command(cloud: &Cloud, args: &[&str]) -> tokio::process::Command {
    let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_scar-tui"));
    c.args(["--endpoint", cloud.get().endpoint(), "--data-dir"])
        .arg(cloud.dir.path())
        .args(args)
        .kill_on_drop(true);
    c
}

async fn scar(cloud: &Cloud, args: &[&str]) -> (i32, String, String) {
    let out = tokio::time::timeout(Duration::from_secs(300), command(cloud, args).output())
        .await
        .expect("scar-tui finishes within 5 minutes")
        .expect("scar-tui runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn env_vars(cloud: &Cloud, extra: &[(&str, &str)]) -> Environment {
    let mut e = Environment::builder()
        .variables("SCAR_IMAGE", busybox_image(cloud.dir.path()))
        .variables(
            "SCAR_SCRIPT",
            base64::engine::general_purpose::STANDARD.encode(SCRIPT),
        )
        .variables(
            "SCAR_OUTPUTS",
            r#"[{"bucket": "output", "prefix": "done/"}]"#,
        )
        .variables(
            "SCAR_INPUT",
            r#"{"bucket": "input", "prefix": "in/", "suffixes": []}"#,
        );
    for (k, v) in extra {
        e = e.variables(*k, *v);
    }
    e.build()
}

/// A function reading `input/in/`, writing `output/done/`, and the buckets.
async fn setup(cloud: &Cloud, name: &str) {
    let s3c = s3(cloud.get(), None);
    for b in ["input", "output"] {
        s3c.create_bucket().bucket(b).send().await.expect("bucket");
    }
    lambda(cloud.get(), None)
        .create_function()
        .function_name(name)
        .runtime(Runtime::Providedal2023)
        .role("arn:aws:iam::000000000000:role/scar")
        .timeout(60)
        .memory_size(256)
        .environment(env_vars(cloud, &[]))
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(zip_of(&supervisor_bootstrap(), None)))
                .build(),
        )
        .send()
        .await
        .expect("create_function");
}

/// `n` input objects put straight through the SDK, names with spaces and
/// non-ASCII characters among them.
async fn inputs(cloud: &Cloud, names: &[String]) {
    let s3c = s3(cloud.get(), None);
    for n in names {
        s3c.put_object()
            .bucket("input")
            .key(format!("in/{n}"))
            .body(ByteStream::from(format!("content of {n}\n").into_bytes()))
            .send()
            .await
            .expect("put_object");
    }
}

/// The supervisor's metrics lines, grouped by input key: (request id, status).
async fn runs_by_key(cloud: &Cloud, function: &str) -> BTreeMap<String, Vec<(String, String)>> {
    let client = logs(cloud.get(), None);
    let mut out: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut token = None;
    loop {
        let page = match client
            .filter_log_events()
            .log_group_name(format!("/aws/lambda/{function}"))
            .set_next_token(token)
            .send()
            .await
        {
            Ok(p) => p,
            Err(_) => return out,
        };
        for e in page.events() {
            let Ok(v) = serde_json::from_str::<Value>(e.message().unwrap_or_default()) else {
                continue;
            };
            if v.get("_aws").is_none() {
                continue;
            }
            out.entry(v["InputKey"].as_str().unwrap_or_default().to_owned())
                .or_default()
                .push((
                    v["RequestId"].as_str().unwrap_or_default().to_owned(),
                    v["Status"].as_str().unwrap_or_default().to_owned(),
                ));
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            return out;
        }
    }
}

async fn output_keys(cloud: &Cloud) -> Vec<String> {
    let s3c = s3(cloud.get(), None);
    let mut keys = Vec::new();
    let mut token = None;
    loop {
        let page = s3c
            .list_objects_v2()
            .bucket("output")
            .set_continuation_token(token)
            .send()
            .await
            .expect("list");
        keys.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned)),
        );
        token = page.next_continuation_token().map(str::to_owned);
        if token.is_none() {
            return keys;
        }
    }
}

fn journal(cloud: &Cloud, function: &str) -> PathBuf {
    cloud
        .dir
        .path()
        .join("batch/local")
        .join(format!("{function}.jsonl"))
}

fn json(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn put_a_folder_run_wait_and_get_the_outputs() {
    let cloud = Cloud::start().await;
    setup(&cloud, "upper").await;

    // 200 files: 190 at the top, 10 in a subfolder; spaces and non-ASCII.
    let src = tempfile::tempdir().unwrap();
    std::fs::create_dir(src.path().join("sub dir")).unwrap();
    for i in 0..200 {
        let rel = match i {
            0..190 if i % 3 == 0 => format!("photo {i:03} été ü.txt"),
            0..190 => format!("f{i:03}.txt"),
            _ => format!("sub dir/deep {i:03} ñ.txt"),
        };
        std::fs::write(src.path().join(&rel), format!("hello {i}\n")).unwrap();
    }
    let (code, out, err) = scar(
        &cloud,
        &["--json", "put", "input/in", src.path().to_str().unwrap()],
    )
    .await;
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(json(&out)["files"], 200, "{out}");
    let listed = s3(cloud.get(), None)
        .list_objects_v2()
        .bucket("input")
        .prefix("in/sub dir/")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.contents().len(), 10, "folder structure kept");

    let (code, out, err) = scar(&cloud, &["--json", "run", "upper", "--wait"]).await;
    assert_eq!(code, 0, "{out}{err}");
    let report = json(&out);
    eprintln!("run --wait: {}", report["run"]["dispatch"]);
    assert_eq!(report["run"]["mode"], "new", "{report}");
    assert_eq!(report["run"]["dispatch"]["dispatched"], 200, "{report}");
    assert_eq!(report["wait"]["succeeded"], 200, "{report}");
    assert_eq!(report["wait"]["failed"], 0, "{report}");

    // Every key ran once, with its own payload (not a shared template's last key).
    let runs = runs_by_key(&cloud, "upper").await;
    assert_eq!(runs.len(), 200, "{runs:?}");
    assert!(runs.values().all(|r| r.len() == 1), "{runs:?}");
    assert!(runs.contains_key("in/photo 003 été ü.txt"));
    assert!(runs.contains_key("in/sub dir/deep 195 ñ.txt"));
    assert_eq!(output_keys(&cloud).await.len(), 200);

    // The outputs come back down, names intact.
    let dest = tempfile::tempdir().unwrap();
    let (code, out, err) = scar(
        &cloud,
        &[
            "--json",
            "get",
            "output/done",
            dest.path().to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(json(&out)["files"], 200, "{out}");
    let body = std::fs::read_to_string(dest.path().join("photo 003 été ü.txt.out")).unwrap();
    assert_eq!(body, "HELLO 3\n");
    // No temporary files left behind.
    let names: Vec<String> = std::fs::read_dir(dest.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| n.ends_with(".out")), "{names:?}");

    // A second run after a complete one is a new batch; without --wait it
    // only dispatches.
    let (code, out, err) = scar(&cloud, &["--json", "run", "upper"]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(json(&out)["run"]["mode"], "new");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_run_relaunched_sends_no_key_twice() {
    let cloud = Cloud::start().await;
    setup(&cloud, "resume").await;
    let names: Vec<String> = (0..200)
        .map(|i| {
            if i % 2 == 0 {
                format!("k {i:03} ß.txt")
            } else {
                format!("k{i:03}.txt")
            }
        })
        .collect();
    inputs(&cloud, &names).await;

    // Slow enough to be killed mid-way: 4 in flight, 100 invokes/s.
    let mut child = command(
        &cloud,
        &["run", "resume", "--concurrency", "4", "--rate", "100"],
    )
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null())
    .spawn()
    .expect("spawn run");
    let path = journal(&cloud, "resume");
    let acks = eventually(Duration::from_secs(60), || {
        let path = path.clone();
        async move {
            let text = std::fs::read_to_string(&path).ok()?;
            let n = text.matches(r#""t":"ack""#).count();
            (n >= 50).then_some(n)
        }
    })
    .await
    .expect("50 acks journaled");
    child.start_kill().expect("SIGKILL");
    let status = child.wait().await.unwrap();
    assert!(!status.success(), "killed mid-way, not finished");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        !text.contains(r#""t":"complete""#),
        "the first launch did not finish ({acks} acks)"
    );

    let (code, out, err) = scar(
        &cloud,
        &["--json", "run", "resume", "--wait", "--settle", "3s"],
    )
    .await;
    assert_eq!(code, 0, "{out}{err}");
    let report = json(&out);
    eprintln!("killed after {acks} acks; relaunch: {}", report["run"]);
    assert_eq!(report["run"]["mode"], "resume", "{report}");
    let r = &report["run"];
    assert_eq!(
        r["in_doubt"].as_u64(),
        Some(r["reconciled"].as_u64().unwrap() + r["resent_in_doubt"].as_u64().unwrap()),
        "{report}"
    );
    assert_eq!(report["wait"]["keys"], 200, "{report}");
    assert_eq!(report["wait"]["succeeded"], 200, "{report}");
    let skipped = report["run"]["dispatch"]["skipped"].as_u64().unwrap();
    assert!(skipped >= acks as u64, "{report}");

    // Each of the 200 keys ran exactly once: no key sent twice.
    let runs = eventually(Duration::from_secs(10), || {
        let cloud = &cloud;
        async move {
            let r = runs_by_key(cloud, "resume").await;
            (r.len() == 200).then_some(r)
        }
    })
    .await
    .expect("200 keys in the logs");
    let twice: Vec<_> = runs.iter().filter(|(_, r)| r.len() != 1).collect();
    assert!(twice.is_empty(), "keys run more than once: {twice:?}");
    assert_eq!(output_keys(&cloud).await.len(), 200);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(r#""t":"complete""#));
}

/// The case a kill makes rare but possible, made on purpose: the journal
/// holds intents for keys that Lambda accepted but whose acks never reached
/// the disk. The relaunch must find them in the logs and not send them
/// again, send the in-doubt keys Lambda never saw, and then the rest.
#[tokio::test(flavor = "multi_thread")]
async fn in_doubt_keys_are_resolved_from_the_logs_before_any_is_resent() {
    let cloud = Cloud::start().await;
    setup(&cloud, "doubt").await;
    let names: Vec<String> = (0..10).map(|i| format!("d {i} ç.txt")).collect();
    inputs(&cloud, &names).await;
    let key = |i: usize| format!("in/{}", names[i]);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    // Keys 0-1 acknowledged and journaled; 2-4 accepted, acks lost; 5-7
    // intended, never sent; 8-9 never reached.
    let mut lines = vec![
        serde_json::json!({"t": "begin", "run": "r1", "ms": now - 1_000, "function": "doubt", "bucket": "input", "prefix": "in/"}),
        serde_json::json!({"t": "intent", "ms": now, "keys": (0..8).map(key).collect::<Vec<_>>()}),
    ];
    let client = lambda(cloud.get(), None);
    for i in 0..5 {
        let payload = serde_json::json!({"input": {"bucket": "input", "key": key(i)}});
        let out = client
            .invoke()
            .function_name("doubt")
            .invocation_type(aws_sdk_lambda::types::InvocationType::Event)
            .payload(Blob::new(payload.to_string()))
            .send()
            .await
            .expect("invoke");
        assert_eq!(out.status_code(), 202);
        if i < 2 {
            lines.push(serde_json::json!({"t": "ack", "key": key(i), "id": ""}));
        }
    }
    let path = journal(&cloud, "doubt");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&path, text).unwrap();

    let (code, out, err) = scar(
        &cloud,
        &["--json", "run", "doubt", "--wait", "--settle", "2s"],
    )
    .await;
    assert_eq!(code, 0, "{out}{err}");
    let report = json(&out);
    let r = &report["run"];
    assert_eq!(r["mode"], "resume", "{report}");
    assert_eq!(r["in_doubt"], 6, "{report}");
    assert_eq!(r["reconciled"], 3, "{report}");
    assert_eq!(r["resent_in_doubt"], 3, "{report}");
    assert_eq!(r["dispatch"]["dispatched"], 5, "{report}");
    assert_eq!(report["wait"]["succeeded"], 10, "{report}");
    let runs = runs_by_key(&cloud, "doubt").await;
    assert_eq!(runs.len(), 10, "{runs:?}");
    assert!(
        runs.values().all(|r| r.len() == 1),
        "no key twice: {runs:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn retry_failed_resends_only_the_failures() {
    let cloud = Cloud::start().await;
    setup(&cloud, "picky").await;
    let mut names: Vec<String> = (0..19).map(|i| format!("good {i} ö.txt")).collect();
    names.push("the bad one ü.txt".into());
    inputs(&cloud, &names).await;

    let (code, out, err) = scar(&cloud, &["--json", "run", "picky", "--wait"]).await;
    assert_eq!(code, 1, "one key failed: {out}{err}");
    let report = json(&out);
    assert_eq!(report["wait"]["succeeded"], 19, "{report}");
    assert_eq!(report["wait"]["failed"], 1, "{report}");
    assert_eq!(
        report["wait"]["failed_keys"][0]["key"], "in/the bad one ü.txt",
        "{report}"
    );
    let before = runs_by_key(&cloud, "picky").await;
    // Lambda's policy: the first attempt and two retries, one request id.
    let bad = &before["in/the bad one ü.txt"];
    assert_eq!(bad.len(), 3, "{bad:?}");
    assert!(bad.iter().all(|(id, s)| id == &bad[0].0 && s == "failed"));

    // Still failing: only that key is resent.
    let (code, out, err) = scar(
        &cloud,
        &["--json", "run", "picky", "--retry-failed", "--wait"],
    )
    .await;
    assert_eq!(code, 1, "{out}{err}");
    let report = json(&out);
    assert_eq!(report["run"]["mode"], "retry-failed", "{report}");
    assert_eq!(report["run"]["dispatch"]["dispatched"], 1, "{report}");
    let after = runs_by_key(&cloud, "picky").await;
    for (k, r) in &after {
        let expected = if k.contains("bad") { 6 } else { 1 };
        assert_eq!(r.len(), expected, "{k}: {r:?}");
    }

    // Fixed: the retry succeeds, and the batch is whole.
    lambda(cloud.get(), None)
        .update_function_configuration()
        .function_name("picky")
        .environment(env_vars(&cloud, &[("LET_BAD_PASS", "1")]))
        .send()
        .await
        .expect("update configuration");
    let (code, out, err) = scar(
        &cloud,
        &["--json", "run", "picky", "--retry-failed", "--wait"],
    )
    .await;
    assert_eq!(code, 0, "{out}{err}");
    let report = json(&out);
    assert_eq!(report["run"]["dispatch"]["dispatched"], 1, "{report}");
    assert_eq!(report["wait"]["succeeded"], 20, "{report}");
    let outputs = output_keys(&cloud).await;
    assert!(
        outputs.contains(&"done/the bad one ü.txt.out".to_owned()),
        "{outputs:?}"
    );
    assert_eq!(outputs.len(), 20);
}

#[tokio::test(flavor = "multi_thread")]
async fn put_and_get_edges_multipart_missing_paths_empty_prefixes() {
    let cloud = Cloud::start().await;
    let dir = tempfile::tempdir().unwrap();

    // A missing path is named, and nothing is uploaded.
    let real = dir.path().join("real.txt");
    std::fs::write(&real, "x").unwrap();
    let missing = dir.path().join("no such file.txt");
    let (code, out, err) = scar(
        &cloud,
        &[
            "put",
            "data/p",
            real.to_str().unwrap(),
            missing.to_str().unwrap(),
        ],
    )
    .await;
    assert_ne!(code, 0, "{out}{err}");
    assert!(err.contains("no such file.txt"), "{err}");

    // Above 64 MiB: multipart, and the same bytes come back.
    let big = dir.path().join("big ü.bin");
    let data: Vec<u8> = (0..(65u32 << 20)).map(|i| (i % 251) as u8).collect();
    std::fs::write(&big, &data).unwrap();
    let (code, out, err) = scar(&cloud, &["--json", "put", "data/p", big.to_str().unwrap()]).await;
    assert_eq!(code, 0, "{out}{err}");
    let r = json(&out);
    assert_eq!(r["multipart"], 1, "{r}");
    assert_eq!(r["bytes"], 65 << 20);
    let back = dir.path().join("back");
    let (code, out, err) = scar(
        &cloud,
        &["--json", "get", "data/p/", back.to_str().unwrap()],
    )
    .await;
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(json(&out)["files"], 1, "{out}");
    assert!(std::fs::read(back.join("big ü.bin")).unwrap() == data);

    // An empty prefix is fine.
    let (code, out, err) = scar(
        &cloud,
        &["get", "data/nothing-here", back.to_str().unwrap()],
    )
    .await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("no objects"), "{out}");

    // A function without an input says so.
    let (code, _, err) = scar(&cloud, &["run", "nobody"]).await;
    assert_ne!(code, 0);
    assert!(err.contains("nobody"), "{err}");
}
