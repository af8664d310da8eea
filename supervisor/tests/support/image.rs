//! Container images built from a declarative spec: layers of [`Entry`]s,
//! compressed as asked, described by an OCI image config and manifest, and
//! shipped to a [`Registry`], an OCI image layout or a `docker save` archive.

use std::path::Path;
use std::sync::OnceLock;

use serde_json::json;

use super::registry::Registry;
use super::tarball::{RawHeader, TarWriter, kind};
use super::{digest_hex, sha256_digest, write_file};

/// Media type of an OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// Media type of an OCI image config.
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// Media type of an OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// How a layer blob is compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// `application/vnd.oci.image.layer.v1.tar+gzip`
    Gzip,
    /// `application/vnd.oci.image.layer.v1.tar+zstd`
    Zstd,
    /// `application/vnd.oci.image.layer.v1.tar`
    None,
}

impl Compression {
    /// The OCI layer media type for this compression.
    pub fn media_type(self) -> &'static str {
        match self {
            Compression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
            Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
            Compression::None => "application/vnd.oci.image.layer.v1.tar",
        }
    }
}

/// One member of a layer tar. Paths are archive paths (`bin/sh`, no leading `/`),
/// written verbatim: nothing here cleans or checks them.
#[derive(Clone, Debug)]
pub enum Entry {
    /// Regular file with contents and permission bits.
    File {
        path: String,
        data: Vec<u8>,
        mode: u32,
    },
    /// Directory with permission bits.
    Dir { path: String, mode: u32 },
    /// Symbolic link `path -> target`.
    Symlink { path: String, target: String },
    /// Hard link `path` to the archive path (or any string) `target`.
    Hardlink { path: String, target: String },
    /// Character device node (1,3 is `/dev/null` on Linux).
    CharDevice {
        path: String,
        major: u32,
        minor: u32,
    },
    /// Whiteout deleting `path` of a lower layer: an empty `DIR/.wh.NAME` file.
    Whiteout { path: String },
    /// Opaque marker `dir/.wh..wh..opq`: hides everything lower layers put in `dir`.
    Opaque { dir: String },
    /// Any header, name and link target written byte for byte (for evil names
    /// such as `../x` or `/abs`); `typeflag` is one of [`kind`].
    Raw {
        name: Vec<u8>,
        typeflag: u8,
        link: Vec<u8>,
        data: Vec<u8>,
        mode: u32,
    },
}

impl Entry {
    /// A regular file.
    pub fn file(path: &str, data: impl AsRef<[u8]>, mode: u32) -> Entry {
        Entry::File {
            path: path.into(),
            data: data.as_ref().to_vec(),
            mode,
        }
    }
    /// A directory.
    pub fn dir(path: &str, mode: u32) -> Entry {
        Entry::Dir {
            path: path.into(),
            mode,
        }
    }
    /// A symbolic link.
    pub fn symlink(path: &str, target: &str) -> Entry {
        Entry::Symlink {
            path: path.into(),
            target: target.into(),
        }
    }
    /// A hard link.
    pub fn hardlink(path: &str, target: &str) -> Entry {
        Entry::Hardlink {
            path: path.into(),
            target: target.into(),
        }
    }
    /// A character device node.
    pub fn char_device(path: &str, major: u32, minor: u32) -> Entry {
        Entry::CharDevice {
            path: path.into(),
            major,
            minor,
        }
    }
    /// A whiteout for `path`.
    pub fn whiteout(path: &str) -> Entry {
        Entry::Whiteout { path: path.into() }
    }
    /// An opaque marker for `dir`.
    pub fn opaque(dir: &str) -> Entry {
        Entry::Opaque { dir: dir.into() }
    }
    /// A regular file whose header name is `name`, verbatim.
    pub fn raw_file(name: &str, data: impl AsRef<[u8]>) -> Entry {
        Entry::Raw {
            name: name.as_bytes().to_vec(),
            typeflag: kind::FILE,
            link: Vec::new(),
            data: data.as_ref().to_vec(),
            mode: 0o644,
        }
    }

