//! Pulling from a registry through the OCI distribution API (`oci-client`).
//!
//! The manifest and config are fetched first (anonymous bearer tokens or
//! basic auth, OCI or Docker schema 2, multi-arch indexes resolved to the
//! running platform); then each layer is streamed straight from the HTTP
//! body into the unpacker running on a blocking thread, through a small
//! bounded channel. Compressed bytes never touch the disk and at most a few
//! small pieces sit in memory.

use std::error::Error as StdError;
use std::io::{self, Read};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use oci_client::Client;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::OciDistributionError;
use oci_client::secrets::RegistryAuth;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use crate::cache::{Cache, CachedImage};
use crate::image::{
    ImageConfig, ImageError, PullTimer, RegistryOptions, apply_layer, install_blocking,
};
use crate::reference::is_loopback_registry;
use crate::unpack::{Expected, Interrupt, TimedRead};

/// See `pull`: the trust root of clients that only speak plain http.
const PLAIN_HTTP_ROOT: &[u8] = include_bytes!("../assets/plain-http-root.pem");

/// Pieces buffered between the download and the unpacker: the decoder only
/// needs the next one ready. Deeper buffering is the socket's receive
/// buffer's job, which lives in the kernel, not in this process's RSS.
const CHANNEL_PIECES: usize = 2;

/// Size of a piece. hyper hands out body chunks as slices of its read
/// buffer, which grows to ~400 KiB when the registry is fast; a chunk kept
/// alive keeps that whole buffer alive, and with the download ahead of the
/// unpacker (the usual case) the channel was full of them: 4.6 MB of the
/// supervisor's 12 MB peak on a 22 MB layer. Copying each chunk into small
/// pieces (a few ms per 100 MB) frees it at once, and hyper reuses its
/// buffers instead of piling them up.
const PIECE: usize = 64 * 1024;

/// Resolves, downloads and unpacks a registry image.
pub(crate) async fn pull(
    cache: &Cache,
    opts: &RegistryOptions,
    reference: &crate::reference::RegistryRef,
    shown: &str,
) -> Result<(CachedImage, Option<PullTimer>), ImageError> {
    let reference = &reference.to_oci().map_err(|e| ImageError::Invalid {
        reference: shown.to_owned(),
        detail: e.to_string(),
    })?;
    // reqwest is built without a default crypto provider; ring keeps the
    // binary small. An earlier call may have installed it already.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let registry = reference.resolve_registry().to_owned();
    let mut insecure = opts.insecure.clone();
    if is_loopback_registry(&registry) {
        insecure.push(registry.clone());
    }
    // A registry spoken to over plain http needs no trust store; loading
    // the system's (hundreds of certificate files) is most of a cold pull's
    // time on a small image. A placeholder root stands in: no TLS connection
    // is ever made with it.
    let plain_http = insecure.contains(&registry);
    let tls_certs_only = if plain_http {
        vec![oci_client::client::Certificate {
            encoding: oci_client::client::CertificateEncoding::Pem,
            data: PLAIN_HTTP_ROOT.to_vec(),
        }]
    } else {
        Vec::new()
    };
    let client = Arc::new(Client::new(ClientConfig {
        protocol: ClientProtocol::HttpsExcept(insecure),
        tls_certs_only,
        connect_timeout: Some(Duration::from_secs(10)),
        read_timeout: Some(Duration::from_secs(60)),
        ..ClientConfig::default()
    }));
    let auth = match &opts.credentials {
        Some((u, p)) => RegistryAuth::Basic(u.clone(), p.clone()),
        None => RegistryAuth::Anonymous,
    };
    let (manifest, digest, config) = client
        .pull_manifest_and_config(reference, &auth)
        .await
        .map_err(|e| map_error(e, &registry, shown))?;
    if let Some(pinned) = reference.digest()
        && !pinned.eq_ignore_ascii_case(&digest)
    {
        return Err(ImageError::Registry {
            registry,
            reference: shown.to_owned(),
            detail: format!(
                "the registry served manifest {digest} for pinned digest {pinned}; the registry is broken or tampered with"
            ),
        });
    }
    let cfg = ImageConfig::parse(shown, config.as_bytes())?;
    let meta = cfg.meta(&digest, shown);
    if manifest.layers.is_empty() {
        return Err(ImageError::Invalid {
            reference: shown.to_owned(),
            detail: "the manifest lists no layers".into(),
        });
    }

    let handle = tokio::runtime::Handle::current();
    let (cache, reference, shown) = (cache.clone(), reference.clone(), shown.to_owned());
    tokio::task::spawn_blocking(move || {
        install_blocking(&cache, meta, &shown, |unpacker, timer| {
            for layer in &manifest.layers {
                let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(CHANNEL_PIECES);
                let failure = Arc::new(Mutex::new(None::<String>));
                let feeder = {
                    let (client, reference, layer, failure) = (
                        client.clone(),
                        reference.clone(),
                        layer.clone(),
                        failure.clone(),
                    );
                    handle.spawn(async move {
                        let mut stream = match client.pull_blob_stream(&reference, &layer).await {
                            Ok(s) => s,
                            Err(e) => {
                                let msg = chain(&e);
                                *failure.lock().unwrap_or_else(|p| p.into_inner()) =
                                    Some(msg.clone());
                                let _ = tx.send(Err(io::Error::other(msg))).await;
                                return;
                            }
                        };
                        while let Some(chunk) = stream.next().await {
                            let chunk = match chunk {
                                Ok(c) => c,
                                Err(e) => {
                                    let msg = chain(&e);
                                    *failure.lock().unwrap_or_else(|p| p.into_inner()) =
                                        Some(msg.clone());
                                    let _ = tx.send(Err(io::Error::other(msg))).await;
                                    return;
                                }
                            };
                            for piece in chunk.chunks(PIECE) {
                                if tx.send(Ok(Bytes::copy_from_slice(piece))).await.is_err() {
                                    return;
                                }
                            }
                        }
                    })
                };
                // No second digest here: the stream is oci-client's
                // verifying stream (`pull_blob_stream`), which hashes the
                // blob as it arrives, on this otherwise idle I/O thread, and
                // ends in an error on a mismatch. The decoder reads every
                // blob to its end, so that error fails the layer.
                let expected = Expected::default();
                let result = apply_layer(
                    unpacker,
                    timer,
                    &shown,
                    ChannelReader::new(rx, feeder.abort_handle()),
                    &layer.digest,
                    &expected,
                );
                feeder.abort();
                if let Err(e) = result {
                    if let Some(msg) = failure.lock().unwrap_or_else(|p| p.into_inner()).take() {
                        return Err(ImageError::Registry {
                            registry: reference.resolve_registry().to_owned(),
                            reference: shown.clone(),
                            detail: format!(
                                "download of layer {} failed: {msg}; retry, or check the registry",
                                layer.digest
                            ),
                        });
                    }
                    return Err(e);
                }
            }
            Ok(())
        })
    })
    .await
    .map_err(|e| ImageError::Invalid {
        reference: String::new(),
        detail: format!("image worker failed: {e}"),
    })?
}

