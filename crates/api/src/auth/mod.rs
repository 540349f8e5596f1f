//! Who is calling, over HTTP. Two credentials are accepted, both as
//! `Authorization: Bearer <credential>` (an API key may also come as `X-API-Key: <key>`): an
//! API key (`cnx_...`) or an access token minted by `POST /v1/auth/tokens`. The service checks
//! them (`cloudnexus_service::auth`); this module reads them from the headers for a route's
//! guard (`crate::guard`): [`authenticate`] turns the credential into a [`Principal`], or
//! answers 401. A request without credentials passes only to an operation that may be
//! anonymous. A presented but invalid credential is marked on the answer
//! ([`CredentialRejected`]) for the failed-auth gate. (The scope check that follows is the
//! service's, `Principal::authorize`.)
//!
//! The guard leaves the principal in the request's extensions; handlers take it with the
//! [`Caller`] extractor.

use crate::AppState;
use crate::error::{ApiError, credential_required};
use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cloudnexus_core::ApiKeySecret;
use cloudnexus_service::auth::AuthFailure;
use cloudnexus_service::{Operation, Principal};

/// Left on an answer whose request presented a malformed, unknown, expired or revoked
/// credential: what the failed-auth gate counts.
#[derive(Debug, Clone, Copy)]
pub struct CredentialRejected;

/// A credential as presented, before it is checked.
#[derive(Debug)]
enum Credential<'a> {
    ApiKey(ApiKeySecret),
    AccessToken(&'a str),
    Unrecognised,
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

/// Checks a presented credential; `Err` carries the answer and whether it rejects the
/// credential itself (rather than failing to check it).
async fn check(state: &AppState, credential: Credential<'_>) -> Result<Principal, (ApiError, bool)> {
    let checked = match credential {
        Credential::Unrecognised => Err(AuthFailure::Invalid),
        Credential::ApiKey(secret) => state.service.authenticate_api_key(&secret).await,
        Credential::AccessToken(token) => state.service.authenticate_token(token),
    };
    checked.map_err(|e| match e {
        AuthFailure::Invalid => (invalid_credential(INVALID), true),
        AuthFailure::Expired => (invalid_credential(EXPIRED), true),
        AuthFailure::Store(e) => (ApiError::from(e), false),
    })
}

/// Authenticates a request for `operation` (see the module's documentation): its principal,
/// `None` for an anonymous request to an operation that allows one, or the answer that
/// refuses it (marked [`CredentialRejected`] when the credential itself was rejected).
pub(crate) async fn authenticate(
    state: &AppState,
    operation: Operation,
    headers: &HeaderMap,
) -> Result<Option<Principal>, Response> {
    let checked = match presented_credential(headers) {
        None if operation.may_be_anonymous() => return Ok(None),
        None => return Err(credential_required().into_response()),
        Some(credential) => check(state, credential).await,
    };
    checked.map(Some).map_err(|(answer, rejected)| {
        let mut response = answer.into_response();
        if rejected {
            response.extensions_mut().insert(CredentialRejected);
        }
        response
    })
}

/// The principal [`authenticate`] found. A route that does not wear the guard has none, and
/// answers as if no credential had been sent.
#[derive(Debug)]
pub struct Caller(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .remove::<Principal>()
            .map(Caller)
            .ok_or_else(credential_required)
    }
}

/// `Option<Caller>`: `None` for a request without credentials (an anonymous read of a public
/// bucket).
impl<S: Send + Sync> OptionalFromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.remove::<Principal>().map(Caller))
    }
}
