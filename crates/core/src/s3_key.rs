//! S3 credentials: an access key id and a secret access key, as S3 clients hold them.
//!
//! An S3 credential is a kind of API key: its record (id, project, scopes, revocation) is an API
//! key record, so scopes, rate limits, tenancy and revocation are the same. The access key id
//! names the record (`CNX` + the key id's random part in capitals), so a request's credential is
//! found with one primary-key read. SigV4 needs the server to know the secret, so the secret is
//! kept *sealed*: encrypted with AES-256-GCM under a master key kept apart from the database,
//! with the key id as associated data (a sealed secret copied onto another record does not
//! open).

use crate::ids::ID_RANDOM_LEN;
use crate::{ApiKeyHash, ApiKeyId};
use rand::Rng;
use rand::distr::Alphanumeric;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use sha2::{Digest, Sha256};
use std::fmt;

/// Every access key id starts with this.
pub const ACCESS_KEY_PREFIX: &str = "CNX";
/// Characters in a secret access key (as AWS's: 40).
const SECRET_LEN: usize = 40;
/// Bytes of a master key.
pub const MASTER_KEY_LEN: usize = 32;

/// The public half of an S3 credential, e.g. `CNXA1B2C3D4E5`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AccessKeyId(String);

impl AccessKeyId {
    /// The access key id of the key record `id`.
    pub fn of(id: &ApiKeyId) -> Self {
        Self(format!("{ACCESS_KEY_PREFIX}{}", id.random_part().to_ascii_uppercase()))
    }

    /// The key record an access key id names; `None` when it is not shaped like one of ours.
    pub fn key_id(presented: &str) -> Option<ApiKeyId> {
        let rest = presented.strip_prefix(ACCESS_KEY_PREFIX)?;
        let shaped = rest.len() == ID_RANDOM_LEN && rest.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if !shaped {
            return None;
        }
        ApiKeyId::parse(&format!("{}{}", ApiKeyId::PREFIX, rest.to_ascii_lowercase())).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccessKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The secret half of an S3 credential. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretAccessKey(String);

impl fmt::Debug for SecretAccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretAccessKey(<redacted>)")
    }
}

impl SecretAccessKey {
    /// A new random secret: 40 characters of `A-Za-z0-9` (238 bits).
    pub fn generate() -> Self {
        Self(
            rand::rng()
                .sample_iter(&Alphanumeric)
                .take(SECRET_LEN)
                .map(char::from)
                .collect(),
        )
    }

    /// The SHA-256 of the secret, kept as the record's hash: no API key hashes to it, so the
    /// record can never be used as one.
    pub fn hash(&self) -> ApiKeyHash {
        ApiKeyHash(Sha256::digest(self.0.as_bytes()).into())
    }

    /// Reveals the secret: to show it to its owner once, or to check a signature.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// The key that seals secret access keys. Its `Debug` never shows it.
#[derive(Clone)]
pub struct MasterKey([u8; MASTER_KEY_LEN]);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

/// A sealed secret did not open: the master key is not the one that sealed it, or the stored
/// bytes were changed or belong to another key record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the sealed S3 secret does not open with this master key")]
pub struct UnsealError;

impl MasterKey {
    /// A new random master key.
    pub fn generate() -> Self {
        Self(rand::random())
    }

    pub fn from_bytes(bytes: [u8; MASTER_KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// The key's bytes, to be written to its file once.
    pub fn to_bytes(&self) -> [u8; MASTER_KEY_LEN] {
        self.0
    }

    fn cipher(&self) -> LessSafeKey {
        LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &self.0).expect("a 32-byte AES-256 key"))
    }

    /// Seals `secret` for the key record `id`: a random nonce, then the ciphertext and its tag.
    pub fn seal(&self, id: &ApiKeyId, secret: &SecretAccessKey) -> Vec<u8> {
        let nonce: [u8; NONCE_LEN] = rand::random();
        let mut sealed = secret.0.as_bytes().to_vec();
        self.cipher()
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(id.as_str().as_bytes()),
                &mut sealed,
            )
            .expect("sealing a short secret cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        out
    }

    /// Opens what [`seal`](Self::seal) made for the record `id`.
    pub fn unseal(&self, id: &ApiKeyId, sealed: &[u8]) -> Result<SecretAccessKey, UnsealError> {
        if sealed.len() < NONCE_LEN {
            return Err(UnsealError);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| UnsealError)?;
        let mut buffer = ciphertext.to_vec();
        let plain = self
            .cipher()
            .open_in_place(nonce, Aad::from(id.as_str().as_bytes()), &mut buffer)
            .map_err(|_| UnsealError)?;
        String::from_utf8(plain.to_vec())
            .map(SecretAccessKey)
            .map_err(|_| UnsealError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_key_ids_name_their_record_and_nothing_else() {
        let id = ApiKeyId::generate();
        let access = AccessKeyId::of(&id);
        assert!(access.as_str().starts_with("CNX"));
        assert_eq!(access.as_str().len(), 13);
        assert_eq!(AccessKeyId::key_id(access.as_str()), Some(id));
        for bad in [
            "",
            "CNX",
            "cnxabcdefghij",
            "CNXabcdefghij",
            "CNXABCDEFGHI",
            "CNXABCDEFGHIJK",
            "AKIAABCDEFGHIJ",
        ] {
            assert_eq!(AccessKeyId::key_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn secrets_are_long_and_never_shown_by_debug() {
        let secret = SecretAccessKey::generate();
        assert_eq!(secret.expose().len(), 40);
        assert!(secret.expose().bytes().all(|b| b.is_ascii_alphanumeric()));
        assert!(!format!("{secret:?}").contains(secret.expose()));
        assert!(!format!("{:?}", MasterKey::generate()).contains('['));
    }

    #[test]
    fn sealed_secrets_open_only_with_their_key_and_record() {
        let master = MasterKey::generate();
        let id = ApiKeyId::generate();
        let secret = SecretAccessKey::generate();
        let sealed = master.seal(&id, &secret);
        assert!(!sealed.windows(8).any(|w| w == &secret.expose().as_bytes()[..8]));
        assert_eq!(master.unseal(&id, &sealed), Ok(secret.clone()));
        // Two seals of one secret differ (fresh nonces).
        assert_ne!(master.seal(&id, &secret), sealed);
        assert_eq!(MasterKey::generate().unseal(&id, &sealed), Err(UnsealError));
        assert_eq!(master.unseal(&ApiKeyId::generate(), &sealed), Err(UnsealError));
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(master.unseal(&id, &tampered), Err(UnsealError));
        assert_eq!(master.unseal(&id, &sealed[..5]), Err(UnsealError));
    }
}
