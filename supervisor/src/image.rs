//! Making sure an image is unpacked in the cache: the warm path and the cold path.
//!
//! Warm: the reference's last resolution is remembered in the cache and its
//! image is complete there, so nothing is fetched, read or unpacked (a cache
//! hit). Cold: resolve the reference to a digest (registry manifest, OCI
//! layout index or docker archive manifest), take that image's lock, stream
//! every layer through [`crate::unpack`] into a staging folder and rename it
//! into place.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use scar_contract::time::Clock;

use serde::Deserialize;

use crate::cache::{Cache, CacheError, CachedImage, ImageMeta};
use crate::reference::ImageRef;
use crate::unpack::{Expected, LayerStats, UnpackError, Unpacker};

/// Why an image could not be made ready.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// The image does not exist where the reference points.
    #[error("image {reference} not found: {detail}; check the name, tag and registry")]
    NotFound {
        /// The reference as given.
        reference: String,
        /// What the source said.
        detail: String,
    },
    /// The registry could not be reached or refused the request.
    #[error("registry {registry} for image {reference}: {detail}")]
    Registry {
        /// The registry host.
        registry: String,
        /// The reference as given.
        reference: String,
        /// What went wrong and how to fix it.
        detail: String,
    },
    /// A local image file or folder is unreadable or malformed.
    #[error("image {reference}: {path}: {detail}")]
    Local {
        /// The reference as given.
        reference: String,
        /// The file involved.
        path: PathBuf,
        /// What went wrong and how to fix it.
        detail: String,
    },
    /// The image's manifest or config is not usable.
    #[error("image {reference}: {detail}")]
    Invalid {
        /// The reference as given.
        reference: String,
        /// What is wrong.
        detail: String,
    },
    /// A layer could not be unpacked.
    #[error("image {reference}: {source}")]
    Unpack {
        /// The reference as given.
        reference: String,
        /// The layer failure.
        #[source]
        source: UnpackError,
    },
    /// The cache failed.
    #[error(transparent)]
    Cache(#[from] CacheError),
}

/// When a remembered tag resolution is checked again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refresh {
    /// Once per cache lifetime (the default: a warm Lambda environment never
    /// asks the registry again).
    Never,
    /// On every invocation (a manifest request; layers are still cached).
    Always,
    /// When the last resolution is older than this.
    After(Duration),
}

impl Refresh {
    /// Parses `SCAR_IMAGE_REFRESH`: `never`, `always`, or a number of seconds.
    pub fn parse(text: &str) -> Result<Refresh, BadRefresh> {
        match text.trim() {
            "" | "never" => Ok(Refresh::Never),
            "always" => Ok(Refresh::Always),
            n => n
                .parse::<u64>()
                .map(|s| Refresh::After(Duration::from_secs(s)))
                .map_err(|_| BadRefresh(text.to_owned())),
        }
    }
}

/// A `SCAR_IMAGE_REFRESH` that is none of the three forms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("SCAR_IMAGE_REFRESH={0:?}: write never, always or a number of seconds")]
pub struct BadRefresh(pub String);

/// Registry access settings.
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// Basic-auth user and password (`SCAR_REGISTRY_USER`/`SCAR_REGISTRY_PASSWORD`).
    pub credentials: Option<(String, String)>,
    /// Registries spoken to over plain http besides loopback ones
    /// (`SCAR_INSECURE_REGISTRIES`, comma-separated `host[:port]`).
    pub insecure: Vec<String>,
}

/// An image ready to run, with what getting it cost.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The unpacked image.
    pub image: CachedImage,
    /// True when nothing had to be unpacked.
    pub cache_hit: bool,
    /// Time spent resolving and downloading (not unpacking), in ms.
    pub pull_ms: u64,
    /// Time spent unpacking, in ms.
    pub unpack_ms: u64,
}

