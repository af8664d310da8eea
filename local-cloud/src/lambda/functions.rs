//! The function store: configuration, code and policy of every function,
//! kept in the data folder so they survive a restart.
//!
//! Layout: `functions/NAME/function.json` (configuration, written
//! temp-then-rename), `functions/NAME/code.zip` (as uploaded) and
//! `functions/NAME/code-<sha>/` (extracted: what `bootstrap` runs from;
//! a new folder per upload so a running environment keeps its files).

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::ApiError;
use crate::LocalError;

/// The account id every ARN of the local cloud carries.
pub const ACCOUNT: &str = "000000000000";

/// A function's asynchronous invocation settings, as stored.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EventInvokeConfig {
    /// Retries after a failed attempt, 0 to 2 (Lambda's default: 2).
    pub maximum_retry_attempts: Option<u32>,
    /// Oldest event still attempted, 60 to 21,600 s (default: 6 h).
    pub maximum_event_age_in_seconds: Option<u32>,
    /// Where a record of an event that failed every attempt goes: an S3
    /// bucket ARN (`arn:aws:s3:::BUCKET`), the destination the local cloud
    /// delivers to.
    pub on_failure: Option<String>,
    /// When it was last set, seconds since the epoch (as Lambda answers it).
    pub last_modified_s: f64,
}

/// A function's configuration, as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FunctionConfig {
    /// Name.
    pub name: String,
    /// Runtime (`provided.al2023`).
    pub runtime: String,
    /// Role ARN (recorded, not enforced locally).
    pub role: String,
    /// Handler (recorded; custom runtimes ignore it).
    pub handler: String,
    /// Description.
    pub description: String,
    /// Timeout in seconds (1 to 900).
    pub timeout: u32,
    /// Memory in MB (128 to 10240).
    pub memory_size: u32,
    /// Ephemeral storage (`/tmp`) in MB (512 to 10240).
    pub ephemeral_storage: u32,
    /// Environment variables.
    pub environment: BTreeMap<String, String>,
    /// Reserved concurrency, if set.
    pub reserved_concurrency: Option<u32>,
    /// base64 of the zip's sha256, as AWS reports `CodeSha256`.
    pub code_sha256: String,
    /// Zip size.
    pub code_size: u64,
    /// Last modification, ISO 8601 as Lambda writes it.
    pub last_modified: String,
    /// Changes on every update.
    pub revision_id: String,
    /// Resource policy statements.
    #[serde(default)]
    pub policy: Vec<Value>,
    /// The asynchronous invocation settings (PutFunctionEventInvokeConfig).
    #[serde(default)]
    pub event_invoke: Option<EventInvokeConfig>,
    /// Bumped by every configuration or code update: environments of an
    /// older generation are retired.
    pub generation: u64,
}

impl FunctionConfig {
    /// `arn:aws:lambda:REGION:ACCOUNT:function:NAME`.
    pub fn arn(&self, region: &str) -> String {
        function_arn(region, &self.name)
    }

    /// The `FunctionConfiguration` shape of the Lambda API.
    pub fn to_wire(&self, region: &str) -> Value {
        json!({
            "FunctionName": self.name,
            "FunctionArn": self.arn(region),
            "Runtime": self.runtime,
            "Role": self.role,
            "Handler": self.handler,
            "CodeSize": self.code_size,
            "Description": self.description,
            "Timeout": self.timeout,
            "MemorySize": self.memory_size,
            "LastModified": self.last_modified,
            "CodeSha256": self.code_sha256,
            "Version": "$LATEST",
            "Environment": {"Variables": self.environment},
            "TracingConfig": {"Mode": "PassThrough"},
            "RevisionId": self.revision_id,
            "State": "Active",
            "LastUpdateStatus": "Successful",
            "PackageType": "Zip",
            "Architectures": ["x86_64"],
            "EphemeralStorage": {"Size": self.ephemeral_storage},
            "LoggingConfig": {"LogFormat": "Text", "LogGroup": format!("/aws/lambda/{}", self.name)},
        })
    }
}

/// `arn:aws:lambda:REGION:ACCOUNT:function:NAME`.
pub fn function_arn(region: &str, name: &str) -> String {
    format!("arn:aws:lambda:{region}:{ACCOUNT}:function:{name}")
}

/// The function name in a name, a full ARN or a partial ARN
/// (`ACCOUNT:function:NAME`), without a `:$LATEST` qualifier.
pub fn name_from_ref(reference: &str) -> &str {
    let r = reference.strip_suffix(":$LATEST").unwrap_or(reference);
    match r.rsplit_once(":function:") {
        Some((_, name)) => name,
        None => r,
    }
}

