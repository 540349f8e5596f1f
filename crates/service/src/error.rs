//! Why an operation did not happen. Each variant carries what a protocol needs to answer it in
//! its own terms (a problem+json body, an S3 error code); none of them changed anything.

use cloudnexus_core::{BucketName, BucketRef, ObjectKey, Scope, Scopes};
use cloudnexus_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The credential is valid but lacks the scope the operation needs.
    #[error("the credential lacks the {needed} scope")]
    MissingScope { needed: Scope, held: Scopes },
    /// An access token was asked for scopes its API key does not have.
    #[error("the API key lacks {missing}")]
    ScopesBeyondKey { missing: Scopes, held: Scopes },
    /// Access tokens are minted with an API key, not with another token.
    #[error("an API key is required")]
    ApiKeyRequired,
    /// A request without credentials for something that is not public.
    #[error("a credential is required")]
    CredentialRequired,
    #[error("no such bucket")]
    BucketNotFound(BucketRef),
    #[error("the bucket name is taken")]
    BucketNameTaken(BucketName),
    /// The bucket is soft-deleted: it serves and takes nothing until restored.
    #[error("the bucket is soft-deleted")]
    BucketDeleted(BucketRef),
    #[error("the bucket is not deleted")]
    BucketNotDeleted(BucketRef),
    #[error("no such object")]
    ObjectNotFound(ObjectKey),
    /// `If-Match` / `If-Unmodified-Since` of a read does not hold.
    #[error("a precondition of the read does not hold")]
    ReadPreconditionFailed,
    /// `If-Match` / `If-None-Match` of a write does not hold; nothing was stored.
    #[error("a precondition of the write does not hold")]
    WritePreconditionFailed,
    /// The range asked for lies outside the object.
    #[error("the range is outside the object")]
    RangeNotSatisfiable { size: u64 },
    /// The body is larger than the largest object; nothing was stored.
    #[error("the object is larger than {max} bytes")]
    ObjectTooLarge { max: u64 },
    /// The body's MD5 is not the one the client declared; nothing was stored.
    #[error("the body does not match its declared MD5")]
    BadDigest,
    /// The body could not be read (the client went away); nothing was stored.
    #[error("the request body could not be read: {0}")]
    BodyUnreadable(std::io::Error),
    /// A cursor that this service did not issue, or issued for another listing.
    #[error("the cursor {0}")]
    InvalidCursor(String),
    /// The blob store failed.
    #[error("blob storage failed: {0}")]
    BlobStorage(std::io::Error),
    /// The metadata store failed, or answered something the operation did not expect.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A multipart upload request that cannot be carried out.
    #[error(transparent)]
    Multipart(crate::objects::multipart::MultipartError),
}
