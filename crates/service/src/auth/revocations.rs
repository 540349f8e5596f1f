//! Which API keys were revoked recently, kept in memory and refreshed from the store every
//! second, so that access tokens are checked without a database round trip and still stop
//! working within seconds of their key's revocation. Only revocations younger than the longest
//! token life matter (older keys cannot have tokens in date), which bounds the set.

use super::token::MAX_TTL_SECONDS;
use cloudnexus_core::{ApiKeyId, Clock};
use cloudnexus_store::MetadataStore;
use std::collections::HashSet;
use std::sync::RwLock;
use std::time::Duration;

/// How often the list is refreshed (by `background`); the bound on how long a revoked key's
/// tokens keep working.
pub const REFRESH_INTERVAL: Duration = Duration::from_secs(1);

/// The recently revoked keys.
#[derive(Debug, Default)]
pub struct RevocationList(RwLock<HashSet<ApiKeyId>>);

impl RevocationList {
    pub fn is_revoked(&self, key: &ApiKeyId) -> bool {
        self.0.read().expect("revocation list lock").contains(key)
    }

    /// Reloads the list from the store.
    pub async fn refresh(
        &self,
        store: &dyn MetadataStore,
        clock: &dyn Clock,
    ) -> Result<(), cloudnexus_store::StoreError> {
        // A margin beyond the longest token life covers clock steps between nodes.
        let since = clock.now().plus_seconds(-(MAX_TTL_SECONDS + 300));
        let revoked: HashSet<ApiKeyId> = store.revoked_api_keys_since(since).await?.into_iter().collect();
        *self.0.write().expect("revocation list lock") = revoked;
        Ok(())
    }
}
