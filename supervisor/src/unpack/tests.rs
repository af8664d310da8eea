//! Tests of the unpacker as a whole: layers built in memory, applied to a
//! temporary root, and the resulting tree (or refusal) checked.

use std::io::Write;

use super::*;

fn tar_of(build: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    build(&mut b);
    b.into_inner().unwrap()
}

fn file(b: &mut tar::Builder<Vec<u8>>, path: &str, data: &[u8], mode: u32) {
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(mode);
    h.set_entry_type(tar::EntryType::Regular);
    b.append_data(&mut h, path, data).unwrap();
}

fn link(b: &mut tar::Builder<Vec<u8>>, kind: tar::EntryType, path: &str, target: &str) {
    let mut h = tar::Header::new_gnu();
    h.set_size(0);
    h.set_mode(0o777);
    h.set_entry_type(kind);
    b.append_link(&mut h, path, target).unwrap();
}

fn apply(root: &Path, layer: &[u8]) -> Result<LayerStats, UnpackError> {
    let mut u = Unpacker::new(root);
    let s = u.apply_layer(layer, "test", &Expected::default())?;
    u.finish()?;
    Ok(s)
}

#[test]
fn files_links_and_modes() {
    let dir = tempfile::tempdir().unwrap();
    let layer = tar_of(|b| {
        file(b, "usr/bin/tool", b"#!/bin/sh\n", 0o750);
        link(b, tar::EntryType::Symlink, "bin", "usr/bin");
        link(b, tar::EntryType::Link, "usr/bin/tool2", "usr/bin/tool");
        // Written through the `bin -> usr/bin` symlink: lands inside.
        file(b, "bin/extra", b"x", 0o644);
    });
    let s = apply(dir.path(), &layer).unwrap();
    assert_eq!(s.entries, 4);
    let tool = dir.path().join("usr/bin/tool");
    assert_eq!(
        fs::metadata(&tool).unwrap().permissions().mode() & 0o7777,
        0o750
    );
    assert_eq!(fs::read(dir.path().join("usr/bin/extra")).unwrap(), b"x");
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        fs::metadata(&tool).unwrap().ino(),
        fs::metadata(dir.path().join("usr/bin/tool2"))
            .unwrap()
            .ino()
    );
}

#[test]
fn whiteouts_and_opaque_only_touch_lower_layers() {
    let dir = tempfile::tempdir().unwrap();
    let lower = tar_of(|b| {
        file(b, "etc/a", b"a", 0o644);
        file(b, "etc/b", b"b", 0o644);
        file(b, "data/old1", b"1", 0o644);
        file(b, "data/old2", b"2", 0o644);
    });
    let upper = tar_of(|b| {
        file(b, "etc/.wh.a", b"", 0o644);
        file(b, "data/new", b"n", 0o644);
        // Opaque marker after the same layer's new file: the new file stays.
        file(b, "data/.wh..wh..opq", b"", 0o644);
    });
    let mut u = Unpacker::new(dir.path());
    u.apply_layer(&lower[..], "lower", &Expected::default())
        .unwrap();
    u.apply_layer(&upper[..], "upper", &Expected::default())
        .unwrap();
    u.finish().unwrap();
    assert!(!dir.path().join("etc/a").exists());
    assert!(dir.path().join("etc/b").exists());
    assert!(!dir.path().join("etc/.wh.a").exists());
    let mut names: Vec<_> = fs::read_dir(dir.path().join("data"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["new"]);
}

#[test]
fn escapes_are_refused_and_nothing_lands_outside() {
    let outside = tempfile::tempdir().unwrap();
    let out = outside.path().to_str().unwrap().to_owned();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "absolute symlink parent",
            tar_of(|b| {
                // An absolute target is resolved inside the root: this creates
                // ROOT/<outside path>/pwned, never the real outside folder.
                link(b, tar::EntryType::Symlink, "l", &out);
                file(b, "l/pwned", b"x", 0o644);
            }),
        ),
        (
            "relative climb",
            tar_of(|b| {
                link(b, tar::EntryType::Symlink, "up", "../../../../../../../..");
                file(b, "up/pwned", b"x", 0o644);
            }),
        ),
        (
            "hardlink absolute",
            tar_of(|b| {
                link(b, tar::EntryType::Link, "h", "/etc/passwd");
            }),
        ),
    ];
    for (name, layer) in cases {
        let root = tempfile::tempdir().unwrap();
        let result = apply(root.path(), &layer);
        if name == "absolute symlink parent" {
            result.unwrap();
            assert!(
                root.path()
                    .join(out.trim_start_matches('/'))
                    .join("pwned")
                    .exists()
            );
        } else {
            let e = result.unwrap_err();
            assert!(matches!(e, UnpackError::Unsafe { .. }), "{name}: {e}");
        }
        assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0, "{name}");
    }
}

#[test]
fn raw_evil_names_are_refused() {
    for evil in ["../escape", "/abs", "a/../../b"] {
        let mut h = tar::Header::new_gnu();
        // The tar crate's setters refuse these names; write them raw.
        let name = &mut h.as_old_mut().name;
        name[..evil.len()].copy_from_slice(evil.as_bytes());
        h.set_size(1);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_cksum();
        let mut data = h.as_bytes().to_vec();
        data.extend_from_slice(&[b'x'; 512][..512]);
        data.extend_from_slice(&[0; 1024]);
        let root = tempfile::tempdir().unwrap();
        let e = apply(root.path(), &data).unwrap_err();
        assert!(e.to_string().contains(evil), "{e}");
    }
}

#[test]
fn digests_are_checked() {
    let layer = tar_of(|b| file(b, "f", b"data", 0o644));
    let root = tempfile::tempdir().unwrap();
    let mut u = Unpacker::new(root.path());
    let good = Expected {
        blob: Some(sha256_digest(&layer)),
        diff_id: Some(sha256_digest(&layer)),
    };
    u.apply_layer(&layer[..], "l", &good).unwrap();
    let bad = Expected {
        blob: Some(format!("sha256:{}", "0".repeat(64))),
        diff_id: None,
    };
    let e = u.apply_layer(&layer[..], "l", &bad).unwrap_err();
    assert!(matches!(e, UnpackError::Digest { what: "blob", .. }), "{e}");
}

#[test]
fn gzip_and_zstd_are_recognised() {
    let layer = tar_of(|b| file(b, "f", b"data", 0o644));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&layer).unwrap();
    let gz = gz.finish().unwrap();
    let zst = zstd::encode_all(&layer[..], 1).unwrap();
    for blob in [gz, zst] {
        let root = tempfile::tempdir().unwrap();
        let mut u = Unpacker::new(root.path());
        let expected = Expected {
            blob: Some(sha256_digest(&blob)),
            diff_id: Some(sha256_digest(&layer)),
        };
        u.apply_layer(&blob[..], "l", &expected).unwrap();
        assert_eq!(fs::read(root.path().join("f")).unwrap(), b"data");
    }
}
