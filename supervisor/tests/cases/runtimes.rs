//! The container runtimes: the same small script under `--runtime userns`,
//! `proot` and `host`, checking the script environment (every variable set,
//! input and output paths real and consistent, `--env` passed), outputs copied
//! out, and for `userns` the isolation promises: read-only image, a fresh
//! writable `/tmp` per invocation, `/proc` and `/dev` available.

use crate::support::*;

/// Checks the script environment; prints only problems, then `checks-done`.
const ENV_SCRIPT: &str = r#"echo "rid=$REQUEST_ID"
echo "input-path=$SCAR_INPUT_FILE"
echo "output-dir=$SCAR_OUTPUT_DIR"
echo "input=$(cat "$INPUT_FILE_PATH")"
for v in REQUEST_ID SCAR_INPUT_FILE INPUT_FILE_PATH SCAR_OUTPUT_DIR TMP_OUTPUT_DIR TMP_INPUT_DIR STORAGE_OBJECT_KEY EVENT_TIME EVENT; do
  eval "test -n \"\${$v+set}\"" || echo "unset=$v"
done
test "$INPUT_FILE_PATH" = "$SCAR_INPUT_FILE" || echo "input-vars-differ"
test "$TMP_OUTPUT_DIR" = "$SCAR_OUTPUT_DIR" || echo "output-vars-differ"
test -f "$SCAR_INPUT_FILE" || echo "input-not-a-file"
test -d "$SCAR_OUTPUT_DIR" || echo "output-not-a-dir"
test -d "$TMP_INPUT_DIR" || echo "input-dir-not-a-dir"
test "$(dirname "$SCAR_INPUT_FILE")" = "${TMP_INPUT_DIR%/}" || echo "input-not-in-input-dir"
echo "user-var=$USER_VAR"
echo "result of $REQUEST_ID" > "$SCAR_OUTPUT_DIR/result.txt"
echo checks-done
"#;

/// Container-only checks appended for `userns`.
const USERNS_EXTRA: &str = r#"if touch /etc/written-by-script 2>/dev/null; then echo rootfs-writable; else echo rootfs-readonly; fi
if test -e /tmp/leftover; then echo tmp-dirty; else echo tmp-fresh; fi
touch /tmp/leftover && echo tmp-writable
test -r /proc/self/status && echo proc-ok
echo x > /dev/null && echo dev-null-ok
echo "sh=$(readlink /bin/sh)"
"#;

/// Container-only checks appended for `proot`.
const PROOT_EXTRA: &str = r#"echo x > /dev/null && echo dev-null-ok
echo "sh=$(readlink /bin/sh)"
"#;

const INPUT: &str = "hello runtime";

/// Run `script` under `runtime` on a busybox OCI layout; check the common
/// lines and outputs; return (request id, the extra lines after `checks-done`).
fn run_under(
    sandbox: &Sandbox,
    runtime: &str,
    script_text: &str,
    out_name: &str,
) -> (String, Vec<String>, RunOutput) {
    let layout = sandbox.path().join("layout");
    if !layout.exists() {
        ImageSpec::busybox()
            .build()
            .write_oci_layout(&layout, "latest");
    }
    let script = sandbox.script(&format!("{out_name}.sh"), script_text);
    let input = sandbox.input("data.txt", INPUT);
    let run = sandbox
        .oneshot(
            &format!("oci:{}:latest", layout.display()),
            &script,
            out_name,
        )
        .runtime(runtime)
        .input(&input)
        .env("USER_VAR=from-env");
    let output_dir = run.output_dir.clone();
    let out = run.run();
    assert_eq!(out.code, 0, "runtime {runtime}\n{}", out.describe());
    let m = out.metrics();
    assert!(emf_problems(&m).is_empty(), "{:?}\n{m:#}", emf_problems(&m));
    let rid = m["RequestId"].as_str().expect("RequestId").to_string();
    let lines: Vec<String> = out.script_lines().iter().map(|s| s.to_string()).collect();
    let done = lines
        .iter()
        .position(|l| l == "checks-done")
        .unwrap_or_else(|| panic!("script did not finish\n{}", out.describe()));
    assert_eq!(
        lines[0],
        format!("rid={rid}"),
        "REQUEST_ID is the metrics' RequestId\n{}",
        out.describe()
    );
    let problems: Vec<&String> = lines[4..done]
        .iter()
        .filter(|l| !l.starts_with("user-var="))
        .collect();
    assert!(
        problems.is_empty(),
        "environment problems under {runtime}: {problems:?}\n{}",
        out.describe()
    );
    assert_eq!(lines[3], format!("input={INPUT}"), "{}", out.describe());
    assert!(
        lines.contains(&"user-var=from-env".to_string()),
        "--env not passed\n{}",
        out.describe()
    );
    assert_eq!(
        std::fs::read_to_string(output_dir.join("result.txt")).expect("result.txt copied out"),
        format!("result of {rid}\n")
    );
    let extra = lines[done + 1..].to_vec();
    (rid, extra, out)
}

