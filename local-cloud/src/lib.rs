//! scar-local: the embedded local cloud of scar-tui. S3, Lambda,
//! CloudWatch Logs and CloudWatch on one loopback endpoint, spoken to
//! through the AWS SDKs like AWS itself.
//!
//! It is the console's default backend and the test bed of the project: it
//! hosts the unmodified supervisor `bootstrap` under a Lambda Runtime API,
//! with Lambda's execution-environment behaviour (warm reuse, freeze/thaw,
//! concurrency, async retries) that the paper's results depend on. State
//! lives in a data folder and survives restarts; every request is SigV4
//! checked against a per-install key; time comes from the clock in
//! [`LocalConfig`].
//!
//! It must never depend on the console, its views or its AWS layer (the
//! `scar-tui` crate), nor on the supervisor's crate: it runs whatever
//! `bootstrap` it is given, as Lambda does. Among this workspace's crates it
//! uses `scar-contract` only.
#![deny(missing_docs)]

pub mod keys;
pub mod lambda;
pub mod logs;
pub mod metrics;
pub mod protocol;
pub mod s3;
pub mod server;
pub mod sigv4;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use scar_contract::time::Clock;
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use keys::AccessKey;

/// A failure of the local cloud, naming the path or address involved.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    /// A data file could not be read or written.
    #[error("local cloud data {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// A data file is unreadable.
    #[error("local cloud data {path} is corrupt: {detail}")]
    Corrupt {
        /// The path.
        path: PathBuf,
        /// What is wrong and how to recover.
        detail: String,
    },
    /// The listening port could not be bound.
    #[error("cannot listen on {addr}: {source}; pick another --port or stop what uses it")]
    Bind {
        /// The address.
        addr: String,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// No data folder could be determined.
    #[error("no data folder: $HOME is not set; pass --data-dir")]
    NoDataDir,
}

/// Marks `dir` as the top of unrelated directory trees (ext4's `chattr +T`,
/// `FS_TOPDIR_FL`), so that the folders made in it are spread over the
/// filesystem's block groups instead of joining their parent's.
///
/// Why: an environment's scratch space is made and removed once per
/// invocation, and on ext4 without a journal every inode allocation scans
/// the group's recently deleted inodes (`recently_deleted` in
/// fs/ext4/ialloc.c). With the environments, the object store and the
/// queue in one group, each S3 write paid for every workspace removed in
/// the last minutes: half the cloud's CPU in the throughput benchmark.
/// Apart, each pays for its own churn only. Elsewhere the ioctl fails and
/// nothing changes.
pub fn spread_subdirectories(dir: &Path) {
    use std::os::fd::AsRawFd;
    const FS_TOPDIR_FL: libc::c_long = 0x0002_0000;
    let Ok(f) = std::fs::File::open(dir) else {
        return;
    };
    let mut flags: libc::c_long = 0;
    // SAFETY: FS_IOC_GETFLAGS/SETFLAGS read and write one long on an open
    // directory we own.
    unsafe {
        if libc::ioctl(f.as_raw_fd(), libc::FS_IOC_GETFLAGS, &mut flags) == 0
            && flags & FS_TOPDIR_FL == 0
        {
            flags |= FS_TOPDIR_FL;
            libc::ioctl(f.as_raw_fd(), libc::FS_IOC_SETFLAGS, &flags);
        }
    }
}

/// Makes the folder `path` (and its parents) unless it exists; its last
/// component is made under a unique name, then renamed into place.
///
/// Why: ext4 places a folder made in a [`spread_subdirectories`] folder by
/// a hash of its name, so every local cloud's `s3/buckets` would land in
/// the same block group, and pay for the files the others removed.
pub(crate) fn create_dir_placed_at_random(path: &Path) -> std::io::Result<()> {
    if path.is_dir() {
        return Ok(());
    }
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return std::fs::create_dir_all(path);
    };
    std::fs::create_dir_all(parent)?;
    let tmp = parent.join(format!(
        ".{}.{}",
        name.to_string_lossy(),
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir(&tmp)?;
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_dir(&tmp);
        // Made meanwhile by someone else: as good.
        if !path.is_dir() {
            return Err(e);
        }
    }
    Ok(())
}

