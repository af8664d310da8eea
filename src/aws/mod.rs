//! The one layer that talks to a cloud, for both backends.
//!
//! It is handed an endpoint, credentials and a region by the backend
//! switch (`crate::backend`): the embedded local cloud's loopback endpoint
//! and key, or aws-config's standard chain (profiles, SSO, environment).
//! Either way the same aws-sdk clients make the same calls: what works
//! locally works on AWS. It knows nothing of the local cloud's crate.

use std::any::Any;
use std::sync::Arc;

use aws_sdk_s3::error::ProvideErrorMetadata;
use scar_contract::time::Clock;

pub mod buckets;
pub mod failures;
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
    /// Whatever must live as long as the clients (an in-process local
    /// cloud, which the backend switch started); opaque here.
    keepalive: Option<Arc<dyn Any + Send + Sync>>,
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

/// A signing SDK time source over the cloud's clock.
#[derive(Debug)]
struct ClockTime(Clock);

impl aws_smithy_async::time::TimeSource for ClockTime {
    fn now(&self) -> std::time::SystemTime {
        self.0.now()
    }
}

/// Where an endpoint-addressed cloud is and how to sign for it.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The access key id.
    pub access_key_id: String,
    /// The secret key.
    pub secret_access_key: String,
    /// The region.
    pub region: String,
}

impl Cloud {
    /// Clients for the local cloud at `endpoint`: path-style S3, the Logs
    /// host prefix taken off, requests signed by `clock` (the cloud's).
    pub fn at_endpoint(endpoint: &Endpoint, clock: Clock) -> Cloud {
        let creds = aws_sdk_s3::config::Credentials::new(
            endpoint.access_key_id.clone(),
            endpoint.secret_access_key.clone(),
            None,
            None,
            "scar-tui-local",
        );
        let mut sdk = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(endpoint.region.clone()))
            .credentials_provider(aws_sdk_s3::config::SharedCredentialsProvider::new(creds))
            .endpoint_url(&endpoint.url)
            .http_client(http_client());
        if !clock.is_system() {
            sdk = sdk.time_source(aws_smithy_async::time::SharedTimeSource::new(ClockTime(
                clock.clone(),
            )));
        }
        let sdk = sdk.build();
        Cloud {
            lambda: aws_sdk_lambda::Client::new(&sdk),
            s3: aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(&sdk)
                    .force_path_style(true)
                    .build(),
            ),
            logs: {
                let mut conf = aws_sdk_cloudwatchlogs::config::Builder::from(&sdk);
                if let Some(strip) = host_prefix::StripHostPrefix::new(&endpoint.url) {
                    conf = conf.interceptor(strip);
                }
                aws_sdk_cloudwatchlogs::Client::from_conf(conf.build())
            },
            cloudwatch: aws_sdk_cloudwatch::Client::new(&sdk),
            backend: Backend::Local,
            region: endpoint.region.clone(),
            endpoint: Some(endpoint.url.clone()),
            profile: None,
            clock,
            keepalive: None,
        }
    }

    /// Clients for AWS through aws-config's standard chain.
    pub async fn aws(profile: Option<String>, region: Option<String>) -> Result<Cloud, AwsError> {
        let mut loader =
            aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(http_client());
        if let Some(p) = &profile {
            loader = loader.profile_name(p);
        }
        if let Some(r) = &region {
            loader = loader.region(aws_config::Region::new(r.clone()));
        }
        let sdk = loader.load().await;
        let region = sdk.region().map(|r| r.to_string()).ok_or_else(|| {
            AwsError::Config(
                "no AWS region: pass --region, set AWS_REGION, or set one in the profile".into(),
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
            profile,
            clock: Clock::system(),
            keepalive: None,
        })
    }

    /// The same clients, keeping `thing` alive as long as any clone of them.
    pub fn holding(mut self, thing: Arc<dyn Any + Send + Sync>) -> Cloud {
        self.keepalive = Some(thing);
        self
    }

    /// What the clients keep alive, if anything (the backend switch's).
    pub fn kept(&self) -> Option<&Arc<dyn Any + Send + Sync>> {
        self.keepalive.as_ref()
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
