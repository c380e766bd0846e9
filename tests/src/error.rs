//! Why a peer could not be started or asked something.
//!
//! Messages say what to do: most failures on a fresh machine are a missing install,
//! and the fix is `cargo xtask install`.

use std::io;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

/// A failure of the harness itself (never of the code under test).
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    #[error("{program} was not found at {}; run `cargo xtask install`", path.display())]
    Missing { program: String, path: PathBuf },

    #[error("could not start {program}: {source} (is it installed? `cargo xtask install`)")]
    Spawn {
        program: String,
        #[source]
        source: io::Error,
    },

    #[error("{peer} was not ready after {waited:?}: {detail}")]
    NotReady {
        peer: &'static str,
        waited: Duration,
        detail: String,
    },

    #[error("{what} failed ({status}): {stderr}")]
    Failed {
        what: String,
        status: ExitStatus,
        stderr: String,
    },

    #[error("{what}: unexpected output: {detail}")]
    Output { what: String, detail: String },

    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: io::Error,
    },
}

impl PeerError {
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(io::Error) -> Self {
        let what = what.into();
        move |source| Self::Io { what, source }
    }

    pub(crate) fn spawn(program: impl Into<String>) -> impl FnOnce(io::Error) -> Self {
        let program = program.into();
        move |source| Self::Spawn { program, source }
    }
}

/// The harness's result type.
pub type Result<T, E = PeerError> = std::result::Result<T, E>;
