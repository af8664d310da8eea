//! A really full disk: the one-shot supervisor's cache on a small tmpfs
//! (mounted in an unprivileged user and mount namespace) with an image whose
//! top layer holds 2 MiB of incompressible bytes. The tmpfs holds the busybox
//! layer plus 1 MiB, so the disk fills in the middle of the second layer,
//! after a whole layer was written. The run fails with one clear `error:`
//! line and leaves nothing half-written in the cache; after the same tmpfs
//! is remounted at 20 MiB, the next run on the same cache succeeds by itself.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::support::*;

/// Size of the incompressible file in the image's top layer.
const BIG: usize = 2 * 1024 * 1024;

/// `len` bytes from a seeded xorshift64* generator: deterministic, and
/// incompressible, so the gzip blob is as big as the file.
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        out.extend_from_slice(&seed.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// The lines of `stdout` after the line `marker` and before the next `@@` line.
fn section<'a>(stdout: &'a str, marker: &str) -> Vec<&'a str> {
    stdout
        .lines()
        .skip_while(|l| *l != marker)
        .skip(1)
        .take_while(|l| !l.starts_with("@@"))
        .filter(|l| !l.trim().is_empty())
        .collect()
}

/// The value after `@@NAME ` in `stdout`.
fn marked_value<'a>(stdout: &'a str, name: &str) -> Option<&'a str> {
    let prefix = format!("@@{name} ");
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .map(str::trim)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Both runs in one namespace shell: the first on a `$SMALL` tmpfs, the
/// listing of `CACHE/images` and `CACHE/tmp`, then a remount at 20 MiB and
/// the second run on the same cache.
const SHELL: &str = r#"
set -u
mount -t tmpfs -o "size=$SMALL" tmpfs "$CACHE" || { echo "@@mount-failed"; exit 97; }
"$BIN" run --image "$IMAGE" --script "$SCRIPT" --output-dir "$OUT1" --cache-dir "$CACHE" >"$LOGS/1.out" 2>"$LOGS/1.err"
echo "@@first-exit $?"
echo "@@images"
ls -A "$CACHE/images"
echo "@@tmp"
ls -A "$CACHE/tmp"
echo "@@remount"
mount -o remount,size=20m "$CACHE" || { echo "@@remount-failed"; exit 98; }
"$BIN" run --image "$IMAGE" --script "$SCRIPT" --output-dir "$OUT2" --cache-dir "$CACHE" >"$LOGS/2.out" 2>"$LOGS/2.err"
echo "@@second-exit $?"
echo "@@images2"
ls -A "$CACHE/images"
echo "@@tmp2"
ls -A "$CACHE/tmp"
echo "@@end"
"#;

#[test]
fn full_disk_is_one_clear_error_and_the_cache_recovers() {
    let sandbox = Sandbox::new();
    let image = ImageSpec::busybox()
        .with_layer(
            Compression::Gzip,
            vec![
                Entry::dir("big", 0o755),
                Entry::file("big/blob", noise(BIG, 0x5ca7_f00d_d15c_0001), 0o644),
            ],
        )
        .build();
    assert!(
        image.layers[1].blob.len() > BIG,
        "the big layer must not compress ({} bytes)",
        image.layers[1].blob.len()
    );
    let layout = sandbox.path().join("layout");
    image.write_oci_layout(&layout, "big");
    let script = sandbox.script(
        "size.sh",
        "echo script-ran\nwc -c < /big/blob > \"$TMP_OUTPUT_DIR/size.txt\"\n",
    );
    let cache = sandbox.cache();
    let logs = sandbox.path().join("logs");
    for d in [&cache, &logs] {
        std::fs::create_dir_all(d).expect("mkdir");
    }
    let (out1, out2) = (sandbox.out("first"), sandbox.out("second"));
    // Room for the first layer (busybox) and 1 MiB more: not for the 2 MiB file.
    // (The uncompressed tar of the busybox layer is a bit more than what it unpacks to.)
    let small = format!("{}k", (image.layers[0].tar.len() + 1024 * 1024) / 1024);

    let mut cmd = Command::new("unshare");
    scrub_env(&mut cmd)
        .args(["-Urm", "sh", "-c", SHELL])
        .env("BIN", supervisor_bin())
        .env("IMAGE", format!("oci:{}:big", layout.display()))
        .env("SCRIPT", &script)
        .env("SMALL", &small)
        .env("CACHE", &cache)
        .env("OUT1", &out1)
        .env("OUT2", &out2)
        .env("LOGS", &logs)
        .env("TMPDIR", sandbox.tmpdir());
    let shell = run_captured(cmd, Duration::from_secs(60));
    let first = RunOutput {
        code: marked_value(&shell.stdout, "first-exit")
            .and_then(|c| c.parse().ok())
            .unwrap_or(-1),
        stdout: read(&logs.join("1.out")),
        stderr: read(&logs.join("1.err")),
        // Both runs share the shell's wall time.
        elapsed: shell.elapsed,
        pipes_left_open: false,
    };
    let second = RunOutput {
        code: marked_value(&shell.stdout, "second-exit")
            .and_then(|c| c.parse().ok())
            .unwrap_or(-1),
        stdout: read(&logs.join("2.out")),
        stderr: read(&logs.join("2.err")),
        elapsed: shell.elapsed,
        pipes_left_open: false,
    };
    let everything = format!(
        "--- namespace shell ---\n{}\n--- first run ---\n{}\n--- second run ---\n{}",
        shell.describe(),
        first.describe(),
        second.describe()
    );
    assert_eq!(
        shell.code, 0,
        "unshare -Urm and tmpfs mounts must work here\n{everything}"
    );

    // The full disk: exit 125, one clear line, no panic, nothing half-written.
    assert_eq!(first.code, EXIT_SUPERVISOR_ERROR, "{everything}");
    let errors = first.error_lines();
    assert_eq!(
        errors.len(),
        1,
        "want exactly one error: line\n{everything}"
    );
    assert!(
        errors[0].to_lowercase().contains("no space left"),
        "the error must say the disk is full: {}",
        errors[0]
    );
    assert!(
        errors[0].contains("big/blob"),
        "the disk should fill on the big file, after the busybox layer: {}",
        errors[0]
    );
    assert!(!first.stderr.contains("panicked"), "{everything}");
    assert!(!first.stdout.contains("script-ran"), "{everything}");
    assert_eq!(
        section(&shell.stdout, "@@images"),
        Vec::<&str>::new(),
        "CACHE/images after the failure\n{everything}"
    );
    assert_eq!(
        section(&shell.stdout, "@@tmp"),
        Vec::<&str>::new(),
        "CACHE/tmp after the failure\n{everything}"
    );

    // More room on the same cache: the next run just works.
    assert_eq!(second.code, 0, "{everything}");
    assert!(second.stdout.contains("script-ran"), "{everything}");
    assert_eq!(
        std::fs::read_to_string(out2.join("size.txt"))
            .unwrap_or_default()
            .trim(),
        BIG.to_string(),
        "the big file unpacked whole\n{everything}"
    );
    assert_eq!(
        second.metrics()["CacheHit"],
        0,
        "nothing of the failed run counted as cached\n{everything}"
    );
    assert_eq!(
        section(&shell.stdout, "@@images2"),
        [format!("sha256-{}", image.manifest_hex())],
        "{everything}"
    );
    assert_eq!(
        section(&shell.stdout, "@@tmp2"),
        Vec::<&str>::new(),
        "{everything}"
    );
}
