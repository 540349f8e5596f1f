//! Credentials to a [`Principal`], whatever protocol carried them:
//! - an API key (`cnx_...`), checked against its stored hash in constant time;
//! - an S3 credential (`CNX...` and its secret, [`s3`]), whose signature the S3 protocol
//!   checks with the secret this module unseals;
//! - an access token minted by [`Service::mint_token`], checked by signature and expiry, and
//!   against the in-memory list of recently revoked keys: no database round trip.

pub mod revocations;
mod s3;
pub mod token;

use crate::{CredentialKind, Principal, Service, ServiceError};
use cloudnexus_core::{ApiKeySecret, Scopes};
use cloudnexus_store::StoreError;
use token::TokenError;

/// Why a presented credential was refused.
#[derive(Debug, thiserror::Error)]
pub enum AuthFailure {
    /// Malformed, unknown or revoked. One answer for all, so a caller learns nothing about
    /// which keys exist.
    #[error("the credential is malformed, unknown or revoked")]
    Invalid,
    /// An access token past its expiry.
    #[error("the access token has expired")]
    Expired,
    /// The store could not be asked.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A freshly minted access token.
#[derive(Debug, Clone)]
pub struct MintedToken {
    pub token: String,
    pub scopes: Scopes,
    pub ttl_seconds: i64,
}

impl Service {
    /// Checks an API key against its stored hash, in constant time, and that it is not revoked.
    pub async fn authenticate_api_key(&self, secret: &ApiKeySecret) -> Result<Principal, AuthFailure> {
        let key_id = secret.key_id().ok_or(AuthFailure::Invalid)?;
        let found = self.store().find_api_key(&key_id).await?.ok_or(AuthFailure::Invalid)?;
        let record = found.record;
        // An S3 credential's record is never an API key, whatever is presented.
        if record.s3_secret.is_some() || !record.hash.verifies(secret) || record.revoked_at.is_some() {
            return Err(AuthFailure::Invalid);
        }
        Ok(Principal {
            project_id: record.project_id,
            key_id: record.id,
            scopes: record.scopes,
            kind: CredentialKind::ApiKey,
            data_version: Some(found.data_version),
            stamp: found.stamp,
        })
    }

    /// Checks an access token's signature and expiry, and that its key is not revoked.
    pub fn authenticate_token(&self, token: &str) -> Result<Principal, AuthFailure> {
        let verified = self
            .0
            .tokens
            .verify(token, self.clock().now_millis())
            .map_err(|e| match e {
                TokenError::Expired => AuthFailure::Expired,
                TokenError::Invalid => AuthFailure::Invalid,
            })?;
        if self.0.revocations.is_revoked(&verified.key_id) {
            return Err(AuthFailure::Invalid);
        }
        Ok(Principal {
            project_id: verified.project_id,
            key_id: verified.key_id,
            scopes: verified.scopes,
            kind: CredentialKind::AccessToken,
            data_version: None,
            stamp: None,
        })
    }

    /// Mints an access token for the caller's API key with `scopes` (all of the key's when
    /// `None`), living `ttl_seconds` (checked by the caller to be within
    /// `1..=token::MAX_TTL_SECONDS`).
    pub fn mint_token(
        &self,
        principal: &Principal,
        scopes: Option<Scopes>,
        ttl_seconds: i64,
    ) -> Result<MintedToken, ServiceError> {
        if principal.kind != CredentialKind::ApiKey {
            return Err(ServiceError::ApiKeyRequired);
        }
        let scopes = scopes.unwrap_or(principal.scopes);
        if !scopes.is_subset_of(principal.scopes) {
            let missing: Scopes = scopes.iter().filter(|s| !principal.scopes.contains(*s)).collect();
            return Err(ServiceError::ScopesBeyondKey {
                missing,
                held: principal.scopes,
            });
        }
        let token = self.0.tokens.mint(
            &principal.key_id,
            &principal.project_id,
            scopes,
            self.clock().now(),
            ttl_seconds,
        );
        tracing::info!(key.id = %principal.key_id, project.id = %principal.project_id, scope = %scopes, ttl = ttl_seconds, "access token minted");
        Ok(MintedToken {
            token,
            scopes,
            ttl_seconds,
        })
    }

    /// Reloads the revoked-key list from the store (the background task calls it every
    /// [`revocations::REFRESH_INTERVAL`]).
    pub async fn refresh_revocations(&self) -> Result<(), StoreError> {
        self.0.revocations.refresh(self.store(), self.clock()).await
    }
}
