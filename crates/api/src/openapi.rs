//! The OpenAPI 3.1 document, generated from the handlers' annotations so it cannot drift from
//! the code, served at `/v1/openapi.json`, and an interactive page at `/docs` whose assets are
//! built into the binary (it works with no internet access).

use axum::Router;
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

pub const OPENAPI_PATH: &str = "/v1/openapi.json";
pub const DOCS_PATH: &str = "/docs";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "CloudNexus Storage API",
        description = "Multi-tenant object storage: projects, API keys, buckets and objects. \
                       Errors are RFC 9457 problem+json with a stable `code` and the `request_id`."
    ),
    modifiers(&SecuritySchemes),
    tags(
        (name = "buckets", description = "Create, read, change, delete and restore buckets, and list them"),
        (name = "objects", description = "Store, read and list a bucket's objects"),
        (name = "auth", description = "Short-lived access tokens minted with an API key")
    )
)]
struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API key (`cnx_...`) or an access token from POST /v1/auth/tokens",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key"))),
        );
    }
}

/// The document's header, security schemes and tags, and the object routes (whose wildcard
/// path axum and OpenAPI spell differently); the other routes add their paths to it.
pub fn base() -> OpenApiDoc {
    let mut doc = ApiDoc::openapi();
    doc.merge(crate::routes::objects::ObjectDocs::openapi());
    doc
}

/// Serves the document and the interactive docs page.
pub fn docs_router<S: Clone + Send + Sync + 'static>(openapi: OpenApiDoc) -> Router<S> {
    SwaggerUi::new(DOCS_PATH).url(OPENAPI_PATH, openapi).into()
}