    fn write(&self, tar: &mut TarWriter) {
        match self {
            Entry::File { path, data, mode } => tar.file(path, data, *mode),
            Entry::Dir { path, mode } => tar.dir(path, *mode),
            Entry::Symlink { path, target } => tar.symlink(path, target),
            Entry::Hardlink { path, target } => tar.hardlink(path, target),
            Entry::CharDevice { path, major, minor } => tar.append(
                &RawHeader {
                    name: path.as_bytes(),
                    mode: 0o666,
                    typeflag: kind::CHAR_DEVICE,
                    linkname: b"",
                    devmajor: *major,
                    devminor: *minor,
                },
                b"",
            ),
            Entry::Whiteout { path } => {
                let path = path.trim_end_matches('/');
                let marker = match path.rsplit_once('/') {
                    Some((dir, name)) => format!("{dir}/.wh.{name}"),
                    None => format!(".wh.{path}"),
                };
                tar.file(&marker, b"", 0o644);
            }
            Entry::Opaque { dir } => tar.file(
                &format!("{}/.wh..wh..opq", dir.trim_end_matches('/')),
                b"",
                0o644,
            ),
            Entry::Raw {
                name,
                typeflag,
                link,
                data,
                mode,
            } => tar.append(
                &RawHeader {
                    name,
                    mode: *mode,
                    typeflag: *typeflag,
                    linkname: link,
                    devmajor: 0,
                    devminor: 0,
                },
                data,
            ),
        }
    }
}

/// One layer: its entries in archive order and how the blob is compressed.
#[derive(Clone, Debug)]
pub struct Layer {
    pub entries: Vec<Entry>,
    pub compression: Compression,
}

impl Layer {
    /// A layer of `entries` compressed with `compression`.
    pub fn new(compression: Compression, entries: Vec<Entry>) -> Layer {
        Layer {
            entries,
            compression,
        }
    }

    /// The uncompressed tar of this layer.
    pub fn tar(&self) -> Vec<u8> {
        let mut tar = TarWriter::new();
        for entry in &self.entries {
            entry.write(&mut tar);
        }
        tar.finish()
    }
}

/// What to build: layers bottom-up, the config's `Env` and `WorkingDir`.
#[derive(Clone, Debug, Default)]
pub struct ImageSpec {
    pub layers: Vec<Layer>,
    pub env: Vec<String>,
    pub workdir: Option<String>,
}

/// A built layer: compressed blob, uncompressed tar and both digests.
#[derive(Clone, Debug)]
pub struct BuiltLayer {
    pub media_type: String,
    /// The blob as stored in a registry or OCI layout (compressed as asked).
    pub blob: Vec<u8>,
    /// The uncompressed tar (what a docker archive holds).
    pub tar: Vec<u8>,
    /// `sha256:` of `blob`.
    pub digest: String,
    /// `sha256:` of `tar` (the config's `rootfs.diff_ids` entry).
    pub diff_id: String,
}

/// A built image: layers, config and manifest bytes, and their digests.
#[derive(Clone, Debug)]
pub struct BuiltImage {
    pub layers: Vec<BuiltLayer>,
    pub config: Vec<u8>,
    /// `sha256:` of `config` (the image id; the cache key of a docker archive).
    pub config_digest: String,
    pub manifest: Vec<u8>,
    /// `sha256:` of `manifest` (the cache key of registry and OCI-layout images).
    pub manifest_digest: String,
}

/// The OCI architecture name of the machine running the tests.
pub fn host_architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

impl ImageSpec {
    /// An image whose only layer is [`busybox_layer`], with a `PATH` in its Env.
    pub fn busybox() -> ImageSpec {
        ImageSpec {
            layers: vec![busybox_layer()],
            env: vec!["PATH=/usr/local/bin:/usr/bin:/bin".into()],
            workdir: None,
        }
    }

