//! Who is calling: the project, the API key the request counts against, and its scopes.

use crate::ServiceError;
use crate::operation::Operation;
use cloudnexus_core::{ApiKeyId, ProjectId, Scope, Scopes};
use cloudnexus_store::{DataVersion, StoreStamp};

/// How the caller proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    ApiKey,
    AccessToken,
    /// An S3 credential, checked by its request's signature.
    S3Key,
}

/// The authenticated caller of an operation.
#[derive(Debug, Clone)]
pub struct Principal {
    pub project_id: ProjectId,
    /// The API key the request counts against (for a token, the key that minted it).
    pub key_id: ApiKeyId,
    pub scopes: Scopes,
    pub kind: CredentialKind,
    /// The project's data version, when it was read with the credential (API keys): read after
    /// the request started, so an operation may use it as "the data as of this request".
    pub data_version: Option<DataVersion>,
    /// The stamp of the store's state when the credential was read, where the store can name
    /// one: nothing has committed since a read that saw the same stamp.
    pub stamp: Option<StoreStamp>,
}

impl Principal {
    /// Fails with [`ServiceError::MissingScope`] unless the credential may perform `operation`.
    pub fn authorize(&self, operation: Operation) -> Result<(), ServiceError> {
        operation.scope().map_or(Ok(()), |scope| self.require(scope))
    }

    /// Fails with [`ServiceError::MissingScope`] unless the credential holds `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), ServiceError> {
        if self.scopes.contains(scope) {
            Ok(())
        } else {
            Err(ServiceError::MissingScope {
                needed: scope,
                held: self.scopes,
            })
        }
    }
}