impl LocalError {
    /// An I/O failure at `path`.
    pub fn io(path: &Path, source: std::io::Error) -> LocalError {
        LocalError::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// How to run the local cloud.
#[derive(Debug, Clone)]
pub struct LocalConfig {
    /// Where state lives (buckets, functions, logs, metrics, queues, key).
    pub data_dir: PathBuf,
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// The region reported to clients and functions.
    pub region: String,
    /// How long an idle execution environment is kept (frozen) before it is reaped.
    pub keep_warm: Duration,
    /// The account's concurrency limit (AWS's default is 1000).
    pub account_concurrency: u32,
    /// Delays before the two retries of a failed `Event` invocation (AWS
    /// waits about 1 and 2 minutes; locally the default is 1 and 2 seconds).
    pub retry_delays: [Duration; 2],
    /// The clock of every service (the system's; tests set their own).
    pub clock: Clock,
}

impl LocalConfig {
    /// The default data folder: the user's data dir (`directories`) + `local`.
    pub fn default_data_dir() -> Result<PathBuf, LocalError> {
        directories::ProjectDirs::from("", "", "scar-tui")
            .map(|d| d.data_dir().join("local"))
            .ok_or(LocalError::NoDataDir)
    }

    /// Defaults for a data folder.
    pub fn new(data_dir: impl Into<PathBuf>) -> LocalConfig {
        LocalConfig {
            data_dir: data_dir.into(),
            port: 0,
            region: "us-east-1".into(),
            keep_warm: Duration::from_secs(15 * 60),
            account_concurrency: 1000,
            retry_delays: [Duration::from_secs(1), Duration::from_secs(2)],
            clock: Clock::system(),
        }
    }
}

/// A running local cloud.
pub struct LocalCloud {
    clock: Clock,
    endpoint: String,
    key: AccessKey,
    region: String,
    shutdown: watch::Sender<bool>,
    server: tokio::task::JoinHandle<()>,
    lambda: Arc<lambda::Lambda>,
    metrics: Arc<metrics::MetricStore>,
}

impl std::fmt::Debug for LocalCloud {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalCloud")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl LocalCloud {
    /// Opens the data folder and starts serving on 127.0.0.1.
    pub async fn start(config: LocalConfig) -> Result<LocalCloud, LocalError> {
        let data = &config.data_dir;
        for sub in ["s3", "lambda", "logs", "metrics"] {
            let p = data.join(sub);
            std::fs::create_dir_all(&p).map_err(|e| LocalError::io(&p, e))?;
            // The object store, the queue and the environments' scratch
            // space each get block groups of their own (see the function).
            if sub == "s3" || sub == "lambda" {
                spread_subdirectories(&p);
            }
        }
        let key = AccessKey::load_or_create(data)?;
        let addr = format!("127.0.0.1:{}", config.port);
        let listener = TcpListener::bind(&addr)
            .await
            .map_err(|source| LocalError::Bind {
                addr: addr.clone(),
                source,
            })?;
        let local = listener
            .local_addr()
            .map_err(|source| LocalError::Bind { addr, source })?;
        let endpoint = format!("http://{local}");

        let metrics = metrics::MetricStore::open(&data.join("metrics"), config.clock.clone())?;
        let logs = logs::LogStore::open(&data.join("logs"), metrics.clone())?;
        let lambda = lambda::Lambda::open(lambda::LambdaSettings {
            dir: data.join("lambda"),
            endpoint: endpoint.clone(),
            key: key.clone(),
            region: config.region.clone(),
            keep_warm: config.keep_warm,
            account_concurrency: config.account_concurrency,
            retry_delays: config.retry_delays,
            logs: logs.clone(),
            metrics: metrics.clone(),
            clock: config.clock.clone(),
        })?;
        let s3 = s3::build(
            &data.join("s3"),
            &key,
            &config.region,
            lambda.clone(),
            config.clock.clone(),
        )?;
        lambda.set_record_sink(Arc::new(s3::RecordWriter::open(&data.join("s3"))?));
        let services = Arc::new(server::Services {
            key: key.clone(),
            s3,
            lambda: lambda.clone(),
            logs,
            metrics: metrics.clone(),
            clock: config.clock.clone(),
        });
        let (tx, rx) = watch::channel(false);
        let server = tokio::spawn(server::serve(listener, server::cloud_handler(services), rx));
        Ok(LocalCloud {
            clock: config.clock.clone(),
            endpoint,
            key,
            region: config.region,
            shutdown: tx,
            server,
            lambda,
            metrics,
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The install's access key.
    pub fn key(&self) -> &AccessKey {
        &self.key
    }

    /// The clock every service reads.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The region.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The Lambda service (for in-process callers: the console, tests).
    pub fn lambda(&self) -> &Arc<lambda::Lambda> {
        &self.lambda
    }

    /// The CloudWatch metric store (for in-process callers: the console, tests).
    pub fn metrics(&self) -> &Arc<metrics::MetricStore> {
        &self.metrics
    }

    /// Shell lines that point any AWS client at this cloud.
    pub fn export_lines(&self) -> String {
        format!(
            "export AWS_ENDPOINT_URL={}\nexport AWS_ACCESS_KEY_ID={}\nexport AWS_SECRET_ACCESS_KEY={}\nexport AWS_REGION={}\n",
            self.endpoint, self.key.access_key_id, self.key.secret_access_key, self.region
        )
    }

    /// Stops serving and ends every execution environment. Queued async
    /// events stay on disk for the next start.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.server.await;
        self.lambda.shutdown().await;
    }
}
