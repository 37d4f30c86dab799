//! The sandbox's own error: what went wrong opening, seeding, serving or stopping a sandbox, and
//! inside its engines. HTTP answers turn it into a `ServiceError` body (`errors::ApiError`);
//! a client command that starts a sandbox converts it into the client's error (`#[from]`).

use std::fmt::Display;
use std::net::SocketAddr;
use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The caller must change the input: a directory that is not a sandbox, a bad seed file, an
    /// address that cannot be listened on.
    #[error("{0}")]
    Usage(String),

    #[error("{action} {}: {source}", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The server could not bind its address (in use, not local, no permission).
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },

    /// An engine failed, or has no server here (PostgreSQL not installed, say). The text is
    /// shown as is: in restore records, 422 answers and seeding errors.
    #[error("{0}")]
    Engine(String),

    /// Anything else that went wrong inside the sandbox; the text says what.
    #[error("{0}")]
    Internal(String),
}

impl Error {
    pub fn usage(msg: impl Into<String>) -> Self {
        Error::Usage(msg.into())
    }

    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// An engine failure, from any displayable cause (an `io::Error`, a driver error, a text).
    pub fn engine(detail: impl Display) -> Self {
        Error::Engine(detail.to_string())
    }

    /// Whether the caller's input is at fault (the client exits with its usage code).
    pub fn is_usage(&self) -> bool {
        matches!(self, Error::Usage(_) | Error::Listen { .. })
    }

    /// The same failure again, for outcomes decided once and cached (a missing program).
    pub(crate) fn repeated(&self) -> Error {
        match self {
            Error::Usage(m) => Error::Usage(m.clone()),
            other => Error::Engine(other.to_string()),
        }
    }
}

/// A client command that started a sandbox reports the sandbox's failure as its own.
impl From<Error> for crate::error::Error {
    fn from(e: Error) -> Self {
        crate::error::Error::Sandbox {
            usage: e.is_usage(),
            source: Box::new(e),
        }
    }
}
