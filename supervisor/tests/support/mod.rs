//! Test fixtures for the supervisor's integration tests and benchmark: build
//! container images byte by byte (tar layers, OCI config and manifest), serve
//! them from a real `docker-registry` process, an OCI layout or a `docker save`
//! archive, run the `scar-supervisor` binary and read its metrics line, and fake
//! the Lambda Runtime API for the custom-runtime mode.
//!
//! Self-contained on purpose: a benchmark includes this module with
//! `#[path = "../tests/support/mod.rs"] mod support;`, so nothing here is a
//! `#[test]`, and every helper panics with a message saying what went wrong
//! rather than returning errors a caller would have to unwrap.
//!
//! Map:
//! - [`tarball`]: a hand-written ustar writer (evil names are written verbatim);
//! - [`image`]: [`ImageSpec`], [`Layer`], [`Entry`], [`BuiltImage`] and the three
//!   ways to ship one (registry push, OCI layout, docker archive), [`busybox_layer`];
//! - [`registry`]: [`Registry`], a `docker-registry` on a free loopback port;
//! - [`http`]: a minimal blocking HTTP/1.1 client over `TcpStream`;
//! - [`run`]: [`supervisor_bin`], [`OneShot`] (the `run` subcommand), [`RunOutput`]
//!   (exit code, output, metrics line), [`ChildGuard`] (a long-lived child);
//! - [`sandbox`]: [`Sandbox`], one temporary folder per test (cache, outputs, inputs, scripts);
//! - [`fsutil`]: cache layout paths and filesystem walks used by assertions;
//! - [`lambda_api`]: [`FakeRuntimeApi`], the Lambda Runtime API on loopback;
//! - [`s3`]: [`S3Server`], an in-process S3 endpoint (s3s + s3s-fs) and a blocking client.

// A benchmark uses only part of this module: unused helpers are not errors.
#![allow(dead_code, unused_imports)]

pub mod fsutil;
pub mod http;
pub mod image;
pub mod lambda_api;
pub mod registry;
pub mod run;
pub mod s3;
pub mod sandbox;
pub mod tarball;

pub use fsutil::*;
pub use image::*;
pub use lambda_api::*;
pub use registry::*;
pub use run::*;
pub use s3::*;
pub use sandbox::*;

use sha2::{Digest, Sha256};

/// Lowercase hex of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
    out
}

/// Hex of the sha256 of `bytes` (no `sha256:` prefix).
pub fn sha256_hex(bytes: &[u8]) -> String {
    to_hex(&Sha256::digest(bytes))
}

/// `sha256:<hex>` digest of `bytes`, as OCI descriptors spell it.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", sha256_hex(bytes))
}

/// The hex part of a `sha256:<hex>` digest.
pub fn digest_hex(digest: &str) -> &str {
    digest
        .strip_prefix("sha256:")
        .unwrap_or_else(|| panic!("not a sha256 digest: {digest}"))
}

/// Write `text` to `path` (creating parent folders) and return the path.
pub fn write_file(path: &std::path::Path, text: impl AsRef<[u8]>) -> std::path::PathBuf {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .unwrap_or_else(|e| panic!("create {}: {e}", parent.display()));
    }
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    path.to_path_buf()
}

/// Poll `check` every 20 ms until it returns `Some` or `timeout` passes.
/// The only way these fixtures wait for something to become ready.
pub fn poll_until<T>(
    timeout: std::time::Duration,
    mut check: impl FnMut() -> Option<T>,
) -> Option<T> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if let Some(v) = check() {
            return Some(v);
        }
        if std::time::Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