#[test]
fn runtime_userns_isolates_the_image() {
    let sandbox = Sandbox::new();
    let script = format!("{ENV_SCRIPT}{USERNS_EXTRA}");
    let want_extra = [
        "rootfs-readonly",
        "tmp-fresh",
        "tmp-writable",
        "proc-ok",
        "dev-null-ok",
        "sh=busybox",
    ];
    for round in ["first", "second"] {
        let (rid, extra, out) = run_under(&sandbox, "userns", &script, round);
        let lines = out.script_lines();
        assert_eq!(
            lines[1],
            format!("input-path=/tmp/{rid}/input/data.txt"),
            "{}",
            out.describe()
        );
        assert_eq!(
            lines[2],
            format!("output-dir=/tmp/{rid}/output"),
            "{}",
            out.describe()
        );
        assert_eq!(extra, want_extra, "{round} run\n{}", out.describe());
    }
    let image = ImageSpec::busybox().build();
    let rootfs = rootfs_dir(&sandbox.cache(), &image.manifest_digest);
    assert!(rootfs.is_dir(), "rootfs at {}", rootfs.display());
    assert!(
        !rootfs.join("etc/written-by-script").exists(),
        "the script wrote into the cached image"
    );
    assert!(
        !rootfs.join("tmp/leftover").exists(),
        "the script's /tmp is the cached image's /tmp"
    );
}

#[test]
fn runtime_proot_runs_in_the_image() {
    let sandbox = Sandbox::new();
    let (rid, extra, out) = run_under(
        &sandbox,
        "proot",
        &format!("{ENV_SCRIPT}{PROOT_EXTRA}"),
        "proot",
    );
    let lines = out.script_lines();
    assert_eq!(
        lines[1],
        format!("input-path=/tmp/{rid}/input/data.txt"),
        "{}",
        out.describe()
    );
    assert_eq!(
        lines[2],
        format!("output-dir=/tmp/{rid}/output"),
        "{}",
        out.describe()
    );
    assert_eq!(extra, ["dev-null-ok", "sh=busybox"], "{}", out.describe());
}

#[test]
fn runtime_host_runs_on_the_host_with_real_paths() {
    let sandbox = Sandbox::new();
    let (_rid, extra, out) = run_under(&sandbox, "host", ENV_SCRIPT, "host");
    assert!(extra.is_empty(), "{}", out.describe());
    // The paths the script saw were host paths (it checked they exist); they
    // must not point into the cached image.
    let lines = out.script_lines();
    let input_path = lines[1]
        .strip_prefix("input-path=")
        .expect("input-path line");
    assert!(input_path.starts_with('/'), "{input_path}");
    assert!(
        !input_path.contains("/rootfs/"),
        "host run got a container path: {input_path}"
    );
}
