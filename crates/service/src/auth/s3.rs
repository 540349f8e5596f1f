//! S3 credentials: the access key id of a request names an API key record holding a sealed
//! secret; the protocol checks the request's signature with the unsealed secret, and the
//! record gives the [`Principal`], exactly as an API key's does (same scopes, limits, tenancy,
//! revocation).

use super::AuthFailure;
use crate::{CredentialKind, Principal, Service};
use cloudnexus_core::s3_key::{AccessKeyId, SecretAccessKey};

impl Service {
    /// Finds the live S3 credential named by `access_key_id` and opens its secret. Unknown,
    /// malformed and revoked ids, API keys (which hold no S3 secret) and a server without a
    /// master key all answer [`AuthFailure::Invalid`]; a secret that does not open (the master
    /// key was changed) is logged, without the secret, and refused the same way.
    pub async fn authenticate_s3_access_key(
        &self,
        access_key_id: &str,
    ) -> Result<(Principal, SecretAccessKey), AuthFailure> {
        let key_id = AccessKeyId::key_id(access_key_id).ok_or(AuthFailure::Invalid)?;
        let master = self.settings().s3_master_key.as_ref().ok_or(AuthFailure::Invalid)?;
        let found = self.store().find_api_key(&key_id).await?.ok_or(AuthFailure::Invalid)?;
        let record = found.record;
        let sealed = record.s3_secret.as_deref().ok_or(AuthFailure::Invalid)?;
        if record.revoked_at.is_some() {
            return Err(AuthFailure::Invalid);
        }
        let secret = master.unseal(&record.id, sealed).map_err(|e| {
            tracing::error!(key.id = %record.id, error = %e, "an S3 credential's secret does not open: was the master key changed?");
            AuthFailure::Invalid
        })?;
        let principal = Principal {
            project_id: record.project_id,
            key_id: record.id,
            scopes: record.scopes,
            kind: CredentialKind::S3Key,
            data_version: Some(found.data_version),
            stamp: found.stamp,
        };
        Ok((principal, secret))
    }
}
