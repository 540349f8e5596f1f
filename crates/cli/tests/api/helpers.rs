//! `TestApp`: a real server on 127.0.0.1:0 with a fresh data folder, a manual clock, an admin
//! key, and typed helpers for what the tests do often.
//!
//! The metadata backend is chosen by `CLOUDNEXUS_TEST_BACKEND`: `sqlite` (the default: the data
//! folder's database) or `postgres` (a new database on the server named by
//! `CLOUDNEXUS_TEST_POSTGRES_URL`, for each server started). The rate limiter is chosen by
//! `CLOUDNEXUS_TEST_LIMITER`: `memory` (the default) or `redis` (the server named by
//! `CLOUDNEXUS_TEST_REDIS_URL`, under a key prefix of each app's own, shared by its nodes).
//! Object bytes are kept by `CLOUDNEXUS_TEST_BLOBS`: `local` (the default: the data folder) or
//! `s3` (a new bucket on the server named by `CLOUDNEXUS_TEST_S3_ENDPOINT` for each app, reached
//! through the standard `AWS_*` variables, as in production). The same tests run on every
//! combination.

use cloudnexus::config::Config;
use cloudnexus::keys::issue_api_key;
use cloudnexus::server::Server;
use cloudnexus_client::{Bucket, Client, CreateBucket};
use cloudnexus_core::{ManualClock, ProjectId, ProjectName, Scopes, Timestamp};
use cloudnexus_store::MetadataStore;
use reqwest::StatusCode;
use serde_json::Value;
use std::sync::Arc;
use tempfile::TempDir;

/// The variable choosing the metadata backend of the tests' servers.
pub const BACKEND_VARIABLE: &str = "CLOUDNEXUS_TEST_BACKEND";

/// Whether the tests' servers keep their metadata in PostgreSQL.
pub fn on_postgres() -> bool {
    match std::env::var(BACKEND_VARIABLE).as_deref() {
        Ok("postgres") => true,
        Ok("sqlite") | Err(_) => false,
        Ok(other) => panic!("{BACKEND_VARIABLE} must be `sqlite` or `postgres`, not {other:?}"),
    }
}

/// The variable choosing the rate limiter of the tests' servers.
pub const LIMITER_VARIABLE: &str = "CLOUDNEXUS_TEST_LIMITER";

/// Whether the tests' servers count their rate limits in Redis.
pub fn on_redis() -> bool {
    match std::env::var(LIMITER_VARIABLE).as_deref() {
        Ok("redis") => true,
        Ok("memory") | Err(_) => false,
        Ok(other) => panic!("{LIMITER_VARIABLE} must be `memory` or `redis`, not {other:?}"),
    }
}

/// The variable choosing where the tests' servers keep object bytes.
pub const BLOBS_VARIABLE: &str = "CLOUDNEXUS_TEST_BLOBS";

/// Whether the tests' servers keep object bytes in an S3-compatible store.
pub fn on_s3() -> bool {
    match std::env::var(BLOBS_VARIABLE).as_deref() {
        Ok("s3") => {
            assert!(
                std::env::var("AWS_ENDPOINT_URL").is_ok(),
                "{BLOBS_VARIABLE}=s3 needs AWS_ENDPOINT_URL (and AWS_REGION, AWS_ACCESS_KEY_ID, \
                 AWS_SECRET_ACCESS_KEY) naming the test S3 server, as scripts/test.sh sets them"
            );
            true
        }
        Ok("local") | Err(_) => false,
        Ok(other) => panic!("{BLOBS_VARIABLE} must be `local` or `s3`, not {other:?}"),
    }
}

/// The environment a `cloudnexus` process needs to use a fresh metadata store of the tests'
/// backend: nothing on SQLite (the data folder is enough), a new database's URL on PostgreSQL.
pub async fn fresh_backend_env() -> Vec<(&'static str, String)> {
    let mut env = Vec::new();
    if on_postgres() {
        env.push((
            "CLOUDNEXUS_DATABASE_URL",
            cloudnexus_store::testing::new_postgres_database().await,
        ));
    }
    if on_s3() {
        env.push(("CLOUDNEXUS_BLOB_URL", cloudnexus_store::testing::new_s3_bucket().await));
    }
    env
}