    /// Add a layer on top.
    pub fn with_layer(mut self, compression: Compression, entries: Vec<Entry>) -> ImageSpec {
        self.layers.push(Layer::new(compression, entries));
        self
    }

    /// Compress the layers, write the config and manifest, compute every digest.
    pub fn build(&self) -> BuiltImage {
        let layers: Vec<BuiltLayer> = self
            .layers
            .iter()
            .map(|layer| {
                let tar = layer.tar();
                let blob = match layer.compression {
                    Compression::Gzip => {
                        use std::io::Write;
                        let mut enc =
                            flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                        enc.write_all(&tar).expect("gzip layer");
                        enc.finish().expect("gzip layer")
                    }
                    Compression::Zstd => zstd::stream::encode_all(&tar[..], 3).expect("zstd layer"),
                    Compression::None => tar.clone(),
                };
                BuiltLayer {
                    media_type: layer.compression.media_type().into(),
                    digest: sha256_digest(&blob),
                    diff_id: sha256_digest(&tar),
                    blob,
                    tar,
                }
            })
            .collect();
        let mut image_config = json!({ "Env": self.env });
        if let Some(dir) = &self.workdir {
            image_config["WorkingDir"] = json!(dir);
        }
        let config = json!({
            "created": "2023-11-14T22:13:20Z",
            "architecture": host_architecture(),
            "os": "linux",
            "config": image_config,
            "rootfs": {
                "type": "layers",
                "diff_ids": layers.iter().map(|l| l.diff_id.clone()).collect::<Vec<_>>(),
            },
            "history": layers.iter().map(|_| json!({"created_by": "scar-supervisor tests"})).collect::<Vec<_>>(),
        });
        let config = serde_json::to_vec(&config).expect("config json");
        let config_digest = sha256_digest(&config);
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": { "mediaType": OCI_CONFIG, "digest": config_digest, "size": config.len() },
            "layers": layers.iter().map(|l| json!({
                "mediaType": l.media_type, "digest": l.digest, "size": l.blob.len(),
            })).collect::<Vec<_>>(),
        });
        let manifest = serde_json::to_vec(&manifest).expect("manifest json");
        BuiltImage {
            manifest_digest: sha256_digest(&manifest),
            layers,
            config,
            config_digest,
            manifest,
        }
    }
}

impl BuiltImage {
    /// Hex of the manifest digest.
    pub fn manifest_hex(&self) -> &str {
        digest_hex(&self.manifest_digest)
    }

    /// Hex of the config digest (the image id).
    pub fn config_hex(&self) -> &str {
        digest_hex(&self.config_digest)
    }

    /// Push every blob and then the manifest (under `tag`, which may also be a
    /// digest) through the registry's HTTP API; panics on any unexpected status.
    pub fn push(&self, registry: &Registry, repo: &str, tag: &str) {
        let blobs = self
            .layers
            .iter()
            .map(|l| (&l.digest, &l.blob))
            .chain(std::iter::once((&self.config_digest, &self.config)));
        for (digest, blob) in blobs {
            registry.push_blob(repo, digest, blob);
        }
        registry.push_manifest(repo, tag, OCI_MANIFEST, &self.manifest);
    }

    /// Write an OCI image layout at `dir` (`oci-layout`, `index.json` with the
    /// `org.opencontainers.image.ref.name` annotation `tag`, `blobs/sha256/*`).
    pub fn write_oci_layout(&self, dir: &Path, tag: &str) {
        write_file(
            &dir.join("oci-layout"),
            br#"{"imageLayoutVersion":"1.0.0"}"#,
        );
        let blobs = dir.join("blobs/sha256");
        for layer in &self.layers {
            write_file(&blobs.join(digest_hex(&layer.digest)), &layer.blob);
        }
        write_file(&blobs.join(self.config_hex()), &self.config);
        write_file(&blobs.join(self.manifest_hex()), &self.manifest);
        let index = json!({
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [{
                "mediaType": OCI_MANIFEST,
                "digest": self.manifest_digest,
                "size": self.manifest.len(),
                "annotations": { "org.opencontainers.image.ref.name": tag },
            }],
        });
        write_file(
            &dir.join("index.json"),
            serde_json::to_vec(&index).expect("index json"),
        );
    }

