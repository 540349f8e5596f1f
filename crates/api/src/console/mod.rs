//! `GET /console`: the web console, one page of plain HTML, CSS and JavaScript modules written
//! by hand (no build step, no lockfile, nothing fetched at run time) and embedded in the binary.
//! It speaks only the public JSON API, with an access token minted from the API key the user
//! signs in with (see `docs/console.md`).
//!
//! Every answer here carries a strict Content-Security-Policy: scripts and styles only from
//! this server, no inline code, no framing, requests only to this origin, and Trusted Types
//! required, so that no string can ever be turned into markup or script by the page.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::error::ApiError;

/// The page's policy: everything from this origin only, nothing inline, no plugins or frames,
/// and DOM sinks that parse markup refused (Trusted Types with no policy allowed).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'; \
    require-trusted-types-for 'script'; trusted-types 'none'";

/// An embedded file: its name under `/console/assets/`, media type and content.
struct Asset {
    name: &'static str,
    media_type: &'static str,
    body: &'static str,
}

const JAVASCRIPT: &str = "text/javascript; charset=utf-8";

const ASSETS: &[Asset] = &[
    Asset {
        name: "console.css",
        media_type: "text/css; charset=utf-8",
        body: include_str!("assets/console.css"),
    },
    Asset {
        name: "app.js",
        media_type: JAVASCRIPT,
        body: include_str!("assets/app.js"),
    },
    Asset {
        name: "api.js",
        media_type: JAVASCRIPT,
        body: include_str!("assets/api.js"),
    },
    Asset {
        name: "dom.js",
        media_type: JAVASCRIPT,
        body: include_str!("assets/dom.js"),
    },
    Asset {
        name: "view.js",
        media_type: JAVASCRIPT,
        body: include_str!("assets/view.js"),
    },
    Asset {
        name: "buckets.js",
        media_type: JAVASCRIPT,
        body: include_str!("assets/buckets.js"),
    },
    Asset {
        name: "objects.js",
        media_type: JAVASCRIPT,
        body: include_str!("assets/objects.js"),
    },
];

const INDEX: &str = include_str!("assets/index.html");

/// The console's routes; they need no credential (the page signs in through the API).
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/console", get(index))
        .route("/console/", get(index))
        .route("/console/assets/{name}", get(asset))
}

async fn index() -> Response {
    page("text/html; charset=utf-8", INDEX)
}

async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.name == name) {
        Some(asset) => page(asset.media_type, asset.body),
        None => ApiError::not_found("console_asset_not_found", "the console has no such file").into_response(),
    }
}

/// `body` with the console's security headers. Files are small and change with the binary, so
/// browsers revalidate them rather than keep a stale copy after an upgrade.
fn page(media_type: &'static str, body: &'static str) -> Response {
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(media_type)),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ),
    ];
    (headers, body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_the_page_imports_is_embedded() {
        let mut sources: Vec<&str> = ASSETS.iter().map(|a| a.body).collect();
        sources.push(INDEX);
        for source in sources {
            for (at, _) in source
                .match_indices("from './")
                .chain(source.match_indices("from \"./"))
            {
                let rest = &source[at + "from './".len()..];
                let name = &rest[..rest.find(['\'', '"']).unwrap()];
                assert!(
                    ASSETS.iter().any(|a| a.name == name),
                    "{name} is imported but not embedded"
                );
            }
        }
        assert!(INDEX.contains("/console/assets/app.js") && INDEX.contains("/console/assets/console.css"));
    }

    #[test]
    fn no_asset_builds_markup_from_strings() {
        for asset in ASSETS {
            for sink in [
                "innerHTML",
                "outerHTML",
                "insertAdjacentHTML",
                "document.write",
                "eval(",
            ] {
                assert!(!asset.body.contains(sink), "{} uses {sink}", asset.name);
            }
        }
    }
}