/// Checks a function name as AWS does.
pub fn validate_name(name: &str) -> Result<(), ApiError> {
    if scar_contract::function::is_valid_function_name(name) {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "1 validation error detected: Value '{name}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+ and have length between 1 and 64"
        )))
    }
}

fn check_range(field: &str, value: i64, min: i64, max: i64) -> Result<u32, ApiError> {
    if value < min || value > max {
        return Err(ApiError::invalid(format!(
            "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: Member must have value {}",
            if value < min {
                format!("greater than or equal to {min}")
            } else {
                format!("less than or equal to {max}")
            }
        )));
    }
    Ok(value as u32)
}

/// Fields shared by CreateFunction and UpdateFunctionConfiguration.
pub fn apply_settings(cfg: &mut FunctionConfig, body: &Value) -> Result<(), ApiError> {
    if let Some(v) = body.get("Timeout").filter(|v| !v.is_null()) {
        cfg.timeout = check_range(
            "timeout",
            v.as_i64()
                .ok_or_else(|| ApiError::invalid("Timeout must be a number"))?,
            1,
            900,
        )?;
    }
    if let Some(v) = body.get("MemorySize").filter(|v| !v.is_null()) {
        cfg.memory_size = check_range(
            "memorySize",
            v.as_i64()
                .ok_or_else(|| ApiError::invalid("MemorySize must be a number"))?,
            128,
            10240,
        )?;
    }
    if let Some(v) = body
        .pointer("/EphemeralStorage/Size")
        .filter(|v| !v.is_null())
    {
        cfg.ephemeral_storage = check_range(
            "ephemeralStorage.size",
            v.as_i64()
                .ok_or_else(|| ApiError::invalid("EphemeralStorage.Size must be a number"))?,
            512,
            10240,
        )?;
    }
    if let Some(v) = body.get("Runtime").filter(|v| !v.is_null()) {
        let rt = v
            .as_str()
            .ok_or_else(|| ApiError::invalid("Runtime must be a string"))?;
        if !matches!(rt, "provided.al2023" | "provided.al2" | "provided") {
            return Err(ApiError::invalid(format!(
                "Value {rt} at 'runtime' is not supported by the local cloud: use provided.al2023 with a bootstrap in the zip"
            )));
        }
        cfg.runtime = rt.to_owned();
    }
    if let Some(v) = body.get("Role").and_then(Value::as_str) {
        cfg.role = v.to_owned();
    }
    if let Some(v) = body.get("Handler").and_then(Value::as_str) {
        cfg.handler = v.to_owned();
    }
    if let Some(v) = body.get("Description").and_then(Value::as_str) {
        cfg.description = v.to_owned();
    }
    if let Some(env) = body.get("Environment").filter(|v| !v.is_null()) {
        let vars = env.get("Variables").cloned().unwrap_or(json!({}));
        let map: BTreeMap<String, String> = serde_json::from_value(vars)
            .map_err(|_| ApiError::invalid("Environment.Variables must map names to strings"))?;
        if let Some(k) = map
            .keys()
            .find(|k| k.starts_with("AWS_") && k.as_str() != "AWS_ENDPOINT_URL_S3")
        {
            return Err(ApiError::invalid(format!(
                "Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: {k}"
            )));
        }
        let size: usize = map.iter().map(|(k, v)| k.len() + v.len()).sum();
        if size > 4096 {
            return Err(ApiError::invalid(format!(
                "Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: {size} bytes"
            )));
        }
        cfg.environment = map;
    }
    Ok(())
}

/// The code of a function, decoded and checked.
pub struct Code {
    /// The zip bytes.
    pub zip: Vec<u8>,
    /// base64 of their sha256.
    pub sha256_b64: String,
}

/// Decodes `ZipFile` (base64) and checks it is a readable zip.
pub fn decode_zip(code: &Value) -> Result<Code, ApiError> {
    let b64 = match code.get("ZipFile").and_then(Value::as_str) {
        Some(s) => s,
        None if code.get("S3Bucket").is_some() || code.get("ImageUri").is_some() => {
            return Err(ApiError::invalid(
                "the local cloud takes code as Code.ZipFile only (S3Bucket/S3Key and ImageUri are AWS-side options)",
            ));
        }
        None => return Err(ApiError::invalid("Code.ZipFile is required")),
    };
    let zip = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| {
            ApiError::invalid(
                "Could not unzip uploaded file. Please check your file, then try to upload again.",
            )
        })?;
    if zip.is_empty() {
        return Err(ApiError::invalid("Uploaded file must be a non-empty zip"));
    }
    if zip.len() > 50 * 1024 * 1024 {
        return Err(ApiError::too_large(format!(
            "Request must be smaller than 69905067 bytes for the CreateFunction operation (zip is {} bytes)",
            zip.len()
        )));
    }
    zip::ZipArchive::new(std::io::Cursor::new(&zip)).map_err(|_| {
        ApiError::invalid(
            "Could not unzip uploaded file. Please check your file, then try to upload again.",
        )
    })?;
    let sha256_b64 = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&zip));
    Ok(Code { zip, sha256_b64 })
}