    /// Write a `docker save` style archive at `path`: `manifest.json`, the
    /// config as `<hex>.json`, uncompressed layers as `<n>/layer.tar`; the first
    /// layer's `layer.tar` is a tar symlink to a `<diff-id hex>.tar` member, as
    /// skopeo writes them. `repo_tag` is e.g. `"repo:tag"`.
    pub fn write_docker_archive(&self, path: &Path, repo_tag: &str) {
        let mut tar = TarWriter::new();
        let config_name = format!("{}.json", self.config_hex());
        tar.file(&config_name, &self.config, 0o644);
        let mut layer_names = Vec::new();
        for (i, layer) in self.layers.iter().enumerate() {
            let dir = format!("{:064x}", i + 1);
            tar.dir(&dir, 0o755);
            let name = format!("{dir}/layer.tar");
            if i == 0 {
                let blob_name = format!("{}.tar", digest_hex(&layer.diff_id));
                tar.file(&blob_name, &layer.tar, 0o644);
                tar.symlink(&name, &format!("../{blob_name}"));
            } else {
                tar.file(&name, &layer.tar, 0o644);
            }
            tar.file(&format!("{dir}/VERSION"), b"1.0", 0o644);
            layer_names.push(name);
        }
        let manifest = json!([{
            "Config": config_name,
            "RepoTags": [repo_tag],
            "Layers": layer_names,
        }]);
        tar.file(
            "manifest.json",
            &serde_json::to_vec(&manifest).expect("json"),
            0o644,
        );
        let (repo, tag) = repo_tag.rsplit_once(':').unwrap_or((repo_tag, "latest"));
        let repositories = json!({ repo: { tag: self.config_hex() } });
        tar.file(
            "repositories",
            &serde_json::to_vec(&repositories).expect("json"),
            0o644,
        );
        write_file(path, tar.finish());
    }
}

/// Applets linked to busybox in [`busybox_layer`]'s `/bin`.
pub const BUSYBOX_APPLETS: &[&str] = &[
    "[", "basename", "cat", "chmod", "cp", "cut", "date", "dd", "dirname", "echo", "env", "false",
    "grep", "head", "id", "kill", "ln", "ls", "mkdir", "mv", "printf", "ps", "pwd", "readlink",
    "rm", "sed", "sh", "sleep", "stat", "tail", "test", "touch", "tr", "true", "wc",
];

fn host_busybox() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        std::fs::read("/bin/busybox").unwrap_or_else(|e| {
            panic!("read /bin/busybox: {e}; install Debian's busybox-static (a static busybox)")
        })
    })
}

/// A gzip layer with the host's static `/bin/busybox` (0755), the
/// [`BUSYBOX_APPLETS`] as symlinks to it, and the folders `/tmp` (1777),
/// `/etc`, `/proc`, `/dev`, `/usr/bin`.
pub fn busybox_layer() -> Layer {
    let mut entries = vec![
        Entry::dir("bin", 0o755),
        Entry::file("bin/busybox", host_busybox(), 0o755),
    ];
    for applet in BUSYBOX_APPLETS {
        entries.push(Entry::symlink(&format!("bin/{applet}"), "busybox"));
    }
    entries.extend([
        Entry::dir("dev", 0o755),
        Entry::dir("etc", 0o755),
        Entry::file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n", 0o644),
        Entry::file("etc/group", "root:x:0:\n", 0o644),
        Entry::dir("proc", 0o555),
        Entry::dir("root", 0o700),
        Entry::dir("tmp", 0o1777),
        Entry::dir("usr", 0o755),
        Entry::dir("usr/bin", 0o755),
    ]);
    Layer::new(Compression::Gzip, entries)
}
