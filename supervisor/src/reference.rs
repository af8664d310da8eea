//! Image references: where an image comes from.
//!
//! The supervisor accepts the reference forms that SCAR users and skopeo users
//! already write: `docker://HOST[:PORT]/REPO:TAG` or `...@sha256:HEX`, a bare
//! Docker Hub name (`ubuntu`, `grycap/ffmpeg:1.0`), `oci:PATH[:TAG]` for an OCI
//! image layout and `docker-archive:PATH` for a `docker save` tarball.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// A registry reference, parsed without a regex: the warm path must not
/// pay for compiling oci-client's reference grammar (~30 ms and ~17 MB of
/// resident memory per process); [`RegistryRef::to_oci`] builds that only
/// when a pull is really needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryRef {
    /// `docker.io`, `127.0.0.1:5000`...
    pub registry: String,
    /// `library/ubuntu`, `grycap/ffmpeg`.
    pub repository: String,
    /// The tag, if any (`latest` when neither tag nor digest is given).
    pub tag: Option<String>,
    /// `sha256:HEX`, if pinned.
    pub digest: Option<String>,
}

impl RegistryRef {
    /// `REGISTRY/REPO[:TAG][@DIGEST]`.
    pub fn whole(&self) -> String {
        let mut s = format!("{}/{}", self.registry, self.repository);
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(d);
        }
        s
    }

    /// The oci-client reference, for pulls (built field by field: its
    /// string parser is the regex this type exists to avoid).
    pub fn to_oci(&self) -> Result<oci_client::Reference, ReferenceError> {
        let (r, repo) = (self.registry.clone(), self.repository.clone());
        Ok(match (&self.tag, &self.digest) {
            (Some(t), Some(d)) => {
                oci_client::Reference::with_tag_and_digest(r, repo, t.clone(), d.clone())
            }
            (None, Some(d)) => oci_client::Reference::with_digest(r, repo, d.clone()),
            (Some(t), None) => oci_client::Reference::with_tag(r, repo, t.clone()),
            (None, None) => oci_client::Reference::with_tag(r, repo, "latest".into()),
        })
    }

    fn parse(name: &str) -> Result<RegistryRef, String> {
        let (rest, digest) = match name.split_once('@') {
            Some((r, d)) => {
                let hex = d
                    .strip_prefix("sha256:")
                    .ok_or("only sha256 digests are supported")?;
                if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err("a sha256 digest has 64 hex digits".into());
                }
                (r, Some(d.to_ascii_lowercase()))
            }
            None => (name, None),
        };
        let (path, tag) = match rest.rsplit_once(':') {
            Some((p, t)) if !t.contains('/') => (p, Some(t.to_owned())),
            _ => (rest, None),
        };
        if let Some(t) = &tag
            && (t.is_empty()
                || t.len() > 128
                || !t
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')))
        {
            return Err(format!("bad tag {t:?}"));
        }
        let (registry, repository) = match path.split_once('/') {
            Some((first, repo))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_owned(), repo.to_owned())
            }
            _ => ("docker.io".to_owned(), path.to_owned()),
        };
        let repository = if registry == "docker.io" && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository
        };
        let valid = !repository.is_empty()
            && repository.split('/').all(|c| {
                !c.is_empty()
                    && c.bytes().all(|b| {
                        b.is_ascii_lowercase()
                            || b.is_ascii_digit()
                            || matches!(b, b'.' | b'_' | b'-')
                    })
            });
        if !valid {
            return Err(format!(
                "repository {repository:?} must be lowercase letters, digits, '.', '_', '-' and '/'"
            ));
        }
        let tag = match (&tag, &digest) {
            (None, None) => Some("latest".to_owned()),
            _ => tag,
        };
        Ok(RegistryRef {
            registry,
            repository,
            tag,
            digest,
        })
    }
}

/// Where an image is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageRef {
    /// A repository in a registry that speaks the OCI distribution API.
    Registry(RegistryRef),
    /// An OCI image layout folder (`oci-layout`, `index.json`, `blobs/`).
    OciLayout {
        /// The layout folder.
        path: PathBuf,
        /// The `org.opencontainers.image.ref.name` to select, if any.
        tag: Option<String>,
    },
    /// A `docker save` tarball (`manifest.json` plus config and layer files).
    DockerArchive {
        /// The tarball.
        path: PathBuf,
    },
}

/// A reference that cannot be parsed.
#[derive(Debug, thiserror::Error)]
#[error(
    "invalid image reference {reference:?}: {reason}; write docker://HOST/REPO:TAG, REPO[:TAG], oci:PATH[:TAG] or docker-archive:PATH"
)]
pub struct ReferenceError {
    /// The text that was given.
    pub reference: String,
    /// Why it was refused.
    pub reason: String,
}

