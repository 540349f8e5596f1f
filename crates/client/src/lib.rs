//! A typed HTTP client for the CloudNexus Storage API, for Rust programs, the tests and the
//! `cloudnexus` command line. Errors from the API arrive as their problem+json body. A client
//! may honour `Retry-After` on 429 a bounded number of times ([`Client::retrying_rate_limits`]).

use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A bucket as the API shows it (serialized back the same way, for the CLI's JSON output).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Bucket {
    pub id: String,
    pub name: String,
    pub region: String,
    pub storage_class: String,
    pub created_at: String,
    pub size_bytes: u64,
    pub object_count: u64,
    pub public: bool,
    pub tags: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purge_at: Option<String>,
}

/// One page of `GET /v1/buckets`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct BucketList {
    pub data: Vec<Bucket>,
    pub pagination: Pagination,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Pagination {
    pub total: u64,
    pub limit: u32,
    pub offset: u64,
    pub next_cursor: Option<String>,
}

/// The body of `POST /v1/buckets`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CreateBucket {
    pub name: String,
    pub region: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
}

impl CreateBucket {
    pub fn new(name: impl Into<String>, region: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            region: region.into(),
            ..Self::default()
        }
    }

    pub fn tag(mut self, key: &str, value: &str) -> Self {
        self.tags
            .get_or_insert_with(BTreeMap::new)
            .insert(key.to_owned(), value.to_owned());
        self
    }

    pub fn storage_class(mut self, class: &str) -> Self {
        self.storage_class = Some(class.to_owned());
        self
    }

    pub fn public(mut self, public: bool) -> Self {
        self.public = Some(public);
        self
    }
}

/// The body of `PATCH /v1/buckets/{bucket}`; `None` leaves a field unchanged.
#[derive(Debug, Clone, Default, Serialize)]
pub struct UpdateBucket {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
}

/// The query of `GET /v1/buckets`.
#[derive(Debug, Clone, Default)]
pub struct ListBuckets {
    pub limit: Option<u32>,
    pub offset: Option<u64>,
    pub cursor: Option<String>,
    pub prefix: Option<String>,
    pub region: Option<String>,
    pub tags: Vec<String>,
    pub include_deleted: bool,
}

impl ListBuckets {
    /// The query as name/value pairs, `tag` repeated.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        if let Some(v) = self.limit {
            q.push(("limit", v.to_string()));
        }
        if let Some(v) = self.offset {
            q.push(("offset", v.to_string()));
        }
        if let Some(v) = &self.cursor {
            q.push(("cursor", v.clone()));
        }
        if let Some(v) = &self.prefix {
            q.push(("prefix", v.clone()));
        }
        if let Some(v) = &self.region {
            q.push(("region", v.clone()));
        }
        for t in &self.tags {
            q.push(("tag", t.clone()));
        }
        if self.include_deleted {
            q.push(("include", "deleted".to_owned()));
        }
        q
    }
}

/// An RFC 9457 problem, as the API answers every error.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub code: String,
    pub request_id: String,
    #[serde(default)]
    pub errors: Vec<FieldError>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FieldError {
    pub param: String,
    pub detail: String,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The API answered with an error.
    #[error("{} {}: {}", .0.status, .0.code, .0.detail)]
    Api(Box<Problem>),
    /// The request could not be sent or the answer not read.
    #[error("HTTP failure: {0}")]
    Http(#[from] reqwest::Error),
    /// A request body could not be read (a local file).
    #[error("cannot read the request body: {0}")]
    Body(std::io::Error),
    /// The answer was not what the API documents.
    #[error("unexpected answer ({status}): {body}")]
    Unexpected { status: u16, body: String },
}

impl Error {
    /// The HTTP status the server answered, when it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api(p) => Some(p.status),
            Self::Unexpected { status, .. } => Some(*status),
            Self::Http(e) => e.status().map(|s| s.as_u16()),
            Self::Body(_) => None,
        }
    }

    /// The problem body, when the API answered with an error.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            Self::Api(p) => Some(p),
            _ => None,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// The error for an answer that is not the expected success: its problem, if it is one.
