//! Who may do what over S3, with the JSON API's rules:
//!
//! - [`Credentials`] gives `s3s` the secret of an access key id, to check the request's
//!   signature with (unknown, revoked or not an S3 credential: `InvalidAccessKeyId`).
//! - [`Access`] runs after the signature held: it finds the [`Principal`], checks the scope the
//!   operation needs, and admits the request against the key's quota for the operation's policy
//!   (and the address's failed-auth gate) in one limiter call. Requests without credentials may
//!   only read objects (of public buckets, which the service decides); they count against the
//!   address. Over quota, the answer is S3's `SlowDown` (503 with `Retry-After`), which every S3
//!   SDK backs off and retries on.

use super::Authenticated;
use super::errors;
use crate::AppState;
use crate::rate_limit::ClientAddress;
use crate::rate_limit::checks::count_request;
use cloudnexus_service::Operation;
use cloudnexus_service::auth::AuthFailure;
use cloudnexus_store::Verdict;
use s3s::access::{S3Access, S3AccessContext};
use s3s::auth::{S3Auth, SecretKey};
use s3s::{S3Error, S3ErrorCode, S3Result, s3_error};

/// The secrets of S3 credentials, for signature checks.
#[derive(Debug)]
pub struct Credentials(AppState);

impl Credentials {
    pub fn new(state: AppState) -> Self {
        Self(state)
    }
}

#[async_trait::async_trait]
impl S3Auth for Credentials {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        match self.0.service.authenticate_s3_access_key(access_key).await {
            Ok((_, secret)) => Ok(SecretKey::from(secret.expose())),
            Err(AuthFailure::Invalid | AuthFailure::Expired) => Err(s3_error!(
                InvalidAccessKeyId,
                "The AWS Access Key Id you provided does not exist in our records."
            )),
            Err(AuthFailure::Store(e)) => Err(errors::unavailable(&e)),
        }
    }
}

/// The operation of the contract an S3 operation performs, for its scope and rate-limit policy;
/// `None` for operations this server does not implement (they answer `NotImplemented`).
pub(crate) fn operation_of(s3_operation: &str) -> Option<Operation> {
    Some(match s3_operation {
        "ListBuckets" => Operation::ListBuckets,
        "CreateBucket" => Operation::CreateBucket,
        "HeadBucket" | "GetBucketLocation" | "GetBucketTagging" => Operation::GetBucket,
        "PutBucketTagging" | "DeleteBucketTagging" => Operation::UpdateBucket,
        "DeleteBucket" => Operation::DeleteBucket,
        "ListObjects" | "ListObjectsV2" | "ListMultipartUploads" | "ListParts" => Operation::ListObjects,
        "GetObject" | "HeadObject" => Operation::GetObject,
        "PutObject"
        | "CopyObject"
        | "CreateMultipartUpload"
        | "UploadPart"
        | "UploadPartCopy"
        | "CompleteMultipartUpload" => Operation::PutObject,
        "DeleteObject" | "DeleteObjects" | "AbortMultipartUpload" => Operation::DeleteObject,
        _ => return None,
    })
}

/// Scopes and rate limits (see the module's documentation).
#[derive(Debug)]
pub struct Access(AppState);

impl Access {
    pub fn new(state: AppState) -> Self {
        Self(state)
    }
}

#[async_trait::async_trait]
impl S3Access for Access {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        let state = &self.0;
        let operation = operation_of(cx.s3_op().name());
        let client = cx.extensions_mut().get::<ClientAddress>().cloned();
        let principal = match cx.credentials() {
            Some(credentials) => {
                let access_key = credentials.access_key.clone();
                let principal = match state.service.authenticate_s3_access_key(&access_key).await {
                    Ok((principal, _)) => principal,
                    // Revoked between the signature check and now.
                    Err(AuthFailure::Invalid | AuthFailure::Expired) => {
                        return Err(s3_error!(InvalidAccessKeyId, "The access key is unknown or revoked."));
                    }
                    Err(AuthFailure::Store(e)) => return Err(errors::unavailable(&e)),
                };
                if let Some(flag) = cx.extensions_mut().get::<Authenticated>() {
                    flag.set();
                }
                if let Some(op) = operation {
                    principal
                        .authorize(op)
                        .map_err(|e| errors::from_service(e, None, None))?;
                }
                Some(principal)
            }
            None if operation.is_some_and(Operation::may_be_anonymous) => None,
            None => {
                return Err(s3_error!(
                    AccessDenied,
                    "Requests need an S3 credential (`cloudnexus admin s3-key create`), signed with Signature Version 4."
                ));
            }
        };

        let policy = operation.map_or(cloudnexus_service::Policy::Write, Operation::policy);
        let settings = &state.settings.rate_limits;
        let quota = settings.quota(policy);
        let verdict = count_request(state, policy, client.as_ref(), principal.as_ref()).await;
        match verdict {
            Ok(Verdict::Admitted(_)) => {}
            Ok(Verdict::OverQuota(d)) => {
                return Err(errors::slow_down_error(
                    d.retry_after_millis,
                    &format!(
                        "this credential is over its {} rate limit ({} requests per {} s)",
                        policy.name(),
                        quota.requests,
                        quota.window_millis / 1000
                    ),
                ));
            }
            Ok(Verdict::GateShut(d)) => {
                return Err(errors::slow_down_error(
                    d.retry_after_millis,
                    "too many requests with invalid credentials from this address",
                ));
            }
            Err(e) => {
                tracing::error!(error = %e, "the rate limiter is unavailable");
                return Err(S3Error::with_message(
                    S3ErrorCode::ServiceUnavailable,
                    "The service cannot check rate limits right now; retry shortly.",
                ));
            }
        }
        if let Some(p) = principal {
            cx.extensions_mut().insert(p);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_operations_need_the_scopes_of_their_json_counterparts() {
        use cloudnexus_core::Scope;
        for read in [
            "ListBuckets",
            "HeadBucket",
            "GetBucketTagging",
            "ListObjectsV2",
            "GetObject",
            "HeadObject",
        ] {
            assert_eq!(
                operation_of(read).and_then(Operation::scope),
                Some(Scope::Read),
                "{read}"
            );
        }
        for write in [
            "CreateBucket",
            "DeleteBucket",
            "PutBucketTagging",
            "PutObject",
            "CopyObject",
            "DeleteObjects",
            "UploadPart",
        ] {
            assert_eq!(
                operation_of(write).and_then(Operation::scope),
                Some(Scope::Write),
                "{write}"
            );
        }
        assert_eq!(
            operation_of("ListBuckets").map(Operation::policy),
            Some(cloudnexus_service::Policy::ListBuckets)
        );
        assert_eq!(operation_of("PutBucketPolicy"), None);
    }
}
