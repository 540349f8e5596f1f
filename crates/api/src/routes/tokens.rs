//! `POST /v1/auth/tokens`: mint a short-lived access token with an API key, OAuth 2 style.

use super::guarded;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::ApiJson;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use cloudnexus_core::{Scope, Scopes};
use cloudnexus_service::Operation;
use cloudnexus_service::auth::token::{DEFAULT_TTL_SECONDS, MAX_TTL_SECONDS};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router(state: &AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(guarded(routes!(create_token), state, Operation::MintToken))
}

/// The body of `POST /v1/auth/tokens`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// A subset of the key's scopes; all of them when absent.
    #[schema(example = json!(["storage:read"]))]
    pub scopes: Option<Vec<String>>,
    /// Lifetime in seconds, 1 to 3600; 900 when absent.
    #[schema(example = 900, minimum = 1, maximum = 3600, value_type = Option<i64>)]
    #[serde(default, deserialize_with = "whole_seconds")]
    pub ttl_seconds: Option<i64>,
}

/// A whole number of seconds, written as an integer or as a number with no fraction (`900.0`):
/// JSON does not tell them apart, nor does the document's `integer`.
fn whole_seconds<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    let Some(number) = Option::<serde_json::Number>::deserialize(deserializer)? else {
        return Ok(None);
    };
    if let Some(whole) = number.as_i64() {
        return Ok(Some(whole));
    }
    match number.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => Ok(Some(f as i64)),
        _ => Err(serde::de::Error::custom(format!(
            "expected a whole number of seconds, got {number}"
        ))),
    }
}

/// An access token, as an OAuth 2 token endpoint answers it (RFC 6749 section 5.1).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// Send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the token expires.
    #[schema(example = 900)]
    pub expires_in: i64,
    /// The token's scopes, space-separated.
    #[schema(example = "storage:read")]
    pub scope: String,
}

fn parse_scopes(names: &[String]) -> Result<Scopes, FieldError> {
    if names.is_empty() {
        return Err(FieldError::new(
            "scopes",
            "must name at least one scope, or be left out for all of the key's scopes",
        ));
    }
    names
        .iter()
        .map(|n| n.parse::<Scope>())
        .collect::<Result<Scopes, _>>()
        .map_err(|e| FieldError::new("scopes", e.to_string()))
}

/// Mint an access token
///
/// Mints a short-lived access token with an API key. Its scopes are a subset of the key's; it
/// counts against the key's rate limits and stops working soon after the key is revoked.
#[utoipa::path(
    post,
    path = "/v1/auth/tokens",
    tag = "auth",
    request_body = TokenRequest,
    responses(
        (status = 200, description = "The access token", body = TokenResponse),
        (status = 400, description = "Unknown scopes or a TTL outside 1..=3600", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A scope the key lacks (`insufficient_scope`), or a token used to mint (`api_key_required`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn create_token(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiJson(body): ApiJson<TokenRequest>,
) -> ApiResult<Response> {
    let mut errors = Vec::new();
    let scopes = body
        .scopes
        .as_deref()
        .map(parse_scopes)
        .transpose()
        .unwrap_or_else(|e| {
            errors.push(e);
            None
        });
    let ttl = body.ttl_seconds.unwrap_or(DEFAULT_TTL_SECONDS);
    if !(1..=MAX_TTL_SECONDS).contains(&ttl) {
        errors.push(FieldError::new(
            "ttl_seconds",
            format!("must be between 1 and {MAX_TTL_SECONDS} seconds (got {ttl})"),
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let minted = state.service.mint_token(&principal, scopes, ttl)?;
    let body = TokenResponse {
        access_token: minted.token,
        token_type: "Bearer",
        expires_in: minted.ttl_seconds,
        scope: minted.scopes.to_string(),
    };
    let mut response = axum::Json(body).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
        .headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(response)
}
