//! The error of the log store's operations: each names the group or stream
//! it is about; [`super::wire`] turns them into AWS's exceptions.

use std::io;
use std::path::{Path, PathBuf};

/// A failure of a log store operation, naming the group or stream.
#[derive(Debug, thiserror::Error)]
pub enum LogsError {
    /// CreateLogGroup on an existing group.
    #[error("log group {group} already exists")]
    GroupExists {
        /// The group.
        group: String,
    },
    /// The group does not exist.
    #[error("log group {group} does not exist")]
    GroupNotFound {
        /// The group.
        group: String,
    },
    /// CreateLogStream on an existing stream.
    #[error("log stream {stream} already exists in log group {group}")]
    StreamExists {
        /// The group.
        group: String,
        /// The stream.
        stream: String,
    },
    /// The stream does not exist.
    #[error("log stream {stream} does not exist in log group {group}")]
    StreamNotFound {
        /// The group.
        group: String,
        /// The stream.
        stream: String,
    },
    /// A value AWS would refuse.
    #[error("{0}")]
    InvalidParameter(String),
    /// The data folder could not be read or written.
    #[error("failed to write log data {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The failure.
        #[source]
        source: io::Error,
    },
}

pub(super) fn io_err(path: &Path) -> impl FnOnce(io::Error) -> LogsError + '_ {
    move |source| LogsError::Io {
        path: path.to_owned(),
        source,
    }
}
