//! Short-lived access tokens: JWTs signed with HS256 under a server secret (kept in the store,
//! so every node shares it), verified without a database round trip. A token names the API key
//! that minted it, whose quota it uses and whose revocation ends it.

use cloudnexus_core::{ApiKeyId, ProjectId, Scopes, Timestamp};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The longest a token may live.
pub const MAX_TTL_SECONDS: i64 = 3600;
/// How long a token lives when the request does not say.
pub const DEFAULT_TTL_SECONDS: i64 = 900;
const ISSUER: &str = "cloudnexus";

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    /// The API key that minted the token.
    sub: String,
    /// The key's project.
    prj: String,
    /// Space-separated scopes.
    scope: String,
    iat: i64,
    exp: i64,
    jti: String,
}

/// What a valid token stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    pub key_id: ApiKeyId,
    pub project_id: ProjectId,
    pub scopes: Scopes,
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// Malformed, wrongly signed, or with claims this server does not issue.
    Invalid,
    Expired,
}

/// Signs and verifies access tokens. Its `Debug` does not show the secret.
#[derive(Clone)]
pub struct TokenSigner {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenSigner(<redacted>)")
    }
}

impl TokenSigner {
    pub fn from_secret(secret: &[u8; 32]) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }

    /// A token for `key` with `scopes`, valid from `now` for `ttl_seconds`.
    pub fn mint(
        &self,
        key: &ApiKeyId,
        project: &ProjectId,
        scopes: Scopes,
        now: Timestamp,
        ttl_seconds: i64,
    ) -> String {
        let claims = Claims {
            iss: ISSUER.to_owned(),
            sub: key.to_string(),
            prj: project.to_string(),
            scope: scopes.to_string(),
            iat: now.unix_seconds(),
            exp: now.unix_seconds() + ttl_seconds,
            jti: cloudnexus_core::ids::random_lower_alnum(16),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing cannot fail")
    }

    /// Checks the signature, issuer and claims, and expiry against `now_millis` (the service's
    /// clock, not the machine's, so tests can move it).
    pub fn verify(&self, token: &str, now_millis: i64) -> Result<VerifiedToken, TokenError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        let data =
            jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation).map_err(|_| TokenError::Invalid)?;
        let claims = data.claims;
        if now_millis >= claims.exp.saturating_mul(1000) {
            return Err(TokenError::Expired);
        }
        Ok(VerifiedToken {
            key_id: ApiKeyId::parse(&claims.sub).map_err(|_| TokenError::Invalid)?,
            project_id: ProjectId::parse(&claims.prj).map_err(|_| TokenError::Invalid)?,
            scopes: Scopes::parse_list(&claims.scope).map_err(|_| TokenError::Invalid)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> TokenSigner {
        TokenSigner::from_secret(&[7; 32])
    }

    #[test]
    fn a_minted_token_verifies_until_it_expires() {
        let (key, project) = (ApiKeyId::generate(), ProjectId::generate());
        let scopes = Scopes::parse_list("storage:read").unwrap();
        let t = signer().mint(&key, &project, scopes, Timestamp::from_unix_seconds(1000), 60);
        let v = signer().verify(&t, 1_059_999).unwrap();
        assert_eq!((v.key_id, v.project_id, v.scopes), (key, project, scopes));
        assert_eq!(signer().verify(&t, 1_060_000), Err(TokenError::Expired));
    }

    #[test]
    fn tokens_of_another_secret_or_altered_are_invalid() {
        let t = signer().mint(
            &ApiKeyId::generate(),
            &ProjectId::generate(),
            Scopes::all(),
            Timestamp::from_unix_seconds(0),
            60,
        );
        assert_eq!(
            TokenSigner::from_secret(&[8; 32]).verify(&t, 0),
            Err(TokenError::Invalid)
        );
        let mut altered = t.clone().into_bytes();
        let i = t.find('.').unwrap() + 3;
        altered[i] = if altered[i] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            signer().verify(&String::from_utf8(altered).unwrap(), 0),
            Err(TokenError::Invalid)
        );
        assert_eq!(signer().verify("not.a.token", 0), Err(TokenError::Invalid));
    }
}
