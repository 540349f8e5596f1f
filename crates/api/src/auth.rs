//! Who is calling: the credential on a request becomes a [`Principal`] (project, key, scopes),
//! and each handler states the scope it needs with [`Principal::require`].
//!
//! Today the credential is an API key, sent as `Authorization: Bearer <key>` or
//! `X-API-Key: <key>`. Short-lived access tokens and rate limits plug in here: a token is one
//! more [`Credential`] kind, and the limiter runs on the principal this module produces.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use cloudnexus_core::{ApiKeyId, ApiKeySecret, ProjectId, Scope, Scopes};

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub project_id: ProjectId,
    pub key_id: ApiKeyId,
    pub scopes: Scopes,
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
        let challenge = format!(r#"Bearer realm="cloudnexus", error="insufficient_scope", scope="{scope}""#);
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            "Forbidden",
            format!("this request needs the `{scope}` scope; the credential has {held}. Use a key that has `{scope}`"),
        )
        .with_header(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_str(&challenge).expect("ascii challenge"),
        ))
    }
}

/// A credential as presented, before it is checked.
#[derive(Debug)]
enum Credential {
    ApiKey(ApiKeySecret),
    Unrecognised,
}

/// 401 for a request without any credential.
fn missing_credential() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "Unauthorized",
        "this request needs a credential: send your API key as `Authorization: Bearer <key>` or `X-API-Key: <key>`",
    )
    .with_header(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(r#"Bearer realm="cloudnexus""#),
    )
}

/// 401 for a credential that is malformed, unknown, expired or revoked. One message for all,
/// so that a caller learns nothing about which keys exist.
fn invalid_credential() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_token",
        "Unauthorized",
        "the credential is malformed, unknown, expired or revoked; send a valid API key as `Authorization: Bearer <key>` or `X-API-Key: <key>`",
    )
    .with_header(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(r#"Bearer realm="cloudnexus", error="invalid_token""#),
    )
}

/// Reads the credential from `Authorization` (Bearer) or `X-API-Key`; `None` when neither is sent.
fn presented_credential(parts: &Parts) -> Option<Credential> {
    let raw = if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let text = value.to_str().unwrap_or("");
        match text.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim().to_owned(),
            _ => return Some(Credential::Unrecognised),
        }
    } else if let Some(value) = parts.headers.get("x-api-key") {
        value.to_str().unwrap_or("").trim().to_owned()
    } else {
        return None;
    };
    Some(ApiKeySecret::parse(&raw).map_or(Credential::Unrecognised, Credential::ApiKey))
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match presented_credential(parts) {
            None => Err(missing_credential()),
            Some(Credential::Unrecognised) => Err(invalid_credential()),
            Some(Credential::ApiKey(secret)) => authenticate_key(state, &secret).await,
        }
    }
}

/// Checks an API key against its stored hash, in constant time, and that it is not revoked.
async fn authenticate_key(state: &AppState, secret: &ApiKeySecret) -> Result<Principal, ApiError> {
    let key_id = secret.key_id().ok_or_else(invalid_credential)?;
    let record = state
        .store
        .find_api_key(&key_id)
        .await?
        .ok_or_else(invalid_credential)?;
    if !record.hash.verifies(secret) || record.revoked_at.is_some() {
        return Err(invalid_credential());
    }
    Ok(Principal {
        project_id: record.project_id,
        key_id: record.id,
        scopes: record.scopes,
    })
}
