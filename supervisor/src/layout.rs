//! Images from local files: OCI image layouts and `docker save` archives.
//!
//! Both are read in place: layers are streamed from the layout's blob files
//! or from their byte ranges inside the archive, never copied first. An OCI
//! layout is verified by blob digests; a docker archive by its config's
//! digest (the image id) and each layer's diff_id.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::cache::{Cache, CachedImage};
use crate::image::{ImageConfig, ImageError, PullTimer, apply_layer, install_blocking};
use crate::unpack::{Expected, sha256_digest};

const REF_NAME: &str = "org.opencontainers.image.ref.name";
const INDEX_TYPES: [&str; 2] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

#[derive(Debug, Deserialize)]
struct Descriptor {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    digest: String,
    #[serde(default)]
    annotations: HashMap<String, String>,
    #[serde(default)]
    platform: Option<Platform>,
}

#[derive(Debug, Deserialize)]
struct Platform {
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    os: String,
}

#[derive(Debug, Deserialize)]
struct Index {
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Vec<Descriptor>,
}

#[derive(Debug, Deserialize)]
struct Manifest {
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    config: Descriptor,
    #[serde(default)]
    layers: Vec<Descriptor>,
}

/// The architecture name images use for the machine we run on.
fn oci_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// Unpacks an image from an OCI image layout.
pub(crate) fn pull_oci_layout(
    cache: &Cache,
    dir: &Path,
    tag: Option<&str>,
    shown: &str,
) -> Result<(CachedImage, Option<PullTimer>), ImageError> {
    let local = |path: &Path, detail: String| ImageError::Local {
        reference: shown.to_owned(),
        path: path.to_owned(),
        detail,
    };
    let index_path = dir.join("index.json");
    let index_bytes = std::fs::read(&index_path).map_err(|e| ImageError::NotFound {
        reference: shown.to_owned(),
        detail: format!("{}: {e} (is it an OCI image layout?)", index_path.display()),
    })?;
    let index: Index = serde_json::from_slice(&index_bytes)
        .map_err(|e| local(&index_path, format!("not a valid OCI index: {e}")))?;
    let names: Vec<&str> = index
        .manifests
        .iter()
        .filter_map(|m| m.annotations.get(REF_NAME).map(String::as_str))
        .collect();
    let chosen = match tag {
        Some(t) => index
            .manifests
            .iter()
            .find(|m| m.annotations.get(REF_NAME).map(String::as_str) == Some(t)),
        None if index.manifests.len() == 1 => index.manifests.first(),
        None => None,
    };
    let mut desc = match chosen {
        Some(d) => d,
        None => {
            return Err(ImageError::NotFound {
                reference: shown.to_owned(),
                detail: match tag {
                    Some(t) => format!(
                        "no manifest tagged {t:?} in {}; tags there: {names:?}",
                        index_path.display()
                    ),
                    None => format!(
                        "{} holds {} manifests; name one with oci:PATH:TAG (tags: {names:?})",
                        index_path.display(),
                        index.manifests.len()
                    ),
                },
            });
        }
    };
    // Follow nested indexes down to the manifest for this platform.
    let mut nested;
    let mut depth = 0;
    let (manifest_digest, manifest) = loop {
        let bytes = read_blob(dir, &desc.digest, shown)?;
        let is_index = INDEX_TYPES.contains(&desc.media_type.as_str())
            || serde_json::from_slice::<Index>(&bytes)
                .ok()
                .and_then(|i| i.media_type)
                .is_some_and(|t| INDEX_TYPES.contains(&t.as_str()));
        if !is_index {
            let m: Manifest = serde_json::from_slice(&bytes)
                .map_err(|e| local(dir, format!("manifest {} is not valid: {e}", desc.digest)))?;
            let _ = &m.media_type;
            break (desc.digest.clone(), m);
        }
        depth += 1;
        if depth > 4 {
            return Err(local(dir, "indexes nested too deep".into()));
        }
        nested = serde_json::from_slice::<Index>(&bytes)
            .map_err(|e| local(dir, format!("index {} is not valid: {e}", desc.digest)))?;
        let found = nested.manifests.iter().position(|m| {
            m.platform
                .as_ref()
                .is_some_and(|p| p.os == "linux" && p.architecture == oci_arch())
        });
        match found {
            Some(i) => desc = &nested.manifests[i],
            None => {
                return Err(ImageError::Invalid {
                    reference: shown.to_owned(),
                    detail: format!("the image has no linux/{} variant", oci_arch()),
                });
            }
        }
    };
    let config_bytes = read_blob(dir, &manifest.config.digest, shown)?;
    let cfg = ImageConfig::parse(shown, &config_bytes)?;
    let meta = cfg.meta(&manifest_digest, shown);
    install_blocking(cache, meta, shown, |unpacker, timer| {
        for layer in &manifest.layers {
            let path = blob_path(dir, &layer.digest, shown)?;
            let file = File::open(&path)
                .map_err(|e| local(&path, format!("layer blob unreadable: {e}")))?;
            let expected = Expected {
                blob: Some(layer.digest.clone()),
                diff_id: None,
            };
            apply_layer(unpacker, timer, shown, file, &layer.digest, &expected)?;
        }
        Ok(())
    })
}

fn blob_path(dir: &Path, digest: &str, shown: &str) -> Result<PathBuf, ImageError> {
    let bad = || ImageError::Invalid {
        reference: shown.to_owned(),
        detail: format!("malformed digest {digest:?}"),
    };
    let (alg, hex) = digest.split_once(':').ok_or_else(bad)?;
    if !alg.chars().all(|c| c.is_ascii_alphanumeric())
        || hex.is_empty()
        || !hex.chars().all(|c| c.is_ascii_hexdigit())
    {
        return Err(bad());
    }
    Ok(dir.join("blobs").join(alg).join(hex))
}

