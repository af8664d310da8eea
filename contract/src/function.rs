//! What a deployed function carries in its environment for the supervisor
//! and for scar-tui reading it back: the variable names, and the one shape
//! of `SCAR_INPUT` and `SCAR_OUTPUTS` (a bucket, a folder prefix and
//! suffix filters), with S3's bucket-name rules.

use serde::{Deserialize, Serialize};

/// The function environment variables scar-tui sets and the supervisor reads.
pub mod env {
    /// The image reference (`docker://`, `oci:`, `docker-archive:` or a plain name).
    pub const IMAGE: &str = "SCAR_IMAGE";
    /// The container runtime ([`crate::runtime::Runtime`]).
    pub const RUNTIME: &str = "SCAR_RUNTIME";
    /// Where outputs go: a JSON list of [`super::Storage`].
    pub const OUTPUTS: &str = "SCAR_OUTPUTS";
    /// The input that triggers the function: one JSON [`super::Storage`].
    pub const INPUT: &str = "SCAR_INPUT";
    /// The script, base64, when it is not `script.sh` beside the supervisor.
    pub const SCRIPT: &str = "SCAR_SCRIPT";
}

/// The key prefix under which Lambda writes the records of a function's
/// failed asynchronous invocations in an S3 on-failure destination; the
/// local cloud writes there and scar-tui reads there.
pub fn failure_record_prefix(function: &str) -> String {
    format!("aws/lambda/async/{function}/")
}

/// A bucket and where in it: the input that triggers the function, or an
/// output its results go to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Storage {
    /// The bucket.
    pub bucket: String,
    /// Key prefix: a folder ending in `/`, or empty for the whole bucket.
    #[serde(default)]
    pub prefix: String,
    /// Suffix filters (`.jpg`); empty means every key.
    #[serde(default)]
    pub suffixes: Vec<String>,
}

/// A bucket name S3 would refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "bucket name {0:?} is not valid: use 3 to 63 lowercase letters, digits, '.' or '-', starting and ending with a letter or digit"
)]
pub struct InvalidBucket(pub String);

/// `SCAR_INPUT` or `SCAR_OUTPUTS` that is not the shape scar-tui writes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvShapeError {
    /// Not JSON of the expected shape.
    #[error("{var} is not {expected}: {detail}")]
    NotJson {
        /// The variable.
        var: &'static str,
        /// What it should be.
        expected: &'static str,
        /// The parser's message.
        detail: String,
    },
    /// An entry without a bucket.
    #[error("{var} has an entry without a bucket: set \"bucket\" in it")]
    NoBucket {
        /// The variable.
        var: &'static str,
    },
}

/// Whether `name` is a valid Lambda function name: 1 to 64 of
/// `[A-Za-z0-9-_]`, as AWS checks it.
pub fn is_valid_function_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Checks a bucket name against S3's naming rules.
pub fn check_bucket(name: &str) -> Result<(), InvalidBucket> {
    let bytes = name.as_bytes();
    let ok = (3..=63).contains(&name.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'.' || *b == b'-')
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
        && !name.contains("..")
        && name.parse::<std::net::Ipv4Addr>().is_err();
    if ok {
        Ok(())
    } else {
        Err(InvalidBucket(name.to_owned()))
    }
}

/// A folder prefix: no leading `/`, a trailing one unless empty.
pub fn folder(prefix: &str) -> String {
    let p = prefix.trim().trim_start_matches('/');
    if p.is_empty() || p.ends_with('/') {
        p.to_owned()
    } else {
        format!("{p}/")
    }
}

impl Storage {
    /// Parses `BUCKET[/PREFIX]` (an `s3://` in front is accepted): the
    /// prefix is a folder, so a `/` is added when missing.
    pub fn parse_path(text: &str) -> Result<Storage, InvalidBucket> {
        let t = text.trim().trim_start_matches("s3://");
        let (bucket, prefix) = t.split_once('/').unwrap_or((t, ""));
        check_bucket(bucket)?;
        Ok(Storage {
            bucket: bucket.to_owned(),
            prefix: folder(prefix),
            suffixes: Vec::new(),
        })
    }

