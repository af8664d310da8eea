//! The per-install access key of the local cloud.
//!
//! Generated on first start and stored with mode 0600 in the data folder, so
//! that only the user who owns the install can sign requests: the local
//! cloud checks SigV4 on every request, like AWS. The secret is never
//! logged; `Debug` redacts it.

use std::fmt;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::LocalError;

/// An access key pair.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessKey {
    /// The access key id (`AKIA...`).
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
}

impl fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessKey")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .finish()
    }
}

const FILE: &str = "credentials.json";

fn random_chars(n: usize, alphabet: &[u8]) -> String {
    let mut out = String::with_capacity(n);
    while out.len() < n {
        for b in uuid::Uuid::new_v4().as_bytes() {
            if out.len() < n {
                out.push(alphabet[*b as usize % alphabet.len()] as char);
            }
        }
    }
    out
}

impl AccessKey {
    /// Loads the key from `data_dir`, creating it on first use.
    pub fn load_or_create(data_dir: &Path) -> Result<AccessKey, LocalError> {
        let path = data_dir.join(FILE);
        match std::fs::read(&path) {
            Ok(bytes) => {
                let mode = std::fs::metadata(&path)
                    .map(|m| m.permissions().mode() & 0o777)
                    .unwrap_or(0);
                if mode & 0o077 != 0 {
                    // Someone loosened it: tighten again rather than serve a leaked key silently.
                    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                        .map_err(|e| LocalError::io(&path, e))?;
                }
                serde_json::from_slice(&bytes).map_err(|e| LocalError::Corrupt {
                    path: path.clone(),
                    detail: format!("{e}; delete it to generate a new key"),
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = AccessKey {
                    access_key_id: format!(
                        "AKIA{}",
                        random_chars(16, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
                    ),
                    secret_access_key: random_chars(
                        40,
                        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
                    ),
                };
                let tmp = data_dir.join(format!("{FILE}.tmp"));
                let mut f = std::fs::OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .mode(0o600)
                    .open(&tmp)
                    .map_err(|e| LocalError::io(&tmp, e))?;
                let bytes =
                    serde_json::to_vec_pretty(&key).map_err(|e| LocalError::io(&tmp, e.into()))?;
                f.write_all(&bytes).map_err(|e| LocalError::io(&tmp, e))?;
                f.sync_all().map_err(|e| LocalError::io(&tmp, e))?;
                std::fs::rename(&tmp, &path).map_err(|e| LocalError::io(&path, e))?;
                Ok(key)
            }
            Err(e) => Err(LocalError::io(&path, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_with_mode_0600_and_redacted() {
        let dir = tempfile::tempdir().unwrap();
        let a = AccessKey::load_or_create(dir.path()).unwrap();
        let b = AccessKey::load_or_create(dir.path()).unwrap();
        assert_eq!(a, b);
        assert!(a.access_key_id.starts_with("AKIA") && a.access_key_id.len() == 20);
        assert_eq!(a.secret_access_key.len(), 40);
        let mode = std::fs::metadata(dir.path().join(FILE))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
        assert!(!format!("{a:?}").contains(&a.secret_access_key));
    }
}
