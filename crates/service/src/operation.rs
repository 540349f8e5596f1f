//! The operations a protocol can ask for, each with the scope it needs, whether it may be
//! asked for without credentials, and the rate-limit policy it counts against. A protocol
//! declares the operation of each of its routes and derives its checks from it here, so the
//! rules are written once whatever protocol carries the request.

use cloudnexus_core::Scope;

/// The rate-limit policies: each counts a caller's requests separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Policy {
    /// Listing buckets: 60 a minute by default (the reference page).
    ListBuckets,
    /// Other reads.
    Read,
    /// Changes.
    Write,
    /// Minting access tokens.
    Tokens,
}

impl Policy {
    /// The policy's name, as in the `RateLimit-Policy` header and the configuration.
    pub fn name(self) -> &'static str {
        match self {
            Self::ListBuckets => "list-buckets",
            Self::Read => "read",
            Self::Write => "write",
            Self::Tokens => "tokens",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    ListBuckets,
    CreateBucket,
    GetBucket,
    UpdateBucket,
    DeleteBucket,
    RestoreBucket,
    ListObjects,
    PutObject,
    GetObject,
    DeleteObject,
    MintToken,
    /// Reading what the service offers (regions, storage classes, retention).
    DescribeService,
}

impl Operation {
    /// The scope a credential needs for this operation; `None` when any valid credential will
    /// do (minting a token, whose scopes are checked against the key's instead, and reading
    /// what the service offers).
    pub fn scope(self) -> Option<Scope> {
        match self {
            Self::ListBuckets | Self::GetBucket | Self::ListObjects | Self::GetObject => Some(Scope::Read),
            Self::CreateBucket
            | Self::UpdateBucket
            | Self::DeleteBucket
            | Self::RestoreBucket
            | Self::PutObject
            | Self::DeleteObject => Some(Scope::Write),
            Self::MintToken | Self::DescribeService => None,
        }
    }

    /// Whether a request without credentials may reach the operation, which then decides
    /// (only reads of objects in public buckets are ever anonymous).
    pub fn may_be_anonymous(self) -> bool {
        self == Self::GetObject
    }

    /// The rate-limit policy the operation counts against.
    pub fn policy(self) -> Policy {
        match self {
            Self::ListBuckets => Policy::ListBuckets,
            Self::MintToken => Policy::Tokens,
            Self::DescribeService => Policy::Read,
            other if other.scope() == Some(Scope::Read) => Policy::Read,
            _ => Policy::Write,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes_fall_into_their_policies() {
        assert_eq!(Operation::ListBuckets.policy(), Policy::ListBuckets);
        assert_eq!(Operation::GetBucket.policy(), Policy::Read);
        assert_eq!(Operation::GetObject.policy(), Policy::Read);
        assert_eq!(Operation::CreateBucket.policy(), Policy::Write);
        assert_eq!(Operation::DeleteObject.policy(), Policy::Write);
        assert_eq!(Operation::MintToken.policy(), Policy::Tokens);
        assert_eq!(Operation::MintToken.scope(), None);
        assert!(Operation::GetObject.may_be_anonymous());
        assert!(!Operation::ListObjects.may_be_anonymous());
    }
}
