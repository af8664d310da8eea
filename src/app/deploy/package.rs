//! The deployment package: a zip for `provided.al2023` holding `bootstrap`
//! (the supervisor, mode 0755) and `script.sh` (mode 0644), which the
//! supervisor reads beside itself.
//!
//! The zip is reproducible: fixed entry order, the zip format's default
//! timestamp (1980-01-01, the `time` feature is off), fixed modes. The same
//! supervisor and script give the same bytes and so the same `CodeSha256`,
//! which lets a redeploy skip UpdateFunctionCode when nothing changed.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use sha2::{Digest, Sha256};

use crate::aws::Backend;

/// A supervisor larger than this is a debug build.
pub const DEBUG_BUILD_SIZE: u64 = 40 * 1024 * 1024;
/// Lambda's limit on a zip uploaded in the request (50 MB).
pub const MAX_ZIP_BYTES: usize = 50 * 1024 * 1024;

/// What `bootstrap` is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "path")]
pub enum Bootstrap {
    /// The supervisor binary itself.
    Binary(PathBuf),
    /// A shell wrapper that execs the supervisor at this absolute path.
    Wrapper(PathBuf),
}

/// A built package.
#[derive(Debug, Clone)]
pub struct Package {
    /// The zip.
    pub zip: Vec<u8>,
    /// base64 of its sha256, as Lambda reports `CodeSha256`.
    pub sha256_b64: String,
    /// What `bootstrap` is.
    pub bootstrap: Bootstrap,
}

/// Finds the supervisor: `SCAR_SUPERVISOR` if set, else `scar-supervisor`
/// beside the running executable, else the one Cargo's `supervisor`
/// profile built next to it (`target/supervisor/` beside `target/release/`).
pub fn find_supervisor() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("SCAR_SUPERVISOR").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(format!(
                "SCAR_SUPERVISOR={} is not a file: point it at a scar-supervisor binary (cargo build --profile supervisor -p scar-supervisor)",
                p.display()
            ))
        };
    }
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_owned));
    let beside = exe_dir.as_ref().map(|d| d.join("scar-supervisor"));
    let profile_build = exe_dir
        .as_ref()
        .and_then(|d| d.parent())
        .map(|t| t.join("supervisor").join("scar-supervisor"));
    if let Some(p) = profile_build.filter(|p| p.is_file())
        && !beside.as_ref().is_some_and(|b| b.is_file())
    {
        return Ok(p);
    }
    match beside {
        Some(p) if p.is_file() => Ok(p),
        other => Err(format!(
            "no supervisor binary{}: build it (cargo build --profile supervisor -p scar-supervisor) and keep it beside scar-tui, or set SCAR_SUPERVISOR=PATH",
            other
                .map(|p| format!(" at {}", p.display()))
                .unwrap_or_default()
        )),
    }
}

/// Quotes a path for `sh` (single quotes, `'` escaped).
fn sh_quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', r"'\''"))
}

/// Builds the zip from `script` and the supervisor at `supervisor`.
pub fn package(script: &str, supervisor: &Path, backend: Backend) -> Result<Package, String> {
    let size = std::fs::metadata(supervisor)
        .map_err(|e| format!("{}: {e}", supervisor.display()))?
        .len();
    let (bootstrap_bytes, bootstrap) = if size > DEBUG_BUILD_SIZE && backend == Backend::Local {
        // A debug supervisor is hundreds of MB: copying it into every
        // function's zip (and the local Lambda's code folder) costs seconds
        // and disk for nothing, since the local Lambda runs on this machine.
        // So `bootstrap` is a wrapper that execs it where it is. The
        // supervisor looks for script.sh beside its own executable, which
        // is no longer the code folder: the wrapper hands the packaged
        // script over as SCAR_SCRIPT (a process variable, not a Lambda one,
        // so Lambda's 4 KB limit does not apply). On AWS the binary itself
        // must go, and a debug build will not fit the zip.
        let abs = std::fs::canonicalize(supervisor)
            .map_err(|e| format!("{}: {e}", supervisor.display()))?;
        let text = format!(
            "#!/bin/sh\n\
             # scar-tui: a debug supervisor ({size} bytes) is run in place on the local backend.\n\
             SCAR_SCRIPT=$(base64 -w0 < \"$(dirname \"$0\")/script.sh\") || exit 1\n\
             export SCAR_SCRIPT\n\
             exec {} \"$@\"\n",
            sh_quote(&abs)
        );
        (text.into_bytes(), Bootstrap::Wrapper(abs))
    } else {
        let bytes =
            std::fs::read(supervisor).map_err(|e| format!("{}: {e}", supervisor.display()))?;
        (bytes, Bootstrap::Binary(supervisor.to_owned()))
    };
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut buf);
        let deflate = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        let err = |e: &dyn std::fmt::Display| format!("building the zip: {e}");
        w.start_file("bootstrap", deflate.unix_permissions(0o755))
            .map_err(|e| err(&e))?;
        w.write_all(&bootstrap_bytes).map_err(|e| err(&e))?;
        w.start_file("script.sh", deflate.unix_permissions(0o644))
            .map_err(|e| err(&e))?;
        w.write_all(script.as_bytes()).map_err(|e| err(&e))?;
        w.finish().map_err(|e| err(&e))?;
    }
    let zip = buf.into_inner();
    if zip.len() > MAX_ZIP_BYTES {
        return Err(format!(
            "the package is {} MB, over Lambda's 50 MB: {} is a debug build; build the release supervisor (cargo build --profile supervisor -p scar-supervisor, see README) and point SCAR_SUPERVISOR at it",
            zip.len() / (1024 * 1024),
            supervisor.display()
        ));
    }
    let sha256_b64 = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&zip));
    Ok(Package {
        zip,
        sha256_b64,
        bootstrap,
    })
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn zip_holds_bootstrap_and_script_with_modes_and_is_reproducible() {
        let dir = tempfile::tempdir().unwrap();
        let sup = dir.path().join("scar-supervisor");
        std::fs::write(&sup, b"\x7fELF fake").unwrap();
        let a = package("echo hi\n", &sup, Backend::Aws).unwrap();
        let b = package("echo hi\n", &sup, Backend::Aws).unwrap();
        assert_eq!(a.sha256_b64, b.sha256_b64);
        assert_eq!(a.bootstrap, Bootstrap::Binary(sup.clone()));
        let mut z = zip::ZipArchive::new(std::io::Cursor::new(a.zip)).unwrap();
        {
            let boot = z.by_name("bootstrap").unwrap();
            assert_eq!(boot.unix_mode().unwrap() & 0o777, 0o755);
        }
        let mut script = z.by_name("script.sh").unwrap();
        assert_eq!(script.unix_mode().unwrap() & 0o777, 0o644);
        let mut s = String::new();
        script.read_to_string(&mut s).unwrap();
        assert_eq!(s, "echo hi\n");
    }

    #[test]
    fn quoting() {
        assert_eq!(sh_quote(Path::new("/a b/it's")), r"'/a b/it'\''s'");
    }
}
