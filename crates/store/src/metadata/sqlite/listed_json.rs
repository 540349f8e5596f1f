//! Each bucket's JSON for list pages, kept in its row (migration 0012: `listed_head` and
//! `listed_tail`, the pieces of `cloudnexus_core::bucket_json::RenderedBucket`): the store's
//! writes of a bucket write it (`statements`), a page copies it (`listing`), and this module
//! fills in the rows that keep none when the store opens: rows written before the migration,
//! and rows whose pieces the `buckets_listed_stale` trigger cleared because something changed
//! a shown column without writing them (an older binary, a hand-written `UPDATE`).
//!
//! SQLite only: a page read from SQLite costs the server's own core, which the copy saves
//! (docs/benchmarks.md); on PostgreSQL the database's round trip dominates, and the wider rows
//! measured slower, so its rows keep no JSON.

use super::columns;
use super::errors::rusqlite_failure as failed;
use crate::StoreResult;
use crate::metadata::rows::BUCKET_COLUMNS;
use cloudnexus_core::bucket_json::RenderedBucket;
use rusqlite::{Connection, TransactionBehavior, params};

/// How many rows [`fill_in`] writes per transaction.
const ROWS_PER_BATCH: u32 = 500;

/// Writes the pieces of every bucket whose row keeps none, [`ROWS_PER_BATCH`] rows per write
/// transaction, in id order; how many rows it wrote.
pub(super) fn fill_in(connection: &mut Connection) -> StoreResult<u64> {
    let mut after = String::new();
    let mut written = 0;
    loop {
        // The write lock before the read: no other writer changes a row between its read and
        // the write of its pieces.
        let batch = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(failed)?;
        let buckets = {
            let mut unlisted = batch
                .prepare_cached(&format!(
                    "SELECT {BUCKET_COLUMNS} FROM buckets b INDEXED BY buckets_unlisted \
                     WHERE (b.listed_head IS NULL OR b.listed_tail IS NULL) AND b.id > ?1 ORDER BY b.id LIMIT ?2"
                ))
                .map_err(failed)?;
            let found = unlisted
                .query_map(params![after, ROWS_PER_BATCH], columns::bucket)
                .map_err(failed)?;
            found.map(|row| row.map_err(failed)?).collect::<StoreResult<Vec<_>>>()?
        };
        let Some(last) = buckets.last() else {
            return Ok(written);
        };
        after = last.id.as_str().to_owned();
        for bucket in &buckets {
            let rendered = RenderedBucket::of(bucket);
            batch
                .prepare_cached("UPDATE buckets SET listed_head = ?1, listed_tail = ?2 WHERE id = ?3")
                .and_then(|mut update| update.execute(params![rendered.head, rendered.tail, bucket.id.as_str()]))
                .map_err(failed)?;
        }
        batch.commit().map_err(failed)?;
        written += buckets.len() as u64;
    }
}
