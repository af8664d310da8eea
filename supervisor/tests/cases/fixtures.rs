//! The images and scripts several test modules share: the multi-layer
//! "rich" image (gzip + zstd + uncompressed layers, a whiteout, an opaque
//! folder, a symlink, a hardlink, a 0700 file, an overridden file), the probe
//! script that reports what it sees inside it, and the checks of its outcome:
//! what the script prints, what lands in the output folder, the metrics line
//! and the unpacked rootfs in the cache.

use std::path::Path;

use crate::support::*;

/// The rich image: busybox, then
/// 1. (zstd) `/etc/motd`, `/etc/removed.txt`, `/data/{old.txt,sub/deep.txt}`, `/work`, `/opt`;
/// 2. (uncompressed) a whiteout of `/etc/removed.txt`; `/data` made opaque with
///    `a-new.txt` before the marker and `z-new.txt` after it; `/work/motd -> /etc/motd`;
///    `/opt/tool.txt` and its hardlink `/opt/tool-link.txt`; `/opt/private.sh` (0700);
/// 3. (gzip) `/etc/motd` overridden.
///
/// Env `GREETING=hello`, WorkingDir `/work`.
pub fn rich_image() -> ImageSpec {
    let mut spec = ImageSpec::busybox()
        .with_layer(
            Compression::Zstd,
            vec![
                Entry::file("etc/motd", "welcome to scar\n", 0o644),
                Entry::file("etc/removed.txt", "lower layer file\n", 0o644),
                Entry::dir("data", 0o755),
                Entry::file("data/old.txt", "old\n", 0o644),
                Entry::dir("data/sub", 0o755),
                Entry::file("data/sub/deep.txt", "deep\n", 0o644),
                Entry::dir("work", 0o755),
                Entry::dir("opt", 0o755),
            ],
        )
        .with_layer(
            Compression::None,
            vec![
                Entry::whiteout("etc/removed.txt"),
                Entry::file("data/a-new.txt", "a\n", 0o644),
                Entry::opaque("data"),
                Entry::file("data/z-new.txt", "z\n", 0o644),
                Entry::symlink("work/motd", "/etc/motd"),
                Entry::file("opt/tool.txt", "tool\n", 0o644),
                Entry::hardlink("opt/tool-link.txt", "opt/tool.txt"),
                Entry::file("opt/private.sh", "#!/bin/sh\necho private\n", 0o700),
            ],
        )
        .with_layer(
            Compression::Gzip,
            vec![Entry::file("etc/motd", "welcome to scar, layer 4\n", 0o644)],
        );
    spec.env.push("GREETING=hello".into());
    spec.workdir = Some("/work".into());
    spec
}

/// Reports what the rich image looks like from inside, copies the input to
/// `copy.txt` and writes `sub/nested.txt` to the output folder, and prints one
/// line on stderr.
pub const PROBE_SCRIPT: &str = r#"echo "pwd=$(pwd)"
echo "greeting=$GREETING"
echo "extra=$EXTRA"
if test -e /etc/removed.txt; then echo "removed=present"; else echo "removed=absent"; fi
echo "data=$(cd /data && echo *)"
echo "motd=$(cat /work/motd)"
echo "private=$(stat -c %a /opt/private.sh)"
if test "$(stat -c %i /opt/tool.txt)" = "$(stat -c %i /opt/tool-link.txt)"; then echo "hardlink=same-inode"; else echo "hardlink=different"; fi
echo "input=$(cat "$SCAR_INPUT_FILE")"
cp "$SCAR_INPUT_FILE" "$SCAR_OUTPUT_DIR/copy.txt"
mkdir -p "$SCAR_OUTPUT_DIR/sub"
echo nested > "$SCAR_OUTPUT_DIR/sub/nested.txt"
echo "to-stderr" >&2
"#;

/// The `--env` the probe runs with.
pub const PROBE_ENV: &str = "EXTRA=from-cli";

/// The probe's input file contents.
pub const PROBE_INPUT: &str = "payload-123";

/// What the probe prints on stdout, in order, in the rich image.
pub const PROBE_STDOUT: &[&str] = &[
    "pwd=/work",
    "greeting=hello",
    "extra=from-cli",
    "removed=absent",
    "data=a-new.txt z-new.txt",
    "motd=welcome to scar, layer 4",
    "private=700",
    "hardlink=same-inode",
    "input=payload-123",
];

/// Run the probe script on `image_ref` in `sandbox` (output folder `out-<out>`).
pub fn run_probe(sandbox: &Sandbox, image_ref: &str, out: &str) -> (RunOutput, std::path::PathBuf) {
    let script = sandbox.script("probe.sh", PROBE_SCRIPT);
    let input = sandbox.input("probe-input.txt", PROBE_INPUT);
    let run = sandbox
        .oneshot(image_ref, &script, out)
        .input(&input)
        .env(PROBE_ENV);
    let output_dir = run.output_dir.clone();
    (run.run(), output_dir)
}

