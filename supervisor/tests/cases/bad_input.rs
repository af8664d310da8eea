//! Bad input to the one-shot mode: a missing script, an image that does not
//! exist, an unreachable registry, an unknown repository, a wrong digest, a
//! blob whose bytes do not match its digest (in an OCI layout and in a
//! registry's storage). Each is exit 125 with one
//! `error:` line on stderr naming the thing, no panic, no half-written cache.

use std::time::Duration;

use crate::support::*;

/// Exit 125, exactly one `error:` line containing every one of `needles`, no
/// panic, nothing cached.
fn assert_clear_error(sandbox: &Sandbox, out: &RunOutput, needles: &[&str]) {
    assert_eq!(out.code, EXIT_SUPERVISOR_ERROR, "{}", out.describe());
    let errors = out.error_lines();
    assert_eq!(
        errors.len(),
        1,
        "want exactly one line starting with error:\n{}",
        out.describe()
    );
    for needle in needles {
        assert!(
            errors[0].contains(needle),
            "error line must name {needle:?}: {}",
            errors[0]
        );
    }
    assert!(!out.stderr.contains("panicked"), "{}", out.describe());
    assert_eq!(
        cached_images(&sandbox.cache()),
        Vec::<String>::new(),
        "nothing cached"
    );
    assert_eq!(
        cache_tmp_leftovers(&sandbox.cache()),
        Vec::<String>::new(),
        "CACHE/tmp leftovers"
    );
}

fn busybox_layout(sandbox: &Sandbox) -> String {
    let layout = sandbox.path().join("layout");
    ImageSpec::busybox()
        .build()
        .write_oci_layout(&layout, "latest");
    format!("oci:{}", layout.display())
}

#[test]
fn missing_script_is_a_clear_error() {
    let sandbox = Sandbox::new();
    let image = busybox_layout(&sandbox);
    let missing = sandbox.path().join("no-such-dir/script.sh");
    let out = sandbox.oneshot(&image, &missing, "o").run();
    assert_eq!(out.code, EXIT_SUPERVISOR_ERROR, "{}", out.describe());
    let errors = out.error_lines();
    assert_eq!(errors.len(), 1, "{}", out.describe());
    assert!(
        errors[0].contains(&missing.display().to_string()),
        "error must name the script path: {}",
        errors[0]
    );
    assert!(!out.stderr.contains("panicked"), "{}", out.describe());
}

#[test]
fn unknown_image_sources_are_clear_errors() {
    let sandbox = Sandbox::new();
    let script = sandbox.script("s.sh", "echo hi\n");
    let out = sandbox.oneshot("oci:/nonexistent", &script, "o").run();
    assert_clear_error(&sandbox, &out, &["/nonexistent"]);

    let archive = sandbox.path().join("missing.tar");
    let out = sandbox
        .oneshot(
            &format!("docker-archive:{}", archive.display()),
            &script,
            "o2",
        )
        .run();
    assert_clear_error(&sandbox, &out, &[&archive.display().to_string()]);
}

#[test]
fn unreachable_registry_is_a_clear_error() {
    let sandbox = Sandbox::new();
    let script = sandbox.script("s.sh", "echo hi\n");
    let out = sandbox
        .oneshot("docker://127.0.0.1:1/x:y", &script, "o")
        .limit(Duration::from_secs(90))
        .run();
    assert_clear_error(&sandbox, &out, &["127.0.0.1:1"]);
    assert!(
        out.elapsed < Duration::from_secs(60),
        "took {:?}",
        out.elapsed
    );
}

#[test]
fn unknown_repository_is_a_clear_error() {
    let sandbox = Sandbox::new();
    let registry = Registry::start();
    let script = sandbox.script("s.sh", "echo hi\n");
    let out = sandbox
        .oneshot(&registry.tag_ref("no/such-repo", "v9"), &script, "o")
        .run();
    assert_clear_error(&sandbox, &out, &["no/such-repo"]);
}

#[test]
fn wrong_digest_is_a_clear_error() {
    let sandbox = Sandbox::new();
    let registry = Registry::start();
    ImageSpec::busybox()
        .build()
        .push(&registry, "scar/repo", "v1");
    let script = sandbox.script("s.sh", "echo hi\n");
    let zeros = format!("sha256:{}", "0".repeat(64));
    let out = sandbox
        .oneshot(&registry.digest_ref("scar/repo", &zeros), &script, "o")
        .run();
    assert_clear_error(&sandbox, &out, &["sha256:0000000000"]);
}

#[test]
fn blob_not_matching_its_digest_is_refused() {
    let sandbox = Sandbox::new();
    let image = ImageSpec::busybox()
        .with_layer(
            Compression::Gzip,
            vec![Entry::file("etc/x", "original\n", 0o644)],
        )
        .build();
    let layout = sandbox.path().join("layout");
    image.write_oci_layout(&layout, "latest");
    // Different bytes stored under the original digest: only a digest check can tell.
    let top = image.layers.last().expect("layer");
    let tampered = ImageSpec::default()
        .with_layer(
            Compression::Gzip,
            vec![Entry::file("etc/x", "tampered\n", 0o644)],
        )
        .build();
    let blob_path = layout.join("blobs/sha256").join(digest_hex(&top.digest));
    std::fs::write(&blob_path, &tampered.layers[0].blob).expect("overwrite blob");
    let script = sandbox.script("s.sh", "cat /etc/x\n");

    let out = sandbox
        .oneshot(&format!("oci:{}", layout.display()), &script, "o")
        .run();

    assert_clear_error(&sandbox, &out, &[&digest_hex(&top.digest)[..12]]);
    assert!(!out.stdout.contains("tampered"), "{}", out.describe());
}

#[test]
fn registry_blob_not_matching_its_digest_is_refused() {
    let sandbox = Sandbox::new();
    let registry = Registry::start();
    let layer = |text: &str| vec![Entry::file("etc/x", text, 0o644)];
    let image = ImageSpec::busybox()
        .with_layer(Compression::None, layer("original\n"))
        .build();
    image.push(&registry, "scar/repo", "v1");
    // The registry serves what its storage holds: replace the stored blob by
    // another of the same size, so only a digest check can tell.
    let top = image.layers.last().expect("layer");
    let tampered = ImageSpec::default()
        .with_layer(Compression::None, layer("tampered\n"))
        .build();
    let tampered = &tampered.layers[0].blob;
    assert_eq!(tampered.len(), top.blob.len(), "same size");
    let hex = digest_hex(&top.digest);
    let stored = registry
        .storage_dir()
        .join("docker/registry/v2/blobs/sha256")
        .join(&hex[..2])
        .join(hex)
        .join("data");
    assert!(
        stored.is_file(),
        "registry storage layout: {}",
        stored.display()
    );
    std::fs::write(&stored, tampered).expect("overwrite the stored blob");
    let script = sandbox.script("s.sh", "cat /etc/x\n");

    let out = sandbox
        .oneshot(&registry.tag_ref("scar/repo", "v1"), &script, "o")
        .run();

    assert_clear_error(&sandbox, &out, &[&hex[..12]]);
    assert!(!out.stdout.contains("tampered"), "{}", out.describe());
}