/// Why uploaded code could not be extracted.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// Not a readable zip (the uploader's fault).
    #[error("{0}")]
    Zip(#[from] zip::result::ZipError),
    /// An entry would land outside the code folder (the uploader's fault).
    #[error("zip entry {0:?} leaves the code folder")]
    Leaves(String),
    /// An entry could not be read (the uploader's fault).
    #[error("{name}: {source}")]
    Entry {
        /// The entry.
        name: String,
        /// The failure.
        source: std::io::Error,
    },
    /// The code folder could not be written (the cloud's fault).
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: std::path::PathBuf,
        /// The failure.
        source: std::io::Error,
    },
}

impl ExtractError {
    /// True when the upload itself is at fault (Lambda's 400), not the disk.
    pub fn is_bad_upload(&self) -> bool {
        !matches!(self, ExtractError::Io { .. })
    }
}

fn io_at(path: &Path) -> impl FnOnce(std::io::Error) -> ExtractError + '_ {
    move |source| ExtractError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Extracts a zip into `dest` (created fresh), keeping Unix modes and
/// refusing entries that would leave `dest`.
pub fn extract_zip(zip: &[u8], dest: &Path) -> Result<(), ExtractError> {
    let tmp = dest.with_extension("partial");
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(io_at(&tmp))?;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip))?;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i)?;
        let name = entry.name().to_owned();
        let rel = Path::new(&name);
        if rel.is_absolute() || rel.components().any(|c| matches!(c, Component::ParentDir)) {
            return Err(ExtractError::Leaves(name));
        }
        let out = tmp.join(rel);
        if entry.is_dir() {
            std::fs::create_dir_all(&out).map_err(io_at(&out))?;
            continue;
        }
        if let Some(p) = out.parent() {
            std::fs::create_dir_all(p).map_err(io_at(p))?;
        }
        let mut data = Vec::with_capacity(entry.size() as usize);
        if let Err(source) = entry.read_to_end(&mut data) {
            return Err(ExtractError::Entry { name, source });
        }
        std::fs::write(&out, &data).map_err(io_at(&out))?;
        // Zips made without Unix modes (Windows tools) get 0755 for
        // `bootstrap`, as Lambda's own packaging advice requires.
        let mode = entry
            .unix_mode()
            .map(|m| m & 0o7777)
            .filter(|m| *m != 0)
            .unwrap_or(if name == "bootstrap" { 0o755 } else { 0o644 });
        std::fs::set_permissions(&out, std::fs::Permissions::from_mode(mode))
            .map_err(io_at(&out))?;
    }
    let _ = std::fs::remove_dir_all(dest);
    std::fs::rename(&tmp, dest).map_err(io_at(dest))
}

/// Writes bytes by temp-then-rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), LocalError> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(|e| LocalError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| LocalError::io(path, e))
}

/// The folder of one function.
pub fn function_dir(root: &Path, name: &str) -> PathBuf {
    root.join("functions").join(name)
}

/// The extracted code folder of a code version.
pub fn code_dir(root: &Path, cfg: &FunctionConfig) -> PathBuf {
    let tag: String = cfg
        .code_sha256
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(16)
        .collect();
    function_dir(root, &cfg.name).join(format!("code-{tag}"))
}

/// Stores a function: code (if given) then configuration, so a crash leaves
/// either the old or the new function, never a configuration without code.
pub fn save(root: &Path, cfg: &FunctionConfig, code: Option<&Code>) -> Result<(), ApiError> {
    let dir = function_dir(root, &cfg.name);
    std::fs::create_dir_all(&dir)
        .map_err(|e| ApiError::service(format!("{}: {e}", dir.display())))?;
    if let Some(code) = code {
        write_atomic(&dir.join("code.zip"), &code.zip)
            .map_err(|e| ApiError::service(e.to_string()))?;
        extract_zip(&code.zip, &code_dir(root, cfg)).map_err(|e| {
            if e.is_bad_upload() {
                ApiError::invalid(format!("Could not unzip uploaded file: {e}"))
            } else {
                ApiError::service(format!("storing the function's code failed: {e}"))
            }
        })?;
    }
    let bytes = serde_json::to_vec_pretty(cfg).map_err(|e| ApiError::service(e.to_string()))?;
    write_atomic(&dir.join("function.json"), &bytes)
        .map_err(|e| ApiError::service(e.to_string()))?;
    // Older extracted code folders are no longer referenced.
    if let Ok(rd) = std::fs::read_dir(&dir) {
        let keep = code_dir(root, cfg);
        for e in rd.flatten() {
            let p = e.path();
            if p != keep && e.file_name().to_string_lossy().starts_with("code-") && p.is_dir() {
                let _ = std::fs::remove_dir_all(&p);
            }
        }
    }
    Ok(())
}

