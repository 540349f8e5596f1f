//! The OpenAPI 3.1 document, generated from the handlers' annotations so it cannot drift from
//! the code, served at `/v1/openapi.json`, and an interactive page at `/docs` whose assets are
//! built into the binary (it works with no internet access).
//!
//! Handlers document their own answers (successes, and the refusals particular to them); the
//! refusals every `/v1` operation shares (401, 403, 429, 500, 503, and 400 and 404 for routes
//! with a `{bucket}`) are added to each by [`complete`], from one table.

use axum::Router;
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
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
        (name = "auth", description = "Short-lived access tokens minted with an API key"),
        (name = "service", description = "What the service offers: regions, storage classes, limits")
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

/// A refusal shared by many operations: its status, the name of its reusable response, and
/// what it means.
struct Shared {
    status: &'static str,
    name: &'static str,
    description: &'static str,
}

const UNAUTHORIZED: Shared = Shared {
    status: "401",
    name: "Unauthorized",
    description: "The credential is missing, malformed, unknown, expired or revoked",
};
const FORBIDDEN: Shared = Shared {
    status: "403",
    name: "Forbidden",
    description: "The credential lacks the scope the operation needs",
};
const BAD_BUCKET: Shared = Shared {
    status: "400",
    name: "BadRequest",
    description: "A parameter is invalid (`{bucket}` is neither an id nor a valid name, ...); `errors` names each",
};
const BUCKET_NOT_FOUND: Shared = Shared {
    status: "404",
    name: "BucketNotFound",
    description: "No such bucket in this project (another project's bucket answers the same)",
};
const RATE_LIMITED: Shared = Shared {
    status: "429",
    name: "RateLimited",
    description: "The key's quota for this operation's policy is used up, or the address sent too many invalid credentials; retry after `Retry-After` seconds",
};
const INTERNAL: Shared = Shared {
    status: "500",
    name: "InternalError",
    description: "Internal server error; the body carries the `request_id` to quote",
};
const UNAVAILABLE: Shared = Shared {
    status: "503",
    name: "Unavailable",
    description: "A backend is unavailable; nothing changed; retry after `Retry-After` seconds",
};

/// The scopes an operation's security requirements name (`["storage:write"]`).
fn required_scopes(operation: &Operation) -> Vec<String> {
    let requirements = operation.security.iter().flatten();
    let mut scopes: Vec<String> = requirements
        .filter_map(|r| serde_json::to_value(r).ok())
        .filter_map(|v| v.as_object().cloned())
        .flat_map(|o| o.into_values())
        .filter_map(|v| serde_json::from_value::<Vec<String>>(v).ok())
        .flatten()
        .collect();
    scopes.sort();
    scopes.dedup();
    scopes
}

/// Adds the shared refusals to every `/v1` operation that does not document them itself.
pub fn complete(doc: &mut OpenApiDoc) {
    let all = [
        &UNAUTHORIZED,
        &FORBIDDEN,
        &BAD_BUCKET,
        &BUCKET_NOT_FOUND,
        &RATE_LIMITED,
        &INTERNAL,
        &UNAVAILABLE,
    ];
    let components = doc.components.get_or_insert_with(Default::default);
    for shared in all {
        let problem = ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Problem")))
            .build();
        let response = ResponseBuilder::new()
            .description(shared.description)
            .content(crate::error::PROBLEM_JSON, problem)
            .build();
        components.responses.insert(shared.name.to_owned(), RefOr::T(response));
    }
    for (path, item) in doc.paths.paths.iter_mut() {
        let with_bucket = path.contains("{bucket}");
        let operations = [
            (&mut item.get, false),
            (&mut item.put, false),
            (&mut item.post, false),
            (&mut item.delete, false),
            (&mut item.patch, false),
            (&mut item.head, true),
        ];
        for (operation, is_head) in operations {
            let Some(operation) = operation.as_mut() else { continue };
            let scopes = required_scopes(operation);
            let mut shared: Vec<(&Shared, String)> = vec![(&UNAUTHORIZED, UNAUTHORIZED.description.to_owned())];
            if !scopes.is_empty() {
                let needs = scopes.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ");
                shared.push((&FORBIDDEN, format!("The credential lacks {needs}")));
            }
            if with_bucket {
                shared.push((&BAD_BUCKET, BAD_BUCKET.description.to_owned()));
                shared.push((&BUCKET_NOT_FOUND, BUCKET_NOT_FOUND.description.to_owned()));
            }
            for common in [&RATE_LIMITED, &INTERNAL, &UNAVAILABLE] {
                shared.push((common, common.description.to_owned()));
            }
            let responses = &mut operation.responses.responses;
            for (refusal, description) in shared {
                if responses.contains_key(refusal.status) {
                    continue;
                }
                // A HEAD answer has no body: its refusals are described, not shaped.
                let response = if is_head {
                    RefOr::T(ResponseBuilder::new().description(description).build())
                } else {
                    let mut reference = Ref::from_response_name(refusal.name);
                    reference.description = description;
                    RefOr::Ref(reference)
                };
                responses.insert(refusal.status.to_owned(), response);
            }
        }
    }
}

/// Serves the document and the interactive docs page.
pub fn docs_router<S: Clone + Send + Sync + 'static>(openapi: OpenApiDoc) -> Router<S> {
    SwaggerUi::new(DOCS_PATH).url(OPENAPI_PATH, openapi).into()
}
