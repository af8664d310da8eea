//! Safe unpacking: layers whose entries would land outside the rootfs (`..`,
//! absolute names, paths through symlinks that climb out, hardlinks to outside) are refused
//! with exit 125 and an `error:` line naming the entry, nothing is written
//! outside the rootfs, and no half-unpacked image is left in the cache; a
//! device node is skipped and the run goes on.

use std::path::Path;

use crate::support::*;

/// The script every evil image is run with: it must never run when the image
/// is refused.
const SCRIPT: &str = "echo ran > \"$SCAR_OUTPUT_DIR/ran.txt\"\necho script-ran\n";

/// Build busybox + one gzip layer of `entries`, push it to a fresh registry
/// and run [`SCRIPT`] on it in `sandbox`.
fn run_evil(sandbox: &Sandbox, name: &str, entries: Vec<Entry>) -> (RunOutput, std::path::PathBuf) {
    let registry = Registry::start();
    let image = ImageSpec::busybox()
        .with_layer(
            Compression::Gzip,
            vec![Entry::file("etc/before", "ok\n", 0o644)],
        )
        .with_layer(Compression::Gzip, entries)
        .build();
    image.push(&registry, &format!("evil/{name}"), "v1");
    let script = sandbox.script("s.sh", SCRIPT);
    let run = sandbox.oneshot(
        &registry.tag_ref(&format!("evil/{name}"), "v1"),
        &script,
        "o",
    );
    let output_dir = run.output_dir.clone();
    (run.run(), output_dir)
}

/// Exit 125, one `error:` line mentioning one of `needles`, the script never
/// ran, and the cache holds no image and no half-written unpack.
fn assert_refused(sandbox: &Sandbox, out: &RunOutput, output_dir: &Path, needles: &[&str]) {
    assert_eq!(out.code, EXIT_SUPERVISOR_ERROR, "{}", out.describe());
    let errors = out.error_lines();
    assert_eq!(
        errors.len(),
        1,
        "want exactly one error: line\n{}",
        out.describe()
    );
    assert!(
        needles.iter().any(|n| errors[0].contains(n)),
        "error line must name the entry (one of {needles:?}): {}",
        errors[0]
    );
    assert!(!out.stderr.contains("panicked"), "{}", out.describe());
    assert!(
        !out.stdout.contains("script-ran"),
        "script ran on a refused image\n{}",
        out.describe()
    );
    assert!(
        !output_dir.join("ran.txt").exists(),
        "script ran on a refused image"
    );
    assert_eq!(
        cached_images(&sandbox.cache()),
        Vec::<String>::new(),
        "half-unpacked image left in CACHE/images"
    );
    assert_eq!(
        cache_tmp_leftovers(&sandbox.cache()),
        Vec::<String>::new(),
        "leftovers in CACHE/tmp"
    );
}

/// A folder outside the sandbox (and so outside the cache) holding one file.
fn outside_dir() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("scar-outside-")
        .tempdir()
        .expect("outside dir");
    write_file(&dir.path().join("secret.txt"), "host secret\n");
    dir
}

#[test]
fn dotdot_entry_is_refused() {
    let sandbox = Sandbox::new();
    let (out, output_dir) = run_evil(
        &sandbox,
        "dotdot",
        vec![Entry::raw_file("../escape", "pwned\n")],
    );
    assert_eq!(
        find_named(sandbox.path(), "escape"),
        Vec::<std::path::PathBuf>::new()
    );
    assert_refused(&sandbox, &out, &output_dir, &["../escape"]);
}

#[test]
fn absolute_entry_is_refused() {
    let sandbox = Sandbox::new();
    let outside = outside_dir();
    let before = snapshot(outside.path());
    let target = format!("{}/abs-escape", outside.path().display());
    let (out, output_dir) = run_evil(
        &sandbox,
        "absolute",
        vec![Entry::raw_file(&target, "pwned\n")],
    );
    assert_eq!(
        snapshot(outside.path()),
        before,
        "folder outside the cache was written to"
    );
    assert_refused(&sandbox, &out, &output_dir, &[&target, "abs-escape"]);
    assert_eq!(
        find_named(sandbox.path(), "abs-escape"),
        Vec::<std::path::PathBuf>::new()
    );
}

