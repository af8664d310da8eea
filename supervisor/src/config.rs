//! The function's configuration, read from its environment.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `SCAR_IMAGE` | image reference | required |
//! | `SCAR_SCRIPT` | the script, base64 | `script.sh` beside the binary |
//! | `SCAR_RUNTIME` | `auto`, `userns`, `proot`, `host` | `auto` |
//! | `SCAR_OUTPUTS` | JSON list of `{bucket, prefix, suffixes}` | none |
//! | `SCAR_TIMEOUT_RESERVE_S` | seconds kept back before the deadline | 10 |
//! | `SCAR_CACHE_DIR` | image cache | `$TMPDIR/scar` |
//! | `SCAR_IMAGE_REFRESH` | `never`, `always` or seconds | `never` |
//! | `SCAR_REGISTRY_USER`, `SCAR_REGISTRY_PASSWORD` | registry basic auth | anonymous |
//! | `SCAR_INSECURE_REGISTRIES` | plain-http registries, comma-separated | loopback only |

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;
use scar_contract::function::env;

use crate::cache::Cache;
use crate::container::Runtime;
use crate::image::{ImageStore, Refresh, RegistryOptions};
use crate::reference::ImageRef;
use crate::stage::OutputTarget;

/// A configuration problem, naming the variable and the fix.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The work root: `$TMPDIR`, `/tmp` on Lambda.
pub fn work_root() -> PathBuf {
    std::env::temp_dir()
}

/// The image store from `SCAR_CACHE_DIR` (or `cache_dir`), `SCAR_IMAGE_REFRESH`
/// and the registry variables.
pub fn image_store(cache_dir: Option<PathBuf>) -> Result<ImageStore, ConfigError> {
    let dir = cache_dir
        .or_else(|| var("SCAR_CACHE_DIR").map(PathBuf::from))
        .unwrap_or_else(|| work_root().join("scar"));
    let cache = Cache::open(&dir).map_err(|e| ConfigError(e.to_string()))?;
    let refresh = Refresh::parse(&var("SCAR_IMAGE_REFRESH").unwrap_or_default())
        .map_err(|e| ConfigError(e.to_string()))?;
    let credentials = match (var("SCAR_REGISTRY_USER"), var("SCAR_REGISTRY_PASSWORD")) {
        (Some(u), Some(p)) => Some((u, p)),
        (None, None) => None,
        _ => {
            return Err(ConfigError(
                "set both SCAR_REGISTRY_USER and SCAR_REGISTRY_PASSWORD, or neither".into(),
            ));
        }
    };
    let insecure = var("SCAR_INSECURE_REGISTRIES")
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    Ok(ImageStore::new(
        cache,
        refresh,
        RegistryOptions {
            credentials,
            insecure,
        },
    ))
}

/// Everything a Lambda-hosted supervisor needs, read once at start.
#[derive(Debug, Clone)]
pub struct FunctionConfig {
    /// `AWS_LAMBDA_FUNCTION_NAME`.
    pub name: String,
    /// `SCAR_IMAGE`.
    pub image: ImageRef,
    /// `SCAR_RUNTIME`.
    pub runtime: Runtime,
    /// `SCAR_OUTPUTS`.
    pub outputs: Vec<OutputTarget>,
    /// `SCAR_TIMEOUT_RESERVE_S`.
    pub reserve: Duration,
    /// The script's bytes.
    pub script: Vec<u8>,
    /// The function's own variables, passed to the script.
    pub vars: Vec<(String, String)>,
}

impl FunctionConfig {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<FunctionConfig, ConfigError> {
        let image = var(env::IMAGE)
            .ok_or_else(|| ConfigError("SCAR_IMAGE is not set: set it to the image reference in the function's environment".into()))?
            .parse::<ImageRef>()
            .map_err(|e| ConfigError(format!("SCAR_IMAGE: {e}")))?;
        let runtime = var(env::RUNTIME)
            .unwrap_or_default()
            .parse::<Runtime>()
            .map_err(|e| ConfigError(format!("SCAR_RUNTIME: {e}")))?;
        let outputs = OutputTarget::outputs_from_env(&var(env::OUTPUTS).unwrap_or_default())
            .map_err(|e| ConfigError(e.to_string()))?;
        let reserve = match var("SCAR_TIMEOUT_RESERVE_S") {
            None => Duration::from_secs(10),
            Some(v) => v
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(Duration::from_secs_f64)
                .ok_or_else(|| {
                    ConfigError(format!(
                        "SCAR_TIMEOUT_RESERVE_S={v:?}: write a number of seconds"
                    ))
                })?,
        };
        let script = match var(env::SCRIPT) {
            Some(b64) => base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|e| {
                    ConfigError(format!(
                        "SCAR_SCRIPT is not valid base64 ({e}); encode the script with base64 -w0"
                    ))
                })?,
            None => {
                // The function's code folder (Lambda's LAMBDA_TASK_ROOT, where
                // the zip was extracted), else beside the binary.
                let beside = var("LAMBDA_TASK_ROOT")
                    .map(|root| PathBuf::from(root).join("script.sh"))
                    .filter(|p| p.is_file())
                    .or_else(|| {
                        std::env::current_exe()
                            .ok()
                            .and_then(|p| p.parent().map(|d| d.join("script.sh")))
                    })
                    .unwrap_or_else(|| PathBuf::from("script.sh"));
                std::fs::read(&beside).map_err(|e| {
                    ConfigError(format!(
                        "no script: SCAR_SCRIPT is not set and {} cannot be read ({e}); package script.sh beside bootstrap or set SCAR_SCRIPT",
                        beside.display()
                    ))
                })?
            }
        };
        Ok(FunctionConfig {
            name: var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|| "local".into()),
            image,
            runtime,
            outputs,
            reserve,
            script,
            vars: crate::invocation::function_vars(std::env::vars()),
        })
    }
}
