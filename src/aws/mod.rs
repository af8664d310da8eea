//! The one layer that talks to a cloud, for both backends.
//!
//! `local`: the embedded local cloud, either one already serving (started
//! with `scar-tui local serve`, found through the `endpoint.json` it writes
//! in its data folder, or named with `--endpoint`) or one started in this
//! process. `aws`: aws-config's standard chain (profiles, SSO, environment)
//! and region. Either way the same aws-sdk clients make the same calls:
//! what works locally works on AWS.

use scar_contract::time::Clock;
use std::path::PathBuf;
use std::sync::Arc;

use aws_sdk_s3::error::ProvideErrorMetadata;

use crate::local::{LocalCloud, LocalConfig};

pub mod buckets;
pub mod functions;
pub mod host_prefix;
pub mod invoke;
pub mod logs;
pub mod objects;
pub mod stats;
pub mod transfer;

/// Which cloud.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// The embedded local cloud.
    Local,
    /// Amazon Web Services.
    Aws,
}

impl std::str::FromStr for Backend {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "local" => Ok(Backend::Local),
            "aws" => Ok(Backend::Aws),
            other => Err(format!("unknown backend {other:?}: use local or aws")),
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Local => "local",
            Backend::Aws => "aws",
        })
    }
}

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

/// A cloud failure, naming the operation and the resource.
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    /// No usable credentials or region.
    #[error("{0}")]
    Config(String),
    /// The local cloud could not be started or reached.
    #[error("local cloud: {0}")]
    Local(String),
    /// A call failed.
    #[error("{op} {target}: {code}: {message}")]
    Call {
        /// The operation (`CreateFunction`).
        op: &'static str,
        /// The function, bucket or key it was about.
        target: String,
        /// AWS's error code, or the transport failure's kind.
        code: String,
        /// AWS's message.
        message: String,
    },
}

impl AwsError {
    /// Wraps an SDK error as one line: AWS's code and message when the
    /// service answered, the transport failure and its causes otherwise.
    pub fn call<E>(
        op: &'static str,
        target: impl Into<String>,
        e: &aws_sdk_s3::error::SdkError<E>,
    ) -> AwsError
    where
        E: std::error::Error + ProvideErrorMetadata + 'static,
    {
        let (code, message) = match e.code() {
            Some(code) => (
                code.to_owned(),
                e.message().unwrap_or("no message").to_owned(),
            ),
            None => {
                let mut m = e.to_string();
                let mut cur = std::error::Error::source(e);
                while let Some(inner) = cur {
                    let s = inner.to_string();
                    if !m.contains(&s) {
                        m.push_str(": ");
                        m.push_str(&s);
                    }
                    cur = inner.source();
                }
                ("RequestFailed".to_owned(), m)
            }
        };
        AwsError::Call {
            op,
            target: target.into(),
            code,
            message,
        }
    }