    /// `s3://BUCKET/PREFIX` plus the suffix filters, for messages.
    pub fn describe(&self) -> String {
        let mut s = format!("s3://{}/{}", self.bucket, self.prefix);
        if !self.suffixes.is_empty() {
            s.push_str(&format!(" ({})", self.suffixes.join(", ")));
        }
        s
    }

    /// True when a file of this relative name goes to this output.
    pub fn accepts(&self, rel: &str) -> bool {
        self.suffixes.is_empty() || self.suffixes.iter().any(|s| rel.ends_with(s.as_str()))
    }

    /// Whether a listed key is an input: not a folder marker, and ending in
    /// one of the suffixes when there are any.
    pub fn takes(&self, key: &str) -> bool {
        !key.ends_with('/') && self.accepts(key)
    }

    /// The key a relative name is written under.
    pub fn key_for(&self, rel: &str) -> String {
        format!("{}{rel}", self.prefix)
    }

    /// Parses `SCAR_OUTPUTS` (a JSON list; empty means none).
    pub fn outputs_from_env(text: &str) -> Result<Vec<Storage>, EnvShapeError> {
        if text.trim().is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<Storage> =
            serde_json::from_str(text).map_err(|e| EnvShapeError::NotJson {
                var: env::OUTPUTS,
                expected: "a JSON list of {\"bucket\", \"prefix\", \"suffixes\"}",
                detail: e.to_string(),
            })?;
        if list.iter().any(|t| t.bucket.is_empty()) {
            return Err(EnvShapeError::NoBucket { var: env::OUTPUTS });
        }
        Ok(list)
    }

    /// `SCAR_OUTPUTS` for `outputs`.
    pub fn outputs_to_env(outputs: &[Storage]) -> String {
        serde_json::to_string(outputs).unwrap_or_else(|_| "[]".into())
    }

    /// Parses `SCAR_INPUT` (one JSON object).
    pub fn input_from_env(text: &str) -> Result<Storage, EnvShapeError> {
        let s: Storage = serde_json::from_str(text).map_err(|e| EnvShapeError::NotJson {
            var: env::INPUT,
            expected: "a JSON {\"bucket\", \"prefix\", \"suffixes\"}",
            detail: e.to_string(),
        })?;
        if s.bucket.is_empty() {
            return Err(EnvShapeError::NoBucket { var: env::INPUT });
        }
        Ok(s)
    }

    /// `SCAR_INPUT` for this input.
    pub fn input_to_env(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_buckets_and_env_shapes() {
        let s = Storage::parse_path("s3://inputs/photos").unwrap();
        assert_eq!(
            (s.bucket.as_str(), s.prefix.as_str()),
            ("inputs", "photos/")
        );
        assert_eq!(s.describe(), "s3://inputs/photos/");
        assert!(Storage::parse_path("In_Bucket").is_err());
        assert!(check_bucket("192.168.0.1").is_err());
        let out = Storage {
            bucket: "out".into(),
            prefix: "r/".into(),
            suffixes: vec![".jpg".into()],
        };
        assert!(out.accepts("a/b.jpg") && !out.accepts("b.png"));
        assert_eq!(out.key_for("a/b.jpg"), "r/a/b.jpg");
        assert!(out.takes("r/x.jpg") && !out.takes("r/x.jpg/"));
        let env = Storage::outputs_to_env(std::slice::from_ref(&out));
        assert_eq!(Storage::outputs_from_env(&env).unwrap(), vec![out.clone()]);
        assert_eq!(Storage::outputs_from_env(" ").unwrap(), vec![]);
        assert_eq!(
            Storage::outputs_from_env(r#"[{"prefix":"x/"}]"#).unwrap_err(),
            EnvShapeError::NotJson {
                var: "SCAR_OUTPUTS",
                expected: "a JSON list of {\"bucket\", \"prefix\", \"suffixes\"}",
                detail: "missing field `bucket` at line 1 column 16".into()
            }
        );
        assert_eq!(
            Storage::outputs_from_env(r#"[{"bucket":""}]"#).unwrap_err(),
            EnvShapeError::NoBucket {
                var: "SCAR_OUTPUTS"
            }
        );
        assert_eq!(Storage::input_from_env(&out.input_to_env()).unwrap(), out);
    }
}
