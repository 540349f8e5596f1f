//! `cloudnexus buckets|objects|tokens|configure|completions`: the command line of a running
//! service, on the typed client (`cloudnexus-client`).
//!
//! - [`profile`]: where the endpoint and API key come from (flags, then variables, then a named
//!   profile of the config file) and `configure`, which writes profiles;
//! - [`output`]: tables for people, JSON, JSON lines and CSV for scripts;
//! - [`buckets`], [`objects`], [`tokens`]: the commands;
//! - [`progress`]: progress bars, on a terminal only.
//!
//! Every failure prints the problem's `detail` and request id on standard error and exits with
//! a code saying what kind of failure it was ([`ExitKind`]).

pub mod buckets;
pub mod objects;
pub mod output;
pub mod profile;
pub mod progress;
pub mod tokens;

use cloudnexus_client::Client;
use output::Format;
use std::process::ExitCode;

/// The exit codes, documented in `--help` (see [`EXIT_CODES_HELP`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitKind {
    /// Anything else: the service could not be reached, a file could not be read or written.
    Failure = 1,
    /// Usage: bad arguments, or values the service refused as invalid (400, 409, 412, 413, 416).
    Usage = 2,
    /// Not found (404).
    NotFound = 3,
    /// Authentication or permission (401, 403).
    Auth = 4,
    /// Rate limited (429), after honouring `Retry-After` up to three times.
    RateLimited = 5,
    /// The service failed (5xx).
    Server = 6,
}

/// The exit codes, as `--help` shows them.
pub const EXIT_CODES_HELP: &str = "Exit codes: 0 success, 1 failure (unreachable service, local file), \
2 usage (bad arguments or values the service refused), 3 not found, 4 authentication or permission, \
5 rate limited (after honouring Retry-After 3 times), 6 server error.";

/// How many times a request answered 429 is sent again, after its `Retry-After`.
const RATE_LIMIT_RETRIES: u32 = 3;

impl ExitKind {
    fn of_status(status: u16) -> Self {
        match status {
            404 => Self::NotFound,
            401 | 403 => Self::Auth,
            429 => Self::RateLimited,
            500..=599 => Self::Server,
            400..=499 => Self::Usage,
            _ => Self::Failure,
        }
    }
}

/// A failed command: what to print, and the exit code.
#[derive(Debug)]
pub struct Failure {
    pub kind: ExitKind,
    pub message: String,
}

impl Failure {
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            kind: ExitKind::Usage,
            message: message.into(),
        }
    }

    pub fn other(message: impl Into<String>) -> Self {
        Self {
            kind: ExitKind::Failure,
            message: message.into(),
        }
    }
}

impl From<cloudnexus_client::Error> for Failure {
    fn from(e: cloudnexus_client::Error) -> Self {
        match &e {
            cloudnexus_client::Error::Api(problem) => {
                let mut message = problem.detail.clone();
                for field in &problem.errors {
                    message.push_str(&format!("\n  {}: {}", field.param, field.detail));
                }
                message.push_str(&format!(
                    "\n(status {}, {}; request id {})",
                    problem.status, problem.code, problem.request_id
                ));
                Self {
                    kind: ExitKind::of_status(problem.status),
                    message,
                }
            }
            cloudnexus_client::Error::Unexpected { status, body } => Self {
                kind: ExitKind::of_status(*status),
                message: format!(
                    "the service answered {status}: {}",
                    body.chars().take(300).collect::<String>()
                ),
            },
            cloudnexus_client::Error::Body(inner) => Self::other(format!("cannot read the file to send: {inner}")),
            cloudnexus_client::Error::Http(inner) => Self {
                kind: ExitKind::Failure,
                message: format!("cannot reach the service: {}", describe_http_error(inner)),
            },
        }
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Self::other(e.to_string())
    }
}

fn describe_http_error(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

pub type CommandResult = Result<(), Failure>;

/// What every client command is given: the client for the resolved endpoint and key, and the
/// output format.
#[derive(Debug)]
pub struct Context {
    pub client: Client,
    pub format: Format,
}

impl Context {
    /// The client for `connection`, resolved as [`profile::resolve`] says.
    pub fn new(connection: &profile::ConnectionArgs) -> Result<Self, Failure> {
        let resolved = profile::resolve(connection)?;
        let http = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(10))
            .user_agent(concat!("cloudnexus-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Failure::other(format!("cannot start the HTTP client: {e}")))?;
        let client = Client::new(resolved.endpoint, resolved.api_key)
            .with_http(http)
            .retrying_rate_limits(RATE_LIMIT_RETRIES);
        Ok(Self {
            client,
            format: connection.output.unwrap_or(Format::Table),
        })
    }
}

/// Prints a failure and turns it into the process's exit code.
pub fn exit(result: CommandResult) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            ExitCode::from(failure.kind as u8)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_their_exit_codes() {
        assert_eq!(ExitKind::of_status(404), ExitKind::NotFound);
        assert_eq!(ExitKind::of_status(401), ExitKind::Auth);
        assert_eq!(ExitKind::of_status(403), ExitKind::Auth);
        assert_eq!(ExitKind::of_status(429), ExitKind::RateLimited);
        for status in [400, 409, 412, 413, 415, 416] {
            assert_eq!(ExitKind::of_status(status), ExitKind::Usage, "{status}");
        }
        for status in [500, 502, 503, 504] {
            assert_eq!(ExitKind::of_status(status), ExitKind::Server, "{status}");
        }
        assert_eq!(
            [
                ExitKind::Failure,
                ExitKind::Usage,
                ExitKind::NotFound,
                ExitKind::Auth,
                ExitKind::RateLimited,
                ExitKind::Server
            ]
            .map(|k| k as u8),
            [1, 2, 3, 4, 5, 6]
        );
    }
}
