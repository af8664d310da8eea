//! The backend switch: decides which cloud the clients speak to and hands
//! `aws` an endpoint, credentials and a region.
//!
//! - `local`, with `--endpoint` or a `local serve` found through the
//!   `endpoint.json` it writes in its data folder: clients for that endpoint,
//!   signed with the data folder's key;
//! - `local` otherwise: a local cloud started in this process on the data
//!   folder, kept alive by the clients;
//! - `aws`: aws-config's standard chain.
//!
//! This is the only module of the crate that knows the local cloud's crate
//! (`scar-local`); everything else reaches every backend through `aws` and
//! AWS's own APIs.

use std::path::PathBuf;
use std::sync::Arc;

use scar_local::{AccessKey, LocalCloud, LocalConfig};

use crate::aws::{AwsError, Backend, Cloud, Endpoint};

/// How to connect.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Which cloud.
    pub backend: Backend,
    /// AWS profile (`aws`).
    pub profile: Option<String>,
    /// Region (`aws`; the local cloud's own otherwise).
    pub region: Option<String>,
    /// A standalone local cloud's endpoint (`local`).
    pub endpoint: Option<String>,
    /// The local cloud's data folder (`local`; default: the user's data dir).
    pub data_dir: Option<PathBuf>,
}

/// What `scar-tui local serve` writes in its data folder so that commands
/// find it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ServingRecord {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// The server's process id.
    pub pid: u32,
}

/// The file a serving local cloud is recorded in.
pub fn serving_record_path(data_dir: &std::path::Path) -> PathBuf {
    data_dir.join("endpoint.json")
}

/// The local cloud's default data folder.
pub fn default_data_dir() -> Result<PathBuf, AwsError> {
    LocalConfig::default_data_dir().map_err(|e| AwsError::Local(e.to_string()))
}

/// Clients for a running local cloud (in this process), signed with its key
/// and its clock.
pub fn clients_for(local: &LocalCloud) -> Cloud {
    Cloud::at_endpoint(&endpoint_of(local), local.clock().clone())
}

fn endpoint_of(local: &LocalCloud) -> Endpoint {
    Endpoint {
        url: local.endpoint().to_owned(),
        access_key_id: local.key().access_key_id.clone(),
        secret_access_key: local.key().secret_access_key.clone(),
        region: local.region().to_owned(),
    }
}

/// Connects as the options say.
pub async fn connect(opts: ConnectOptions) -> Result<Cloud, AwsError> {
    match opts.backend {
        Backend::Aws => Cloud::aws(opts.profile, opts.region).await,
        Backend::Local => {
            let data_dir = match opts.data_dir {
                Some(d) => d,
                None => default_data_dir()?,
            };
            std::fs::create_dir_all(&data_dir)
                .map_err(|e| AwsError::Local(format!("{}: {e}", data_dir.display())))?;
            let key =
                AccessKey::load_or_create(&data_dir).map_err(|e| AwsError::Local(e.to_string()))?;
            let region = opts.region.clone().unwrap_or_else(|| "us-east-1".into());
            let serving = opts.endpoint.clone().or_else(|| {
                let rec: ServingRecord =
                    serde_json::from_slice(&std::fs::read(serving_record_path(&data_dir)).ok()?)
                        .ok()?;
                // SAFETY: kill(pid, 0) only checks that the process exists.
                let alive = unsafe { libc::kill(rec.pid as libc::pid_t, 0) } == 0;
                alive.then_some(rec.endpoint)
            });
            if let Some(url) = serving {
                let endpoint = Endpoint {
                    url,
                    access_key_id: key.access_key_id,
                    secret_access_key: key.secret_access_key,
                    region,
                };
                return Ok(Cloud::at_endpoint(
                    &endpoint,
                    scar_contract::time::Clock::system(),
                ));
            }
            let mut config = LocalConfig::new(&data_dir);
            config.region = region;
            let local = LocalCloud::start(config)
                .await
                .map_err(|e| AwsError::Local(e.to_string()))?;
            let cloud = clients_for(&local);
            Ok(cloud.holding(Arc::new(local)))
        }
    }
}

/// True when the clients host the local cloud in this process (its queued
/// events run only while this process does).
pub fn in_process(cloud: &Cloud) -> bool {
    cloud
        .kept()
        .is_some_and(|k| k.downcast_ref::<LocalCloud>().is_some())
}