/// The image config fields the supervisor uses.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ImageConfig {
    #[serde(default)]
    pub config: Option<RunConfig>,
    #[serde(default)]
    pub rootfs: Option<RootFs>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct RunConfig {
    #[serde(rename = "Env", default)]
    pub env: Option<Vec<String>>,
    #[serde(rename = "WorkingDir", default)]
    pub working_dir: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct RootFs {
    #[serde(default)]
    pub diff_ids: Vec<String>,
}

impl ImageConfig {
    pub(crate) fn parse(reference: &str, bytes: &[u8]) -> Result<ImageConfig, ImageError> {
        serde_json::from_slice(bytes).map_err(|e| ImageError::Invalid {
            reference: reference.to_owned(),
            detail: format!("image config is not valid JSON: {e}"),
        })
    }

    pub(crate) fn meta(&self, digest: &str, reference: &str) -> ImageMeta {
        let rc = self.config.as_ref();
        ImageMeta {
            digest: digest.to_owned(),
            reference: reference.to_owned(),
            env: rc.and_then(|c| c.env.clone()).unwrap_or_default(),
            working_dir: rc
                .and_then(|c| c.working_dir.clone())
                .filter(|w| !w.is_empty()),
        }
    }

    pub(crate) fn diff_id(&self, i: usize) -> Option<String> {
        self.rootfs
            .as_ref()
            .and_then(|r| r.diff_ids.get(i).cloned())
    }
}

/// Accumulates the timings of a cold pull.
#[derive(Debug, Default)]
pub(crate) struct PullTimer {
    pub unpack: Duration,
}

impl PullTimer {
    pub(crate) fn add(&mut self, s: &LayerStats) {
        self.unpack += s.elapsed.saturating_sub(s.waited);
    }
}

/// Gets images into a cache.
#[derive(Debug, Clone)]
pub struct ImageStore {
    cache: Cache,
    refresh: Refresh,
    registry: RegistryOptions,
    clock: Clock,
}

impl ImageStore {
    /// A store over `cache`.
    pub fn new(cache: Cache, refresh: Refresh, registry: RegistryOptions) -> Self {
        ImageStore {
            cache,
            refresh,
            registry,
            clock: Clock::system(),
        }
    }

    /// The same store, judging the age of tag resolutions by `clock`.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The cache.
    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    /// Makes sure the image is unpacked in the cache and returns it.
    pub async fn ensure(&self, reference: &ImageRef) -> Result<Prepared, ImageError> {
        let started = Instant::now();
        let shown = reference.to_string();
        if let Some(d) = reference.pinned_digest()
            && let Some(image) = self.cache.lookup(d)
        {
            return Ok(hit(image, started, false));
        }
        let key = resolution_key(reference)?;
        if let Some(res) = self.cache.resolution(&key)
            && self.fresh(res.resolved_at)
            && let Some(image) = self.cache.lookup(&res.digest)
        {
            return Ok(hit(image, started, false));
        }
        let (image, unpacked) = match reference {
            ImageRef::Registry(r) => {
                crate::registry::pull(&self.cache, &self.registry, r, &shown).await?
            }
            ImageRef::OciLayout { path, tag } => {
                let (cache, path, tag, shown) =
                    (self.cache.clone(), path.clone(), tag.clone(), shown.clone());
                blocking(move || {
                    crate::layout::pull_oci_layout(&cache, &path, tag.as_deref(), &shown)
                })
                .await?
            }
            ImageRef::DockerArchive { path } => {
                let (cache, path, shown) = (self.cache.clone(), path.clone(), shown.clone());
                blocking(move || crate::layout::pull_docker_archive(&cache, &path, &shown)).await?
            }
        };
        self.cache.remember(
            &key,
            &shown,
            &image.meta.digest,
            self.clock.now_secs().max(0) as u64,
        )?;
        match unpacked {
            None => Ok(hit(image, started, true)),
            Some(t) => {
                let total = started.elapsed();
                Ok(Prepared {
                    image,
                    cache_hit: false,
                    pull_ms: ms(total.saturating_sub(t.unpack)),
                    unpack_ms: ms(t.unpack),
                })
            }
        }
    }

    fn fresh(&self, resolved_at: u64) -> bool {
        match self.refresh {
            Refresh::Never => true,
            Refresh::Always => false,
            Refresh::After(d) => {
                let now = self.clock.now_secs().max(0) as u64;
                now.saturating_sub(resolved_at) < d.as_secs()
            }
        }
    }
}

fn hit(image: CachedImage, started: Instant, resolved: bool) -> Prepared {
    Prepared {
        image,
        cache_hit: true,
        // A re-resolution (refresh) costs a manifest request: count it.
        pull_ms: if resolved { ms(started.elapsed()) } else { 0 },
        unpack_ms: 0,
    }
}

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

/// The key a reference's resolution is remembered under. Local sources
/// include the file's size and modification time, so a rewritten archive or
/// layout is read again.
fn resolution_key(reference: &ImageRef) -> Result<String, ImageError> {
    let stamp = |path: &Path, probe: &Path| -> Result<String, ImageError> {
        let m = std::fs::metadata(probe).map_err(|e| ImageError::NotFound {
            reference: reference.to_string(),
            detail: format!("{}: {e}", path.display()),
        })?;
        let mtime = m
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
        Ok(format!("{}|{}|{mtime}", abs.display(), m.len()))
    };
    Ok(match reference {
        ImageRef::Registry(r) => format!("registry|{}", r.whole()),
        ImageRef::OciLayout { path, tag } => format!(
            "oci|{}|{}",
            stamp(path, &path.join("index.json"))?,
            tag.as_deref().unwrap_or("")
        ),
        ImageRef::DockerArchive { path } => format!("docker-archive|{}", stamp(path, path)?),
    })
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ImageError> + Send + 'static,
) -> Result<T, ImageError> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| {
        Err(ImageError::Invalid {
            reference: String::new(),
            detail: format!("image worker failed: {e}"),
        })
    })
}

