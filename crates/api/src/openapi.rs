//! The OpenAPI 3.1 document, generated from the handlers' annotations so it cannot drift from
//! the code, served at `/v1/openapi.json`, and an interactive page at `/docs` whose assets are
//! built into the binary (it works with no internet access).
//!
//! Handlers document their own answers (successes, and the refusals particular to them); the
//! refusals every `/v1` operation shares (401, 403, 429, 500, 503, and 400 and 404 for routes
//! with a `{bucket}`) are added to each by [`complete`], from one table.

use crate::routes::objects::list::{MAX_DELIMITER_CHARS, MAX_PREFIX_CHARS};
use axum::Router;
use cloudnexus_core::content_headers::MAX_CONTENT_HEADER_BYTES;
use cloudnexus_core::object::MAX_KEY_BYTES;
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
const METHOD_NOT_ALLOWED: Shared = Shared {
    status: "405",
    name: "MethodNotAllowed",
    description: "The URL names another route, which does not take this method: a `{bucket}` holding a raw `?` or `/` ends the path early",
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
        &METHOD_NOT_ALLOWED,
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
                shared.push((&METHOD_NOT_ALLOWED, METHOD_NOT_ALLOWED.description.to_owned()));
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

/// A bucket id: `bkt_` and 10 characters of `a-z0-9`.
pub const BUCKET_ID_PATTERN: &str = "^bkt_[a-z0-9]{10}$";
/// S3's rules for general-purpose bucket names (as `BucketName::parse` checks them): 3-63 of
/// `a-z 0-9 . -`, a letter or digit at each end, no `..`, not a dotted quad, none of the
/// reserved prefixes and suffixes.
pub const BUCKET_NAME_PATTERN: &str = r"^(?!xn--|sthree-|amzn-s3-demo-)(?!.*(?:-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$)(?!.*\.\.)(?![0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$";
/// A tag key: 1-63 of `a-z 0-9 _ -`, starting with a letter.
const TAG_KEY_PATTERN: &str = "^[a-z][a-z0-9_-]{0,62}$";
/// A value [`ContentHeaders`](cloudnexus_core::ContentHeaders) keeps: visible ASCII, spaces and
/// tabs, at most [`MAX_CONTENT_HEADER_BYTES`] of them once the spaces and tabs around it are
/// taken away (HTTP parsers take them away before the server sees the value, so the length is
/// stated here rather than as a `maxLength` the server could not check).
fn content_header_pattern() -> String {
    format!("^[\\t ]*[\\t\\u0020-\\u007e]{{0,{MAX_CONTENT_HEADER_BYTES}}}[\\t ]*$")
}

/// Text without control characters (Unicode's Cc).
const NO_CONTROLS_PATTERN: &str = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$";

/// States in the document every constraint the server enforces on its inputs that the
/// handlers' types cannot say: the patterns of bucket references, names, tag keys and filters,
/// the configured `regions` as an enum, the lengths of keys and prefixes, the fields a body
/// requires, and the 415 of a JSON body sent without `Content-Type: application/json`.
pub fn constrain(doc: &mut OpenApiDoc, regions: &[String]) {
    let mut value = serde_json::to_value(&*doc).expect("the document serializes");
    let bucket = serde_json::json!({
        "anyOf": [
            {"type": "string", "pattern": BUCKET_ID_PATTERN, "description": "A bucket id"},
            {"type": "string", "minLength": 3, "maxLength": 63, "pattern": BUCKET_NAME_PATTERN, "description": "A bucket name"}
        ]
    });
    let region = serde_json::json!({"type": "string", "enum": regions});
    let tag_filter = "^[a-z][a-z0-9_-]{0,62}(?::[^\\u0000-\\u001f\\u007f-\\u009f]{0,256})?$";
    if let Some(paths) = value.get_mut("paths").and_then(serde_json::Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else { continue };
            let prefix_max = if path.ends_with("/objects") {
                MAX_PREFIX_CHARS
            } else {
                63
            };
            for operation in item.values_mut().filter_map(serde_json::Value::as_object_mut) {
                let takes_json = operation
                    .get("requestBody")
                    .and_then(|b| b.pointer("/content/application~1json"))
                    .is_some();
                for parameter in operation
                    .get_mut("parameters")
                    .and_then(serde_json::Value::as_array_mut)
                    .into_iter()
                    .flatten()
                {
                    let place = parameter["in"].as_str().unwrap_or_default().to_owned();
                    let name = parameter["name"].as_str().unwrap_or_default().to_owned();
                    let schema = match (place.as_str(), name.as_str()) {
                        ("path", "bucket") => bucket.clone(),
                        // A key is limited in bytes of UTF-8 (S3's rule), which a schema cannot
                        // state: `maxLength` (characters) takes the same number, so every key
                        // the schema refuses the server refuses too, and a key within it but
                        // over 1024 bytes is a 400 (allowed in scripts/schemathesis.toml).
                        ("path", "key") => {
                            serde_json::json!({"type": "string", "minLength": 1, "maxLength": MAX_KEY_BYTES, "pattern": "^[^\\u0000]+$"})
                        }
                        ("query", "region") => region.clone(),
                        ("query", "tag") => {
                            serde_json::json!({"type": "array", "items": {"type": "string", "pattern": tag_filter}})
                        }
                        ("query", "cursor") => serde_json::json!({"type": "string", "minLength": 1}),
                        ("query", "include") => serde_json::json!({"type": "string", "enum": ["deleted"]}),
                        ("query", "prefix") => serde_json::json!({"type": "string", "maxLength": prefix_max}),
                        (
                            "header",
                            "Cache-Control" | "Content-Disposition" | "Content-Encoding" | "Content-Language",
                        ) => {
                            serde_json::json!({"type": "string", "pattern": content_header_pattern()})
                        }
                        ("query", "delimiter") => {
                            serde_json::json!({"type": "string", "minLength": 1, "maxLength": MAX_DELIMITER_CHARS})
                        }
                        _ => continue,
                    };
                    parameter["schema"] = schema;
                }
                let Some(responses) = operation
                    .get_mut("responses")
                    .and_then(serde_json::Value::as_object_mut)
                else {
                    continue;
                };
                if path.contains("/objects") {
                    // Any operation on a bucket's contents meets a soft-deleted bucket the same way.
                    responses.entry("409").or_insert_with(|| {
                        serde_json::json!({"description": "The bucket is soft-deleted (`bucket_deleted`): restore it first"})
                    });
                }
                if takes_json {
                    for (status, description) in [
                        ("413", "The body is larger than `limits.max_json_body_bytes`"),
                        ("415", "The body was sent without `Content-Type: application/json`"),
                    ] {
                        responses.entry(status).or_insert_with(|| {
                            serde_json::json!({"$ref": "#/components/responses/BadRequest", "description": description})
                        });
                    }
                }
            }
        }
    }
    let tags = serde_json::json!({
        "type": ["object", "null"],
        "maxProperties": 50,
        "propertyNames": {"type": "string", "pattern": TAG_KEY_PATTERN},
        "additionalProperties": {"type": "string", "maxLength": 256, "pattern": NO_CONTROLS_PATTERN}
    });
    let storage_class =
        serde_json::json!({"type": ["string", "null"], "enum": ["STANDARD", "INFREQUENT", "GLACIER", null]});
    if let Some(schemas) = value
        .pointer_mut("/components/schemas")
        .and_then(serde_json::Value::as_object_mut)
    {
        if let Some(create) = schemas.get_mut("CreateBucketRequest") {
            create["required"] = serde_json::json!(["name", "region"]);
            let properties = &mut create["properties"];
            properties["name"] = serde_json::json!({
                "type": "string", "minLength": 3, "maxLength": 63, "pattern": BUCKET_NAME_PATTERN,
                "description": "Globally unique; S3's rules for general-purpose bucket names.", "example": "prod-assets-us-east"
            });
            properties["region"] =
                serde_json::json!({"type": "string", "enum": regions, "description": "One of the configured regions."});
            properties["tags"] = tags.clone();
            properties["storage_class"] = storage_class.clone();
        }
        if let Some(token) = schemas.get_mut("TokenRequest") {
            token["properties"]["scopes"] = serde_json::json!({
                "type": ["array", "null"], "minItems": 1,
                "items": {"type": "string", "enum": ["storage:read", "storage:write", "storage:admin"]},
                "description": "A subset of the key's scopes; all of them when absent."
            });
        }
        if let Some(update) = schemas.get_mut("UpdateBucketRequest") {
            update["properties"]["tags"] = tags;
            update["properties"]["storage_class"] = storage_class;
        }
    }
    *doc = serde_json::from_value(value).expect("the constrained document is still a document");
}
