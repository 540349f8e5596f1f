//! The settings every sqlx pool of the store shares, whatever the database.
//!
//! A request whose client hangs up is cancelled at whichever await point it has reached, the
//! start of a transaction included. sqlx rolls back a transaction dropped once it exists, but
//! when the future is dropped after the database began the transaction and before sqlx handed
//! it over, nothing is left to roll it back: the connection goes back to the pool still inside
//! it, and every later `BEGIN` on it fails (with one writer connection, every write). So a
//! connection released inside a transaction is closed, which rolls it back, and the pool opens
//! a fresh one. `crates/cli/tests/api/abuse.rs` hangs up on writes at every step to check it.
//!
//! The check sees the transactions sqlx knows of. On PostgreSQL, sqlx (0.8.6) counts one only
//! once the answer to its `BEGIN` has arrived, so a `BEGIN` cut short in between escapes it;
//! the PostgreSQL store therefore begins each transaction in a task of its own
//! (`postgres::begin`), which no hang-up cuts short.

use sqlx::pool::PoolOptions;
use sqlx::{Connection, Database};

/// Pool options with the release check above. No test before each use: a broken connection
/// fails its statement once and is dropped, which beats a round trip per request.
pub(crate) fn options<DB: Database>() -> PoolOptions<DB> {
    PoolOptions::new()
        .test_before_acquire(false)
        .after_release(|connection: &mut DB::Connection, _| {
            let reusable = !connection.is_in_transaction();
            if !reusable {
                tracing::warn!("a connection came back inside a transaction (its request was cancelled); closing it");
            }
            Box::pin(async move { Ok(reusable) })
        })
}