/// Unpacks layers into the cache under the image's lock, unless another
/// invocation completed it meanwhile. `layers` is called with the unpacker
/// once the lock is held. Returns the image and, if this call unpacked it,
/// its timings.
pub(crate) fn install_blocking(
    cache: &Cache,
    meta: ImageMeta,
    reference: &str,
    layers: impl FnOnce(&mut Unpacker, &mut PullTimer) -> Result<(), ImageError>,
) -> Result<(CachedImage, Option<PullTimer>), ImageError> {
    if let Some(image) = cache.lookup(&meta.digest) {
        return Ok((image, None));
    }
    let lock = cache.lock(&meta.digest)?;
    if let Some(image) = cache.lookup(&meta.digest) {
        return Ok((image, None));
    }
    let staging = cache.stage(&meta.digest, &lock)?;
    let mut unpacker = Unpacker::new(staging.rootfs());
    let mut timer = PullTimer::default();
    layers(&mut unpacker, &mut timer)?;
    let t = Instant::now();
    unpacker.finish().map_err(|source| ImageError::Unpack {
        reference: reference.to_owned(),
        source,
    })?;
    timer.unpack += t.elapsed();
    let image = staging.commit(meta)?;
    Ok((image, Some(timer)))
}

/// Applies one layer and adds its timings; errors name the image.
pub(crate) fn apply_layer<R: crate::unpack::TimedRead>(
    unpacker: &mut Unpacker,
    timer: &mut PullTimer,
    reference: &str,
    source: R,
    name: &str,
    expected: &Expected,
) -> Result<(), ImageError> {
    let stats = unpacker
        .apply_layer(source, name, expected)
        .map_err(|source| ImageError::Unpack {
            reference: reference.to_owned(),
            source,
        })?;
    timer.add(&stats);
    Ok(())
}