fn error_of(status: StatusCode, body: &[u8]) -> Error {
    serde_json::from_slice::<Problem>(body).map_or_else(
        |_| Error::Unexpected {
            status: status.as_u16(),
            body: String::from_utf8_lossy(body).into_owned(),
        },
        |p| Error::Api(Box::new(p)),
    )
}

/// A client bound to a base URL and, optionally, an API key.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base_url: String,
    api_key: Option<String>,
    /// How many times a request answered 429 is sent again after its `Retry-After`.
    rate_limit_retries: u32,
}

/// The longest `Retry-After` a retrying client waits; a longer one is answered as is.
pub const MAX_RETRY_AFTER_SECONDS: u64 = 60;

/// A minted access token, as `POST /v1/auth/tokens` answers it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct AccessToken {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: i64,
    pub scope: String,
}

#[derive(Debug, Serialize)]
struct TokenRequest<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    scopes: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ttl_seconds: Option<i64>,
}

/// The `Retry-After` of a 429 answer, in seconds, when the client may wait that long.
fn retry_after(response: &reqwest::Response) -> Option<u64> {
    if response.status() != StatusCode::TOO_MANY_REQUESTS {
        return None;
    }
    let seconds: u64 = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    (seconds <= MAX_RETRY_AFTER_SECONDS).then_some(seconds)
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Client {
    /// A client for `base_url` (e.g. `http://127.0.0.1:8080`) sending `api_key` as a bearer token.
    pub fn new(base_url: impl Into<String>, api_key: Option<String>) -> Self {
        Self {
            http: reqwest::Client::new(),
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            api_key,
            rate_limit_retries: 0,
        }
    }

    /// A client on `http` (e.g. one with timeouts or extra root certificates).
    pub fn with_http(mut self, http: reqwest::Client) -> Self {
        self.http = http;
        self
    }

    /// Sends a request answered 429 again after its `Retry-After` (at most
    /// [`MAX_RETRY_AFTER_SECONDS`]), up to `times` times; then the 429 is the answer.
    pub fn retrying_rate_limits(mut self, times: u32) -> Self {
        self.rate_limit_retries = times;
        self
    }

    /// The same server, another key.
    pub fn with_key(&self, api_key: impl Into<String>) -> Self {
        Self {
            http: self.http.clone(),
            base_url: self.base_url.clone(),
            api_key: Some(api_key.into()),
            rate_limit_retries: self.rate_limit_retries,
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let mut builder = self.http.request(method, format!("{}{path}", self.base_url));
        if let Some(key) = &self.api_key {
            builder = builder.bearer_auth(key);
        }
        builder
    }

    /// Sends a request, again after `Retry-After` while it is answered 429 and retries are
    /// left. A request whose body cannot be cloned (a stream) is sent once.
    async fn execute(&self, builder: RequestBuilder) -> Result<reqwest::Response> {
        let mut left = self.rate_limit_retries;
        let mut builder = builder;
        loop {
            let again = if left > 0 { builder.try_clone() } else { None };
            let response = builder.send().await?;
            match (retry_after(&response), again) {
                (Some(wait), Some(next)) => {
                    left -= 1;
                    tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
                    builder = next;
                }
                _ => return Ok(response),
            }
        }
    }

    async fn send<T: DeserializeOwned>(&self, builder: RequestBuilder, expected: StatusCode) -> Result<T> {
        let response = self.execute(builder).await?;
        let status = response.status();
        let body = response.bytes().await?;
        if status == expected {
            return serde_json::from_slice(&body).map_err(|_| Error::Unexpected {
                status: status.as_u16(),
                body: String::from_utf8_lossy(&body).into_owned(),
            });
        }
        Err(error_of(status, &body))
    }

    pub async fn create_bucket(&self, body: &CreateBucket) -> Result<Bucket> {
        self.send(
            self.request(Method::POST, "/v1/buckets").json(body),
            StatusCode::CREATED,
        )
        .await
    }

    /// `bucket` is an id or a name. A soft-deleted bucket is not found (404); a listing with
    /// `include_deleted` shows it.
    pub async fn get_bucket(&self, bucket: &str) -> Result<Bucket> {
        self.send(
            self.request(Method::GET, &format!("/v1/buckets/{bucket}")),
            StatusCode::OK,
        )
        .await
    }

    pub async fn update_bucket(&self, bucket: &str, body: &UpdateBucket) -> Result<Bucket> {
        self.send(
            self.request(Method::PATCH, &format!("/v1/buckets/{bucket}")).json(body),
            StatusCode::OK,
        )
        .await
    }

    /// Soft-deletes; the answer carries `deleted_at` and `purge_at`.
    pub async fn delete_bucket(&self, bucket: &str) -> Result<Bucket> {
        self.send(
            self.request(Method::DELETE, &format!("/v1/buckets/{bucket}")),
            StatusCode::OK,
        )
        .await
    }

    pub async fn restore_bucket(&self, bucket: &str) -> Result<Bucket> {
        self.send(
            self.request(Method::POST, &format!("/v1/buckets/{bucket}/restore")),
            StatusCode::OK,
        )
        .await
    }

    pub async fn list_buckets(&self, query: &ListBuckets) -> Result<BucketList> {
        self.send(
            self.request(Method::GET, "/v1/buckets").query(&query.pairs()),
            StatusCode::OK,
        )
        .await
    }

    /// Mints an access token with `scopes` (all of the key's when `None`) for `ttl_seconds`
    /// (the server's default when `None`).
    pub async fn mint_token(&self, scopes: Option<&[String]>, ttl_seconds: Option<i64>) -> Result<AccessToken> {
        self.send(
            self.request(Method::POST, "/v1/auth/tokens")
                .json(&TokenRequest { scopes, ttl_seconds }),
            StatusCode::OK,
        )
        .await
    }

    /// Every bucket matching `query`, following `next_cursor` from page to page.
    pub async fn list_all_buckets(&self, query: &ListBuckets) -> Result<Vec<Bucket>> {
        let mut all = Vec::new();
        let mut page_query = query.clone();
        loop {
            let page = self.list_buckets(&page_query).await?;
            all.extend(page.data);
            match page.pagination.next_cursor {
                Some(cursor) => {
                    page_query.offset = None;
                    page_query.cursor = Some(cursor);
                }
                None => return Ok(all),
            }
        }
    }
}

/// An object's metadata, as PUT and the object listing answer it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct ObjectInfo {
    pub key: String,
    pub size_bytes: u64,
    pub etag: String,
    pub content_type: String,
    pub last_modified: String,
}

/// How an object is to be served: its `Content-Type`, and the headers the server keeps with it
/// and answers every read with (none unless given).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectHeaders {
    pub content_type: String,
    pub cache_control: Option<String>,
    pub content_disposition: Option<String>,
    pub content_encoding: Option<String>,
    pub content_language: Option<String>,
}