/// Check a probe run: exit 0, the probe's stdout lines in order, the stderr
/// line streamed to stdout, the metrics line last, outputs copied, metrics
/// fields right. `image_digest`, when given, must be the metrics' `ImageDigest`.
pub fn check_probe_run(
    out: &RunOutput,
    output_dir: &Path,
    cache_hit: bool,
    image_digest: Option<&str>,
) {
    assert_eq!(out.code, 0, "probe run failed\n{}", out.describe());
    let lines = out.script_lines();
    let stdout_only: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| *l != "to-stderr")
        .collect();
    assert_eq!(
        stdout_only,
        PROBE_STDOUT,
        "probe output\n{}",
        out.describe()
    );
    assert!(
        lines.contains(&"to-stderr"),
        "the script's stderr line must be streamed to stdout before the metrics line\n{}",
        out.describe()
    );
    assert_eq!(
        std::fs::read_to_string(output_dir.join("copy.txt"))
            .ok()
            .as_deref(),
        Some(PROBE_INPUT),
        "output copy.txt"
    );
    assert_eq!(
        std::fs::read_to_string(output_dir.join("sub/nested.txt"))
            .ok()
            .as_deref(),
        Some("nested\n"),
        "nested output sub/nested.txt"
    );
    let m = out.metrics();
    let problems = emf_problems(&m);
    assert!(
        problems.is_empty(),
        "metrics line problems {problems:?}\n{m:#}"
    );
    assert_eq!(m["CacheHit"], u64::from(cache_hit), "CacheHit\n{m:#}");
    assert_eq!(m["ExitCode"], 0, "ExitCode\n{m:#}");
    assert_eq!(m["InputBytes"], PROBE_INPUT.len(), "InputBytes\n{m:#}");
    assert_eq!(
        m["OutputBytes"],
        PROBE_INPUT.len() + "nested\n".len(),
        "OutputBytes (copy.txt + sub/nested.txt)\n{m:#}"
    );
    assert!(
        m["RequestId"].as_str().is_some_and(|s| !s.is_empty()),
        "RequestId\n{m:#}"
    );
    assert!(m["FunctionName"].is_string(), "FunctionName\n{m:#}");
    if cache_hit {
        assert_eq!(m["PullMs"], 0, "a cache hit does not pull\n{m:#}");
        assert_eq!(m["UnpackMs"], 0, "a cache hit does not unpack\n{m:#}");
    }
    if let Some(digest) = image_digest {
        assert_eq!(m["ImageDigest"], digest, "ImageDigest\n{m:#}");
    }
}

/// Check the rich image's unpacked rootfs: whiteout applied, no `.wh.` files,
/// opaque folder right, override applied, modes, symlink and hardlink kept.
pub fn check_rich_rootfs(rootfs: &Path) {
    assert!(rootfs.is_dir(), "no rootfs at {}", rootfs.display());
    assert!(
        !exists_nofollow(&rootfs.join("etc/removed.txt")),
        "whiteout not applied: etc/removed.txt still in the rootfs"
    );
    let whiteouts: Vec<_> = walk(rootfs)
        .into_iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(".wh."))
        })
        .collect();
    assert!(
        whiteouts.is_empty(),
        "whiteout marker files left in the rootfs: {whiteouts:?}"
    );
    assert_eq!(
        list_names(&rootfs.join("data")),
        ["a-new.txt", "z-new.txt"],
        "opaque /data must hold only the upper layer's files"
    );
    assert_eq!(
        std::fs::read_to_string(rootfs.join("etc/motd")).expect("etc/motd"),
        "welcome to scar, layer 4\n",
        "upper layer overrides lower"
    );
    assert_eq!(
        mode_of(&rootfs.join("opt/private.sh")),
        0o700,
        "mode 0700 kept"
    );
    assert_eq!(
        mode_of(&rootfs.join("bin/busybox")),
        0o755,
        "mode 0755 kept"
    );
    assert_eq!(
        std::fs::read_link(rootfs.join("work/motd")).expect("work/motd is a symlink"),
        Path::new("/etc/motd")
    );
    assert_eq!(
        std::fs::read_link(rootfs.join("bin/sh")).expect("bin/sh is a symlink"),
        Path::new("busybox")
    );
    assert_eq!(
        inode_of(&rootfs.join("opt/tool.txt")),
        inode_of(&rootfs.join("opt/tool-link.txt")),
        "hardlink inside the rootfs must share the inode"
    );
}

/// The cache holds exactly one image, keyed `key` (a `sha256:` digest), and no
/// half-written leftovers.
pub fn check_single_cached_image(cache: &Path, key: &str) {
    assert_eq!(
        cached_images(cache),
        [format!("sha256-{}", digest_hex(key))],
        "CACHE/images"
    );
    assert_eq!(
        cache_tmp_leftovers(cache),
        Vec::<String>::new(),
        "CACHE/tmp leftovers"
    );
}
