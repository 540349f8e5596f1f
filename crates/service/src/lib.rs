//! The operations of CloudNexus Storage, each one whole: the scope it needs, the lookups, the
//! preconditions, the writes in their durable order, what is undone on failure and what is
//! left to the background. Protocols (the JSON API in `cloudnexus-api`, later S3) parse their
//! requests into domain values, call an operation and render its answer or its
//! [`ServiceError`]; they hold no rule of their own.
//!
//! - [`auth`]: credentials to a [`Principal`]; access tokens; the revoked-key list.
//! - [`buckets`] and [`listing`]: the bucket lifecycle, and pages of buckets with cursors.
//! - [`objects`]: store, read (ranges, conditions), delete and list objects.
//! - [`background`]: the purge, garbage collection and revocation refresh tasks.

pub mod auth;
pub mod background;
pub mod buckets;
mod error;
pub mod garbage;
pub mod listing;
pub mod objects;
pub mod operation;
mod principal;

pub use error::ServiceError;
pub use operation::{Operation, Policy};
pub use principal::{CredentialKind, Principal};

use auth::revocations::RevocationList;
use auth::token::TokenSigner;
use cloudnexus_core::ids::random_secret;
use cloudnexus_core::listing::CursorKey;
use cloudnexus_core::s3_key::MasterKey;
use cloudnexus_core::{Clock, RegionSet};
use cloudnexus_store::{BlobStore, MetadataStore, StoreResult};
use std::sync::Arc;
use tokio::sync::Notify;

/// The name under which the cursor-signing key is kept in the store, so cursors stay valid
/// across restarts and nodes.
const CURSOR_SECRET: &str = "cursor-signing-key";
/// The name under which the access-token signing key is kept in the store.
const TOKEN_SECRET: &str = "token-signing-key";

/// The rules of the service that configuration sets.
#[derive(Debug, Clone)]
pub struct ServiceSettings {
    /// Regions buckets may be created in.
    pub regions: RegionSet,
    /// How long a soft-deleted bucket is kept before it is purged.
    pub soft_delete_retention_seconds: i64,
    /// The largest object a write may store.
    pub max_object_bytes: u64,
    /// The key that seals S3 secrets; without it no S3 credential is accepted.
    pub s3_master_key: Option<MasterKey>,
    /// How long a multipart upload may stay incomplete before it is aborted and its parts
    /// removed.
    pub multipart_expiry_seconds: i64,
}

impl Default for ServiceSettings {
    fn default() -> Self {
        Self {
            regions: RegionSet::default(),
            soft_delete_retention_seconds: 7 * 24 * 3600,
            max_object_bytes: 5 * 1024 * 1024 * 1024,
            s3_master_key: None,
            multipart_expiry_seconds: 7 * 24 * 3600,
        }
    }
}

/// The service: every operation, over the backends it was opened on. Cloning it is cheap.
#[derive(Debug, Clone)]
pub struct Service(Arc<Parts>);

#[derive(Debug)]
struct Parts {
    store: Arc<dyn MetadataStore>,
    blobs: Arc<dyn BlobStore>,
    clock: Arc<dyn Clock>,
    settings: ServiceSettings,
    cursor_key: CursorKey,
    tokens: TokenSigner,
    revocations: RevocationList,
    /// Woken when a change has queued blobs for removal (see [`background`]).
    garbage: Notify,
}

impl Service {
    /// The service over `store` and `blobs`: loads (or creates, the first time) the signing
    /// secrets kept in the store, and the list of recently revoked keys.
    pub async fn open(
        store: Arc<dyn MetadataStore>,
        blobs: Arc<dyn BlobStore>,
        clock: Arc<dyn Clock>,
        settings: ServiceSettings,
    ) -> StoreResult<Self> {
        let cursor_secret = store.secret(CURSOR_SECRET, random_secret(), clock.now()).await?;
        let token_secret = store.secret(TOKEN_SECRET, random_secret(), clock.now()).await?;
        let revocations = RevocationList::default();
        revocations.refresh(store.as_ref(), clock.as_ref()).await?;
        Ok(Self(Arc::new(Parts {
            store,
            blobs,
            clock,
            settings,
            cursor_key: CursorKey::from_bytes(cursor_secret),
            tokens: TokenSigner::from_secret(&token_secret),
            revocations,
            garbage: Notify::new(),
        })))
    }

    pub fn settings(&self) -> &ServiceSettings {
        &self.0.settings
    }

    pub fn clock(&self) -> &dyn Clock {
        self.0.clock.as_ref()
    }

    /// Whether the metadata store answers (for readiness checks).
    pub async fn ping(&self) -> StoreResult<()> {
        self.0.store.ping().await
    }

    fn store(&self) -> &dyn MetadataStore {
        self.0.store.as_ref()
    }

    fn blobs(&self) -> &dyn BlobStore {
        self.0.blobs.as_ref()
    }

    /// Asks the garbage collector to remove the blobs that committed changes queued.
    fn collect_garbage_soon(&self) {
        self.0.garbage.notify_one();
    }
}
