//! The container runtimes the supervisor can use, as a function's
//! definition names them and as `SCAR_RUNTIME` carries them to the
//! supervisor: one enum and one parser for both sides.

use serde::{Deserialize, Serialize};

/// How the supervisor runs the container (`SCAR_RUNTIME`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Runtime {
    /// `userns` where namespaces are allowed, `proot` where they are not.
    #[default]
    Auto,
    /// User + mount namespace and chroot.
    Userns,
    /// ptrace-based, where namespaces are denied (as on AWS Lambda).
    Proot,
    /// The function already runs inside the image.
    Host,
}

/// A runtime name that is none of the four.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown runtime {0:?}: use auto, userns, proot or host")]
pub struct UnknownRuntime(pub String);

impl Runtime {
    /// The value of `SCAR_RUNTIME`.
    pub fn as_str(self) -> &'static str {
        match self {
            Runtime::Auto => "auto",
            Runtime::Userns => "userns",
            Runtime::Proot => "proot",
            Runtime::Host => "host",
        }
    }
}

impl std::fmt::Display for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Runtime {
    type Err = UnknownRuntime;
    /// Empty means `auto`, as an unset `SCAR_RUNTIME` does.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "" | "auto" => Ok(Runtime::Auto),
            "userns" => Ok(Runtime::Userns),
            "proot" => Ok(Runtime::Proot),
            "host" => Ok(Runtime::Host),
            other => Err(UnknownRuntime(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_say_the_fix() {
        for r in [
            Runtime::Auto,
            Runtime::Userns,
            Runtime::Proot,
            Runtime::Host,
        ] {
            assert_eq!(r.as_str().parse::<Runtime>(), Ok(r));
        }
        assert_eq!("".parse::<Runtime>(), Ok(Runtime::Auto));
        let e = "docker".parse::<Runtime>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown runtime \"docker\": use auto, userns, proot or host"
        );
    }
}
