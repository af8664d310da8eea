//! [`Registry`]: Debian's `docker-registry` (distribution v2) on a free
//! loopback port with filesystem storage in a temporary folder; started ready,
//! killed on drop or early with [`Registry::stop`].

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::http;
use super::poll_until;

/// The registry binary (Debian package `docker-registry`).
pub const REGISTRY_BIN: &str = "/usr/bin/docker-registry";

/// A running `docker-registry` process serving plain http on 127.0.0.1.
pub struct Registry {
    child: Option<Child>,
    addr: String,
    dir: tempfile::TempDir,
}

impl Registry {
    /// Write a config, spawn the registry on a free port and poll `GET /v2/`
    /// until it answers 200 (at most ~10 s per attempt; a port lost to a race
    /// is retried on a new one). Panics with the registry's log if it never
    /// comes up.
    pub fn start() -> Registry {
        let dir = tempfile::Builder::new()
            .prefix("scar-registry-")
            .tempdir()
            .expect("registry tempdir");
        let mut last_log = String::new();
        for _attempt in 0..5 {
            let port = free_port();
            let addr = format!("127.0.0.1:{port}");
            let config = dir.path().join("config.yml");
            let storage = dir.path().join("storage");
            std::fs::create_dir_all(&storage).expect("registry storage dir");
            let yaml = format!(
                "version: 0.1\n\
                 log:\n  level: warn\n  accesslog:\n    disabled: true\n\
                 storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
                 http:\n  addr: {addr}\n",
                storage.display()
            );
            std::fs::write(&config, yaml).expect("registry config");
            let log_path = dir.path().join("registry.log");
            let log = std::fs::File::create(&log_path).expect("registry log");
            let mut child = Command::new(REGISTRY_BIN)
                .arg("serve")
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("log fd"))
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| {
                    panic!("spawn {REGISTRY_BIN}: {e}; install Debian's docker-registry package")
                });
            let ready = poll_until(Duration::from_secs(10), || {
                if let Ok(Some(_)) = child.try_wait() {
                    return Some(false);
                }
                match http::request(&addr, "GET", "/v2/", &[], b"", Duration::from_secs(2)) {
                    Ok(r) if r.status == 200 => Some(true),
                    _ => None,
                }
            });
            if ready == Some(true) {
                return Registry {
                    child: Some(child),
                    addr,
                    dir,
                };
            }
            let _ = child.kill();
            let _ = child.wait();
            last_log = std::fs::read_to_string(&log_path).unwrap_or_default();
        }
        panic!("docker-registry did not answer GET /v2/ with 200; its log:\n{last_log}");
    }

    /// `"127.0.0.1:PORT"`.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// `docker://127.0.0.1:PORT/REPO:TAG`.
    pub fn tag_ref(&self, repo: &str, tag: &str) -> String {
        format!("docker://{}/{repo}:{tag}", self.addr)
    }

    /// `docker://127.0.0.1:PORT/REPO@DIGEST` (`digest` is `sha256:<hex>`).
    pub fn digest_ref(&self, repo: &str, digest: &str) -> String {
        format!("docker://{}/{repo}@{digest}", self.addr)
    }

    /// The registry's storage folder.
    pub fn storage_dir(&self) -> PathBuf {
        self.dir.path().join("storage")
    }

    /// Kill the registry now (and wait for it); the port stops answering.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Whether the registry process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Upload one blob: `POST /v2/<repo>/blobs/uploads/`, then a monolithic
    /// `PUT <location>&digest=<digest>`. Panics on an unexpected status.
    pub fn push_blob(&self, repo: &str, digest: &str, blob: &[u8]) {
        let t = Duration::from_secs(30);
        let start = http::request(
            &self.addr,
            "POST",
            &format!("/v2/{repo}/blobs/uploads/"),
            &[],
            b"",
            t,
        )
        .unwrap_or_else(|e| panic!("POST blob upload to {}: {e}", self.addr));
        assert_status(&start, 202, "start blob upload");
        let location = start
            .header("location")
            .expect("upload Location header")
            .to_string();
        let sep = if location.contains('?') { '&' } else { '?' };
        let put = http::request(
            &self.addr,
            "PUT",
            &format!("{location}{sep}digest={digest}"),
            &[("Content-Type", "application/octet-stream")],
            blob,
            t,
        )
        .unwrap_or_else(|e| panic!("PUT blob {digest}: {e}"));
        assert_status(&put, 201, &format!("finish blob upload {digest}"));
    }

    /// `PUT /v2/<repo>/manifests/<reference>` with `media_type` as Content-Type.
    pub fn push_manifest(&self, repo: &str, reference: &str, media_type: &str, manifest: &[u8]) {
        let r = http::request(
            &self.addr,
            "PUT",
            &format!("/v2/{repo}/manifests/{reference}"),
            &[("Content-Type", media_type)],
            manifest,
            Duration::from_secs(30),
        )
        .unwrap_or_else(|e| panic!("PUT manifest {repo}:{reference}: {e}"));
        assert_status(&r, 201, &format!("push manifest {repo}:{reference}"));
    }
}

fn assert_status(r: &http::HttpResponse, want: u16, what: &str) {
    if r.status != want {
        panic!(
            "{what}: registry answered {} (wanted {want}): {}",
            r.status,
            r.text()
        );
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A loopback port that was free a moment ago (bind to port 0, read, close).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}