/// Reads a small blob (manifest, index, config) and checks its digest.
fn read_blob(dir: &Path, digest: &str, shown: &str) -> Result<Vec<u8>, ImageError> {
    let path = blob_path(dir, digest, shown)?;
    let bytes = std::fs::read(&path).map_err(|e| ImageError::Local {
        reference: shown.to_owned(),
        path: path.clone(),
        detail: format!("blob unreadable: {e}; the layout is incomplete"),
    })?;
    let got = sha256_digest(&bytes);
    if digest.starts_with("sha256:") && !got.eq_ignore_ascii_case(digest) {
        return Err(ImageError::Local {
            reference: shown.to_owned(),
            path,
            detail: format!("digest mismatch: expected {digest}, got {got}; the layout is corrupt"),
        });
    }
    Ok(bytes)
}

#[derive(Debug, Deserialize)]
struct ArchiveManifest {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "Layers", default)]
    layers: Vec<String>,
}

/// Where an archive member's bytes are.
#[derive(Debug, Clone)]
enum Member {
    File { offset: u64, size: u64 },
    Link(String),
}

/// Unpacks an image from a `docker save` tarball.
pub(crate) fn pull_docker_archive(
    cache: &Cache,
    path: &Path,
    shown: &str,
) -> Result<(CachedImage, Option<PullTimer>), ImageError> {
    let local = |detail: String| ImageError::Local {
        reference: shown.to_owned(),
        path: path.to_owned(),
        detail,
    };
    let file = File::open(path).map_err(|e| ImageError::NotFound {
        reference: shown.to_owned(),
        detail: format!("{}: {e}", path.display()),
    })?;
    let members =
        index_archive(file).map_err(|e| local(format!("not a readable tar archive: {e}")))?;
    let read_member = |name: &str| -> Result<Vec<u8>, ImageError> {
        let mut buf = Vec::new();
        open_member(path, &members, name)
            .and_then(|mut r| r.read_to_end(&mut buf))
            .map_err(|e| local(format!("member {name:?}: {e}")))?;
        Ok(buf)
    };
    let manifest_bytes = read_member("manifest.json")?;
    let manifests: Vec<ArchiveManifest> = serde_json::from_slice(&manifest_bytes)
        .map_err(|e| local(format!("manifest.json is not valid: {e}")))?;
    let manifest = manifests
        .into_iter()
        .next()
        .ok_or_else(|| local("manifest.json lists no image".into()))?;
    let config_bytes = read_member(&manifest.config)?;
    let image_id = sha256_digest(&config_bytes);
    // The config's name is its own digest (`HEX.json` or `blobs/sha256/HEX`).
    let stem = manifest
        .config
        .rsplit('/')
        .next()
        .unwrap_or("")
        .trim_end_matches(".json");
    if stem.len() == 64 && stem.chars().all(|c| c.is_ascii_hexdigit()) && !image_id.ends_with(stem)
    {
        return Err(local(format!(
            "config {} does not match its digest ({image_id}); the archive is corrupt",
            manifest.config
        )));
    }
    let cfg = ImageConfig::parse(shown, &config_bytes)?;
    let meta = cfg.meta(&image_id, shown);
    install_blocking(cache, meta, shown, |unpacker, timer| {
        for (i, name) in manifest.layers.iter().enumerate() {
            let reader = open_member(path, &members, name)
                .map_err(|e| local(format!("layer {name:?}: {e}")))?;
            let expected = Expected {
                blob: None,
                diff_id: cfg.diff_id(i),
            };
            apply_layer(unpacker, timer, shown, reader, name, &expected)?;
        }
        Ok(())
    })
}

fn normalize(name: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for p in name.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

fn index_archive(file: File) -> io::Result<HashMap<String, Member>> {
    let mut archive = tar::Archive::new(file);
    let mut members = HashMap::new();
    for entry in archive.entries_with_seek()? {
        let entry = entry?;
        let name = normalize(&String::from_utf8_lossy(&entry.path_bytes()));
        let kind = entry.header().entry_type();
        if kind.is_symlink() || kind.is_hard_link() {
            if let Some(target) = entry.link_name_bytes() {
                let target = String::from_utf8_lossy(&target).into_owned();
                // Symlinks are relative to their folder; hard links to the archive root.
                let resolved = if kind.is_symlink() && !target.starts_with('/') {
                    match name.rsplit_once('/') {
                        Some((dir, _)) => normalize(&format!("{dir}/{target}")),
                        None => normalize(&target),
                    }
                } else {
                    normalize(&target)
                };
                members.insert(name, Member::Link(resolved));
            }
        } else if kind.is_file() {
            members.insert(
                name,
                Member::File {
                    offset: entry.raw_file_position(),
                    size: entry.size(),
                },
            );
        }
    }
    Ok(members)
}

fn open_member(
    path: &Path,
    members: &HashMap<String, Member>,
    name: &str,
) -> io::Result<io::Take<File>> {
    let mut name = normalize(name);
    for _ in 0..16 {
        match members.get(&name) {
            Some(Member::File { offset, size }) => {
                let mut f = File::open(path)?;
                f.seek(SeekFrom::Start(*offset))?;
                return Ok(f.take(*size));
            }
            Some(Member::Link(target)) => name = target.clone(),
            None => {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    "not in the archive",
                ));
            }
        }
    }
    Err(io::Error::other("too many links"))
}