/// Starts `serve` (a `cloudnexus serve ...` command, its environment set) with its standard
/// output read until it listens: returns the process, its base URL and the first-run key, if it
/// printed one. Panics if it does not start.
pub fn start_serve_process(serve: std::process::Command) -> (std::process::Child, String, Option<String>) {
    let started = start_serve_process_with_s3(serve);
    (started.child, started.base_url, started.first_key)
}

/// A `serve` process that is listening.
#[derive(Debug)]
pub struct ServeProcess {
    pub child: std::process::Child,
    pub base_url: String,
    /// The first-run key, when it printed one.
    pub first_key: Option<String>,
    /// The S3 listener's base URL, when it serves one.
    pub s3_url: Option<String>,
}

/// [`start_serve_process`], also reading the S3 listener's address (printed before the API's).
pub fn start_serve_process_with_s3(mut serve: std::process::Command) -> ServeProcess {
    use std::io::{BufRead, BufReader};
    let mut child = serve.stdout(std::process::Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut first_key = None;
    let mut s3_url = None;
    for _ in 0..50 {
        let Some(Ok(line)) = lines.next() else { break };
        let line = line.trim().to_owned();
        if line.starts_with("cnx_") {
            first_key = Some(line.clone());
        }
        if let Some(addr) = line.strip_prefix("cloudnexus serving the S3 protocol on ") {
            s3_url = Some(addr.to_owned());
        }
        if let Some(addr) = line.strip_prefix("cloudnexus listening on ") {
            // Keep draining stdout so the server never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines {});
            return ServeProcess {
                child,
                base_url: addr.to_owned(),
                first_key,
                s3_url,
            };
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server did not start");
}

/// How many blobs the blob store of `backends` holds (whatever the backend).
pub async fn blob_count(backends: &cloudnexus_store::BackendConfig) -> usize {
    let blobs = cloudnexus_store::open_blobs(backends)
        .await
        .expect("the blob store opens");
    let far_future = std::time::SystemTime::now() + std::time::Duration::from_secs(86_400);
    blobs.blobs_written_before(far_future).await.unwrap().len()
}

/// How many blobs are stored in all: in the blob store, and small ones kept by the metadata.
pub async fn stored_blob_count(backends: &cloudnexus_store::BackendConfig) -> usize {
    blob_count(backends).await + cloudnexus_store::testing::inline_blob_count(backends).await
}

/// An HTTP client for the tests. It keeps an idle connection for less time than the server
/// waits for the next request on it (`limits.header_read_timeout_seconds`, 10 s), as a
/// well-behaved client does: one kept longer can be reused at the very moment the server closes
/// it, and that request fails with an incomplete message.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_idle_timeout(std::time::Duration::from_secs(5))
        .build()
        .expect("the HTTP client builds")
}

/// 2024-08-12T14:32:00Z, the first `created_at` of the reference page's example.
pub const START: i64 = 1_723_473_120;

#[derive(Debug)]
pub struct TestApp {
    pub data_dir: TempDir,
    pub config: Config,
    pub clock: ManualClock,
    pub base_url: String,
    /// A key with every scope on the first project.
    pub admin_key: String,
    pub project_id: ProjectId,
    /// A client using `admin_key`.
    pub client: Client,
    pub http: reqwest::Client,
    server: Option<Server>,
}

/// Another API node of a `TestApp` (see [`TestApp::another_node`]).
#[derive(Debug)]
pub struct Node {
    pub base_url: String,
    /// A client using the app's admin key.
    pub client: Client,
    _server: Server,
}

/// A raw answer, for the tests that check status codes, headers and exact bodies.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts this is a problem+json with `status` and `code`, and returns its body.
    pub fn problem(&self, status: u16, code: &str) -> Value {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.text);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "body: {}",
            self.text
        );
        let body = self.json();
        assert_eq!(body["code"], code, "body: {}", self.text);
        assert_eq!(body["status"], status);
        assert_eq!(body["type"], format!("urn:cloudnexus:problem:{code}"));
        assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()));
        assert!(body["detail"].as_str().is_some_and(|t| !t.is_empty()));
        assert_eq!(Some(body["request_id"].as_str().unwrap()), self.header("x-request-id"));
        body
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// A server with the shipped rate-limit policies (60 list requests a minute, ...).
    pub async fn spawn_with_default_limits() -> Self {
        Self::spawn_with(|c| c.rate_limits = Default::default()).await
    }

    /// Starts a server whose configuration `adjust` may change first.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: data_dir.path().to_owned(),
            ..Config::default()
        };
        config.buckets.purge_interval_seconds = 1;
        if on_postgres() {
            config.metadata.url = Some(cloudnexus_store::testing::new_postgres_database().await);
        }
        if on_s3() {
            config.blobs.url = Some(cloudnexus_store::testing::new_s3_bucket().await);
        }
        if on_redis() {
            config.rate_limits.redis_url = Some(cloudnexus_store::testing::redis_url());
            config.rate_limits.redis_key_prefix = cloudnexus_store::testing::unique_redis_key_prefix();
        }
        // Most tests make far more requests than a minute's quota under a frozen clock; the
        // rate-limit tests put the real policies back.
        for quota in [
            &mut config.rate_limits.list_buckets,
            &mut config.rate_limits.read,
            &mut config.rate_limits.write,
        ] {
            quota.requests = 1_000_000;
        }
        adjust(&mut config);
        let clock = ManualClock::starting_at(Timestamp::from_unix_seconds(START));
        let (server, first_run) = Server::start(&config, Arc::new(clock.clone()))
            .await
            .expect("server starts");
        let first_run = first_run.expect("a fresh data folder gets a first project");
        let base_url = format!("http://{}", server.addr());
        let admin_key = first_run.secret.expose().to_owned();
        Self {
            client: Client::new(base_url.clone(), Some(admin_key.clone())),
            http: http_client(),
            data_dir,
            config,
            clock,
            base_url,
            admin_key,
            project_id: first_run.project.id,
            server: Some(server),
        }
    }

    /// Stops the server gracefully, leaving its data folder.
    pub async fn stop(&mut self) {
        self.server
            .take()
            .expect("running")
            .shutdown()
            .await
            .expect("clean shutdown");
    }

    /// Stops the server gracefully and starts a new one on the same data folder.
    pub async fn restart(&mut self) {
        self.server
            .take()
            .expect("running")
            .shutdown()
            .await
            .expect("clean shutdown");
        let (server, first_run) = Server::start(&self.config, Arc::new(self.clock.clone()))
            .await
            .expect("restarts");
        assert!(first_run.is_none(), "a used data folder gets no new first project");
        self.base_url = format!("http://{}", server.addr());
        self.client = Client::new(self.base_url.clone(), Some(self.admin_key.clone()));
        self.server = Some(server);
    }

    /// The base URL of the server's S3 listener (started with `config.s3.listen`).
    pub fn s3_url(&self) -> String {
        let addr = self.server.as_ref().and_then(Server::s3_addr).expect("an S3 listener");
        format!("http://{addr}")
    }

    /// The metadata store, opened beside the server as the admin commands do.
    pub async fn store(&self) -> Arc<dyn MetadataStore> {
        cloudnexus_store::open_metadata(&self.config.backends())
            .await
            .expect("store opens")
    }

    /// A second server on the same metadata store and data folder: another API node.
    pub async fn another_node(&self) -> Node {
        self.another_node_with(|_| {}).await
    }

    /// Another API node, whose configuration `adjust` may change first.
    pub async fn another_node_with(&self, adjust: impl FnOnce(&mut Config)) -> Node {
        let mut config = self.config.clone();
        adjust(&mut config);
        let (server, first_run) = Server::start(&config, Arc::new(self.clock.clone()))
            .await
            .expect("a second node starts");
        assert!(first_run.is_none(), "a second node creates no first project");
        let base_url = format!("http://{}", server.addr());
        Node {
            client: Client::new(base_url.clone(), Some(self.admin_key.clone())),
            base_url,
            _server: server,
        }
    }

    /// The real binary's admin commands, on this server's metadata store.
    pub fn admin_command(&self) -> std::process::Command {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_cloudnexus"));
        command.args(["admin", "--data-dir", self.data_dir.path().to_str().unwrap()]);
        command.env_remove("CLOUDNEXUS_CONFIG");
        match &self.config.metadata.url {
            Some(url) => command.env("CLOUDNEXUS_DATABASE_URL", url),
            None => command.env_remove("CLOUDNEXUS_DATABASE_URL"),
        };
        match &self.config.s3.master_key_file {
            Some(path) => command.env("CLOUDNEXUS_S3_MASTER_KEY_FILE", path),
            None => command.env_remove("CLOUDNEXUS_S3_MASTER_KEY_FILE"),
        };
        command
    }

    /// A new key on the first project with `scopes` (comma-separated).
    pub async fn key(&self, scopes: &str) -> String {
        self.key_for(&self.project_id, scopes).await
    }

    pub async fn key_for(&self, project: &ProjectId, scopes: &str) -> String {
        let store = self.store().await;
        let (_, secret) = issue_api_key(
            store.as_ref(),
            project,
            Scopes::parse_list(scopes).unwrap(),
            self.clock.now_ts(),
        )
        .await
        .unwrap();
        store.close().await;
        secret.expose().to_owned()
    }

    /// A second project and a key on it with every scope.
    pub async fn other_project(&self, name: &str) -> (ProjectId, Client) {
        let store = self.store().await;
        let project = store
            .create_project(
                ProjectId::generate(),
                ProjectName::parse(name).unwrap(),
                self.clock.now_ts(),
            )
            .await
            .unwrap();
        store.close().await;
        let key = self
            .key_for(&project.id, "storage:read,storage:write,storage:admin")
            .await;
        (project.id, self.client.with_key(key))
    }

    pub async fn create_bucket(&self, name: &str, region: &str) -> Bucket {
        self.client
            .create_bucket(&CreateBucket::new(name, region))
            .await
            .unwrap_or_else(|e| panic!("create {name}: {e}"))
    }

    /// Sends a request; `key` goes in `Authorization: Bearer`.
    pub async fn call(&self, method: &str, path: &str, key: Option<&str>, json_body: Option<Value>) -> Answer {
        let mut builder = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.base_url));
        if let Some(k) = key {
            builder = builder.bearer_auth(k);
        }
        if let Some(body) = json_body {
            builder = builder.json(&body);
        }
        Self::answer(builder).await
    }

    /// Sends a prepared request and reads the whole answer.
    pub async fn answer(builder: reqwest::RequestBuilder) -> Answer {
        let response = builder.send().await.expect("request sent");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body read");
        Answer { status, headers, text }
    }

    /// A request builder with the admin key, for custom headers and bodies.
    pub fn request(&self, method: &str, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method.parse().unwrap(), format!("{}{path}", self.base_url))
            .bearer_auth(&self.admin_key)
    }
}

/// Reads the manual clock as a `Timestamp`.
pub trait NowTs {
    fn now_ts(&self) -> Timestamp;
}

impl NowTs for ManualClock {
    fn now_ts(&self) -> Timestamp {
        cloudnexus_core::Clock::now(self)
    }
}

/// A config file in `dir` with the write, read and list quotas raised out of the way, for tests
/// that load a server (the limits have their own tests); returns its path.
pub fn high_quota_config(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("cloudnexus.toml");
    let mut text = String::new();
    for policy in ["write", "read", "list-buckets"] {
        text.push_str(&format!(
            "[rate_limits.{policy}]\nrequests = 1000000\nwindow_seconds = 60\n"
        ));
    }
    std::fs::write(&path, text).unwrap();
    path
}

/// `GET url` with `key` as bearer, read as JSON (for tests that drive a `serve` process).
pub async fn get_json(http: &reqwest::Client, url: &str, key: &str) -> Value {
    http.get(url)
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}
