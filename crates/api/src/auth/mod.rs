//! Who is calling: the credential on a request becomes a [`Principal`] (project, the API key
//! it stands for, scopes), and each handler states the scope it needs with
//! [`Principal::require`].
//!
//! Two credentials are accepted, both as `Authorization: Bearer <credential>` (an API key may
//! also come as `X-API-Key: <key>`):
//! - an API key (`cnx_...`), checked against its stored hash in constant time;
//! - an access token minted by `POST /v1/auth/tokens`, checked by signature and expiry, and
//!   against the in-memory list of recently revoked keys: no database round trip.
//!
//! The rate-limit middleware authenticates once and leaves the principal in the request's
//! extensions; the extractor takes it from there.

pub mod revocations;
pub mod token;

use crate::AppState;
use crate::error::ApiError;
use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use cloudnexus_core::{ApiKeyId, ApiKeySecret, ProjectId, Scope, Scopes};
use cloudnexus_store::DataVersion;
use token::TokenError;

/// How the caller proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    ApiKey,
    AccessToken,
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub project_id: ProjectId,
    /// The API key the request counts against (for a token, the key that minted it).
    pub key_id: ApiKeyId,
    pub scopes: Scopes,
    pub kind: CredentialKind,
    /// The project's data version, when it was read with the credential (API keys): read after
    /// the request started, so a handler may use it as "the data as of this request".
    pub data_version: Option<DataVersion>,
}

impl Principal {
    /// Fails with 403 `insufficient_scope` unless the credential holds `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.scopes.contains(scope) {
            return Ok(());
        }
        let held = if self.scopes.is_empty() {
            "no scopes".to_owned()
        } else {
            self.scopes.to_string()
        };
        Err(insufficient_scope(
            scope.as_str(),
            format!(
                "this request needs the `{scope}` scope; the credential has {held}. Use a credential that has `{scope}`"
            ),
        ))
    }
}

/// 403 naming the scope (or scopes) needed.
pub fn insufficient_scope(scope: &str, detail: String) -> ApiError {
    let challenge = format!(r#"Bearer realm="cloudnexus", error="insufficient_scope", scope="{scope}""#);
    ApiError::new(StatusCode::FORBIDDEN, "insufficient_scope", "Forbidden", detail).with_header(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_str(&challenge).expect("ascii challenge"),
    )
}

/// A credential as presented, before it is checked.
#[derive(Debug)]
enum Credential<'a> {
    ApiKey(ApiKeySecret),
    AccessToken(&'a str),
    Unrecognised,
}

/// 401 for a request without any credential.
pub fn credential_required() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "Unauthorized",
        "this request needs a credential: send your API key or an access token as `Authorization: Bearer <credential>` (an API key may also be sent as `X-API-Key: <key>`)",
    )
    .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static(r#"Bearer realm="cloudnexus""#))
}

/// 401 for a credential that is malformed, unknown, expired or revoked. One message for all
/// but expiry, so that a caller learns nothing about which keys exist.
fn invalid_credential(detail: &'static str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "invalid_token", "Unauthorized", detail).with_header(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(r#"Bearer realm="cloudnexus", error="invalid_token""#),
    )
}

const INVALID: &str = "the credential is malformed, unknown or revoked; send a valid API key or access token as `Authorization: Bearer <credential>`";
const EXPIRED: &str = "the access token has expired; mint a new one with POST /v1/auth/tokens";

/// Whether `e` is the answer to a presented but invalid credential (what the failed-auth limit
/// counts).
pub fn is_invalid_credential(e: &ApiError) -> bool {
    e.code() == "invalid_token"
}

/// Reads the credential from `Authorization` (Bearer) or `X-API-Key`; `None` when neither is sent.
fn presented_credential(headers: &HeaderMap) -> Option<Credential<'_>> {
    let raw = if let Some(value) = headers.get(header::AUTHORIZATION) {
        let text = value.to_str().unwrap_or("");
        match text.split_once(' ') {
            Some((scheme, credential)) if scheme.eq_ignore_ascii_case("bearer") => credential.trim(),
            _ => return Some(Credential::Unrecognised),
        }
    } else if let Some(value) = headers.get("x-api-key") {
        let key = value.to_str().unwrap_or("").trim();
        return Some(ApiKeySecret::parse(key).map_or(Credential::Unrecognised, Credential::ApiKey));
    } else {
        return None;
    };
    Some(match ApiKeySecret::parse(raw) {
        Some(key) => Credential::ApiKey(key),
        None if raw.matches('.').count() == 2 => Credential::AccessToken(raw),
        None => Credential::Unrecognised,
    })
}

/// Authenticates the request's credential.
pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Principal, ApiError> {
    match presented_credential(headers) {
        None => Err(credential_required()),
        Some(Credential::Unrecognised) => Err(invalid_credential(INVALID)),
        Some(Credential::ApiKey(secret)) => authenticate_key(state, &secret).await,
        Some(Credential::AccessToken(token)) => authenticate_token(state, token),
    }
}

/// Whether the request carries any credential at all (valid or not): either header is there.
pub fn has_credential(headers: &HeaderMap) -> bool {
    headers.contains_key(header::AUTHORIZATION) || headers.contains_key("x-api-key")
}

/// `Option<Principal>`: `None` for a request without any credential (an anonymous read of a
/// public bucket); a presented but invalid credential is still refused.
impl OptionalFromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Option<Self>, Self::Rejection> {
        if let Some(principal) = parts.extensions.remove::<Principal>() {
            return Ok(Some(principal));
        }
        if !has_credential(&parts.headers) {
            return Ok(None);
        }
        authenticate(state, &parts.headers).await.map(Some)
    }
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(principal) = parts.extensions.remove::<Principal>() {
            return Ok(principal);
        }
        authenticate(state, &parts.headers).await
    }
}

/// Checks an API key against its stored hash, in constant time, and that it is not revoked.
async fn authenticate_key(state: &AppState, secret: &ApiKeySecret) -> Result<Principal, ApiError> {
    let key_id = secret.key_id().ok_or_else(|| invalid_credential(INVALID))?;
    let found = state
        .store
        .find_api_key(&key_id)
        .await?
        .ok_or_else(|| invalid_credential(INVALID))?;
    let record = found.record;
    if !record.hash.verifies(secret) || record.revoked_at.is_some() {
        return Err(invalid_credential(INVALID));
    }
    Ok(Principal {
        project_id: record.project_id,
        key_id: record.id,
        scopes: record.scopes,
        kind: CredentialKind::ApiKey,
        data_version: Some(found.data_version),
    })
}

/// Checks an access token's signature and expiry, and that its key is not revoked.
fn authenticate_token(state: &AppState, token: &str) -> Result<Principal, ApiError> {
    let verified = state
        .tokens
        .verify(token, state.clock.now_millis())
        .map_err(|e| match e {
            TokenError::Expired => invalid_credential(EXPIRED),
            TokenError::Invalid => invalid_credential(INVALID),
        })?;
    if state.revocations.is_revoked(&verified.key_id) {
        return Err(invalid_credential(INVALID));
    }
    Ok(Principal {
        project_id: verified.project_id,
        key_id: verified.key_id,
        scopes: verified.scopes,
        kind: CredentialKind::AccessToken,
        data_version: None,
    })
}
