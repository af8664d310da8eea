//! The console's demo, offline: an OCI image layout built from Debian's
//! static busybox (also what `scar-tui local demo-image` and the tests build), the
//! function definition of `config/demo.toml` with the script of
//! `assets/scripts/demo-upper.sh` (both compiled in, so an installed
//! binary needs no source tree), and a few sample files to upload.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::definition::{self, FunctionDefinition};

/// The definition, as shipped.
pub const DEFINITION: &str = include_str!("../../config/demo.toml");
/// The script, as shipped.
pub const SCRIPT: &str = include_str!("../../assets/scripts/demo-upper.sh");

/// Why the demo cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// No static busybox.
    #[error(
        "{path} is not a static busybox: install Debian's busybox-static (apt-get install busybox-static), or set SCAR_BUSYBOX to one"
    )]
    NoBusybox {
        /// Where it was looked for.
        path: PathBuf,
    },
    /// A file could not be written or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The shipped definition does not load (a build defect).
    #[error("the demo definition: {0}")]
    Definition(#[from] definition::DefinitionError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DemoError + '_ {
    move |source| DemoError::Io {
        path: path.to_owned(),
        source,
    }
}

/// True if `bytes` is a 64-bit little-endian ELF without a program
/// interpreter (statically linked): only such a busybox runs in an image
/// with no libc.
pub fn is_static_elf(bytes: &[u8]) -> bool {
    let u16_at = |o: usize| {
        bytes
            .get(o..o + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    };
    let u32_at = |o: usize| {
        bytes
            .get(o..o + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let u64_at = |o: usize| {
        bytes
            .get(o..o + 8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes)
    };
    if bytes.get(..6) != Some(b"\x7fELF\x02\x01") {
        return false;
    }
    let (Some(phoff), Some(phentsize), Some(phnum)) = (u64_at(0x20), u16_at(0x36), u16_at(0x38))
    else {
        return false;
    };
    const PT_INTERP: u32 = 3;
    (0..usize::from(phnum)).all(|i| {
        let at = phoff as usize + i * usize::from(phentsize);
        u32_at(at).is_some_and(|t| t != PT_INTERP)
    })
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Builds the demo image layout in `dir` (kept if already there) and
/// returns its reference, `oci:DIR:demo`.
pub fn build_image(dir: &Path) -> Result<String, DemoError> {
    let reference = format!("oci:{}:demo", dir.display());
    if dir.join("index.json").is_file() {
        return Ok(reference);
    }
    let busybox = std::env::var_os("SCAR_BUSYBOX")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/bin/busybox"));
    let bin = std::fs::read(&busybox).map_err(|_| DemoError::NoBusybox {
        path: busybox.clone(),
    })?;
    if !is_static_elf(&bin) {
        return Err(DemoError::NoBusybox { path: busybox });
    }
    let list = std::process::Command::new(&busybox)
        .arg("--list")
        .output()
        .map_err(io(&busybox))?;
    let applets = String::from_utf8_lossy(&list.stdout).into_owned();
    let layer = layer_tar(&bin, applets.lines()).map_err(io(dir))?;
    let diff_id = sha256_hex(&layer);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&layer).map_err(io(dir))?;
    let gz = gz.finish().map_err(io(dir))?;
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","config":{{"Env":["PATH=/bin","DEMO=1"],"WorkingDir":"/work"}},"rootfs":{{"type":"layers","diff_ids":["sha256:{diff_id}"]}}}}"#
    );
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:{}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:{}","size":{}}}]}}"#,
        sha256_hex(config.as_bytes()),
        config.len(),
        sha256_hex(&gz),
        gz.len()
    );
    let index = format!(
        r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{}","size":{},"annotations":{{"org.opencontainers.image.ref.name":"demo"}}}}]}}"#,
        sha256_hex(manifest.as_bytes()),
        manifest.len()
    );
    // Written beside, then renamed: a half-built layout never looks done.
    let parent = dir.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(io(parent))?;
    let tmp = parent.join(format!(".demo-image.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let blobs = tmp.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).map_err(io(&blobs))?;
    for bytes in [&gz[..], config.as_bytes(), manifest.as_bytes()] {
        let p = blobs.join(sha256_hex(bytes));
        std::fs::write(&p, bytes).map_err(io(&p))?;
    }
    let p = tmp.join("oci-layout");
    std::fs::write(&p, r#"{"imageLayoutVersion":"1.0.0"}"#).map_err(io(&p))?;
    let p = tmp.join("index.json");
    std::fs::write(&p, index).map_err(io(&p))?;
    let _ = std::fs::remove_dir_all(dir);
    std::fs::rename(&tmp, dir).map_err(io(dir))?;
    Ok(reference)
}

fn layer_tar<'a>(
    busybox: &[u8],
    applets: impl Iterator<Item = &'a str>,
) -> std::io::Result<Vec<u8>> {
    let mut b = tar::Builder::new(Vec::new());
    let dir = |b: &mut tar::Builder<Vec<u8>>, path: &str, mode: u32| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_mode(mode);
        h.set_size(0);
        h.set_mtime(0);
        b.append_data(&mut h, path, std::io::empty())
    };
    for d in ["bin/", "etc/", "proc/", "dev/", "work/"] {
        dir(&mut b, d, 0o755)?;
    }
    dir(&mut b, "tmp/", 0o1777)?;
    let mut h = tar::Header::new_gnu();
    h.set_mode(0o755);
    h.set_size(busybox.len() as u64);
    h.set_mtime(0);
    b.append_data(&mut h, "bin/busybox", busybox)?;
    for a in applets
        .map(str::trim)
        .filter(|a| !a.is_empty() && *a != "busybox")
    {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_mode(0o777);
        h.set_size(0);
        h.set_mtime(0);
        b.append_link(&mut h, format!("bin/{a}"), "busybox")?;
    }
    let passwd = b"demo:x:0:0:demo:/tmp:/bin/sh\n";
    let mut h = tar::Header::new_gnu();
    h.set_mode(0o644);
    h.set_size(passwd.len() as u64);
    h.set_mtime(0);
    b.append_data(&mut h, "etc/passwd", &passwd[..])?;
    b.into_inner()
}

/// Writes the shipped definition and script under `dir` and loads the
/// definition, its image pointed at `image`.
pub fn definition(dir: &Path, image: &str) -> Result<FunctionDefinition, DemoError> {
    let config = dir.join("config");
    let scripts = dir.join("assets/scripts");
    std::fs::create_dir_all(&config).map_err(io(&config))?;
    std::fs::create_dir_all(&scripts).map_err(io(&scripts))?;
    let def_path = config.join("demo.toml");
    std::fs::write(&def_path, DEFINITION).map_err(io(&def_path))?;
    let script_path = scripts.join("demo-upper.sh");
    std::fs::write(&script_path, SCRIPT).map_err(io(&script_path))?;
    let mut def = definition::from_toml(DEFINITION, &def_path)?;
    def.image = image.to_owned();
    Ok(def)
}

/// Writes `n` small text files under `dir/samples` and returns the folder.
pub fn samples(dir: &Path, n: usize) -> Result<PathBuf, DemoError> {
    let out = dir.join("samples");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).map_err(io(&out))?;
    for i in 1..=n {
        let p = out.join(format!("fox-{i:02}.txt"));
        std::fs::write(
            &p,
            format!("sample {i}: the quick brown fox jumps over the lazy dog\n"),
        )
        .map_err(io(&p))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_definition_loads_with_its_script() {
        let dir = tempfile::tempdir().unwrap();
        let def = definition(dir.path(), "oci:/x:demo").unwrap();
        assert_eq!(def.name, "demo");
        assert_eq!(def.image, "oci:/x:demo");
        assert_eq!(def.input.as_ref().unwrap().bucket, "demo-in");
        assert_eq!(def.outputs[0].bucket, "demo-out");
        assert!(def.script.text().unwrap().contains("tr 'a-z' 'A-Z'"));
    }

    #[test]
    fn only_a_static_elf_passes() {
        assert!(!is_static_elf(b"#!/bin/sh\n"));
        let sh = std::fs::read("/bin/sh").unwrap();
        assert!(!is_static_elf(&sh), "/bin/sh is dynamically linked");
        if let Ok(b) = std::fs::read("/bin/busybox") {
            assert!(is_static_elf(&b));
        }
    }
}
