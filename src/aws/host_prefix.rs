//! Keeps requests on the local cloud's loopback endpoint when an operation
//! carries a host prefix: the SDKs send StartLiveTail to
//! `stream-<endpoint host>` (CloudWatch Logs' `streaming-logs` front end),
//! and `stream-127.0.0.1` is no host. The prefix is taken off before the
//! request is signed, so the signature covers the host it is sent to.

use aws_sdk_cloudwatchlogs::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_cloudwatchlogs::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_cloudwatchlogs::error::BoxError;

/// The interceptor: rewrites `scheme://PREFIX<authority>` to
/// `scheme://<authority>` for the endpoint's own authority.
#[derive(Debug, Clone)]
pub struct StripHostPrefix {
    /// `host:port` of the endpoint.
    authority: String,
}

impl StripHostPrefix {
    /// For `endpoint` (`http://127.0.0.1:4566`); `None` if it has no
    /// authority to keep.
    pub fn new(endpoint: &str) -> Option<StripHostPrefix> {
        let uri: http::Uri = endpoint.parse().ok()?;
        Some(StripHostPrefix {
            authority: uri.authority()?.as_str().to_owned(),
        })
    }

    /// `uri` without a host prefix in front of the endpoint's authority.
    fn strip(&self, uri: &str) -> Option<String> {
        let (scheme, rest) = uri.split_once("://")?;
        let at = rest.find(self.authority.as_str())?;
        let host_end = rest.find('/').unwrap_or(rest.len());
        if at == 0 || at + self.authority.len() != host_end {
            return None;
        }
        Some(format!("{scheme}://{}", &rest[at..]))
    }
}

impl Intercept for StripHostPrefix {
    fn name(&self) -> &'static str {
        "StripHostPrefix"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request_mut();
        if let Some(uri) = self.strip(request.uri()) {
            request.set_uri(uri.as_str())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_prefix_of_the_endpoint_is_taken_off() {
        let s = StripHostPrefix::new("http://127.0.0.1:4566").unwrap();
        assert_eq!(
            s.strip("http://stream-127.0.0.1:4566/").as_deref(),
            Some("http://127.0.0.1:4566/")
        );
        assert_eq!(s.strip("http://127.0.0.1:4566/"), None);
        assert_eq!(s.strip("http://example.com/127.0.0.1:4566"), None);
        assert_eq!(s.strip("http://stream-127.0.0.1:45660/"), None);
        assert!(StripHostPrefix::new("not a uri").is_none());
    }
}