/// Loads every stored function.
pub fn load_all(root: &Path) -> Result<Vec<FunctionConfig>, LocalError> {
    let dir = root.join("functions");
    std::fs::create_dir_all(&dir).map_err(|e| LocalError::io(&dir, e))?;
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir)
        .map_err(|e| LocalError::io(&dir, e))?
        .flatten()
    {
        let p = e.path().join("function.json");
        let Ok(bytes) = std::fs::read(&p) else {
            // A function folder without configuration is a create that never
            // finished: it does not exist.
            let _ = std::fs::remove_dir_all(e.path());
            continue;
        };
        let cfg: FunctionConfig =
            serde_json::from_slice(&bytes).map_err(|err| LocalError::Corrupt {
                path: p.clone(),
                detail: format!("{err}; delete the folder to drop the function"),
            })?;
        out.push(cfg);
    }
    Ok(out)
}

/// ISO 8601 with milliseconds and `+0000`, as Lambda's `LastModified`.
pub fn lambda_timestamp(ms: u64) -> String {
    let s = super::iso8601(ms);
    format!("{}+0000", s.trim_end_matches('Z'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_refs() {
        assert_eq!(name_from_ref("f"), "f");
        assert_eq!(
            name_from_ref("arn:aws:lambda:us-east-1:000000000000:function:f"),
            "f"
        );
        assert_eq!(name_from_ref("000000000000:function:f:$LATEST"), "f");
        assert!(validate_name("ok-name_1").is_ok());
        assert!(validate_name("bad name").is_err());
        assert!(validate_name(&"x".repeat(65)).is_err());
    }

    #[test]
    fn zip_roundtrip_keeps_modes_and_refuses_escapes() {
        use std::io::Write;
        let mut buf = std::io::Cursor::new(Vec::new());
        {
            let mut w = zip::ZipWriter::new(&mut buf);
            let opts = zip::write::SimpleFileOptions::default().unix_permissions(0o755);
            w.start_file("bootstrap", opts).unwrap();
            w.write_all(b"#!/bin/sh\n").unwrap();
            w.finish().unwrap();
        }
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("code");
        extract_zip(buf.get_ref(), &dest).unwrap();
        let mode = std::fs::metadata(dest.join("bootstrap"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o755);

        let mut evil = std::io::Cursor::new(Vec::new());
        {
            let mut w = zip::ZipWriter::new(&mut evil);
            w.start_file("../x", zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(b"x").unwrap();
            w.finish().unwrap();
        }
        assert!(extract_zip(evil.get_ref(), &dir.path().join("e")).is_err());
        assert!(!dir.path().join("x").exists());
    }

    #[test]
    fn settings_validated_like_aws() {
        let mut cfg = FunctionConfig {
            name: "f".into(),
            runtime: "provided.al2023".into(),
            role: String::new(),
            handler: String::new(),
            description: String::new(),
            timeout: 3,
            memory_size: 128,
            ephemeral_storage: 512,
            environment: BTreeMap::new(),
            reserved_concurrency: None,
            code_sha256: String::new(),
            code_size: 0,
            last_modified: String::new(),
            revision_id: String::new(),
            policy: vec![],
            event_invoke: None,
            generation: 0,
        };
        assert!(apply_settings(&mut cfg, &json!({"MemorySize": 64})).is_err());
        assert!(apply_settings(&mut cfg, &json!({"Timeout": 901})).is_err());
        assert!(apply_settings(&mut cfg, &json!({"Runtime": "python3.12"})).is_err());
        assert!(
            apply_settings(
                &mut cfg,
                &json!({"Environment": {"Variables": {"AWS_REGION": "x"}}})
            )
            .is_err()
        );
        apply_settings(
            &mut cfg,
            &json!({"MemorySize": 512, "Timeout": 30, "Environment": {"Variables": {"A": "1"}}}),
        )
        .unwrap();
        assert_eq!((cfg.memory_size, cfg.timeout), (512, 30));
        assert_eq!(cfg.environment["A"], "1");
    }
}