/// An absolute symlink is resolved as if the image root were `/` (what
/// Docker does, and what images such as Debian's `var/run -> /run` rely on):
/// the write lands inside the rootfs, never in the real folder it names.
#[test]
fn entry_through_absolute_symlink_stays_inside_the_rootfs() {
    let sandbox = Sandbox::new();
    let outside = outside_dir();
    let before = snapshot(outside.path());
    let link_target = outside.path().display().to_string();
    let (out, output_dir) = run_evil(
        &sandbox,
        "abs-symlink",
        vec![
            Entry::symlink("link", &link_target),
            Entry::file("link/pwned", "pwned\n", 0o644),
        ],
    );
    assert_eq!(
        snapshot(outside.path()),
        before,
        "write went through the symlink to outside"
    );
    assert_eq!(out.code, 0, "{}", out.describe());
    assert!(output_dir.join("ran.txt").exists(), "{}", out.describe());
    let digest = out.metrics()["ImageDigest"].as_str().unwrap().to_owned();
    let inside = rootfs_dir(&sandbox.cache(), &digest)
        .join(link_target.trim_start_matches('/'))
        .join("pwned");
    assert_eq!(std::fs::read_to_string(&inside).unwrap(), "pwned\n");
}

#[test]
fn entry_through_relative_symlink_is_refused() {
    let sandbox = Sandbox::new();
    let (out, output_dir) = run_evil(
        &sandbox,
        "rel-symlink",
        vec![
            Entry::symlink("up", "../../.."),
            Entry::file("up/pwned", "pwned\n", 0o644),
        ],
    );
    assert_eq!(
        find_named(sandbox.path(), "pwned"),
        Vec::<std::path::PathBuf>::new()
    );
    assert_refused(&sandbox, &out, &output_dir, &["up/pwned"]);
}

#[test]
fn hardlink_to_relative_outside_path_is_refused() {
    let sandbox = Sandbox::new();
    let outside = outside_dir();
    let before = snapshot(outside.path());
    // Enough `..` to reach `/` from wherever the rootfs sits, then down to the
    // outside file (the shape of `../../etc/passwd`, aimed at a file we own).
    let relative = outside.path().strip_prefix("/").expect("absolute tempdir");
    let target = format!("{}{}/secret.txt", "../".repeat(16), relative.display());
    let (out, output_dir) = run_evil(
        &sandbox,
        "hardlink-rel",
        vec![Entry::hardlink("evil-hard", &target)],
    );
    assert_eq!(
        snapshot(outside.path()),
        before,
        "outside file gained a link or changed"
    );
    assert_refused(&sandbox, &out, &output_dir, &["evil-hard", &target]);
}

#[test]
fn hardlink_to_absolute_host_path_is_refused() {
    let sandbox = Sandbox::new();
    let outside = outside_dir();
    let before = snapshot(outside.path());
    let target = format!("{}/secret.txt", outside.path().display());
    let (out, output_dir) = run_evil(
        &sandbox,
        "hardlink-abs",
        vec![Entry::hardlink("evil-hard", &target)],
    );
    assert_eq!(
        snapshot(outside.path()),
        before,
        "outside file gained a link or changed"
    );
    assert_refused(&sandbox, &out, &output_dir, &["evil-hard", &target]);
}

#[test]
fn hardlink_through_symlink_to_host_root_is_refused() {
    // `hostroot -> /`, then a hardlink whose target goes through it to a host file.
    let sandbox = Sandbox::new();
    let outside = outside_dir();
    let before = snapshot(outside.path());
    let relative = outside.path().strip_prefix("/").expect("absolute tempdir");
    let target = format!("hostroot/{}/secret.txt", relative.display());
    let (out, output_dir) = run_evil(
        &sandbox,
        "hardlink-via-symlink",
        vec![
            Entry::symlink("hostroot", "/"),
            Entry::hardlink("evil-hard", &target),
        ],
    );
    assert_eq!(
        snapshot(outside.path()),
        before,
        "outside file gained a link or changed"
    );
    assert_refused(&sandbox, &out, &output_dir, &["evil-hard", &target]);
}

#[test]
fn char_device_is_skipped_and_run_goes_on() {
    let sandbox = Sandbox::new();
    let registry = Registry::start();
    let image = ImageSpec::busybox()
        .with_layer(
            Compression::Gzip,
            vec![
                Entry::char_device("dev/evil-null", 1, 3),
                Entry::file("etc/after", "after\n", 0o644),
            ],
        )
        .build();
    image.push(&registry, "evil/device", "v1");
    let script = sandbox.script("s.sh", "cat /etc/after\n");

    let out = sandbox
        .oneshot(&registry.tag_ref("evil/device", "v1"), &script, "o")
        .run();

    assert_eq!(
        out.code,
        0,
        "a device node must be skipped, not fail the run\n{}",
        out.describe()
    );
    assert_eq!(out.script_lines(), ["after"], "{}", out.describe());
    let rootfs = rootfs_dir(&sandbox.cache(), &image.manifest_digest);
    assert!(
        rootfs.join("etc/after").is_file(),
        "entries after the device node unpacked"
    );
    assert!(
        !exists_nofollow(&rootfs.join("dev/evil-null")),
        "device node created in the rootfs"
    );
}
