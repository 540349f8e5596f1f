//! API key secrets: `cnx_` + the key's id part + `_` + 32 random characters. Only a SHA-256
//! hash is stored (the secret has 190 bits of entropy, so a slow password hash adds nothing);
//! the id part lets the server find the record, and the hash is compared in constant time.

use crate::ApiKeyId;
use crate::ids::ID_RANDOM_LEN;
use rand::Rng;
use rand::distr::Alphanumeric;
use sha2::{Digest, Sha256};
use std::fmt;
use subtle::ConstantTimeEq;

/// Every API key starts with this, so that leaked keys are easy to recognise and scan for.
pub const API_KEY_PREFIX: &str = "cnx_";
const SECRET_LEN: usize = 32;

/// A full API key as the user holds it. Its `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKeySecret(String);

impl fmt::Debug for ApiKeySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKeySecret(<redacted>)")
    }
}

/// The SHA-256 hash of an API key, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyHash(pub [u8; 32]);

impl ApiKeySecret {
    /// A new random key for the key record `id`.
    pub fn generate(id: &ApiKeyId) -> Self {
        let secret: String = rand::rng()
            .sample_iter(&Alphanumeric)
            .take(SECRET_LEN)
            .map(char::from)
            .collect();
        Self(format!("{API_KEY_PREFIX}{}_{secret}", id.random_part()))
    }

    /// Reads a presented credential; `None` when it is not shaped like an API key.
    pub fn parse(presented: &str) -> Option<Self> {
        let rest = presented.strip_prefix(API_KEY_PREFIX)?;
        let (id_part, secret) = rest.split_once('_')?;
        let shaped = id_part.len() == ID_RANDOM_LEN
            && secret.len() == SECRET_LEN
            && secret.bytes().all(|b| b.is_ascii_alphanumeric());
        shaped.then(|| Self(presented.to_owned()))
    }

    /// The id of the key record this secret belongs to.
    pub fn key_id(&self) -> Option<ApiKeyId> {
        let id_part = &self.0[API_KEY_PREFIX.len()..API_KEY_PREFIX.len() + ID_RANDOM_LEN];
        let mut id = String::with_capacity(ApiKeyId::PREFIX.len() + id_part.len());
        id.push_str(ApiKeyId::PREFIX);
        id.push_str(id_part);
        ApiKeyId::parse(&id).ok()
    }

    pub fn hash(&self) -> ApiKeyHash {
        ApiKeyHash(Sha256::digest(self.0.as_bytes()).into())
    }

    /// Reveals the key; only for showing it to its owner once.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl ApiKeyHash {
    /// Constant-time comparison with the hash of a presented key.
    pub fn verifies(&self, presented: &ApiKeySecret) -> bool {
        self.0.ct_eq(&presented.hash().0).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_parse_and_name_their_record() {
        let id = ApiKeyId::generate();
        let key = ApiKeySecret::generate(&id);
        assert!(key.expose().starts_with("cnx_"));
        let parsed = ApiKeySecret::parse(key.expose()).unwrap();
        assert_eq!(parsed.key_id(), Some(id));
    }

    #[test]
    fn only_the_matching_key_verifies() {
        let id = ApiKeyId::generate();
        let key = ApiKeySecret::generate(&id);
        let other = ApiKeySecret::generate(&id);
        let stored = key.hash();
        assert!(stored.verifies(&key));
        assert!(!stored.verifies(&other));
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let key = ApiKeySecret::generate(&ApiKeyId::generate());
        assert!(!format!("{key:?}").contains(&key.expose()[4..]));
    }

    #[test]
    fn malformed_credentials_are_not_keys() {
        for bad in ["", "cnx_", "cnx_abc_def", "sk_live_123", "cnx_abcdefghij_short"] {
            assert!(ApiKeySecret::parse(bad).is_none(), "{bad}");
        }
    }
}