/// Reads the pieces the download task sends, timing the waits.
struct ChannelReader {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
    waited: Duration,
    download: AbortHandle,
}

impl ChannelReader {
    fn new(rx: mpsc::Receiver<io::Result<Bytes>>, download: AbortHandle) -> Self {
        ChannelReader {
            rx,
            current: Bytes::new(),
            waited: Duration::ZERO,
            download,
        }
    }
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            let t = Instant::now();
            let next = self.rx.blocking_recv();
            self.waited += t.elapsed();
            match next {
                Some(Ok(b)) => self.current = b,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

impl TimedRead for ChannelReader {
    fn waited(&self) -> Duration {
        self.waited
    }

    /// Stopping the download drops its sender: a read blocked on a stalled
    /// connection returns at once.
    fn interrupter(&self) -> Option<Interrupt> {
        let download = self.download.clone();
        Some(Box::new(move || download.abort()))
    }
}

/// The message of an error and of every error under it.
fn chain(e: &dyn StdError) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(inner) = cur {
        let m = inner.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = inner.source();
    }
    s
}

fn map_error(e: OciDistributionError, registry: &str, shown: &str) -> ImageError {
    use oci_client::errors::OciErrorCode as Code;
    let registry_err = |detail: String| ImageError::Registry {
        registry: registry.to_owned(),
        reference: shown.to_owned(),
        detail,
    };
    let not_found = |detail: String| ImageError::NotFound {
        reference: shown.to_owned(),
        detail,
    };
    match &e {
        OciDistributionError::ImageManifestNotFoundError(_) => not_found(chain(&e)),
        OciDistributionError::RegistryError { envelope, .. }
            if envelope.errors.iter().any(|x| {
                matches!(
                    x.code,
                    Code::ManifestUnknown | Code::NameUnknown | Code::NotFound | Code::BlobUnknown
                )
            }) =>
        {
            not_found(chain(&e))
        }
        OciDistributionError::ServerError { code: 404, .. } => not_found(chain(&e)),
        OciDistributionError::AuthenticationFailure(_)
        | OciDistributionError::UnauthorizedError { .. } => registry_err(format!(
            "access denied ({}); set SCAR_REGISTRY_USER and SCAR_REGISTRY_PASSWORD for a private repository",
            chain(&e)
        )),
        OciDistributionError::RequestError(r) if r.is_connect() || r.is_timeout() => {
            registry_err(format!(
                "cannot reach it ({}); check the address and that the registry is up (a plain-http registry must be listed in SCAR_INSECURE_REGISTRIES)",
                chain(&e)
            ))
        }
        _ => registry_err(chain(&e)),
    }
}