impl ObjectHeaders {
    /// Only a `Content-Type`.
    pub fn of_type(content_type: &str) -> Self {
        Self {
            content_type: content_type.to_owned(),
            ..Self::default()
        }
    }
}

/// One page of `GET /v1/buckets/{bucket}/objects`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct ObjectList {
    pub data: Vec<ObjectInfo>,
    pub common_prefixes: Vec<String>,
    pub pagination: ObjectPagination,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct ObjectPagination {
    pub limit: u32,
    pub next_cursor: Option<String>,
}

/// Percent-encodes an object key for a path, keeping `/` as the separator it is. Keys with a
/// `.` or `..` segment cannot be addressed through a WHATWG URL (which removes such segments,
/// even percent-encoded); the server accepts them from clients that send the path as is.
fn key_path(key: &str) -> String {
    key.split('/')
        .map(|segment| {
            form_urlencoded::byte_serialize(segment.as_bytes())
                .collect::<String>()
                .replace('+', "%20")
        })
        .collect::<Vec<_>>()
        .join("/")
}

impl Client {
    /// Stores `body` as `key` (201 created or 200 replaced).
    pub async fn put_object(&self, bucket: &str, key: &str, body: Vec<u8>, content_type: &str) -> Result<ObjectInfo> {
        let length = body.len() as u64;
        let body = bytes::Bytes::from(body);
        self.put_object_with(bucket, key, Some(length), &ObjectHeaders::of_type(content_type), || {
            Ok(reqwest::Body::from(body.clone()))
        })
        .await
    }

