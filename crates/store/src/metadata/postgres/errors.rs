//! PostgreSQL's failures as the store's [`FailureKind`]s, read from their SQLSTATE codes
//! (https://www.postgresql.org/docs/current/errcodes-appendix.html).

use crate::metadata::sql_errors;
use crate::{FailureKind, StoreError};

fn kind_of_sqlstate(code: &str) -> FailureKind {
    match code {
        "23505" => FailureKind::UniqueViolation,
        // serialization_failure, deadlock_detected: run the transaction again.
        "40001" | "40P01" => FailureKind::Retryable,
        // lock_not_available.
        "55P03" => FailureKind::Conflict,
        // Connection exceptions, insufficient resources (too many connections, disk full),
        // operator intervention (shutdown, cannot connect now), and read-only standbys.
        _ if code.starts_with("08") || code.starts_with("53") || code.starts_with("57P") => FailureKind::Unavailable,
        "25006" => FailureKind::Unavailable,
        _ => FailureKind::Other,
    }
}

/// Wraps a sqlx error; its text goes to the server log, never to a client.
pub(crate) fn backend(e: sqlx::Error) -> StoreError {
    sql_errors::failure(e, kind_of_sqlstate)
}

/// A failure to bring the schema up to date.
pub(super) fn migration(e: sqlx::migrate::MigrateError) -> StoreError {
    sql_errors::migration(e, kind_of_sqlstate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstates_map_to_kinds() {
        assert_eq!(kind_of_sqlstate("23505"), FailureKind::UniqueViolation);
        assert_eq!(
            kind_of_sqlstate("23503"),
            FailureKind::Other,
            "a foreign key violation is a bug"
        );
        assert_eq!(kind_of_sqlstate("40001"), FailureKind::Retryable);
        assert_eq!(kind_of_sqlstate("40P01"), FailureKind::Retryable);
        assert_eq!(kind_of_sqlstate("55P03"), FailureKind::Conflict);
        assert_eq!(kind_of_sqlstate("08006"), FailureKind::Unavailable);
        assert_eq!(kind_of_sqlstate("53300"), FailureKind::Unavailable);
        assert_eq!(kind_of_sqlstate("57P01"), FailureKind::Unavailable);
        assert_eq!(kind_of_sqlstate("42P01"), FailureKind::Other);
    }
}
