//! Pages of a bucket's objects in key order, with keys under a delimiter rolled up into common
//! prefixes, and a signed cursor bound to the bucket, prefix and delimiter.

use crate::operation::Operation;
use crate::{Principal, Service, ServiceError};
use cloudnexus_core::BucketRef;
use cloudnexus_store::{ObjectEntry, ObjectListRequest, ObjectPosition};
use serde::{Deserialize, Serialize};

/// One request for a page of objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectQuery {
    pub prefix: String,
    /// Keys holding this after the prefix are rolled up into a common prefix.
    pub delimiter: Option<String>,
    pub limit: u32,
    /// The `next_cursor` of an earlier page with the same bucket, prefix and delimiter.
    pub cursor: Option<String>,
    /// Without a cursor: start after this key (or, `is_prefix`, after every key under this
    /// common prefix), as S3's `start-after` and `marker` do.
    pub start_after: Option<ObjectPosition>,
}

/// A page of objects and common prefixes, with the cursor of the next one.
#[derive(Debug, Clone)]
pub struct ObjectListing {
    pub entries: Vec<ObjectEntry>,
    pub next_cursor: Option<String>,
}

/// What an object cursor carries: the bucket and filters it belongs to, and the position.
#[derive(Serialize, Deserialize)]
struct ObjectCursor {
    b: String,
    p: String,
    d: Option<String>,
    k: String,
    c: bool,
}

const CURSOR_MISMATCH: &str = "was issued for another bucket, prefix or delimiter; repeat those of the request that returned it, or omit `cursor`";

impl Service {
    /// A page of the objects of the caller's live bucket (`storage:read`).
    pub async fn list_objects(
        &self,
        principal: &Principal,
        bucket: &BucketRef,
        query: ObjectQuery,
    ) -> Result<ObjectListing, ServiceError> {
        principal.authorize(Operation::ListObjects)?;
        let bucket = self.readable_bucket(Some(principal), bucket).await?;
        let cursor_key = &self.0.cursor_key;
        let after = match &query.cursor {
            None => query.start_after.clone(),
            Some(c) => {
                let cursor: ObjectCursor = cursor_key
                    .open(c)
                    .map_err(|e| ServiceError::InvalidCursor(e.to_string()))?;
                if cursor.b != bucket.id.as_str() || cursor.p != query.prefix || cursor.d != query.delimiter {
                    return Err(ServiceError::InvalidCursor(CURSOR_MISMATCH.to_owned()));
                }
                Some(ObjectPosition {
                    key: cursor.k,
                    is_prefix: cursor.c,
                })
            }
        };
        let request = ObjectListRequest {
            prefix: query.prefix,
            delimiter: query.delimiter,
            after,
            limit: query.limit,
        };
        let page = self.store().list_objects(&bucket.id, &request).await?;
        let next_cursor = page.next.map(|position| {
            cursor_key.seal(&ObjectCursor {
                b: bucket.id.to_string(),
                p: request.prefix,
                d: request.delimiter,
                k: position.key,
                c: position.is_prefix,
            })
        });
        Ok(ObjectListing {
            entries: page.entries,
            next_cursor,
        })
    }
}
