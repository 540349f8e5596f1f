//! SQLite's failures as the store's [`FailureKind`]s, read from SQLite's extended result codes
//! (https://sqlite.org/rescode.html), whichever driver (sqlx or rusqlite) reported them.

use crate::metadata::sql_errors;
use crate::{BackendFailure, FailureKind, StoreError};

/// The kind of a failure with this extended result code.
fn kind_of_code(extended: i32) -> FailureKind {
    const CONSTRAINT_PRIMARYKEY: i32 = 1555;
    const CONSTRAINT_UNIQUE: i32 = 2067;
    const BUSY_SNAPSHOT: i32 = 517;
    match extended {
        CONSTRAINT_UNIQUE | CONSTRAINT_PRIMARYKEY => FailureKind::UniqueViolation,
        // A read transaction's snapshot went stale under a writer: run it again.
        BUSY_SNAPSHOT => FailureKind::Retryable,
        _ => match extended & 0xff {
            // SQLITE_BUSY, SQLITE_LOCKED: another connection held a lock past the busy timeout.
            5 | 6 => FailureKind::Conflict,
            // SQLITE_NOMEM, SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_READONLY.
            7 | 10 | 13 | 14 | 8 => FailureKind::Unavailable,
            _ => FailureKind::Other,
        },
    }
}

/// The kind of a failure whose extended result code is `code`, as text.
fn kind_of_text(code: &str) -> FailureKind {
    code.parse().map_or(FailureKind::Other, kind_of_code)
}

/// Wraps a sqlx error; its text goes to the server log, never to a client.
pub(crate) fn backend(e: sqlx::Error) -> StoreError {
    sql_errors::failure(e, kind_of_text)
}

/// The kind of a rusqlite failure.
pub(super) fn rusqlite_kind(e: &rusqlite::Error) -> FailureKind {
    match e {
        rusqlite::Error::SqliteFailure(failure, _) => kind_of_code(failure.extended_code),
        _ => FailureKind::Other,
    }
}

/// Wraps a rusqlite error (the point reads, the listing, the writer's statements).
pub(super) fn rusqlite_failure(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(BackendFailure::new(rusqlite_kind(&e), e))
}

/// A failure to create or read the data folder.
pub(super) fn io(e: std::io::Error) -> StoreError {
    StoreError::Backend(BackendFailure::new(FailureKind::Unavailable, e))
}

/// A failure to bring the schema up to date.
pub(super) fn migration(e: sqlx::migrate::MigrateError) -> StoreError {
    sql_errors::migration(e, kind_of_text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extended_codes_map_to_kinds() {
        assert_eq!(kind_of_code(2067), FailureKind::UniqueViolation);
        assert_eq!(kind_of_code(1555), FailureKind::UniqueViolation);
        // A foreign key or NOT NULL violation is a bug, not a unique violation.
        assert_eq!(kind_of_code(787), FailureKind::Other);
        assert_eq!(kind_of_code(1299), FailureKind::Other);
        assert_eq!(kind_of_code(5), FailureKind::Conflict);
        assert_eq!(kind_of_code(261), FailureKind::Conflict);
        assert_eq!(kind_of_code(517), FailureKind::Retryable);
        assert_eq!(kind_of_code(6), FailureKind::Conflict);
        assert_eq!(kind_of_code(13), FailureKind::Unavailable);
        assert_eq!(kind_of_code(10 | (4 << 8)), FailureKind::Unavailable);
        assert_eq!(kind_of_code(11), FailureKind::Other);
    }

    #[tokio::test]
    async fn a_unique_violation_is_told_by_its_code() {
        use sqlx::ConnectOptions;
        let mut c = sqlx::sqlite::SqliteConnectOptions::new()
            .in_memory(true)
            .connect()
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (v TEXT UNIQUE)")
            .execute(&mut c)
            .await
            .unwrap();
        sqlx::query("INSERT INTO t VALUES ('a')").execute(&mut c).await.unwrap();
        let e = sqlx::query("INSERT INTO t VALUES ('a')")
            .execute(&mut c)
            .await
            .unwrap_err();
        assert_eq!(backend(e).failure_kind(), Some(FailureKind::UniqueViolation));
        let e = sqlx::query("INSERT INTO missing VALUES (1)")
            .execute(&mut c)
            .await
            .unwrap_err();
        assert_eq!(backend(e).failure_kind(), Some(FailureKind::Other));
    }

    #[test]
    fn a_rusqlite_busy_error_is_a_conflict() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("busy.db");
        let a = rusqlite::Connection::open(&path).unwrap();
        a.execute_batch("CREATE TABLE t (v INTEGER); BEGIN IMMEDIATE; INSERT INTO t VALUES (1);")
            .unwrap();
        let b = rusqlite::Connection::open(&path).unwrap();
        b.busy_timeout(std::time::Duration::from_millis(10)).unwrap();
        let e = b.execute("INSERT INTO t VALUES (2)", []).unwrap_err();
        assert_eq!(rusqlite_failure(e).failure_kind(), Some(FailureKind::Conflict));
    }
}
