//! `POST /v1/auth/tokens`: mint a short-lived access token with an API key, OAuth 2 style.

use crate::AppState;
use crate::auth::token::{DEFAULT_TTL_SECONDS, MAX_TTL_SECONDS};
use crate::auth::{CredentialKind, Principal, insufficient_scope};
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::ApiJson;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cloudnexus_core::{Scope, Scopes};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_token))
}

/// The body of `POST /v1/auth/tokens`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// A subset of the key's scopes; all of them when absent.
    #[schema(example = json!(["storage:read"]))]
    pub scopes: Option<Vec<String>>,
    /// Lifetime in seconds, 1 to 3600; 900 when absent.
    #[schema(example = 900, minimum = 1, maximum = 3600)]
    pub ttl_seconds: Option<i64>,
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
        (status = 401, description = "Missing or invalid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A scope the key lacks (`insufficient_scope`), or a token used to mint (`api_key_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limit exceeded", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn create_token(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<TokenRequest>,
) -> ApiResult<Response> {
    if principal.kind != CredentialKind::ApiKey {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "api_key_required",
            "Forbidden",
            "access tokens are minted with an API key, not with another access token",
        ));
    }
    let mut errors = Vec::new();
    let scopes = match body.scopes.as_deref() {
        None => Ok(principal.scopes),
        Some(names) => parse_scopes(names),
    };
    let ttl = body.ttl_seconds.unwrap_or(DEFAULT_TTL_SECONDS);
    if !(1..=MAX_TTL_SECONDS).contains(&ttl) {
        errors.push(FieldError::new(
            "ttl_seconds",
            format!("must be between 1 and {MAX_TTL_SECONDS} seconds (got {ttl})"),
        ));
    }
    let scopes = scopes.unwrap_or_else(|e| {
        errors.push(e);
        Scopes::empty()
    });
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    if !scopes.is_subset_of(principal.scopes) {
        let missing: Scopes = scopes.iter().filter(|s| !principal.scopes.contains(*s)).collect();
        return Err(insufficient_scope(
            &missing.to_string(),
            format!(
                "the API key lacks {missing}, so a token cannot have it; the key has {}",
                principal.scopes
            ),
        ));
    }
    let token = state
        .tokens
        .mint(&principal.key_id, &principal.project_id, scopes, state.clock.now(), ttl);
    tracing::info!(key.id = %principal.key_id, project.id = %principal.project_id, scope = %scopes, ttl, "access token minted");
    let body = TokenResponse {
        access_token: token,
        token_type: "Bearer",
        expires_in: ttl,
        scope: scopes.to_string(),
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