impl FromStr for ImageRef {
    type Err = ReferenceError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let err = |reason: &str| ReferenceError {
            reference: text.to_owned(),
            reason: reason.to_owned(),
        };
        let text = text.trim();
        if text.is_empty() {
            return Err(err("it is empty"));
        }
        if let Some(rest) = text.strip_prefix("oci:") {
            if rest.is_empty() {
                return Err(err("the OCI layout path is empty"));
            }
            // `oci:PATH:TAG`: a tag is the part after the last colon, provided
            // it contains no slash (so `oci:/a:b/c` is a path).
            let (path, tag) = match rest.rsplit_once(':') {
                Some((path, tag)) if !tag.contains('/') && !path.is_empty() => {
                    (path, Some(tag.to_owned()))
                }
                _ => (rest, None),
            };
            return Ok(ImageRef::OciLayout {
                path: PathBuf::from(path),
                tag: tag.filter(|t| !t.is_empty()),
            });
        }
        if let Some(rest) = text.strip_prefix("docker-archive:") {
            if rest.is_empty() {
                return Err(err("the archive path is empty"));
            }
            return Ok(ImageRef::DockerArchive {
                path: PathBuf::from(rest),
            });
        }
        let name = text.strip_prefix("docker://").unwrap_or(text);
        if name.contains("://") {
            return Err(err("unknown transport"));
        }
        let reference = RegistryRef::parse(name).map_err(|e| err(&e))?;
        Ok(ImageRef::Registry(reference))
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImageRef::Registry(r) => write!(f, "docker://{}", r.whole()),
            ImageRef::OciLayout { path, tag: Some(t) } => write!(f, "oci:{}:{t}", path.display()),
            ImageRef::OciLayout { path, tag: None } => write!(f, "oci:{}", path.display()),
            ImageRef::DockerArchive { path } => write!(f, "docker-archive:{}", path.display()),
        }
    }
}

impl ImageRef {
    /// The content digest the reference pins, if it names one (`@sha256:...`).
    pub fn pinned_digest(&self) -> Option<&str> {
        match self {
            ImageRef::Registry(r) => r.digest.as_deref(),
            _ => None,
        }
    }
}

/// True for hosts whose registries are spoken to over plain http without
/// being asked: loopback addresses, as a local test registry is.
pub fn is_loopback_registry(registry: &str) -> bool {
    let host = match registry.rsplit_once(':') {
        // `[::1]:5000` or `127.0.0.1:5000`
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => registry,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        let r: ImageRef = "docker://127.0.0.1:5000/demo/busybox:1".parse().unwrap();
        match &r {
            ImageRef::Registry(r) => {
                assert_eq!(r.registry, "127.0.0.1:5000");
                assert_eq!(r.repository, "demo/busybox");
                assert_eq!(r.tag.as_deref(), Some("1"));
                let oci = r.to_oci().unwrap();
                assert_eq!(oci.repository(), "demo/busybox");
            }
            other => panic!("{other:?}"),
        }
        let r: ImageRef = "ubuntu".parse().unwrap();
        match &r {
            ImageRef::Registry(r) => {
                assert_eq!(r.repository, "library/ubuntu");
                assert_eq!(r.whole(), "docker.io/library/ubuntu:latest");
                assert_eq!(r.to_oci().unwrap().resolve_registry(), "index.docker.io");
            }
            other => panic!("{other:?}"),
        }
        let hex = "a".repeat(64);
        let r: ImageRef = format!("docker://localhost:5000/x@sha256:{hex}")
            .parse()
            .unwrap();
        assert_eq!(r.pinned_digest(), Some(format!("sha256:{hex}").as_str()));
        assert_eq!(
            "oci:/img/layout:v2".parse::<ImageRef>().unwrap(),
            ImageRef::OciLayout {
                path: "/img/layout".into(),
                tag: Some("v2".into())
            }
        );
        assert_eq!(
            "oci:/img/lay:out/x".parse::<ImageRef>().unwrap(),
            ImageRef::OciLayout {
                path: "/img/lay:out/x".into(),
                tag: None
            }
        );
        assert_eq!(
            "docker-archive:/a/b.tar".parse::<ImageRef>().unwrap(),
            ImageRef::DockerArchive {
                path: "/a/b.tar".into()
            }
        );
    }

    #[test]
    fn refuses_garbage_with_the_reference_named() {
        for bad in ["", "oci:", "docker-archive:", "s3://bucket/x", "UPPER/Case"] {
            let e = bad.parse::<ImageRef>().unwrap_err();
            assert!(e.to_string().contains("invalid image reference"), "{e}");
        }
    }

    #[test]
    fn loopback_detection() {
        assert!(is_loopback_registry("127.0.0.1:5000"));
        assert!(is_loopback_registry("localhost"));
        assert!(is_loopback_registry("[::1]:5000"));
        assert!(!is_loopback_registry("registry-1.docker.io"));
        assert!(!is_loopback_registry("10.0.0.1:5000"));
    }
}
