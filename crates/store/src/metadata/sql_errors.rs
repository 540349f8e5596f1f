//! sqlx's failures as the store's [`FailureKind`]s, for every sqlx backend: the variants that
//! mean the database cannot be reached are `Unavailable`; a database's own error is classified
//! by its code, which each backend reads in its own way.

use crate::{BackendFailure, FailureKind, StoreError};

/// Classifies a failure by the database's error code (SQLite's extended result code, or
/// PostgreSQL's SQLSTATE), as text.
pub(crate) type CodeKinds = fn(&str) -> FailureKind;

fn kind_of(e: &sqlx::Error, codes: CodeKinds) -> FailureKind {
    match e {
        sqlx::Error::Database(db) => db.code().map_or(FailureKind::Other, |code| codes(&code)),
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => FailureKind::Unavailable,
        _ => FailureKind::Other,
    }
}

/// Wraps a sqlx error; its text goes to the server log, never to a client.
pub(crate) fn failure(e: sqlx::Error, codes: CodeKinds) -> StoreError {
    StoreError::Backend(BackendFailure::new(kind_of(&e, codes), e))
}

/// A failure to bring the schema up to date. A database migrated by a newer binary is said so
/// plainly: it is the one failure an operator fixes by upgrading rather than by waiting.
pub(crate) fn migration(e: sqlx::migrate::MigrateError, codes: CodeKinds) -> StoreError {
    use sqlx::migrate::MigrateError;
    let kind = match &e {
        MigrateError::Execute(inner) | MigrateError::ExecuteMigration(inner, _) => kind_of(inner, codes),
        _ => FailureKind::Other,
    };
    let cause: Box<dyn std::error::Error + Send + Sync> = match &e {
        MigrateError::VersionMissing(version) => format!(
            "the database's schema has migration {version}, which this binary does not know: it was \
             upgraded by a newer cloudnexus; run that version (or newer) instead"
        )
        .into(),
        _ => Box::new(e),
    };
    StoreError::Backend(BackendFailure::new(kind, cause))
}