    /// AWS's error code, if this is a failed call.
    pub fn code(&self) -> Option<&str> {
        match self {
            AwsError::Call { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// Clients for the four services, and where they point.
#[derive(Clone)]
pub struct Cloud {
    /// Lambda.
    pub lambda: aws_sdk_lambda::Client,
    /// S3.
    pub s3: aws_sdk_s3::Client,
    /// CloudWatch Logs.
    pub logs: aws_sdk_cloudwatchlogs::Client,
    /// CloudWatch.
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    /// Which cloud.
    pub backend: Backend,
    /// The region.
    pub region: String,
    /// The endpoint (local cloud), if not AWS's.
    pub endpoint: Option<String>,
    /// The AWS profile, if one was named.
    pub profile: Option<String>,
    /// The clock every "now" of the commands and the console is read from.
    pub clock: Clock,
    /// The in-process local cloud, kept alive as long as the clients.
    local: Option<Arc<LocalCloud>>,
}

impl std::fmt::Debug for Cloud {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cloud")
            .field("backend", &self.backend)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

fn http_client() -> aws_sdk_s3::config::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
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

impl Cloud {
    /// Clients pointed at a running local cloud, signed with its key.
    pub fn from_local(local: &LocalCloud) -> Cloud {
        Self::local_clients(local.endpoint(), local.key(), local.region())
    }

    fn local_clients(endpoint: &str, key: &crate::local::AccessKey, region: &str) -> Cloud {
        let creds = aws_sdk_s3::config::Credentials::new(
            key.access_key_id.clone(),
            key.secret_access_key.clone(),
            None,
            None,
            "scar-tui-local",
        );
        let sdk = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(region.to_owned()))
            .credentials_provider(aws_sdk_s3::config::SharedCredentialsProvider::new(creds))
            .endpoint_url(endpoint)
            .http_client(http_client())
            .build();
        Cloud {
            lambda: aws_sdk_lambda::Client::new(&sdk),
            s3: aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(&sdk)
                    .force_path_style(true)
                    .build(),
            ),
            logs: {
                let mut conf = aws_sdk_cloudwatchlogs::config::Builder::from(&sdk);
                if let Some(strip) = host_prefix::StripHostPrefix::new(endpoint) {
                    conf = conf.interceptor(strip);
                }
                aws_sdk_cloudwatchlogs::Client::from_conf(conf.build())
            },
            cloudwatch: aws_sdk_cloudwatch::Client::new(&sdk),
            backend: Backend::Local,
            region: region.to_owned(),
            endpoint: Some(endpoint.to_owned()),
            profile: None,
            clock: Clock::system(),
            local: None,
        }
    }

    /// Connects as the options say. For `local` without `--endpoint`, a
    /// local cloud already serving on the data folder is used; otherwise
    /// one is started in this process (and lives as long as the clients).
    pub async fn connect(opts: ConnectOptions) -> Result<Cloud, AwsError> {
        match opts.backend {
            Backend::Aws => {
                let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
                    .http_client(http_client());
                if let Some(p) = &opts.profile {
                    loader = loader.profile_name(p);
                }
                if let Some(r) = &opts.region {
                    loader = loader.region(aws_config::Region::new(r.clone()));
                }
                let sdk = loader.load().await;
                let region = sdk.region().map(|r| r.to_string()).ok_or_else(|| {
                    AwsError::Config(
                        "no AWS region: pass --region, set AWS_REGION, or set one in the profile"
                            .into(),
                    )
                })?;
                if sdk.credentials_provider().is_none() {
                    return Err(AwsError::Config(
                        "no AWS credentials: configure a profile (aws configure, or aws sso login) or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY".into(),
                    ));
                }
                Ok(Cloud {
                    lambda: aws_sdk_lambda::Client::new(&sdk),
                    s3: aws_sdk_s3::Client::new(&sdk),
                    logs: aws_sdk_cloudwatchlogs::Client::new(&sdk),
                    cloudwatch: aws_sdk_cloudwatch::Client::new(&sdk),
                    backend: Backend::Aws,
                    region,
                    endpoint: None,
                    profile: opts.profile,
                    clock: Clock::system(),
                    local: None,
                })
            }
            Backend::Local => {
                let data_dir = match opts.data_dir {
                    Some(d) => d,
                    None => LocalConfig::default_data_dir()
                        .map_err(|e| AwsError::Local(e.to_string()))?,
                };
                std::fs::create_dir_all(&data_dir)
                    .map_err(|e| AwsError::Local(format!("{}: {e}", data_dir.display())))?;
                let key = crate::local::AccessKey::load_or_create(&data_dir)
                    .map_err(|e| AwsError::Local(e.to_string()))?;
                let region = opts.region.clone().unwrap_or_else(|| "us-east-1".into());
                let serving = opts.endpoint.clone().or_else(|| {
                    let rec: ServingRecord = serde_json::from_slice(
                        &std::fs::read(serving_record_path(&data_dir)).ok()?,
                    )
                    .ok()?;
                    // SAFETY: kill(pid, 0) only checks that the process exists.
                    let alive = unsafe { libc::kill(rec.pid as libc::pid_t, 0) } == 0;
                    alive.then_some(rec.endpoint)
                });
                if let Some(endpoint) = serving {
                    return Ok(Self::local_clients(&endpoint, &key, &region));
                }
                let mut config = LocalConfig::new(&data_dir);
                config.region = region;
                let local = LocalCloud::start(config)
                    .await
                    .map_err(|e| AwsError::Local(e.to_string()))?;
                let mut cloud = Self::from_local(&local);
                cloud.local = Some(Arc::new(local));
                Ok(cloud)
            }
        }
    }

    /// The in-process local cloud, if this connection started one.
    pub fn local(&self) -> Option<&Arc<LocalCloud>> {
        self.local.as_ref()
    }

    /// Where the clients point, for a header line: `local http://...`,
    /// `aws us-east-1 (profile p)`.
    pub fn describe(&self) -> String {
        match (self.backend, &self.endpoint, &self.profile) {
            (Backend::Local, Some(e), _) => format!("local {e} ({})", self.region),
            (_, _, Some(p)) => format!("aws {} (profile {p})", self.region),
            _ => format!("aws {}", self.region),
        }
    }
}