    /// Stores the body `make_body` makes as `key`, making it again for each retry after a 429
    /// (a file is opened again; see [`Client::retrying_rate_limits`]). `length` is sent as
    /// `Content-Length` when known, so the server refuses an over-size object before any byte.
    pub async fn put_object_with(
        &self,
        bucket: &str,
        key: &str,
        length: Option<u64>,
        headers: &ObjectHeaders,
        make_body: impl Fn() -> std::io::Result<reqwest::Body>,
    ) -> Result<ObjectInfo> {
        use reqwest::header;
        let mut left = self.rate_limit_retries;
        loop {
            let mut builder = self
                .request(Method::PUT, &format!("/v1/buckets/{bucket}/objects/{}", key_path(key)))
                .header(header::CONTENT_TYPE, &headers.content_type);
            for (name, value) in [
                (header::CACHE_CONTROL, &headers.cache_control),
                (header::CONTENT_DISPOSITION, &headers.content_disposition),
                (header::CONTENT_ENCODING, &headers.content_encoding),
                (header::CONTENT_LANGUAGE, &headers.content_language),
            ] {
                if let Some(value) = value {
                    builder = builder.header(name, value);
                }
            }
            if let Some(length) = length {
                builder = builder.header(reqwest::header::CONTENT_LENGTH, length);
            }
            let response = builder.body(make_body().map_err(Error::Body)?).send().await?;
            if let Some(wait) = retry_after(&response).filter(|_| left > 0) {
                left -= 1;
                tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
                continue;
            }
            let status = response.status();
            let bytes = response.bytes().await?;
            if status == StatusCode::CREATED || status == StatusCode::OK {
                return serde_json::from_slice(&bytes).map_err(|_| Error::Unexpected {
                    status: status.as_u16(),
                    body: String::from_utf8_lossy(&bytes).into_owned(),
                });
            }
            return Err(error_of(status, &bytes));
        }
    }

    /// The object's answer, to stream its bytes (`Response::chunk`, `content_length`).
    pub async fn get_object_response(&self, bucket: &str, key: &str) -> Result<reqwest::Response> {
        let response = self
            .execute(self.request(Method::GET, &format!("/v1/buckets/{bucket}/objects/{}", key_path(key))))
            .await?;
        let status = response.status();
        if status == StatusCode::OK {
            return Ok(response);
        }
        let bytes = response.bytes().await?;
        Err(error_of(status, &bytes))
    }

    /// The whole object's bytes.
    pub async fn get_object(&self, bucket: &str, key: &str) -> Result<Vec<u8>> {
        let response = self
            .request(Method::GET, &format!("/v1/buckets/{bucket}/objects/{}", key_path(key)))
            .send()
            .await?;
        let status = response.status();
        let bytes = response.bytes().await?;
        if status == StatusCode::OK {
            return Ok(bytes.to_vec());
        }
        Err(error_of(status, &bytes))
    }

    pub async fn delete_object(&self, bucket: &str, key: &str) -> Result<()> {
        let response = self
            .execute(self.request(
                Method::DELETE,
                &format!("/v1/buckets/{bucket}/objects/{}", key_path(key)),
            ))
            .await?;
        let status = response.status();
        if status == StatusCode::NO_CONTENT {
            return Ok(());
        }
        let bytes = response.bytes().await?;
        Err(error_of(status, &bytes))
    }

    /// A page of objects; `query` holds `prefix`, `delimiter`, `limit`, `cursor` pairs.
    pub async fn list_objects(&self, bucket: &str, query: &[(&str, &str)]) -> Result<ObjectList> {
        self.send(
            self.request(Method::GET, &format!("/v1/buckets/{bucket}/objects"))
                .query(query),
            StatusCode::OK,
        )
        .await
    }
}
