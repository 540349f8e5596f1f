//! What can go wrong in a store. Expected outcomes of the domain (a name taken, a bucket not
//! found) are variants of their own that callers answer with 4xx; a backend failure keeps its
//! cause and a [`FailureKind`] read from the driver's error code, never from message text, so
//! that callers can tell "retry" from "broken" whichever backend failed.

use std::fmt;

/// The outcome of a store call that did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("bucket name is already taken")]
    BucketNameTaken,
    #[error("project name is already taken")]
    ProjectNameTaken,
    #[error("bucket is soft-deleted")]
    BucketDeleted,
    #[error("bucket is not deleted")]
    BucketNotDeleted,
    #[error("a precondition of the request does not hold")]
    PreconditionFailed,
    /// The backend failed; the change, if any, did not happen.
    #[error(transparent)]
    Backend(#[from] BackendFailure),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// How a backend failed, which says what a caller may do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// A uniqueness constraint refused the change (one the store did not expect to meet).
    UniqueViolation,
    /// Another writer held what the change needed for longer than the store waits.
    Conflict,
    /// The database gave up a transaction to keep transactions serialisable; running it again
    /// may succeed.
    Retryable,
    /// The backend cannot be reached or cannot take work now (connection refused or lost, pool
    /// exhausted, disk full, a service shutting down).
    Unavailable,
    /// Anything else: a bug, or stored data that no longer reads back.
    Other,
}

impl FailureKind {
    /// Whether the same call may succeed if made again a little later.
    pub fn is_transient(self) -> bool {
        matches!(self, Self::Conflict | Self::Retryable | Self::Unavailable)
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UniqueViolation => "unique violation",
            Self::Conflict => "conflict",
            Self::Retryable => "retryable serialisation failure",
            Self::Unavailable => "unavailable",
            Self::Other => "failure",
        })
    }
}

/// A backend failure: its kind and its cause. The cause's text is for the server's log, never
/// for a client.
#[derive(Debug)]
pub struct BackendFailure {
    kind: FailureKind,
    cause: Box<dyn std::error::Error + Send + Sync + 'static>,
}

impl BackendFailure {
    pub fn new(kind: FailureKind, cause: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        Self {
            kind,
            cause: cause.into(),
        }
    }

    /// A failure of kind [`FailureKind::Other`] described by `message` (stored data that does
    /// not parse, an invariant that does not hold).
    pub fn other(message: impl Into<String>) -> Self {
        Self::new(FailureKind::Other, message.into())
    }

    pub fn kind(&self) -> FailureKind {
        self.kind
    }
}

impl fmt::Display for BackendFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "metadata store {}: {}", self.kind, self.cause)
    }
}

impl std::error::Error for BackendFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.cause.as_ref())
    }
}

impl StoreError {
    /// The kind of a backend failure; `None` for the domain's expected outcomes.
    pub fn failure_kind(&self) -> Option<FailureKind> {
        match self {
            Self::Backend(f) => Some(f.kind()),
            _ => None,
        }
    }

    /// A [`FailureKind::Other`] failure described by `message`.
    pub fn other(message: impl Into<String>) -> Self {
        Self::Backend(BackendFailure::other(message))
    }
}
